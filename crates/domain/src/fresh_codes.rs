//! The rule for a new card's codes (spec §4.1): numbers and PINs of the group's lengths, drawn
//! from the [`CodeGenerator`] and drawn again when taken. The one home of that rule, for the
//! call, the operator's `create-card` and its print runs alike.

use crate::codes::{CardNumber, Pin};
use crate::error::StoreError;
use crate::model::CardGroup;
use crate::ports::CodeGenerator;

/// How many fresh number/PIN pairs a new card tries before the code space counts as full.
pub const CODE_ATTEMPTS: usize = 16;

/// The codes an operator chose for a new card; the others are drawn.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChosenCodes<'a> {
    /// A number chosen by the operator.
    pub number: Option<&'a CardNumber>,
    /// A PIN chosen by the operator.
    pub pin: Option<&'a Pin>,
}

/// Inserts a new card of `group` through `insert`, with the chosen codes and fresh ones drawn
/// from `codes` with the group's lengths (spec §4.1), drawing again when `insert` finds a code
/// taken ([`StoreError::Duplicate`]). The one home of that rule, for the call and the
/// operator alike. When both codes are chosen there is nothing to draw: a taken code is a
/// `Duplicate` at once; so it is when [`CODE_ATTEMPTS`] draws were all taken (the group's code
/// space is full). Any other error ends the attempts.
pub fn insert_with_fresh_codes<T>(
    group: &CardGroup,
    codes: &dyn CodeGenerator,
    chosen: ChosenCodes<'_>,
    mut insert: impl FnMut(&CardNumber, &Pin) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let attempts = if chosen.number.is_some() && chosen.pin.is_some() {
        1
    } else {
        CODE_ATTEMPTS
    };
    let unusable = || StoreError::Failure("the code generator gave an unusable code".into());
    for _ in 0..attempts {
        let number = match chosen.number {
            Some(number) => number.clone(),
            None => CardNumber::parse(&codes.digits(group.number_digits())).ok_or_else(unusable)?,
        };
        let pin = match chosen.pin {
            Some(pin) => pin.clone(),
            None => Pin::parse(&codes.digits(group.pin_digits())).ok_or_else(unusable)?,
        };
        match insert(&number, &pin) {
            Err(StoreError::Duplicate) => continue,
            outcome => return outcome,
        }
    }
    Err(StoreError::Duplicate)
}
