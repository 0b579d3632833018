//! Exact decimals at the storage boundary.
//!
//! Both backends carry money as decimal text: SQLite keeps the canonical text itself (its
//! numeric types are doubles), and MySQL converts between a `DECIMAL(30,15)` column and its text
//! exactly, in both directions. Arithmetic never happens in SQL: MySQL would turn a `DECIMAL`
//! combined with a string bind into a `DOUBLE`.

use std::str::FromStr;

use morcc_domain::{BigDecimal, Money, StoreError};

/// The text written for a money column.
pub(crate) fn to_sql(money: &Money) -> String {
    money.to_stored_string()
}

/// Money read from a column; a value that is not a plain decimal is a corrupt row.
pub(crate) fn money(text: &str) -> Result<Money, StoreError> {
    Money::parse_stored(text).map_err(|error| StoreError::Failure(error.to_string()))
}

/// A decimal that is not money (an exchange rate, a tax percentage), exactly as stored.
pub(crate) fn decimal(text: &str) -> Result<BigDecimal, StoreError> {
    BigDecimal::from_str(text.trim())
        .map_err(|_| StoreError::Failure(format!("not a decimal: {text:?}")))
}

/// The text written for such a decimal.
pub(crate) fn decimal_to_sql(value: &BigDecimal) -> String {
    value.to_plain_string()
}
