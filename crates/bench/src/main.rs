//! `morcc-bench`: seeds a database, starts morcc, drives MOR's `cc_by_cli`, card sales
//! (`card_from_group_sell`) and card payments (`card_payment_add`) over keep-alive HTTP/1.1
//! and directly through the adapters, and compares with the database's own limit
//! (`mysqlslap`). See docs/PERFORMANCE.md.
//!
//! ```sh
//! cargo run --release -p morcc-bench -- --seconds 10
//! cargo run --release -p morcc-bench --features mysql -- --backend mysql --suite
//! cargo run --release -p morcc-bench --features mysql -- --backend mysql --targets
//! ```

mod direct;
mod load;
mod seed;
mod server;
mod slap;
mod stats;
mod targets;
mod workload;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;

use crate::direct::DirectScope;
use crate::load::RunPlan;
use crate::seed::{BackendKind, BenchDatabase, LedgerCheck};
use crate::server::{Server, ServerOptions};
use crate::slap::SlapResult;
use crate::stats::{RunReport, Statements};
use crate::workload::{Kind, Mix, Shape, Workload};

/// Load benchmark of morcc's `cc_by_cli`, card sales and card payments.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Database backend.
    #[arg(long, value_enum, default_value_t = BackendKind::Sqlite)]
    backend: BackendKind,
    /// The MySQL/MariaDB server (a database `morcc_bench_*` is created there and dropped).
    #[arg(long, default_value = "mysql://root@127.0.0.1:3306")]
    mysql_url: String,
    /// Keep-alive HTTP connections (and threads of the direct run).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured seconds per run.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Unmeasured seconds at the start of each run.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seeded cards (all sold, each with a caller ID).
    #[arg(long, default_value_t = 100_000)]
    cards: usize,
    /// Card groups.
    #[arg(long, default_value_t = 50)]
    groups: usize,
    /// Seeded devices, each with a caller ID.
    #[arg(long, default_value_t = 10_000)]
    devices: usize,
    /// Free PIN cards of the sale group (seeded when a run sells, and topped back up to this
    /// many before every run that sells).
    #[arg(long, default_value_t = 100_000)]
    sale_cards: usize,
    /// Percentages `lookups,topups,transfers[,sales[,payments]]`, or one kind alone:
    /// `lookup`, `topup`, `transfer`, `sale`, `payment`.
    #[arg(long, default_value = "70,25,5", value_parser = Mix::parse)]
    mix: Mix,
    /// Skip the direct (no HTTP) run.
    #[arg(long)]
    no_direct: bool,
    /// Skip mysqlslap.
    #[arg(long)]
    no_slap: bool,
    /// Run the whole set: connections 1/8/32/128, direct, pure look-ups and top-ups,
    /// mysqlslap, look-up latency with few and many cards; print a table.
    #[arg(long)]
    suite: bool,
    /// Check the issue's targets at `--connections`: every kind alone over HTTP, mysqlslap,
    /// ratios, p99s, peak RSS, the ledger and MySQL statements per request; print tables.
    #[arg(long, conflicts_with = "suite")]
    targets: bool,
    /// Connections of the suite's scaling runs.
    #[arg(long, value_delimiter = ',', default_value = "1,8,32,128")]
    suite_connections: Vec<usize>,
    /// Run only the suite's look-up latency runs.
    #[arg(long)]
    scale_only: bool,
    /// Card counts of the suite's look-up latency runs (card look-ups, 1 connection).
    #[arg(long, value_delimiter = ',', default_value = "1000,1000000")]
    scale_cards: Vec<usize>,
    /// Start this morcc binary instead of the bench's built-in copy of morcc's `main`.
    #[arg(long)]
    morcc_bin: Option<PathBuf>,
    /// morcc's `--workers`.
    #[arg(long)]
    workers: Option<usize>,
    /// morcc's `--pool-size` (also the direct run's pool).
    #[arg(long)]
    pool_size: Option<u32>,
    /// Write morcc's log here (default: discarded).
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// Another argument for morcc's server, e.g. `--morcc-arg=--sqlite-synchronous=normal`
    /// (repeatable).
    #[arg(long = "morcc-arg", allow_hyphen_values = true)]
    morcc_args: Vec<String>,
    /// Keep the database instead of removing it.
    #[arg(long)]
    keep: bool,
}

