//! Opening the database: the connection enum, the pool, migrations and transactions.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use morcc_domain::StoreError;
use parking_lot::{FairMutex, FairMutexGuard};

use crate::cache::CatalogCache;
use crate::error::{store_error, AdapterError, Retryable};
#[cfg(feature = "mysql")]
use crate::mysql::{
    self,
    watchdog::{WatchGuard, Watchdog},
};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");

/// SQLite serialises writers on one lock: more connections than this only queue on it.
const SQLITE_MAX_POOL: u32 = 4;

/// One connection to either backend. Queries both backends share run on the enum; the few
/// that differ (transactions, row locks, last insert id) match on the variant.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    /// A MySQL or MariaDB connection.
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
    /// An SQLite connection.
    Sqlite(SqliteConnection),
}

/// Which database a [`Database`] talks to: the one enum that names the backends (beside
/// diesel's [`AnyConnection`], which holds a connection of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A MySQL or MariaDB server.
    #[cfg(feature = "mysql")]
    Mysql,
}

impl Backend {
    /// Connections a pool opens unless told otherwise. SQLite serialises writers on one
    /// lock: more connections only queue on it (and are capped at this). MySQL: measured at 32
    /// keep-alive connections on 2 cores shared with MariaDB (docs/PERFORMANCE.md), 8 serve as
    /// many requests per second as 16 and halve the worst latencies, since connections beyond
    /// what the server's cores can run only queue inside it.
    pub fn default_pool_size(self) -> u32 {
        match self {
            Backend::Sqlite => SQLITE_MAX_POOL,
            #[cfg(feature = "mysql")]
            Backend::Mysql => 8,
        }
    }
}

/// Size and patience of the connection pool, and how durable an SQLite commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once; `None`: the backend's [`Backend::default_pool_size`]
    /// (SQLite pools are capped at that).
    pub max_size: Option<u32>,
    /// How long one wait for a free connection lasts before it fails. A request takes a
    /// connection for each look-up of the filters and for each attempt of its transaction, so
    /// in all it may wait a few times this.
    pub connection_timeout: Duration,
    /// SQLite's `synchronous` pragma (MySQL's durability is the server's own setting).
    pub sqlite_synchronous: SqliteSynchronous,
    /// How long a MySQL connection may be held for one unit of work (all its statements)
    /// before its session is killed: a statement whose reply never comes fails instead of
    /// hanging. Longer than Galera's commit freeze while it evicts a dead node (about 6 s with
    /// its default failure detection), so that freeze only slows requests down.
    pub statement_deadline: Duration,
    /// How long a unit of work that keeps losing races (deadlocks, lock timeouts, a busy
    /// SQLite file, Galera certification conflicts) is run again before the client is answered
    /// `Failed to make transaction`. A budget of time rather than of attempts: under the
    /// cluster test's hot-card load through three nodes, 10 and then 30 quick attempts once ran
    /// out while a node was being evicted, the conflicts lasting about 2.5 s.
    pub retry_budget: Duration,
}

impl Default for PoolSettings {
    /// The backend's pool size, a `connection_timeout` of 10 s (longer than a Galera
    /// cluster's commit freeze while it evicts a dead node, about 6 s, so that a node's loss
    /// only slows requests down; an unreachable server still fails after a second), SQLite
    /// commits durable before they are acknowledged, the bounds of the watchdog and retries.
    fn default() -> Self {
        PoolSettings {
            max_size: None,
            connection_timeout: Duration::from_secs(10),
            sqlite_synchronous: SqliteSynchronous::default(),
            statement_deadline: Duration::from_secs(15),
            retry_budget: Duration::from_secs(10),
        }
    }
}

/// When an SQLite commit reaches the disk (docs/RELIABILITY.md, "Durability").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteSynchronous {
    /// `FULL`: every commit is synced to disk before it is acknowledged, so a reply `ok`
    /// survives a power cut or an OS crash (as MariaDB with `innodb_flush_log_at_trx_commit
    /// = 1`).
    #[default]
    Full,
    /// `NORMAL`: commits are synced only at WAL checkpoints. Faster, and safe against a crash
    /// of morcc itself, but the last acknowledged commits can be lost on a power cut or an OS
    /// crash. For an operator who accepts that risk.
    Normal,
}

