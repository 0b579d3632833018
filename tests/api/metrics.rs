//! `--metrics-bind`: Prometheus' text format at `GET /metrics` on a listener of its own. A
//! morcc process of the test's own is scraped after a known set of requests, so its counters
//! must have moved by exactly what was sent.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use morcc_domain::ApiCall;

use crate::procs::{free_port, Morcc, MorccOptions, TempDir, UrlDatabase};
use crate::support::{seed_api, signed_call, signed_with, KEY, PASSWORD, USER};

/// The samples of a scrape: (name, sorted labels) → value.
type Samples = BTreeMap<(String, Vec<(String, String)>), f64>;

fn parse(text: &str) -> Samples {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            let mut labels: Vec<(String, String)> = labels
                .split(',')
                .filter(|pair| !pair.is_empty())
                .filter_map(|pair| {
                    let (label, value) = pair.split_once('=')?;
                    Some((label.to_owned(), value.trim_matches('"').to_owned()))
                })
                .collect();
            labels.sort();
            Some(((name.to_owned(), labels), value.parse().ok()?))
        })
        .collect()
}

fn sample(samples: &Samples, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(label, value)| (label.to_string(), value.to_string()))
        .collect();
    labels.sort();
    samples
        .get(&(name.to_owned(), labels.clone()))
        .copied()
        .unwrap_or_else(|| panic!("no sample {name}{labels:?} in {samples:#?}"))
}

#[actix_web::test]
async fn the_counters_move_by_exactly_what_was_sent_on_sqlite() {
    the_counters_move_by_exactly_what_was_sent(UrlDatabase::sqlite()).await;
}

#[cfg(feature = "mysql")]
#[actix_web::test]
async fn the_counters_move_by_exactly_what_was_sent_on_mysql() {
    let server =
        crate::procs::MysqlServer::from_env().expect("MORCC_TEST_MYSQL_URL names a server");
    the_counters_move_by_exactly_what_was_sent(UrlDatabase::mysql(&server).unwrap()).await;
}

async fn the_counters_move_by_exactly_what_was_sent(database: UrlDatabase) {
    let db = &database.db;
    let group = seed_api(db).unwrap().to_string();
    let logs = TempDir::new("morcc-metrics");
    let port = free_port();
    let metrics_address = format!("127.0.0.1:{port}");
    let morcc = Morcc::spawn_with(
        &database.url,
        logs.path(),
        "metrics",
        MorccOptions::default(),
        &["--metrics-bind", &metrics_address],
    );
    let http = reqwest::Client::new();
    let post = |path: &str, form: Vec<(String, String)>, key: Option<&str>| {
        let mut request = http.post(morcc.url(path)).form(&form);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let sell = || {
        signed_with(
            &[
                ("callerid", "4444"),
                ("amount", "5"),
                ("cardgroup_id", &group),
            ],
            USER,
            PASSWORD,
            KEY,
        )
    };
    // cc_by_cli: 3 ok, then one with a key and its copy (a replay, counted ok too).
    for _ in 0..3 {
        post("/api/cc_by_cli", sell(), None).await;
    }
    post("/api/cc_by_cli", sell(), Some("k-1")).await;
    post("/api/cc_by_cli", sell(), Some("k-1")).await;
    // 2 bad logins and 1 incorrect hash.
    for _ in 0..2 {
        post(
            "/api/cc_by_cli",
            signed_with(&[("callerid", "4444")], USER, "wrong", KEY),
            None,
        )
        .await;
    }
    post(
        "/api/cc_by_cli",
        signed_with(&[("callerid", "4444")], USER, PASSWORD, "other-key"),
        None,
    )
    .await;
    // card_group_get: 1 ok, 1 not found.
    post(
        "/api/card_group_get",
        signed_call(
            ApiCall::CardGroupGet,
            &[("id", &group)],
            USER,
            PASSWORD,
            KEY,
        ),
        None,
    )
    .await;
    post(
        "/api/card_group_get",
        signed_call(ApiCall::CardGroupGet, &[("id", "999")], USER, PASSWORD, KEY),
        None,
    )
    .await;

    let text = http
        .get(format!("http://{metrics_address}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = parse(&text);
    let requests = |call: &str, outcome: &str| {
        sample(
            &samples,
            "morcc_requests_total",
            &[("call", call), ("outcome", outcome)],
        )
    };
    assert_eq!(requests("cc_by_cli", "ok"), 5.0);
    assert_eq!(requests("cc_by_cli", "bad_login"), 2.0);
    assert_eq!(requests("cc_by_cli", "incorrect_hash"), 1.0);
    assert_eq!(requests("card_group_get", "ok"), 1.0);
    assert_eq!(requests("card_group_get", "cardgroup_was_not_found"), 1.0);
    assert_eq!(sample(&samples, "morcc_idempotent_replays_total", &[]), 1.0);
    assert_eq!(
        sample(
            &samples,
            "morcc_request_duration_seconds_count",
            &[("call", "cc_by_cli")]
        ),
        8.0
    );
    assert_eq!(
        sample(
            &samples,
            "morcc_request_duration_seconds_count",
            &[("call", "card_group_get")]
        ),
        2.0
    );
    let inf = sample(
        &samples,
        "morcc_request_duration_seconds_bucket",
        &[("call", "cc_by_cli"), ("le", "+Inf")],
    );
    assert_eq!(inf, 8.0);
    let pool = sample(&samples, "morcc_db_pool_connections", &[("state", "idle")])
        + sample(
            &samples,
            "morcc_db_pool_connections",
            &[("state", "in_use")],
        );
    assert!(pool >= 1.0, "{text}");
    assert!(text.contains("# HELP morcc_requests_total"), "{text}");
    drop(morcc);
}

/// A metrics address that cannot be listened on stops the start with a clear message.
#[test]
fn a_metrics_bind_that_fails_is_a_startup_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = TempDir::new("morcc-metrics-bind");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_morcc"))
        .args([
            "serve",
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--metrics-bind",
            &address,
        ])
        .env_remove("DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen for metrics on {address}")),
        "{stderr}"
    );
}
