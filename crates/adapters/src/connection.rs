//! Opening the database: the connection enum, the pool, migrations and transactions.

use std::fmt;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel::{Connection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use morcc_domain::StoreError;

use crate::error::{store_error, AdapterError, Retryable};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/mysql");

/// SQLite serialises writers on one lock: more connections than this only queue on it.
const SQLITE_MAX_POOL: u32 = 4;

/// Attempts of one unit of work that keeps losing races (deadlocks, lock timeouts, busy).
const TRANSACTION_ATTEMPTS: u32 = 5;

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

/// Which database a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A MySQL or MariaDB server.
    Mysql,
}

/// Size and patience of the connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once (SQLite pools are capped at 4).
    pub max_size: u32,
    /// How long one wait for a free connection lasts before it fails. A request takes a
    /// connection for each look-up of the filters and for each attempt of its transaction, so
    /// in all it may wait a few times this.
    pub connection_timeout: Duration,
}

impl Default for PoolSettings {
    /// Four connections and a `connection_timeout` of 5 s (each wait for a connection gives
    /// up after 5 s), so overload answers fast instead of queueing for r2d2's default 30 s.
    fn default() -> Self {
        PoolSettings {
            max_size: 4,
            connection_timeout: Duration::from_secs(5),
        }
    }
}

/// Where to connect, from the URL's scheme. `establish` on the enum would try each backend in
/// turn, and SQLite accepts any string as a file name, so the scheme decides instead.
#[derive(Clone)]
enum Target {
    Sqlite(String),
    #[cfg(feature = "mysql")]
    Mysql(String),
}

impl Target {
    fn parse(url: &str) -> Result<Target, AdapterError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(AdapterError::UnsupportedUrl(url.to_owned()));
            }
            return Ok(Target::Sqlite(path.to_owned()));
        }
        if url.starts_with("mysql://") {
            #[cfg(feature = "mysql")]
            return Ok(Target::Mysql(url.to_owned()));
            #[cfg(not(feature = "mysql"))]
            return Err(AdapterError::MysqlNotCompiled);
        }
        // Never echo the URL of another scheme: it may hold a password.
        let scheme = url.split_once("://").map_or("(none)", |(scheme, _)| scheme);
        Err(AdapterError::UnsupportedUrl(format!("scheme {scheme}")))
    }

    fn backend(&self) -> Backend {
        match self {
            Target::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "mysql")]
            Target::Mysql(_) => Backend::Mysql,
        }
    }
}

/// How each MySQL session is prepared.
///
/// A request should not hang on a row lock for InnoDB's default 50 s; a timeout is a conflict,
/// which the unit of work retries.
///
/// READ COMMITTED: every row the call writes is read with FOR UPDATE, which sees the latest
/// committed version at any isolation level; REPEATABLE READ would add gap locks on the unique
/// keys, which only breed deadlocks with inserts of new cards.
///
/// `STRICT_ALL_TABLES`: a value that does not fit its column (a balance past `DECIMAL(30,15)`,
/// an over-long string) is an error, never a clamped or truncated value and a warning; a
/// server configured without strict mode (as MOR servers often are) must not break the ledger.
/// The server's other modes are kept, and a session that already has it is left unchanged.
#[cfg(feature = "mysql")]
const MYSQL_SESSION: &str = "SET SESSION innodb_lock_wait_timeout = 5; \
     SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; \
     SET SESSION sql_mode = IF(FIND_IN_SET('STRICT_ALL_TABLES', @@SESSION.sql_mode) > 0, \
         @@SESSION.sql_mode, CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES'));";

/// The r2d2 manager: opens connections of the URL's backend and prepares each session.
pub(crate) struct Manager {
    target: Target,
}

impl fmt::Debug for Manager {
    // The URL may carry a password: show only the backend.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("backend", &self.target.backend())
            .finish()
    }
}

impl ManageConnection for Manager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        let mut conn = match &self.target {
            Target::Sqlite(path) => SqliteConnection::establish(path).map(AnyConnection::Sqlite),
            #[cfg(feature = "mysql")]
            Target::Mysql(url) => diesel::MysqlConnection::establish(url).map(AnyConnection::Mysql),
        }
        .map_err(diesel::r2d2::Error::ConnectionError)?;
        let session = match &self.target {
            // busy_timeout: wait for the write lock instead of failing at once. WAL: readers
            // never block the writer. NORMAL: durable enough under WAL, far fewer fsyncs.
            // (No foreign_keys pragma: MOR's schema declares no foreign keys.)
            Target::Sqlite(_) => {
                "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL;"
            }
            #[cfg(feature = "mysql")]
            Target::Mysql(_) => MYSQL_SESSION,
        };
        conn.batch_execute(session)
            .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut AnyConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut AnyConnection) -> bool {
        conn.is_broken()
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
}

