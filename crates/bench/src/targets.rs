//! `--targets`: the performance issue's targets in one command, on one seeded database at one
//! concurrency (`--connections`, 32 by default): each kind of request alone over HTTP, then
//! mysqlslap's look-ups and top-ups on the same database (MySQL), then the ledger. Prints the
//! runs, the targets with what was measured, and MySQL's statements per request per kind.

use crate::seed::{BackendKind, LedgerCheck};
use crate::slap::SlapResult;
use crate::stats::{short_counter_name, RunReport, STATEMENT_COUNTERS};
use crate::workload::{Kind, Mix, Workload};
use crate::{print_run_table, Args, Bench};

/// Look-ups/s over HTTP against mysqlslap's look-ups/s.
const LOOKUP_RATIO_TARGET: f64 = 0.6;
/// Top-ups/s over HTTP against mysqlslap's top-up transactions/s.
const TOPUP_RATIO_TARGET: f64 = 0.7;
/// The slowest 1 % of each kind's requests, in milliseconds.
const P99_TARGET_MS: f64 = 20.0;
/// morcc's peak resident memory, in MiB.
const PEAK_RSS_TARGET_MIB: f64 = 64.0;

/// One run of each kind alone, mysqlslap, the ledger; `Ok(true)` when no request failed and
/// the ledger is exact (a target missed is a finding, not a failure).
pub fn run(args: &Args) -> Result<bool, String> {
    let connections = args.connections;
    let bench = Bench::start(args, args.shape(args.cards, true))?;
    let workload = Workload::new(bench.shape, Mix::STANDARD);
    println!("\n== each kind alone over HTTP, {connections} connections");
    let mut runs = Vec::with_capacity(Kind::COUNT);
    for kind in Kind::ALL {
        let label = format!("HTTP {}s · {connections} conn", kind.name());
        let alone = workload.with_mix(Mix::only(kind));
        runs.push((kind, bench.http(&alone, args.plan(connections), &label)?));
    }
    let slap = bench.slap(args, connections);
    let ledger = bench.ledger()?;
    let peak_rss_mib = bench.server.peak_rss_kib().unwrap_or_default() as f64 / 1024.0;

    println!(
        "\n== targets ({:?}, {connections} connections)\n",
        args.backend
    );
    print_run_table(runs.iter().map(|(_, report)| report));
    println!();
    let errors: u64 = runs.iter().map(|(_, report)| report.error_count()).sum();
    print_targets(&runs, slap.as_ref(), peak_rss_mib, errors, &ledger);
    println!();
    match args.backend {
        BackendKind::Mysql => print_statements(&runs),
        BackendKind::Sqlite => {
            println!("statements per request: MySQL only (from the server's status counters)");
        }
    }
    Ok(errors == 0 && ledger.is_exact())
}

/// The targets table: ratios to mysqlslap (when it ran), p99 of each kind, peak RSS,
/// errors, ledger.
fn print_targets(
    runs: &[(Kind, RunReport)],
    slap: Option<&SlapResult>,
    peak_rss_mib: f64,
    errors: u64,
    ledger: &LedgerCheck,
) {
    println!("| target | measured | goal | met |");
    println!("|---|---|---|---|");
    let rate = |kind: Kind| {
        runs.iter()
            .find(|(alone, _)| *alone == kind)
            .map_or(0.0, |(_, report)| report.kind_rate(kind))
    };
    match slap {
        Some(slap) => {
            ratio_row(
                "look-ups/s HTTP / mysqlslap",
                rate(Kind::Lookup),
                slap.lookups_per_second,
                LOOKUP_RATIO_TARGET,
            );
            ratio_row(
                "top-ups/s HTTP / mysqlslap",
                rate(Kind::Topup),
                slap.topups_per_second,
                TOPUP_RATIO_TARGET,
            );
        }
        None => println!("| HTTP / mysqlslap | not run (MySQL and mysqlslap only) | - | - |"),
    }
    for (kind, report) in runs {
        let p99 = report.per_kind[kind.index()].p99;
        println!(
            "| p99 {} | {p99:.2} ms | < {P99_TARGET_MS:.0} ms | {} |",
            kind.name(),
            met(p99 < P99_TARGET_MS)
        );
    }
    println!(
        "| morcc peak RSS (VmHWM) | {peak_rss_mib:.1} MiB | < {PEAK_RSS_TARGET_MIB:.0} MiB | {} |",
        met(peak_rss_mib > 0.0 && peak_rss_mib < PEAK_RSS_TARGET_MIB)
    );
    println!("| failed requests | {errors} | 0 | {} |", met(errors == 0));
    println!(
        "| ledger | {} ({} cards sold) | exact | {} |",
        if ledger.is_exact() {
            "exact"
        } else {
            "NOT EXACT"
        },
        ledger.sold,
        met(ledger.is_exact())
    );
}

fn ratio_row(name: &str, http: f64, slap: f64, target: f64) {
    let ratio = http / slap.max(1e-9);
    println!(
        "| {name} | {http:.0} / {slap:.0} = {ratio:.2} | >= {target} | {} |",
        met(ratio >= target)
    );
}

fn met(yes: bool) -> &'static str {
    if yes {
        "yes"
    } else {
        "no"
    }
}

/// MySQL's status counters per request, one row per kind run alone. The counters are
/// server-wide, so other clients of the server (and the bench's own reads of them) add a
/// little.
fn print_statements(runs: &[(Kind, RunReport)]) {
    let names: Vec<&str> = STATEMENT_COUNTERS
        .iter()
        .map(|name| short_counter_name(name))
        .collect();
    println!("MySQL statements per request (each kind alone, warm-up included)\n");
    println!("| kind | requests | {} |", names.join(" | "));
    println!("|---|---:|{}", "---:|".repeat(names.len()));
    for (kind, report) in runs {
        let Some(statements) = &report.statements else {
            println!("| {} | - | counters not read |", kind.name());
            continue;
        };
        let values: Vec<String> = STATEMENT_COUNTERS
            .iter()
            .map(|name| statements.per_request(name))
            .collect();
        println!(
            "| {} | {} | {} |",
            kind.name(),
            statements.requests,
            values.join(" | ")
        );
    }
}
