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

/// Size and patience of the connection pool, and how durable an SQLite commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once (SQLite pools are capped at 4).
    pub max_size: u32,
    /// How long one wait for a free connection lasts before it fails. A request takes a
    /// connection for each look-up of the filters and for each attempt of its transaction, so
    /// in all it may wait a few times this.
    pub connection_timeout: Duration,
    /// SQLite's `synchronous` pragma (MySQL's durability is the server's own setting).
    pub sqlite_synchronous: SqliteSynchronous,
}

impl Default for PoolSettings {
    /// Four connections and a `connection_timeout` of 5 s (each wait for a connection gives
    /// up after 5 s), so overload answers fast instead of queueing for r2d2's default 30 s;
    /// SQLite commits durable before they are acknowledged.
    fn default() -> Self {
        PoolSettings {
            max_size: 4,
            connection_timeout: Duration::from_secs(5),
            sqlite_synchronous: SqliteSynchronous::default(),
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
            // The file is in WAL mode already (`prepare_sqlite_file`).
            Target::Sqlite(_) => {
                format!("{SQLITE_BUSY_TIMEOUT} {}", self.sqlite_synchronous.pragma())
            }
            #[cfg(feature = "mysql")]
            Target::Mysql(_) => MYSQL_SESSION.to_owned(),
        };
        conn.batch_execute(&session)
            .map_err(diesel::r2d2::Error::QueryError)?;
        #[cfg(feature = "mysql")]
        if let AnyConnection::Mysql(inner) = &mut conn {
            mysql_transactions::note_server(inner).map_err(diesel::r2d2::Error::QueryError)?;
        }
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
        match &target {
            Target::Sqlite(path) => prepare_sqlite_file(path)?,
            #[cfg(feature = "mysql")]
            Target::Mysql(_) => {}
        }
        let pool = Pool::builder()
            .max_size(max_size)
            .connection_timeout(settings.connection_timeout)
            .build(Manager {
                target,
                sqlite_synchronous: settings.sqlite_synchronous,
            })
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
            // A failed commit is rolled back (see `commit`).
            commit(conn).map_err(|error| E::from(store_error(error)))?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = rollback(conn) {
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
        AnyConnection::Mysql(inner) => mysql_transactions::begin(inner),
        AnyConnection::Sqlite(inner) => {
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
        }
    }
}

/// Commits the transaction; when the commit fails, rolls it back and returns the error.
fn commit(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(inner) => mysql_transactions::commit(inner),
        AnyConnection::Sqlite(_) => AnyTransactions::commit_transaction(conn),
    }
}

/// Rolls the transaction back.
fn rollback(conn: &mut AnyConnection) -> diesel::QueryResult<()> {
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(inner) => mysql_transactions::rollback(inner),
        AnyConnection::Sqlite(_) => AnyTransactions::rollback_transaction(conn),
    }
}

/// `BEGIN`, `COMMIT` and `ROLLBACK` on MySQL in one round trip each.
///
/// diesel's [`AnsiTransactionManager`] sends them with `batch_execute`, which wraps each in two
/// `mysql_set_server_option` calls (multi-statements on, then off): three round trips where one
/// will do. Here they go as prepared statements, which diesel's statement cache prepares once
/// per connection, so each is one `COM_STMT_EXECUTE`. The transaction manager's state is kept
/// exactly as diesel keeps it: the depth goes up after `BEGIN` and down after `COMMIT` or
/// `ROLLBACK`, a failed commit is rolled back, and a failed rollback marks the manager in error
/// (the pool then discards the connection). Anything but a top-level transaction (savepoints)
/// is left to diesel.
///
/// Only MariaDB 10 and later prepare all three; MySQL refuses `BEGIN` and `ROLLBACK` in the
/// prepared-statement protocol. So the server is asked its version when the first connection
/// opens ([`note_server`]), and any other server keeps diesel's `batch_execute`. Nothing
/// depends on the text of an error message, which the server may give in any language.
#[cfg(feature = "mysql")]
mod mysql_transactions {
    use diesel::connection::{
        AnsiTransactionManager, TransactionDepthChange, TransactionManager,
        TransactionManagerStatus,
    };
    use diesel::mysql::Mysql;
    use diesel::query_builder::{AstPass, QueryFragment, QueryId};
    use diesel::result::Error;
    use diesel::{MysqlConnection, QueryResult, RunQueryDsl};
    use std::sync::OnceLock;

