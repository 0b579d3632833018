//! Taxes and currencies (spec §4.3): MOR prices cards in the card group's currency with VAT
//! included and keeps balances net of tax in the system currency.

use bigdecimal::{BigDecimal, One, Signed, Zero};

use crate::money::{Figure, Money};

/// A row of MOR's `taxes` table reduced to the rates that count: tax1 always, tax2 to tax4
/// when enabled. No row means no tax ([`Tax::none`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tax {
    /// Percentages that apply, e.g. `10` for 10 %.
    rates: Vec<BigDecimal>,
    /// Compound taxes multiply (`prod(1 + t/100)`); otherwise they add (`1 + sum(t)/100`).
    compound: bool,
}

/// One of MOR's optional taxes 2 to 4: a percentage and whether it is enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalTax {
    /// Whether the tax counts.
    pub enabled: bool,
    /// The percentage.
    pub percent: BigDecimal,
}

impl Tax {
    /// No tax at all.
    pub fn none() -> Tax {
        Tax::default()
    }

    /// A MOR `taxes` row: `tax1` always counts, the others when enabled. MOR also has a
    /// `tax1_enabled` flag, but its tax1 counts whatever the flag says.
    pub fn from_row(tax1: BigDecimal, others: [OptionalTax; 3], compound: bool) -> Tax {
        let rates = std::iter::once(tax1)
            .chain(
                others
                    .into_iter()
                    .filter(|tax| tax.enabled)
                    .map(|tax| tax.percent),
            )
            .filter(|rate| !rate.is_zero())
            .collect();
        Tax { rates, compound }
    }

    /// Whether gross amounts can be divided by this tax: its factor is positive. Rates that add
    /// up to -100 % or less (a misconfigured row) cannot.
    pub fn is_usable(&self) -> bool {
        self.factor().is_positive()
    }

    /// The multiplier from net to gross: `prod(1 + t/100)` or `1 + sum(t)/100`. Exact.
    fn factor(&self) -> BigDecimal {
        let hundred = BigDecimal::from(100);
        if self.compound {
            self.rates.iter().fold(BigDecimal::one(), |product, rate| {
                product * (BigDecimal::one() + rate / &hundred)
            })
        } else {
            let sum: BigDecimal = self.rates.iter().sum();
            BigDecimal::one() + sum / hundred
        }
    }

    /// Removes the tax from a gross figure. Division keeps 100 significant digits. The tax must
    /// be [usable](Tax::is_usable): a zero factor cannot be divided by.
    pub fn strip(&self, gross: &Figure) -> Figure {
        if self.rates.is_empty() {
            return gross.clone();
        }
        Figure::new(gross.as_decimal() / self.factor())
    }

    /// Adds the tax to a net figure (the inverse of [`Tax::strip`]).
    pub fn add(&self, net: &Figure) -> Figure {
        Figure::new(net.as_decimal() * self.factor())
    }
}

/// A row of MOR's `currencies` table: its name and its `exchange_rate` relative to the system
/// currency (id 1), whose rate is 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Currency {
    /// The ISO-style name, e.g. `EUR`.
    pub name: String,
    /// MOR's `exchange_rate`.
    pub exchange_rate: BigDecimal,
    /// `currencies.active`: a disabled currency is refused by `card_payment_add`.
    pub active: bool,
}

impl Currency {
    /// A currency whose rate can be divided by: positive.
    pub fn is_usable(&self) -> bool {
        self.exchange_rate.is_positive()
    }
}

/// How a top-up in one card group or for one user turns a client's gross amount into the net
/// balance change in the system currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// The tax included in the client's amount.
    pub tax: Tax,
    /// The currency the client pays in.
    pub currency: Currency,
    /// The system currency (MOR's currency id 1), in which balances are kept.
    pub system: Currency,
}

/// A top-up priced: what the client paid and what the balance gains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedTopUp {
    /// What the client sent, in [`PricedTopUp::currency`].
    pub gross: Money,
    /// The currency of `gross`.
    pub currency: String,
    /// The balance change: converted to the system currency, tax removed.
    pub net: Money,
    /// The tax removed, in the system currency.
    pub tax: Money,
}

