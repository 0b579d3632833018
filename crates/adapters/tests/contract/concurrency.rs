//! Races on the real backends: no money is lost or invented, and no lost race reaches the
//! client as an error.

use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use morcc_adapters::admin;
use morcc_domain::{CallerId, CardGroupId, CcError, Holder, Money};

use crate::support::*;

/// Outcomes the spec allows a racing request; anything else fails the test.
fn allowed(outcome: Result<morcc_domain::Reply, CcError>, rejected: &AtomicU32) {
    match outcome {
        Ok(_) => {}
        Err(CcError::PinBalanceZero) => {
            rejected.fetch_add(1, Ordering::Relaxed);
        }
        Err(error) => panic!("a racing request failed: {error:?}"),
    }
}

/// The total of every card in `groups`, after checking each card's ledger.
fn total_checked(db: &morcc_adapters::Database, groups: &[CardGroupId]) -> Money {
    let mut total = Money::zero();
    for group in groups {
        for card in admin::cards_in_group(db, *group).unwrap() {
            assert_card_ledger(db, card.id);
            total = &total + &card.balance;
        }
    }
    total
}

contract_tests! {
    /// 16 clients top one card up by 0.01, 50 times each: exactly 8.00, in 800 payments.
    fn parallel_top_ups_add_up(db: &Database) {
        let caller = admin(db);
        let group = group(db, "cards");
        let card = card_call(db, &caller, &request("4444", "", "", &group.to_string())).card;
        let top_up = request("4444", "", "0.01", "");
        thread::scope(|scope| {
            for _ in 0..16 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        card_call(db, &caller, &top_up);
                    }
                });
            }
        });
        let stored = admin::card(db, card.id).unwrap().unwrap();
        assert_eq!(stored.balance, money("8.00"));
        assert_eq!(admin::payments_for(db, Holder::Card(card.id)).unwrap().len(), 800);
        assert_card_ledger(db, card.id);
    }

    /// PIN transfers in opposite directions between two cards lock them in opposite orders.
    fn opposite_pin_transfers_conserve_money(db: &Database) {
        let caller = admin(db);
        let group = group(db, "cards");
        let gid = group.to_string();
        let a = card_call(db, &caller, &request("a", "", "10", &gid)).card;
        let b = card_call(db, &caller, &request("b", "", "20", &gid)).card;
        let rejected = AtomicU32::new(0);
        let caller = &caller;
        thread::scope(|scope| {
            for thread in 0..8 {
                let (callerid, pin) = if thread % 2 == 0 { ("a", &b.pin) } else { ("b", &a.pin) };
                let transfer = request(callerid, pin.expose(), "", "");
                let rejected = &rejected;
                scope.spawn(move || {
                    for _ in 0..20 {
                        allowed(call(db, caller, &transfer), rejected);
                    }
                });
            }
        });
        assert_eq!(total_checked(db, &[group]), money("30"));
        eprintln!("{} of 160 transfers found an empty card", rejected.load(Ordering::Relaxed));
    }

    /// Customers moved back and forth between two groups while others top up and merge.
    fn group_moves_conserve_money(db: &Database) {
        let caller = admin(db);
        let groups = [group(db, "one"), group(db, "two")];
        let ids = groups.map(|group| group.to_string());
        card_call(db, &caller, &request("a", "", "10", &ids[0]));
        card_call(db, &caller, &request("b", "", "20", &ids[1]));
        let caller = &caller;
        thread::scope(|scope| {
            for thread in 0..8 {
                let callerid = if thread % 2 == 0 { "a" } else { "b" };
                let ids = &ids;
                scope.spawn(move || {
                    for round in 0..15 {
                        let to = &ids[(thread / 2 + round) % 2];
                        card_call(db, caller, &request(callerid, "", "", to));
                    }
                });
            }
        });
        assert_eq!(total_checked(db, &groups), money("30"));
        for callerid in ["a", "b"] {
            let card = admin::card_by_callerid(db, &CallerId::parse(callerid).unwrap()).unwrap().unwrap();
            assert!(card.balance.is_positive(), "{callerid} kept its money");
        }
    }
}

/// A unit of work that loses a deadlock has been rolled back by the server; if it went on (a
/// use case that swallowed the error), its later statements would run outside any
/// transaction and commit on their own: a payment without its balance change. The adapter
/// refuses every statement after a lost race and runs the whole unit again, so both units
/// apply exactly once, whole. Two units lock two cards in opposite orders, so InnoDB kills one.
#[cfg(feature = "mysql")]
#[test]
fn a_unit_that_lost_a_deadlock_can_only_run_again_whole() {
    use std::sync::Barrier;

    use morcc_domain::{CallerId, Card, Payment};

    let test_db = mysql();
    let db = test_db.database();
    let caller = admin(db);
    let gid = group(db, "cards").to_string();
    let a = card_call(db, &caller, &request("a", "", "0", &gid)).card;
    let b = card_call(db, &caller, &request("b", "", "0", &gid)).card;
    let barrier = Barrier::new(2);
    let swallowed = AtomicU32::new(0);

    let unit = |mine: &Card, other: &str| {
        let attempts = Calls::default();
        with_ledger(db, |ledger| {
            let first = attempts.tick() == 1;
            let cli = mine.callerid.clone().unwrap();
            let mut card = ledger.lock_card_by_cli(&cli)?.unwrap();
            card.balance = &card.balance + &money("1");
            ledger.update_card(&card)?;
            if first {
                barrier.wait();
            }
            // Locks the other unit's card: one of the two is killed as a deadlock. The loser
            // swallows the error, as a careless use case might, and goes on.
            if ledger
                .lock_card_by_cli(&CallerId::parse(other).unwrap())
                .is_err()
            {
                swallowed.fetch_add(1, Ordering::SeqCst);
            }
            ledger.record_payment(&Payment {
                holder: Holder::Card(card.id),
                amount: money("1"),
                tax: Money::zero(),
                gross: money("1"),
                currency: "USD".into(),
                owner_id: morcc_domain::OwnerId(0),
                description: "deadlock test".into(),
            })?;
            Ok(())
        })
    };
    thread::scope(|scope| {
        let one = scope.spawn(|| unit(&a, "b"));
        let two = scope.spawn(|| unit(&b, "a"));
        one.join().unwrap().expect("unit one applies");
        two.join().unwrap().expect("unit two applies");
    });
    assert_eq!(
        swallowed.load(Ordering::SeqCst),
        1,
        "one unit lost the deadlock"
    );
    for card in [&a, &b] {
        assert_eq!(
            admin::card(db, card.id).unwrap().unwrap().balance,
            money("1")
        );
        assert_eq!(
            admin::payments_for(db, Holder::Card(card.id))
                .unwrap()
                .len(),
            1
        );
        assert_card_ledger(db, card.id);
    }
}
