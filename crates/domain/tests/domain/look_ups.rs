//! Look-ups (no PIN, zero amount) are answered from `Store::read` when they change nothing,
//! and start over in a transaction when they must write.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use morcc_domain::ports::MockLedger;
use morcc_domain::{
    cc_by_cli, CallerId, Card, CardGroup, CardGroupId, CardKey, CardNumber, Catalog, CcError,
    Currency, Device, Fingerprint, IdempotencyKey, Ledger, Money, NewCard, Payment, Pin, Sale,
    Store, StoreError, StoredReply, Tax, TaxId, UnitError, User, UserId,
};

use crate::support::*;

/// A store that tells look-ups from transactions: `read` hands out the mock behind a guard
/// that refuses writes, as a real store's look-up ledger does.
struct CountingStore {
    ledger: Mutex<MockLedger>,
    reads: AtomicUsize,
    transactions: AtomicUsize,
}

impl CountingStore {
    fn new(ledger: MockLedger) -> Self {
        CountingStore {
            ledger: Mutex::new(ledger),
            reads: AtomicUsize::new(0),
            transactions: AtomicUsize::new(0),
        }
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.reads.load(Ordering::SeqCst),
            self.transactions.load(Ordering::SeqCst),
        )
    }
}

impl Store for CountingStore {
    fn run_unit(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError> {
        self.transactions.fetch_add(1, Ordering::SeqCst);
        work(&mut *self.ledger.lock().unwrap())
    }

    fn run_look_up(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        work(&mut ReadOnly(&mut self.ledger.lock().unwrap()))
    }
}

/// Reads pass through; writes fail with `StoreError::ReadOnly`.
struct ReadOnly<'a>(&'a mut MockLedger);

impl Ledger for ReadOnly<'_> {
    fn device_by_cli(&mut self, cli: &CallerId) -> Result<Option<Device>, StoreError> {
        self.0.device_by_cli(cli)
    }
    fn lock_user(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        self.0.lock_user(id)
    }
    fn lock_card_by_cli(&mut self, cli: &CallerId) -> Result<Option<Card>, StoreError> {
        self.0.lock_card_by_cli(cli)
    }
    fn lock_card_by_pin(&mut self, pin: &Pin) -> Result<Option<Card>, StoreError> {
        self.0.lock_card_by_pin(pin)
    }
    fn lock_cards(&mut self, keys: &[CardKey]) -> Result<Vec<Option<Card>>, StoreError> {
        self.0.lock_cards(keys)
    }
    fn insert_card(&mut self, _: &NewCard) -> Result<Card, StoreError> {
        Err(StoreError::ReadOnly)
    }
    fn update_card(&mut self, _: &Card) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }
    fn update_user_balance(&mut self, _: UserId, _: &Money) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }
    fn record_payment(&mut self, _: &Payment) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }
    fn lock_card_by_number(&mut self, number: &CardNumber) -> Result<Option<Card>, StoreError> {
        self.0.lock_card_by_number(number)
    }
    fn free_card_count(&mut self, group: CardGroupId) -> Result<u64, StoreError> {
        self.0.free_card_count(group)
    }
    fn lock_free_cards(
        &mut self,
        group: CardGroupId,
        limit: usize,
    ) -> Result<Vec<Card>, StoreError> {
        self.0.lock_free_cards(group, limit)
    }
    fn record_sale(&mut self, _: &Sale) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }
    fn kept_reply(
        &mut self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<StoredReply>, StoreError> {
        self.0.kept_reply(user, key)
    }
    fn claim_key(
        &mut self,
        _: UserId,
        _: &IdempotencyKey,
        _: &Fingerprint,
    ) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }
    fn settle_key(
        &mut self,
        _: UserId,
        _: &IdempotencyKey,
        _: Option<String>,
    ) -> Result<(), StoreError> {
        Err(StoreError::ReadOnly)
    }
    fn has_written(&self) -> bool {
        false
    }
}

impl Catalog for ReadOnly<'_> {
    fn card_group(&mut self, id: CardGroupId) -> Result<Option<CardGroup>, StoreError> {
        self.0.card_group(id)
    }
    fn tax(&mut self, id: TaxId) -> Result<Option<Tax>, StoreError> {
        self.0.tax(id)
    }
    fn currency(&mut self, name: &str) -> Result<Option<Currency>, StoreError> {
        self.0.currency(name)
    }
    fn system_currency(&mut self) -> Result<Option<Currency>, StoreError> {
        self.0.system_currency()
    }
}

fn sold(card: Card) -> Card {
    Card {
        sold: true,
        active: true,
        ..card
    }
}