impl SqliteSynchronous {
    fn pragma(self) -> &'static str {
        match self {
            SqliteSynchronous::Full => "PRAGMA synchronous = FULL;",
            SqliteSynchronous::Normal => "PRAGMA synchronous = NORMAL;",
        }
    }
}

/// Every SQLite connection waits for the write lock instead of failing at once. (No
/// foreign_keys pragma: MOR's schema declares no foreign keys.)
const SQLITE_BUSY_TIMEOUT: &str = "PRAGMA busy_timeout = 5000;";

/// Where to connect: the backend, from the URL's scheme, and the address it understands (an
/// SQLite file's path, a MySQL URL). `establish` on the enum would try each backend in turn,
/// and SQLite accepts any string as a file name, so the scheme decides instead.
#[derive(Clone)]
struct Target {
    backend: Backend,
    address: String,
}

impl Target {
    fn parse(url: &str) -> Result<Target, AdapterError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(AdapterError::UnsupportedUrl(url.to_owned()));
            }
            return Ok(Target {
                backend: Backend::Sqlite,
                address: path.to_owned(),
            });
        }
        if url.starts_with("mysql://") {
            #[cfg(feature = "mysql")]
            return Ok(Target {
                backend: Backend::Mysql,
                address: url.to_owned(),
            });
            #[cfg(not(feature = "mysql"))]
            return Err(AdapterError::MysqlNotCompiled);
        }
        // Never echo the URL of another scheme: it may hold a password.
        let scheme = url.split_once("://").map_or("(none)", |(scheme, _)| scheme);
        Err(AdapterError::UnsupportedUrl(format!("scheme {scheme}")))
    }
}

/// What [`Database::migrate`] does.
#[derive(Debug, Clone, Copy)]
enum Migration {
    /// Applies the pending migrations.
    Pending,
    /// Reverts the newest one.
    #[cfg(feature = "testing")]
    RevertNewest,
}

impl Migration {
    fn run<B: diesel::backend::Backend>(
        self,
        conn: &mut impl MigrationHarness<B>,
        migrations: EmbeddedMigrations,
    ) -> diesel::migration::Result<()> {
        match self {
            Migration::Pending => conn.run_pending_migrations(migrations).map(drop),
            #[cfg(feature = "testing")]
            Migration::RevertNewest => conn.revert_last_migration(migrations).map(drop),
        }
    }
}

/// The r2d2 manager: opens connections of the URL's backend and prepares each session.
pub(crate) struct Manager {
    target: Target,
    sqlite_synchronous: SqliteSynchronous,
}

/// Switches an SQLite file to WAL (readers never block the writer), once, before the pool
/// opens its connections. The mode is stored in the file; switching needs the file to
/// itself, so connections of a filling pool that all tried it would fail with `database is
/// locked`.
fn prepare_sqlite_file(path: &str) -> Result<(), AdapterError> {
    let mut conn = SqliteConnection::establish(path)
        .map_err(|error| AdapterError::Connect(error.to_string()))?;
    conn.batch_execute(&format!("{SQLITE_BUSY_TIMEOUT} PRAGMA journal_mode = WAL;"))
        .map_err(|error| AdapterError::Connect(error.to_string()))
}

impl fmt::Debug for Manager {
    // The URL may carry a password: show only the backend.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("backend", &self.target.backend)
            .finish()
    }
}

/// A pooled connection, and what the adapters know of its server session.
pub(crate) struct Session {
    conn: AnyConnection,
    /// What a MySQL session is: its id for the watchdog, how its transactions are sealed.
    #[cfg(feature = "mysql")]
    mysql: Option<mysql::SessionInfo>,
    /// Set by the watchdog when it killed the session.
    killed: Arc<AtomicBool>,
    /// Set when a Galera session's unit of work failed (see [`Checkout::discard_if_sealed`]).
    discard: bool,
    /// When the session last finished a unit of work that succeeded (or was opened).
    answered: Instant,
}

/// How long after its last successful unit of work a session is handed out without a ping:
/// it answered every statement then, and a ping per checkout would cost a round trip per
/// request. A session idle for longer, or whose last unit failed (its server may have gone),
/// is asked first, so a dead one is replaced before a request sees it.
const TRUSTED_AFTER_ANSWERING: Duration = Duration::from_secs(1);

