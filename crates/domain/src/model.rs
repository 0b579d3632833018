//! The rows the call reads and writes: cards, card groups, devices, users and payments.

use crate::account::Caller;
use crate::codes::{CallerId, CardNumber, Pin, MAX_CODE_LENGTH};
use crate::ids::{CardGroupId, CardId, DeviceId, OwnerId, TaxId, UserId};
use crate::money::Money;

/// Digits of a new card's number when the card group does not say (MOR's default).
pub const DEFAULT_NUMBER_LENGTH: usize = 10;
/// Digits of a new card's PIN when the card group does not say (MOR's default).
pub const DEFAULT_PIN_LENGTH: usize = 6;

/// A calling card: a row of `cards`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// `cards.id`.
    pub id: CardId,
    /// `cards.cardgroup_id`.
    pub cardgroup_id: CardGroupId,
    /// `cards.number`.
    pub number: CardNumber,
    /// `cards.pin`.
    pub pin: Pin,
    /// `cards.balance`, net of tax, in the system currency.
    pub balance: Money,
    /// `cards.sold`.
    pub sold: bool,
    /// `cards.active`.
    pub active: bool,
    /// `cards.callerid`: the phone the card is bound to, if any.
    pub callerid: Option<CallerId>,
    /// `cards.hidden`: invisible to the card calls (card_calls.md §1).
    pub hidden: bool,
}

impl Card {
    /// A *free* card (card_calls.md §1): one a sale may take. Unsold, not hidden, bound to no
    /// phone and holding a balance: a voucher that cc_by_cli emptied, or a PIN card still
    /// bound to a caller ID, is not for sale. The adapters select free cards with the same
    /// rule in SQL; the sale checks it again on the locked rows.
    pub fn is_free(&self) -> bool {
        !self.sold && !self.hidden && self.callerid.is_none() && self.balance.is_positive()
    }
}

/// A card to insert; the store gives it its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCard {
    /// The card group.
    pub cardgroup_id: CardGroupId,
    /// The group's owner, copied to `cards.owner_id` as MOR does.
    pub owner_id: OwnerId,
    /// A fresh card number.
    pub number: CardNumber,
    /// A fresh PIN.
    pub pin: Pin,
    /// The opening balance.
    pub balance: Money,
    /// The caller ID it is sold to.
    pub callerid: CallerId,
}

impl NewCard {
    /// The card as stored under `id`: sold and active, as every card this call creates.
    pub fn stored_as(self, id: CardId) -> Card {
        Card {
            id,
            cardgroup_id: self.cardgroup_id,
            number: self.number,
            pin: self.pin,
            balance: self.balance,
            sold: true,
            active: true,
            callerid: Some(self.callerid),
            hidden: false,
        }
    }
}

/// A card group: a row of `cardgroups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardGroup {
    /// `cardgroups.id`.
    pub id: CardGroupId,
    /// `cardgroups.owner_id`.
    pub owner_id: OwnerId,
    /// `cardgroups.number_length`: digits of new card numbers.
    pub number_length: usize,
    /// `cardgroups.pin_length`: digits of new PINs.
    pub pin_length: usize,
    /// `cardgroups.tax_id`.
    pub tax_id: Option<TaxId>,
    /// `cardgroups.tell_balance_in_currency`: the currency its cards are priced in; blank
    /// means the system currency.
    pub currency: String,
    /// `cardgroups.name`.
    pub name: String,
    /// `cardgroups.description` (empty when NULL).
    pub description: String,
    /// `cardgroups.image`: the file name of its picture, under `/billing/cards/`.
    pub image: String,
    /// `cardgroups.price`: a card's price, net of tax, in the system currency.
    pub price: Money,
    /// `cardgroups.hidden`: the group and its cards are invisible to the card calls.
    pub hidden: bool,
}

impl CardGroup {
    /// Digits of a new card's number: `number_length`, MOR's default when unset (0), never
    /// wider than the column.
    pub fn number_digits(&self) -> usize {
        code_length(self.number_length, DEFAULT_NUMBER_LENGTH)
    }

    /// Digits of a new PIN: `pin_length`, MOR's default when unset (0), never wider than the
    /// column.
    pub fn pin_digits(&self) -> usize {
        code_length(self.pin_length, DEFAULT_PIN_LENGTH)
    }
}

