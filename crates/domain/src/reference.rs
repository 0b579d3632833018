//! The reference rows every call prices with, read through the [`Catalog`]: a tax by id and
//! the system currency, each refused when no arithmetic can use it. The one home of those two
//! rules, for cc_by_cli and the card calls alike.

use crate::error::ReferenceError;
use crate::ids::TaxId;
use crate::ports::Catalog;
use crate::pricing::{Currency, Tax};

/// The tax with this id; none (no id, or no such row) is no tax (spec §4.3). A row whose rates
/// add up to -100 % or less cannot be divided by.
pub fn tax<C: Catalog + ?Sized>(catalog: &mut C, id: Option<TaxId>) -> Result<Tax, ReferenceError> {
    let Some(id) = id else {
        return Ok(Tax::none());
    };
    match catalog.tax(id)? {
        Some(tax) if !tax.is_usable() => Err(ReferenceError::Inconsistent(
            "tax rates add up to -100 % or less",
        )),
        tax => Ok(tax.unwrap_or_else(Tax::none)),
    }
}

/// The system currency (`currencies.id` = 1), which must exist with a positive rate.
pub fn system_currency<C: Catalog + ?Sized>(catalog: &mut C) -> Result<Currency, ReferenceError> {
    catalog
        .system_currency()?
        .filter(Currency::is_usable)
        .ok_or(ReferenceError::Inconsistent(
            "no usable system currency (currencies.id = 1)",
        ))
}