impl ManageConnection for Manager {
    type Connection = Session;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Session, Self::Error> {
        let address = &self.target.address;
        let mut conn = match self.target.backend {
            Backend::Sqlite => SqliteConnection::establish(address).map(AnyConnection::Sqlite),
            #[cfg(feature = "mysql")]
            Backend::Mysql => mysql::establish(address).map(AnyConnection::Mysql),
        }
        .map_err(diesel::r2d2::Error::ConnectionError)?;
        #[cfg(feature = "mysql")]
        let mut mysql_session = None;
        match &mut conn {
            // The file is in WAL mode already (`prepare_sqlite_file`).
            AnyConnection::Sqlite(inner) => inner
                .batch_execute(&format!(
                    "{SQLITE_BUSY_TIMEOUT} {}",
                    self.sqlite_synchronous.pragma()
                ))
                .map_err(diesel::r2d2::Error::QueryError)?,
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(inner) => {
                mysql_session =
                    Some(mysql::prepare_session(inner).map_err(diesel::r2d2::Error::QueryError)?);
            }
        }
        Ok(Session {
            conn,
            #[cfg(feature = "mysql")]
            mysql: mysql_session,
            killed: Arc::new(AtomicBool::new(false)),
            discard: false,
            answered: Instant::now(),
        })
    }

    fn is_valid(&self, session: &mut Session) -> Result<(), Self::Error> {
        if session.answered.elapsed() < TRUSTED_AFTER_ANSWERING {
            return Ok(());
        }
        session.conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, session: &mut Session) -> bool {
        // A killed or discarded session is not used again.
        session.killed.load(Ordering::SeqCst) || session.discard || session.conn.is_broken()
    }
}

/// A connection checked out of the pool for one unit of work; on MySQL its session is watched
/// until it goes back, and killed past the deadline ([`PoolSettings::statement_deadline`]).
pub(crate) struct Checkout {
    conn: PooledConnection<Manager>,
    #[cfg(feature = "mysql")]
    watch: Option<WatchGuard>,
}

impl Checkout {
    /// The unit of work this checkout served succeeded: its session answered, and may be handed
    /// out again without a ping for a moment ([`TRUSTED_AFTER_ANSWERING`]).
    pub(crate) fn answered(&mut self) {
        self.conn.answered = Instant::now();
    }
}

impl Checkout {
    /// How this MySQL session's units of work are sealed (sealed on a Galera node).
    #[cfg(feature = "mysql")]
    fn seal(&self) -> mysql::transactions::Seal {
        self.conn
            .mysql
            .map_or(mysql::transactions::Seal::Plain, |session| session.seal)
    }

    /// Makes the pool discard this connection when it comes back.
    ///
    /// A Galera node that aborted a session's transaction for a replicated one can leave the
    /// session out of step with its client: a later statement on it then waits for a reply
    /// that never comes (seen: the server shows the session idle while its client waits). So
    /// after a failed unit of work such a session is not used again.
    #[cfg(feature = "mysql")]
    pub(crate) fn discard_if_sealed(&mut self) {
        if self.seal() == mysql::transactions::Seal::Sealed {
            self.conn.discard = true;
        }
    }

    /// Whether the watchdog killed this checkout's session (its work outlived the deadline).
    pub(crate) fn was_killed(&self) -> bool {
        #[cfg(feature = "mysql")]
        if let Some(watch) = &self.watch {
            return watch.was_killed();
        }
        false
    }
}

impl Deref for Checkout {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn.conn
    }
}

impl DerefMut for Checkout {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn.conn
    }
}

/// The database of morcc: a pool of connections to SQLite or MySQL/MariaDB.
///
/// Cheap to clone; clones share the pool. It implements the domain's ports:
/// [`morcc_domain::Store`], [`morcc_domain::Directory`] and [`morcc_domain::AuditLog`].
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool<Manager>,
    backend: Backend,
    #[cfg(feature = "mysql")]
    watchdog: Option<Watchdog>,
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    statement_deadline: Duration,
    connection_timeout: Duration,
    retry_budget: Duration,
    catalog: Arc<CatalogCache>,
    /// SQLite: the turn to write, taken in arrival order ([`Database::writer_turn`]).
    writer_turn: Arc<FairMutex<()>>,
}

