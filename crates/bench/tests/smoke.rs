//! The benchmark end to end on SQLite with a tiny data set, for about a second per run:
//! seeds, starts morcc (the bench's built-in copy), drives every kind of request (look-ups,
//! top-ups, PIN transfers, card sales, card payments) over HTTP and directly, checks the
//! ledger and the sales; and the `--targets` command.

use std::process::Command;

/// A tiny data set: 500 sold cards in 5 groups, 50 devices, 2 000 cards for sale (more than
/// a run of this length sells on any machine; the bench refills them between runs).
const TINY: [&str; 12] = [
    "--backend",
    "sqlite",
    "--cards",
    "500",
    "--groups",
    "5",
    "--devices",
    "50",
    "--sale-cards",
    "2000",
    "--connections",
    "4",
];

/// Runs the bench on the tiny data set with `extra` arguments; its stdout, once it succeeded.
fn bench(extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_morcc-bench"))
        .args(TINY)
        .args(["--seconds", "0.5", "--warmup", "0.2"])
        .args(extra)
        .env_remove("DATABASE_URL")
        .output()
        .expect("the bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// Successful requests of a kind (`sale`, `card payment`, ...) over every run printed.
fn successes(stdout: &str, kind: &str) -> u64 {
    stdout
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix(kind))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace().skip_while(|word| *word != "ok");
            words.nth(1)?.parse::<u64>().ok()
        })
        .sum()
}

/// Every run line reports `0 errors`.
#[track_caller]
fn no_errors(stdout: &str) {
    let runs: Vec<&str> = stdout
        .lines()
        .filter(|line| line.contains(" concurrent · "))
        .collect();
    assert!(!runs.is_empty(), "{stdout}");
    for run in runs {
        assert!(run.ends_with(", 0 errors"), "{run}\n\n{stdout}");
    }
}

#[test]
fn a_one_second_run_of_every_kind_on_sqlite_is_clean() {
    let stdout = bench(&["--mix", "40,20,10,15,15"]);
    assert!(stdout.contains("HTTP (morcc)"), "{stdout}");
    assert!(stdout.contains("requests/s"), "{stdout}");
    assert!(stdout.contains("service / direct"), "{stdout}");
    no_errors(&stdout);
    for kind in ["look-up", "top-up", "PIN transfer", "sale", "card payment"] {
        assert!(
            successes(&stdout, kind) > 0,
            "no {kind} succeeded:\n{stdout}"
        );
    }
    assert!(stdout.contains("ledger: exact"), "{stdout}");
    assert!(stdout.contains(" 0 sales recorded otherwise"), "{stdout}");
}

#[test]
fn the_targets_command_on_sqlite_runs_every_kind_alone_cleanly() {
    let stdout = bench(&["--targets"]);
    no_errors(&stdout);
    for label in [
        "look-ups",
        "top-ups",
        "PIN transfers",
        "sales",
        "card payments",
    ] {
        assert!(
            stdout.contains(&format!("| HTTP {label} · 4 conn |")),
            "{label}:\n{stdout}"
        );
    }
    assert!(successes(&stdout, "sale") > 0, "{stdout}");
    assert!(successes(&stdout, "card payment") > 0, "{stdout}");
    assert!(
        stdout.contains("| failed requests | 0 | 0 | yes |"),
        "{stdout}"
    );
    assert!(stdout.contains("| ledger | exact ("), "{stdout}");
    assert!(
        stdout.contains("statements per request: MySQL only"),
        "{stdout}"
    );
}