fn main() -> std::process::ExitCode {
    let mut argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(server::CHILD_ARG) {
        return server::run_child(argv.split_off(2));
    }
    let args = Args::parse_from(argv);
    match run(&args) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("morcc-bench: the run had errors or an inexact ledger");
            std::process::ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("morcc-bench: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

impl Args {
    /// The data set with `cards` sold cards; with the sale group's free cards when `sells`
    /// (otherwise they would only make the cards table bigger than earlier figures had it).
    fn shape(&self, cards: usize, sells: bool) -> Shape {
        Shape {
            cards,
            groups: self.groups.clamp(1, cards.max(1)),
            devices: self.devices.min(cards.max(10)),
            sale_cards: if sells { self.sale_cards } else { 0 },
        }
    }

    fn plan(&self, concurrency: usize) -> RunPlan {
        RunPlan {
            concurrency: concurrency.max(1),
            warmup: Duration::from_secs_f64(self.warmup.max(0.0)),
            measure: Duration::from_secs_f64(self.seconds.max(0.1)),
        }
    }

    fn server_options(&self) -> ServerOptions {
        ServerOptions {
            binary: self.morcc_bin.clone(),
            workers: self.workers,
            pool_size: self.pool_size,
            log: self.server_log.clone(),
            extra_args: self.morcc_args.clone(),
        }
    }
}

/// A seeded database with morcc serving it.
struct Bench {
    db: BenchDatabase,
    server: Server,
    shape: Shape,
    database_pid: Option<String>,
}

impl Bench {
    fn start(args: &Args, shape: Shape) -> Result<Bench, String> {
        let db = BenchDatabase::create(args.backend, &args.mysql_url, args.keep)?;
        let seeded = db.seed(&shape)?;
        println!(
            "seeded {:?}: {} cards in {} groups, {} free cards in sale group {}, {} devices of {} users in {:.1} s",
            db.backend,
            shape.cards,
            shape.groups,
            shape.sale_cards,
            shape.sale_group(),
            shape.devices,
            shape.device_users(),
            seeded.as_secs_f64()
        );
        let server = Server::start(&db.url, &args.server_options())?;
        println!("morcc pid {} listening on {}", server.pid(), server.address);
        let database_pid = match args.backend {
            BackendKind::Mysql => stats::database_server_pid(),
            BackendKind::Sqlite => None,
        };
        Ok(Bench {
            db,
            server,
            shape,
            database_pid,
        })
    }

    fn http(&self, workload: &Workload, plan: RunPlan, label: &str) -> Result<RunReport, String> {
        self.refill_sale_group(workload.mix())?;
        let before = self.statement_counters();
        let mut report = load::run_http(
            self.server.address,
            Arc::new(workload.with_mix(workload.mix())),
            plan,
            (Some(self.server.pid()), self.database_pid.clone()),
            label,
        )?;
        report.peak_rss_kib = self.server.peak_rss_kib();
        report.statements = Statements::between(&before, &self.statement_counters(), report.sent);
        print!("{}", report.describe());
        Ok(report)
    }

    fn direct(
        &self,
        args: &Args,
        workload: &Workload,
        plan: RunPlan,
        scope: DirectScope,
        label: &str,
    ) -> Result<RunReport, String> {
        let database = Arc::new(direct::open_like_morcc(&self.db.url, args.pool_size)?);
        self.refill_sale_group(workload.mix())?;
        let before = self.statement_counters();
        let mut report = direct::run_direct(
            database,
            Arc::new(workload.with_mix(workload.mix())),
            plan,
            scope,
            self.database_pid.clone(),
            label,
        )?;
        report.statements = Statements::between(&before, &self.statement_counters(), report.sent);
        print!("{}", report.describe());
        Ok(report)
    }

    /// Before a run that sells: the sale group back to its full count of free cards, so that
    /// every sale of the run finds one (a run sells at most that many).
    fn refill_sale_group(&self, mix: Mix) -> Result<(), String> {
        if !mix.includes(Kind::Sale) {
            return Ok(());
        }
        if self.shape.sale_cards == 0 {
            return Err("this data set has no cards for sale (--sale-cards 0)".to_owned());
        }
        let added = self.db.refill_sale_group(&self.shape)?;
        if added > 0 {
            println!("sale group topped up with {added} free cards");
        }
        Ok(())
    }

    /// MySQL's statement counters (empty on SQLite or when they cannot be read).
    fn statement_counters(&self) -> Vec<(String, u64)> {
        if self.db.backend != BackendKind::Mysql {
            return Vec::new();
        }
        self.db
            .raw()
            .and_then(|mut conn| conn.statement_counters())
            .unwrap_or_default()
    }

    fn slap(&self, args: &Args, concurrency: usize) -> Option<SlapResult> {
        if args.backend != BackendKind::Mysql || args.no_slap {
            return None;
        }
        if !slap::available() {
            println!("mysqlslap not found (it ships with mariadb-client): skipped");
            return None;
        }
        match slap::run(
            &self.db,
            &args.mysql_url,
            concurrency,
            self.shape.cards,
            Duration::from_secs_f64(args.seconds.max(1.0)),
        ) {
            Ok(result) => {
                println!(
                    "mysqlslap · {} concurrent: {:.0} top-up transactions/s, {:.0} look-ups/s",
                    result.concurrency, result.topups_per_second, result.lookups_per_second
                );
                Some(result)
            }
            Err(error) => {
                println!("mysqlslap failed: {error}");
                None
            }
        }
    }

    fn ledger(&self) -> Result<LedgerCheck, String> {
        let check = self.db.check_ledger(&self.shape)?;
        println!(
            "ledger: {} ({} payments rows, {} balances changed, {} mismatches over {} cards and users; \
             {} cards sold, {} sales recorded otherwise than on one line item at their unchanged balance)",
            if check.is_exact() { "exact" } else { "NOT EXACT" },
            check.payments,
            check.changed,
            check.mismatches,
            check.holders,
            check.sold,
            check.sale_mismatches
        );
        Ok(check)
    }
}

fn run(args: &Args) -> Result<bool, String> {
    println!(
        "morcc-bench: {:?}, {} connections, {} s per run (+{} s warm-up), mix {}",
        args.backend, args.connections, args.seconds, args.warmup, args.mix
    );
    if args.suite {
        return suite(args);
    }
    if args.targets {
        return targets::run(args);
    }
    let bench = Bench::start(args, args.shape(args.cards, args.mix.includes(Kind::Sale)))?;
    let workload = Workload::new(bench.shape, args.mix);
    let plan = args.plan(args.connections);
    let http = bench.http(&workload, plan, "HTTP (morcc)")?;
    let mut clean = http.error_count() == 0;
    if !args.no_direct {
        let direct = bench.direct(
            args,
            &workload,
            plan,
            DirectScope::AuthAndCall,
            "direct (authenticate + call, no HTTP)",
        )?;
        clean &= direct.error_count() == 0;
        println!(
            "service / direct: {:.2}",
            http.rate() / direct.rate().max(1e-9)
        );
    }
    let slap = bench.slap(args, args.connections);
    if let Some(slap) = slap {
        print_slap_comparison(&slap, None, None);
    }
    let ledger = bench.ledger()?;
    println!(
        "morcc peak RSS (VmHWM): {:.1} MiB",
        bench.server.peak_rss_kib().unwrap_or_default() as f64 / 1024.0
    );
    Ok(clean && ledger.is_exact())
}

fn print_slap_comparison(slap: &SlapResult, topups: Option<f64>, lookups: Option<f64>) {
    if let Some(topups) = topups {
        println!(
            "top-ups: morcc {:.0}/s vs MariaDB alone {:.0}/s = {:.2} (target >= 0.7)",
            topups,
            slap.topups_per_second,
            topups / slap.topups_per_second.max(1e-9)
        );
    }
    if let Some(lookups) = lookups {
        println!(
            "look-ups: morcc {:.0}/s vs MariaDB alone {:.0}/s = {:.2} (target >= 0.6)",
            lookups,
            slap.lookups_per_second,
            lookups / slap.lookups_per_second.max(1e-9)
        );
    }
}

/// What the suite's runs on the main data set found.
struct SuiteOutcome {
    clean: bool,
    /// service / direct (auth + call), service / direct (call only).
    ratios: (f64, f64),
    slap: Option<SlapResult>,
    /// Look-ups/s of the pure look-up run, top-ups/s of the pure top-up run.
    rates: (f64, f64),
    ledger_exact: bool,
    peak_rss: Option<u64>,
}

fn suite(args: &Args) -> Result<bool, String> {
    let mut rows: Vec<RunReport> = Vec::new();
    let outcome = if args.scale_only {
        None
    } else {
        Some(suite_main(args, &mut rows)?)
    };
    let mut clean = outcome.as_ref().is_none_or(|outcome| outcome.clean);

    println!("\n== card look-up latency against the number of cards (1 connection)");
    let mut scale_rows = Vec::new();
    for &cards in &args.scale_cards {
        let scaled = Bench::start(args, args.shape(cards, false))?;
        let scaled_workload = Workload::new(scaled.shape, Mix::only(Kind::Lookup)).cards_only();
        let report = scaled.http(
            &scaled_workload,
            args.plan(1),
            &format!("HTTP card look-ups · {cards} cards · 1 conn"),
        )?;
        clean &= report.error_count() == 0;
        scale_rows.push((cards, report));
    }

    println!("\n== summary ({:?})\n", args.backend);
    print_run_table(rows.iter().chain(scale_rows.iter().map(|(_, row)| row)));
    println!();
    if let Some(outcome) = &outcome {
        let (full, call) = outcome.ratios;
        println!("service / direct (auth + call): {full:.2}");
        println!("service / direct (call only):   {call:.2} (target >= 0.8)");
        if let Some(slap) = &outcome.slap {
            println!(
                "mysqlslap · {} concurrent: {:.0} top-up transactions/s, {:.0} look-ups/s",
                slap.concurrency, slap.topups_per_second, slap.lookups_per_second
            );
            print_slap_comparison(slap, Some(outcome.rates.1), Some(outcome.rates.0));
        }
    }
    if let [(few, a), .., (many, b)] = scale_rows.as_slice() {
        let (a, b) = (&a.per_kind[0], &b.per_kind[0]);
        println!(
            "card look-up latency, {few} vs {many} cards: p50 {:.2} vs {:.2} ms, p99 {:.2} vs {:.2} ms",
            a.p50, b.p50, a.p99, b.p99
        );
    }
    if let Some(outcome) = &outcome {
        println!(
            "ledger after the runs: {}",
            if outcome.ledger_exact {
                "exact"
            } else {
                "NOT EXACT"
            }
        );
        println!(
            "morcc peak RSS (VmHWM) over the main runs: {:.1} MiB (target < 64)",
            outcome.peak_rss.unwrap_or_default() as f64 / 1024.0
        );
        clean &= outcome.ledger_exact;
    }
    Ok(clean)
}

/// One row per run: rate, latency, errors, CPU per request, the machine's other load.
fn print_run_table<'a>(rows: impl IntoIterator<Item = &'a RunReport>) {
    println!(
        "| run | req/s | p50 ms | p99 ms | p99.9 ms | errors | CPU µs/req morcc / db / bench | other load (cores) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|---:|");
    for row in rows {
        let requests = row.all.count.max(1) as f64;
        let per = |seconds: Option<f64>| {
            seconds.map_or("-".to_owned(), |s| format!("{:.0}", s * 1e6 / requests))
        };
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} / {} / {:.0} | {:.2} |",
            row.label,
            row.rate(),
            row.all.p50,
            row.all.p99,
            row.all.p999,
            row.error_count(),
            per(row.cpu.morcc),
            per(row.cpu.database),
            row.cpu.bench * 1e6 / requests,
            row.cpu.others / row.cpu.wall.max(1e-9)
        );
    }
}