/// How long a checkout waits before it asks whether there is a server to wait for at all.
const UNREACHABLE_AFTER: Duration = Duration::from_secs(1);

impl Database {
    /// Opens a pool on `url`: `sqlite://PATH` (relative, or absolute as `sqlite:///var/..`)
    /// or `mysql://USER:PASSWORD@HOST:PORT/DATABASE` (with the `mysql` feature). Fails when
    /// the first connection cannot be made.
    pub fn connect(url: &str, settings: PoolSettings) -> Result<Database, AdapterError> {
        let target = Target::parse(url)?;
        let backend = target.backend;
        let max_size = settings
            .max_size
            .unwrap_or_else(|| backend.default_pool_size())
            .max(1);
        // SQLite: the file is switched to WAL once, and the pool capped; MySQL: sessions get a
        // watchdog.
        let max_size = match backend {
            Backend::Sqlite => {
                prepare_sqlite_file(&target.address)?;
                max_size.min(SQLITE_MAX_POOL)
            }
            #[cfg(feature = "mysql")]
            Backend::Mysql => max_size,
        };
        #[cfg(feature = "mysql")]
        let watchdog = (backend == Backend::Mysql).then(|| Watchdog::new(&target.address));
        let pool = Pool::builder()
            .max_size(max_size)
            .connection_timeout(settings.connection_timeout)
            .build(Manager {
                target,
                sqlite_synchronous: settings.sqlite_synchronous,
            })
            .map_err(|error| AdapterError::Connect(error.to_string()))?;
        Ok(Database {
            pool,
            backend,
            #[cfg(feature = "mysql")]
            watchdog,
            statement_deadline: settings.statement_deadline,
            connection_timeout: settings.connection_timeout,
            retry_budget: settings.retry_budget,
            catalog: Arc::default(),
            writer_turn: Arc::default(),
        })
    }

    /// This database with the catalog's rows (card groups, taxes, currencies) kept for `ttl`
    /// by its units of work, so a price or rate changed meanwhile applies within `ttl`
    /// (docs/DECISIONS.md). A new cache, shared by this value's clones; the pool stays shared.
    pub fn with_catalog_cached_for(mut self, ttl: Duration) -> Database {
        self.catalog = Arc::new(CatalogCache::new(ttl));
        self
    }

