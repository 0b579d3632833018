//! A bound on every MySQL statement, whatever the server does.
//!
//! diesel sets no read timeout on its MySQL connections, and a server can leave a statement
//! unanswered for ever (seen on Galera after a transaction was aborted for a replicated one: the
//! client waits in `mysql_stmt_execute`). The server-side bounds (`innodb_lock_wait_timeout`,
//! `max_statement_time`) do not cover a reply that never comes. So every checkout of a pooled
//! connection is watched: when it is held past its deadline, the watchdog ends the session with
//! `KILL CONNECTION` from a connection of its own, which makes the waiting client call return
//! with an error; the unit of work then fails or runs again, and the pool discards the
//! connection. A killed session's transaction is rolled back by the server.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{MysqlConnection, RunQueryDsl};

/// Kills the sessions held past their deadline. Cheap to clone; clones share the thread.
#[derive(Clone)]
pub(crate) struct Watchdog {
    shared: Arc<Shared>,
}

impl fmt::Debug for Watchdog {
    // The URL carries the password: show nothing of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watchdog").finish_non_exhaustive()
    }
}

struct Shared {
    /// Where the watchdog's own connection goes: the pool's server.
    url: String,
    watched: Mutex<Watched>,
    /// Wakes the thread when a nearer deadline is added.
    changed: Condvar,
}

#[derive(Default)]
struct Watched {
    next_ticket: u64,
    sessions: HashMap<u64, Watch>,
    thread_started: bool,
}

struct Watch {
    connection_id: u64,
    deadline: Instant,
    killed: Arc<AtomicBool>,
}

/// One watched checkout; dropping it ends the watch.
pub(crate) struct WatchGuard {
    shared: Arc<Shared>,
    ticket: u64,
    killed: Arc<AtomicBool>,
}

impl fmt::Debug for WatchGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchGuard")
            .field("killed", &self.was_killed())
            .finish()
    }
}

impl WatchGuard {
    /// Whether the watchdog killed the session of this checkout.
    pub(crate) fn was_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        lock(&self.shared.watched).sessions.remove(&self.ticket);
    }
}

impl Watchdog {
    /// A watchdog for sessions of the server at `url` (the thread starts with the first watch).
    pub(crate) fn new(url: &str) -> Watchdog {
        Watchdog {
            shared: Arc::new(Shared {
                url: url.to_owned(),
                watched: Mutex::new(Watched::default()),
                changed: Condvar::new(),
            }),
        }
    }

    /// Watches session `connection_id` until the guard is dropped: past `limit` it is killed,
    /// and `killed` (the pooled connection's flag) is set so the pool discards it.
    pub(crate) fn watch(
        &self,
        connection_id: u64,
        limit: Duration,
        killed: Arc<AtomicBool>,
    ) -> WatchGuard {
        let mut watched = lock(&self.shared.watched);
        let ticket = watched.next_ticket;
        watched.next_ticket += 1;
        watched.sessions.insert(
            ticket,
            Watch {
                connection_id,
                deadline: Instant::now() + limit,
                killed: killed.clone(),
            },
        );
        if !watched.thread_started {
            watched.thread_started = true;
            let shared = Arc::downgrade(&self.shared);
            std::thread::Builder::new()
                .name("morcc-mysql-watchdog".into())
                .spawn(move || run(shared))
                .expect("the watchdog thread starts");
        }
        drop(watched);
        self.shared.changed.notify_one();
        WatchGuard {
            shared: self.shared.clone(),
            ticket,
            killed,
        }
    }
}

