//! What a run measured: latencies, outcomes, rates, CPU.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::workload::Kind;

/// Samples and outcomes of one connection or thread; merged at the end of a run.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    /// Latencies in microseconds, per kind.
    pub latencies: [Vec<u32>; Kind::COUNT],
    /// Successful requests per kind.
    pub ok: [u64; Kind::COUNT],
    /// Failures by kind of request and error text.
    pub errors: BTreeMap<(Kind, String), u64>,
    /// Every request sent, warm-up included.
    pub sent: u64,
}

impl Recorder {
    /// Records one request.
    pub fn record(&mut self, kind: Kind, latency: Duration, outcome: Result<(), String>) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        self.latencies[kind.index()].push(micros);
        match outcome {
            Ok(()) => self.ok[kind.index()] += 1,
            Err(text) => *self.errors.entry((kind, text)).or_default() += 1,
        }
    }

    /// Adds another recorder's samples.
    pub fn merge(&mut self, other: Recorder) {
        for (mine, theirs) in self.latencies.iter_mut().zip(other.latencies) {
            mine.extend(theirs);
        }
        for (mine, theirs) in self.ok.iter_mut().zip(other.ok) {
            *mine += theirs;
        }
        for (key, count) in other.errors {
            *self.errors.entry(key).or_default() += count;
        }
        self.sent += other.sent;
    }
}

/// Percentiles of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest.
    pub max: f64,
}

impl Percentiles {
    /// From microsecond samples (sorted in place).
    pub fn of(samples: &mut [u32]) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_unstable();
        let at = |q: f64| {
            let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            f64::from(samples[rank - 1]) / 1000.0
        };
        Percentiles {
            count: samples.len() as u64,
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: at(1.0),
        }
    }
}

/// CPU seconds used during a run by the processes that share the machine.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUse {
    /// The morcc server (HTTP runs only).
    pub morcc: Option<f64>,
    /// The database server (MySQL runs only).
    pub database: Option<f64>,
    /// This process: the load generator, or the direct calls and SQLite.
    pub bench: f64,
    /// Every other process on the machine (other users' builds and tests make a run noisy).
    pub others: f64,
    /// Wall-clock seconds measured.
    pub wall: f64,
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// What ran: `HTTP`, `direct`, ...
    pub label: String,
    /// Connections or threads.
    pub concurrency: usize,
    /// Measured time (after the warm-up).
    pub elapsed: Duration,
    /// All requests.
    pub all: Percentiles,
    /// Per kind of request.
    pub per_kind: [Percentiles; Kind::COUNT],
    /// Successes per kind.
    pub ok: [u64; Kind::COUNT],
    /// Failures by kind of request and text.
    pub errors: BTreeMap<(Kind, String), u64>,
    /// CPU used during the measured time.
    pub cpu: CpuUse,
    /// morcc's peak resident memory so far (VmHWM), in KiB.
    pub peak_rss_kib: Option<u64>,
    /// MySQL statements during the run (from the server's global status).
    pub statements: Option<Statements>,
    /// Every request sent, warm-up included.
    pub sent: u64,
}

impl RunReport {
    /// Summarises a merged recorder.
    pub fn new(label: &str, concurrency: usize, elapsed: Duration, mut rec: Recorder) -> Self {
        let mut all: Vec<u32> = rec.latencies.iter().flatten().copied().collect();
        let per_kind = rec
            .latencies
            .each_mut()
            .map(|samples| Percentiles::of(samples));
        RunReport {
            label: label.to_owned(),
            concurrency,
            elapsed,
            all: Percentiles::of(&mut all),
            per_kind,
            ok: rec.ok,
            errors: rec.errors,
            cpu: CpuUse::default(),
            peak_rss_kib: None,
            statements: None,
            sent: rec.sent,
        }
    }

    /// Requests per second, all outcomes.
    pub fn rate(&self) -> f64 {
        self.all.count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Requests of one kind per second.
    pub fn kind_rate(&self, kind: Kind) -> f64 {
        self.per_kind[kind.index()].count as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Failed requests.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// A multi-line description.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} · {} concurrent · {:.1} s: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.1} ms, {} errors",
            self.label,
            self.concurrency,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.all.p50,
            self.all.p99,
            self.all.p999,
            self.all.max,
            self.error_count()
        );
        for kind in Kind::ALL {
            let p = &self.per_kind[kind.index()];
            if p.count == 0 {
                continue;
            }
            let _ = writeln!(
                out,
                "    {:<12} {:>8.0}/s  ok {:>8}  p50 {:>6.2} ms  p99 {:>6.2} ms  p99.9 {:>6.2} ms",
                kind.name(),
                self.kind_rate(kind),
                self.ok[kind.index()],
                p.p50,
                p.p99,
                p.p999
            );
        }
        for ((kind, text), count) in &self.errors {
            let _ = writeln!(out, "    error      {count:>8} × {} · {text}", kind.name());
        }
        let requests = self.all.count.max(1) as f64;
        let mut cpu = format!(
            "    CPU µs/request: bench {:.0}",
            self.cpu.bench * 1e6 / requests
        );
        if let Some(morcc) = self.cpu.morcc {
            let _ = write!(cpu, ", morcc {:.0}", morcc * 1e6 / requests);
        }
        if let Some(database) = self.cpu.database {
            let _ = write!(cpu, ", mariadbd {:.0}", database * 1e6 / requests);
        }
        let wall = self.cpu.wall.max(1e-9);
        let _ = write!(
            cpu,
            " · cores busy: this run {:.2}, other processes {:.2}",
            (self.cpu.bench
                + self.cpu.morcc.unwrap_or_default()
                + self.cpu.database.unwrap_or_default())
                / wall,
            self.cpu.others / wall
        );
        let _ = writeln!(out, "{cpu}");
        if let Some(statements) = &self.statements {
            let _ = writeln!(
                out,
                "    MySQL statements/request: {}",
                statements.describe()
            );
        }
        if let Some(kib) = self.peak_rss_kib {
            let _ = writeln!(
                out,
                "    morcc peak RSS (VmHWM): {:.1} MiB",
                kib as f64 / 1024.0
            );
        }
        out
    }
}