impl Pricing {
    /// Prices `gross`: converts it into the system currency (`x * rate(system) / rate(A)`),
    /// then removes the tax (spec §4.3). Rounded once, to the stored scale, at the end.
    pub fn price(&self, gross: &Money) -> PricedTopUp {
        let converted = if self.currency.name == self.system.name {
            gross.to_figure()
        } else {
            Figure::new(
                gross.as_decimal() * &self.system.exchange_rate / &self.currency.exchange_rate,
            )
        };
        let net = Money::from_figure(&self.tax.strip(&converted));
        let tax = &Money::from_figure(&converted) - &net;
        PricedTopUp {
            gross: gross.clone(),
            currency: self.currency.name.clone(),
            net,
            tax,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn decimal(text: &str) -> BigDecimal {
        BigDecimal::from_str(text).unwrap()
    }

    fn money(text: &str) -> Money {
        Money::parse_stored(text).unwrap()
    }

    fn currency(name: &str, rate: &str) -> Currency {
        Currency {
            name: name.into(),
            exchange_rate: decimal(rate),
            active: true,
        }
    }

    fn tax(rates: [&str; 4], compound: bool) -> Tax {
        let optional = |rate: &str| OptionalTax {
            enabled: true,
            percent: decimal(rate),
        };
        Tax::from_row(
            decimal(rates[0]),
            [optional(rates[1]), optional(rates[2]), optional(rates[3])],
            compound,
        )
    }

    fn pricing(tax: Tax, currency: Currency) -> Pricing {
        Pricing {
            tax,
            currency,
            system: self::currency("USD", "1"),
        }
    }

    #[test]
    fn one_ten_percent_tax_on_100() {
        let pricing = pricing(tax(["10", "0", "0", "0"], false), currency("USD", "1"));
        let priced = pricing.price(&money("100"));
        assert_eq!(priced.net.display(4), "90.9091");
        assert_eq!(priced.net.to_stored_string(), "90.909090909090909");
        assert_eq!(
            pricing.tax.add(&priced.net.to_figure()).display(4),
            "100.0000"
        );
        assert_eq!(&priced.net + &priced.tax, money("100"));
    }

    #[test]
    fn four_compound_taxes_in_a_foreign_currency() {
        let pricing = pricing(tax(["10", "10", "10", "10"], true), currency("EUR", "2"));
        let priced = pricing.price(&money("300"));
        assert_eq!(priced.net.display(4), "102.4520");
        assert_eq!(
            pricing.tax.add(&priced.net.to_figure()).display(4),
            "150.0000"
        );
        assert_eq!(priced.currency, "EUR");
        assert_eq!(priced.gross, money("300"));
        assert_eq!(&priced.net + &priced.tax, money("150"));
    }

    #[test]
    fn two_compound_taxes_make_a_factor_of_1_21() {
        let pricing = pricing(tax(["10", "10", "0", "0"], true), currency("USD", "1"));
        assert_eq!(pricing.price(&money("500")).net.display(4), "413.2231");
    }

    #[test]
    fn additive_taxes_sum_their_rates() {
        let pricing = pricing(tax(["10", "10", "0", "0"], false), currency("USD", "1"));
        assert_eq!(pricing.price(&money("120")).net, money("100"));
    }

    #[test]
    fn disabled_taxes_do_not_count_but_tax1_always_does() {
        let disabled = OptionalTax {
            enabled: false,
            percent: decimal("50"),
        };
        let tax = Tax::from_row(
            decimal("25"),
            [disabled.clone(), disabled.clone(), disabled],
            false,
        );
        let pricing = pricing(tax, currency("USD", "1"));
        assert_eq!(pricing.price(&money("125")).net, money("100"));
    }

    #[test]
    fn three_stripped_top_ups_are_rounded_once_when_printed() {
        // 1 at 7 % is 0.934579439252336...; stored with 15 decimals, three of them print as
        // 2.8037. Rounding each to 4 decimals first (0.9346) would print 2.8038.
        let pricing = pricing(tax(["7", "0", "0", "0"], false), currency("USD", "1"));
        let one = pricing.price(&money("1")).net;
        let sum = &(&one + &one) + &one;
        assert_eq!(sum.display(4), "2.8037");
        assert_eq!(one.display(4), "0.9346");
        assert_eq!(pricing.tax.add(&sum.to_figure()).display(4), "3.0000");
    }

    #[test]
    fn rates_down_to_minus_100_percent_are_unusable() {
        assert!(tax(["10", "0", "0", "0"], false).is_usable());
        assert!(tax(["-50", "0", "0", "0"], true).is_usable());
        assert!(!tax(["-100", "0", "0", "0"], false).is_usable());
        assert!(!tax(["-60", "-40", "0", "0"], false).is_usable());
        assert!(!tax(["10", "-100", "0", "0"], true).is_usable());
        assert!(!tax(["-150", "0", "0", "0"], true).is_usable());
    }

    #[test]
    fn no_tax_and_system_currency_leave_the_amount_as_it_is() {
        let pricing = pricing(Tax::none(), currency("USD", "1"));
        let priced = pricing.price(&money("12.345678901234567"));
        assert_eq!(priced.net, money("12.345678901234567"));
        assert!(priced.tax.is_zero());
    }
}
