//! Spec §3: the filters, in order, and the audit of failed logins and hashes.

use morcc_domain::ports::MockDirectory;
use morcc_domain::{
    authenticate, Account, ApiCall, Caller, Credentials, FailedAttempt, FilterError, HashedParams,
    Method, Origin, OwnerId, StoreError, UserId, UserType,
};

use crate::support::*;

/// The spec's first example: cardgroup_id=1, callerid=4444, amount=100, key `secret`.
fn params() -> HashedParams<'static> {
    HashedParams::cc_by_cli(None, Some("100"), Some("4444"), Some("1"))
}
const SPEC_HASH: &str = "c30c6ca5d3f0e1376203f74ea0b2a3a89993fe33";
const RESELLER: i64 = 5;

fn accounts() -> Vec<Account> {
    let mut customer = account(20, "customer", "user", "customerpw");
    customer.owner_id = OwnerId(RESELLER);
    let mut blocked = account(21, "blocked", "admin", "blockedpw");
    blocked.blocked = true;
    vec![
        account(1, "admin", "admin", "adminpw"),
        account(2, "accountant", "accountant", "accountantpw"),
        account(RESELLER, "reseller", "reseller", "resellerpw"),
        customer,
        blocked,
        account(22, "partner", "partner", "partnerpw"),
    ]
}

/// The admin allows the API and signs with `secret`.
const ADMIN_SETTINGS: [(&str, i64, &str); 2] =
    [("Allow_API", 0, "1"), ("API_Secret_Key", 0, "secret")];

fn admin_directory() -> MockDirectory {
    directory(accounts(), &ADMIN_SETTINGS)
}

fn post<'a>(username: &'a str, password: &'a str, hash: Option<&'a str>) -> Credentials<'a> {
    Credentials {
        call: ApiCall::CcByCli,
        username: Some(username),
        password: Some(password),
        hash,
        hashed: params(),
        method: Method::Post,
    }
}

fn origin() -> Origin {
    Origin {
        remote_address: "203.0.113.9".into(),
        target: "/api/cc_by_cli?u=admin&callerid=4444".into(),
    }
}

/// Runs the filters; returns the outcome and what the audit log received.
fn filter(
    directory: &MockDirectory,
    credentials: &Credentials<'_>,
) -> (Result<Caller, FilterError>, Vec<FailedAttempt>) {
    let (audit, recorded) = audit_log();
    let outcome = authenticate(directory, &audit, credentials, &origin());
    let recorded = recorded.lock().unwrap().clone();
    (outcome, recorded)
}

fn attempt(username: &str, reason: &str) -> FailedAttempt {
    FailedAttempt {
        username: username.into(),
        remote_address: "203.0.113.9".into(),
        reason: reason.into(),
        target: "/api/cc_by_cli?u=admin&callerid=4444".into(),
    }
}

// Who gets in.

#[test]
fn an_admin_with_the_right_password_and_the_spec_hash_acts_for_owner_zero() {
    let (outcome, recorded) = filter(
        &admin_directory(),
        &post("admin", "adminpw", Some(SPEC_HASH)),
    );
    assert_eq!(
        outcome,
        Ok(Caller {
            id: UserId(1),
            owner: OwnerId(0),
            usertype: UserType::Admin,
        })
    );
    assert!(recorded.is_empty());
}

#[test]
fn the_spec_s_second_hash_example_with_a_pin_is_accepted() {
    let credentials = Credentials {
        hashed: HashedParams::cc_by_cli(Some("222"), Some("50"), Some("7777"), Some("1")),
        ..post(
            "admin",
            "adminpw",
            Some("706362c196bf05072e6bd43deb91c6ab71ed2cad"),
        )
    };
    assert!(filter(&admin_directory(), &credentials).0.is_ok());
}

#[test]
fn a_hash_in_upper_case_is_accepted() {
    let upper = SPEC_HASH.to_ascii_uppercase();
    assert!(
        filter(&admin_directory(), &post("admin", "adminpw", Some(&upper)))
            .0
            .is_ok()
    );
}

#[test]
fn an_accountant_acts_for_owner_zero() {
    let (outcome, _) = filter(
        &admin_directory(),
        &post("accountant", "accountantpw", Some(SPEC_HASH)),
    );
    assert_eq!(outcome.map(|caller| caller.owner), Ok(OwnerId(0)));
}