impl Database {
    /// Opens a pool on `url`: `sqlite://PATH` (relative, or absolute as `sqlite:///var/..`)
    /// or `mysql://USER:PASSWORD@HOST:PORT/DATABASE` (with the `mysql` feature). Fails when
    /// the first connection cannot be made.
    pub fn connect(url: &str, settings: PoolSettings) -> Result<Database, AdapterError> {
        let target = Target::parse(url)?;
        let backend = target.backend();
        let max_size = match backend {
            Backend::Sqlite => settings.max_size.clamp(1, SQLITE_MAX_POOL),
            Backend::Mysql => settings.max_size.max(1),
        };
        let pool = Pool::builder()
            .max_size(max_size)
            .connection_timeout(settings.connection_timeout)
            .build(Manager { target })
            .map_err(|error| AdapterError::Connect(error.to_string()))?;
        Ok(Database { pool, backend })
    }

    /// Which backend the URL chose.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the pending migrations of this backend; running it again changes nothing.
    pub fn run_migrations(&self) -> Result<(), AdapterError> {
        let mut conn = self.connection()?;
        let applied = match &mut *conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(inner) => inner.run_pending_migrations(MYSQL_MIGRATIONS).map(drop),
            AnyConnection::Sqlite(inner) => {
                inner.run_pending_migrations(SQLITE_MIGRATIONS).map(drop)
            }
        };
        applied.map_err(|error| AdapterError::Migration(error.to_string()))
    }

    /// A health check: a connection can be had and answers a query.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.connection()?.ping().map_err(store_error)
    }

    /// A connection from the pool; waiting longer than the pool's timeout is a failure.
    pub(crate) fn connection(&self) -> Result<PooledConnection<Manager>, StoreError> {
        self.pool
            .get()
            .map_err(|error| StoreError::Failure(format!("no database connection: {error}")))
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
        let mut attempt = 1;
        loop {
            let mut conn = self.connection()?;
            match once_in_transaction(&mut conn, &mut work) {
                Err(error) if error.is_conflict() && attempt < TRANSACTION_ATTEMPTS => {
                    tracing::debug!(attempt, "transaction lost a race; retrying");
                    drop(conn);
                    std::thread::sleep(backoff(attempt));
                    attempt += 1;
                }
                outcome => return outcome,
            }
        }
    }
}

/// One attempt: begin, work, commit or roll back.
fn once_in_transaction<T, E>(
    conn: &mut AnyConnection,
    work: &mut impl FnMut(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<StoreError>,
{
    begin(conn).map_err(|error| E::from(store_error(error)))?;
    match work(conn) {
        Ok(value) => {
            // diesel rolls back itself when the commit fails.
            AnyTransactions::commit_transaction(conn)
                .map_err(|error| E::from(store_error(error)))?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = AnyTransactions::rollback_transaction(conn) {
                // The pool discards a connection whose transaction state is broken.
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(error)
        }
    }
}

type AnyTransactions = <AnyConnection as Connection>::TransactionManager;

/// Opens the transaction. SQLite takes the write lock at once (`BEGIN IMMEDIATE`): a deferred
/// transaction that upgrades to a write later fails with `SQLITE_BUSY` without waiting, and
/// holding the lock from the start is what makes its reads safe to write back. MySQL begins
/// normally and locks the rows it reads with `FOR UPDATE`.
fn begin(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(inner) => AnsiTransactionManager::begin_transaction(inner),
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
    }
}

/// A random pause before attempt `attempt + 1`: up to 10 ms, doubling with each lost race
/// ("full jitter"), so that the racers spread out instead of meeting again.
fn backoff(attempt: u32) -> Duration {
    use rand::Rng;
    let ceiling = 10u64 << attempt.saturating_sub(1).min(6);
    Duration::from_millis(rand::rng().random_range(1..=ceiling))
}

#[cfg(all(test, feature = "mysql"))]
mod tests {
    use diesel::sql_types::Text;
    use diesel::{MysqlConnection, RunQueryDsl};

    use super::*;

    fn sql_mode(conn: &mut MysqlConnection) -> String {
        diesel::select(diesel::dsl::sql::<Text>("@@SESSION.sql_mode"))
            .get_result(conn)
            .unwrap()
    }

    /// Whatever the server's modes, a session is strict, keeps the other modes, and preparing
    /// it twice changes nothing more.
    #[test]
    fn mysql_sessions_are_strict() {
        let Ok(url) = std::env::var("MORCC_TEST_MYSQL_URL") else {
            eprintln!("MORCC_TEST_MYSQL_URL is not set: skipped");
            return;
        };
        let mut conn = MysqlConnection::establish(&url).unwrap();
        for server_modes in ["", "NO_ENGINE_SUBSTITUTION", "STRICT_ALL_TABLES"] {
            conn.batch_execute(&format!("SET SESSION sql_mode = '{server_modes}'"))
                .unwrap();
            conn.batch_execute(MYSQL_SESSION).unwrap();
            let once = sql_mode(&mut conn);
            conn.batch_execute(MYSQL_SESSION).unwrap();
            assert_eq!(sql_mode(&mut conn), once, "idempotent");
            let modes: Vec<&str> = once.split(',').collect();
            assert_eq!(
                modes
                    .iter()
                    .filter(|mode| **mode == "STRICT_ALL_TABLES")
                    .count(),
                1,
                "{once}"
            );
            for kept in server_modes.split(',').filter(|mode| !mode.is_empty()) {
                assert!(modes.contains(&kept), "{kept} lost: {once}");
            }
        }
    }
}
