//! card_calls.md §1: the filters of the four card calls: each hashes its own parameters (the
//! table's examples), and only `card_group_get` and `card_from_group_sell` turn a `user` away.

use morcc_domain::ports::MockDirectory;
use morcc_domain::{
    authenticate, Account, ApiCall, Caller, Credentials, FilterError, HashedParams, Method, Origin,
    UserType,
};

use crate::support::*;

/// A call, the parameters a request sent to it and the hash they make with the key `secret`.
type Example = (
    ApiCall,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// The examples of card_calls.md §1 (key `secret`), with parameters that are not hashed sent
/// as well (`number` to the sale, `id` to the balance).
const EXAMPLES: [Example; 6] = [
    (
        ApiCall::CardGroupGet,
        &[("id", "1")],
        "bc2f114099d16656d37e45fd9e8744cb9386d462",
    ),
    (
        ApiCall::CardFromGroupSell,
        &[
            ("email", "test@test.lt"),
            ("id", "1"),
            ("quantity", "1"),
            ("number", "1111111000"),
        ],
        "be191f49ac6cf3004a89de3498a1275a7d15df03",
    ),
    (
        ApiCall::CardFromGroupSell,
        &[("id", "3"), ("quantity", "2")],
        "1a9ce54d9d4c3129b35270f5842430ab3345dd71",
    ),
    (
        ApiCall::CardBalanceGet,
        &[("number", "1111111000"), ("id", "7")],
        "0540cea252d6367fb32737b0cd22c0822330ec41",
    ),
    (
        ApiCall::CardPaymentAdd,
        &[
            ("description", "refill"),
            ("number", "1111111001"),
            ("amount", "5"),
            ("currency", "EUR"),
        ],
        "7ff6257c767cfb9b9cbde4e4f70a2d515e8e135f",
    ),
    (
        ApiCall::CardPaymentAdd,
        &[("number", "1111111001"), ("amount", "5")],
        "10c52385b238b26d8f3a6ce5c258486f62341cdf",
    ),
];

/// The card calls, for the loops.
const CARD_CALLS: [ApiCall; 4] = [
    ApiCall::CardGroupGet,
    ApiCall::CardFromGroupSell,
    ApiCall::CardBalanceGet,
    ApiCall::CardPaymentAdd,
];

/// The hashed values of `call` in a request that sent `sent`.
fn hashed<'a>(call: ApiCall, sent: &'a [(&'a str, &'a str)]) -> HashedParams<'a> {
    HashedParams::of(call, |name| {
        sent.iter()
            .find(|(sent_name, _)| *sent_name == name)
            .map(|(_, value)| *value)
    })
}

/// The admin, an accountant and a `user` of the admin; the admin allows the API and signs
/// with `secret`.
fn admin_directory() -> MockDirectory {
    let accounts: Vec<Account> = vec![
        account(1, "admin", "admin", "adminpw"),
        account(2, "accountant", "accountant", "accountantpw"),
        account(20, "customer", "user", "customerpw"),
    ];
    directory(
        accounts,
        &[("Allow_API", 0, "1"), ("API_Secret_Key", 0, "secret")],
    )
}

fn credentials<'a>(
    call: ApiCall,
    username: &'a str,
    password: &'a str,
    sent: &'a [(&'a str, &'a str)],
    hash: &'a str,
) -> Credentials<'a> {
    Credentials {
        call,
        username: Some(username),
        password: Some(password),
        hash: Some(hash),
        hashed: hashed(call, sent),
        method: Method::Post,
    }
}

fn filter(credentials: &Credentials<'_>) -> Result<Caller, FilterError> {
    let (audit, _) = audit_log();
    let origin = Origin {
        remote_address: "203.0.113.9".into(),
        target: format!("/api/{}", credentials.call.name()),
    };
    authenticate(&admin_directory(), &audit, credentials, &origin)
}

