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

pub(crate) fn begin(conn: &mut MysqlConnection) -> QueryResult<()> {
    if depth(conn)?.is_some() {
        return AnsiTransactionManager::begin_transaction(conn);
    }
    run(conn, "BEGIN")?;
    change_depth(conn, TransactionDepthChange::IncreaseDepth)
}

pub(crate) fn commit(conn: &mut MysqlConnection) -> QueryResult<()> {
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

pub(crate) fn rollback(conn: &mut MysqlConnection) -> QueryResult<()> {
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
