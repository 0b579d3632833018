//! Black-box tests: the real server on port 0 over a fresh database (SQLite always; MySQL too
//! with `--features mysql` and `MORCC_TEST_MYSQL_URL`), driven over HTTP like a MOR client.

mod support;

mod card_balance;
mod card_concurrency;
mod card_group_get;
mod card_path;
mod card_payment;
mod card_sale;
mod card_transport;
mod cli;
mod device_path;
mod filters;
mod idempotency;
mod money;
mod operating;
mod pin_path;
mod security;
mod transport;

// Reliability: load, faults and hostile input (docs/RELIABILITY.md).
mod checks;
// Scale-out: three instances over a three-node Galera cluster.
#[cfg(feature = "mysql")]
mod cluster;
mod faults;
#[cfg(feature = "mysql")]
mod galera;
mod hostile;
mod layout;
mod load;
mod metrics;
mod procs;
