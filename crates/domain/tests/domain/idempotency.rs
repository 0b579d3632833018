//! Idempotency keys: a kept reply is answered instead of running again, a key reused with other
//! parameters runs nothing, a key is claimed before the work, and only a unit that wrote keeps
//! its reply, in its own transaction.

use morcc_domain::idempotency::{transact_once, Answered, Fingerprint, Once, StoredReply};
use morcc_domain::ports::MockLedger;
use morcc_domain::{ApiCall, CcError, IdempotencyKey, Ledger, UserId};

use crate::support::*;

fn key() -> IdempotencyKey {
    IdempotencyKey::parse("order-7").unwrap()
}

fn fingerprint(amount: &str) -> Fingerprint {
    Fingerprint::of(ApiCall::CcByCli, [("callerid", "4444"), ("amount", amount)])
}

fn render(value: &u32) -> String {
    format!("<reply>{value}</reply>")
}

/// Runs a unit that answers 7 (and writes, when `writes`) with the key on `ledger`.
fn run(ledger: MockLedger, amount: &str, writes: bool) -> (Result<Answered<u32>, CcError>, usize) {
    let store = TestStore::new(ledger);
    let (key, fingerprint) = (key(), fingerprint(amount));
    let once = Once {
        user: UserId(1),
        key: &key,
        fingerprint: &fingerprint,
        render: &render,
    };
    let mut ran = 0;
    let answered = transact_once(&store, Some(&once), |ledger: &mut dyn Ledger| {
        ran += 1;
        if writes {
            ledger.record_sale(&sale_of(&admin(), "", &[]))?;
        }
        Ok::<_, CcError>(7)
    });
    (answered, ran)
}

fn kept(ledger: &mut MockLedger, amount: &str) {
    let reply = StoredReply {
        fingerprint: fingerprint(amount),
        body: "<reply>kept</reply>".into(),
    };
    ledger
        .expect_kept_reply()
        .returning(move |_, _| Ok(Some(reply.clone())));
}

#[test]
fn a_kept_reply_is_answered_without_running_the_work() {
    let mut ledger = MockLedger::new();
    kept(&mut ledger, "5");
    ledger.expect_claim_key().never();
    let (answered, ran) = run(ledger, "5", true);
    assert_eq!(
        answered,
        Ok(Answered::Replayed("<reply>kept</reply>".into()))
    );
    assert_eq!(ran, 0);
}

#[test]
fn a_key_reused_with_other_parameters_runs_nothing() {
    let mut ledger = MockLedger::new();
    kept(&mut ledger, "5");
    ledger.expect_claim_key().never();
    let (answered, ran) = run(ledger, "6", true);
    assert_eq!(answered, Ok(Answered::KeyReused));
    assert_eq!(ran, 0);
}

#[test]
fn a_unit_that_wrote_keeps_its_rendered_reply_under_the_key_of_its_user() {
    let mut ledger = MockLedger::new();
    ledger.expect_kept_reply().returning(|_, _| Ok(None));
    ledger.expect_record_sale().returning(|_| Ok(()));
    ledger.expect_has_written().return_const(true);
    let mut order = mockall::Sequence::new();
    ledger
        .expect_claim_key()
        .withf(|user, key, claimed| {
            *user == UserId(1) && key.as_str() == "order-7" && *claimed == fingerprint("5")
        })
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _| Ok(()));
    ledger
        .expect_settle_key()
        .withf(|user, key, body| {
            *user == UserId(1)
                && key.as_str() == "order-7"
                && body.as_deref() == Some("<reply>7</reply>")
        })
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _, _| Ok(()));
    let (answered, ran) = run(ledger, "5", true);
    assert_eq!(answered, Ok(Answered::Ran(7)));
    assert_eq!(ran, 1);
}

#[test]
fn a_unit_that_changed_nothing_keeps_nothing() {
    let mut ledger = MockLedger::new();
    ledger.expect_kept_reply().returning(|_, _| Ok(None));
    ledger.expect_has_written().return_const(false);
    ledger
        .expect_claim_key()
        .times(1)
        .returning(|_, _, _| Ok(()));
    ledger
        .expect_settle_key()
        .withf(|_, _, body| body.is_none())
        .times(1)
        .returning(|_, _, _| Ok(()));
    let (answered, _) = run(ledger, "5", false);
    assert_eq!(answered, Ok(Answered::Ran(7)));
}

#[test]
fn a_failed_unit_keeps_nothing() {
    let mut ledger = MockLedger::new();
    ledger.expect_kept_reply().returning(|_, _| Ok(None));
    ledger.expect_claim_key().returning(|_, _, _| Ok(()));
    ledger.expect_settle_key().never();
    let store = TestStore::new(ledger);
    let (key, fingerprint) = (key(), fingerprint("5"));
    let once = Once {
        user: UserId(1),
        key: &key,
        fingerprint: &fingerprint,
        render: &render,
    };
    let answered = transact_once(&store, Some(&once), |_: &mut dyn Ledger| {
        Err::<u32, _>(CcError::CardNotFound)
    });
    assert_eq!(answered, Err(CcError::CardNotFound));
}
