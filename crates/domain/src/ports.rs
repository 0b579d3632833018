//! The ports: what the domain needs from storage and randomness. Adapters implement them.

use crate::account::Account;
use crate::codes::{CallerId, CardNumber, Pin};
use crate::error::{CardCallError, CcError, StoreError};
use crate::idempotency::key::{Fingerprint, IdempotencyKey, StoredReply};
use crate::ids::{CardGroupId, OwnerId, TaxId, UserId};
use crate::model::{CallerIdHolder, Card, CardGroup, Device, NewCard, Payment, Sale, User};
use crate::money::Money;
use crate::pricing::{Currency, Tax};

/// How a locking read finds a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardKey {
    /// The card with this PIN.
    Pin(Pin),
    /// The card whose `callerid` equals this one exactly.
    CallerId(CallerId),
}

/// The rarely changing reference rows a unit of work reads: card groups, taxes, currencies.
/// Read-only, never locked: a cache may sit in front of it (their changes may apply a moment
/// later), unlike the [`Ledger`]'s rows, whose balances are never cached.
pub trait Catalog {
    /// A card group by id, whoever owns it.
    fn card_group(&mut self, id: CardGroupId) -> Result<Option<CardGroup>, StoreError>;
    /// A row of `taxes`.
    fn tax(&mut self, id: TaxId) -> Result<Option<Tax>, StoreError>;
    /// The currency with this name.
    fn currency(&mut self, name: &str) -> Result<Option<Currency>, StoreError>;
    /// The system currency (`currencies.id` = 1).
    fn system_currency(&mut self) -> Result<Option<Currency>, StoreError>;
}