fn suite_main(args: &Args, rows: &mut Vec<RunReport>) -> Result<SuiteOutcome, String> {
    let mut clean = true;
    let headline = args.connections;
    let bench = Bench::start(args, args.shape(args.cards, args.mix.includes(Kind::Sale)))?;
    let workload = Workload::new(bench.shape, args.mix);

    println!("\n== the mix at {:?} connections", args.suite_connections);
    let mut headline_http = None;
    for &connections in &args.suite_connections {
        let report = bench.http(
            &workload,
            args.plan(connections),
            &format!("HTTP mix · {connections} conn"),
        )?;
        clean &= report.error_count() == 0;
        if connections == headline {
            headline_http = Some(report.rate());
        }
        rows.push(report);
    }
    let headline_http = match headline_http {
        Some(rate) => rate,
        None => {
            let report = bench.http(
                &workload,
                args.plan(headline),
                &format!("HTTP mix · {headline} conn"),
            )?;
            let rate = report.rate();
            rows.push(report);
            rate
        }
    };

    println!("\n== the same mix with no HTTP, {headline} threads");
    let direct_full = bench.direct(
        args,
        &workload,
        args.plan(headline),
        DirectScope::AuthAndCall,
        &format!("direct auth+call · {headline} thr"),
    )?;
    let direct_call = bench.direct(
        args,
        &workload,
        args.plan(headline),
        DirectScope::CallOnly,
        &format!("direct call only · {headline} thr"),
    )?;
    clean &= direct_full.error_count() == 0 && direct_call.error_count() == 0;
    let ratios = (
        headline_http / direct_full.rate().max(1e-9),
        headline_http / direct_call.rate().max(1e-9),
    );
    rows.push(direct_full);
    rows.push(direct_call);

    println!("\n== pure look-ups and pure top-ups over HTTP, {headline} connections");
    let lookups = bench.http(
        &workload.with_mix(Mix::only(Kind::Lookup)),
        args.plan(headline),
        &format!("HTTP look-ups · {headline} conn"),
    )?;
    let topups = bench.http(
        &workload.with_mix(Mix::only(Kind::Topup)),
        args.plan(headline),
        &format!("HTTP top-ups · {headline} conn"),
    )?;
    clean &= lookups.error_count() == 0 && topups.error_count() == 0;
    let rates = (
        lookups.kind_rate(Kind::Lookup),
        topups.kind_rate(Kind::Topup),
    );
    rows.push(lookups);
    rows.push(topups);

    let slap = bench.slap(args, headline);
    let ledger = bench.ledger()?;
    Ok(SuiteOutcome {
        clean,
        ratios,
        slap,
        rates,
        ledger_exact: ledger.is_exact(),
        peak_rss: bench.server.peak_rss_kib(),
    })
}
