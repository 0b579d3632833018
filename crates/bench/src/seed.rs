//! A fresh database per benchmark: created, migrated by morcc's own migrations, seeded with
//! batched multi-row INSERTs in one transaction, checked for an exact ledger, and removed.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use morcc_adapters::{Database, PoolSettings};
use morcc_domain::hash::sha1_hex;
use morcc_domain::BigDecimal;

use crate::workload::{
    card_callerid, card_number, card_pin, device_callerid, Shape, API_PASSWORD, API_SECRET,
    API_USER, CARD_OPENING_BALANCE,
};

/// Rows per INSERT statement.
const BATCH: usize = 1000;

/// Which database server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// A temporary SQLite file.
    Sqlite,
    /// A new database on a MySQL/MariaDB server (feature `mysql`).
    Mysql,
}

/// A benchmark database that lives as long as this value (the SQLite file's directory is
/// removed, the MySQL database dropped).
#[derive(Debug)]
pub struct BenchDatabase {
    /// The URL morcc is given.
    pub url: String,
    /// Which backend.
    pub backend: BackendKind,
    /// The MySQL server (no database) and the database's name.
    mysql: Option<(String, String)>,
    keep: bool,
    _dir: Option<tempfile::TempDir>,
}

impl BenchDatabase {
    /// Creates an empty database and runs morcc's migrations on it.
    pub fn create(backend: BackendKind, mysql_url: &str, keep: bool) -> Result<Self, String> {
        let db = match backend {
            BackendKind::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("morcc-bench-")
                    .tempdir()
                    .map_err(|e| format!("temporary directory: {e}"))?;
                let path = dir.path().join("bench.db");
                let dir = if keep {
                    let _kept = dir.keep();
                    None
                } else {
                    Some(dir)
                };
                BenchDatabase {
                    url: format!("sqlite://{}", path.display()),
                    backend,
                    mysql: None,
                    keep,
                    _dir: dir,
                }
            }
            BackendKind::Mysql => {
                let server = mysql_url.trim_end_matches('/').to_owned();
                let name = format!(
                    "morcc_bench_{}_{}",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_millis() % 1_000_000)
                        .unwrap_or_default()
                );
                let mut conn = Raw::connect_mysql(&server)?;
                conn.exec(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))?;
                BenchDatabase {
                    url: format!("{server}/{name}"),
                    backend,
                    mysql: Some((server, name)),
                    keep,
                    _dir: None,
                }
            }
        };
        let migrated = Database::connect(&db.url, PoolSettings::default())
            .and_then(|database| database.run_migrations());
        migrated.map_err(|e| format!("migrations: {e}"))?;
        Ok(db)
    }

    /// The MySQL database's name.
    pub fn mysql_name(&self) -> Option<&str> {
        self.mysql.as_ref().map(|(_, name)| name.as_str())
    }

    /// A direct connection, for seeding and checks.
    pub fn raw(&self) -> Result<Raw, String> {
        match self.backend {
            BackendKind::Sqlite => Raw::connect_sqlite(&self.url),
            BackendKind::Mysql => Raw::connect_mysql(&self.url),
        }
    }

    /// Seeds `shape`; returns how long it took.
    pub fn seed(&self, shape: &Shape) -> Result<Duration, String> {
        let started = Instant::now();
        let mut conn = self.raw()?;
        conn.exec("BEGIN")?;
        seed_rows(&mut conn, shape)?;
        conn.exec("COMMIT")?;
        if self.backend == BackendKind::Sqlite {
            conn.exec("ANALYZE")?;
        } else {
            conn.exec("ANALYZE TABLE cards, callerids, devices, users, conflines")?;
        }
        Ok(started.elapsed())
    }

    /// Checks that every balance changed exactly by the sum of its payments rows.
    pub fn check_ledger(&self, shape: &Shape) -> Result<LedgerCheck, String> {
        let mut conn = self.raw()?;
        let text = match self.backend {
            BackendKind::Sqlite => "TEXT",
            BackendKind::Mysql => "CHAR",
        };
        let int = match self.backend {
            BackendKind::Sqlite => "INTEGER",
            BackendKind::Mysql => "SIGNED",
        };
        let mut sums: HashMap<(i64, i64), BigDecimal> = HashMap::new();
        let payments = conn.pairs(&format!(
            "SELECT CAST(card * 1000000000 + user_id AS {int}) AS id, CAST(amount AS {text}) AS value FROM payments"
        ))?;
        let payment_rows = payments.len();
        for (key, amount) in payments {
            let amount = decimal(&amount)?;
            let entry = sums
                .entry((key / 1_000_000_000, key % 1_000_000_000))
                .or_default();
            *entry += amount;
        }
        let opening = decimal(CARD_OPENING_BALANCE)?;
        let zero = BigDecimal::from(0);
        let mut check = LedgerCheck {
            payments: payment_rows,
            ..LedgerCheck::default()
        };
        let cards = conn.pairs(&format!(
            "SELECT CAST(id AS {int}) AS id, CAST(balance AS {text}) AS value FROM cards"
        ))?;
        for (id, balance) in cards {
            // Seeded cards open with the opening balance; cards the run created, with nothing.
            let start = if (id as usize) <= shape.cards {
                &opening
            } else {
                &zero
            };
            let change = decimal(&balance)? - start;
            let paid = sums.remove(&(1, id)).unwrap_or_default();
            check.holders += 1;
            if change != paid {
                check.mismatches += 1;
            }
            if change != zero {
                check.changed += 1;
            }
        }
        let users = conn.pairs(&format!(
            "SELECT CAST(id AS {int}) AS id, CAST(balance AS {text}) AS value FROM users"
        ))?;
        for (id, balance) in users {
            let change = decimal(&balance)?;
            let paid = sums.remove(&(0, id)).unwrap_or_default();
            check.holders += 1;
            if change != paid {
                check.mismatches += 1;
            }
            if change != zero {
                check.changed += 1;
            }
        }
        // Payments of holders that do not exist.
        check.mismatches += sums.values().filter(|sum| **sum != zero).count();
        Ok(check)
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept the database: {}", self.url);
            return;
        }
        if let Some((server, name)) = &self.mysql {
            let dropped = Raw::connect_mysql(server)
                .and_then(|mut conn| conn.exec(&format!("DROP DATABASE IF EXISTS {name}")));
            if let Err(error) = dropped {
                eprintln!("could not drop {name}: {error}");
            }
        }
    }
}