    /// SQLite writes one transaction at a time, and a writer that finds the file locked waits
    /// in SQLite's busy handler, which sleeps and retries in no particular order: under load
    /// some writers waited hundreds of milliseconds while later ones went first. So this
    /// process's transactions take turns here first, in arrival order (a fair lock), and
    /// meet the file lock only when another process (an operator's command) holds it.
    /// Look-ups take no turn: WAL readers run beside the writer. MySQL locks rows, not the
    /// database, and needs no turn.
    fn writer_turn(&self) -> Option<FairMutexGuard<'_, ()>> {
        (self.backend == Backend::Sqlite).then(|| self.writer_turn.lock())
    }

    /// The catalog's rows this database's units of work may reuse.
    pub(crate) fn catalog(&self) -> &CatalogCache {
        &self.catalog
    }

    /// Which backend the URL chose.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the pending migrations of this backend; running it again changes nothing.
    ///
    /// Not watched: a migration may take minutes on a large MOR database (an index on
    /// `actions`), far past a request's statement deadline.
    pub fn run_migrations(&self) -> Result<(), AdapterError> {
        self.migrate(Migration::Pending)
    }

    /// Reverts the newest migration, leaving the database as the previous release migrated
    /// it (tests of an upgrade).
    #[cfg(feature = "testing")]
    pub fn revert_newest_migration(&self) -> Result<(), AdapterError> {
        self.migrate(Migration::RevertNewest)
    }

    /// Runs SQL statements as they are (tests that set up rows in a past schema).
    #[cfg(feature = "testing")]
    pub fn execute_sql(&self, sql: &str) -> Result<(), AdapterError> {
        let mut conn = self.connection()?;
        conn.batch_execute(sql).map_err(store_error)?;
        Ok(())
    }

    fn migrate(&self, migration: Migration) -> Result<(), AdapterError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|error| StoreError::Failure(format!("no database connection: {error}")))?;
        let migrated = match &mut conn.conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(inner) => migration.run(inner, MYSQL_MIGRATIONS),
            AnyConnection::Sqlite(inner) => migration.run(inner, SQLITE_MIGRATIONS),
        };
        migrated.map_err(|error| AdapterError::Migration(error.to_string()))
    }

    /// A health check: a connection can be had and answers a query.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.connection()?.ping().map_err(store_error)
    }

    /// A connection from the pool for one unit of work; waiting longer than the pool's
    /// timeout is a failure.
    ///
    /// A pool that has no connection at all after a second cannot reach its server (dead
    /// connections are dropped as soon as they are tried, and new ones are refused): that fails
    /// at once instead of after the whole timeout, so an instance whose database node died
    /// answers fast. A pool whose connections are all busy (or stalled, as during a Galera
    /// node's eviction) is waited on for the rest of the timeout.
    pub(crate) fn connection(&self) -> Result<Checkout, StoreError> {
        if self.pool.state().idle_connections == 0 {
            metrics::counter!(POOL_WAITS).increment(1);
        }
        let first_wait = UNREACHABLE_AFTER.min(self.connection_timeout);
        let conn = match self.pool.get_timeout(first_wait) {
            Ok(conn) => Ok(conn),
            Err(error) if self.pool.state().connections == 0 => Err(error),
            Err(_) => self
                .pool
                .get_timeout(self.connection_timeout.saturating_sub(first_wait)),
        }
        .map_err(|error| StoreError::Failure(format!("no database connection: {error}")))?;
        #[cfg(feature = "mysql")]
        let watch = match (&self.watchdog, conn.mysql) {
            (Some(watchdog), Some(session)) => Some(watchdog.watch(
                session.connection_id,
                self.statement_deadline,
                conn.killed.clone(),
            )),
            _ => None,
        };
        Ok(Checkout {
            conn,
            #[cfg(feature = "mysql")]
            watch,
        })
    }

    /// Runs `work` in one transaction, committing on `Ok` and rolling back on `Err`, and runs
    /// it again (a bounded number of times, after a short random pause) when it lost a race.
    pub(crate) fn in_transaction<T, E>(
        &self,
        mut work: impl FnMut(&mut AnyConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<StoreError> + Retryable,
    {
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            let turn = self.writer_turn();
            let mut conn = self.connection()?;
            let outcome = once_in_transaction(&mut conn, &mut work);
            #[cfg(feature = "mysql")]
            if outcome.is_err() {
                conn.discard_if_sealed();
            }
            if outcome.is_ok() {
                conn.answered();
            }
            let again = match &outcome {
                Ok(_) => false,
                Err(Failed::Before(error)) => error.is_conflict() || conn.was_killed(),
                // The outcome of a COMMIT that failed is known only for a conflict, which the
                // server reports for a transaction it did not commit. Any other failure (a lost
                // connection, a killed session) may have committed: never run that again.
                Err(Failed::AtCommit(error)) => error.is_conflict(),
            };
            let pause = backoff(attempt);
            if !again || started.elapsed() + pause >= self.retry_budget {
                return outcome.map_err(Failed::into_inner);
            }
            if let Err(failed) = &outcome {
                let cause = retry_cause(failed, conn.was_killed());
                metrics::counter!(TRANSACTION_RETRIES, "cause" => cause).increment(1);
                tracing::debug!(attempt, cause, "transaction lost a race; retrying");
            }
            drop(conn);
            drop(turn);
            std::thread::sleep(pause);
            attempt += 1;
        }
    }
}

/// `morcc_transaction_retries_total{cause}`: units of work run again after a lost race.
pub const TRANSACTION_RETRIES: &str = "morcc_transaction_retries_total";
/// `morcc_db_pool_waits_total`: checkouts that found no idle connection in the pool.
pub const POOL_WAITS: &str = "morcc_db_pool_waits_total";

/// The pool's connections at this moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConnections {
    /// Checked out by a unit of work.
    pub in_use: u32,
    /// Open and waiting for one.
    pub idle: u32,
}