#[test]
fn a_look_up_of_a_sold_active_card_is_answered_without_a_transaction() {
    let world = World {
        cards: vec![sold(card_with_cli(7, 1, "12.5", "4444"))],
        ..World::default()
    };
    let store = CountingStore::new(world.ledger());
    let reply = cc_by_cli(&store, &codes(), &admin(), &ask("4444"));
    assert_eq!(card_reply(reply).card.balance, money("12.5"));
    assert_eq!(store.counts(), (1, 0));
}

#[test]
fn a_look_up_of_an_unknown_caller_id_is_not_found_without_a_transaction() {
    let store = CountingStore::new(World::default().ledger());
    assert_eq!(
        cc_by_cli(&store, &codes(), &admin(), &ask("4444").amount("0")),
        Err(CcError::CardNotFound)
    );
    assert_eq!(store.counts(), (1, 0));
}

#[test]
fn a_look_up_that_must_mark_the_card_sold_starts_over_in_a_transaction() {
    let unsold = Card {
        sold: false,
        active: false,
        ..card_with_cli(7, 1, "3", "4444")
    };
    let mut ledger = World {
        cards: vec![unsold],
        ..World::default()
    }
    .ledger();
    let writes = allow_writes(&mut ledger);
    let store = CountingStore::new(ledger);
    let reply = card_reply(cc_by_cli(&store, &codes(), &admin(), &ask("4444")));
    assert!(reply.card.sold && reply.card.active);
    assert_eq!(store.counts(), (1, 1));
    assert_eq!(
        writes.all().len(),
        1,
        "the card was written once, in the transaction"
    );
    assert!(writes.payments().is_empty());
}

#[test]
fn a_zero_amount_with_a_group_creates_the_card_in_a_transaction() {
    let mut ledger = World::default().ledger();
    let writes = allow_writes(&mut ledger);
    let store = CountingStore::new(ledger);
    let reply = card_reply(cc_by_cli(
        &store,
        &codes(),
        &admin(),
        &ask("4444").group("1"),
    ));
    assert!(reply.card.balance.is_zero());
    assert_eq!(store.counts(), (1, 1));
    assert_eq!(writes.balances().len(), 1);
}

#[test]
fn a_device_s_balance_is_looked_up_without_a_transaction() {
    let world = World {
        devices: vec![("4444".into(), device(3, 9))],
        users: vec![user(9, morcc_domain::OwnerId(0), "40")],
        ..World::default()
    };
    let store = CountingStore::new(world.ledger());
    let reply = device_reply(cc_by_cli(&store, &codes(), &admin(), &ask("4444")));
    assert_eq!(reply.new_balance, money("40"));
    assert_eq!(store.counts(), (1, 0));
}

#[test]
fn top_ups_and_pin_transfers_go_straight_to_a_transaction() {
    let world = World {
        cards: vec![sold(card_with_cli(7, 1, "1", "4444"))],
        ..World::default()
    };
    let mut ledger = world.ledger();
    allow_writes(&mut ledger);
    let store = CountingStore::new(ledger);
    card_reply(cc_by_cli(
        &store,
        &codes(),
        &admin(),
        &ask("4444").amount("5"),
    ));
    assert_eq!(store.counts(), (0, 1));
    let _ = cc_by_cli(&store, &codes(), &admin(), &ask("4444").pin("123"));
    assert_eq!(store.counts(), (0, 2));
}

#[test]
fn a_storage_failure_during_a_look_up_is_not_retried_as_a_transaction() {
    let mut ledger = MockLedger::new();
    ledger
        .expect_device_by_cli()
        .returning(|_| Err(StoreError::Failure("down".into())));
    let store = CountingStore::new(ledger);
    let outcome = cc_by_cli(&store, &codes(), &admin(), &ask("4444"));
    assert_eq!(
        outcome,
        Err(CcError::Storage(StoreError::Failure("down".into())))
    );
    assert_eq!(store.counts(), (1, 0));
}

#[test]
fn a_look_up_that_lost_a_race_gets_the_transaction_s_retries() {
    let world = World {
        cards: vec![sold(card_with_cli(7, 1, "2", "4444"))],
        ..World::default()
    };
    let mut busy_once = world.ledger();
    busy_once.checkpoint();
    let mut attempts = 0;
    let cards = world.cards.clone();
    busy_once.expect_device_by_cli().returning(|_| Ok(None));
    busy_once.expect_lock_card_by_cli().returning(move |_| {
        attempts += 1;
        if attempts == 1 {
            Err(StoreError::Conflict("database is locked".into()))
        } else {
            Ok(cards.first().cloned())
        }
    });
    let groups = world.groups.clone();
    busy_once
        .expect_card_group()
        .returning(move |id| Ok(groups.iter().find(|group| group.id == id).cloned()));
    let store = CountingStore::new(busy_once);
    let reply = card_reply(cc_by_cli(&store, &codes(), &admin(), &ask("4444")));
    assert_eq!(reply.card.balance, money("2"));
    assert_eq!(store.counts(), (1, 1));
}
