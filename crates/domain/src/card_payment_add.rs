//! `card_payment_add` (card_calls.md §5): tops up a sold card found by number, in the
//! request's currency, with the ledger rule of cc_by_cli (spec §4.2, §4.3).

use crate::account::Caller;
use crate::card_calls::visible_card;
use crate::codes::{is_printable_char, CardNumber};
use crate::error::CardCallError;
use crate::idempotency::{transact_once, without_key, Answered, Once};
use crate::model::{Holder, Payment};
use crate::money::{Figure, Money};
use crate::ports::{Directory, Ledger, Store};
use crate::pricing::{Currency, Pricing};
use crate::reference;
use crate::settings::{self, SYSTEM};

/// The call's parameters, each as sent (`None` when not sent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PaymentRequest<'a> {
    /// `number`: the card.
    pub number: Option<&'a str>,
    /// `amount`: gross, in `currency`.
    pub amount: Option<&'a str>,
    /// `currency`: blank for the system currency.
    pub currency: Option<&'a str>,
    /// `description`, kept on the payment.
    pub description: Option<&'a str>,
}

/// A payment made, with every figure the reply shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPayment {
    /// The card group's name.
    pub group_name: String,
    /// The card's number.
    pub number: CardNumber,
    /// The amount as sent, in [`CardPayment::currency`].
    pub paid: Money,
    /// The request's currency (the system currency's name when none was sent).
    pub currency: String,
    /// Into which currency, at which rate, when the request's is not the system currency.
    pub conversion: Option<Conversion>,
    /// The amount in the system currency.
    pub amount_with_tax: Money,
    /// That amount with the group's tax removed: what the card gained.
    pub amount_without_tax: Money,
    /// The card's balance before.
    pub current_balance: Money,
    /// The card's balance after.
    pub new_balance: Money,
    /// The description as sent, or empty.
    pub description: String,
}

/// A conversion into the system currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// The system currency's name.
    pub converted_to: String,
    /// The request currency's rate divided by the system currency's.
    pub exchange_rate: Money,
}

/// Adds the request's amount to the caller's sold card `number`, when payments over the API
/// are on and the caller is the admin or a reseller. One transaction; a zero amount changes
/// nothing and writes no payment.
pub fn card_payment_add(
    store: &dyn Store,
    directory: &dyn Directory,
    caller: &Caller,
    request: &PaymentRequest<'_>,
) -> Result<CardPayment, CardCallError> {
    without_key(card_payment_add_once(
        store, directory, caller, request, None,
    ))
}

/// [`card_payment_add`] for a request that may carry an idempotency key
/// ([`crate::idempotency`]).
pub fn card_payment_add_once(
    store: &dyn Store,
    directory: &dyn Directory,
    caller: &Caller,
    request: &PaymentRequest<'_>,
    once: Option<&Once<'_, CardPayment>>,
) -> Result<Answered<CardPayment>, CardCallError> {
    if !settings::is_enabled(directory, settings::API_ALLOW_PAYMENTS_OVER_API, SYSTEM)? {
        return Err(CardCallError::FeatureDisabled);
    }
    if !caller.usertype.may_use_cards_by_number() {
        return Err(CardCallError::AccessDenied);
    }
    transact_once(store, once, |ledger| {
        let (mut card, group) = visible_card(ledger, request.number)?
            .filter(|(card, group)| card.sold && group.owner_id == caller.owner)
            .ok_or(CardCallError::CallingCardNotFound)?;
        let system = reference::system_currency(ledger)?;
        let currency = requested_currency(ledger, request.currency, &system)?;
        let paid = Money::parse_amount(request.amount.unwrap_or_default())
            .map_err(|_| CardCallError::InvalidAmount)?;
        let conversion = (currency.name != system.name).then(|| Conversion {
            converted_to: system.name.clone(),
            exchange_rate: Money::from_figure(&Figure::new(
                &currency.exchange_rate / &system.exchange_rate,
            )),
        });
        let priced = Pricing {
            tax: reference::tax(ledger, group.tax_id)?,
            currency,
            system,
        }
        .price(&paid);
        let current_balance = card.balance.clone();
        // Free text the reply echoes: control characters (which XML 1.0 cannot carry, or
        // would turn into others) and U+FFFE/U+FFFF are left out, in the payment as in the
        // reply, so the reply always parses and says what was stored.
        let description: String = request
            .description
            .unwrap_or_default()
            .chars()
            .filter(|c| is_printable_char(*c))
            .collect();
        if !paid.is_zero() {
            card.balance = &card.balance + &priced.net;
            ledger.update_card(&card)?;
            ledger.record_payment(&Payment {
                holder: Holder::Card(card.id),
                amount: priced.net.clone(),
                tax: priced.tax.clone(),
                gross: priced.gross.clone(),
                currency: priced.currency.clone(),
                owner_id: caller.owner,
                description: description.clone(),
            })?;
        }
        Ok(CardPayment {
            group_name: group.name,
            number: card.number,
            amount_with_tax: &priced.net + &priced.tax,
            amount_without_tax: priced.net,
            paid,
            currency: priced.currency,
            conversion,
            current_balance,
            new_balance: card.balance,
            description,
        })
    })
}

/// The currency named by the request: blank means the system currency; an unknown name is
/// not found, an inactive one disabled.
fn requested_currency(
    ledger: &mut dyn Ledger,
    name: Option<&str>,
    system: &Currency,
) -> Result<Currency, CardCallError> {
    let Some(name) = name.filter(|name| !name.is_empty()) else {
        return Ok(system.clone());
    };
    let currency = ledger
        .currency(name)?
        .ok_or(CardCallError::CurrencyNotFound)?;
    if !currency.active {
        return Err(CardCallError::CurrencyDisabled);
    }
    if !currency.is_usable() {
        return Err(CardCallError::Inconsistent(
            "currency exchange rate is not positive",
        ));
    }
    Ok(currency)
}
