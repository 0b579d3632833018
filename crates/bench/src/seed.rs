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
use morcc_domain::settings::API_ALLOW_PAYMENTS_OVER_API;
use morcc_domain::BigDecimal;

use crate::workload::{
    card_callerid, card_number, card_pin, device_callerid, Shape, API_PASSWORD, API_SECRET,
    API_USER, CARD_OPENING_BALANCE, SALE_CARD_BALANCE, SALE_GROUP_PRICE,
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

    /// The SQL type a `CAST` to text names.
    fn text_type(&self) -> &'static str {
        match self.backend {
            BackendKind::Sqlite => "TEXT",
            BackendKind::Mysql => "CHAR",
        }
    }

    /// The SQL type a `CAST` to a 64-bit integer names.
    fn int_type(&self) -> &'static str {
        match self.backend {
            BackendKind::Sqlite => "INTEGER",
            BackendKind::Mysql => "SIGNED",
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

    /// Adds free cards to the sale group until it has `shape.sale_cards` of them again, so
    /// that no sale of the next run finds the group empty; returns how many it added. The new
    /// cards continue the row ids (and so the numbers and PINs) after the last card.
    pub fn refill_sale_group(&self, shape: &Shape) -> Result<usize, String> {
        let mut conn = self.raw()?;
        let int = self.int_type();
        let free = conn.count(&format!(
            "SELECT CAST(COUNT(*) AS {int}) AS id, '' AS value FROM cards \
             WHERE cardgroup_id = {} AND sold = 0",
            shape.sale_group()
        ))?;
        let missing = shape.sale_cards.saturating_sub(free as usize);
        if missing == 0 {
            return Ok(0);
        }
        let last_id = conn.count(&format!(
            "SELECT CAST(COALESCE(MAX(id), 0) AS {int}) AS id, '' AS value FROM cards"
        ))?;
        conn.exec("BEGIN")?;
        insert_sale_cards(&mut conn, shape, last_id as usize, missing)?;
        conn.exec("COMMIT")?;
        Ok(missing)
    }

    /// Checks that every balance changed exactly by the sum of its payments rows, and that
    /// the sales are recorded as card_calls.md §3 says.
    pub fn check_ledger(&self, shape: &Shape) -> Result<LedgerCheck, String> {
        let mut conn = self.raw()?;
        let (text, int) = (self.text_type(), self.int_type());
        let mut sums = self.payment_sums(&mut conn)?;
        let mut check = LedgerCheck {
            payments: sums.values().map(|(rows, _)| rows).sum(),
            ..LedgerCheck::default()
        };
        let sale_group = shape.sale_group();
        let seeded = decimal(CARD_OPENING_BALANCE)?;
        let zero = BigDecimal::from(0);
        let cards = conn.pairs(&format!(
            "SELECT CAST(id AS {int}) AS id, CAST(balance AS {text}) AS value FROM cards \
             WHERE cardgroup_id <> {sale_group}"
        ))?;
        for (id, balance) in cards {
            // Seeded cards open with the opening balance; cards the run created, with nothing.
            let opening = if (id as usize) <= shape.cards {
                &seeded
            } else {
                &zero
            };
            check.holder(&decimal(&balance)?, opening, sums.remove(&(1, id)));
        }
        // A sale changes no balance and writes no payment (card_calls.md §3 step 4), so a
        // card of the sale group holds its opening balance plus its payments, sold or not.
        let for_sale = decimal(SALE_CARD_BALANCE)?;
        let sale_cards = conn.pairs(&format!(
            "SELECT CAST(id AS {int}) AS id, CAST(balance AS {text}) AS value FROM cards \
             WHERE cardgroup_id = {sale_group}"
        ))?;
        for (id, balance) in sale_cards {
            check.holder(&decimal(&balance)?, &for_sale, sums.remove(&(1, id)));
        }
        let users = conn.pairs(&format!(
            "SELECT CAST(id AS {int}) AS id, CAST(balance AS {text}) AS value FROM users"
        ))?;
        for (id, balance) in users {
            check.holder(&decimal(&balance)?, &zero, sums.remove(&(0, id)));
        }
        // Payments of holders that do not exist.
        check.mismatches += sums.values().filter(|(_, sum)| *sum != zero).count();
        let sales = self.check_sales(&mut conn, sale_group)?;
        check.sold = sales.sold;
        check.sale_mismatches = sales.mismatches;
        Ok(check)
    }

    /// The payments rows and their sum per holder.
    fn payment_sums(&self, conn: &mut Raw) -> Result<PaymentSums, String> {
        let (text, int) = (self.text_type(), self.int_type());
        let payments = conn.pairs(&format!(
            "SELECT CAST(card * 1000000000 + user_id AS {int}) AS id, \
             CAST(amount AS {text}) AS value FROM payments"
        ))?;
        let mut sums = PaymentSums::new();
        for (key, amount) in payments {
            let amount = decimal(&amount)?;
            let entry = sums
                .entry((key / 1_000_000_000, key % 1_000_000_000))
                .or_default();
            entry.0 += 1;
            entry.1 += amount;
        }
        Ok(sums)
    }

    /// What the sales recorded (card_calls.md §3 step 4): every sold card of the sale group
    /// on exactly one line item, priced at its unchanged balance; no unsold card and no card
    /// of another group on one; every order's amount the sum of its line items; one
    /// `card_sell_over_api` action per card sold.
    fn check_sales(&self, conn: &mut Raw, sale_group: usize) -> Result<SalesCheck, String> {
        let (text, int) = (self.text_type(), self.int_type());
        let sold: Vec<i64> = conn
            .pairs(&format!(
                "SELECT CAST(id AS {int}) AS id, '' AS value FROM cards \
                 WHERE cardgroup_id = {sale_group} AND sold = 1"
            ))?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let items = conn.pairs(&format!(
            "SELECT CAST(card_id AS {int}) AS id, CAST(price AS {text}) AS value FROM cclineitems"
        ))?;
        let item_orders = conn.pairs(&format!(
            "SELECT CAST(ccorder_id AS {int}) AS id, CAST(price AS {text}) AS value FROM cclineitems"
        ))?;
        let orders = conn.pairs(&format!(
            "SELECT CAST(id AS {int}) AS id, CAST(amount AS {text}) AS value FROM ccorders"
        ))?;
        let actions = conn.count(&format!(
            "SELECT CAST(COUNT(*) AS {int}) AS id, '' AS value FROM actions \
             WHERE action = 'card_sell_over_api'"
        ))?;
        let mut check = SalesCheck {
            sold: sold.len(),
            mismatches: line_item_mismatches(&sold, &items)?
                + order_mismatches(&orders, &item_orders)?,
        };
        if actions as usize != sold.len() {
            check.mismatches += 1;
        }
        Ok(check)
    }
}

