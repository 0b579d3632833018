//! Brute force and secrets: failed logins are rate-limited, and no secret reaches a log.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use crate::support::*;
use morcc::cli::ServeArgs;
use morcc_adapters::admin;
use morcc_domain::{settings, OwnerId};

const LOOKUP: [(&str, &str); 1] = [("callerid", "5550000")];

fn throttled(per_username: u32, per_address: u32, window_seconds: u64) -> ServeArgs {
    ServeArgs {
        max_failed_logins_per_username: per_username,
        max_failed_logins_per_address: per_address,
        failed_login_window: window_seconds,
        ..uncached()
    }
}

#[actix_web::test]
async fn a_username_over_its_failure_limit_is_refused_unseen_until_the_window_ends() {
    let app = TestApp::sqlite_with(throttled(3, 100, 1)).await;
    for _ in 0..3 {
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, USER, "wrong", KEY))
            .await
            .assert_filter_error("Bad login");
    }
    let recorded = admin::actions_count(&app.db).unwrap();
    assert_eq!(recorded, 3);
    // Locked out: even the right password is refused, and nothing is looked up or recorded.
    app.call(&LOOKUP).await.assert_filter_error("Bad login");
    assert_eq!(admin::actions_count(&app.db).unwrap(), recorded);
    // The window ends; the right password works again.
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    app.call(&LOOKUP)
        .await
        .assert_action_error("Card was not found");
}

/// Two instances on one database share the limits: failures through either count for both,
/// so N instances do not give an attacker N times the attempts. With a limit of 3, two
/// failures through each (one more than the limit in all, the most the cluster allows) lock
/// the username out on both; with counts kept per instance, each would have seen only two.
async fn the_limits_hold_across_instances(app: TestApp) {
    let options = throttled(3, 100, 60);
    let other = app.another_instance(options.clone());
    let here = app.another_instance(options);
    for base in [&here, &other, &here, &other] {
        app.post_form_at(
            base,
            "/api/cc_by_cli",
            &signed_with(&LOOKUP, USER, "wrong", KEY),
        )
        .await
        .assert_filter_error("Bad login");
    }
    let recorded = admin::actions_count(&app.db).unwrap();
    for base in [&here, &other] {
        app.post_form_at(base, "/api/cc_by_cli", &app.signed(&LOOKUP))
            .await
            .assert_filter_error("Bad login");
    }
    assert_eq!(
        admin::actions_count(&app.db).unwrap(),
        recorded,
        "refusals are not recorded"
    );
}

#[actix_web::test]
async fn the_limits_hold_across_instances_on_sqlite() {
    the_limits_hold_across_instances(TestApp::sqlite().await).await;
}

#[cfg(feature = "mysql")]
#[actix_web::test]
async fn the_limits_hold_across_instances_on_mysql() {
    the_limits_hold_across_instances(TestApp::mysql().await).await;
}

#[actix_web::test]
async fn wrong_hashes_count_too() {
    let app = TestApp::sqlite_with(throttled(2, 100, 60)).await;
    for _ in 0..2 {
        app.post_form(
            "/api/cc_by_cli",
            &signed_with(&LOOKUP, USER, PASSWORD, "guess"),
        )
        .await
        .assert_filter_error("Incorrect hash");
    }
    app.call(&LOOKUP).await.assert_filter_error("Bad login");
}

#[actix_web::test]
async fn an_address_over_its_limit_is_refused_for_every_username() {
    let app = TestApp::sqlite_with(throttled(100, 3, 60)).await;
    for username in ["a", "b", "c"] {
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, username, "x", KEY))
            .await
            .assert_filter_error("Bad login");
    }
    app.call(&LOOKUP).await.assert_filter_error("Bad login");
}

#[actix_web::test]
async fn a_success_forgets_the_username_s_failures() {
    let app = TestApp::sqlite_with(throttled(3, 100, 60)).await;
    for _ in 0..2 {
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, USER, "wrong", KEY))
            .await
            .assert_filter_error("Bad login");
    }
    app.call(&LOOKUP)
        .await
        .assert_action_error("Card was not found");
    for _ in 0..2 {
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, USER, "wrong", KEY))
            .await
            .assert_filter_error("Bad login");
    }
    app.call(&LOOKUP)
        .await
        .assert_action_error("Card was not found");
}

/// Everything logged in this test process, at every level.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .try_init()
            .expect("no other subscriber in this test process");
        logs
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_web::test]
async fn no_password_hash_key_or_pin_reaches_the_logs() {
    let logs = captured_logs();
    let app = TestApp::sqlite().await;
    let (password, key) = ("Pw7f3aUniquePassword", "Key9c1eUniqueSecret");
    admin::create_user(
        &app.db,
        "auditor",
        password,
        &morcc_domain::UserType::Accountant,
        OwnerId(0),
        &money("0"),
    )
    .unwrap();
    admin::set_setting(&app.db, settings::API_SECRET_KEY, key, OwnerId(0)).unwrap();

    // Each request signed as the auditor; every hash sent is remembered.
    let mut sent = Vec::new();
    let mut signed = |params: &[(&str, &str)], password: &str, key: &str| {
        let params = signed_with(params, "auditor", password, key);
        sent.push(
            params
                .iter()
                .find(|(name, _)| name == "hash")
                .unwrap()
                .1
                .clone(),
        );
        params
    };
    // A success that creates a card (its PIN is in the reply), a PIN transfer, failures.
    let sale = [("callerid", "4444"), ("amount", "5"), ("cardgroup_id", "1")];
    app.post_form("/api/cc_by_cli", &signed(&sale, password, key))
        .await;
    let pin = app.card("4444").unwrap().pin.expose().to_owned();
    let transfer = [("callerid", "4444"), ("pin", pin.as_str())];
    app.post_form("/api/cc_by_cli", &signed(&transfer, password, key))
        .await;
    app.get("/api/cc_by_cli", &signed(&transfer, password, key))
        .await;
    app.post_form("/api/cc_by_cli", &signed(&LOOKUP, "Pw7f3aUniqueWrong", key))
        .await
        .assert_filter_error("Bad login");
    app.post_form(
        "/api/cc_by_cli",
        &signed(&LOOKUP, password, "Key9c1eUniqueWrong"),
    )
    .await
    .assert_filter_error("Incorrect hash");

    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(
        logs.contains("cc_by_cli"),
        "the requests were logged at all"
    );
    for secret in [
        password,
        "Pw7f3aUniqueWrong",
        key,
        "Key9c1eUniqueWrong",
        pin.as_str(),
    ]
    .into_iter()
    .chain(sent.iter().map(String::as_str))
    {
        assert!(
            !logs.contains(secret),
            "a secret reached the logs: {secret}"
        );
    }
}
