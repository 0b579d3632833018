//! The same mix with no HTTP: the domain's filters and calls on morcc's adapters, from N
//! threads sharing one pool sized as morcc sizes it.

use std::sync::Arc;
use std::time::Instant;

use morcc_adapters::{Database, SecureCodes};
use morcc_domain::card_from_group_sell::SaleRequest;
use morcc_domain::card_payment_add::PaymentRequest;
use morcc_domain::{
    authenticate, card_from_group_sell, card_payment_add, cc_by_cli, Caller, CardRequest,
    Credentials, HashedParams, Method, Origin,
};

use crate::load::RunPlan;
use crate::stats::{CpuMeter, Recorder, RunReport};
use crate::workload::{Kind, Op, Rng, Workload, API_PASSWORD, API_USER};

/// What the direct run includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectScope {
    /// `authenticate` (user and settings look-ups, SHA1s) then the call, per request.
    AuthAndCall,
    /// The call only (authenticated once per thread): the database work of the call.
    CallOnly,
}

/// Opens a pool on `url` exactly as `morcc serve` would (same defaults, same overrides).
pub fn open_like_morcc(url: &str, pool_size: Option<u32>) -> Result<Database, String> {
    use clap::Parser;
    let mut args = vec![
        "morcc".to_owned(),
        "--database-url".to_owned(),
        url.to_owned(),
    ];
    if let Some(size) = pool_size {
        args.push("--pool-size".to_owned());
        args.push(size.to_string());
    }
    let cli = morcc::cli::Cli::try_parse_from(args).map_err(|e| e.to_string())?;
    morcc::server::open_database(&cli.database).map_err(|e| e.to_string())
}

/// Runs the mix on `database` from `plan.concurrency` threads.
pub fn run_direct(
    database: Arc<Database>,
    workload: Arc<Workload>,
    plan: RunPlan,
    scope: DirectScope,
    database_pid: Option<String>,
    label: &str,
) -> Result<RunReport, String> {
    let started = Instant::now();
    let measure_from = started + plan.warmup;
    let deadline = measure_from + plan.measure;
    let threads: Vec<_> = (0..plan.concurrency)
        .map(|index| {
            let database = database.clone();
            let workload = workload.clone();
            std::thread::Builder::new()
                .name(format!("direct-{index}"))
                .spawn(move || {
                    thread_loop(
                        &database,
                        &workload,
                        Rng::new(0xD1EC_7000 + index as u64 * 104_729),
                        scope,
                        measure_from,
                        deadline,
                    )
                })
                .map_err(|e| format!("thread: {e}"))
        })
        .collect::<Result<_, _>>()?;
    std::thread::sleep(measure_from.saturating_duration_since(Instant::now()));
    let meter = CpuMeter::start(None, database_pid);
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    let cpu = meter.finish();
    let mut merged = Recorder::default();
    for thread in threads {
        merged.merge(thread.join().map_err(|_| "a direct thread panicked")??);
    }
    let mut report = RunReport::new(label, plan.concurrency, plan.measure, merged);
    report.cpu = cpu;
    Ok(report)
}

fn thread_loop(
    database: &Database,
    workload: &Workload,
    mut rng: Rng,
    scope: DirectScope,
    measure_from: Instant,
    deadline: Instant,
) -> Result<Recorder, String> {
    let mut recorder = Recorder::default();
    let mut cached_caller = None;
    while Instant::now() < deadline {
        let op = workload.next_op(&mut rng);
        let started = Instant::now();
        let caller = match (scope, &cached_caller) {
            (DirectScope::CallOnly, Some(caller)) => Ok(Clone::clone(caller)),
            _ => authenticate_op(database, &op),
        };
        let outcome = caller.and_then(|caller| {
            let result = call(database, &caller, &op);
            if scope == DirectScope::CallOnly {
                cached_caller = Some(caller);
            }
            result
        });
        let latency = started.elapsed();
        workload.completed(&op, outcome.is_ok());
        recorder.sent += 1;
        if started >= measure_from && started < deadline {
            recorder.record(op.kind, latency, outcome);
        }
    }
    Ok(recorder)
}

/// The filters of `op`'s call, as morcc runs them before the call.
fn authenticate_op(database: &Database, op: &Op) -> Result<Caller, String> {
    let call = op.kind.call();
    let credentials = Credentials {
        call,
        username: Some(API_USER),
        password: Some(API_PASSWORD),
        hash: Some(&op.hash),
        hashed: HashedParams::of(call, |name| op.param(name)),
        method: Method::Post,
    };
    let origin = Origin {
        remote_address: "127.0.0.1".to_owned(),
        target: op.path(),
    };
    authenticate(database, database, &credentials, &origin).map_err(|error| format!("{error}"))
}

/// A call's result as the run counts it: success, or the failure's text.
fn outcome<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<(), String> {
    result.map(drop).map_err(|error| error.to_string())
}

/// `op`'s call itself, with `database` as every port it needs.
fn call(database: &Database, caller: &Caller, op: &Op) -> Result<(), String> {
    match op.kind {
        Kind::Lookup | Kind::Topup | Kind::Transfer => {
            let request = CardRequest {
                callerid: op.param("callerid").map(str::to_owned),
                pin: op.param("pin").map(str::to_owned),
                amount: op.param("amount").map(str::to_owned),
                cardgroup_id: None,
            };
            outcome(cc_by_cli(database, &SecureCodes, caller, &request))
        }
        Kind::Sale => {
            let request = SaleRequest {
                id: op.param("id"),
                quantity: op.param("quantity"),
                ..SaleRequest::default()
            };
            outcome(card_from_group_sell(database, caller, &request))
        }
        Kind::Payment => {
            let request = PaymentRequest {
                number: op.param("number"),
                amount: op.param("amount"),
                description: op.param("description"),
                currency: None,
            };
            outcome(card_payment_add(database, database, caller, &request))
        }
    }
}