/// The sold cards not on exactly one line item at the sale group's card balance, plus the
/// line items of cards that are not sold cards of the sale group.
fn line_item_mismatches(sold: &[i64], items: &[(i64, String)]) -> Result<usize, String> {
    let price = decimal(SALE_CARD_BALANCE)?;
    let mut prices: HashMap<i64, Vec<BigDecimal>> = HashMap::new();
    for (card, item_price) in items {
        prices.entry(*card).or_default().push(decimal(item_price)?);
    }
    let mut mismatches = 0;
    for card in sold {
        match prices.remove(card).as_deref() {
            Some([only]) if *only == price => {}
            _ => mismatches += 1,
        }
    }
    Ok(mismatches + prices.values().map(Vec::len).sum::<usize>())
}

/// The orders whose amount is not the sum of their line items' prices, plus line items of
/// no order.
fn order_mismatches(orders: &[(i64, String)], items: &[(i64, String)]) -> Result<usize, String> {
    let mut sums: HashMap<i64, BigDecimal> = HashMap::new();
    for (order, price) in items {
        *sums.entry(*order).or_default() += decimal(price)?;
    }
    let mut mismatches = 0;
    for (order, amount) in orders {
        if sums.remove(order).unwrap_or_default() != decimal(amount)? {
            mismatches += 1;
        }
    }
    Ok(mismatches + sums.len())
}

/// Payments rows per holder, `(card flag, card or user id)`: how many, and their sum.
type PaymentSums = HashMap<(i64, i64), (usize, BigDecimal)>;

/// The outcome of [`BenchDatabase::check_sales`].
struct SalesCheck {
    sold: usize,
    mismatches: usize,
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
    /// Cards of the sale group sold.
    pub sold: usize,
    /// Sales recorded otherwise than card_calls.md §3 says ([`BenchDatabase::check_sales`]).
    pub sale_mismatches: usize,
}