/// Storage as one request sees it, inside one transaction: what the unit of work locks and
/// writes (cards, users, payments), and through [`Catalog`] the reference rows it reads.
///
/// A read of a row whose balance the request may then write locks that row until the
/// transaction ends (MySQL `SELECT ... FOR UPDATE`; SQLite holds the database write lock from
/// `BEGIN IMMEDIATE`). The domain therefore never computes a balance from an unlocked read.
pub trait Ledger: Catalog {
    /// The device whose caller ID (`callerids.cli`) equals `cli` exactly.
    fn device_by_cli(&mut self, cli: &CallerId) -> Result<Option<Device>, StoreError>;
    /// The user with this id, locked.
    fn lock_user(&mut self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The card whose `callerid` equals `cli` exactly, locked.
    fn lock_card_by_cli(&mut self, cli: &CallerId) -> Result<Option<Card>, StoreError>;
    /// Whom `cli` belongs to: the device that has it ([`Ledger::device_by_cli`]), or else the
    /// card, locked ([`Ledger::lock_card_by_cli`]). A store may answer both in one round trip,
    /// as a card top-up's only read.
    fn lock_holder_of(&mut self, cli: &CallerId) -> Result<Option<CallerIdHolder>, StoreError> {
        if let Some(device) = self.device_by_cli(cli)? {
            return Ok(Some(CallerIdHolder::Device(device)));
        }
        Ok(self.lock_card_by_cli(cli)?.map(CallerIdHolder::Card))
    }
    /// The card with this PIN, locked.
    fn lock_card_by_pin(&mut self, pin: &Pin) -> Result<Option<Card>, StoreError>;
    /// The card each key finds, in the keys' order (`None` where a key finds none), all
    /// locked. Implementations lock the rows in id order, so that units of work locking the
    /// same cards in other orders (a PIN transfer and the opposite one) queue instead of
    /// deadlocking.
    fn lock_cards(&mut self, keys: &[CardKey]) -> Result<Vec<Option<Card>>, StoreError>;
    /// Inserts a card; [`StoreError::Duplicate`] when its number or PIN is taken.
    fn insert_card(&mut self, card: &NewCard) -> Result<Card, StoreError>;
    /// Writes a card's balance, sold and active flags and caller ID.
    fn update_card(&mut self, card: &Card) -> Result<(), StoreError>;
    /// Writes a user's balance.
    fn update_user_balance(&mut self, id: UserId, balance: &Money) -> Result<(), StoreError>;
    /// Appends a row to `payments`.
    fn record_payment(&mut self, payment: &Payment) -> Result<(), StoreError>;
    /// The card whose `number` equals this one exactly, locked.
    fn lock_card_by_number(&mut self, number: &CardNumber) -> Result<Option<Card>, StoreError>;
    /// How many free cards ([`Card::is_free`]) the group has.
    fn free_card_count(&mut self, group: CardGroupId) -> Result<u64, StoreError>;
    /// Up to `limit` free cards ([`Card::is_free`]) of the group, in order of `number` (as
    /// text), then `id`, locked. Cards another transaction holds locked are passed over (MySQL
    /// `FOR UPDATE SKIP LOCKED`), so concurrent buyers take different cards without waiting
    /// for each other; none is ever handed to two.
    fn lock_free_cards(
        &mut self,
        group: CardGroupId,
        limit: usize,
    ) -> Result<Vec<Card>, StoreError>;
    /// Records a sale: its `ccorders` row, a `cclineitems` row and a `card_sell_over_api`
    /// action per card.
    fn record_sale(&mut self, sale: &Sale) -> Result<(), StoreError>;
    /// The reply kept under `key` for `user` (an idempotent request's), locked.
    fn kept_reply(
        &mut self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<StoredReply>, StoreError>;
    /// Claims `key` for `user` with this request's fingerprint, before the work: the claim is
    /// the transaction's until it ends, so a copy of the request in flight waits for it. A key
    /// that another transaction claimed and kept first is a lost race
    /// ([`StoreError::Conflict`]): run again, the unit finds that reply. A claim is not a
    /// write ([`Ledger::has_written`]).
    fn claim_key(
        &mut self,
        user: UserId,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
    ) -> Result<(), StoreError>;
    /// Settles the key this transaction claimed: keeps `body` under it, or (`None`, the work
    /// changed nothing) gives the claim up.
    fn settle_key(
        &mut self,
        user: UserId,
        key: &IdempotencyKey,
        body: Option<String>,
    ) -> Result<(), StoreError>;
    /// Whether this unit of work has written anything so far.
    fn has_written(&self) -> bool;
}

// A ledger and its catalog as one mock (mockall's `automock` cannot mock a supertrait).
#[cfg(any(test, feature = "mocks"))]
mockall::mock! {
    /// A mock [`Ledger`] with its [`Catalog`].
    pub Ledger {}
    impl Catalog for Ledger {
        fn card_group(&mut self, id: CardGroupId) -> Result<Option<CardGroup>, StoreError>;
        fn tax(&mut self, id: TaxId) -> Result<Option<Tax>, StoreError>;
        fn currency(&mut self, name: &str) -> Result<Option<Currency>, StoreError>;
        fn system_currency(&mut self) -> Result<Option<Currency>, StoreError>;
    }
    impl Ledger for Ledger {
        fn device_by_cli(&mut self, cli: &CallerId) -> Result<Option<Device>, StoreError>;
        fn lock_user(&mut self, id: UserId) -> Result<Option<User>, StoreError>;
        fn lock_card_by_cli(&mut self, cli: &CallerId) -> Result<Option<Card>, StoreError>;
        fn lock_card_by_pin(&mut self, pin: &Pin) -> Result<Option<Card>, StoreError>;
        fn lock_cards(&mut self, keys: &[CardKey]) -> Result<Vec<Option<Card>>, StoreError>;
        fn insert_card(&mut self, card: &NewCard) -> Result<Card, StoreError>;
        fn update_card(&mut self, card: &Card) -> Result<(), StoreError>;
        fn update_user_balance(&mut self, id: UserId, balance: &Money) -> Result<(), StoreError>;
        fn record_payment(&mut self, payment: &Payment) -> Result<(), StoreError>;
        fn lock_card_by_number(&mut self, number: &CardNumber) -> Result<Option<Card>, StoreError>;
        fn free_card_count(&mut self, group: CardGroupId) -> Result<u64, StoreError>;
        fn lock_free_cards(&mut self, group: CardGroupId, limit: usize) -> Result<Vec<Card>, StoreError>;
        fn record_sale(&mut self, sale: &Sale) -> Result<(), StoreError>;
        fn kept_reply(&mut self, user: UserId, key: &IdempotencyKey) -> Result<Option<StoredReply>, StoreError>;
        fn claim_key(&mut self, user: UserId, key: &IdempotencyKey, fingerprint: &Fingerprint) -> Result<(), StoreError>;
        fn settle_key(&mut self, user: UserId, key: &IdempotencyKey, body: Option<String>) -> Result<(), StoreError>;
        fn has_written(&self) -> bool;
    }
}

#[cfg(any(test, feature = "mocks"))]
impl std::fmt::Debug for MockLedger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MockLedger")
    }
}