/// The outcome of [`BenchDatabase::check_ledger`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LedgerCheck {
    /// `payments` rows.
    pub payments: usize,
    /// Cards and users checked.
    pub holders: usize,
    /// Of them, with a changed balance.
    pub changed: usize,
    /// Balances that differ from their opening balance plus their payments.
    pub mismatches: usize,
}

impl LedgerCheck {
    /// Every balance is its opening balance plus its payments.
    pub fn is_exact(&self) -> bool {
        self.mismatches == 0
    }
}

fn decimal(text: &str) -> Result<BigDecimal, String> {
    BigDecimal::from_str(text.trim()).map_err(|_| format!("not a decimal: {text:?}"))
}

fn seed_rows(conn: &mut Raw, shape: &Shape) -> Result<(), String> {
    let password = sha1_hex(API_PASSWORD);
    conn.exec(&format!(
        "INSERT INTO users (id, username, password, usertype, owner_id, balance, blocked) \
         VALUES (1, '{API_USER}', '{password}', 'admin', 0, '0.000000000000000', 0)"
    ))?;
    batched(
        conn,
        "INSERT INTO users (id, username, password, usertype, owner_id, balance, blocked) VALUES ",
        shape.device_users(),
        |u| {
            format!(
                "({}, 'customer{u}', '', 'user', 0, '0.000000000000000', 0)",
                u + 2
            )
        },
    )?;
    conn.exec(&format!(
        "INSERT INTO conflines (name, value, owner_id) VALUES \
         ('Allow_API', '1', 0), ('API_Secret_Key', '{API_SECRET}', 0)"
    ))?;
    // One VAT rate and one foreign currency, so top-ups also price with a tax and a rate.
    conn.exec(
        "INSERT INTO taxes (id, tax1_enabled, tax1_value, compound_tax) VALUES (1, 1, '21', 1)",
    )?;
    conn.exec(
        "INSERT INTO currencies (id, name, full_name, exchange_rate, active) \
         VALUES (2, 'EUR', 'Euro', '0.900000000000000', 1)",
    )?;
    batched(
        conn,
        "INSERT INTO cardgroups (id, name, owner_id, number_length, pin_length, tax_id, tell_balance_in_currency) VALUES ",
        shape.groups,
        |g| {
            let id = g + 1;
            let tax = if id % 5 == 0 { "1" } else { "NULL" };
            let currency = if id % 10 == 3 { "EUR" } else { "" };
            format!("({id}, 'group {id}', 0, 10, 6, {tax}, '{currency}')")
        },
    )?;
    let groups = shape.groups.max(1);
    batched(
        conn,
        "INSERT INTO cards (id, cardgroup_id, number, pin, balance, sold, active, callerid, owner_id) VALUES ",
        shape.cards,
        |i| {
            format!(
                "({}, {}, '{}', '{}', '{CARD_OPENING_BALANCE}', 1, 1, '{}', 0)",
                i + 1,
                i % groups + 1,
                card_number(i),
                card_pin(i),
                card_callerid(i)
            )
        },
    )?;
    let users = shape.device_users();
    batched(
        conn,
        "INSERT INTO devices (id, name, user_id) VALUES ",
        shape.devices,
        |d| format!("({}, 'device {d}', {})", d + 1, d % users + 2),
    )?;
    batched(
        conn,
        "INSERT INTO callerids (id, cli, device_id) VALUES ",
        shape.devices,
        |d| format!("({}, '{}', {})", d + 1, device_callerid(d), d + 1),
    )?;
    Ok(())
}

