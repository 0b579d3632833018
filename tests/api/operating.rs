//! The operator's batch and look-up subcommands, run black-box as an operator runs them, on
//! SQLite and (with `--features mysql` and `MORCC_TEST_MYSQL_URL`) on MariaDB: `create-cards`
//! (its range rules, the printer's file and its mode, refusals that change nothing), `groups`,
//! `cards`, `card`, `payments` (tables, `--json`, hidden PINs), and the README's "Operating"
//! walkthrough from an empty database to a printed batch sold over the API.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use morcc_adapters::admin::{self, batch};
use morcc_domain::{ApiCall, CardGroupId, CardNumber, Money};
use serde_json::Value;

use crate::procs::UrlDatabase;
use crate::support::{signed_call, uncached, KEY, PASSWORD, USER};

/// The `morcc` binary on `database`, in `dir`, with no environment of the operator's.
struct Operator<'a> {
    database: &'a UrlDatabase,
    dir: tempfile::TempDir,
}

impl<'a> Operator<'a> {
    fn on(database: &'a UrlDatabase) -> Operator<'a> {
        Operator {
            database,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn output(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_morcc"));
        command.current_dir(self.dir.path());
        for variable in ["DATABASE_URL", "MORCC_API_SECRET_KEY", "RUST_LOG"] {
            command.env_remove(variable);
        }
        command
            .args(["--database-url", &self.database.url])
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs a subcommand that must succeed, with nothing on standard error; its output.
    #[track_caller]
    fn run(&self, args: &[&str]) -> String {
        let output = self.output(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "morcc {args:?}: {stderr}");
        assert!(stderr.is_empty(), "morcc {args:?} said on stderr: {stderr}");
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs a subcommand that must be refused with `code`; its standard error.
    #[track_caller]
    fn refused(&self, code: i32, args: &[&str]) -> String {
        let output = self.output(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(code),
            "morcc {args:?}: {}{stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert!(!stderr.contains("panicked"), "morcc {args:?}: {stderr}");
        stderr
    }

    /// Runs a read-only subcommand with `--json`.
    #[track_caller]
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let text = self.run(&all);
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"))
    }
}

/// Our refusals exit 1; clap's (a flag missing, unknown or malformed) exit 2.
const REFUSED: i32 = 1;
const BAD_FLAGS: i32 = 2;

/// The printer's file: its (number, pin, balance) rows, after checking the header and mode.
#[track_caller]
fn printed(path: &Path) -> Vec<(String, String, String)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} holds PINs", path.display());
    }
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("number,pin,balance"));
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 3, "{line}");
            (
                fields[0].to_owned(),
                fields[1].to_owned(),
                fields[2].to_owned(),
            )
        })
        .collect()
}

fn numbers_from(first: u64, count: u64, width: usize) -> Vec<String> {
    (first..first + count)
        .map(|number| format!("{number:0width$}"))
        .collect()
}

fn card_numbers(database: &UrlDatabase, group: i64) -> Vec<String> {
    let mut numbers: Vec<String> = admin::cards_in_group(&database.db, CardGroupId(group))
        .unwrap()
        .into_iter()
        .map(|card| card.number.as_str().to_owned())
        .collect();
    numbers.sort();
    numbers
}

/// Runs a test on a fresh SQLite file, and on a fresh MariaDB database with the `mysql`
/// feature.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(&crate::procs::UrlDatabase::sqlite());
                }

                #[cfg(feature = "mysql")]
                #[test]
                fn mysql() {
                    let server = crate::procs::MysqlServer::from_env().expect("a MySQL server");
                    let database = crate::procs::UrlDatabase::mysql(&server).expect("a scratch database");
                    super::$name(&database);
                }
            }
        )*
    };
}

on_both_backends!(
    a_range_keeps_its_leading_zeros_and_passes_over_taken_numbers,
    a_count_numbers_on_from_the_group_s_highest,
    create_cards_refuses_bad_input_and_changes_nothing,
    the_look_ups_show_tables_json_and_hide_pins,
    the_look_ups_refuse_bad_input,
);

