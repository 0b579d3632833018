//! The database's own limit: `mysqlslap` (MariaDB's client tools) at the same concurrency,
//! doing the core work of a top-up and of a look-up against the seeded database.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use crate::seed::BenchDatabase;
use crate::workload::{card_callerid, Rng};

/// Statements of one top-up transaction in [`topup_script`].
const TOPUP_STATEMENTS: u64 = 6;

/// What `mysqlslap` measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlapResult {
    /// Concurrent clients.
    pub concurrency: usize,
    /// Top-up transactions per second.
    pub topups_per_second: f64,
    /// Look-ups per second.
    pub lookups_per_second: f64,
}

/// The core work of a top-up, as morcc does it on MySQL: lock the card by caller ID, write the
/// new balance computed from the locked read, add a payments row, commit. The `SET` that picks
/// a random card is an extra statement (a user variable keeps the look-up on the index; a
/// `RAND()` inside the `WHERE` would scan).
fn topup_script(cards: usize) -> String {
    format!(
        "SET @cli = CONCAT('3706', LPAD(FLOOR(RAND() * {cards}), 7, '0'));\
         START TRANSACTION;\
         SELECT id, balance INTO @id, @bal FROM cards WHERE callerid = @cli FOR UPDATE;\
         UPDATE cards SET balance = @bal + 1 WHERE id = @id;\
         INSERT INTO payments (paymenttype, amount, currency, gross, date_added, completed, user_id, card, owner_id, tax, description) \
         VALUES ('Card', 1, 'USD', 1, NOW(), 1, @id, 1, 0, 0, 'mysqlslap');\
         COMMIT"
    )
}

/// One indexed select by caller ID per statement, over random seeded cards (the clients all
/// walk the same list, which does not matter for reads).
fn lookup_script(cards: usize, statements: usize) -> String {
    let mut rng = Rng::new(0x51A9);
    let mut script = String::with_capacity(statements * 120);
    for i in 0..statements {
        if i > 0 {
            script.push(';');
        }
        let _ = write!(
            script,
            "SELECT id, cardgroup_id, balance, sold, active, callerid, pin, number FROM cards WHERE callerid = '{}'",
            card_callerid(rng.below(cards))
        );
    }
    script
}

/// The parts of a `mysql://user:password@host:port` URL mysqlslap takes as options.
fn connection_args(server_url: &str) -> Vec<String> {
    let rest = server_url
        .strip_prefix("mysql://")
        .unwrap_or(server_url)
        .trim_end_matches('/');
    let (credentials, host_port) = rest.rsplit_once('@').unwrap_or(("root", rest));
    let (user, password) = credentials
        .split_once(':')
        .map_or((credentials, None), |(u, p)| (u, Some(p)));
    let host_port = host_port.split('/').next().unwrap_or(host_port);
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "3306"));
    let mut args = vec![
        format!("--host={host}"),
        format!("--port={port}"),
        format!("--user={user}"),
        "--protocol=tcp".to_owned(),
    ];
    if let Some(password) = password {
        args.push(format!("--password={password}"));
    }
    args
}

/// Whether `mysqlslap` is on the PATH.
pub fn available() -> bool {
    Command::new("mysqlslap")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Runs both workloads for about `seconds` each.
pub fn run(
    db: &BenchDatabase,
    server_url: &str,
    concurrency: usize,
    cards: usize,
    seconds: Duration,
) -> Result<SlapResult, String> {
    let name = db.mysql_name().ok_or("mysqlslap needs the MySQL backend")?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let topup_file = dir.path().join("topup.sql");
    std::fs::write(&topup_file, topup_script(cards)).map_err(|e| e.to_string())?;
    let lookup_file = dir.path().join("lookup.sql");
    std::fs::write(&lookup_file, lookup_script(cards, 20_000)).map_err(|e| e.to_string())?;
    let common = |queries: u64, file: &std::path::Path| {
        let mut args = connection_args(server_url);
        args.extend([
            format!("--create-schema={name}"),
            "--no-drop".to_owned(),
            format!("--concurrency={concurrency}"),
            "--iterations=1".to_owned(),
            format!("--number-of-queries={queries}"),
            format!("--query={}", file.display()),
            "--delimiter=;".to_owned(),
            // morcc's own session settings.
            "--init-command=SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_owned(),
        ]);
        args
    };
    let mut conn = db.raw()?;
    let count_payments = |conn: &mut crate::seed::Raw| {
        conn.count(
            "SELECT CAST(COUNT(*) AS SIGNED) AS id, '' AS value FROM payments WHERE description = 'mysqlslap'",
        )
    };

    // Top-ups: a short calibration run, then one sized to last about `seconds`.
    let mut topups_per_second = 0.0;
    let mut transactions = 200 * concurrency as u64;
    for _ in 0..2 {
        let before = count_payments(&mut conn)?;
        let elapsed = mysqlslap(&common(transactions * TOPUP_STATEMENTS, &topup_file))?;
        let done = count_payments(&mut conn)? - before;
        topups_per_second = done as f64 / elapsed;
        transactions = ((topups_per_second * seconds.as_secs_f64()) as u64).max(1000);
    }

    let mut lookups_per_second = 0.0;
    let mut queries = 2000 * concurrency as u64;
    for _ in 0..2 {
        let elapsed = mysqlslap(&common(queries, &lookup_file))?;
        lookups_per_second = queries as f64 / elapsed;
        queries = ((lookups_per_second * seconds.as_secs_f64()) as u64).max(10_000);
    }
    Ok(SlapResult {
        concurrency,
        topups_per_second,
        lookups_per_second,
    })
}

/// Runs mysqlslap; returns its "Average number of seconds to run all queries".
fn mysqlslap(args: &[String]) -> Result<f64, String> {
    let output = Command::new("mysqlslap")
        .args(args)
        .output()
        .map_err(|e| format!("mysqlslap: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "mysqlslap failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    stdout
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Average number of seconds to run all queries:")?
                .trim()
                .strip_suffix("seconds")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .ok_or_else(|| format!("unexpected mysqlslap output: {stdout}"))
}

#[cfg(test)]
mod tests {
    use super::connection_args;

    #[test]
    fn urls_become_options() {
        assert_eq!(
            connection_args("mysql://root@127.0.0.1:3306"),
            [
                "--host=127.0.0.1",
                "--port=3306",
                "--user=root",
                "--protocol=tcp"
            ]
        );
        assert_eq!(
            connection_args("mysql://u:secret@db:3307/"),
            [
                "--host=db",
                "--port=3307",
                "--user=u",
                "--protocol=tcp",
                "--password=secret"
            ]
        );
    }
}
