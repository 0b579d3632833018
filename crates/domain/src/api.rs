//! The calls of MOR's calling-card API that morcc serves, and what the filters must know of
//! each: the parameters its hash covers and who passes its filters.

use crate::account::UserType;

/// One call of the API (spec cc_by_cli.md; card_calls.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiCall {
    /// `cc_by_cli` (alias `card_by_cli_update`): cards by caller ID.
    CcByCli,
    /// `card_group_get` (alias `show_calling_card_group`): a group's price and stock.
    CardGroupGet,
    /// `card_from_group_sell` (alias `buy_card_from_callingroup`): sells PIN cards.
    CardFromGroupSell,
    /// `card_balance_get`: a card's balance by number.
    CardBalanceGet,
    /// `card_payment_add`: tops a card up by number.
    CardPaymentAdd,
}

impl ApiCall {
    /// Every call, in the order the spec lists them.
    pub const ALL: [ApiCall; 5] = [
        ApiCall::CcByCli,
        ApiCall::CardGroupGet,
        ApiCall::CardFromGroupSell,
        ApiCall::CardBalanceGet,
        ApiCall::CardPaymentAdd,
    ];

    /// The call's name, as in its path.
    pub fn name(self) -> &'static str {
        match self {
            ApiCall::CcByCli => "cc_by_cli",
            ApiCall::CardGroupGet => "card_group_get",
            ApiCall::CardFromGroupSell => "card_from_group_sell",
            ApiCall::CardBalanceGet => "card_balance_get",
            ApiCall::CardPaymentAdd => "card_payment_add",
        }
    }

    /// The parameters the hash covers, in the order their values are concatenated (spec §3
    /// step 4; card_calls.md §1). No other parameter changes the hash.
    pub fn hashed_parameters(self) -> &'static [&'static str] {
        match self {
            ApiCall::CcByCli => &["pin", "amount", "callerid", "cardgroup_id"],
            ApiCall::CardGroupGet => &["id"],
            ApiCall::CardFromGroupSell => &["email", "id", "quantity"],
            ApiCall::CardBalanceGet => &["number"],
            ApiCall::CardPaymentAdd => &["description", "number", "amount", "currency"],
        }
    }

    /// Whether a caller of this type passes the filters (spec §3 step 5). The calls by card
    /// number let every type through and refuse in the call itself, with an action error
    /// (card_calls.md §4, §5), as MOR does.
    pub fn admits(self, usertype: &UserType) -> bool {
        match self {
            ApiCall::CcByCli | ApiCall::CardGroupGet | ApiCall::CardFromGroupSell => {
                usertype.may_use_the_call()
            }
            ApiCall::CardBalanceGet | ApiCall::CardPaymentAdd => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_turned_away_by_the_filters_of_three_calls_only() {
        for call in ApiCall::ALL {
            assert!(call.admits(&UserType::Admin));
            let filtered = matches!(
                call,
                ApiCall::CcByCli | ApiCall::CardGroupGet | ApiCall::CardFromGroupSell
            );
            assert_eq!(call.admits(&UserType::User), !filtered, "{call:?}");
        }
    }
}