#[test]
fn each_call_hashes_its_own_parameters_in_the_table_s_order() {
    assert_eq!(ApiCall::CardGroupGet.hashed_parameters(), ["id"]);
    assert_eq!(
        ApiCall::CardFromGroupSell.hashed_parameters(),
        ["email", "id", "quantity"]
    );
    assert_eq!(ApiCall::CardBalanceGet.hashed_parameters(), ["number"]);
    assert_eq!(
        ApiCall::CardPaymentAdd.hashed_parameters(),
        ["description", "number", "amount", "currency"]
    );
}

#[test]
fn the_table_s_examples_hash_as_the_spec_says() {
    for (call, sent, expected) in EXAMPLES {
        assert_eq!(
            hashed(call, sent).mor_hash("secret"),
            expected,
            "{call:?} {sent:?}"
        );
    }
}

#[test]
fn the_table_s_examples_pass_the_filters() {
    for (call, sent, expected) in EXAMPLES {
        let caller = filter(&credentials(call, "admin", "adminpw", sent, expected));
        assert_eq!(
            caller.map(|caller| caller.usertype),
            Ok(UserType::Admin),
            "{call:?} {sent:?}"
        );
    }
}

#[test]
fn the_hash_is_checked_against_the_call_s_own_parameters() {
    // The sale's example hash, sent to the balance call with the same parameters: the balance
    // hashes only `number`, so it does not match.
    let (_, sent, hash) = EXAMPLES[1];
    assert_eq!(
        filter(&credentials(
            ApiCall::CardBalanceGet,
            "admin",
            "adminpw",
            sent,
            hash
        )),
        Err(FilterError::IncorrectHash)
    );
    // A parameter that is not hashed does not change the hash; a hashed one does.
    let sent = [("email", "test@test.lt"), ("id", "1"), ("quantity", "1")];
    assert!(filter(&credentials(
        ApiCall::CardFromGroupSell,
        "admin",
        "adminpw",
        &sent,
        EXAMPLES[1].2
    ))
    .is_ok());
    let sent = [("email", "test@test.lt"), ("id", "1"), ("quantity", "2")];
    assert_eq!(
        filter(&credentials(
            ApiCall::CardFromGroupSell,
            "admin",
            "adminpw",
            &sent,
            EXAMPLES[1].2
        )),
        Err(FilterError::IncorrectHash)
    );
}

#[test]
fn a_user_is_turned_away_by_the_group_calls_but_passes_those_by_card_number() {
    for call in CARD_CALLS {
        let sent = [("id", "1"), ("number", "1111111000")];
        let hash = hashed(call, &sent).mor_hash("secret");
        let outcome = filter(&credentials(call, "customer", "customerpw", &sent, &hash));
        match call {
            ApiCall::CardGroupGet | ApiCall::CardFromGroupSell => {
                assert_eq!(outcome, Err(FilterError::AccessDenied), "{call:?}");
            }
            _ => assert_eq!(
                outcome.map(|caller| caller.usertype),
                Ok(UserType::User),
                "{call:?}"
            ),
        }
    }
}

#[test]
fn an_accountant_passes_the_filters_of_every_card_call() {
    for call in CARD_CALLS {
        let sent = [("id", "1"), ("number", "1111111000")];
        let hash = hashed(call, &sent).mor_hash("secret");
        let outcome = filter(&credentials(
            call,
            "accountant",
            "accountantpw",
            &sent,
            &hash,
        ));
        assert_eq!(
            outcome.map(|caller| caller.usertype),
            Ok(UserType::Accountant),
            "{call:?}"
        );
    }
}

#[test]
fn a_user_s_wrong_hash_is_incorrect_before_any_permission() {
    for call in CARD_CALLS {
        let sent = [("id", "1")];
        assert_eq!(
            filter(&credentials(call, "customer", "customerpw", &sent, "x")),
            Err(FilterError::IncorrectHash),
            "{call:?}"
        );
    }
}
