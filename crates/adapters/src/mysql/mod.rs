//! Everything that only MySQL and MariaDB need: how a session is prepared, one-round-trip
//! transaction statements, the statements kept prepared and the id-order locking of the call,
//! and the watchdog that ends a statement whose reply never comes.
//! The rest of the adapters match on the backend only to call in here.

pub(crate) mod statements;
pub(crate) mod transactions;
pub(crate) mod watchdog;

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, MysqlConnection, QueryResult, RunQueryDsl};

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
pub(crate) const SESSION: &str = "SET SESSION innodb_lock_wait_timeout = 5; \
     SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; \
     SET SESSION sql_mode = IF(FIND_IN_SET('STRICT_ALL_TABLES', @@SESSION.sql_mode) > 0, \
         @@SESSION.sql_mode, CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), 'STRICT_ALL_TABLES'));";

/// What the adapters know of a MySQL session.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionInfo {
    /// `CONNECTION_ID()`: the session the watchdog kills when a statement hangs.
    pub(crate) connection_id: u64,
    /// How its units of work begin and end: sealed on a Galera node.
    pub(crate) seal: transactions::Seal,
}

/// Prepares a new session ([`SESSION`]) and, on a Galera node, makes its reads causal:
/// `wsrep_sync_wait = 1` makes a read wait until the node has applied every transaction the
/// cluster committed before it, so a balance topped up through one node is seen through any
/// other (without it a read can return the row as it was a moment before). Returns what the
/// adapters need to know of the session.
pub(crate) fn prepare_session(conn: &mut MysqlConnection) -> QueryResult<SessionInfo> {
    conn.batch_execute(SESSION)?;
    transactions::note_server(conn)?;
    let galera = is_galera_node(conn)?;
    if galera {
        conn.batch_execute("SET SESSION wsrep_sync_wait = 1")?;
    }
    let connection_id =
        diesel::select(diesel::dsl::sql::<BigInt>("CONNECTION_ID()")).get_result::<i64>(conn)?;
    Ok(SessionInfo {
        connection_id: u64::try_from(connection_id).unwrap_or_default(),
        seal: if galera {
            transactions::Seal::Sealed
        } else {
            transactions::Seal::Plain
        },
    })
}

/// `wsrep_on` exists on MariaDB servers built with Galera support and is `ON` on a node of a
/// cluster; MySQL has no such variable (no row).
fn is_galera_node(conn: &mut MysqlConnection) -> QueryResult<bool> {
    #[derive(diesel::QueryableByName)]
    struct Variable {
        #[diesel(sql_type = Text)]
        #[diesel(column_name = "Value")]
        value: String,
    }
    let rows: Vec<Variable> = diesel::sql_query("SHOW VARIABLES LIKE 'wsrep_on'").load(conn)?;
    Ok(rows.iter().any(|row| row.value.eq_ignore_ascii_case("ON")))
}

/// How long opening a TCP connection to the server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Opens a connection to the server of `url`, failing within [`CONNECT_TIMEOUT`] when the
/// server's TCP port does not answer.
///
/// The client library waits for a TCP connection as long as the operating system retries
/// (minutes, for a host that drops the SYN) and diesel's URL cannot set
/// `MYSQL_OPT_CONNECT_TIMEOUT`. A dead database host on a real network would hold the pool's
/// connecting threads (and the watchdog's) that long. So the port is tried first, with a
/// bound; a URL with a Unix socket is connected as it is. (On loopback a dead port refuses at
/// once, so the cluster test does not exercise the bound.)
pub(crate) fn establish(url: &str) -> diesel::ConnectionResult<MysqlConnection> {
    if let Some(address) = tcp_address(url) {
        let reachable = address
            .to_socket_addrs()
            .ok()
            .and_then(|mut addresses| addresses.next())
            .is_some_and(|address| TcpStream::connect_timeout(&address, CONNECT_TIMEOUT).is_ok());
        if !reachable {
            return Err(diesel::ConnectionError::BadConnection(format!(
                "the server's port does not answer within {CONNECT_TIMEOUT:?}"
            )));
        }
    }
    MysqlConnection::establish(url)
}

/// `host:port` of a `mysql://[user[:password]@]host[:port][/database][?options]` URL; `None`
/// when it names a Unix socket.
fn tcp_address(url: &str) -> Option<String> {
    let rest = url.strip_prefix("mysql://")?;
    if rest.contains("unix_socket=") {
        return None;
    }
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host_port.is_empty() {
        return None;
    }
    Some(if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:3306")
    })
}

/// The server of the unit tests that need one: `MORCC_TEST_MYSQL_URL`, which a test run with
/// the `mysql` feature must set (without it such a test fails rather than passing unseen).
#[cfg(test)]
pub(crate) fn test_server_url() -> String {
    std::env::var("MORCC_TEST_MYSQL_URL")
        .expect("MORCC_TEST_MYSQL_URL must name a MySQL server for this test")
}

#[cfg(test)]
mod tests {
    use diesel::sql_types::Text;
    use diesel::{MysqlConnection, RunQueryDsl};

    use super::*;
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::Connection;

