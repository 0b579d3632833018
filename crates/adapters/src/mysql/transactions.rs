//! `BEGIN`, `COMMIT` and `ROLLBACK` on MySQL in one round trip each.
//!
//! diesel's [`AnsiTransactionManager`] sends them with `batch_execute`, which wraps each in two
//! `mysql_set_server_option` calls (multi-statements on, then off): three round trips where one
//! will do. Here they go as prepared statements, which diesel's statement cache prepares once
//! per connection, so each is one `COM_STMT_EXECUTE`. The transaction manager's state is kept
//! exactly as diesel keeps it: the depth goes up after `BEGIN` and down after `COMMIT` or
//! `ROLLBACK`, a failed commit is rolled back, and a failed rollback marks the manager in error
//! (the pool then discards the connection). Anything but a top-level transaction (savepoints)
//! is left to diesel.
//!
//! Only MariaDB 10 and later prepare all three; MySQL refuses `BEGIN` and `ROLLBACK` in the
//! prepared-statement protocol. So the server is asked its version when the first connection
//! opens ([`note_server`]), and any other server keeps diesel's `batch_execute`. Nothing
//! depends on the text of an error message, which the server may give in any language.

use diesel::connection::{
    AnsiTransactionManager, TransactionDepthChange, TransactionManager, TransactionManagerStatus,
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
pub(crate) fn note_server(conn: &mut MysqlConnection) -> QueryResult<()> {
    if PREPARES_TRANSACTIONS.get().is_none() {
        let version = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("VERSION()"))
            .get_result::<String>(conn)?;
        let _ = PREPARES_TRANSACTIONS.set(prepares_transactions(&version));
    }
    Ok(())
}

/// MariaDB 10 and later prepare every transaction statement; MySQL (any version) does not
/// prepare `BEGIN` and `ROLLBACK`.
pub(crate) fn prepares_transactions(version: &str) -> bool {
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

/// How a session opens and closes a unit of work.
///
/// On one server a transaction ends only when the client ends it, or with the error of the
/// statement that lost a deadlock. On a Galera node a replicated transaction can abort a local
/// one at any moment, and the server may report that to no statement at all (seen: a statement
/// whose reply never came, a session in `Killed` or `Sleep` state while its client waited).
/// With `BEGIN` and autocommit, every statement after such an abort would commit on its own.
/// So a node's unit of work is sealed: autocommit is off for its duration, so that nothing
/// commits but its `COMMIT`; and a savepoint taken at the start must still exist just before
/// `COMMIT`, which proves that the transaction being committed is the one that began. If it is
/// gone, the transaction was lost: it is rolled back (with whatever ran after the loss) and
/// reported as a lost race, and the unit runs again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seal {
    /// `BEGIN` ... `COMMIT`: a server that never aborts a transaction unannounced.
    Plain,
    /// Autocommit off and a savepoint: a Galera node.
    Sealed,
}

/// The savepoint that seals a unit of work.
const SAVEPOINT: &str = "SAVEPOINT morcc_unit";
const RELEASE_SAVEPOINT: &str = "RELEASE SAVEPOINT morcc_unit";

pub(crate) fn begin(conn: &mut MysqlConnection, seal: Seal) -> QueryResult<()> {
    if depth(conn)?.is_some() {
        return AnsiTransactionManager::begin_transaction(conn);
    }
    match seal {
        Seal::Plain => run(conn, "BEGIN")?,
        Seal::Sealed => {
            run(conn, "SET autocommit = 0")?;
            if let Err(error) = run(conn, SAVEPOINT) {
                // The session is unusable for a unit of work: let the pool replace it.
                AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
                return Err(error);
            }
        }
    }
    change_depth(conn, TransactionDepthChange::IncreaseDepth)
}

/// A unit of work whose transaction the server ended before `COMMIT`: a lost race.
fn lost_before_commit(cause: Error) -> Error {
    Error::DatabaseError(
        diesel::result::DatabaseErrorKind::SerializationFailure,
        Box::new(format!(
            "the transaction was aborted by the server before COMMIT ({cause})"
        )),
    )
}

pub(crate) fn commit(conn: &mut MysqlConnection, seal: Seal) -> QueryResult<()> {
    match depth(conn)? {
        None => return Err(Error::NotInTransaction),
        Some(1) => {}
        Some(_) => return AnsiTransactionManager::commit_transaction(conn),
    }
    if seal == Seal::Sealed {
        if let Err(gone) = run(conn, RELEASE_SAVEPOINT) {
            let lost = lost_before_commit(gone);
            return match rollback(conn, seal) {
                Ok(()) => Err(lost),
                Err(rollback_error) => Err(Error::RollbackErrorOnCommit {
                    rollback_error: Box::new(rollback_error),
                    commit_error: Box::new(lost),
                }),
            };
        }
    }
    match run(conn, "COMMIT") {
        Ok(()) => {
            match change_depth(conn, TransactionDepthChange::DecreaseDepth) {
                // The connection may have seen the transaction end already.
                Ok(()) | Err(Error::NotInTransaction) => {}
                Err(error) => return Err(error),
            }
            // Committed: whatever happens now, the unit succeeded. A session left without
            // autocommit would keep the next user's statements uncommitted: discard it.
            if seal == Seal::Sealed && run(conn, "SET autocommit = 1").is_err() {
                AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
            }
            Ok(())
        }
        Err(commit_error) => {
            // As diesel does: a top-level commit that failed may have left the transaction
            // open; roll it back, and if even that fails the connection is unusable.
            if depth(conn).ok().flatten().is_some() {
                if let Err(rollback_error) = rollback(conn, seal) {
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

pub(crate) fn rollback(conn: &mut MysqlConnection, seal: Seal) -> QueryResult<()> {
    match depth(conn)? {
        None => return Err(Error::NotInTransaction),
        Some(1) => {}
        Some(_) => return AnsiTransactionManager::rollback_transaction(conn),
    }
    match run(conn, "ROLLBACK") {
        Ok(()) => {
            match change_depth(conn, TransactionDepthChange::DecreaseDepth) {
                Ok(()) | Err(Error::NotInTransaction) => {}
                Err(error) => return Err(error),
            }
            if seal == Seal::Sealed {
                if let Err(error) = run(conn, "SET autocommit = 1") {
                    AnsiTransactionManager::transaction_manager_status_mut(conn).set_in_error();
                    return Err(error);
                }
            }
            Ok(())
        }
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
