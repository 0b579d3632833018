//! The `morcc` binary as an operator runs it: subcommands, the first start's demo and its curl
//! line, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use morcc_adapters::{admin, Database, PoolSettings};
use morcc_domain::{ApiCall, CallerId, Money};

use crate::procs::UrlDatabase;
use crate::support::{signed_call, uncached, KEY, PASSWORD, USER};

fn morcc(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_morcc"));
    command.current_dir(dir);
    for variable in [
        "DATABASE_URL",
        "MORCC_BIND",
        "MORCC_WORKERS",
        "MORCC_API_SECRET_KEY",
        "RUST_LOG",
    ] {
        command.env_remove(variable);
    }
    command
}

/// Runs a subcommand to completion and returns its standard output.
fn run(dir: &std::path::Path, args: &[&str]) -> String {
    let output = morcc(dir).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "morcc {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Runs a subcommand that must fail; returns its standard error.
fn refused(dir: &std::path::Path, args: &[&str]) -> String {
    let output = morcc(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "morcc {args:?} was accepted: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!stderr.contains("panicked"), "morcc {args:?}: {stderr}");
    stderr
}

#[test]
fn hash_prints_the_mor_hash_of_the_spec_s_examples() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(
        dir.path(),
        &[
            "hash",
            "--cardgroup-id",
            "1",
            "--callerid",
            "4444",
            "--amount",
            "100",
            "--key",
            "secret",
        ],
    );
    assert_eq!(first.trim(), "c30c6ca5d3f0e1376203f74ea0b2a3a89993fe33");
    let second = run(
        dir.path(),
        &[
            "hash",
            "--pin",
            "222",
            "--amount",
            "50",
            "--callerid",
            "7777",
            "--cardgroup-id",
            "1",
            "--key",
            "secret",
        ],
    );
    assert_eq!(second.trim(), "706362c196bf05072e6bd43deb91c6ab71ed2cad");
}

/// card_calls.md §1's examples (key `secret`): only `--call`'s hashed parameters count, in its
/// order, whatever else is given and in whatever order the flags come.
#[test]
fn hash_with_call_prints_the_card_calls_examples() {
    let dir = tempfile::tempdir().unwrap();
    let examples: [(&[&str], &str); 7] = [
        (
            &["--call", "card_group_get", "--id", "1"],
            "bc2f114099d16656d37e45fd9e8744cb9386d462",
        ),
        (
            &[
                "--call",
                "card_from_group_sell",
                "--quantity",
                "1",
                "--id",
                "1",
                "--email",
                "test@test.lt",
                "--number",
                "5",
            ],
            "be191f49ac6cf3004a89de3498a1275a7d15df03",
        ),
        (
            &[
                "--call",
                "card_from_group_sell",
                "--id",
                "3",
                "--quantity",
                "2",
            ],
            "1a9ce54d9d4c3129b35270f5842430ab3345dd71",
        ),
        (
            &[
                "--call",
                "card_balance_get",
                "--number",
                "1111111000",
                "--id",
                "9",
            ],
            "0540cea252d6367fb32737b0cd22c0822330ec41",
        ),
        (
            &[
                "--call",
                "card_payment_add",
                "--currency",
                "EUR",
                "--amount",
                "5",
                "--number",
                "1111111001",
                "--description",
                "refill",
            ],
            "7ff6257c767cfb9b9cbde4e4f70a2d515e8e135f",
        ),
        (
            &[
                "--call",
                "card_payment_add",
                "--number",
                "1111111001",
                "--amount",
                "5",
                "--callerid",
                "4444",
            ],
            "10c52385b238b26d8f3a6ce5c258486f62341cdf",
        ),
        // cc_by_cli named explicitly, as by default.
        (
            &[
                "--call",
                "cc_by_cli",
                "--cardgroup-id",
                "1",
                "--callerid",
                "4444",
                "--amount",
                "100",
                "--id",
                "7",
            ],
            "c30c6ca5d3f0e1376203f74ea0b2a3a89993fe33",
        ),
    ];
    for (args, expected) in examples {
        let mut all = vec!["hash"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--key", "secret"]);
        assert_eq!(run(dir.path(), &all).trim(), expected, "{args:?}");
    }
    // A parameter the call does not hash is said to be left out (on standard error only).
    let output = morcc(dir.path())
        .args(["hash", "--call", "card_group_get", "--id", "1"])
        .args(["--cardgroup-id", "1", "--key", "secret"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "bc2f114099d16656d37e45fd9e8744cb9386d462"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("card_group_get does not hash --cardgroup-id"),
        "{stderr}"
    );
}

#[test]
fn hash_refuses_an_unknown_call_with_the_list_of_calls() {
    let dir = tempfile::tempdir().unwrap();
    for call in ["cc_by_cl", "CARD_GROUP_GET", ""] {
        let stderr = refused(
            dir.path(),
            &["hash", "--call", call, "--id", "1", "--key", "secret"],
        );
        for name in ApiCall::ALL.map(ApiCall::name) {
            assert!(
                stderr.contains(name),
                "{call:?}: {name} not listed:\n{stderr}"
            );
        }
    }
}

#[test]
fn operator_subcommands_set_up_a_database_without_sql() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ops.db").display());
    // Every subcommand against the same database, as an operator would run them.
    let ops = |args: &[&str]| {
        let mut all = vec!["--database-url", url.as_str()];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };
    ops(&["migrate"]);
    let user = ops(&[
        "create-user",
        "--username",
        "ops",
        "--password",
        "pw",
        "--usertype",
        "admin",
    ]);
    assert!(user.contains("user 1 created"));
    ops(&["set-setting", "API_Secret_Key", "k3y"]);
    ops(&["set-exchange-rate", "EUR", "2"]);
    let tax = ops(&["create-tax", "--tax1", "10", "--tax2", "5", "--compound"]);
    assert!(tax.contains("tax 1 created"));
    let group = ops(&[
        "create-card-group",
        "--name",
        "Euro",
        "--currency",
        "EUR",
        "--pin-length",
        "8",
    ]);
    assert!(group.contains("card group 1 created"));
    ops(&["assign-tax", "--tax-id", "1", "--cardgroup-id", "1"]);
    let card = ops(&[
        "create-card",
        "--cardgroup-id",
        "1",
        "--balance",
        "5.5",
        "--callerid",
        "4444",
        "--sold",
    ]);
    assert!(card.contains("card 1 created"));
    assert!(
        ops(&["create-user", "--username", "cust", "--password", "pw"]).contains("user 2 created")
    );
    ops(&["create-device", "--user-id", "2", "--callerid", "5555"]);
    ops(&["assign-tax", "--tax-id", "1", "--user-id", "2"]);
    // Without --key, hash reads API_Secret_Key from the database.
    let hash = ops(&["hash", "--callerid", "4444"]);
    assert_eq!(hash.trim(), morcc_domain::hash::sha1_hex("4444k3y"));

    let db = Database::connect(&url, PoolSettings::default()).unwrap();
    let card = admin::card_by_callerid(&db, &CallerId::parse("4444").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(card.balance, Money::parse_stored("5.5").unwrap());
    assert_eq!(card.pin.expose().len(), 8);
    assert!(card.sold);
    assert_eq!(
        admin::user_balance(&db, morcc_domain::UserId(2)).unwrap(),
        Some(Money::zero())
    );
}

#[test]
fn a_bad_argument_fails_with_a_message_and_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bad.db").display());
    let output = morcc(dir.path())
        .args([
            "--database-url",
            &url,
            "create-card",
            "--cardgroup-id",
            "1",
            "--balance",
            "lots",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a decimal"));
    let output = morcc(dir.path())
        .args(["--database-url", "postgres://nowhere/db", "migrate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    for (refused, why) in [
        (&["create-tax", "--tax1=-100"][..], "cannot be negative"),
        (&["set-exchange-rate", "EUR", "0"][..], "must be positive"),
        (
            &[
                "create-card",
                "--cardgroup-id",
                "1",
                "--number",
                "12\u{1}34",
            ][..],
            "card number",
        ),
    ] {
        let output = morcc(dir.path())
            .args(["--database-url", &url])
            .args(refused)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{refused:?} was accepted");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(why),
            "{refused:?}"
        );
    }
}

#[test]
fn setting_the_secret_key_does_not_echo_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("key.db").display());
    let printed = run(
        dir.path(),
        &[
            "--database-url",
            &url,
            "set-setting",
            "API_Secret_Key",
            "k3yHunter2",
        ],
    );
    assert!(!printed.contains("k3yHunter2"), "{printed}");
    assert!(run(
        dir.path(),
        &["--database-url", &url, "set-setting", "Allow_API", "1"]
    )
    .contains("Allow_API = 1"));
}

/// A `morcc serve` process that is killed if the test ends early.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_default_server(dir: &std::path::Path) -> (Server, Vec<String>) {
    let mut child = morcc(dir)
        .args(["--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    // The demo text is printed before the server starts; without a demo nothing is printed,
    // so wait for the database file and give the server a moment instead.
    let lines = BufReader::new(stdout);
    let mut printed = Vec::new();
    for line in lines.lines() {
        let line = line.unwrap();
        let last = line.starts_with("Hash other requests");
        printed.push(line);
        if last {
            break;
        }
    }
    (server, printed)
}

/// The data (`-d '...'`) and the URL of a printed curl line.
fn curl_request(line: &str) -> (String, String) {
    let data = line
        .split("-d '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("curl -d '...'");
    let url = line.rsplit(' ').next().unwrap();
    (data.to_owned(), url.to_owned())
}

/// Every printed curl line, run in the printed order against the started server, answers
/// success: cc_by_cli sells to a caller ID, card_group_get shows the demo group with its five
/// cards for sale, card_from_group_sell sells the card named above its line, and
/// card_balance_get and card_payment_add read and top up that card.
#[actix_web::test]
async fn the_first_start_prints_curl_lines_that_work_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, printed) = start_default_server(dir.path());
    let curls: Vec<&String> = printed
        .iter()
        .filter(|line| line.trim_start().starts_with("curl "))
        .collect();
    let called: Vec<String> = curls
        .iter()
        .map(|line| curl_request(line).1.rsplit('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        called,
        ApiCall::ALL.map(|call| call.name().to_owned()),
        "one curl line per call:\n{}",
        printed.join("\n")
    );
    let sold = printed
        .iter()
        .find_map(|line| line.split("the first for sale: number ").nth(1))
        .and_then(|rest| rest.strip_suffix("):"))
        .expect("the number of the card the sale line sells");
    let expected: [&[String]; 5] = [
        &[
            "<status>ok</status>".into(),
            "<balance>10.0000</balance>".into(),
            "<callerid>37060000001</callerid>".into(),
        ],
        &[
            "<name>Demo calling cards</name>".into(),
            "<price>10.0000</price>".into(),
            "<free_cards_size>5</free_cards_size>".into(),
        ],
        &[
            format!("<number>{sold}</number>"),
            "<balance_without_vat>10.0</balance_without_vat>".into(),
        ],
        &["<balance>10.0</balance>".into()],
        &[
            "<success>Calling Card balance successfully updated</success>".into(),
            format!("<number>{sold}</number>"),
            "<new_balance>15.0</new_balance>".into(),
        ],
    ];

    let client = reqwest::Client::new();
    for (line, expected) in curls.iter().zip(expected) {
        let (data, url) = curl_request(line);
        // The server may still be binding its workers: retry briefly.
        let started = Instant::now();
        let body = loop {
            let response = client
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(data.clone())
                .send()
                .await;
            match response {
                Ok(response) => break response.text().await.unwrap(),
                Err(_) if started.elapsed() < Duration::from_secs(10) => {
                    actix_web::rt::time::sleep(Duration::from_millis(50)).await
                }
                Err(error) => panic!("the server did not answer: {error}"),
            }
        };
        assert!(!body.contains("<error>"), "{url}: {body}");
        for part in expected {
            assert!(
                body.contains(part.as_str()),
                "{url}: {part} missing in {body}"
            );
        }
    }

    let pid = server.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "morcc did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "morcc exited with {status}");
    assert!(dir.path().join("morcc.db").exists());
}

/// Serves on a free port until `/healthz` answers, stops, and returns what it printed.
async fn serve_until_healthy(dir: &std::path::Path, extra: &[&str]) -> String {
    serve_until_healthy_with_logs(dir, extra).await.0
}

/// Serves on a free port until `/healthz` answers, stops, and returns its standard output
/// and its standard error.
async fn serve_until_healthy_with_logs(dir: &std::path::Path, extra: &[&str]) -> (String, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut command = morcc(dir);
    command
        .args(["--bind", &bind])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = Server(command.spawn().unwrap());
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match client.get(format!("http://{bind}/healthz")).send().await {
            Ok(response) if response.status() == 200 => break,
            _ => {
                assert!(Instant::now() < deadline, "morcc did not become healthy");
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    server.0.kill().unwrap();
    let mut printed = String::new();
    std::io::Read::read_to_string(&mut server.0.stdout.take().unwrap(), &mut printed).unwrap();
    let mut logged = String::new();
    std::io::Read::read_to_string(&mut server.0.stderr.take().unwrap(), &mut logged).unwrap();
    (printed, logged)
}

/// What a new user must never see on the first screen.
fn assert_no_error_or_warning(screen: &str) {
    for word in ["ERROR", "WARN", "error", "locked"] {
        assert!(
            !screen.contains(word),
            "{word} on the first screen:\n{screen}"
        );
    }
}

/// Pool connections once raced to switch a new file to WAL and r2d2 logged `database is
/// locked` in about 2 of 10 first starts: so start fresh ten times.
#[actix_web::test]
async fn a_first_start_shows_no_error_or_warning() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let (printed, logged) = serve_until_healthy_with_logs(dir.path(), &[]).await;
        assert!(printed.contains("demo data created"), "{printed}");
        assert_no_error_or_warning(&format!("{printed}{logged}"));
    }
}

#[test]
fn migrating_a_new_file_shows_no_error_or_warning() {
    for _ in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let output = morcc(dir.path()).arg("migrate").output().unwrap();
        assert!(output.status.success());
        let screen = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(screen.contains("migrations are up to date"), "{screen}");
        assert_no_error_or_warning(&screen);
    }
}

/// Each subcommand's help lists only the flags it uses: the serving flags belong to `serve`.
#[test]
fn subcommand_help_shows_only_its_own_flags() {
    let dir = tempfile::tempdir().unwrap();
    let help = run(dir.path(), &["create-card", "--help"]);
    for flag in ["--cardgroup-id", "--number", "--callerid", "--database-url"] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
    for flag in [
        "--bind",
        "--workers",
        "--body-limit",
        "--cache-ttl-ms",
        "--max-failed-logins",
    ] {
        assert!(
            !help.contains(flag),
            "{flag} in create-card's help:\n{help}"
        );
    }
    let serve = run(dir.path(), &["serve", "--help"]);
    assert!(
        serve.contains("--bind") && serve.contains("--cache-ttl-ms"),
        "{serve}"
    );
}

#[actix_web::test]
async fn a_second_start_and_any_other_database_get_no_demo() {
    let dir = tempfile::tempdir().unwrap();
    let (first, printed) = start_default_server(dir.path());
    assert!(printed
        .iter()
        .any(|line| line.contains("demo data created")));
    drop(first);
    let again = serve_until_healthy(dir.path(), &[]).await;
    assert!(!again.contains("demo"), "{again}");

    let url = format!("sqlite://{}", dir.path().join("other.db").display());
    let other = serve_until_healthy(dir.path(), &["--database-url", &url]).await;
    assert!(!other.contains("demo"), "{other}");
    let db = Database::connect(&url, PoolSettings::default()).unwrap();
    assert!(
        admin::is_fresh(&db).unwrap(),
        "another database is left as its owner made it"
    );
}

/// A server on `db` in this process, caching nothing, so each operator change shows in the
/// next answer; requests are signed as the admin the test created.
struct Api {
    address: String,
    client: reqwest::Client,
}

impl Api {
    fn serve(db: &Database) -> Api {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let options = morcc::cli::ServeArgs {
            workers: Some(2),
            ..uncached()
        };
        let server =
            morcc::server::start(std::sync::Arc::new(db.clone()), listener, &options).unwrap();
        actix_web::rt::spawn(server);
        Api {
            address,
            client: reqwest::Client::new(),
        }
    }

    /// The body of `call`'s answer to these parameters.
    async fn request(&self, call: ApiCall, params: &[(&str, &str)]) -> String {
        let signed = signed_call(call, params, USER, PASSWORD, KEY);
        self.client
            .post(format!("{}/api/{}", self.address, call.name()))
            .form(&signed)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

impl Api {
    /// card_group_get of group 1.
    async fn card_group_1(&self) -> String {
        self.request(ApiCall::CardGroupGet, &[("id", "1")]).await
    }

    /// card_balance_get of a card.
    async fn balance(&self, number: &str) -> String {
        self.request(ApiCall::CardBalanceGet, &[("number", number)])
            .await
    }

    /// card_payment_add of `amount` (in `currency`) to card 1111111001.
    async fn pay(&self, currency: Option<&str>, amount: &str) -> String {
        let mut params = vec![("number", "1111111001"), ("amount", amount)];
        params.extend(currency.map(|currency| ("currency", currency)));
        self.request(ApiCall::CardPaymentAdd, &params).await
    }
}

/// Asserts that `body` holds every part.
fn assert_shows(body: &str, parts: &[&str]) {
    for part in parts {
        assert!(body.contains(part), "{part} missing in:\n{body}");
    }
}

/// The subcommands of the card calls, run while a server serves the same database: each change
/// shows in the API's next answer, and none needs SQL.
async fn card_call_subcommands_take_effect(database: UrlDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let ops = |args: &[&str]| {
        let mut all = vec!["--database-url", database.url.as_str()];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };
    ops(&[
        "create-user",
        "--username",
        USER,
        "--password",
        PASSWORD,
        "--usertype",
        "admin",
    ]);
    ops(&["set-setting", "Allow_API", "1"]);
    ops(&["set-setting", "API_Secret_Key", KEY]);
    let created = ops(&[
        "create-card-group",
        "--name",
        "Test_cardgroup",
        "--price",
        "10.084033613445378",
        "--image",
        "ten.jpg",
        "--description",
        "10 minutes cards",
    ]);
    assert!(created.contains("card group 1 created"), "{created}");
    // One card for sale, one sold.
    ops(&[
        "create-card",
        "--cardgroup-id",
        "1",
        "--balance",
        "10",
        "--number",
        "1111111000",
    ]);
    ops(&[
        "create-card",
        "--cardgroup-id",
        "1",
        "--balance",
        "10",
        "--number",
        "1111111001",
        "--sold",
    ]);
    ops(&["set-exchange-rate", "EUR", "2"]);
    let api = Api::serve(&database.db);

    // create-card-group --price --image --description.
    assert_shows(
        &api.card_group_1().await,
        &[
            "<name>Test_cardgroup</name>",
            "<iamge_link>/billing/cards/ten.jpg</iamge_link>",
            "<description>10 minutes cards</description>",
            "<price>10.0840</price>",
            "<free_cards_size>1</free_cards_size>",
        ],
    );

    // update-card-group changes what it is given and leaves the rest.
    let updated = ops(&[
        "update-card-group",
        "--cardgroup-id",
        "1",
        "--price",
        "12.5",
        "--image",
        "twelve.jpg",
        "--description",
        "12 minutes cards",
    ]);
    assert!(updated.contains("card group 1 updated"), "{updated}");
    ops(&["update-card-group", "--cardgroup-id", "01", "--price", "13"]);
    assert_shows(
        &api.card_group_1().await,
        &[
            "<iamge_link>/billing/cards/twelve.jpg</iamge_link>",
            "<description>12 minutes cards</description>",
            "<price>13.0000</price>",
        ],
    );
    // A hidden group, and with it its cards, is invisible to the calls; shown again, it is back.
    ops(&[
        "update-card-group",
        "--cardgroup-id",
        "1",
        "--hidden",
        "true",
    ]);
    assert_shows(
        &api.card_group_1().await,
        &["<error>Cardgroup was not found</error>"],
    );
    assert_shows(
        &api.balance("1111111001").await,
        &["<error>Calling Card was not found</error>"],
    );
    ops(&[
        "update-card-group",
        "--cardgroup-id",
        "1",
        "--hidden",
        "false",
    ]);
    assert_shows(&api.card_group_1().await, &["<price>13.0000</price>"]);
    assert_shows(
        &api.balance("1111111001").await,
        &["<balance>10.0</balance>"],
    );

    // update-card hides one card: not for sale, not found; shown again, it is back.
    let hidden = ops(&["update-card", "--number", "1111111000", "--hidden", "true"]);
    assert!(hidden.contains("card 1111111000 hidden"), "{hidden}");
    assert_shows(
        &api.card_group_1().await,
        &["<free_cards_size>0</free_cards_size>"],
    );
    assert_shows(
        &api.balance("1111111000").await,
        &["<error>Calling Card was not found</error>"],
    );
    let shown = ops(&["update-card", "--number", "1111111000", "--hidden", "false"]);
    assert!(shown.contains("card 1111111000 shown"), "{shown}");
    assert_shows(
        &api.card_group_1().await,
        &["<free_cards_size>1</free_cards_size>"],
    );
    assert_shows(
        &api.balance("1111111000").await,
        &["<balance>10.0</balance>"],
    );

    // allow-api-payments: absent is off; on and off set the setting to 1 and 0.
    assert_shows(
        &api.pay(None, "5").await,
        &["<error>Feature Disabled</error>"],
    );
    let on = ops(&["allow-api-payments", "on"]);
    assert!(on.contains("API_Allow_payments_ower_API = 1"), "{on}");
    assert_shows(
        &api.pay(None, "5").await,
        &["<new_balance>15.0</new_balance>"],
    );
    let off = ops(&["allow-api-payments", "off"]);
    assert!(off.contains("API_Allow_payments_ower_API = 0"), "{off}");
    assert_shows(
        &api.pay(None, "5").await,
        &["<error>Feature Disabled</error>"],
    );
    let setting = |db: &Database| {
        morcc_domain::Directory::setting(
            db,
            morcc_domain::settings::API_ALLOW_PAYMENTS_OVER_API,
            morcc_domain::OwnerId(0),
        )
        .unwrap()
    };
    assert_eq!(setting(&database.db).as_deref(), Some("0"));
    ops(&["allow-api-payments", "on"]);
    assert_eq!(setting(&database.db).as_deref(), Some("1"));

    // set-currency-active: a disabled currency is refused, an enabled one converts.
    let inactive = ops(&[
        "set-currency-active",
        "--currency",
        "EUR",
        "--active",
        "false",
    ]);
    assert!(inactive.contains("currency EUR inactive"), "{inactive}");
    assert_shows(
        &api.pay(Some("EUR"), "2").await,
        &["<error>Currency disabled</error>"],
    );
    let active = ops(&[
        "set-currency-active",
        "--currency",
        "EUR",
        "--active",
        "true",
    ]);
    assert!(active.contains("currency EUR active"), "{active}");
    assert_shows(
        &api.pay(Some("EUR"), "2").await,
        &[
            "<exchange_rate>2.0</exchange_rate>",
            "<new_balance>16.0</new_balance>",
        ],
    );
}

#[actix_web::test]
async fn card_call_subcommands_take_effect_on_sqlite() {
    card_call_subcommands_take_effect(UrlDatabase::sqlite()).await;
}

#[cfg(feature = "mysql")]
#[actix_web::test]
async fn card_call_subcommands_take_effect_on_mysql() {
    let server = crate::procs::MysqlServer::from_env().expect("a MySQL server");
    card_call_subcommands_take_effect(UrlDatabase::mysql(&server).expect("a scratch database"))
        .await;
}

/// Bad input to the card calls' subcommands: refused with a message saying what is wrong and a
/// non-zero exit, and nothing changed.
#[test]
fn card_call_subcommands_refuse_bad_input_and_change_nothing() {
    use morcc_domain::{CardGroupId, Transact};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bad.db").display());
    let ops = |args: &[&str]| -> Vec<String> {
        ["--database-url", url.as_str()]
            .iter()
            .chain(args)
            .map(|arg| arg.to_string())
            .collect()
    };
    let accepted = |args: &[String]| {
        run(
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    let refused_with = |args: &[String]| {
        refused(
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        )
    };
    accepted(&ops(&["create-card-group", "--name", "G"]));
    accepted(&ops(&[
        "create-card",
        "--cardgroup-id",
        "1",
        "--number",
        "1111111000",
    ]));
    let group = ["update-card-group", "--cardgroup-id", "1"];
    let with = |base: &[&'static str], more: &[&'static str]| [base, more].concat();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (group.to_vec(), "--price"),
        (
            vec!["update-card-group", "--cardgroup-id", "2", "--price", "1"],
            "card group 2 was not found",
        ),
        (
            vec!["update-card-group", "--cardgroup-id", "x", "--price", "1"],
            "--cardgroup-id",
        ),
        (with(&group, &["--price", "-1"]), "not a price"),
        (with(&group, &["--price", "1e3"]), "not a price"),
        (
            with(&group, &["--price", "0.1234567890123456"]),
            "not a price",
        ),
        (
            with(&group, &["--price", "1234567890123456"]),
            "not a price",
        ),
        (with(&group, &["--price", ""]), "not a price"),
        (with(&group, &["--price", " 1"]), "not a price"),
        (with(&group, &["--hidden", "yes"]), "true, false"),
        (with(&group, &["--image", ""]), "picture"),
        (with(&group, &["--image", "../x.jpg"]), "picture"),
        (
            with(&group, &["--description", "two\nlines"]),
            "description",
        ),
        (
            vec!["create-card-group", "--name", "H", "--price", "ten"],
            "not a price",
        ),
        (
            vec!["create-card-group", "--name", "H", "--image", "a/b.jpg"],
            "picture",
        ),
        (
            vec!["update-card", "--number", "1111111999", "--hidden", "true"],
            "card 1111111999 was not found",
        ),
        (vec!["update-card", "--number", "1111111000"], "--hidden"),
        (
            vec!["update-card", "--number", "1111111000", "--hidden", "1"],
            "true, false",
        ),
        (
            vec!["update-card", "--number", "12\u{1}34", "--hidden", "true"],
            "card number",
        ),
        (vec!["allow-api-payments", "yes"], "on, off"),
        (vec!["allow-api-payments"], "on|off"),
        (
            vec![
                "set-currency-active",
                "--currency",
                "XYZ",
                "--active",
                "true",
            ],
            "currency XYZ was not found",
        ),
        (
            vec![
                "set-currency-active",
                "--currency",
                "usd",
                "--active",
                "true",
            ],
            "currency usd was not found",
        ),
        (
            vec![
                "set-currency-active",
                "--currency",
                "USD",
                "--active",
                "false",
            ],
            "system currency",
        ),
        (
            vec!["set-currency-active", "--currency", "USD", "--active", "no"],
            "true, false",
        ),
    ];
    for (args, why) in cases {
        let stderr = refused_with(&ops(&args));
        assert!(stderr.contains(why), "{args:?}: {why} not in:\n{stderr}");
    }

    let db = Database::connect(&url, PoolSettings::default()).unwrap();
    let group = db
        .read(|ledger| ledger.card_group(CardGroupId(1)))
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            group.price,
            group.image.as_str(),
            group.description.as_str(),
            group.hidden
        ),
        (Money::zero(), "example.jpg", "", false)
    );
    assert!(db
        .read(|ledger| ledger.card_group(CardGroupId(2)))
        .unwrap()
        .is_none());
    let cards = admin::cards_in_group(&db, CardGroupId(1)).unwrap();
    assert!(cards.iter().all(|card| !card.hidden));
    let usd = db.read(|ledger| ledger.currency("USD")).unwrap().unwrap();
    assert!(usd.active);
    assert_eq!(
        morcc_domain::Directory::setting(
            &db,
            morcc_domain::settings::API_ALLOW_PAYMENTS_OVER_API,
            morcc_domain::OwnerId(0)
        )
        .unwrap(),
        None
    );
}

/// The new subcommands' help shows an example, as every subcommand's does.
#[test]
fn card_call_subcommands_show_an_example_in_their_help() {
    let dir = tempfile::tempdir().unwrap();
    for (subcommand, example) in [
        (
            "update-card-group",
            "morcc update-card-group --cardgroup-id 1",
        ),
        ("update-card", "morcc update-card --number"),
        ("allow-api-payments", "morcc allow-api-payments on"),
        (
            "set-currency-active",
            "morcc set-currency-active --currency EUR",
        ),
        ("create-card-group", "--price"),
        ("hash", "--call card_payment_add"),
    ] {
        let help = run(dir.path(), &[subcommand, "--help"]);
        assert!(help.contains(example), "{subcommand}:\n{help}");
    }
}
