//! Fresh databases per test, fixtures, and the invariants every test checks.

use std::cell::Cell;

use morcc_adapters::admin::{self, CardGroupSpec};
use morcc_adapters::{Database, SecureCodes};
use morcc_domain::{
    cc_by_cli, CardGroupId, CardId, CardReply, CardRequest, CcError, DeviceReply, Holder, Ledger,
    Money, OwnerId, Reply, Transact, UserId, UserType,
};

/// Defines each contract test once and runs it on every backend: a module per test with a
/// `sqlite` test and, with the `mysql` feature, a `mysql` test.
macro_rules! contract_tests {
    ($($(#[$doc:meta])* fn $name:ident($db:ident: &Database) $body:block)*) => {
        $(
            $(#[$doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn contract($db: &morcc_adapters::Database) $body

                #[test]
                fn sqlite() {
                    contract(crate::support::sqlite().database());
                }

                #[cfg(feature = "mysql")]
                #[test]
                fn mysql() {
                    contract(crate::support::mysql().database());
                }
            }
        )*
    };
}
pub(crate) use contract_tests;

pub use morcc_adapters::testing::ScratchDatabase as TestDb;

pub fn sqlite() -> TestDb {
    TestDb::sqlite().unwrap()
}

/// A fresh database on the server of `MORCC_TEST_MYSQL_URL`; a build with the `mysql`
/// feature fails its MySQL tests, with the reason, when none is named.
#[cfg(feature = "mysql")]
pub fn mysql() -> TestDb {
    let server = std::env::var("MORCC_TEST_MYSQL_URL")
        .expect("MORCC_TEST_MYSQL_URL must name a MySQL server for the mysql tests");
    TestDb::mysql(&server).unwrap()
}

pub fn money(text: &str) -> Money {
    Money::parse_stored(text).unwrap()
}

/// An admin caller (owner 0) with a user row of its own.
pub fn admin(db: &Database) -> morcc_domain::Caller {
    let id = admin::create_user(
        db,
        "admin",
        "secret",
        &UserType::Admin,
        OwnerId(0),
        &Money::zero(),
    )
    .unwrap();
    morcc_domain::Caller {
        id,
        owner: OwnerId(0),
        usertype: UserType::Admin,
    }
}

/// An admin's card group without tax, in the system currency.
pub fn group(db: &Database, name: &str) -> CardGroupId {
    admin::create_card_group(
        db,
        &CardGroupSpec {
            name: name.to_owned(),
            ..CardGroupSpec::default()
        },
    )
    .unwrap()
}

/// A request with the given parameters; empty strings are left out.
pub fn request(callerid: &str, pin: &str, amount: &str, cardgroup_id: &str) -> CardRequest {
    let given = |value: &str| (!value.is_empty()).then(|| value.to_owned());
    CardRequest {
        callerid: given(callerid),
        pin: given(pin),
        amount: given(amount),
        cardgroup_id: given(cardgroup_id),
    }
}

/// Serves a request through the domain's use case, as the HTTP endpoint does.
pub fn call(
    db: &Database,
    caller: &morcc_domain::Caller,
    request: &CardRequest,
) -> Result<Reply, CcError> {
    cc_by_cli(db, &SecureCodes, caller, request)
}

/// Serves a request that must answer with a card.
pub fn card_call(db: &Database, caller: &morcc_domain::Caller, request: &CardRequest) -> CardReply {
    match call(db, caller, request) {
        Ok(Reply::Card(reply)) => reply,
        other => panic!("expected a card reply, got {other:?}"),
    }
}

/// Serves a request that must answer with a device.
pub fn device_call(
    db: &Database,
    caller: &morcc_domain::Caller,
    request: &CardRequest,
) -> DeviceReply {
    match call(db, caller, request) {
        Ok(Reply::Device(reply)) => reply,
        other => panic!("expected a device reply, got {other:?}"),
    }
}

/// Runs `work` on the ledger of one transaction and returns what it returned; the
/// transaction commits when `work` succeeds.
pub fn with_ledger<T>(
    db: &Database,
    work: impl FnMut(&mut dyn Ledger) -> Result<T, CcError>,
) -> Result<T, CcError> {
    db.transact(work)
}

/// The ledger invariant of spec §4.2 for a card whose whole balance the service made.
pub fn assert_card_ledger(db: &Database, id: CardId) {
    let card = admin::card(db, id).unwrap().expect("card exists");
    let paid = admin::payments_sum_for(db, Holder::Card(id)).unwrap();
    assert_eq!(
        card.balance, paid,
        "card {id}: balance != sum of its payments"
    );
}

/// The ledger invariant for a user that started at zero.
pub fn assert_user_ledger(db: &Database, id: UserId) {
    let balance = admin::user_balance(db, id).unwrap().expect("user exists");
    let paid = admin::payments_sum_for(db, Holder::User(id)).unwrap();
    assert_eq!(balance, paid, "user {id}: balance != sum of its payments");
}

/// Counts calls of a closure, for retry tests.
#[derive(Default)]
pub struct Calls(Cell<u32>);

impl Calls {
    pub fn tick(&self) -> u32 {
        self.0.set(self.0.get() + 1);
        self.0.get()
    }

    pub fn count(&self) -> u32 {
        self.0.get()
    }
}