    /// A fixed statement that diesel may keep prepared, keyed by its text (`sql_query` is never
    /// kept: it would be prepared and closed again every time).
    #[derive(Debug, Clone, Copy)]
    struct Statement(&'static str);

    impl QueryFragment<Mysql> for Statement {
        fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
            out.push_sql(self.0);
            Ok(())
        }
    }

    impl QueryId for Statement {
        type QueryId = ();
        const HAS_STATIC_QUERY_ID: bool = false;
    }

    impl RunQueryDsl<MysqlConnection> for Statement {}

    fn depth(conn: &mut MysqlConnection) -> QueryResult<Option<u32>> {
        Ok(AnsiTransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()?
            .map(|depth| depth.get()))
    }

    fn change_depth(conn: &mut MysqlConnection, change: TransactionDepthChange) -> QueryResult<()> {
        match AnsiTransactionManager::transaction_manager_status_mut(conn) {
            TransactionManagerStatus::Valid(status) => status.change_transaction_depth(change),
            TransactionManagerStatus::InError => Err(Error::BrokenTransactionManager),
        }
    }

    /// Whether the server prepares `BEGIN`, `COMMIT` and `ROLLBACK`: MariaDB 10 or later,
    /// from the first connection's `VERSION()`. Unknown until then: not assumed.
    static PREPARES_TRANSACTIONS: OnceLock<bool> = OnceLock::new();

