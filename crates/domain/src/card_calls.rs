//! What the four card calls share (card_calls.md §1): the card groups and cards they may see.
//! Hidden groups and cards are invisible to all of them, and a card in a hidden group counts
//! as hidden.

use crate::account::Caller;
use crate::codes::CardNumber;
use crate::error::StoreError;
use crate::ids::CardGroupId;
use crate::model::{Card, CardGroup};
use crate::ports::Ledger;

/// The card group `id` names (plain ASCII digits; anything else names none), when it is
/// shown to the caller ([`CardGroup::is_shown_to`]).
pub(crate) fn shown_group(
    ledger: &mut dyn Ledger,
    caller: &Caller,
    id: Option<&str>,
) -> Result<Option<CardGroup>, StoreError> {
    let Some(id) = id.and_then(CardGroupId::parse) else {
        return Ok(None);
    };
    Ok(ledger
        .card_group(id)?
        .filter(|group| group.is_shown_to(caller)))
}

/// The card whose number is exactly `number` (locked, in a transaction), with its group,
/// unless either is hidden. Whose card it is, each call decides.
pub(crate) fn visible_card(
    ledger: &mut dyn Ledger,
    number: Option<&str>,
) -> Result<Option<(Card, CardGroup)>, StoreError> {
    let Some(number) = number.and_then(CardNumber::parse) else {
        return Ok(None);
    };
    let Some(card) = ledger
        .lock_card_by_number(&number)?
        .filter(|card| !card.hidden)
    else {
        return Ok(None);
    };
    let group = ledger
        .card_group(card.cardgroup_id)?
        .filter(|group| !group.hidden);
    Ok(group.map(|group| (card, group)))
}
