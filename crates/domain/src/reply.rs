//! What a successful call answers (spec §5).

use crate::ids::{DeviceId, UserId};
use crate::model::Card;
use crate::money::{Figure, Money};

/// A successful call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The card that now holds the caller ID.
    Card(CardReply),
    /// The device whose user's balance changed.
    Device(DeviceReply),
}

/// The card reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardReply {
    /// The card as stored after the call.
    pub card: Card,
    /// Its balance with the card group's tax added.
    pub balance_with_vat: Figure,
}

/// The device reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReply {
    /// `devices.id`.
    pub device_id: DeviceId,
    /// The device's user.
    pub user_id: UserId,
    /// The user's balance after the call.
    pub new_balance: Money,
    /// That balance with the user's tax added.
    pub new_balance_with_vat: Figure,
}