    /// Asks a new connection's server its version, once per process (all connections of a
    /// pool go to the same kind of server).
    pub(super) fn note_server(conn: &mut MysqlConnection) -> QueryResult<()> {
        if PREPARES_TRANSACTIONS.get().is_none() {
            let version = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("VERSION()"))
                .get_result::<String>(conn)?;
            let _ = PREPARES_TRANSACTIONS.set(prepares_transactions(&version));
        }
        Ok(())
    }

    /// MariaDB 10 and later prepare every transaction statement; MySQL (any version) does not
    /// prepare `BEGIN` and `ROLLBACK`.
    pub(super) fn prepares_transactions(version: &str) -> bool {
        let major = version
            .split('.')
            .next()
            .and_then(|major| major.parse::<u32>().ok());
        version.contains("MariaDB") && major.is_some_and(|major| major >= 10)
    }

    /// Runs `sql` (a statement without parameters or rows): in one round trip once prepared
    /// where the server allows it, else through diesel's `batch_execute`.
    fn run(conn: &mut MysqlConnection, sql: &'static str) -> QueryResult<()> {
        if PREPARES_TRANSACTIONS.get().copied().unwrap_or(false) {
            Statement(sql).execute(conn).map(drop)
        } else {
            diesel::connection::SimpleConnection::batch_execute(conn, sql)
        }
    }

    pub(super) fn begin(conn: &mut MysqlConnection) -> QueryResult<()> {
        if depth(conn)?.is_some() {
            return AnsiTransactionManager::begin_transaction(conn);
        }
        run(conn, "BEGIN")?;
        change_depth(conn, TransactionDepthChange::IncreaseDepth)
    }

    pub(super) fn commit(conn: &mut MysqlConnection) -> QueryResult<()> {
        match depth(conn)? {
            None => return Err(Error::NotInTransaction),
            Some(1) => {}
            Some(_) => return AnsiTransactionManager::commit_transaction(conn),
        }
        match run(conn, "COMMIT") {
            Ok(()) => match change_depth(conn, TransactionDepthChange::DecreaseDepth) {
                // The connection may have seen the transaction end already.
                Ok(()) | Err(Error::NotInTransaction) => Ok(()),
                Err(error) => Err(error),
            },
            Err(commit_error) => {
                // As diesel does: a top-level commit that failed may have left the transaction
                // open; roll it back, and if even that fails the connection is unusable.
                if depth(conn).ok().flatten().is_some() {
                    if let Err(rollback_error) = rollback(conn) {
                        AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
                        return Err(Error::RollbackErrorOnCommit {
                            rollback_error: Box::new(rollback_error),
                            commit_error: Box::new(commit_error),
                        });
                    }
                }
                Err(commit_error)
            }
        }
    }

    pub(super) fn rollback(conn: &mut MysqlConnection) -> QueryResult<()> {
        match depth(conn)? {
            None => return Err(Error::NotInTransaction),
            Some(1) => {}
            Some(_) => return AnsiTransactionManager::rollback_transaction(conn),
        }
        match run(conn, "ROLLBACK") {
            Ok(()) => match change_depth(conn, TransactionDepthChange::DecreaseDepth) {
                Ok(()) | Err(Error::NotInTransaction) => Ok(()),
                Err(error) => Err(error),
            },
            Err(error) => {
                let status = AnsiTransactionManager::transaction_manager_status_mut(conn);
                // Unless the connection already saw the transaction end, its state is unknown.
                if status.transaction_depth().ok().flatten().is_some() {
                    status.set_in_error();
                }
                Err(error)
            }
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

    fn session_counter(conn: &mut MysqlConnection, name: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = Text)]
            #[diesel(column_name = "Value")]
            value: String,
        }
        let rows: Vec<Row> = diesel::sql_query(format!("SHOW SESSION STATUS LIKE '{name}'"))
            .load(conn)
            .unwrap();
        rows[0].value.parse().unwrap()
    }

    #[test]
    fn only_mariadb_10_and_later_is_trusted_to_prepare_transaction_statements() {
        use mysql_transactions::prepares_transactions;
        assert!(prepares_transactions("10.11.19-MariaDB-0+deb12u1"));
        assert!(prepares_transactions("11.4.2-MariaDB"));
        assert!(!prepares_transactions("5.5.68-MariaDB"));
        assert!(!prepares_transactions("8.0.36"));
        assert!(!prepares_transactions("5.7.44-log"));
        assert!(!prepares_transactions(""));
    }

    /// `BEGIN`, `COMMIT` and `ROLLBACK` keep diesel's transaction state, commit and roll back,
    /// and never toggle multi-statements (one round trip each).
    #[test]
    fn mysql_transactions_take_one_statement_each() {
        let Ok(url) = std::env::var("MORCC_TEST_MYSQL_URL") else {
            eprintln!("MORCC_TEST_MYSQL_URL is not set: skipped");
            return;
        };
        let mut conn = MysqlConnection::establish(&url).unwrap();
        mysql_transactions::note_server(&mut conn).unwrap();
        let version: String =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("VERSION()"))
                .get_result(&mut conn)
                .unwrap();
        if !mysql_transactions::prepares_transactions(&version) {
            return eprintln!("{version} does not prepare BEGIN and ROLLBACK: nothing to measure");
        }
        let database = format!("morcc_transactions_{}", std::process::id());
        conn.batch_execute(&format!(
            "CREATE DATABASE IF NOT EXISTS {database}; USE {database}; \
             CREATE TEMPORARY TABLE t (n INT) ENGINE = InnoDB"
        ))
        .unwrap();
        let depth = |conn: &mut MysqlConnection| {
            AnsiTransactionManager::transaction_manager_status_mut(conn)
                .transaction_depth()
                .unwrap()
                .map(|depth| depth.get())
        };
        let count = |conn: &mut MysqlConnection| -> i64 {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT COUNT(*) FROM t)",
            ))
            .get_result(conn)
            .unwrap()
        };
        for _ in 0..3 {
            mysql_transactions::begin(&mut conn).unwrap();
            assert_eq!(depth(&mut conn), Some(1));
            conn.batch_execute("INSERT INTO t VALUES (1)").unwrap();
            mysql_transactions::rollback(&mut conn).unwrap();
            assert_eq!(depth(&mut conn), None);
            assert_eq!(count(&mut conn), 0, "rolled back");
        }
        // Counters before and after three transactions whose only other statement is a batch
        // (two `set_option` each); reading a counter prepares one statement.
        let options = session_counter(&mut conn, "Com_set_option");
        let prepared = session_counter(&mut conn, "Com_stmt_prepare");
        let commits = session_counter(&mut conn, "Com_commit");
        for _ in 0..3 {
            mysql_transactions::begin(&mut conn).unwrap();
            conn.batch_execute("INSERT INTO t VALUES (1)").unwrap();
            mysql_transactions::commit(&mut conn).unwrap();
            assert_eq!(depth(&mut conn), None);
        }
        assert_eq!(count(&mut conn), 3, "committed");
        assert_eq!(session_counter(&mut conn, "Com_commit"), commits + 3);
        assert_eq!(
            session_counter(&mut conn, "Com_set_option"),
            options + 6,
            "no multi-statement toggles around BEGIN and COMMIT"
        );
        assert_eq!(
            session_counter(&mut conn, "Com_stmt_prepare"),
            prepared + 6,
            "COMMIT prepared once (BEGIN already was); the count and four counter reads"
        );
        assert!(matches!(
            mysql_transactions::commit(&mut conn),
            Err(diesel::result::Error::NotInTransaction)
        ));
        conn.batch_execute(&format!("DROP DATABASE {database}"))
            .unwrap();
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
