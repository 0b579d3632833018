//! Exact money: parsing the wire format, rounding for storage, printing for replies.
//!
//! MOR keeps money in `DECIMAL(30,15)` columns. [`Money`] is such a value: an exact decimal
//! with at most [`STORED_SCALE`] fractional digits. Arithmetic that can produce more digits
//! (tax, exchange rates) happens on [`Figure`]s, which are exact and unrounded; a figure
//! becomes money only through [`Money::from_figure`], which rounds half away from zero once.

use std::fmt;
use std::ops::{Add, Neg, Sub};
use std::str::FromStr;

use bigdecimal::{BigDecimal, RoundingMode, Signed, Zero};

/// Fractional digits kept in storage: MOR's `DECIMAL(30,15)`.
pub const STORED_SCALE: i64 = 15;

/// Digits allowed before and after the point in a request's `amount` (spec §4.2).
const AMOUNT_MAX_DIGITS: usize = 15;

/// The request's `amount` is not a plain decimal (spec §4.2: `Invalid amount`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid amount")]
pub struct InvalidAmount;

/// A stored decimal could not be read back as money (a corrupt database value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a decimal: {0:?}")]
pub struct InvalidStoredMoney(pub String);

/// An exact amount of money with at most [`STORED_SCALE`] fractional digits.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(BigDecimal);

/// An exact, unrounded decimal produced by arithmetic on money (a price with tax, a converted
/// amount). Rounded only when stored ([`Money::from_figure`]) or printed ([`Figure::display`]).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Figure(BigDecimal);

impl Money {
    /// Zero.
    pub fn zero() -> Money {
        Money(BigDecimal::zero())
    }

    /// Parses the request's `amount` (spec §4.2): empty means zero; otherwise 1 to 15 digits,
    /// optionally a point and 1 to 15 digits. No sign, exponent, spaces or other characters.
    pub fn parse_amount(raw: &str) -> Result<Money, InvalidAmount> {
        if raw.is_empty() {
            return Ok(Money::zero());
        }
        let (integer, fraction) = match raw.split_once('.') {
            Some((integer, fraction)) => (integer, Some(fraction)),
            None => (raw, None),
        };
        let digits_ok = |part: &str| {
            (1..=AMOUNT_MAX_DIGITS).contains(&part.len())
                && part.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits_ok(integer) || !fraction.is_none_or(digits_ok) {
            return Err(InvalidAmount);
        }
        BigDecimal::from_str(raw)
            .map(Money)
            .map_err(|_| InvalidAmount)
    }

    /// Reads a decimal as written by [`Money::to_stored_string`] (or any plain decimal, as an
    /// existing MOR database may hold), rounding it to [`STORED_SCALE`] digits.
    pub fn parse_stored(text: &str) -> Result<Money, InvalidStoredMoney> {
        let trimmed = text.trim();
        let plain = !trimmed.is_empty()
            && trimmed.bytes().enumerate().all(|(i, b)| {
                b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+'))
            });
        if !plain {
            return Err(InvalidStoredMoney(text.to_owned()));
        }
        BigDecimal::from_str(trimmed)
            .map(|value| Money::from_figure(&Figure(value)))
            .map_err(|_| InvalidStoredMoney(text.to_owned()))
    }

    /// Money from an exact decimal (a MySQL `DECIMAL` column), rounded to [`STORED_SCALE`].
    pub fn from_decimal(value: BigDecimal) -> Money {
        Money::from_figure(&Figure(value))
    }

    /// Rounds a figure half away from zero to [`STORED_SCALE`] digits: the one place where
    /// computed money loses digits.
    pub fn from_figure(figure: &Figure) -> Money {
        Money(round(&figure.0, STORED_SCALE))
    }

    /// The exact value, for storage adapters.
    pub fn as_decimal(&self) -> &BigDecimal {
        &self.0
    }

    /// The exact value as a figure, for further arithmetic.
    pub fn to_figure(&self) -> Figure {
        Figure(self.0.clone())
    }

    /// The canonical text form kept in SQLite: plain notation with exactly 15 decimals,
    /// e.g. `90.909090909090909`.
    pub fn to_stored_string(&self) -> String {
        self.0.with_scale(STORED_SCALE).to_plain_string()
    }

    /// Prints with exactly `digits` decimals, rounding half away from zero (spec §5).
    pub fn display(&self, digits: u32) -> String {
        self.to_figure().display(digits)
    }

    /// The value exactly, in plain notation, trailing zeros dropped but one decimal kept
    /// (`20.0`, `10.084033613445378`): how MOR prints raw values in the card calls'
    /// replies (card_calls.md §1).
    pub fn plain(&self) -> String {
        let full = self.to_stored_string();
        let trimmed = full.trim_end_matches('0');
        if trimmed.ends_with('.') {
            format!("{trimmed}0")
        } else {
            trimmed.to_owned()
        }
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// True for a value above zero.
    pub fn is_positive(&self) -> bool {
        self.0.is_positive()
    }
}

impl Figure {
    /// An exact figure.
    pub fn new(value: BigDecimal) -> Figure {
        Figure(value)
    }

    /// The exact value.
    pub fn as_decimal(&self) -> &BigDecimal {
        &self.0
    }

    /// Prints with exactly `digits` decimals, rounding half away from zero.
    pub fn display(&self, digits: u32) -> String {
        round(&self.0, i64::from(digits)).to_plain_string()
    }
}

fn round(value: &BigDecimal, scale: i64) -> BigDecimal {
    value.with_scale_round(scale, RoundingMode::HalfUp)
}

impl Add for &Money {
    type Output = Money;
    fn add(self, other: &Money) -> Money {
        Money(&self.0 + &other.0)
    }
}

impl Sub for &Money {
    type Output = Money;
    fn sub(self, other: &Money) -> Money {
        Money(&self.0 - &other.0)
    }
}

impl Neg for &Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-&self.0)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({})", self.0.to_plain_string())
    }
}