/// The MySQL status counters the bench reads, in report order: every statement a client sent
/// (`Questions`), then by command.
pub const STATEMENT_COUNTERS: [&str; 10] = [
    "Questions",
    "Com_select",
    "Com_insert",
    "Com_update",
    "Com_begin",
    "Com_commit",
    "Com_rollback",
    "Com_set_option",
    "Com_stmt_prepare",
    "Com_stmt_execute",
];

/// How much each of [`STATEMENT_COUNTERS`] grew over a run, and over how many requests.
/// The counters are server-wide: other clients of the server add to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statements {
    /// Requests sent during the run, warm-up included (the counters cover it too).
    pub requests: u64,
    /// Growth of each counter read, in [`STATEMENT_COUNTERS`] order.
    growth: Vec<(&'static str, u64)>,
}

impl Statements {
    /// The growth from `before` to `after` over `requests` (none without counters or
    /// requests).
    pub fn between(
        before: &[(String, u64)],
        after: &[(String, u64)],
        requests: u64,
    ) -> Option<Self> {
        if requests == 0 {
            return None;
        }
        let value = |counters: &[(String, u64)], name: &str| {
            counters.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
        };
        let growth: Vec<(&'static str, u64)> = STATEMENT_COUNTERS
            .iter()
            .filter_map(|name| {
                let grown = value(after, name)?.saturating_sub(value(before, name)?);
                Some((*name, grown))
            })
            .collect();
        (!growth.is_empty()).then_some(Statements { requests, growth })
    }

    /// Counter `name` per request (`-` when it was not read), to one decimal.
    pub fn per_request(&self, name: &str) -> String {
        self.growth
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("-".to_owned(), |(_, grown)| {
                format!("{:.1}", *grown as f64 / self.requests as f64)
            })
    }

    /// `Questions 14.2, select 9.1, ...` per request.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .growth
            .iter()
            .map(|(name, _)| format!("{} {}", short_counter_name(name), self.per_request(name)))
            .collect();
        parts.join(", ")
    }
}

/// `Com_select` as `select`; `Questions` as it is.
pub fn short_counter_name(name: &str) -> &str {
    name.trim_start_matches("Com_")
}

/// CPU seconds (user + system) a process has used so far, from `/proc/PID/stat`.
pub fn process_cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every Linux architecture this runs on.
    100.0
}

/// A `/proc/PID/status` field in KiB (e.g. `VmHWM`).
pub fn process_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let value = line.strip_prefix(field)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// CPU seconds the whole machine has been busy (all cores), from `/proc/stat`.
fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<f64> = line
        .split_whitespace()
        .filter_map(|field| field.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let busy: f64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Some(busy / clock_ticks())
}

/// The pid of the MariaDB/MySQL server on this machine, for its CPU use.
pub fn database_server_pid() -> Option<String> {
    let entries = std::fs::read_dir("/proc").ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str() else { continue };
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
            if matches!(comm.trim(), "mariadbd" | "mysqld") {
                return Some(pid.to_owned());
            }
        }
    }
    None
}

/// Measures the CPU the machine's processes use between `start` and `finish`.
#[derive(Debug)]
pub struct CpuMeter {
    morcc_pid: Option<String>,
    database_pid: Option<String>,
    start: (Option<f64>, Option<f64>, f64),
    machine_start: f64,
    wall_start: std::time::Instant,
}

impl CpuMeter {
    /// Starts measuring.
    pub fn start(morcc_pid: Option<u32>, database_pid: Option<String>) -> CpuMeter {
        let morcc_pid = morcc_pid.map(|pid| pid.to_string());
        let start = Self::read(morcc_pid.as_deref(), database_pid.as_deref());
        CpuMeter {
            morcc_pid,
            database_pid,
            start,
            machine_start: machine_busy_seconds().unwrap_or_default(),
            wall_start: std::time::Instant::now(),
        }
    }

    fn read(morcc: Option<&str>, database: Option<&str>) -> (Option<f64>, Option<f64>, f64) {
        (
            morcc.and_then(process_cpu_seconds),
            database.and_then(process_cpu_seconds),
            process_cpu_seconds("self").unwrap_or_default(),
        )
    }

    /// The CPU used since [`CpuMeter::start`].
    pub fn finish(&self) -> CpuUse {
        let end = Self::read(self.morcc_pid.as_deref(), self.database_pid.as_deref());
        let machine = machine_busy_seconds().unwrap_or_default() - self.machine_start;
        let morcc = end.0.zip(self.start.0).map(|(b, a)| b - a);
        let database = end.1.zip(self.start.1).map(|(b, a)| b - a);
        let bench = end.2 - self.start.2;
        CpuUse {
            morcc,
            database,
            bench,
            others: (machine - bench - morcc.unwrap_or_default() - database.unwrap_or_default())
                .max(0.0),
            wall: self.wall_start.elapsed().as_secs_f64(),
        }
    }
}