impl CardGroup {
    /// Whether the card calls show this group to `caller` (card_calls.md §1): the caller owns
    /// it and it is not hidden.
    pub fn is_shown_to(&self, caller: &Caller) -> bool {
        self.owner_id == caller.owner && !self.hidden
    }
}

fn code_length(configured: usize, default: usize) -> usize {
    match configured {
        0 => default,
        length => length.min(MAX_CODE_LENGTH),
    }
}

/// A device (a phone line of a user): a row of `devices`, found through `callerids`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `devices.id`.
    pub id: DeviceId,
    /// Whose line it is.
    pub user: DeviceUser,
}

/// Whom a caller ID belongs to (spec §4): a device's line wins over a card's caller ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerIdHolder {
    /// The device whose caller ID it is.
    Device(Device),
    /// The card whose caller ID it is, when no device has it.
    Card(Card),
}

/// Whose line a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceUser {
    /// A provider's device, which the call must never touch (spec §4 A).
    Provider,
    /// A user's phone line: that user's balance is the one the call changes.
    User(UserId),
}

impl DeviceUser {
    /// MOR's rule: a device is a provider's when `devices.user_id` is -1 or a row of
    /// `providers` names it; else it is the line of user `devices.user_id`.
    pub fn from_mor(user_id: i64, named_by_a_provider: bool) -> DeviceUser {
        if user_id == -1 || named_by_a_provider {
            DeviceUser::Provider
        } else {
            DeviceUser::User(UserId(user_id))
        }
    }
}

/// A user whose balance the device path changes: a row of `users`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `users.id`.
    pub id: UserId,
    /// `users.owner_id`.
    pub owner_id: OwnerId,
    /// `users.balance`, net of tax, in the system currency.
    pub balance: Money,
    /// `users.tax_id`.
    pub tax_id: Option<TaxId>,
}

/// Whose balance a payment changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// A card: `paymenttype` `Card`, `card` = 1, `user_id` = the card's id.
    Card(CardId),
    /// A user: `paymenttype` `card_refill`, `card` = 0, `user_id` = the user's id.
    User(UserId),
}

/// A row of `payments`: one balance change (spec §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The card or user whose balance changed.
    pub holder: Holder,
    /// The signed change of the balance, in the system currency.
    pub amount: Money,
    /// The tax removed from what the client paid, in the system currency.
    pub tax: Money,
    /// What the client paid (for a transfer: the amount moved), in `currency`.
    pub gross: Money,
    /// The currency of `gross`.
    pub currency: String,
    /// The owner of the card or user.
    pub owner_id: OwnerId,
    /// Why the balance changed, for the operator.
    pub description: String,
}

/// A sale of cards (card_calls.md §3 step 4): a `ccorders` row, one `cclineitems` row and one
/// `card_sell_over_api` action per card. No balance changes, so no payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// The API user who sold them (`actions.user_id`).
    pub seller: UserId,
    /// The seller's owner (`ccorders.owner_id`).
    pub owner_id: OwnerId,
    /// The buyer's e-mail as sent, or empty.
    pub email: String,
    /// The system currency's name (`ccorders.currency`).
    pub currency: String,
    /// The cards sold, each with its group and its balance as the line's price.
    pub cards: Vec<SoldCard>,
}

/// One card of a [`Sale`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldCard {
    /// The card.
    pub card_id: CardId,
    /// Its group.
    pub cardgroup_id: CardGroupId,
    /// Its balance, the line item's price.
    pub price: Money,
}

impl Sale {
    /// The sale of `cards` by `caller`, each card at its balance.
    pub fn of(caller: &Caller, email: &str, currency: String, cards: &[Card]) -> Sale {
        Sale {
            seller: caller.id,
            owner_id: caller.owner,
            email: email.to_owned(),
            currency,
            cards: cards
                .iter()
                .map(|card| SoldCard {
                    card_id: card.id,
                    cardgroup_id: card.cardgroup_id,
                    price: card.balance.clone(),
                })
                .collect(),
        }
    }

    /// `ccorders.amount`: the sum of the cards' balances.
    pub fn amount(&self) -> Money {
        self.cards
            .iter()
            .fold(Money::zero(), |sum, card| &sum + &card.price)
    }
}
