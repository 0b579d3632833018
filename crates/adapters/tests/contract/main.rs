//! The storage contract of morcc's adapters, run against every backend at hand: SQLite always
//! (a fresh file per test), MySQL/MariaDB when built with the `mysql` feature and
//! `MORCC_TEST_MYSQL_URL` names a server (a fresh database per test, dropped afterwards).

mod support;

mod card_calls;
mod concurrency;
mod ledger;
mod schema;
mod use_case;
