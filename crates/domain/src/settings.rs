//! The `conflines` settings the call reads (spec §1, §3, §5).

use crate::error::StoreError;
use crate::ids::OwnerId;
use crate::ports::Directory;

/// `Allow_API`: the owner's users may use the API.
pub const ALLOW_API: &str = "Allow_API";
/// `Allow_GET_API` (owner 0): GET requests are served.
pub const ALLOW_GET_API: &str = "Allow_GET_API";
/// `API_Disable_hash_checking`: the owner's requests need no hash.
pub const API_DISABLE_HASH_CHECKING: &str = "API_Disable_hash_checking";
/// `API_Secret_Key`: the key of the owner's hashes.
pub const API_SECRET_KEY: &str = "API_Secret_Key";
/// `XML_API_Extension` (owner 0): replies are `text/xml` and named `.xml`.
pub const XML_API_EXTENSION: &str = "XML_API_Extension";
/// `Nice_Number_Digits` (owner 0): decimals printed in replies.
pub const NICE_NUMBER_DIGITS: &str = "Nice_Number_Digits";

/// `API_Allow_payments_ower_API` (owner 0; MOR's spelling): `card_payment_add` is served.
pub const API_ALLOW_PAYMENTS_OVER_API: &str = "API_Allow_payments_ower_API";

/// The owner of system-wide settings.
pub const SYSTEM: OwnerId = OwnerId(0);

/// Decimals printed when `Nice_Number_Digits` is unset or unreadable (MOR's default).
pub const DEFAULT_NICE_NUMBER_DIGITS: u32 = 4;
/// The most decimals printed: more than the 15 stored would invent digits.
pub const MAX_NICE_NUMBER_DIGITS: u32 = 15;

/// Whether setting `name` of `owner` is on (its value is `1`).
pub fn is_enabled(
    directory: &dyn Directory,
    name: &str,
    owner: OwnerId,
) -> Result<bool, StoreError> {
    Ok(directory
        .setting(name, owner)?
        .is_some_and(|value| value.trim() == "1"))
}

/// The decimals to print, from `Nice_Number_Digits` of owner 0.
pub fn nice_number_digits(directory: &dyn Directory) -> Result<u32, StoreError> {
    let digits = directory
        .setting(NICE_NUMBER_DIGITS, SYSTEM)?
        .and_then(|value| value.trim().parse::<u32>().ok())
        .map_or(DEFAULT_NICE_NUMBER_DIGITS, |digits| {
            digits.min(MAX_NICE_NUMBER_DIGITS)
        });
    Ok(digits)
}