impl fmt::Debug for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Figure({})", self.0.to_plain_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(text: &str) -> Money {
        Money::parse_stored(text).unwrap()
    }

    #[test]
    fn amounts_of_the_spec_grammar_parse_exactly() {
        assert_eq!(Money::parse_amount("100").unwrap(), money("100"));
        assert_eq!(Money::parse_amount("0.01").unwrap(), money("0.01"));
        assert_eq!(Money::parse_amount("").unwrap(), Money::zero());
        let widest = "999999999999999.999999999999999";
        assert_eq!(
            Money::parse_amount(widest).unwrap().to_stored_string(),
            widest
        );
    }

    #[test]
    fn anything_but_a_plain_decimal_is_an_invalid_amount() {
        for raw in [
            "-1",
            "+1",
            "1e3",
            "1E3",
            "NaN",
            "inf",
            "abc",
            " 1",
            "1 ",
            ".5",
            "5.",
            "1.2.3",
            "0x10",
            "1,5",
            "１",
            "1234567890123456",
            "1.1234567890123456",
            "\u{0}1",
        ] {
            assert_eq!(Money::parse_amount(raw), Err(InvalidAmount), "{raw:?}");
        }
    }

    #[test]
    fn printing_rounds_half_away_from_zero() {
        assert_eq!(money("1.00005").display(4), "1.0001");
        assert_eq!(money("1.00004999").display(4), "1.0000");
        assert_eq!(money("-1.00005").display(4), "-1.0001");
        assert_eq!(money("90").display(4), "90.0000");
        assert_eq!(money("2.5").display(0), "3");
        assert_eq!(money("0.000000000000001").display(2), "0.00");
    }

    #[test]
    fn storage_keeps_fifteen_decimals_and_rounds_half_away_from_zero() {
        let third = Figure::new(BigDecimal::from(100) / BigDecimal::from_str("1.1").unwrap());
        assert_eq!(
            Money::from_figure(&third).to_stored_string(),
            "90.909090909090909"
        );
        let half = Figure::new(BigDecimal::from_str("0.0000000000000005").unwrap());
        assert_eq!(
            Money::from_figure(&half).to_stored_string(),
            "0.000000000000001"
        );
        let negative_half = Figure::new(BigDecimal::from_str("-0.0000000000000005").unwrap());
        assert_eq!(
            Money::from_figure(&negative_half).to_stored_string(),
            "-0.000000000000001"
        );
    }

    #[test]
    fn plain_drops_trailing_zeros_but_keeps_one_decimal() {
        assert_eq!(money("20").plain(), "20.0");
        assert_eq!(money("0").plain(), "0.0");
        assert_eq!(money("10.084033613445378").plain(), "10.084033613445378");
        assert_eq!(money("5.50").plain(), "5.5");
        assert_eq!(money("-0.25").plain(), "-0.25");
        assert_eq!(money("100").plain(), "100.0");
    }

    #[test]
    fn sums_are_exact() {
        let sum = &money("0.1") + &money("0.2");
        assert_eq!(sum, money("0.3"));
        assert_eq!(sum.to_stored_string(), "0.300000000000000");
        assert_eq!((&sum - &money("0.3")), Money::zero());
    }

    #[test]
    fn stored_text_must_be_a_plain_decimal() {
        assert!(Money::parse_stored("12.5").is_ok());
        assert!(Money::parse_stored("-12.5").is_ok());
        assert!(Money::parse_stored("1e5").is_err());
        assert!(Money::parse_stored("").is_err());
        assert!(Money::parse_stored("NaN").is_err());
    }

    proptest! {
        #[test]
        fn every_valid_amount_round_trips_through_storage(
            integer in "[0-9]{1,15}",
            fraction in proptest::option::of("[0-9]{1,15}"),
        ) {
            let raw = match &fraction { Some(f) => format!("{integer}.{f}"), None => integer.clone() };
            let parsed = Money::parse_amount(&raw).unwrap();
            let stored = parsed.to_stored_string();
            prop_assert_eq!(Money::parse_stored(&stored).unwrap(), parsed.clone());
            // The printed value with 15 decimals is the input padded with zeros.
            let width = fraction.as_ref().map_or(0, String::len);
            let expected_fraction = format!("{}{}", fraction.unwrap_or_default(), "0".repeat(15 - width));
            let expected = format!("{}.{}", integer.trim_start_matches('0'), expected_fraction);
            prop_assert_eq!(stored.trim_start_matches('0'), expected.as_str());
        }

        #[test]
        fn parse_amount_never_panics(raw in "\\PC{0,40}") {
            let _ = Money::parse_amount(&raw);
            let _ = Money::parse_stored(&raw);
        }

        #[test]
        fn display_has_exactly_the_requested_decimals(
            integer in "[0-9]{1,15}", fraction in "[0-9]{1,15}", digits in 0u32..16,
        ) {
            let printed = Money::parse_amount(&format!("{integer}.{fraction}")).unwrap().display(digits);
            let decimals = printed.split_once('.').map_or(0, |(_, f)| f.len());
            prop_assert_eq!(decimals, digits as usize);
        }
    }
}