#[test]
fn a_reseller_acts_for_itself_with_its_own_settings_and_key() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("API_Secret_Key", RESELLER, "mine"),
        ],
    );
    let hash = params().mor_hash("mine");
    let (outcome, _) = filter(&directory, &post("reseller", "resellerpw", Some(&hash)));
    assert_eq!(
        outcome,
        Ok(Caller {
            id: UserId(RESELLER),
            owner: OwnerId(RESELLER),
            usertype: UserType::Reseller,
        })
    );
}

#[test]
fn a_stored_password_hash_in_upper_case_still_matches() {
    let mut accounts = accounts();
    accounts[0].password_sha1 = accounts[0].password_sha1.to_ascii_uppercase();
    let directory = directory(accounts, &ADMIN_SETTINGS);
    assert!(
        filter(&directory, &post("admin", "adminpw", Some(SPEC_HASH)))
            .0
            .is_ok()
    );
}

// 1. Bad login, recorded once, without secrets.

#[test]
fn an_unknown_user_is_a_bad_login_recorded_once() {
    let (outcome, recorded) = filter(
        &admin_directory(),
        &post("nobody", "adminpw", Some(SPEC_HASH)),
    );
    assert_eq!(outcome, Err(FilterError::BadLogin));
    assert_eq!(recorded, vec![attempt("nobody", "Bad login")]);
}

#[test]
fn a_wrong_password_is_a_bad_login_recorded_without_the_password_or_the_hash() {
    let (outcome, recorded) = filter(
        &admin_directory(),
        &post("admin", "Guessed-Pa55", Some(SPEC_HASH)),
    );
    assert_eq!(outcome, Err(FilterError::BadLogin));
    assert_eq!(recorded, vec![attempt("admin", "Bad login")]);
    let shown = format!("{recorded:?}");
    assert!(!shown.contains("Guessed-Pa55"), "{shown}");
    assert!(!shown.contains(SPEC_HASH), "{shown}");
    assert!(!shown.contains("secret"), "{shown}");
}

#[test]
fn a_blocked_user_with_the_right_password_is_a_bad_login() {
    let (outcome, recorded) = filter(
        &admin_directory(),
        &post("blocked", "blockedpw", Some(SPEC_HASH)),
    );
    assert_eq!(outcome, Err(FilterError::BadLogin));
    assert_eq!(recorded, vec![attempt("blocked", "Bad login")]);
}

#[test]
fn a_missing_username_or_password_is_a_bad_login_without_a_look_up() {
    // The directory answers nothing: a look-up would panic.
    let directory = MockDirectory::new();
    for (username, password) in [
        (None, Some("adminpw")),
        (Some("admin"), None),
        (Some("admin"), Some("")),
        (Some(""), Some("adminpw")),
        (None, None),
    ] {
        let credentials = Credentials {
            username,
            password,
            ..post("", "", Some(SPEC_HASH))
        };
        let (outcome, recorded) = filter(&directory, &credentials);
        assert_eq!(
            outcome,
            Err(FilterError::BadLogin),
            "{username:?} {password:?}"
        );
        assert_eq!(
            recorded,
            vec![attempt(username.unwrap_or_default(), "Bad login")]
        );
    }
}

#[test]
fn a_bad_login_comes_before_every_other_check() {
    // Nothing is allowed and there is no key, yet the answer is Bad login.
    let directory = directory(accounts(), &[]);
    let (outcome, _) = filter(&directory, &post("admin", "wrong", None));
    assert_eq!(outcome, Err(FilterError::BadLogin));
}

// 2. Allow_API.

#[test]
fn api_requests_are_disabled_unless_allow_api_is_1_and_that_is_not_recorded() {
    for settings in [
        vec![("API_Secret_Key", 0, "secret")],
        vec![("Allow_API", 0, "0"), ("API_Secret_Key", 0, "secret")],
        vec![("Allow_API", 0, "yes"), ("API_Secret_Key", 0, "secret")],
    ] {
        let directory = directory(accounts(), &settings);
        // A wrong hash too: the API check comes first.
        let (outcome, recorded) = filter(&directory, &post("admin", "adminpw", Some("bad")));
        assert_eq!(outcome, Err(FilterError::ApiDisabled), "{settings:?}");
        assert!(recorded.is_empty());
    }
}

#[test]
fn a_reseller_passes_on_the_admins_allow_api() {
    let directory = directory(
        accounts(),
        &[("Allow_API", 0, "1"), ("API_Secret_Key", RESELLER, "mine")],
    );
    let hash = params().mor_hash("mine");
    assert!(
        filter(&directory, &post("reseller", "resellerpw", Some(&hash)))
            .0
            .is_ok()
    );
}

