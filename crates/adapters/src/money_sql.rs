//! Exact decimals at the storage boundary.
//!
//! Both backends carry money as decimal text: SQLite keeps the canonical text itself (its
//! numeric types are doubles), and MySQL converts between a `DECIMAL(30,15)` column and its text
//! exactly, in both directions. Arithmetic never happens in SQL: MySQL would turn a `DECIMAL`
//! combined with a string bind into a `DOUBLE`.

use std::str::FromStr;

use morcc_domain::{BigDecimal, Money, StoreError};

/// Integer digits a `DECIMAL(30,15)` column holds: 30 digits, 15 of them after the point.
const INTEGER_DIGITS: u32 = 15;

/// The text written for a money column; a value with more than 15 integer digits is refused.
///
/// MySQL in a non-strict session would clamp such a value to 999999999999999.999999999999999
/// with a mere warning, and SQLite would keep it whole: either way a balance would no longer
/// equal the sum of its payments (the payments row keeps the true amount). So neither backend
/// is asked to store it, and the unit of work fails before writing anything.
pub(crate) fn to_sql(money: &Money) -> Result<String, StoreError> {
    fits(money.as_decimal())?;
    Ok(money.to_stored_string())
}

/// `Ok` when `value` fits the integer part of a `DECIMAL(30,15)` column.
fn fits(value: &BigDecimal) -> Result<(), StoreError> {
    let limit = BigDecimal::from(10u64.pow(INTEGER_DIGITS));
    if value.abs() < limit {
        Ok(())
    } else {
        Err(StoreError::Failure(format!(
            "a value out of range of DECIMAL(30,15): more than {INTEGER_DIGITS} integer digits"
        )))
    }
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

/// The text written for such a decimal; out of range of `DECIMAL(30,15)` is refused, as for
/// money.
pub(crate) fn decimal_to_sql(value: &BigDecimal) -> Result<String, StoreError> {
    fits(value)?;
    Ok(value.to_plain_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_integer_digits_fit_and_sixteen_do_not() {
        for fitting in [
            "999999999999999.999999999999999",
            "-999999999999999.999999999999999",
            "0",
        ] {
            let value = Money::parse_stored(fitting).unwrap();
            assert_eq!(to_sql(&value).unwrap(), value.to_stored_string());
        }
        for too_wide in [
            "1000000000000000",
            "-1000000000000000",
            "12345678901234567890",
        ] {
            let value = Money::parse_stored(too_wide).unwrap();
            assert!(
                matches!(to_sql(&value), Err(StoreError::Failure(message)) if message.contains("out of range")),
                "{too_wide}"
            );
            assert!(decimal_to_sql(value.as_decimal()).is_err(), "{too_wide}");
        }
    }
}
