//! The outcomes of a request that are not a success, one variant per text of spec §6, and the
//! storage failures the ports report.

/// A storage failure, as far as the domain needs to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A unique key refused an insert (a card number or PIN already taken).
    #[error("duplicate key")]
    Duplicate,
    /// The transaction lost a race (deadlock, lock wait timeout, busy database): running it
    /// again may succeed.
    #[error("transaction conflict: {0}")]
    Conflict(String),
    /// The database could not be reached or answered with an error.
    #[error("storage failure: {0}")]
    Failure(String),
    /// A write was attempted through the ledger of a look-up ([`Store::run_look_up`](crate::Store::run_look_up)): the work needs a
    /// transaction after all.
    #[error("a write needs a transaction")]
    ReadOnly,
}

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

/// `Failed to make transaction`: every failure of storage or data (spec §6).
pub const TRANSACTION_FAILED: &str = "Failed to make transaction";

impl FilterError {
    /// Whether the failure looks like probing and is recorded for the operator (spec §3).
    pub fn is_probe(&self) -> bool {
        matches!(self, FilterError::BadLogin | FilterError::IncorrectHash)
    }

    /// The text of spec §6 the client is answered with.
    pub fn text(&self) -> &'static str {
        match self {
            FilterError::BadLogin => "Bad login",
            FilterError::ApiDisabled => "API Requests are disabled",
            FilterError::GetDisabled => "GET Requests are disabled",
            FilterError::SecretKeyMissing => "API must have Secret Key",
            FilterError::IncorrectHash => "Incorrect hash",
            FilterError::AccessDenied => "Access Denied",
            FilterError::Storage(_) => TRANSACTION_FAILED,
        }
    }
}