impl Database {
    /// How many of the pool's connections are in use and idle.
    pub fn pool_connections(&self) -> PoolConnections {
        let state = self.pool.state();
        PoolConnections {
            in_use: state.connections - state.idle_connections,
            idle: state.idle_connections,
        }
    }
}

/// Why a unit of work is run again, as a bounded label: what the server reported.
fn retry_cause<E: Retryable>(failed: &Failed<E>, killed: bool) -> &'static str {
    let (message, at_commit) = match failed {
        Failed::Before(error) => (error.conflict_message().unwrap_or_default(), false),
        Failed::AtCommit(error) => (error.conflict_message().unwrap_or_default(), true),
    };
    if killed {
        "session_killed"
    } else if at_commit {
        // Galera reports a failed certification as a deadlock at COMMIT.
        "certification"
    } else if message.contains("Deadlock") {
        "deadlock"
    } else if message.contains("Lock wait timeout") {
        "lock_wait_timeout"
    } else if message.contains("locked") || message.contains("busy") {
        "database_busy"
    } else if message.contains("idempotency key") {
        "idempotency_key"
    } else if message.contains("callerid") {
        "unique_key"
    } else {
        "other"
    }
}

/// Where an attempt of a unit of work failed.
enum Failed<E> {
    /// Before COMMIT: the server rolled back or will roll back; nothing of it is committed.
    Before(E),
    /// At COMMIT.
    AtCommit(E),
}

impl<E> Failed<E> {
    fn into_inner(self) -> E {
        match self {
            Failed::Before(error) | Failed::AtCommit(error) => error,
        }
    }
}

/// One attempt: begin, work, commit or roll back.
fn once_in_transaction<T, E>(
    conn: &mut Checkout,
    work: &mut impl FnMut(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, Failed<E>>
where
    E: From<StoreError>,
{
    take_step(conn, Step::Begin).map_err(|error| Failed::Before(E::from(store_error(error))))?;
    match work(conn) {
        Ok(value) => {
            // A failed commit is rolled back (see `Step::Commit`).
            take_step(conn, Step::Commit)
                .map_err(|error| Failed::AtCommit(E::from(store_error(error))))?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = take_step(conn, Step::Rollback) {
                // A transaction the server aborted (a deadlock, a Galera conflict) may answer
                // the ROLLBACK with the abort's error; the pool discards a connection whose
                // transaction state is broken.
                tracing::debug!(error = %rollback, "rollback failed");
            }
            Err(Failed::Before(error))
        }
    }
}

/// The steps of a transaction's life, which each backend spells its own way (in
/// [`take_step`]).
#[derive(Debug, Clone, Copy)]
enum Step {
    Begin,
    /// When the commit fails, the transaction is rolled back and the error returned.
    Commit,
    Rollback,
}

/// Takes `step` on the checkout's session.
///
/// SQLite takes the write lock at once (`BEGIN IMMEDIATE`): a deferred transaction that
/// upgrades to a write later fails with `SQLITE_BUSY` without waiting, and holding the lock
/// from the start is what makes its reads safe to write back. MySQL begins normally and locks
/// the rows it reads with `FOR UPDATE`; its steps (sealed on a Galera node) are in
/// `mysql::transactions`.
fn take_step(conn: &mut Checkout, step: Step) -> diesel::QueryResult<()> {
    #[cfg(feature = "mysql")]
    let seal = conn.seal();
    match &mut **conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(inner) => match step {
            Step::Begin => mysql::transactions::begin(inner, seal),
            Step::Commit => mysql::transactions::commit(inner, seal),
            Step::Rollback => mysql::transactions::rollback(inner, seal),
        },
        AnyConnection::Sqlite(inner) => match step {
            Step::Begin => AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE"),
            Step::Commit => AnsiTransactionManager::commit_transaction(inner),
            Step::Rollback => AnsiTransactionManager::rollback_transaction(inner),
        },
    }
}

/// A random pause before attempt `attempt + 1`: up to 10 ms, doubling with each lost race up
/// to 160 ms ("full jitter"), so that the racers spread out instead of meeting again and a
/// unit retries often enough to win within its budget.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let ceiling = 10u64 << attempt.saturating_sub(1).min(4);
    Duration::from_millis(rand::rng().random_range(1..=ceiling))
}