#[test]
fn a_reseller_without_any_allow_api_is_refused() {
    let directory = directory(accounts(), &[("API_Secret_Key", RESELLER, "mine")]);
    let hash = params().mor_hash("mine");
    assert_eq!(
        filter(&directory, &post("reseller", "resellerpw", Some(&hash))).0,
        Err(FilterError::ApiDisabled)
    );
}

#[test]
fn only_a_reseller_falls_back_to_the_admins_allow_api() {
    // The customer belongs to the reseller, whose Allow_API is off.
    let directory = directory(
        accounts(),
        &[("Allow_API", 0, "1"), ("API_Secret_Key", RESELLER, "mine")],
    );
    let hash = params().mor_hash("mine");
    assert_eq!(
        filter(&directory, &post("customer", "customerpw", Some(&hash))).0,
        Err(FilterError::ApiDisabled)
    );
}

// 3. GET.

#[test]
fn get_requests_are_disabled_unless_allow_get_api_is_1() {
    let credentials = Credentials {
        method: Method::Get,
        ..post("admin", "adminpw", Some("wrong"))
    };
    let (outcome, recorded) = filter(&admin_directory(), &credentials);
    assert_eq!(outcome, Err(FilterError::GetDisabled));
    assert!(recorded.is_empty());
}

#[test]
fn get_requests_pass_when_the_admin_allows_them() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", 0, "1"),
            ("API_Secret_Key", 0, "secret"),
            ("Allow_GET_API", 0, "1"),
        ],
    );
    let credentials = Credentials {
        method: Method::Get,
        ..post("admin", "adminpw", Some(SPEC_HASH))
    };
    assert!(filter(&directory, &credentials).0.is_ok());
}

#[test]
fn a_resellers_own_allow_get_api_does_not_allow_get() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("API_Secret_Key", RESELLER, "mine"),
            ("Allow_GET_API", RESELLER, "1"),
        ],
    );
    let hash = params().mor_hash("mine");
    let credentials = Credentials {
        method: Method::Get,
        ..post("reseller", "resellerpw", Some(&hash))
    };
    assert_eq!(
        filter(&directory, &credentials).0,
        Err(FilterError::GetDisabled)
    );
}

// 4. The secret key and the hash.

#[test]
fn without_a_secret_key_the_api_must_have_one_and_that_is_not_recorded() {
    for settings in [
        vec![("Allow_API", 0, "1")],
        vec![("Allow_API", 0, "1"), ("API_Secret_Key", 0, "")],
    ] {
        let directory = directory(accounts(), &settings);
        let (outcome, recorded) = filter(&directory, &post("admin", "adminpw", Some(SPEC_HASH)));
        assert_eq!(outcome, Err(FilterError::SecretKeyMissing), "{settings:?}");
        assert!(recorded.is_empty());
    }
}

#[test]
fn a_wrong_hash_is_incorrect_and_recorded_once_without_the_hash() {
    let wrong = params().mor_hash("guess");
    let (outcome, recorded) = filter(&admin_directory(), &post("admin", "adminpw", Some(&wrong)));
    assert_eq!(outcome, Err(FilterError::IncorrectHash));
    assert_eq!(recorded, vec![attempt("admin", "Incorrect hash")]);
    let shown = format!("{recorded:?}");
    assert!(!shown.contains(&wrong), "{shown}");
    assert!(!shown.contains("adminpw"), "{shown}");
}

#[test]
fn a_missing_hash_is_incorrect() {
    let (outcome, recorded) = filter(&admin_directory(), &post("admin", "adminpw", None));
    assert_eq!(outcome, Err(FilterError::IncorrectHash));
    assert_eq!(recorded.len(), 1);
}

#[test]
fn a_hash_of_other_parameters_is_incorrect() {
    let credentials = Credentials {
        hashed: HashedParams::cc_by_cli(None, Some("1000"), Some("4444"), Some("1")),
        ..post("admin", "adminpw", Some(SPEC_HASH))
    };
    assert_eq!(
        filter(&admin_directory(), &credentials).0,
        Err(FilterError::IncorrectHash)
    );
}

#[test]
fn a_reseller_passes_with_a_hash_made_with_the_admins_key_while_the_admin_allows_the_api() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("Allow_API", 0, "1"),
            ("API_Secret_Key", RESELLER, "mine"),
            ("API_Secret_Key", 0, "secret"),
        ],
    );
    let (outcome, recorded) = filter(&directory, &post("reseller", "resellerpw", Some(SPEC_HASH)));
    assert_eq!(outcome.map(|caller| caller.owner), Ok(OwnerId(RESELLER)));
    assert!(recorded.is_empty());
}