fn batched(
    conn: &mut Raw,
    head: &str,
    rows: usize,
    row: impl Fn(usize) -> String,
) -> Result<(), String> {
    let mut start = 0;
    while start < rows {
        let end = (start + BATCH).min(rows);
        let mut sql = String::with_capacity(head.len() + (end - start) * 96);
        sql.push_str(head);
        for i in start..end {
            if i > start {
                sql.push(',');
            }
            sql.push_str(&row(i));
        }
        conn.exec(&sql)?;
        start = end;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct IdValue {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    value: String,
}

#[cfg(feature = "mysql")]
#[derive(QueryableByName)]
struct NameValue {
    #[diesel(sql_type = Text, column_name = Variable_name)]
    name: String,
    #[diesel(sql_type = Text, column_name = Value)]
    value: String,
}

/// A plain connection of either backend (the bench's own; morcc's pool is not shared).
pub enum Raw {
    /// SQLite.
    Sqlite(diesel::SqliteConnection),
    /// MySQL/MariaDB.
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

impl std::fmt::Debug for Raw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Raw")
    }
}

impl Raw {
    fn connect_sqlite(url: &str) -> Result<Raw, String> {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        let mut conn = diesel::SqliteConnection::establish(path).map_err(|e| e.to_string())?;
        conn.batch_execute("PRAGMA busy_timeout = 5000;")
            .map_err(|e| e.to_string())?;
        Ok(Raw::Sqlite(conn))
    }

    #[cfg(feature = "mysql")]
    fn connect_mysql(url: &str) -> Result<Raw, String> {
        diesel::MysqlConnection::establish(url)
            .map(Raw::Mysql)
            .map_err(|e| format!("MySQL: {e}"))
    }

    #[cfg(not(feature = "mysql"))]
    fn connect_mysql(_url: &str) -> Result<Raw, String> {
        Err("the MySQL backend needs `--features mysql`".to_owned())
    }

    /// Runs statements that return nothing.
    pub fn exec(&mut self, sql: &str) -> Result<(), String> {
        match self {
            Raw::Sqlite(conn) => conn.batch_execute(sql),
            #[cfg(feature = "mysql")]
            Raw::Mysql(conn) => conn.batch_execute(sql),
        }
        .map_err(|e| format!("{e} (in {})", &sql[..sql.len().min(120)]))
    }

    /// Rows of `(id BIGINT, value TEXT)`.
    fn pairs(&mut self, sql: &str) -> Result<Vec<(i64, String)>, String> {
        let rows: Vec<IdValue> = match self {
            Raw::Sqlite(conn) => diesel::sql_query(sql).load(conn),
            #[cfg(feature = "mysql")]
            Raw::Mysql(conn) => diesel::sql_query(sql).load(conn),
        }
        .map_err(|e| format!("{e} (in {sql})"))?;
        Ok(rows.into_iter().map(|row| (row.id, row.value)).collect())
    }

    /// MySQL's global statement counters (`Questions`, `Com_select`, ...).
    pub fn statement_counters(&mut self) -> Result<Vec<(String, u64)>, String> {
        match self {
            Raw::Sqlite(_) => Ok(Vec::new()),
            #[cfg(feature = "mysql")]
            Raw::Mysql(conn) => {
                let rows: Vec<NameValue> = diesel::sql_query(
                    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_select', \
                     'Com_update', 'Com_insert', 'Com_begin', 'Com_commit', 'Com_rollback', \
                     'Com_set_option', 'Com_stmt_prepare', 'Com_stmt_execute')",
                )
                .load(conn)
                .map_err(|e| format!("status: {e}"))?;
                Ok(rows
                    .into_iter()
                    .map(|row| (row.name, row.value.parse().unwrap_or_default()))
                    .collect())
            }
        }
    }

    /// One integer.
    pub fn count(&mut self, sql: &str) -> Result<i64, String> {
        Ok(self
            .pairs(sql)?
            .first()
            .map(|(id, _)| *id)
            .unwrap_or_default())
    }
}
