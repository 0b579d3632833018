//! The rules of MOR's calling-card API, with no I/O.
//!
//! A MOR operator sells prepaid calling cards and tops them up by the caller ID (CLI) of the
//! phone a customer calls from ([`cc_by_cli()`]), shows card groups ([`card_group_get()`]), sells
//! pre-made PIN cards ([`card_from_group_sell()`]) and checks and tops up cards by number
//! ([`card_balance_get()`], [`card_payment_add()`]). This crate decides everything the calls do:
//! who may call ([`authenticate`]), what a request means, which card or user gains or loses
//! how much money, and which [`Payment`] rows record it; a retried request with an
//! idempotency key applies once ([`idempotency`]). Storage and randomness come in through the
//! [`ports`]; nothing here knows a database, HTTP or XML.
//!
//! Money is exact ([`Money`]); taxes and currencies follow MOR X5 ([`pricing`]).
#![warn(missing_docs)]

pub mod account;
pub mod api;
pub mod auth;
pub mod card_balance_get;
mod card_calls;
pub mod card_from_group_sell;
pub mod card_group_get;
pub mod card_payment_add;
pub mod cc_by_cli;
pub mod codes;
pub mod error;
pub mod fresh_codes;
pub mod hash;
pub mod idempotency;
pub mod ids;
pub mod model;
pub mod money;
pub mod ports;
pub mod pricing;
pub mod reference;
pub mod reply;
pub mod settings;

pub use account::{Account, Caller, UserType};
pub use api::ApiCall;
pub use auth::{authenticate, Credentials, Method, Origin};
pub use card_balance_get::{card_balance_get, CardBalance};
pub use card_from_group_sell::{
    card_from_group_sell, card_from_group_sell_once, CardsSold, SaleRequest,
};
pub use card_group_get::{card_group_get, CardGroupShown};
pub use card_payment_add::{
    card_payment_add, card_payment_add_once, CardPayment, Conversion, PaymentRequest,
};
pub use cc_by_cli::{cc_by_cli, cc_by_cli_once, CardRequest};
pub use codes::{CallerId, CardNumber, Pin};
pub use error::{
    CardCallError, CcError, FilterError, ReferenceError, StoreError, TRANSACTION_FAILED,
};
pub use hash::HashedParams;
pub use idempotency::{Answered, Fingerprint, IdempotencyKey, Once, StoredReply};
pub use ids::{CardGroupId, CardId, DeviceId, OwnerId, TaxId, UserId};
pub use model::{
    CallerIdHolder, Card, CardGroup, Device, DeviceUser, Holder, NewCard, Payment, Sale, SoldCard,
    User,
};
pub use money::{Figure, Money};
pub use ports::{
    AuditLog, CardKey, Catalog, CodeGenerator, Directory, FailedAttempt, Ledger, RecentFailures,
    Store, Transact, UnitError, UnitFailure,
};
pub use pricing::{Currency, Tax};
pub use reply::{CardReply, DeviceReply, Reply};

/// The exact decimal type behind [`Money`], re-exported for adapters.
pub use bigdecimal::BigDecimal;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
