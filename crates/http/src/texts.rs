//! The one place where outcomes become the spec's texts (§6).

use morcc_domain::{CcError, FilterError};

/// `Failed to make transaction`: every failure of storage or data.
pub const TRANSACTION_FAILED: &str = "Failed to make transaction";

/// The text of a filter error.
pub fn filter_error(error: &FilterError) -> &'static str {
    match error {
        FilterError::BadLogin => "Bad login",
        FilterError::ApiDisabled => "API Requests are disabled",
        FilterError::GetDisabled => "GET Requests are disabled",
        FilterError::SecretKeyMissing => "API must have Secret Key",
        FilterError::IncorrectHash => "Incorrect hash",
        FilterError::AccessDenied => "Access Denied",
        FilterError::Storage(_) => TRANSACTION_FAILED,
    }
}

/// The text of an action error.
pub fn action_error(error: &CcError) -> &'static str {
    match error {
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
        CcError::CodesExhausted | CcError::Inconsistent(_) | CcError::Storage(_) => TRANSACTION_FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use morcc_domain::StoreError;

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
            assert_eq!(filter_error(&error), text);
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
            assert_eq!(action_error(&error), text);
        }
    }
}
