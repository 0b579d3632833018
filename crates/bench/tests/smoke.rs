//! The benchmark end to end on SQLite with a tiny data set, for about a second: seeds, starts
//! morcc (the bench's built-in copy), drives the mix over HTTP and directly, checks the ledger.

use std::process::Command;

#[test]
fn a_one_second_run_on_sqlite_is_clean() {
    let output = Command::new(env!("CARGO_BIN_EXE_morcc-bench"))
        .args([
            "--backend",
            "sqlite",
            "--cards",
            "500",
            "--groups",
            "5",
            "--devices",
            "50",
            "--connections",
            "4",
            "--seconds",
            "0.5",
            "--warmup",
            "0.2",
        ])
        .env_remove("DATABASE_URL")
        .output()
        .expect("the bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("HTTP (morcc)"), "{stdout}");
    assert!(stdout.contains("requests/s"), "{stdout}");
    assert!(stdout.contains("service / direct"), "{stdout}");
    assert!(stdout.contains("ledger: exact"), "{stdout}");
    assert!(stdout.contains("0 errors"), "{stdout}");
}
