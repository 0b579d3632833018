//! Storage for morcc: the domain's ports over SQLite (always) and MySQL/MariaDB (feature
//! `mysql`), with diesel.
//!
//! [`Database`] is the entry point: [`Database::connect`] picks the backend from the URL,
//! [`Database::run_migrations`] creates MOR's tables, and the value then serves as the
//! domain's [`Store`](morcc_domain::Store), [`Directory`](morcc_domain::Directory) and
//! [`AuditLog`](morcc_domain::AuditLog). [`SecureCodes`] makes card numbers and PINs.
//! [`admin`] holds the operator's operations (users, card groups, cards, settings, taxes).
//!
//! Money never passes through a float: MySQL keeps MOR's `DECIMAL(30,15)` columns, SQLite
//! keeps the canonical decimal text, and all arithmetic happens in Rust on exact decimals.
#![warn(missing_docs)]

pub mod admin;
mod cache;
mod codes;
mod connection;
mod directory;
mod error;
mod ledger;
mod money_sql;
#[cfg(feature = "mysql")]
mod mysql;
mod retention;
mod rows;
mod schema;
#[cfg(feature = "testing")]
pub mod testing;

pub use cache::CachedDirectory;
pub use codes::SecureCodes;
pub use connection::{
    Backend, Database, PoolConnections, PoolSettings, SqliteSynchronous, POOL_WAITS,
    TRANSACTION_RETRIES,
};
pub use error::AdapterError;
