//! `card_group_get` (alias `show_calling_card_group`, card_calls.md §2): a card group's price
//! and stock. It changes nothing.

use crate::account::Caller;
use crate::card_calls::shown_group;
use crate::error::CardCallError;
use crate::model::CardGroup;
use crate::money::Figure;
use crate::ports::{Store, Transact};
use crate::reference;

/// What the call shows of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardGroupShown {
    /// The group as stored.
    pub group: CardGroup,
    /// Its price with its tax added.
    pub price_with_tax: Figure,
    /// The system currency's name, in which the price is.
    pub currency: String,
    /// How many of its cards are free ([`Card::is_free`](crate::Card::is_free)).
    pub free_cards: u64,
}

/// Shows the caller's unhidden card group `id` (the parameter as sent).
pub fn card_group_get(
    store: &dyn Store,
    caller: &Caller,
    id: Option<&str>,
) -> Result<CardGroupShown, CardCallError> {
    store.read(|ledger| {
        let group = shown_group(ledger, caller, id)?.ok_or(CardCallError::CardGroupNotFound)?;
        let tax = reference::tax(ledger, group.tax_id)?;
        let currency = reference::system_currency(ledger)?.name;
        let free_cards = ledger.free_card_count(group.id)?;
        Ok(CardGroupShown {
            price_with_tax: tax.add(&group.price.to_figure()),
            currency,
            free_cards,
            group,
        })
    })
}
