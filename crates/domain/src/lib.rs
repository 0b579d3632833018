//! The rules of MOR's `cc_by_cli` API call, with no I/O.
//!
//! A MOR operator sells prepaid calling cards and tops them up by the caller ID (CLI) of the
//! phone a customer calls from. This crate decides everything the call does: who may call
//! ([`authenticate`]), what a request means ([`CardRequest`]), which card or user gains or
//! loses how much money ([`cc_by_cli`]), and which [`Payment`] rows record it. Storage and
//! randomness come in through the [`ports`]; nothing here knows a database, HTTP or XML.
//!
//! Money is exact ([`Money`]); taxes and currencies follow MOR X5 ([`pricing`]).
#![warn(missing_docs)]

pub mod account;
pub mod auth;
pub mod cc_by_cli;
pub mod codes;
pub mod error;
pub mod hash;
pub mod ids;
pub mod model;
pub mod money;
pub mod ports;
pub mod pricing;
pub mod reply;
pub mod settings;

pub use account::{Account, Caller, UserType};
pub use auth::{authenticate, Credentials, Method, Origin};
pub use cc_by_cli::{cc_by_cli, CardRequest};
pub use codes::{CallerId, CardNumber, Pin};
pub use error::{CcError, FilterError, StoreError, TRANSACTION_FAILED};
pub use hash::HashedParams;
pub use ids::{CardGroupId, CardId, DeviceId, OwnerId, TaxId, UserId};
pub use model::{Card, CardGroup, Device, DeviceUser, Holder, NewCard, Payment, User};
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