fn a_range_keeps_its_leading_zeros_and_passes_over_taken_numbers(database: &UrlDatabase) {
    let ops = Operator::on(database);
    ops.run(&[
        "create-card-group",
        "--name",
        "Six",
        "--price",
        "10.084033613445378",
        "--number-length",
        "6",
        "--pin-length",
        "8",
    ]);
    ops.run(&[
        "create-card-group",
        "--name",
        "Other",
        "--number-length",
        "6",
    ]);
    // Two numbers of the range are taken already: one in the group, one in another group.
    ops.run(&["create-card", "--cardgroup-id", "1", "--number", "000100"]);
    ops.run(&["create-card", "--cardgroup-id", "2", "--number", "000102"]);

    let out = ops.path("batch.csv");
    let said = ops.run(&[
        "create-cards",
        "--cardgroup-id",
        "1",
        "--from",
        "000098",
        "--till",
        "000103",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("created 4 of 6 cards"), "{said}");
    assert!(
        said.contains("2 numbers were held by cards already"),
        "{said}"
    );
    let rows = printed(&out);
    let numbers: Vec<&str> = rows.iter().map(|(number, _, _)| number.as_str()).collect();
    assert_eq!(numbers, ["000098", "000099", "000101", "000103"]);
    // Balance: the group's price as stored (net, system currency); PINs of the group's length,
    // all different.
    assert!(rows
        .iter()
        .all(|(_, _, balance)| balance == "10.084033613445378"));
    let pins: HashSet<&str> = rows.iter().map(|(_, pin, _)| pin.as_str()).collect();
    assert_eq!(pins.len(), 4);
    assert!(pins
        .iter()
        .all(|pin| pin.len() == 8 && pin.bytes().all(|b| b.is_ascii_digit())));
    // The cards are as the file says: unsold stock, no payments rows.
    for (number, pin, _) in &rows {
        let card = admin::card_by_number(&database.db, &CardNumber::parse(number).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(card.cardgroup_id, CardGroupId(1));
        assert_eq!(card.pin.expose(), pin);
        assert_eq!(
            card.balance,
            Money::parse_stored("10.084033613445378").unwrap()
        );
        assert!(!card.sold && card.callerid.is_none() && !card.hidden);
    }
    assert_eq!(admin::payments_count(&database.db).unwrap(), 0);
    assert_eq!(
        card_numbers(database, 1),
        ["000098", "000099", "000100", "000101", "000103"]
    );

    // The same range again: nothing left to create, and that is no failure; no file is left.
    let again = ops.path("again.csv");
    let said = ops.run(&[
        "create-cards",
        "--cardgroup-id",
        "1",
        "--from",
        "000098",
        "--till",
        "000103",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(said.contains("created 0 of 6 cards"), "{said}");
    assert!(!again.exists(), "no card, no file");

    // An explicit balance, and a single number.
    let said = ops.run(&[
        "create-cards",
        "--cardgroup-id",
        "1",
        "--from",
        "000000",
        "--till",
        "000000",
        "--balance",
        "2.50",
    ]);
    assert!(said.contains("created 1 of 1 cards"), "{said}");
    let card = admin::card_by_number(&database.db, &CardNumber::parse("000000").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(card.balance, Money::parse_stored("2.5").unwrap());
    assert_eq!(admin::payments_count(&database.db).unwrap(), 0);
}

fn a_count_numbers_on_from_the_group_s_highest(database: &UrlDatabase) {
    let ops = Operator::on(database);
    ops.run(&["create-card-group", "--name", "Ten", "--price", "10"]);
    ops.run(&["create-card-group", "--name", "Five", "--price", "5"]);
    // A group without cards starts at 1 followed by zeros.
    let out = ops.path("first.csv");
    let said = ops.run(&[
        "create-cards",
        "--cardgroup-id",
        "1",
        "--count",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("created 3 of 3 cards"), "{said}");
    let first = numbers_from(1_000_000_000, 3, 10);
    assert_eq!(
        printed(&out)
            .into_iter()
            .map(|(number, _, balance)| (number, balance))
            .collect::<Vec<_>>(),
        first
            .iter()
            .map(|number| (number.clone(), "10.0".to_owned()))
            .collect::<Vec<_>>()
    );
    // Another group starting at the same place passes over the numbers taken.
    let said = ops.run(&["create-cards", "--cardgroup-id", "2", "--count", "2"]);
    assert!(said.contains("created 2 of 2 cards"), "{said}");
    assert_eq!(
        card_numbers(database, 2),
        numbers_from(1_000_000_003, 2, 10)
    );
    // The next batch of a group follows its highest number, chunk after chunk (more than one
    // multi-row INSERT).
    let big = ops.path("big.csv");
    let said = ops.run(&[
        "create-cards",
        "--cardgroup-id",
        "1",
        "--count",
        "2500",
        "--out",
        big.to_str().unwrap(),
    ]);
    assert!(said.contains("created 2500 of 2500 cards"), "{said}");
    let rows = printed(&big);
    assert_eq!(rows.len(), 2500);
    assert_eq!(rows[0].0, "1000000005");
    assert_eq!(rows[2499].0, "1000002504");
    let pins: HashSet<&str> = rows.iter().map(|(_, pin, _)| pin.as_str()).collect();
    assert_eq!(pins.len(), 2500, "PINs are unique");
    assert_eq!(card_numbers(database, 1).len(), 2503);
    assert_eq!(admin::payments_count(&database.db).unwrap(), 0);
    // No progress bar or other noise when standard error is not a terminal: `run` checks it.
}

fn create_cards_refuses_bad_input_and_changes_nothing(database: &UrlDatabase) {
    let ops = Operator::on(database);
    ops.run(&["create-card-group", "--name", "Ten", "--price", "10"]);
    ops.run(&[
        "create-card-group",
        "--name",
        "Short PINs",
        "--pin-length",
        "2",
    ]);
    let taken = ops.path("taken.csv");
    std::fs::write(&taken, "keep me").unwrap();
    let missing_dir = ops.path("no/such/dir/batch.csv");
    let group = ["create-cards", "--cardgroup-id", "1"];
    fn extended<'x>(group: &[&'x str], more: &[&'x str]) -> Vec<&'x str> {
        [group, more].concat()
    }
    let taken_path = taken.to_str().unwrap();
    let missing_path = missing_dir.to_str().unwrap();
    let with = |more: &[&'static str]| extended(&group, more);
    let cases: Vec<(i32, Vec<&str>, &str)> = vec![
        (BAD_FLAGS, group.to_vec(), "--count"),
        (BAD_FLAGS, with(&["--count", "0"]), "--count"),
        (BAD_FLAGS, with(&["--count", "1000001"]), "--count"),
        (BAD_FLAGS, with(&["--count", "ten"]), "--count"),
        (BAD_FLAGS, with(&["--count", "-5"]), "--count"),
        (
            BAD_FLAGS,
            with(&[
                "--count",
                "5",
                "--from",
                "1000000000",
                "--till",
                "1000000001",
            ]),
            "cannot be used with",
        ),
        (BAD_FLAGS, with(&["--from", "1000000000"]), "--till"),
        (BAD_FLAGS, with(&["--till", "1000000000"]), "--from"),
        (
            BAD_FLAGS,
            vec!["create-cards", "--cardgroup-id", "x", "--count", "1"],
            "--cardgroup-id",
        ),
        (
            REFUSED,
            vec!["create-cards", "--cardgroup-id", "9", "--count", "1"],
            "card group 9 was not found",
        ),
        (
            REFUSED,
            with(&["--from", "10000000a0", "--till", "1000000100"]),
            "digits only",
        ),
        (
            REFUSED,
            with(&["--from", "-100000000", "--till", "1000000100"]),
            "digits only",
        ),
        (
            REFUSED,
            with(&["--from", "100000000", "--till", "1000000100"]),
            "same number of digits",
        ),
        (
            REFUSED,
            with(&["--from", "1000000100", "--till", "1000000000"]),
            "is after --till",
        ),
        (
            REFUSED,
            with(&["--from", "100", "--till", "200"]),
            "10-digit numbers",
        ),
        (
            REFUSED,
            with(&["--from", "0000000000", "--till", "0001000000"]),
            "at most 1000000",
        ),
        (
            REFUSED,
            vec!["create-cards", "--cardgroup-id", "2", "--count", "101"],
            "2-digit PINs",
        ),
        (
            REFUSED,
            with(&["--count", "1", "--balance", "-1"]),
            "not a balance",
        ),
        (
            REFUSED,
            with(&["--count", "1", "--balance", "1e3"]),
            "not a balance",
        ),
        (
            REFUSED,
            with(&["--count", "1", "--balance", ""]),
            "not a balance",
        ),
        (
            REFUSED,
            with(&["--count", "1", "--balance", "1234567890123456"]),
            "not a balance",
        ),
        (
            REFUSED,
            extended(&group, &["--count", "1", "--out", taken_path]),
            "exists",
        ),
        (
            REFUSED,
            extended(&group, &["--count", "1", "--out", missing_path]),
            "cannot create",
        ),
    ];
    for (code, args, why) in cases {
        let stderr = ops.refused(code, &args);
        assert!(stderr.contains(why), "{args:?}: {why} not in:\n{stderr}");
    }
    assert!(card_numbers(database, 1).is_empty(), "nothing was created");
    assert!(card_numbers(database, 2).is_empty(), "nothing was created");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "keep me");
    assert!(!ops.path("no").exists());
}

fn the_look_ups_show_tables_json_and_hide_pins(database: &UrlDatabase) {
    let ops = Operator::on(database);
    assert_eq!(ops.run(&["groups"]).trim(), "no card groups");
    assert_eq!(ops.json(&["groups"]), Value::Array(vec![]));
    ops.run(&[
        "create-card-group",
        "--name",
        "Ten minutes",
        "--price",
        "10.084033613445378",
    ]);
    ops.run(&["create-tax", "--tax1", "21"]);
    ops.run(&["assign-tax", "--tax-id", "1", "--cardgroup-id", "1"]);
    ops.run(&["create-card-group", "--name", "Euro", "--currency", "EUR"]);
    let out = ops.path("batch.csv");
    ops.run(&[
        "create-cards",
        "--cardgroup-id",
        "1",
        "--count",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    let rows = printed(&out);
    // One sold card bound to a phone, one hidden card: neither is free.
    ops.run(&[
        "create-card",
        "--cardgroup-id",
        "1",
        "--number",
        "2000000000",
        "--callerid",
        "37060000001",
        "--sold",
        "--balance",
        "3",
    ]);
    ops.run(&["update-card", "--number", &rows[3].0, "--hidden", "true"]);

    let groups = ops.json(&["groups"]);
    assert_eq!(
        groups,
        serde_json::json!([
            {"id": 1, "name": "Ten minutes", "price": "10.084033613445378", "currency": "",
             "tax_id": 1, "free": 3, "sold": 1},
            {"id": 2, "name": "Euro", "price": "0.000000000000000", "currency": "EUR",
             "tax_id": null, "free": 0, "sold": 0},
        ])
    );
    let table = ops.run(&["groups"]);
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap()
        .split('|')
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    assert_eq!(
        header,
        ["id", "name", "price", "currency", "tax_id", "free", "sold"]
    );
    for part in [
        "Ten minutes",
        "10.084033613445378",
        "(system)",
        "EUR",
        " 0.0 |",
    ] {
        assert!(table.contains(part), "{part} not in:\n{table}");
    }

    // cards: every card, by number; PINs nowhere without --show-pins.
    let all = ops.json(&["cards", "--cardgroup-id", "1"]);
    let listed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|card| card["number"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = rows.iter().map(|(number, _, _)| number.as_str()).collect();
    expected.push("2000000000");
    assert_eq!(listed, expected);
    let first = &all[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.iter().copied().collect::<HashSet<_>>(),
        HashSet::from([
            "id",
            "number",
            "cardgroup_id",
            "balance",
            "sold",
            "callerid"
        ])
    );
    assert_eq!(first["balance"], "10.084033613445378");
    assert_eq!(first["sold"], false);
    assert_eq!(first["callerid"], Value::Null);
    let outputs = [
        ops.run(&["cards", "--cardgroup-id", "1"]),
        serde_json::to_string(&all).unwrap(),
        ops.run(&["card", &rows[0].0]),
        ops.run(&["card", &rows[0].0, "--json"]),
    ];
    for output in &outputs {
        for (_, pin, _) in &rows {
            assert!(!output.contains(pin.as_str()), "a PIN shown:\n{output}");
        }
    }
    let with_pins = ops.json(&["cards", "--cardgroup-id", "1", "--show-pins"]);
    assert_eq!(with_pins[0]["pin"], rows[0].1.as_str());
    let table = ops.run(&["cards", "--cardgroup-id", "1", "--show-pins"]);
    assert!(
        table.contains("| pin") && table.contains(&rows[2].1),
        "{table}"
    );

    // The filters.
    let sold = ops.json(&["cards", "--cardgroup-id", "1", "--sold"]);
    assert_eq!(sold.as_array().unwrap().len(), 1);
    assert_eq!(sold[0]["number"], "2000000000");
    assert_eq!(sold[0]["callerid"], "37060000001");
    assert_eq!(sold[0]["sold"], true);
    assert_eq!(
        ops.json(&["cards", "--cardgroup-id", "1", "--unsold"])
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let by_cli = ops.json(&["cards", "--cardgroup-id", "1", "--callerid", "37060000001"]);
    assert_eq!(by_cli.as_array().unwrap().len(), 1);
    // Exact matches only (MySQL's PAD SPACE would take `... ` for the caller ID).
    for inexact in ["37060000001 ", "3706000000", "%"] {
        assert_eq!(
            ops.json(&["cards", "--cardgroup-id", "1", "--callerid", inexact]),
            Value::Array(vec![])
        );
    }
    let by_number = ops.json(&["cards", "--cardgroup-id", "1", "--number", &rows[1].0]);
    assert_eq!(by_number.as_array().unwrap().len(), 1);
    assert_eq!(
        ops.json(&["cards", "--cardgroup-id", "2"]),
        Value::Array(vec![])
    );
    assert_eq!(
        ops.run(&["cards", "--cardgroup-id", "2"]).trim(),
        "no cards"
    );

    // card: the card (hidden or not) and its payments, none for stock.
    let card = ops.json(&["card", &rows[3].0, "--show-pins"]);
    assert_eq!(card["card"]["number"], rows[3].0.as_str());
    assert_eq!(card["card"]["pin"], rows[3].1.as_str());
    assert_eq!(card["card"]["hidden"], true);
    assert_eq!(card["payments"], Value::Array(vec![]));
    let shown = ops.run(&["card", &rows[3].0]);
    assert!(
        shown.contains("hidden") && shown.contains("no payments"),
        "{shown}"
    );
    assert_eq!(ops.run(&["payments"]).trim(), "no payments");
    assert_eq!(ops.json(&["payments"]), Value::Array(vec![]));
}

fn the_look_ups_refuse_bad_input(database: &UrlDatabase) {
    let ops = Operator::on(database);
    ops.run(&["create-card-group", "--name", "Ten"]);
    let cases: Vec<(i32, Vec<&str>, &str)> = vec![
        (BAD_FLAGS, vec!["groups", "--all"], "--all"),
        (BAD_FLAGS, vec!["cards"], "--cardgroup-id"),
        (
            BAD_FLAGS,
            vec!["cards", "--cardgroup-id", "1", "--sold", "--unsold"],
            "cannot be used with",
        ),
        (
            REFUSED,
            vec!["cards", "--cardgroup-id", "7"],
            "card group 7 was not found",
        ),
        (BAD_FLAGS, vec!["card"], "NUMBER"),
        (
            REFUSED,
            vec!["card", "1000000000"],
            "card 1000000000 was not found",
        ),
        (REFUSED, vec!["card", ""], "not a card number"),
        (REFUSED, vec!["card", "12\u{1}34"], "not a card number"),
        (
            REFUSED,
            vec!["payments", "--since", "2026-13-01"],
            "YYYY-MM-DD",
        ),
        (
            REFUSED,
            vec!["payments", "--since", "yesterday"],
            "YYYY-MM-DD",
        ),
        (
            BAD_FLAGS,
            vec!["payments", "--card", "1", "--user", "admin"],
            "cannot be used with",
        ),
        (
            REFUSED,
            vec!["payments", "--card", "1000000000"],
            "card 1000000000 was not found",
        ),
        (
            REFUSED,
            vec!["payments", "--user", "nobody"],
            "user nobody was not found",
        ),
    ];
    for (code, args, why) in cases {
        let stderr = ops.refused(code, &args);
        assert!(stderr.contains(why), "{args:?}: {why} not in:\n{stderr}");
    }
}

/// Every new subcommand explains itself with an example.
#[test]
fn every_new_subcommand_shows_an_example_in_its_help() {
    let database = UrlDatabase::sqlite();
    let ops = Operator::on(&database);
    for (subcommand, example) in [
        (
            "create-cards",
            "morcc create-cards --cardgroup-id 1 --count 5000 --out",
        ),
        ("create-cards", "--from 0000100000 --till 0000104999"),
        ("groups", "morcc groups --json"),
        ("cards", "morcc cards --cardgroup-id 1 --unsold"),
        ("card", "morcc card 1000000001"),
        ("payments", "morcc payments --since 2026-12-01"),
    ] {
        let help = ops.run(&[subcommand, "--help"]);
        assert!(help.contains(example), "{subcommand}:\n{help}");
    }
}

/// A chunk that fails leaves the chunks before it committed, and says how far it got.
#[test]
fn a_batch_stopped_part_of_the_way_reports_what_it_created() {
    let database = UrlDatabase::sqlite();
    let ops = Operator::on(&database);
    ops.run(&["create-card-group", "--name", "Ten", "--price", "10"]);
    let request = batch::BatchRequest {
        cardgroup_id: CardGroupId(1),
        numbers: batch::Numbers::Count(2500),
        balance: None,
    };
    let planned = batch::plan(&database.db, &request).unwrap();
    assert_eq!(planned.total(), 2500);
    let mut chunks = 0;
    let stopped = batch::create(&database.db, &planned, |chunk| {
        chunks += 1;
        assert_eq!(chunk.created.len(), batch::CHUNK_SIZE);
        if chunks == 2 {
            Err("the printer's disk is full".into())
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert_eq!(stopped.created, 2000);
    assert_eq!(stopped.total, 2500);
    assert_eq!(stopped.next_number, "1000002000");
    assert!(
        stopped.to_string().contains("created 2000 of 2500"),
        "{stopped}"
    );
    assert_eq!(card_numbers(&database, 1).len(), 2000);
}

/// The README's "Operating" walkthrough, step by step: an empty database, an API user, a card
/// group with a price, a batch printed to a file, two of its cards sold over the API, one
/// topped up, and the operator's look at all of it.
async fn the_walkthrough_from_an_empty_database_to_cards_sold_over_the_api(database: UrlDatabase) {
    let ops = Operator::on(&database);
    ops.run(&["migrate"]);
    ops.run(&[
        "create-user",
        "--username",
        USER,
        "--password",
        PASSWORD,
        "--usertype",
        "admin",
    ]);
    ops.run(&["set-setting", "Allow_API", "1"]);
    ops.run(&["set-setting", "API_Secret_Key", KEY]);
    ops.run(&["allow-api-payments", "on"]);
    let said = ops.run(&[
        "create-card-group",
        "--name",
        "10 minutes",
        "--price",
        "10",
        "--description",
        "10 minutes cards",
    ]);
    assert!(said.contains("card group 1 created"), "{said}");
    let out = ops.path("batch-1.csv");
    let said = ops.run(&[
        "create-cards",
        "--cardgroup-id",
        "1",
        "--count",
        "100",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(said.contains("created 100 of 100 cards"), "{said}");
    let printed = printed(&out);
    assert_eq!(printed.len(), 100);
    assert_eq!(
        ops.json(&["groups"])[0],
        serde_json::json!({"id": 1, "name": "10 minutes", "price": "10.000000000000000",
                           "currency": "", "tax_id": null, "free": 100, "sold": 0})
    );

    // A shop sells two cards over the API: the first two of the print run.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let options = morcc::cli::ServeArgs {
        workers: Some(2),
        ..uncached()
    };
    let server =
        morcc::server::start(std::sync::Arc::new(database.db.clone()), listener, &options).unwrap();
    actix_web::rt::spawn(server);
    let client = reqwest::Client::new();
    let call = |call: ApiCall, params: Vec<(&'static str, String)>| {
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let signed = signed_call(call, &params, USER, PASSWORD, KEY);
        let request = client
            .post(format!("{address}/api/{}", call.name()))
            .form(&signed);
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let sale = call(
        ApiCall::CardFromGroupSell,
        vec![("id", "1".into()), ("quantity", "2".into())],
    )
    .await;
    for (number, pin, _) in &printed[..2] {
        assert!(
            sale.contains(&format!("<pin>{pin}</pin>"))
                && sale.contains(&format!("<number>{number}</number>")),
            "{number} not sold with its printed PIN: {sale}"
        );
    }
    let sold_number = printed[0].0.clone();
    let topped_up = call(
        ApiCall::CardPaymentAdd,
        vec![("number", sold_number.clone()), ("amount", "5".into())],
    )
    .await;
    assert!(
        topped_up.contains("<new_balance>15.0</new_balance>"),
        "{topped_up}"
    );

    // The operator's look: the group's stock, the card, its payment.
    let group = &ops.json(&["groups"])[0];
    assert_eq!(
        (&group["free"], &group["sold"]),
        (&Value::from(98), &Value::from(2))
    );
    let sold = ops.json(&["cards", "--cardgroup-id", "1", "--sold"]);
    let sold: Vec<&str> = sold
        .as_array()
        .unwrap()
        .iter()
        .map(|card| card["number"].as_str().unwrap())
        .collect();
    assert_eq!(sold, [printed[0].0.as_str(), printed[1].0.as_str()]);
    let card = ops.json(&["card", &sold_number]);
    assert_eq!(card["card"]["balance"], "15.000000000000000");
    assert_eq!(card["card"]["sold"], true);
    let payments = card["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0]["amount"], "5.000000000000000");
    assert_eq!(payments[0]["paymenttype"], "Card");
    assert_eq!(payments[0]["card_number"], sold_number.as_str());
    assert_eq!(payments[0]["username"], Value::Null);
    let keys: HashSet<&str> = payments[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from([
            "id",
            "date",
            "paymenttype",
            "card_number",
            "username",
            "amount",
            "currency",
            "gross",
            "tax",
            "description"
        ])
    );
    let shown = ops.run(&["card", &sold_number]);
    assert!(
        shown.contains("payments, newest first") && shown.contains(" 5.0 |"),
        "{shown}"
    );
    assert_eq!(
        ops.json(&["payments", "--card", &sold_number])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A second top-up: newest first, by card and since a day.
    call(
        ApiCall::CardPaymentAdd,
        vec![("number", sold_number.clone()), ("amount", "2.5".into())],
    )
    .await;
    let all = ops.json(&["payments"]);
    let amounts: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|payment| payment["amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["2.500000000000000", "5.000000000000000"]);
    let date = all[0]["date"].as_str().unwrap().to_owned();
    assert_eq!(date.len(), 19, "{date}");
    assert_eq!(ops.json(&["payments", "--since", &date[..10]]), all);
    assert_eq!(
        ops.json(&["payments", "--since", "9999-12-31"]),
        Value::Array(vec![])
    );
    assert_eq!(
        ops.json(&["payments", "--card", &printed[1].0]),
        Value::Array(vec![])
    );
    let table = ops.run(&["payments", "--since", &date[..10]]);
    assert!(
        table.contains("| card_number") && table.contains(&sold_number),
        "{table}"
    );

    // A customer's top-up through a phone (cc_by_cli's device path): a user's payment.
    ops.run(&["create-user", "--username", "customer", "--password", "pw"]);
    ops.run(&[
        "create-device",
        "--user-id",
        "2",
        "--callerid",
        "37060000009",
    ]);
    call(
        ApiCall::CcByCli,
        vec![
            ("callerid", "37060000009".into()),
            ("amount", "12.5".into()),
            ("cardgroup_id", "1".into()),
        ],
    )
    .await;
    let customer = ops.json(&["payments", "--user", "customer"]);
    assert_eq!(customer.as_array().unwrap().len(), 1);
    assert_eq!(customer[0]["username"], "customer");
    assert_eq!(customer[0]["card_number"], Value::Null);
    assert_eq!(customer[0]["amount"], "12.500000000000000");
    // Every payment names its own holder, though user 2 and card 2 share an id.
    let holders: Vec<(Value, Value)> = ops
        .json(&["payments"])
        .as_array()
        .unwrap()
        .iter()
        .map(|payment| (payment["card_number"].clone(), payment["username"].clone()))
        .collect();
    let card = (Value::from(sold_number.as_str()), Value::Null);
    assert_eq!(
        holders,
        [(Value::Null, Value::from("customer")), card.clone(), card]
    );
}

#[actix_web::test]
async fn the_walkthrough_on_sqlite() {
    the_walkthrough_from_an_empty_database_to_cards_sold_over_the_api(UrlDatabase::sqlite()).await;
}

#[cfg(feature = "mysql")]
#[actix_web::test]
async fn the_walkthrough_on_mysql() {
    let server = crate::procs::MysqlServer::from_env().expect("a MySQL server");
    the_walkthrough_from_an_empty_database_to_cards_sold_over_the_api(
        UrlDatabase::mysql(&server).expect("a scratch database"),
    )
    .await;
}