/// The unit of work that moves money.
///
/// The trait is object-safe: a unit of work speaks [`UnitError`]. Use cases call the generic
/// [`Transact::transact`] and [`Transact::read`], which every store has and which carry any
/// result and any error that wraps [`StoreError`].
pub trait Store: Send + Sync {
    /// Runs `work` in one transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err`. When the transaction loses a race ([`StoreError::Conflict`]) the store may run
    /// `work` again from the start, a bounded number of times, so `work` must have no effect
    /// outside the ledger it is given. A [`UnitError::Refused`] is never run again.
    fn run_unit(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError>;

    /// Runs `work` as a look-up: its reads take no locks (each sees the latest committed row)
    /// and any write fails with [`StoreError::ReadOnly`], which the caller answers by running
    /// the work in a transaction. Cheaper for the database than a transaction; the default
    /// simply runs a transaction.
    fn run_look_up(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError> {
        self.run_unit(work)
    }
}

/// Why a unit of work stopped, as the [`Store`] must know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitError {
    /// Storage failed or lost a race (the store decides whether to run the unit again).
    Store(StoreError),
    /// The use case refused the request: rolled back, never run again.
    Refused,
}

impl From<StoreError> for UnitError {
    fn from(error: StoreError) -> UnitError {
        UnitError::Store(error)
    }
}

/// An error a unit of work may end with: one that wraps storage failures, so that a store can
/// tell a lost race (run again) from a refusal (answer it).
pub trait UnitFailure: From<StoreError> {
    /// The storage failure this error is, if it is one.
    fn store_error(&self) -> Option<&StoreError>;
}

impl UnitFailure for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

impl UnitFailure for CcError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            CcError::Storage(error) => Some(error),
            _ => None,
        }
    }
}

impl UnitFailure for CardCallError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            CardCallError::Storage(error) => Some(error),
            _ => None,
        }
    }
}

/// The generic face of every [`Store`] (`dyn Store` included): units of work with any result
/// and any error that wraps storage failures.
pub trait Transact: Store {
    /// Runs `work` in one transaction ([`Store::run_unit`]) and returns what it returned
    /// (from its last run, when it was run again after a lost race).
    fn transact<T, E: UnitFailure>(
        &self,
        work: impl FnMut(&mut dyn Ledger) -> Result<T, E>,
    ) -> Result<T, E> {
        run_keeping_outcome(work, |unit| self.run_unit(unit))
    }

    /// Runs `work` as a look-up ([`Store::run_look_up`]) and returns what it returned.
    fn read<T, E: UnitFailure>(
        &self,
        work: impl FnMut(&mut dyn Ledger) -> Result<T, E>,
    ) -> Result<T, E> {
        run_keeping_outcome(work, |unit| self.run_look_up(unit))
    }
}

impl<S: Store + ?Sized> Transact for S {}

/// Runs `work` through `run`, keeping its own result and error aside: the store sees only
/// whether it failed for storage (and how) or was refused.
fn run_keeping_outcome<T, E: UnitFailure>(
    mut work: impl FnMut(&mut dyn Ledger) -> Result<T, E>,
    run: impl FnOnce(&mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>) -> Result<(), UnitError>,
) -> Result<T, E> {
    let mut outcome = None;
    let ran = run(&mut |ledger| {
        let result = work(ledger);
        let seen = match &result {
            Ok(_) => Ok(()),
            Err(error) => Err(error
                .store_error()
                .map_or(UnitError::Refused, |store| UnitError::Store(store.clone()))),
        };
        outcome = Some(result);
        seen
    });
    match (ran, outcome) {
        // A commit (or a begin) that failed after the work: the store's error.
        (Err(UnitError::Store(error)), Some(Ok(_))) | (Err(UnitError::Store(error)), None) => {
            Err(E::from(error))
        }
        (_, Some(result)) => result,
        (Ok(()) | Err(UnitError::Refused), None) => Err(E::from(StoreError::Failure(
            "the store did not run the unit of work".into(),
        ))),
    }
}

