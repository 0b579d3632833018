//! The outcomes of a request that are not a success, one variant per text of spec §6.

use crate::ports::StoreError;

/// Why the filters (spec §3) turned a request away. Replied as `<status><error>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// `Bad login`: unknown user, wrong password, or blocked.
    #[error("bad login")]
    BadLogin,
    /// `API Requests are disabled`.
    #[error("API requests are disabled")]
    ApiDisabled,
    /// `GET Requests are disabled`.
    #[error("GET requests are disabled")]
    GetDisabled,
    /// `API must have Secret Key`.
    #[error("no API secret key is set")]
    SecretKeyMissing,
    /// `Incorrect hash`.
    #[error("incorrect hash")]
    IncorrectHash,
    /// `Access Denied`: the user type may not use the call.
    #[error("access denied")]
    AccessDenied,
    /// The settings or users could not be read (`Failed to make transaction`).
    #[error(transparent)]
    Storage(#[from] StoreError),
}

impl FilterError {
    /// Whether the failure looks like probing and is recorded for the operator (spec §3).
    pub fn is_probe(&self) -> bool {
        matches!(self, FilterError::BadLogin | FilterError::IncorrectHash)
    }
}

/// Why the call itself (spec §4) did not succeed. Replied as `<page><error>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CcError {
    /// `Callerid must be specified`.
    #[error("callerid must be specified")]
    CallerIdRequired,
    /// `Invalid amount`.
    #[error("invalid amount")]
    InvalidAmount,
    /// `Callerid belongs to provider`.
    #[error("callerid belongs to a provider")]
    CallerIdBelongsToProvider,
    /// `Device allready have such callerid, but you do not have permission to change user's balance`.
    #[error("the device's user is not owned by the caller")]
    DeviceNotOwned,
    /// `Supplied Cardgroup_id is invalid`.
    #[error("card group is missing, unknown or not owned")]
    InvalidCardGroup,
    /// `Card was not found`.
    #[error("card was not found")]
    CardNotFound,
    /// `You do not have permission to access card`.
    #[error("the card is not owned by the caller")]
    CardNotOwned,
    /// `PIN number not found`.
    #[error("PIN not found")]
    PinNotFound,
    /// `PIN number balance is zero`.
    #[error("balance to transfer is zero")]
    PinBalanceZero,
    /// `Cannot sell already sold card`.
    #[error("card is already sold")]
    CardAlreadySold,
    /// `Failed to make transaction`: no free card number or PIN was found.
    #[error("no free card number or PIN")]
    CodesExhausted,
    /// `Failed to make transaction`: the data breaks an assumption (no system currency, a
    /// currency whose rate cannot be divided by).
    #[error("inconsistent data: {0}")]
    Inconsistent(&'static str),
    /// `Failed to make transaction`: the storage failed.
    #[error(transparent)]
    Storage(#[from] StoreError),
}