    fn sql_mode(conn: &mut MysqlConnection) -> String {
        diesel::select(diesel::dsl::sql::<Text>("@@SESSION.sql_mode"))
            .get_result(conn)
            .unwrap()
    }

    /// A pool of one session, so that a test's units of work all run on the session it reads
    /// the counters of.
    fn pool_of_one() -> crate::PoolSettings {
        crate::PoolSettings {
            max_size: Some(1),
            ..crate::PoolSettings::default()
        }
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

    /// A session handed out again moments after a unit of work on it succeeded is not pinged
    /// (no `SELECT 1` round trip per request); one whose last success is older than
    /// `TRUSTED_AFTER_ANSWERING` is, even when a failed unit used it meanwhile.
    #[test]
    fn only_a_session_that_did_not_answer_lately_is_pinged_before_it_is_handed_out() {
        let url = test_server_url();
        let database = crate::Database::connect(&url, pool_of_one()).unwrap();
        // The session's SELECTs so far, read by a unit of work that succeeds or fails.
        let selects = |succeeds: bool| {
            let mut checkout = database.connection().unwrap();
            let crate::connection::AnyConnection::Mysql(conn) = &mut *checkout else {
                unreachable!("a MySQL URL")
            };
            let count = session_counter(conn, "Com_select");
            if succeeds {
                checkout.answered();
            }
            count
        };
        let first = selects(true);
        assert_eq!(selects(true), first, "handed out again at once: no ping");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(selects(true), first + 1, "idle for over a second: one ping");
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert_eq!(selects(false), first + 1, "0.6 s after a success: no ping");
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert_eq!(
            selects(true),
            first + 2,
            "1.2 s after the last success, a failure since: one ping"
        );
    }

    /// The round-trip floor (issue 14): with the catalog cached, a card top-up sends `BEGIN`,
    /// one locked read, `UPDATE`, `INSERT`, `COMMIT`, and a card look-up one `SELECT`,
    /// counted by the session's `Questions` on a pool of one session.
    #[cfg(feature = "testing")]
    #[test]
    fn a_card_top_up_takes_five_statements_and_a_look_up_one() {
        use bigdecimal::BigDecimal;
        use morcc_domain::{cc_by_cli, Caller, CardRequest, Money, OwnerId, UserType};

        use crate::admin::{self, CardGroupSpec, TaxSpec};

        let url = test_server_url();
        let scratch = crate::testing::ScratchDatabase::mysql_with(&url, pool_of_one()).unwrap();
        let database = scratch
            .database()
            .clone()
            .with_catalog_cached_for(std::time::Duration::from_secs(600));
        let caller = Caller {
            id: admin::create_user(
                &database,
                "a",
                "pw",
                &UserType::Admin,
                OwnerId(0),
                &Money::zero(),
            )
            .unwrap(),
            owner: OwnerId(0),
            usertype: UserType::Admin,
        };
        // A group with a tax, priced in another currency: every catalog row a top-up reads.
        let tax = admin::create_tax(
            &database,
            &TaxSpec {
                values: [20, 0, 0, 0].map(BigDecimal::from),
                enabled: [true, false, false, false],
                compound: false,
            },
        )
        .unwrap();
        admin::set_exchange_rate(&database, "EUR", &BigDecimal::from(2)).unwrap();
        let group = admin::create_card_group(
            &database,
            &CardGroupSpec {
                name: "g".into(),
                tax_id: Some(tax),
                currency: "EUR".into(),
                ..CardGroupSpec::default()
            },
        )
        .unwrap();
        let request = |amount: &str, group: Option<String>| CardRequest {
            callerid: Some("5550001".into()),
            amount: Some(amount.into()),
            cardgroup_id: group,
            ..CardRequest::default()
        };
        let serve = |request: &CardRequest| {
            cc_by_cli(&database, &crate::SecureCodes, &caller, request).unwrap();
        };
        // The card, then one top-up and one look-up: the cache and the session's prepared
        // statements are warm.
        serve(&request("10", Some(group.0.to_string())));
        serve(&request("1", None));
        serve(&request("0", None));
        let questions = || {
            let mut checkout = database.connection().unwrap();
            let crate::connection::AnyConnection::Mysql(conn) = &mut *checkout else {
                unreachable!("a MySQL URL")
            };
            let count = session_counter(conn, "Questions");
            checkout.answered();
            count
        };
        // Reading the counter is itself counted.
        let first = questions();
        let per_reading = questions() - first;
        let statements_of = |request: &CardRequest| {
            let before = questions();
            serve(request);
            questions() - before - per_reading
        };
        assert_eq!(statements_of(&request("2.5", None)), 5, "a card top-up");
        assert_eq!(statements_of(&request("0", None)), 1, "a card look-up");
    }

    #[test]
    fn only_mariadb_10_and_later_is_trusted_to_prepare_transaction_statements() {
        use transactions::prepares_transactions;
        assert!(prepares_transactions("10.11.19-MariaDB-0+deb12u1"));
        assert!(prepares_transactions("11.4.2-MariaDB"));
        assert!(!prepares_transactions("5.5.68-MariaDB"));
        assert!(!prepares_transactions("8.0.36"));
        assert!(!prepares_transactions("5.7.44-log"));
        assert!(!prepares_transactions(""));
    }

    /// A sealed unit of work whose transaction the server ended unannounced (as a Galera node
    /// may) cannot commit what ran after the loss: the savepoint is gone, so `commit` rolls
    /// back and reports a lost race; nothing of the unit is committed, and the session is back
    /// in autocommit. An intact sealed unit commits.
    #[test]
    fn a_sealed_unit_that_lost_its_transaction_commits_nothing() {
        use diesel::result::{DatabaseErrorKind, Error};
        use transactions::Seal;

        let url = test_server_url();
        let mut conn = MysqlConnection::establish(&url).unwrap();
        prepare_session(&mut conn).unwrap();
        let database = format!("morcc_seal_{}", std::process::id());
        conn.batch_execute(&format!(
            "CREATE DATABASE IF NOT EXISTS {database}; USE {database}; \
             CREATE TABLE IF NOT EXISTS t (n INT) ENGINE = InnoDB"
        ))
        .unwrap();
        let count = |conn: &mut MysqlConnection| -> i64 {
            diesel::select(diesel::dsl::sql::<BigInt>("(SELECT COUNT(*) FROM t)"))
                .get_result(conn)
                .unwrap()
        };
        let autocommit = |conn: &mut MysqlConnection| -> i64 {
            diesel::select(diesel::dsl::sql::<BigInt>("@@autocommit"))
                .get_result(conn)
                .unwrap()
        };

        transactions::begin(&mut conn, Seal::Sealed).unwrap();
        conn.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        // The server ends the transaction behind the client's back; the unit goes on.
        conn.batch_execute("ROLLBACK").unwrap();
        conn.batch_execute("INSERT INTO t VALUES (2)").unwrap();
        let lost = transactions::commit(&mut conn, Seal::Sealed);
        assert!(
            matches!(
                lost,
                Err(Error::DatabaseError(
                    DatabaseErrorKind::SerializationFailure,
                    _
                ))
            ),
            "{lost:?}"
        );
        assert_eq!(count(&mut conn), 0, "nothing of the lost unit is committed");
        assert_eq!(autocommit(&mut conn), 1);

        transactions::begin(&mut conn, Seal::Sealed).unwrap();
        conn.batch_execute("INSERT INTO t VALUES (3)").unwrap();
        transactions::commit(&mut conn, Seal::Sealed).unwrap();
        assert_eq!(count(&mut conn), 1);
        assert_eq!(autocommit(&mut conn), 1);
        conn.batch_execute(&format!("DROP DATABASE {database}"))
            .unwrap();
    }

    /// `BEGIN`, `COMMIT` and `ROLLBACK` keep diesel's transaction state, commit and roll back,
    /// and never toggle multi-statements (one round trip each).
    #[test]
    fn mysql_transactions_take_one_statement_each() {
        let url = test_server_url();
        let mut conn = MysqlConnection::establish(&url).unwrap();
        transactions::note_server(&mut conn).unwrap();
        let version: String =
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>("VERSION()"))
                .get_result(&mut conn)
                .unwrap();
        if !transactions::prepares_transactions(&version) {
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
            transactions::begin(&mut conn, transactions::Seal::Plain).unwrap();
            assert_eq!(depth(&mut conn), Some(1));
            conn.batch_execute("INSERT INTO t VALUES (1)").unwrap();
            transactions::rollback(&mut conn, transactions::Seal::Plain).unwrap();
            assert_eq!(depth(&mut conn), None);
            assert_eq!(count(&mut conn), 0, "rolled back");
        }
        // Counters before and after three transactions whose only other statement is a batch
        // (two `set_option` each); reading a counter prepares one statement.
        let options = session_counter(&mut conn, "Com_set_option");
        let prepared = session_counter(&mut conn, "Com_stmt_prepare");
        let commits = session_counter(&mut conn, "Com_commit");
        for _ in 0..3 {
            transactions::begin(&mut conn, transactions::Seal::Plain).unwrap();
            conn.batch_execute("INSERT INTO t VALUES (1)").unwrap();
            transactions::commit(&mut conn, transactions::Seal::Plain).unwrap();
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
            transactions::commit(&mut conn, transactions::Seal::Plain),
            Err(diesel::result::Error::NotInTransaction)
        ));
        conn.batch_execute(&format!("DROP DATABASE {database}"))
            .unwrap();
    }

    /// Whatever the server's modes, a session is strict, keeps the other modes, and preparing
    /// it twice changes nothing more.
    #[test]
    fn mysql_sessions_are_strict() {
        let url = test_server_url();
        let mut conn = MysqlConnection::establish(&url).unwrap();
        for server_modes in ["", "NO_ENGINE_SUBSTITUTION", "STRICT_ALL_TABLES"] {
            conn.batch_execute(&format!("SET SESSION sql_mode = '{server_modes}'"))
                .unwrap();
            conn.batch_execute(SESSION).unwrap();
            let once = sql_mode(&mut conn);
            conn.batch_execute(SESSION).unwrap();
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