/// Read-only look-ups for the filters (spec §3), outside any transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Directory: Send + Sync {
    /// The user with this `username`.
    fn account_by_username(&self, username: &str) -> Result<Option<Account>, StoreError>;
    /// The value of setting `name` (a row of `conflines`) for `owner`.
    fn setting(&self, name: &str, owner: OwnerId) -> Result<Option<String>, StoreError>;
}

/// A failed login or hash: what an operator needs to see probing (never the secrets tried).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt {
    /// The username tried.
    pub username: String,
    /// The client's address.
    pub remote_address: String,
    /// The filter error's text, e.g. `Bad login`.
    pub reason: String,
    /// The request path with secrets removed.
    pub target: String,
}

/// Where failed logins and hashes are recorded (`actions` in MOR).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait AuditLog: Send + Sync {
    /// Records one failed attempt. Best effort: a failure to record must not change the reply,
    /// so the implementation reports its own failures.
    fn record_failure(&self, attempt: &FailedAttempt);

    /// The failed attempts recorded in the last `window`, by every instance that shares this
    /// log: of `username`, and from `remote_address`. This is what makes brute-force limits
    /// hold for a cluster of instances rather than for each one.
    fn recent_failures(
        &self,
        username: &str,
        remote_address: &str,
        window: std::time::Duration,
    ) -> Result<RecentFailures, StoreError>;
}

/// How many failed attempts the log holds for a username and for a client address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecentFailures {
    /// Failures of the username, from any address.
    pub by_username: u32,
    /// Failures from the address, with any username.
    pub by_address: u32,
}

/// The source of new card numbers and PINs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait CodeGenerator: Send + Sync {
    /// `length` random decimal digits, possibly starting with 0. Production implementations
    /// draw them from a cryptographically secure generator: a PIN is a bearer secret.
    fn digits(&self, length: usize) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store that runs the work once on a ledger that has nothing, then answers `commit`.
    struct OnceStore {
        commit: Result<(), UnitError>,
        seen: std::sync::Mutex<Option<Result<(), UnitError>>>,
    }

    impl Store for OnceStore {
        fn run_unit(
            &self,
            work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
        ) -> Result<(), UnitError> {
            let outcome = work(&mut MockLedger::new());
            *self.seen.lock().unwrap() = Some(outcome.clone());
            outcome?;
            self.commit.clone()
        }
    }

    fn store(commit: Result<(), UnitError>) -> OnceStore {
        OnceStore {
            commit,
            seen: std::sync::Mutex::new(None),
        }
    }

    #[test]
    fn the_work_s_own_result_and_refusal_come_back_and_the_store_sees_a_refusal() {
        let ok = store(Ok(()));
        assert_eq!(ok.transact(|_| Ok::<_, CcError>(7)), Ok(7));
        let refusing = store(Ok(()));
        assert_eq!(
            refusing.transact(|_| Err::<(), _>(CcError::PinNotFound)),
            Err(CcError::PinNotFound)
        );
        assert_eq!(
            *refusing.seen.lock().unwrap(),
            Some(Err(UnitError::Refused))
        );
    }

    #[test]
    fn a_storage_failure_of_the_work_is_the_store_s_to_judge() {
        let conflict = StoreError::Conflict("deadlock".into());
        let failing = store(Ok(()));
        let outcome = failing.transact(|_| Err::<(), _>(CcError::Storage(conflict.clone())));
        assert_eq!(outcome, Err(CcError::Storage(conflict.clone())));
        assert_eq!(
            *failing.seen.lock().unwrap(),
            Some(Err(UnitError::Store(conflict)))
        );
    }

    #[test]
    fn a_commit_that_fails_after_the_work_succeeded_is_a_failure() {
        let lost = StoreError::Failure("commit failed".into());
        let committing = store(Err(UnitError::Store(lost.clone())));
        assert_eq!(
            committing.transact(|_| Ok::<_, CcError>(7)),
            Err(CcError::Storage(lost))
        );
    }
}