/// The watchdog's loop: sleeps until the nearest deadline, kills what is past it, and ends
/// when the pool (the last [`Watchdog`]) is gone.
fn run(shared: Weak<Shared>) {
    let mut killer: Option<MysqlConnection> = None;
    loop {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let overdue = {
            let mut watched = lock(&shared.watched);
            let now = Instant::now();
            let overdue: Vec<u64> = watched
                .sessions
                .iter()
                .filter(|(_, watch)| watch.deadline <= now)
                .map(|(ticket, _)| *ticket)
                .collect();
            let overdue: Vec<Watch> = overdue
                .iter()
                .filter_map(|ticket| watched.sessions.remove(ticket))
                .collect();
            if overdue.is_empty() {
                let nearest = watched.sessions.values().map(|watch| watch.deadline).min();
                // Wake at the nearest deadline, or now and then to notice the pool is gone.
                let wait = nearest.map_or(Duration::from_secs(1), |deadline| {
                    deadline.saturating_duration_since(now)
                });
                let _ = shared
                    .changed
                    .wait_timeout(watched, wait.min(Duration::from_secs(1)));
                continue;
            }
            overdue
        };
        for watch in overdue {
            watch.killed.store(true, Ordering::SeqCst);
            kill(&shared.url, &mut killer, watch.connection_id);
        }
    }
}

/// `KILL CONNECTION id` on the watchdog's own connection, opened (again) when needed.
fn kill(url: &str, killer: &mut Option<MysqlConnection>, connection_id: u64) {
    let statement = format!("KILL CONNECTION {connection_id}");
    for _ in 0..2 {
        if killer.is_none() {
            *killer = super::establish(url).ok();
        }
        let Some(conn) = killer.as_mut() else {
            break;
        };
        // What the session was doing, for the operator (never its statement: it may hold a PIN).
        let (command, state) = session_state(conn, connection_id);
        match conn.batch_execute(&statement) {
            Ok(()) => {
                tracing::warn!(
                    connection_id,
                    %command,
                    %state,
                    "a statement outlived its deadline; its session was killed"
                );
                return;
            }
            // The session may have ended by itself meanwhile (unknown thread id): done.
            Err(diesel::result::Error::DatabaseError(_, info))
                if info.message().contains("Unknown thread id") =>
            {
                return;
            }
            // The watchdog's own connection broke: open another and try once more.
            Err(_) => *killer = None,
        }
    }
    tracing::warn!(
        connection_id,
        "a session that outlived its deadline could not be killed"
    );
}

/// The `COMMAND` and `STATE` of a session in the server's process list.
fn session_state(conn: &mut MysqlConnection, connection_id: u64) -> (String, String) {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        command: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        state: Option<String>,
    }
    let row: Option<Row> = diesel::sql_query(
        "SELECT COMMAND AS command, STATE AS state FROM information_schema.PROCESSLIST WHERE ID = ?",
    )
    .bind::<diesel::sql_types::Unsigned<diesel::sql_types::BigInt>, _>(connection_id)
    .get_result(conn)
    .ok();
    row.map_or_else(
        || ("unknown".into(), String::new()),
        |row| (row.command, row.state.unwrap_or_default()),
    )
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind: still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use diesel::sql_types::Integer;
    use diesel::RunQueryDsl;

    use crate::connection::{Database, PoolSettings};

    /// A statement that outlives the deadline is ended: the client call returns with an
    /// error soon after the deadline, and the pool replaces the killed connection.
    #[test]
    fn a_statement_past_its_deadline_is_killed_and_its_connection_replaced() {
        let server = crate::mysql::test_server_url();
        let settings = PoolSettings {
            max_size: Some(1),
            statement_deadline: Duration::from_secs(1),
            ..PoolSettings::default()
        };
        let db = Database::connect(&server, settings).unwrap();
        let started = Instant::now();
        let mut conn = db.connection().unwrap();
        let slept =
            diesel::select(diesel::dsl::sql::<Integer>("SLEEP(30)")).get_result::<i32>(&mut *conn);
        let waited = started.elapsed();
        assert!(conn.was_killed(), "the watchdog killed the session");
        // A killed SLEEP returns 1 or the call fails with a lost connection: either way early.
        assert!(slept.is_err() || slept == Ok(1), "{slept:?}");
        assert!(waited < Duration::from_secs(5), "ended after {waited:?}");
        drop(conn);
        let mut fresh = db.connection().unwrap();
        let answer =
            diesel::select(diesel::dsl::sql::<Integer>("1")).get_result::<i32>(&mut *fresh);
        assert_eq!(answer, Ok(1), "a new connection serves");
    }
}
