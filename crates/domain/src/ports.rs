//! The ports: what the domain needs from storage and randomness. Adapters implement them.

use crate::account::Account;
use crate::codes::{CallerId, Pin};
use crate::error::{CcError, StoreError};
use crate::ids::{CardGroupId, OwnerId, TaxId, UserId};
use crate::model::{Card, CardGroup, Device, NewCard, Payment, User};
use crate::money::Money;
use crate::pricing::{Currency, Tax};
use crate::reply::Reply;

/// How a locking read finds a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardKey {
    /// The card with this PIN.
    Pin(Pin),
    /// The card whose `callerid` equals this one exactly.
    CallerId(CallerId),
}

/// Storage as one request sees it, inside one transaction.
///
/// A read of a row whose balance the request may then write locks that row until the
/// transaction ends (MySQL `SELECT ... FOR UPDATE`; SQLite holds the database write lock from
/// `BEGIN IMMEDIATE`). The domain therefore never computes a balance from an unlocked read.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Ledger {
    /// The device whose caller ID (`callerids.cli`) equals `cli` exactly.
    fn device_by_cli(&mut self, cli: &CallerId) -> Result<Option<Device>, StoreError>;
    /// The user with this id, locked.
    fn lock_user(&mut self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The card whose `callerid` equals `cli` exactly, locked.
    fn lock_card_by_cli(&mut self, cli: &CallerId) -> Result<Option<Card>, StoreError>;
    /// The card with this PIN, locked.
    fn lock_card_by_pin(&mut self, pin: &Pin) -> Result<Option<Card>, StoreError>;
    /// The card each key finds, in the keys' order (`None` where a key finds none), all
    /// locked. Implementations lock the rows in id order, so that units of work locking the
    /// same cards in other orders (a PIN transfer and the opposite one) queue instead of
    /// deadlocking.
    fn lock_cards(&mut self, keys: &[CardKey]) -> Result<Vec<Option<Card>>, StoreError>;
    /// A card group by id, whoever owns it.
    fn card_group(&mut self, id: CardGroupId) -> Result<Option<CardGroup>, StoreError>;
    /// A row of `taxes`.
    fn tax(&mut self, id: TaxId) -> Result<Option<Tax>, StoreError>;
    /// The currency with this name.
    fn currency(&mut self, name: &str) -> Result<Option<Currency>, StoreError>;
    /// The system currency (`currencies.id` = 1).
    fn system_currency(&mut self) -> Result<Option<Currency>, StoreError>;
    /// Inserts a card; [`StoreError::Duplicate`] when its number or PIN is taken.
    fn insert_card(&mut self, card: &NewCard) -> Result<Card, StoreError>;
    /// Writes a card's balance, sold and active flags and caller ID.
    fn update_card(&mut self, card: &Card) -> Result<(), StoreError>;
    /// Writes a user's balance.
    fn update_user_balance(&mut self, id: UserId, balance: &Money) -> Result<(), StoreError>;
    /// Appends a row to `payments`.
    fn record_payment(&mut self, payment: &Payment) -> Result<(), StoreError>;
}

/// The unit of work that moves money.
pub trait Store: Send + Sync {
    /// Runs `work` in one transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err`. When the transaction loses a race ([`StoreError::Conflict`]) the store may run
    /// `work` again from the start, a bounded number of times, so `work` must have no effect
    /// outside the ledger it is given.
    fn transact(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<Reply, CcError>,
    ) -> Result<Reply, CcError>;

    /// Runs `work` as a look-up: its reads take no locks (each sees the latest committed row)
    /// and any write fails with [`StoreError::ReadOnly`], which the caller answers by running
    /// the work in [`Store::transact`]. Cheaper for the database than a transaction; the
    /// default simply runs a transaction.
    fn read(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<Reply, CcError>,
    ) -> Result<Reply, CcError> {
        self.transact(work)
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