impl LedgerCheck {
    /// Every balance is its opening balance plus its payments, and every sale is recorded.
    pub fn is_exact(&self) -> bool {
        self.mismatches == 0 && self.sale_mismatches == 0
    }

    /// Counts a card or user whose balance is `balance`, opened with `opening`, with
    /// `payments` (rows, sum) or none.
    fn holder(
        &mut self,
        balance: &BigDecimal,
        opening: &BigDecimal,
        payments: Option<(usize, BigDecimal)>,
    ) {
        let change = balance - opening;
        let paid = payments.map(|(_, sum)| sum).unwrap_or_default();
        self.holders += 1;
        if change != paid {
            self.mismatches += 1;
        }
        if change != 0 {
            self.changed += 1;
        }
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
         ('Allow_API', '1', 0), ('API_Secret_Key', '{API_SECRET}', 0), \
         ('{API_ALLOW_PAYMENTS_OVER_API}', '1', 0)"
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
    conn.exec(&format!(
        "INSERT INTO cardgroups (id, name, owner_id, price, number_length, pin_length) \
         VALUES ({}, 'sale group', 0, '{SALE_GROUP_PRICE}', 10, 8)",
        shape.sale_group()
    ))?;
    insert_sale_cards(conn, shape, shape.cards, shape.sale_cards)?;
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

/// `count` free cards of the sale group (unsold, no caller ID, a balance, not hidden), with
/// the row ids after `last_id`.
fn insert_sale_cards(
    conn: &mut Raw,
    shape: &Shape,
    last_id: usize,
    count: usize,
) -> Result<(), String> {
    let group = shape.sale_group();
    batched(
        conn,
        "INSERT INTO cards (id, cardgroup_id, number, pin, balance, sold, active, callerid, owner_id) VALUES ",
        count,
        |n| {
            let i = last_id + n;
            format!(
                "({}, {group}, '{}', '{}', '{SALE_CARD_BALANCE}', 0, 1, NULL, 0)",
                i + 1,
                card_number(i),
                card_pin(i)
            )
        },
    )
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
                let names: Vec<String> = crate::stats::STATEMENT_COUNTERS
                    .iter()
                    .map(|name| format!("'{name}'"))
                    .collect();
                let rows: Vec<NameValue> = diesel::sql_query(format!(
                    "SHOW GLOBAL STATUS WHERE Variable_name IN ({})",
                    names.join(", ")
                ))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(rows: &[(i64, &str)]) -> Vec<(i64, String)> {
        rows.iter()
            .map(|(id, price)| (*id, (*price).to_owned()))
            .collect()
    }

    #[test]
    fn each_sold_card_on_one_line_item_at_its_balance_passes() {
        let items = priced(&[(7, "10.000000000000000"), (8, "10")]);
        assert_eq!(line_item_mismatches(&[7, 8], &items), Ok(0));
    }

    #[test]
    fn a_card_sold_twice_unrecorded_or_repriced_is_a_mismatch() {
        let twice = priced(&[(7, "10"), (7, "10")]);
        assert_eq!(line_item_mismatches(&[7], &twice), Ok(1));
        assert_eq!(line_item_mismatches(&[7], &[]), Ok(1));
        let repriced = priced(&[(7, "10.000000000000001")]);
        assert_eq!(line_item_mismatches(&[7], &repriced), Ok(1));
        // A line item of a card that is not sold.
        let stray = priced(&[(7, "10"), (9, "10")]);
        assert_eq!(line_item_mismatches(&[7], &stray), Ok(1));
    }

    #[test]
    fn an_order_is_the_sum_of_its_line_items() {
        let orders = priced(&[(1, "20.000000000000000"), (2, "10")]);
        let items = priced(&[(1, "10"), (1, "10"), (2, "10")]);
        assert_eq!(order_mismatches(&orders, &items), Ok(0));
        let short = priced(&[(1, "10"), (2, "10")]);
        assert_eq!(order_mismatches(&orders, &short), Ok(1));
        let orphan = priced(&[(1, "10"), (1, "10"), (2, "10"), (3, "10")]);
        assert_eq!(order_mismatches(&orders, &orphan), Ok(1));
    }
}
