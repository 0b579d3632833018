//! Users of the API and the owner rule (spec §3).

use crate::ids::{OwnerId, UserId};

/// MOR's `users.usertype`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserType {
    /// `admin`: owner 0.
    Admin,
    /// `accountant`: works for the admin, owner 0.
    Accountant,
    /// `reseller`: owns its own users, cards and settings.
    Reseller,
    /// `user`: an end customer; may not use the call.
    User,
    /// Any other value MOR may hold (e.g. `partner`); may not use the call.
    Other(String),
}

impl UserType {
    /// Reads `users.usertype`.
    pub fn parse(raw: &str) -> UserType {
        match raw {
            "admin" => UserType::Admin,
            "accountant" => UserType::Accountant,
            "reseller" => UserType::Reseller,
            "user" => UserType::User,
            other => UserType::Other(other.to_owned()),
        }
    }

    /// The text MOR stores.
    pub fn as_str(&self) -> &str {
        match self {
            UserType::Admin => "admin",
            UserType::Accountant => "accountant",
            UserType::Reseller => "reseller",
            UserType::User => "user",
            UserType::Other(other) => other,
        }
    }

    /// Whether this kind of user passes the filters of `cc_by_cli`, `card_group_get` and
    /// `card_from_group_sell` (spec §3 step 5; card_calls.md §2, §3).
    pub fn may_use_the_call(&self) -> bool {
        matches!(
            self,
            UserType::Admin | UserType::Accountant | UserType::Reseller
        )
    }

    /// Whether this kind of user may check and top up cards by number (`card_balance_get`,
    /// `card_payment_add`; card_calls.md §4, §5): the admin and resellers.
    pub fn may_use_cards_by_number(&self) -> bool {
        matches!(self, UserType::Admin | UserType::Reseller)
    }
}

/// A user as the login filter sees it: a row of `users`. Its `Debug` form leaves out the
/// password hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// `users.id`.
    pub id: UserId,
    /// `users.username`.
    pub username: String,
    /// `users.usertype`.
    pub usertype: UserType,
    /// `users.owner_id`.
    pub owner_id: OwnerId,
    /// `users.password`: SHA1 hex of the password, as MOR stores it.
    pub password_sha1: String,
    /// `users.blocked`.
    pub blocked: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("usertype", &self.usertype)
            .field("owner_id", &self.owner_id)
            .field("blocked", &self.blocked)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// The owner whose settings, card groups and users this account works with: 0 for admin
    /// and accountant, the account itself for a reseller, `users.owner_id` otherwise.
    pub fn owner(&self) -> OwnerId {
        match self.usertype {
            UserType::Admin | UserType::Accountant => OwnerId(0),
            UserType::Reseller => OwnerId(self.id.0),
            UserType::User | UserType::Other(_) => self.owner_id,
        }
    }
}

/// An authenticated API caller: who it is and on whose behalf it acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `users.id` of the caller.
    pub id: UserId,
    /// The owner id its card groups, cards and users must have.
    pub owner: OwnerId,
    /// Its `usertype`, which some calls check beyond the filters.
    pub usertype: UserType,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(usertype: &str) -> Account {
        Account {
            id: UserId(7),
            username: "someone".into(),
            usertype: UserType::parse(usertype),
            owner_id: OwnerId(3),
            password_sha1: String::new(),
            blocked: false,
        }
    }

    #[test]
    fn the_owner_rule() {
        assert_eq!(account("admin").owner(), OwnerId(0));
        assert_eq!(account("accountant").owner(), OwnerId(0));
        assert_eq!(account("reseller").owner(), OwnerId(7));
        assert_eq!(account("user").owner(), OwnerId(3));
        assert_eq!(account("partner").owner(), OwnerId(3));
    }

    #[test]
    fn debug_output_hides_the_password_hash() {
        let account = Account {
            password_sha1: "d033e22ae348aeb5660fc2140aec35850c4da997".into(),
            ..account("admin")
        };
        assert!(!format!("{account:?}").contains("d033e22a"));
    }

    #[test]
    fn only_admins_accountants_and_resellers_may_use_the_call() {
        assert!(UserType::Admin.may_use_the_call());
        assert!(UserType::Accountant.may_use_the_call());
        assert!(UserType::Reseller.may_use_the_call());
        assert!(!UserType::User.may_use_the_call());
        assert!(!UserType::parse("partner").may_use_the_call());
        assert_eq!(UserType::parse("partner").as_str(), "partner");
    }

    #[test]
    fn only_admins_and_resellers_may_use_cards_by_number() {
        assert!(UserType::Admin.may_use_cards_by_number());
        assert!(UserType::Reseller.may_use_cards_by_number());
        assert!(!UserType::Accountant.may_use_cards_by_number());
        assert!(!UserType::User.may_use_cards_by_number());
        assert!(!UserType::parse("partner").may_use_cards_by_number());
    }
}
