//! `card_from_group_sell` (alias `buy_card_from_callingroup`, card_calls.md §3): sells
//! pre-made PIN cards of a group, one chosen by number or the first free ones.

use crate::account::Caller;
use crate::card_calls::shown_group;
use crate::codes::CardNumber;
use crate::error::CardCallError;
use crate::idempotency::{transact_once, without_key, Answered, Once};
use crate::model::{Card, CardGroup, Sale};
use crate::ports::{Ledger, Store};
use crate::reference;

/// The most cards one request sells.
pub const MAX_CARDS_PER_SALE: usize = 1000;

/// The call's parameters, each as sent (`None` when not sent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaleRequest<'a> {
    /// `id`: the card group.
    pub id: Option<&'a str>,
    /// `quantity`.
    pub quantity: Option<&'a str>,
    /// `number`: one card chosen by number.
    pub number: Option<&'a str>,
    /// `email`: the buyer's, kept on the order.
    pub email: Option<&'a str>,
}

/// The cards a request sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardsSold {
    /// The cards, as stored after the sale.
    pub cards: Vec<Card>,
    /// The system currency's name, in which their balances are.
    pub currency: String,
}

/// Which cards the buyer asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted<'a> {
    /// The card with this number (as sent: one no card can have finds none).
    Number(&'a str),
    /// The first free cards, this many.
    Quantity(usize),
}

impl<'a> Wanted<'a> {
    fn parse(request: &SaleRequest<'a>) -> Wanted<'a> {
        match request.number.filter(|number| !number.is_empty()) {
            Some(number) => Wanted::Number(number),
            None => Wanted::Quantity(quantity(request.quantity)),
        }
    }
}

/// `quantity` (card_calls.md §3 step 3): plain digits with a value of at least 1, at most
/// [`MAX_CARDS_PER_SALE`] however many digits; anything else means 1.
pub fn quantity(raw: Option<&str>) -> usize {
    let Some(digits) = raw.filter(|raw| !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()))
    else {
        return 1;
    };
    let significant = digits.trim_start_matches('0');
    match significant.parse::<usize>() {
        Err(_) if significant.is_empty() => 1,
        // More digits than a usize holds: far more than one request may sell.
        Err(_) => MAX_CARDS_PER_SALE,
        Ok(count) => count.min(MAX_CARDS_PER_SALE),
    }
}

/// Sells cards of the caller's unhidden group `id` in one transaction: each becomes sold and
/// active, its balance unchanged (no payment), and the sale is recorded as an order.
pub fn card_from_group_sell(
    store: &dyn Store,
    caller: &Caller,
    request: &SaleRequest<'_>,
) -> Result<CardsSold, CardCallError> {
    without_key(card_from_group_sell_once(store, caller, request, None))
}

/// [`card_from_group_sell`] for a request that may carry an idempotency key
/// ([`crate::idempotency`]).
pub fn card_from_group_sell_once(
    store: &dyn Store,
    caller: &Caller,
    request: &SaleRequest<'_>,
    once: Option<&Once<'_, CardsSold>>,
) -> Result<Answered<CardsSold>, CardCallError> {
    let wanted = Wanted::parse(request);
    transact_once(store, once, |ledger| {
        let group =
            shown_group(ledger, caller, request.id)?.ok_or(CardCallError::CardGroupNotFound)?;
        let mut cards = match wanted {
            Wanted::Number(number) => vec![card_by_number(ledger, &group, number)?],
            Wanted::Quantity(count) => ledger
                .lock_free_cards(group.id, count)?
                .into_iter()
                .filter(Card::is_free)
                .collect(),
        };
        if cards.is_empty() {
            return Err(CardCallError::FreeCardsNotFound);
        }
        for card in &mut cards {
            card.sold = true;
            card.active = true;
            ledger.update_card(card)?;
        }
        let currency = reference::system_currency(ledger)?.name;
        let email = request.email.unwrap_or_default();
        ledger.record_sale(&Sale::of(caller, email, currency.clone(), &cards))?;
        Ok(CardsSold { cards, currency })
    })
}

/// The free card of `group` whose number is exactly `number`.
fn card_by_number(
    ledger: &mut dyn Ledger,
    group: &CardGroup,
    number: &str,
) -> Result<Card, CardCallError> {
    let card = match CardNumber::parse(number) {
        Some(number) => ledger.lock_card_by_number(&number)?,
        None => None,
    };
    match card {
        Some(card) if card.cardgroup_id == group.id && !card.hidden => {
            if card.sold {
                Err(CardCallError::CardAlreadySold)
            } else if card.is_free() {
                Ok(card)
            } else {
                Err(CardCallError::FreeCardsNotFound)
            }
        }
        _ => Err(CardCallError::FreeCardsNotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_is_plain_digits_of_at_least_one_and_at_most_a_thousand() {
        for (raw, expected) in [
            (None, 1),
            (Some(""), 1),
            (Some("abc"), 1),
            (Some("-2"), 1),
            (Some("+2"), 1),
            (Some("2.0"), 1),
            (Some("0"), 1),
            (Some("000"), 1),
            (Some(" 2"), 1),
            (Some("2"), 2),
            (Some("0002"), 2),
            (Some("1000"), 1000),
            (Some("1001"), 1000),
            (Some("99999999999999999999999999999"), 1000),
        ] {
            assert_eq!(quantity(raw), expected, "{raw:?}");
        }
    }
}