impl CcError {
    /// The text of spec §6 the client is answered with.
    pub fn text(&self) -> &'static str {
        match self {
            CcError::CallerIdRequired => "Callerid must be specified",
            CcError::InvalidAmount => "Invalid amount",
            CcError::CallerIdBelongsToProvider => "Callerid belongs to provider",
            CcError::DeviceNotOwned => {
                "Device allready have such callerid, but you do not have permission to change user's balance"
            }
            CcError::InvalidCardGroup => "Supplied Cardgroup_id is invalid",
            CcError::CardNotFound => "Card was not found",
            CcError::CardNotOwned => "You do not have permission to access card",
            CcError::PinNotFound => "PIN number not found",
            CcError::PinBalanceZero => "PIN number balance is zero",
            CcError::CardAlreadySold => "Cannot sell already sold card",
            CcError::CodesExhausted | CcError::Inconsistent(_) | CcError::Storage(_) => {
                TRANSACTION_FAILED
            }
        }
    }

    /// Whether the request failed for a reason of the service's, not the client's (answered
    /// `Failed to make transaction`): the operator needs its cause in the log.
    pub fn is_service_failure(&self) -> bool {
        matches!(
            self,
            CcError::CodesExhausted | CcError::Inconsistent(_) | CcError::Storage(_)
        )
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

/// Why one of the card calls (card_calls.md) did not succeed. Each call answers these in its
/// own action envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardCallError {
    /// `Cardgroup was not found`.
    #[error("card group not found, not owned or hidden")]
    CardGroupNotFound,
    /// `Free cards was not found`.
    #[error("no free card")]
    FreeCardsNotFound,
    /// `Card is already sold`.
    #[error("card is already sold")]
    CardAlreadySold,
    /// `Calling Card was not found`.
    #[error("calling card not found")]
    CallingCardNotFound,
    /// `You are not authorized to use this functionality`.
    #[error("the user type may not check cards by number")]
    NotAuthorized,
    /// `Feature Disabled`: payments over the API are off.
    #[error("payments over the API are disabled")]
    FeatureDisabled,
    /// `Access Denied`, from inside `card_payment_add`.
    #[error("access denied")]
    AccessDenied,
    /// `Currency was not found`.
    #[error("currency not found")]
    CurrencyNotFound,
    /// `Currency disabled`.
    #[error("currency disabled")]
    CurrencyDisabled,
    /// `Invalid amount`.
    #[error("invalid amount")]
    InvalidAmount,
    /// `Failed to make transaction`: the data breaks an assumption.
    #[error("inconsistent data: {0}")]
    Inconsistent(&'static str),
    /// `Failed to make transaction`: the storage failed.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

impl CardCallError {
    /// The text of card_calls.md §6 the client is answered with.
    pub fn text(&self) -> &'static str {
        match self {
            CardCallError::CardGroupNotFound => "Cardgroup was not found",
            CardCallError::FreeCardsNotFound => "Free cards was not found",
            CardCallError::CardAlreadySold => "Card is already sold",
            CardCallError::CallingCardNotFound => "Calling Card was not found",
            CardCallError::NotAuthorized => "You are not authorized to use this functionality",
            CardCallError::FeatureDisabled => "Feature Disabled",
            CardCallError::AccessDenied => "Access Denied",
            CardCallError::CurrencyNotFound => "Currency was not found",
            CardCallError::CurrencyDisabled => "Currency disabled",
            CardCallError::InvalidAmount => "Invalid amount",
            CardCallError::Inconsistent(_) | CardCallError::Storage(_) => TRANSACTION_FAILED,
        }
    }

    /// Whether the request failed for a reason of the service's (see
    /// [`CcError::is_service_failure`]).
    pub fn is_service_failure(&self) -> bool {
        matches!(
            self,
            CardCallError::Inconsistent(_) | CardCallError::Storage(_)
        )
    }
}

/// Reference data that cannot price anything (a tax row at -100 % or below, no usable system
/// currency), or the storage that failed to read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The data breaks an assumption.
    #[error("inconsistent data: {0}")]
    Inconsistent(&'static str),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// A [`ReferenceError`] as the same outcome of a call: `Inconsistent` or `Storage`.
macro_rules! from_reference_error {
    ($($outcome:ident),+) => {$(
        impl From<ReferenceError> for $outcome {
            fn from(error: ReferenceError) -> $outcome {
                match error {
                    ReferenceError::Inconsistent(why) => $outcome::Inconsistent(why),
                    ReferenceError::Storage(error) => $outcome::Storage(error),
                }
            }
        }
    )+};
}

from_reference_error!(CcError, CardCallError);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant with the text spec §6 gives it.
    #[test]
    fn every_outcome_has_the_spec_s_text() {
        let filters = [
            (FilterError::BadLogin, "Bad login"),
            (FilterError::ApiDisabled, "API Requests are disabled"),
            (FilterError::GetDisabled, "GET Requests are disabled"),
            (FilterError::SecretKeyMissing, "API must have Secret Key"),
            (FilterError::IncorrectHash, "Incorrect hash"),
            (FilterError::AccessDenied, "Access Denied"),
            (
                FilterError::Storage(StoreError::Failure("down".into())),
                "Failed to make transaction",
            ),
        ];
        for (error, text) in filters {
            assert_eq!(error.text(), text);
        }
        let actions = [
            (CcError::CallerIdRequired, "Callerid must be specified"),
            (CcError::InvalidAmount, "Invalid amount"),
            (CcError::CallerIdBelongsToProvider, "Callerid belongs to provider"),
            (
                CcError::DeviceNotOwned,
                "Device allready have such callerid, but you do not have permission to change user's balance",
            ),
            (CcError::InvalidCardGroup, "Supplied Cardgroup_id is invalid"),
            (CcError::CardNotFound, "Card was not found"),
            (CcError::CardNotOwned, "You do not have permission to access card"),
            (CcError::PinNotFound, "PIN number not found"),
            (CcError::PinBalanceZero, "PIN number balance is zero"),
            (CcError::CardAlreadySold, "Cannot sell already sold card"),
            (CcError::CodesExhausted, "Failed to make transaction"),
            (CcError::Inconsistent("x"), "Failed to make transaction"),
            (CcError::Storage(StoreError::Conflict("deadlock".into())), "Failed to make transaction"),
        ];
        for (error, text) in actions {
            assert_eq!(
                error.is_service_failure(),
                text == TRANSACTION_FAILED,
                "{error:?}"
            );
            assert_eq!(error.text(), text);
        }
        let card_calls = [
            (CardCallError::CardGroupNotFound, "Cardgroup was not found"),
            (CardCallError::FreeCardsNotFound, "Free cards was not found"),
            (CardCallError::CardAlreadySold, "Card is already sold"),
            (
                CardCallError::CallingCardNotFound,
                "Calling Card was not found",
            ),
            (
                CardCallError::NotAuthorized,
                "You are not authorized to use this functionality",
            ),
            (CardCallError::FeatureDisabled, "Feature Disabled"),
            (CardCallError::AccessDenied, "Access Denied"),
            (CardCallError::CurrencyNotFound, "Currency was not found"),
            (CardCallError::CurrencyDisabled, "Currency disabled"),
            (CardCallError::InvalidAmount, "Invalid amount"),
            (
                CardCallError::Inconsistent("x"),
                "Failed to make transaction",
            ),
            (
                CardCallError::Storage(StoreError::Failure("down".into())),
                "Failed to make transaction",
            ),
        ];
        for (error, text) in card_calls {
            assert_eq!(
                error.is_service_failure(),
                text == TRANSACTION_FAILED,
                "{error:?}"
            );
            assert_eq!(error.text(), text);
        }
    }
}