#[test]
fn a_reseller_may_not_use_the_admins_key_while_the_admins_api_is_off() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("Allow_API", 0, "0"),
            ("API_Secret_Key", RESELLER, "mine"),
            ("API_Secret_Key", 0, "secret"),
        ],
    );
    assert_eq!(
        filter(&directory, &post("reseller", "resellerpw", Some(SPEC_HASH))).0,
        Err(FilterError::IncorrectHash)
    );
    let own = params().mor_hash("mine");
    assert!(
        filter(&directory, &post("reseller", "resellerpw", Some(&own)))
            .0
            .is_ok()
    );
}

#[test]
fn a_reseller_without_a_key_and_without_the_admins_fallback_must_have_a_secret_key() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("API_Secret_Key", 0, "secret"),
        ],
    );
    assert_eq!(
        filter(&directory, &post("reseller", "resellerpw", Some(SPEC_HASH))).0,
        Err(FilterError::SecretKeyMissing)
    );
}

#[test]
fn an_admin_does_not_pass_with_a_resellers_key() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", 0, "1"),
            ("API_Secret_Key", 0, "secret"),
            ("API_Secret_Key", RESELLER, "mine"),
        ],
    );
    let hash = params().mor_hash("mine");
    assert_eq!(
        filter(&directory, &post("admin", "adminpw", Some(&hash))).0,
        Err(FilterError::IncorrectHash)
    );
}

#[test]
fn disabled_hash_checking_needs_neither_a_key_nor_a_hash() {
    let directory = directory(
        accounts(),
        &[("Allow_API", 0, "1"), ("API_Disable_hash_checking", 0, "1")],
    );
    let (outcome, recorded) = filter(&directory, &post("admin", "adminpw", Some("anything")));
    assert!(outcome.is_ok());
    assert!(recorded.is_empty());
    assert!(filter(&directory, &post("admin", "adminpw", None))
        .0
        .is_ok());
}

#[test]
fn the_admins_disabled_hash_checking_does_not_excuse_a_reseller() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("API_Disable_hash_checking", 0, "1"),
            ("API_Secret_Key", RESELLER, "mine"),
        ],
    );
    assert_eq!(
        filter(
            &directory,
            &post("reseller", "resellerpw", Some("anything"))
        )
        .0,
        Err(FilterError::IncorrectHash)
    );
}

// 5. Permission.

#[test]
fn a_user_of_type_user_is_denied_access_and_that_is_not_recorded() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("API_Secret_Key", RESELLER, "mine"),
        ],
    );
    let hash = params().mor_hash("mine");
    let (outcome, recorded) = filter(&directory, &post("customer", "customerpw", Some(&hash)));
    assert_eq!(outcome, Err(FilterError::AccessDenied));
    assert!(recorded.is_empty());
}

#[test]
fn any_other_user_type_is_denied_access() {
    let (outcome, _) = filter(
        &admin_directory(),
        &post("partner", "partnerpw", Some(SPEC_HASH)),
    );
    assert_eq!(outcome, Err(FilterError::AccessDenied));
}

#[test]
fn the_hash_is_checked_before_the_permission() {
    let directory = directory(
        accounts(),
        &[
            ("Allow_API", RESELLER, "1"),
            ("API_Secret_Key", RESELLER, "mine"),
        ],
    );
    let (outcome, recorded) = filter(&directory, &post("customer", "customerpw", Some("x")));
    assert_eq!(outcome, Err(FilterError::IncorrectHash));
    assert_eq!(recorded.len(), 1);
}

// Storage and secrets.

#[test]
fn a_directory_failure_is_a_storage_error_and_not_recorded() {
    let mut directory = MockDirectory::new();
    directory
        .expect_account_by_username()
        .returning(|_| Err(StoreError::Failure("down".into())));
    let (outcome, recorded) = filter(&directory, &post("admin", "adminpw", Some(SPEC_HASH)));
    assert_eq!(
        outcome,
        Err(FilterError::Storage(StoreError::Failure("down".into())))
    );
    assert!(recorded.is_empty());
}

#[test]
fn the_debug_form_of_credentials_shows_neither_password_nor_hash() {
    let shown = format!("{:?}", post("admin", "Sup3r-Secret", Some(SPEC_HASH)));
    assert!(shown.contains("admin"));
    assert!(!shown.contains("Sup3r-Secret"), "{shown}");
    assert!(!shown.contains(SPEC_HASH), "{shown}");
}
