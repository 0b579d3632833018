//! `card_balance_get` (card_calls.md §4): a card's balance by its number. It changes nothing.

use crate::account::{Caller, UserType};
use crate::card_calls::visible_card;
use crate::error::CardCallError;
use crate::money::Money;
use crate::ports::{Store, Transact};
use crate::reference;

/// A card's balance as the call shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardBalance {
    /// The stored balance, unconverted.
    pub balance: Money,
    /// The system currency's name.
    pub currency: String,
}

/// The balance of the card whose number is exactly `number`, sold or not: any card for the
/// admin, a reseller's own groups' cards for a reseller; other callers are not authorized.
pub fn card_balance_get(
    store: &dyn Store,
    caller: &Caller,
    number: Option<&str>,
) -> Result<CardBalance, CardCallError> {
    if !caller.usertype.may_use_cards_by_number() {
        return Err(CardCallError::NotAuthorized);
    }
    let sees_every_card = caller.usertype == UserType::Admin;
    store.read(|ledger| {
        let (card, _) = visible_card(ledger, number)?
            .filter(|(_, group)| sees_every_card || group.owner_id == caller.owner)
            .ok_or(CardCallError::CallingCardNotFound)?;
        Ok(CardBalance {
            balance: card.balance,
            currency: reference::system_currency(ledger)?.name,
        })
    })
}
