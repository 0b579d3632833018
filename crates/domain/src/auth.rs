//! The filters every request passes before the call runs (spec §3), in the spec's order.

use crate::account::{Account, Caller, UserType};
use crate::api::ApiCall;
use crate::codes::MAX_CODE_LENGTH;
use crate::error::FilterError;
use crate::hash::{constant_time_eq, sha1_hex, HashedParams};
use crate::ids::OwnerId;
use crate::ports::{AuditLog, Directory, FailedAttempt};
use crate::settings::{self, SYSTEM};

/// The HTTP method, as far as the filters care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET: served only when `Allow_GET_API` is on.
    Get,
    /// POST: always served.
    Post,
}

/// What the filters read from a request.
#[derive(Clone)]
pub struct Credentials<'a> {
    /// The call asked for.
    pub call: ApiCall,
    /// `u`.
    pub username: Option<&'a str>,
    /// `p`.
    pub password: Option<&'a str>,
    /// `hash`.
    pub hash: Option<&'a str>,
    /// The parameters the hash covers.
    pub hashed: HashedParams<'a>,
    /// The request's method.
    pub method: Method,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("call", &self.call)
            .field("username", &self.username)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Where a request came from, for the audit record of a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The client's address.
    pub remote_address: String,
    /// The request path with secrets removed.
    pub target: String,
}

/// Runs the filters of spec §3 in order and returns the authenticated caller. A failed login
/// or hash is recorded in `audit` before the error is returned.
pub fn authenticate(
    directory: &dyn Directory,
    audit: &dyn AuditLog,
    credentials: &Credentials<'_>,
    origin: &Origin,
) -> Result<Caller, FilterError> {
    let outcome = run_filters(directory, credentials);
    if let Err(error) = &outcome {
        if error.is_probe() {
            audit.record_failure(&FailedAttempt {
                username: credentials.username.unwrap_or_default().to_owned(),
                remote_address: origin.remote_address.clone(),
                reason: error.text().to_owned(),
                target: origin.target.clone(),
            });
        }
    }
    outcome
}

fn run_filters(
    directory: &dyn Directory,
    credentials: &Credentials<'_>,
) -> Result<Caller, FilterError> {
    let account = log_in(directory, credentials)?;
    let owner = account.owner();
    let is_reseller = account.usertype == UserType::Reseller;

    // A reseller may lean on the admin's switch, and with it on the admin's key (steps 2, 4).
    let admin_fallback =
        is_reseller && settings::is_enabled(directory, settings::ALLOW_API, SYSTEM)?;
    let api_allowed =
        admin_fallback || settings::is_enabled(directory, settings::ALLOW_API, owner)?;
    if !api_allowed {
        return Err(FilterError::ApiDisabled);
    }
    if credentials.method == Method::Get
        && !settings::is_enabled(directory, settings::ALLOW_GET_API, SYSTEM)?
    {
        return Err(FilterError::GetDisabled);
    }
    if !settings::is_enabled(directory, settings::API_DISABLE_HASH_CHECKING, owner)? {
        check_hash(directory, credentials, owner, admin_fallback)?;
    }
    if !credentials.call.admits(&account.usertype) {
        return Err(FilterError::AccessDenied);
    }
    Ok(Caller {
        id: account.id,
        owner,
        usertype: account.usertype,
    })
}

/// Step 1: a user with this username and password that is not blocked.
fn log_in(
    directory: &dyn Directory,
    credentials: &Credentials<'_>,
) -> Result<Account, FilterError> {
    let (Some(username), Some(password)) = (credentials.username, credentials.password) else {
        return Err(FilterError::BadLogin);
    };
    // No `users.username` is wider than its column: such a name is not worth a look-up.
    if username.is_empty() || password.is_empty() || username.chars().count() > MAX_CODE_LENGTH {
        return Err(FilterError::BadLogin);
    }
    let account = directory.account_by_username(username)?;
    let supplied = sha1_hex(password);
    // Compare even when there is no such user, so the answer takes as long either way.
    let stored = account
        .as_ref()
        .map_or("", |account| account.password_sha1.as_str());
    let password_matches = constant_time_eq(&supplied, &stored.to_ascii_lowercase());
    match account {
        Some(account) if password_matches && !account.blocked => Ok(account),
        _ => Err(FilterError::BadLogin),
    }
}

/// Step 4: the hash, with the owner's key or, when `admin_fallback` (a reseller while the
/// admin's `Allow_API` is 1), also with the admin's.
fn check_hash(
    directory: &dyn Directory,
    credentials: &Credentials<'_>,
    owner: OwnerId,
    admin_fallback: bool,
) -> Result<(), FilterError> {
    let secret_key = |owner| -> Result<Option<String>, FilterError> {
        Ok(directory
            .setting(settings::API_SECRET_KEY, owner)?
            .filter(|key| !key.is_empty()))
    };
    let mut keys = vec![secret_key(owner)?];
    if admin_fallback {
        keys.push(secret_key(SYSTEM)?);
    }
    let keys: Vec<String> = keys.into_iter().flatten().collect();
    if keys.is_empty() {
        return Err(FilterError::SecretKeyMissing);
    }
    let supplied = credentials.hash.unwrap_or_default();
    // Check every key, without stopping at the first match, to keep the timing flat.
    let matches = keys.iter().fold(false, |matched, key| {
        credentials.hashed.verify(key, supplied) | matched
    });
    if matches {
        Ok(())
    } else {
        Err(FilterError::IncorrectHash)
    }
}
