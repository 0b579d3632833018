//! Hostile input: every request below is answered with a well-formed MOR error (or 413 for an
//! oversized body, 405 for another method, a 4xx for what is not acceptable HTTP), never a 5xx
//! or a crash, and the data is exactly as it was (every card, user balance and payment row).
//! The same treatment is given to the paths of the four card calls (card_calls.md), whose data
//! also holds orders, line items and the actions of sales.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::checks::{self, fingerprint, Fingerprint, Outcome};
use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{settings, ApiCall, OwnerId};

/// XML metacharacters and SQL injection strings, tried in every parameter.
const NASTY: [&str; 14] = [
    "<&>\"'",
    "]]><x>",
    "<![CDATA[<error>ok</error>]]>",
    "&amp;&#0;&bogus;",
    "' OR '1'='1",
    "4444' --",
    "4444\" OR \"\"=\"",
    "1; DROP TABLE cards; --",
    "1'; DELETE FROM payments; --",
    "1 UNION SELECT password FROM users",
    "%",
    "_",
    "4444%",
    "\\'; UPDATE cards SET balance = 1000000; --",
];

/// Amounts spec §4.2 refuses: signs, exponents, NaN, infinities, too many digits, padding,
/// other digit systems and separators.
const BAD_AMOUNTS: [&str; 24] = [
    "-1",
    "-0.01",
    "+1",
    "1e3",
    "1E-2",
    "NaN",
    "nan",
    "inf",
    "-Infinity",
    "1234567890123456",
    "99999999999999999999999999999999999999",
    "0.1234567890123456",
    " 1",
    "1 ",
    "\t1",
    "1\n",
    "1,5",
    "1.",
    ".5",
    "0x10",
    "1_000",
    "\u{FF11}",
    "\u{0663}",
    "1.2.3",
];

/// Seeds two cards with money (through the API, so their payments are written) and returns
/// the fingerprint every hostile request must leave unchanged.
async fn seeded(app: &TestApp) -> Fingerprint {
    for (callerid, amount) in [("4444", "10"), ("5555", "5.5")] {
        let answer = app
            .call(&[
                ("callerid", callerid),
                ("amount", amount),
                ("cardgroup_id", "1"),
            ])
            .await;
        assert!(matches!(checks::classify(&answer.body), Ok(Outcome::Ok(_))));
    }
    fingerprint(&app.db)
}

/// A 200 with a well-formed MOR error; returns its text.
#[track_caller]
fn error_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{answer:?}");
    match checks::classify(&answer.body) {
        Ok(Outcome::ActionError(text) | Outcome::FilterError(text)) => text,
        other => panic!("expected a MOR error, got {other:?}"),
    }
}

#[track_caller]
fn assert_error(answer: &Answer, expected: &str, what: &str) {
    let text = error_of(answer);
    assert_eq!(text, expected, "{what}");
}

/// The signed parameters with one of them replaced afterwards (so the hash is over the
/// original value: `Incorrect hash` unless the filters refuse earlier).
fn tampered(
    app: &TestApp,
    params: &[(&str, &str)],
    name: &str,
    value: &str,
) -> Vec<(String, String)> {
    let mut signed = app.signed(params);
    for (param, old) in signed.iter_mut() {
        if param == name {
            *old = value.to_owned();
        }
    }
    signed
}

/// The characters XML 1.0 cannot carry, which no caller ID or PIN may hold.
fn unprintable(c: char) -> bool {
    c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// What a request with `value` in parameter `name` must answer, signed as a client holding
/// the key would sign it (so it reaches the call): look-ups and top-ups of the seeded card.
fn signed_case(name: &str, value: &str) -> (Vec<(&'static str, String)>, &'static str) {
    let v = value.to_owned();
    match name {
        // A caller ID with a control character is refused as no caller ID (DECISIONS:
        // unprintable codes); any other is looked up, exactly, and not found.
        "callerid" if value.chars().any(unprintable) => {
            (vec![("callerid", v)], "Callerid must be specified")
        }
        "callerid" => (vec![("callerid", v)], "Card was not found"),
        "amount" => (
            vec![("callerid", "4444".into()), ("amount", v)],
            "Invalid amount",
        ),
        "pin" => (
            vec![("callerid", "4444".into()), ("pin", v)],
            "PIN number not found",
        ),
        "cardgroup_id" => (
            vec![
                ("callerid", "4444".into()),
                ("amount", "1".into()),
                ("cardgroup_id", v),
            ],
            "Supplied Cardgroup_id is invalid",
        ),
        _ => unreachable!(),
    }
}

/// Sends `value` in every parameter, as a form, in the query string of a GET and in a JSON
/// body; checks each answer's exact error text. Returns how many requests were sent.
async fn in_every_parameter(app: &TestApp, value: &str) -> usize {
    let mut sent = 0;
    let lookup = [("callerid", "4444")];
    // The credentials and the hash: refused by the filters.
    for (name, expected) in [
        ("u", "Bad login"),
        ("p", "Bad login"),
        ("hash", "Incorrect hash"),
    ] {
        let params = tampered(app, &lookup, name, value);
        let what = format!("{name}={value:?}");
        assert_error(
            &app.post_form("/api/cc_by_cli", &params).await,
            expected,
            &what,
        );
        assert_error(&app.get("/api/cc_by_cli", &params).await, expected, &what);
        assert_error(&post_json(app, &params).await, expected, &what);
        sent += 3;
    }
    // The hashed parameters: a wrong hash, then a right one.
    for name in ["callerid", "amount", "pin", "cardgroup_id"] {
        let (params, expected) = signed_case(name, value);
        let params: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let what = format!("{name}={value:?}");
        let original: Vec<(&str, &str)> = params
            .iter()
            .map(|(n, v)| (*n, if *n == name { "1" } else { *v }))
            .collect();
        let forged = tampered(app, &original, name, value);
        assert_error(
            &app.post_form("/api/cc_by_cli", &forged).await,
            "Incorrect hash",
            &what,
        );
        let signed = app.signed(&params);
        assert_error(
            &app.post_form("/api/cc_by_cli", &signed).await,
            expected,
            &what,
        );
        assert_error(&app.get("/api/cc_by_cli", &signed).await, expected, &what);
        assert_error(&post_json(app, &signed).await, expected, &what);
        sent += 4;
    }
    sent
}

async fn post_json(app: &TestApp, params: &[(String, String)]) -> Answer {
    post_json_to(app, "/api/cc_by_cli", params).await
}

async fn post_json_to(app: &TestApp, path: &str, params: &[(String, String)]) -> Answer {
    let body: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(name, value)| (name.clone(), value.clone().into()))
        .collect();
    app.send(app.client().post(app.url(path)).json(&body)).await
}

async fn post_raw(app: &TestApp, content_type: &str, body: Vec<u8>) -> Answer {
    post_raw_to(app, "/api/cc_by_cli", content_type, body).await
}

async fn post_raw_to(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let request = app
        .client()
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body);
    app.send(request).await
}

/// A form body, as bytes.
fn form_bytes(params: &[(String, String)]) -> Vec<u8> {
    params
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// Percent-encodes everything but unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends raw bytes over TCP and reads the status line's code and the body (`None` when the
/// server closed the connection without an answer).
fn raw_http(app: &TestApp, request: &[u8]) -> Option<(u16, String)> {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(request);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    Some((status, body))
}

/// The server still answers, and the data is as it was.
async fn assert_unchanged(app: &TestApp, before: &Fingerprint) {
    let health = app.send(app.client().get(app.url("/healthz"))).await;
    assert_eq!(health.status, 200, "the server still answers");
    assert_eq!(&fingerprint(&app.db), before, "the data changed");
}

/// Hostile requests are mostly failed logins and hashes, which the brute-force throttle
/// (tested in `security`) would soon answer with `Bad login` whatever they hold: these
/// scenarios run on both backends, like `scenarios!`, with the throttle off.
macro_rules! unthrottled_scenarios {
    ($($(#[$doc:meta])* async fn $name:ident($app:ident) $body:block)*) => {
        $(
            $(#[$doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn scenario($app: TestApp) $body

                #[actix_web::test]
                async fn sqlite() {
                    scenario(TestApp::sqlite_with(unthrottled()).await).await
                }

                #[cfg(feature = "mysql")]
                #[actix_web::test]
                async fn mysql() {
                    scenario(TestApp::mysql_with(unthrottled()).await).await
                }
            }
        )*
    };
}

fn unthrottled() -> morcc::cli::ServeArgs {
    morcc::cli::ServeArgs {
        max_failed_logins_per_username: 0,
        max_failed_logins_per_address: 0,
        ..Default::default()
    }
}

unthrottled_scenarios! {
    /// XML metacharacters and SQL injection strings in every parameter, in a form, a query
    /// string and a JSON body: each gets the exact error of a harmless bad value.
    async fn nasty_strings_in_every_parameter_change_nothing(app) {
        let before = seeded(&app).await;
        let mut sent = 0;
        for value in NASTY {
            sent += in_every_parameter(&app, value).await;
        }
        assert_unchanged(&app, &before).await;
        eprintln!("hostile: {sent} requests with {} nasty strings", NASTY.len());
    }

    /// A caller ID full of metacharacters is a caller ID like any other: stored as sent,
    /// matched exactly (never as a pattern), and escaped in the reply.
    async fn metacharacters_are_stored_literally_and_escaped_when_echoed(app) {
        let before = seeded(&app).await;
        let cli = "<&>\"' OR 1=1 --%";
        let answer = app.call(&[("callerid", cli), ("amount", "2"), ("cardgroup_id", "1")]).await;
        let Ok(Outcome::Ok(response)) = checks::classify(&answer.body) else {
            panic!("{answer:?}")
        };
        assert_eq!(response.text_at(&["card", "callerid"]), Some(cli));
        assert!(answer.body.contains("<callerid>&lt;&amp;&gt;"), "{}", answer.body);
        let card = app.card(cli).expect("stored as sent");
        assert_eq!(card.balance, money("2"));
        // The other cards are untouched: nothing matched the pattern characters.
        let card_4444 = app.card("4444").unwrap();
        assert_eq!(card_4444.balance, money("10"));
        assert_eq!(app.payments_sum(morcc_domain::Holder::Card(card.id)), money("2"));
        let after = fingerprint(&app.db);
        assert_ne!(after, before);
        // A look-up with a prefix of it, or a pattern, finds nothing.
        for probe in ["<&>", "%", "<&>\"' OR 1=1 --"] {
            assert_error(&app.call(&[("callerid", probe)]).await, "Card was not found", probe);
        }
        assert_unchanged(&app, &after).await;
    }

    /// Amounts with signs, exponents, NaN, too many digits or padding: `Invalid amount`,
    /// on a card, for a new card and for a user.
    async fn malformed_amounts_are_refused(app) {
        let before = seeded(&app).await;
        for amount in BAD_AMOUNTS {
            for params in [
                vec![("callerid", "4444"), ("amount", amount)],
                vec![("callerid", "6666"), ("amount", amount), ("cardgroup_id", "1")],
                vec![("callerid", "4444"), ("amount", amount), ("cardgroup_id", "1")],
            ] {
                assert_error(&app.call(&params).await, "Invalid amount", amount);
            }
        }
        assert_unchanged(&app, &before).await;
    }

    /// Caller IDs and PINs wider than any column: refused without a look-up.
    async fn overlong_caller_ids_and_pins_are_refused(app) {
        let before = seeded(&app).await;
        let wide = "4".repeat(256);
        let wider = "4".repeat(10_000);
        let wide_multibyte = "\u{20AC}".repeat(256);
        for cli in [wide.as_str(), wider.as_str(), wide_multibyte.as_str()] {
            assert_error(&app.call(&[("callerid", cli), ("amount", "1"), ("cardgroup_id", "1")]).await,
                "Callerid must be specified", "overlong caller ID");
        }
        // 255 characters is a caller ID; an unknown one is not found.
        let widest = "\u{20AC}".repeat(255);
        assert_error(&app.call(&[("callerid", widest.as_str())]).await, "Card was not found", "255 characters");
        for pin in [wide.as_str(), wider.as_str(), wide_multibyte.as_str()] {
            assert_error(&app.call(&[("callerid", "4444"), ("pin", pin)]).await, "PIN number not found", "overlong PIN");
        }
        assert_unchanged(&app, &before).await;
    }

    /// Invalid UTF-8, percent-encoded and raw, in forms, query strings and JSON bodies.
    async fn invalid_utf8_changes_nothing(app) {
        let before = seeded(&app).await;
        let signed = app.signed(&[("callerid", "4444"), ("amount", "1")]);
        // Percent-encoded: each parameter in turn becomes \xFF\xFE (U+FFFD when decoded).
        for target in ["u", "p", "hash", "callerid", "amount"] {
            let body: String = signed
                .iter()
                .map(|(name, value)| {
                    let value = if name == target { "%FF%FE".to_owned() } else { encode(value) };
                    format!("{name}={value}")
                })
                .collect::<Vec<_>>()
                .join("&");
            let answer = post_raw(&app, "application/x-www-form-urlencoded", body.clone().into_bytes()).await;
            let expected = match target {
                "u" | "p" => "Bad login",
                _ => "Incorrect hash",
            };
            assert_error(&answer, expected, target);
            // Raw bytes in the body, not percent-encoded.
            let raw = body.replace("%FF%FE", "\u{1}").into_bytes();
            let raw: Vec<u8> = raw.into_iter().map(|b| if b == 1 { 0xFF } else { b }).collect();
            assert_error(&post_raw(&app, "application/x-www-form-urlencoded", raw).await, expected, target);
            // In the query string of a GET.
            let answer = app.send(app.client().get(app.url(&format!("/api/cc_by_cli?{body}")))).await;
            assert_error(&answer, expected, target);
        }
        // Signed over what the server decodes (U+FFFD), so the call itself sees it.
        for (name, expected) in [("callerid", "Card was not found"), ("amount", "Invalid amount"), ("pin", "PIN number not found")] {
            let (params, _) = signed_case(name, "\u{FFFD}\u{FFFD}");
            let params: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
            let body = form_bytes(&app.signed(&params));
            let body = String::from_utf8(body).unwrap().replace("%EF%BF%BD%EF%BF%BD", "%FF%FE");
            assert_error(&post_raw(&app, "application/x-www-form-urlencoded", body.into_bytes()).await, expected, name);
        }
        // Raw bytes in a JSON body: not JSON, so not a single parameter.
        let mut json = b"{\"u\":\"admin\",\"p\":\"adminpass\",\"callerid\":\"".to_vec();
        json.extend([0xFF, 0xFE]);
        json.extend(b"\"}");
        assert_error(&post_raw(&app, "application/json", json).await, "Bad login", "raw bytes in JSON");
        // Raw bytes in the request line: the HTTP parser may refuse it (4xx); if it is
        // accepted the answer is a MOR error.
        let mut request = b"GET /api/cc_by_cli?u=admin&p=adminpass&callerid=".to_vec();
        request.extend([0xFF, 0xFE, 0x80]);
        request.extend(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        match raw_http(&app, &request) {
            Some((200, body)) => assert!(matches!(checks::classify(&body), Ok(Outcome::FilterError(_))), "{body}"),
            Some((status, _)) => assert!((400..500).contains(&status), "HTTP {status}"),
            None => {}
        }
        assert_unchanged(&app, &before).await;
    }

    /// NUL bytes in every parameter (percent-encoded, raw in a form, and `\u0000` in JSON).
    async fn null_bytes_change_nothing(app) {
        let before = seeded(&app).await;
        for value in ["\0", "4444\0", "\u{0}1", "1\u{0}"] {
            in_every_parameter(&app, value).await;
        }
        let body = b"u=admin\0&p=adminpass&callerid=4444\0&amount=1".to_vec();
        assert_error(&post_raw(&app, "application/x-www-form-urlencoded", body).await, "Bad login", "raw NUL");
        assert_unchanged(&app, &before).await;
    }

    /// Huge parameters: a 1 MB body is 413, a 1 MB query string is refused by the HTTP layer
    /// (never a 5xx, and the server keeps serving), a value just under the body limit is an
    /// ordinary refusal.
    async fn megabyte_parameters_are_refused(app) {
        let before = seeded(&app).await;
        let megabyte = "4".repeat(1 << 20);
        for name in ["u", "callerid", "amount", "pin", "hash"] {
            let mut params = app.signed(&[("callerid", "4444")]);
            params.push((name.into(), megabyte.clone()));
            let answer = app.post_form("/api/cc_by_cli", &params).await;
            assert_eq!(answer.status, 413, "{name} of 1 MB in the body");
            let answer = post_json(&app, &params).await;
            assert_eq!(answer.status, 413, "{name} of 1 MB in a JSON body");
            // In the query string.
            let sent = app.client().get(app.url("/api/cc_by_cli")).query(&params).send().await;
            if let Ok(response) = sent {
                let status = response.status().as_u16();
                assert!((400..500).contains(&status) || status == 200, "{name} of 1 MB in the query: HTTP {status}");
                if status == 200 {
                    error_of(&Answer { status, content_type: None, disposition: None, body: response.text().await.unwrap() });
                }
            }
        }
        // Just under the 64 KiB body limit: the call refuses the value itself.
        let wide = "4".repeat(60_000);
        assert_error(&app.call(&[("callerid", wide.as_str())]).await, "Callerid must be specified", "60 kB caller ID");
        assert_error(&app.call(&[("callerid", "4444"), ("amount", wide.as_str())]).await, "Invalid amount", "60 kB amount");
        assert_error(&app.call(&[("callerid", "4444"), ("pin", wide.as_str())]).await, "PIN number not found", "60 kB PIN");
        assert_unchanged(&app, &before).await;
    }

    /// 10 000 parameters in one body, and the same name 10 000 times.
    async fn ten_thousand_parameters_change_nothing(app) {
        let before = seeded(&app).await;
        // Distinct short names (all under the body limit), then the real parameters.
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let name = |mut index: usize| {
            let mut name = String::from("z");
            loop {
                name.push(ALPHABET[index % ALPHABET.len()] as char);
                index /= ALPHABET.len();
                if index == 0 {
                    break name;
                }
            }
        };
        let mut params: Vec<(String, String)> = (0..10_000).map(|index| (name(index), String::new())).collect();
        params.extend(app.signed(&[("callerid", "4444"), ("amount", "-1")]));
        let answer = post_raw(&app, "application/x-www-form-urlencoded", form_bytes(&params)).await;
        assert_error(&answer, "Invalid amount", "10 000 parameters");
        // The same 10 000 names and the real ones in the query string of a GET.
        let answer = app.get("/api/cc_by_cli", &params).await;
        assert_error(&answer, "Invalid amount", "10 000 query parameters");
        // The same name 10 000 times: the last one wins (a first-wins reader would see `x`).
        let mut params: Vec<(String, String)> = (0..10_000).map(|_| ("u".into(), "x".into())).collect();
        params.extend(app.signed(&[("callerid", "4444"), ("amount", "1e3")]));
        let answer = post_raw(&app, "application/x-www-form-urlencoded", form_bytes(&params)).await;
        assert_error(&answer, "Invalid amount", "10 000 user names");
        // A JSON object of 10 000 members is over the body limit; 5 000 are not.
        let json_of = |members: usize| {
            let mut json: serde_json::Map<String, serde_json::Value> =
                (0..members).map(|index| (name(index), serde_json::Value::Null)).collect();
            for (name, value) in app.signed(&[("callerid", "4444"), ("pin", "no such pin")]) {
                json.insert(name, value.into());
            }
            json
        };
        let answer = app.send(app.client().post(app.url("/api/cc_by_cli")).json(&json_of(10_000))).await;
        assert_eq!(answer.status, 413, "10 000 JSON members");
        let answer = app.send(app.client().post(app.url("/api/cc_by_cli")).json(&json_of(5_000))).await;
        assert_error(&answer, "PIN number not found", "5 000 JSON members");
        assert_unchanged(&app, &before).await;
    }

    /// Repeated parameters: the last one wins within a source, the body beats the query, and
    /// the hash is over the values the call uses, so smuggling a second value fails.
    async fn duplicated_parameters_change_nothing(app) {
        let before = seeded(&app).await;
        // Signed for amount=5, then a second amount appended: the hash no longer matches.
        let mut params = app.signed(&[("callerid", "4444"), ("amount", "5")]);
        params.push(("amount".into(), "500".into()));
        assert_error(&app.post_form("/api/cc_by_cli", &params).await, "Incorrect hash", "second amount");
        // A second, hostile value that is also signed: refused as that value.
        let mut params = vec![("amount".to_owned(), "5".to_owned())];
        params.extend(app.signed(&[("callerid", "4444"), ("amount", "-5")]));
        assert_error(&app.post_form("/api/cc_by_cli", &params).await, "Invalid amount", "signed second amount");
        // A second user name.
        let mut params = app.signed(&[("callerid", "4444"), ("amount", "5")]);
        params.push(("u".into(), "nobody".into()));
        assert_error(&app.post_form("/api/cc_by_cli", &params).await, "Bad login", "second user");
        // The query string cannot override the body's caller ID.
        let signed = app.signed(&[("callerid", "6666"), ("amount", "5")]);
        let request = app.client().post(app.url("/api/cc_by_cli?callerid=4444&callerid=4444")).form(&signed);
        assert_error(&app.send(request).await, "Supplied Cardgroup_id is invalid", "query vs body");
        // Duplicated JSON members: the last one wins.
        let mut body = String::from("{");
        for (name, value) in app.signed(&[("callerid", "4444"), ("amount", "5")]) {
            body.push_str(&format!("\"{name}\":\"{value}\","));
        }
        body.push_str("\"amount\":\"-5\"}");
        assert_error(&post_raw(&app, "application/json", body.into_bytes()).await, "Incorrect hash", "JSON duplicate");
        assert_unchanged(&app, &before).await;
    }

    /// Bodies that are not JSON objects, or JSON with values of the wrong kinds.
    async fn malformed_json_changes_nothing(app) {
        let before = seeded(&app).await;
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        for body in [
            "",
            "{",
            "{\"u\": \"admin\", ",
            "{\"u\": \"admin\" \"p\": \"adminpass\"}",
            "null",
            "42",
            "\"u=admin&p=adminpass\"",
            "[{\"u\": \"admin\"}]",
            "{\"u\": [\"admin\"], \"p\": {\"x\": \"adminpass\"}}",
            "{\"u\": \"adm\\ud800in\"}",
            "{\"amount\": 1e999999}",
            deep.as_str(),
        ] {
            let answer = post_raw(&app, "application/json", body.as_bytes().to_vec()).await;
            assert_error(&answer, "Bad login", body.get(..40).unwrap_or(body));
        }
        // Numbers: a sign or an exponent is an invalid amount. serde_json rewrites an exponent
        // (`1e3` is read as `1e+3`), so a client that hashed its literal text gets `Incorrect
        // hash` instead (see docs/RELIABILITY.md, findings); hashed over the rewritten text,
        // the amount itself is refused.
        for (amount, as_read) in [("1e3", "1e+3"), ("-1", "-1"), ("1.0E+2", "1.0e+2"), ("0.1e1", "0.1e+1")] {
            for (hashed, expected) in [(amount, ["Invalid amount", "Incorrect hash"]), (as_read, ["Invalid amount"; 2])] {
                let mut json: serde_json::Map<String, serde_json::Value> = app
                    .signed(&[("callerid", "4444"), ("amount", hashed)])
                    .into_iter()
                    .map(|(name, value)| (name, value.into()))
                    .collect();
                json.insert("amount".into(), serde_json::from_str(amount).unwrap());
                let answer = app.send(app.client().post(app.url("/api/cc_by_cli")).json(&json)).await;
                let text = error_of(&answer);
                assert!(expected.contains(&text.as_str()), "JSON amount {amount} hashed as {hashed}: {text}");
            }
        }
        assert_unchanged(&app, &before).await;
    }

    /// A body of another content type carries no parameters: the request is judged on its
    /// (empty) query string.
    async fn wrong_content_types_carry_no_parameters(app) {
        let before = seeded(&app).await;
        let form = form_bytes(&app.signed(&[("callerid", "4444"), ("amount", "1")]));
        for content_type in [
            "text/plain",
            "application/xml",
            "text/xml; charset=utf-8",
            "multipart/form-data; boundary=x",
            "application/octet-stream",
            "application/x-www-form-urlencodedx",
            "application/json",
            "",
        ] {
            let answer = post_raw(&app, content_type, form.clone()).await;
            assert_error(&answer, "Bad login", content_type);
        }
        let xml = b"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><u>&e;</u>".to_vec();
        assert_error(&post_raw(&app, "application/xml", xml).await, "Bad login", "an XML body");
        let answer = app.send(app.client().post(app.url("/api/cc_by_cli")).body(form)).await;
        assert_error(&answer, "Bad login", "no content type");
        assert_unchanged(&app, &before).await;
    }

    /// Other methods answer 405; requests that are not HTTP answer 400.
    async fn unknown_methods_and_broken_http_are_refused(app) {
        let before = seeded(&app).await;
        let form = app.signed(&[("callerid", "4444"), ("amount", "1")]);
        for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD", "PROPFIND", "FOO"] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let answer = app.send(app.client().request(method.clone(), app.url("/api/cc_by_cli")).form(&form)).await;
            assert_eq!(answer.status, 405, "{method}");
        }
        for garbage in [
            &b"GARBAGE\r\n\r\n"[..],
            b"POST /api/cc_by_cli HTTP/9.9\r\n\r\n",
            b"POST /api/cc_by_cli HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST /api/cc_by_cli HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nu=adm",
            b"POST /api/cc_by_cli HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"\x00\x01\x02\xff\r\n\r\n",
        ] {
            if let Some((status, _)) = raw_http(&app, garbage) {
                assert!((400..500).contains(&status), "{:?}: HTTP {status}", String::from_utf8_lossy(garbage));
            }
        }
        assert_unchanged(&app, &before).await;
    }
}

// ---------------------------------------------------------------------------------------------
// The card calls (card_calls.md): the same hostile treatment on each of their paths.

/// A distinct short parameter name for each index (10 000 of them stay under the body limit).
fn short_name(mut index: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut name = String::from("z");
    loop {
        name.push(ALPHABET[index % ALPHABET.len()] as char);
        index /= ALPHABET.len();
        if index == 0 {
            break name;
        }
    }
}

/// Every path of the four card calls: the call, its alias, and both again under `/billing`.
const CARD_PATHS: [(ApiCall, &str); 12] = [
    (ApiCall::CardGroupGet, "/api/card_group_get"),
    (ApiCall::CardGroupGet, "/billing/api/card_group_get"),
    (ApiCall::CardGroupGet, "/api/show_calling_card_group"),
    (
        ApiCall::CardGroupGet,
        "/billing/api/show_calling_card_group",
    ),
    (ApiCall::CardFromGroupSell, "/api/card_from_group_sell"),
    (
        ApiCall::CardFromGroupSell,
        "/billing/api/card_from_group_sell",
    ),
    (ApiCall::CardFromGroupSell, "/api/buy_card_from_callingroup"),
    (
        ApiCall::CardFromGroupSell,
        "/billing/api/buy_card_from_callingroup",
    ),
    (ApiCall::CardBalanceGet, "/api/card_balance_get"),
    (ApiCall::CardBalanceGet, "/billing/api/card_balance_get"),
    (ApiCall::CardPaymentAdd, "/api/card_payment_add"),
    (ApiCall::CardPaymentAdd, "/billing/api/card_payment_add"),
];

/// The group whose one free card (`ON_SALE`) a hostile sale must not sell.
const SALE_GROUP: &str = "2";
const ON_SALE: &str = "9990000000";

/// Everything a refused card call must leave as it was: the cc_by_cli fingerprint (cards,
/// balances, payments of the probed holders), every order with its line items, the actions of
/// sales, and how many payments rows there are.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CardFingerprint {
    base: Fingerprint,
    orders: Vec<admin::OrderRecord>,
    sales: Vec<(morcc_domain::UserId, Option<i64>, String)>,
    payments: i64,
}

fn card_fingerprint(app: &TestApp) -> CardFingerprint {
    CardFingerprint {
        base: fingerprint(&app.db),
        orders: admin::orders(&app.db).unwrap(),
        sales: admin::actions_named(&app.db, "card_sell_over_api").unwrap(),
        payments: admin::payments_count(&app.db).unwrap(),
    }
}

/// The cc_by_cli seed (cards 4444 and 5555, sold, in group 1, which has no free card), a
/// second group with one free card, payments over the API allowed. Returns the fingerprint and
/// the number of the card of 4444 (owned, sold: one `card_payment_add` may top up).
async fn seeded_for_cards(app: &TestApp) -> (CardFingerprint, String) {
    seeded(app).await;
    admin::set_setting(
        &app.db,
        settings::API_ALLOW_PAYMENTS_OVER_API,
        "1",
        OwnerId(0),
    )
    .unwrap();
    let spec = admin::CardGroupSpec {
        name: "On sale".into(),
        ..Default::default()
    };
    let group = admin::create_card_group(&app.db, &spec).unwrap();
    assert_eq!(group.to_string(), SALE_GROUP);
    add_card(app, group, ON_SALE, "5");
    let number = app.card("4444").unwrap().number.as_str().to_owned();
    (card_fingerprint(app), number)
}

/// The server still answers, and the card calls' data is as it was.
async fn assert_cards_unchanged(app: &TestApp, before: &CardFingerprint) {
    let health = app.send(app.client().get(app.url("/healthz"))).await;
    assert_eq!(health.status, 200, "the server still answers");
    assert_eq!(&card_fingerprint(app), before, "the data changed");
}

/// What a card call must answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// This error, in the envelope of its kind: a filter error, or the call's action error.
    Error(&'static str),
    /// `card_payment_add` of a zero amount: a success that changes nothing, echoing the
    /// description.
    ZeroPayment,
}

/// The filters' texts this file expects; the other texts are the call's action errors.
const FILTER_TEXTS: [&str; 2] = ["Bad login", "Incorrect hash"];

/// Checks the answer of `call` exactly: the error's exact body in its envelope, or a
/// well-formed zero payment that echoes `description`.
#[track_caller]
fn assert_card_answer(
    answer: &Answer,
    call: ApiCall,
    expect: Expect,
    description: &str,
    what: &str,
) {
    assert_eq!(answer.status, 200, "{what}: {answer:?}");
    match expect {
        Expect::Error(text) if FILTER_TEXTS.contains(&text) => assert_eq!(
            answer.body,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<status>\n  <error>{text}</error>\n</status>\n"),
            "{what}"
        ),
        Expect::Error(text) if call == ApiCall::CardBalanceGet => {
            assert_eq!(answer.body, action_error(text), "{what}")
        }
        Expect::Error(text) => assert_eq!(answer.body, card_error(text), "{what}"),
        Expect::ZeroPayment => {
            // Every reply is well-formed XML (cc_by_cli.md §1), whatever the description holds.
            let root = checks::parse_xml(&answer.body).unwrap_or_else(|error| {
                panic!("{what}: not well-formed: {error}: {:?}", answer.body)
            });
            // A description XML cannot carry may be refused (the spec is silent); any other
            // is echoed.
            if description.chars().any(unprintable) {
                if let Some(text) = root.text_at(&["status", "error"]) {
                    assert!(is_spec_error(text), "{what}: {text}");
                    return;
                }
            }
            let details = |name: &str| root.text_at(&["add_payment", "details", name]);
            assert!(root.text_at(&["status", "success"]).is_some(), "{what}: {}", answer.body);
            assert_eq!(details("amount_without_tax"), Some("0.0"), "{what}");
            assert_eq!(details("current_balance"), details("new_balance"), "{what}");
            if !description.chars().any(unprintable) {
                assert_eq!(details("description"), Some(description), "{what}");
            }
        }
    }
}

/// The parameters a harmless request of `call` sends (its answer is an error or a zero
/// payment: nothing changes).
fn card_base(call: ApiCall, number: &str) -> Vec<(&'static str, String)> {
    match call {
        ApiCall::CardGroupGet => vec![("id", "1".into())],
        ApiCall::CardFromGroupSell => vec![("id", "1".into())],
        ApiCall::CardBalanceGet => vec![("number", number.into())],
        _ => vec![("number", number.into()), ("amount", "0".into())],
    }
}

/// The parameters of each card call, the unhashed `number` of the sale among them.
fn card_parameters(call: ApiCall) -> &'static [&'static str] {
    match call {
        ApiCall::CardGroupGet => &["id"],
        ApiCall::CardFromGroupSell => &["id", "number", "quantity", "email"],
        ApiCall::CardBalanceGet => &["number"],
        _ => &["number", "amount", "currency", "description"],
    }
}

/// The request of `call` that carries `value` in parameter `name`, and what it must answer
/// when signed as a client holding the key would sign it.
fn card_case(
    call: ApiCall,
    name: &str,
    value: &str,
    number: &str,
) -> (Vec<(&'static str, String)>, Expect) {
    let v = value.to_owned();
    let n = number.to_owned();
    match (call, name) {
        (ApiCall::CardGroupGet | ApiCall::CardFromGroupSell, "id") => {
            (vec![("id", v)], Expect::Error("Cardgroup was not found"))
        }
        // The group with a free card: only an exact number may sell it.
        (ApiCall::CardFromGroupSell, "number") => (
            vec![("id", SALE_GROUP.into()), ("number", v)],
            Expect::Error("Free cards was not found"),
        ),
        // Group 1 has no free card, whatever quantity or e-mail is asked.
        (ApiCall::CardFromGroupSell, other) => (
            vec![("id", "1".into()), (leak(other), v)],
            Expect::Error("Free cards was not found"),
        ),
        (ApiCall::CardBalanceGet, _) => (
            vec![("number", v)],
            Expect::Error("Calling Card was not found"),
        ),
        (_, "number") => (
            vec![("number", v), ("amount", "1".into())],
            Expect::Error("Calling Card was not found"),
        ),
        (_, "amount") => (
            vec![("number", n), ("amount", v)],
            Expect::Error("Invalid amount"),
        ),
        (_, "currency") => (
            vec![("number", n), ("amount", "1".into()), ("currency", v)],
            Expect::Error("Currency was not found"),
        ),
        _ => (
            vec![("number", n), ("amount", "0".into()), ("description", v)],
            Expect::ZeroPayment,
        ),
    }
}

/// The static name of a card call's parameter.
fn leak(name: &str) -> &'static str {
    [
        "id",
        "number",
        "quantity",
        "email",
        "amount",
        "currency",
        "description",
    ]
    .into_iter()
    .find(|known| *known == name)
    .expect("a card call's parameter")
}

fn as_refs<'a>(params: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    params.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

/// `call`'s signed parameters with one of them replaced afterwards.
fn tampered_call(
    call: ApiCall,
    params: &[(&str, &str)],
    name: &str,
    value: &str,
) -> Vec<(String, String)> {
    let mut signed = signed_call(call, params, USER, PASSWORD, KEY);
    for (param, old) in signed.iter_mut() {
        if param == name {
            *old = value.to_owned();
        }
    }
    signed
}

/// Sends `value` in every parameter of every card call's path: the credentials and the hash
/// (refused by the filters), then each of the call's parameters with a forged hash and with a
/// right one. The canonical path gets a form, a GET and a JSON body; the alias and `/billing`
/// paths a form. Returns how many requests were sent.
async fn in_every_parameter_of_the_card_calls(app: &TestApp, value: &str, number: &str) -> usize {
    in_the_card_calls_parameters(app, value, number, |_| true).await
}

/// [`in_every_parameter_of_the_card_calls`], for the parameters `chosen` admits.
async fn in_the_card_calls_parameters(
    app: &TestApp,
    value: &str,
    number: &str,
    chosen: impl Fn(&str) -> bool,
) -> usize {
    let mut sent = 0;
    for (call, path) in CARD_PATHS {
        let canonical = path == format!("/api/{}", call.name());
        let base = card_base(call, number);
        for (name, expected) in [
            ("u", "Bad login"),
            ("p", "Bad login"),
            ("hash", "Incorrect hash"),
        ] {
            let params = tampered_call(call, &as_refs(&base), name, value);
            let what = format!("{path} {name}={value:?}");
            let expect = Expect::Error(expected);
            assert_card_answer(
                &app.post_form(path, &params).await,
                call,
                expect,
                value,
                &what,
            );
            sent += 1;
            if canonical {
                assert_card_answer(&app.get(path, &params).await, call, expect, value, &what);
                assert_card_answer(
                    &post_json_to(app, path, &params).await,
                    call,
                    expect,
                    value,
                    &what,
                );
                sent += 2;
            }
        }
        for name in card_parameters(call).iter().filter(|name| chosen(name)) {
            let (params, expected) = card_case(call, name, value, number);
            let what = format!("{path} {name}={value:?}");
            // Signed over `1`, sent with the hostile value: the hash no longer matches, except
            // for the sale's `number`, which is not hashed.
            let original: Vec<(&str, &str)> = params
                .iter()
                .map(|(n, v)| (*n, if n == name { "1" } else { v.as_str() }))
                .collect();
            let forged = tampered_call(call, &original, name, value);
            let forged_expect = if call == ApiCall::CardFromGroupSell && *name == "number" {
                expected
            } else {
                Expect::Error("Incorrect hash")
            };
            assert_card_answer(
                &app.post_form(path, &forged).await,
                call,
                forged_expect,
                value,
                &what,
            );
            let signed = signed_call(call, &as_refs(&params), USER, PASSWORD, KEY);
            assert_card_answer(
                &app.post_form(path, &signed).await,
                call,
                expected,
                value,
                &what,
            );
            sent += 2;
            if canonical {
                assert_card_answer(&app.get(path, &signed).await, call, expected, value, &what);
                assert_card_answer(
                    &post_json_to(app, path, &signed).await,
                    call,
                    expected,
                    value,
                    &what,
                );
                sent += 2;
            }
        }
    }
    sent
}

unthrottled_scenarios! {
    /// XML metacharacters and SQL injection strings in every parameter of every card call's
    /// path: each gets the exact error of a harmless bad value; nothing is sold or paid.
    async fn nasty_strings_in_every_parameter_of_the_card_calls_change_nothing(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let mut sent = 0;
        for value in NASTY {
            sent += in_every_parameter_of_the_card_calls(&app, value, &number).await;
        }
        assert_cards_unchanged(&app, &before).await;
        eprintln!("hostile: {sent} card-call requests with {} nasty strings", NASTY.len());
    }

    /// NUL bytes in every parameter of every card call's path. A description is echoed by
    /// `card_payment_add`: its reply must still be well-formed XML.
    async fn null_bytes_in_the_card_calls_change_nothing(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let values = ["\0", "4444\0", "\u{0}1", "1\u{0}"];
        for value in values {
            in_the_card_calls_parameters(&app, value, &number, |name| name != "description").await;
        }
        for (call, path) in CARD_PATHS {
            let body = format!("u=admin\0&p=adminpass&id=1&number={number}");
            let answer = post_raw_to(&app, path, "application/x-www-form-urlencoded", body.into_bytes()).await;
            assert_card_answer(&answer, call, Expect::Error("Bad login"), "", path);
        }
        // Last, the one parameter echoed back: `card_payment_add`'s description.
        for value in values {
            in_the_card_calls_parameters(&app, value, &number, |name| name == "description").await;
        }
        assert_cards_unchanged(&app, &before).await;
    }

    /// Metacharacters a sale or a payment keeps (the e-mail, the description) are stored as
    /// sent and escaped when echoed; number, currency and group look-ups match them as
    /// literals, never as patterns.
    async fn metacharacters_in_the_card_calls_are_stored_literally_and_escaped(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let nasty = "<&>\"' OR 1=1 --%";
        let answer = app.request(ApiCall::CardFromGroupSell, &[("id", SALE_GROUP), ("email", nasty)]).await;
        assert!(answer.body.contains(&format!("<number>{ON_SALE}</number>")), "{}", answer.body);
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].email, nasty);
        let answer = app.request(ApiCall::CardPaymentAdd, &[("number", &number), ("amount", "2"), ("description", nasty)]).await;
        let root = checks::parse_xml(&answer.body).unwrap();
        assert_eq!(root.text_at(&["add_payment", "details", "description"]), Some(nasty));
        assert!(answer.body.contains("<description>&lt;&amp;&gt;"), "{}", answer.body);
        let card = app.card("4444").unwrap();
        assert_eq!(card.balance, money("12"));
        let rows = admin::payments_for(&app.db, morcc_domain::Holder::Card(card.id)).unwrap();
        assert_eq!(rows.last().unwrap().description, nasty);
        assert_eq!(app.payments_sum(morcc_domain::Holder::Card(card.id)), card.balance);
        // The other cards are untouched.
        assert_eq!(app.card("5555").unwrap().balance, money("5.5"));
        assert_ne!(card_fingerprint(&app), before);
        let after = card_fingerprint(&app);
        // Patterns and prefixes find nothing.
        let prefix = &number[..number.len() - 1];
        for probe in ["%", "_", "%%", &format!("{prefix}_"), &format!("{prefix}%"), prefix] {
            assert_card_answer(&app.request(ApiCall::CardBalanceGet, &[("number", probe)]).await, ApiCall::CardBalanceGet, Expect::Error("Calling Card was not found"), "", probe);
            assert_card_answer(&app.request(ApiCall::CardPaymentAdd, &[("number", probe), ("amount", "1")]).await, ApiCall::CardPaymentAdd, Expect::Error("Calling Card was not found"), "", probe);
            assert_card_answer(&app.request(ApiCall::CardPaymentAdd, &[("number", &number), ("amount", "1"), ("currency", probe)]).await, ApiCall::CardPaymentAdd, Expect::Error("Currency was not found"), "", probe);
            assert_card_answer(&app.request(ApiCall::CardGroupGet, &[("id", probe)]).await, ApiCall::CardGroupGet, Expect::Error("Cardgroup was not found"), "", probe);
        }
        assert_cards_unchanged(&app, &after).await;
    }

    /// Amounts with signs, exponents, NaN, too many digits or padding: `Invalid amount` from
    /// `card_payment_add` on both its paths, in any currency.
    async fn malformed_amounts_are_refused_by_card_payment_add(app) {
        let (before, number) = seeded_for_cards(&app).await;
        for amount in BAD_AMOUNTS {
            for path in ["/api/card_payment_add", "/billing/api/card_payment_add"] {
                for currency in [None, Some("USD")] {
                    let mut params = vec![("number", number.as_str()), ("amount", amount)];
                    params.extend(currency.map(|currency| ("currency", currency)));
                    let answer = app.request_at(path, ApiCall::CardPaymentAdd, &params).await;
                    assert_card_answer(&answer, ApiCall::CardPaymentAdd, Expect::Error("Invalid amount"), "", amount);
                }
            }
        }
        assert_cards_unchanged(&app, &before).await;
    }

    /// Numbers, ids, currencies, quantities and e-mails wider than any column: refused as a
    /// harmless bad value, without a look-up that could match.
    async fn overlong_values_in_the_card_calls_are_refused(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let wide = "9".repeat(256);
        let wider = "9".repeat(10_000);
        let wide_multibyte = "\u{20AC}".repeat(256);
        let widest = "\u{20AC}".repeat(255);
        for value in [wide.as_str(), wider.as_str(), wide_multibyte.as_str(), widest.as_str()] {
            for (call, _) in CARD_PATHS.iter().step_by(2) {
                for name in card_parameters(*call) {
                    if *name == "description" {
                        continue;
                    }
                    let (params, expected) = card_case(*call, name, value, &number);
                    let answer = app.request(*call, &as_refs(&params)).await;
                    let what = format!("{} {name} of {} characters", call.name(), value.chars().count());
                    assert_card_answer(&answer, *call, expected, value, &what);
                }
            }
        }
        // A wide description with a zero amount is echoed; nothing is written.
        let answer = app.request(ApiCall::CardPaymentAdd, &[("number", &number), ("amount", "0"), ("description", &wider)]).await;
        assert_card_answer(&answer, ApiCall::CardPaymentAdd, Expect::ZeroPayment, &wider, "10 000-character description");
        assert_cards_unchanged(&app, &before).await;
    }

    /// Invalid UTF-8, percent-encoded and raw, in every parameter of every card call.
    async fn invalid_utf8_in_the_card_calls_changes_nothing(app) {
        let (before, number) = seeded_for_cards(&app).await;
        for (call, path) in CARD_PATHS {
            for target in ["u", "p", "hash"].iter().chain(card_parameters(call)) {
                let params = match *target {
                    "u" | "p" | "hash" => card_base(call, &number),
                    name => card_case(call, name, "1", &number).0,
                };
                let signed = signed_call(call, &as_refs(&params), USER, PASSWORD, KEY);
                let body: String = signed
                    .iter()
                    .map(|(name, value)| {
                        let value = if name == target { "%FF%FE".to_owned() } else { encode(value) };
                        format!("{name}={value}")
                    })
                    .collect::<Vec<_>>()
                    .join("&");
                // Signed over `1`: the filters refuse it (the sale's number is not hashed).
                let expect = match *target {
                    "u" | "p" => Expect::Error("Bad login"),
                    "number" if call == ApiCall::CardFromGroupSell => Expect::Error("Free cards was not found"),
                    _ => Expect::Error("Incorrect hash"),
                };
                let what = format!("{path} {target}");
                let answer = post_raw_to(&app, path, "application/x-www-form-urlencoded", body.clone().into_bytes()).await;
                assert_card_answer(&answer, call, expect, "", &what);
                let raw: Vec<u8> = body.replace("%FF%FE", "\u{1}").into_bytes().into_iter().map(|b| if b == 1 { 0xFF } else { b }).collect();
                assert_card_answer(&post_raw_to(&app, path, "application/x-www-form-urlencoded", raw).await, call, expect, "", &what);
                let answer = app.send(app.client().get(app.url(&format!("{path}?{body}")))).await;
                assert_card_answer(&answer, call, expect, "", &what);
            }
            // Signed over what the server decodes (U+FFFD), so the call itself sees it.
            for name in card_parameters(call) {
                let (params, expected) = card_case(call, name, "\u{FFFD}\u{FFFD}", &number);
                let body = form_bytes(&signed_call(call, &as_refs(&params), USER, PASSWORD, KEY));
                let body = String::from_utf8(body).unwrap().replace("%EF%BF%BD%EF%BF%BD", "%FF%FE");
                let answer = post_raw_to(&app, path, "application/x-www-form-urlencoded", body.into_bytes()).await;
                assert_card_answer(&answer, call, expected, "\u{FFFD}\u{FFFD}", &format!("{path} {name} decoded"));
            }
        }
        assert_cards_unchanged(&app, &before).await;
    }

    /// A 1 MB parameter: 413 in a form or JSON body, refused by the HTTP layer or answered
    /// with an error in a query string; just under the body limit, an ordinary refusal.
    async fn megabyte_parameters_in_the_card_calls_are_refused(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let megabyte = "9".repeat(1 << 20);
        for (call, path) in CARD_PATHS {
            for name in ["u", "hash"].iter().chain(card_parameters(call)) {
                let mut params = signed_call(call, &as_refs(&card_base(call, &number)), USER, PASSWORD, KEY);
                params.push((name.to_string(), megabyte.clone()));
                assert_eq!(app.post_form(path, &params).await.status, 413, "{path} {name} of 1 MB in the body");
                assert_eq!(post_json_to(&app, path, &params).await.status, 413, "{path} {name} of 1 MB in JSON");
            }
            let mut params = signed_call(call, &as_refs(&card_base(call, &number)), USER, PASSWORD, KEY);
            params.push(("number".into(), megabyte.clone()));
            if let Ok(response) = app.client().get(app.url(path)).query(&params).send().await {
                let status = response.status().as_u16();
                assert!((400..500).contains(&status) || status == 200, "{path}: 1 MB in the query: HTTP {status}");
                if status == 200 {
                    let body = response.text().await.unwrap();
                    let root = checks::parse_xml(&body).unwrap();
                    assert!(root.text_at(&["error"]).or(root.text_at(&["status", "error"])).is_some_and(is_spec_error), "{body}");
                }
            }
            // Just under the 64 KiB body limit, in each parameter the call reads.
            let wide = "9".repeat(60_000);
            for name in card_parameters(call) {
                let (params, expected) = card_case(call, name, &wide, &number);
                let answer = app.request_at(path, call, &as_refs(&params)).await;
                assert_card_answer(&answer, call, expected, &wide, &format!("{path} {name} of 60 kB"));
            }
        }
        assert_cards_unchanged(&app, &before).await;
    }

    /// 10 000 parameters in one body or query string, and the same name 10 000 times (the
    /// last one wins).
    async fn ten_thousand_parameters_in_the_card_calls_change_nothing(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let junk: Vec<(String, String)> = (0..10_000).map(|index| (short_name(index), String::new())).collect();
        for (call, path) in CARD_PATHS {
            let (params, expected) = match call {
                ApiCall::CardPaymentAdd => card_case(call, "amount", "-1", &number),
                _ => card_case(call, card_parameters(call)[0], "x", &number),
            };
            let mut all = junk.clone();
            all.extend(signed_call(call, &as_refs(&params), USER, PASSWORD, KEY));
            let answer = post_raw_to(&app, path, "application/x-www-form-urlencoded", form_bytes(&all)).await;
            assert_card_answer(&answer, call, expected, "", path);
            assert_card_answer(&app.get(path, &all).await, call, expected, "", path);
            let mut repeated: Vec<(String, String)> = (0..10_000).map(|_| ("u".to_owned(), "x".to_owned())).collect();
            repeated.extend(signed_call(call, &as_refs(&params), USER, PASSWORD, KEY));
            let answer = post_raw_to(&app, path, "application/x-www-form-urlencoded", form_bytes(&repeated)).await;
            assert_card_answer(&answer, call, expected, "", path);
        }
        assert_cards_unchanged(&app, &before).await;
    }

    /// Repeated parameters: a second value appended after signing fails the hash; the body
    /// beats the query string.
    async fn duplicated_parameters_in_the_card_calls_change_nothing(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let pay = ApiCall::CardPaymentAdd;
        let mut params = signed_call(pay, &[("number", &number), ("amount", "0")], USER, PASSWORD, KEY);
        params.push(("amount".into(), "500".into()));
        assert_card_answer(&app.post_form("/api/card_payment_add", &params).await, pay, Expect::Error("Incorrect hash"), "", "second amount");
        let mut params = vec![("amount".to_owned(), "5".to_owned())];
        params.extend(signed_call(pay, &[("number", &number), ("amount", "-5")], USER, PASSWORD, KEY));
        assert_card_answer(&app.post_form("/api/card_payment_add", &params).await, pay, Expect::Error("Invalid amount"), "", "signed second amount");
        let sell = ApiCall::CardFromGroupSell;
        let mut params = signed_call(sell, &[("id", "1")], USER, PASSWORD, KEY);
        params.push(("id".into(), SALE_GROUP.into()));
        assert_card_answer(&app.post_form("/api/card_from_group_sell", &params).await, sell, Expect::Error("Incorrect hash"), "", "second id");
        // The query string cannot override the body's number or group.
        let signed = signed_call(pay, &[("number", "0000000000"), ("amount", "5")], USER, PASSWORD, KEY);
        let url = app.url(&format!("/api/card_payment_add?number={number}&number={number}"));
        assert_card_answer(&app.send(app.client().post(url).form(&signed)).await, pay, Expect::Error("Calling Card was not found"), "", "query vs body");
        let signed = signed_call(sell, &[("id", "1")], USER, PASSWORD, KEY);
        let url = app.url(&format!("/api/card_from_group_sell?id={SALE_GROUP}&number={ON_SALE}"));
        let answer = app.send(app.client().post(url).form(&signed)).await;
        assert_card_answer(&answer, sell, Expect::Error("Free cards was not found"), "", "query vs body");
        // Duplicated JSON members: the last one wins.
        let mut body = String::from("{");
        for (name, value) in signed_call(pay, &[("number", &number), ("amount", "5")], USER, PASSWORD, KEY) {
            body.push_str(&format!("\"{name}\":\"{value}\","));
        }
        body.push_str("\"amount\":\"500\"}");
        let answer = post_raw_to(&app, "/api/card_payment_add", "application/json", body.into_bytes()).await;
        assert_card_answer(&answer, pay, Expect::Error("Incorrect hash"), "", "JSON duplicate");
        assert_cards_unchanged(&app, &before).await;
    }

    /// Bodies that are not JSON objects, and bodies of other content types, carry no
    /// parameters: `Bad login` on every card path.
    async fn malformed_bodies_on_the_card_paths_change_nothing(app) {
        let (before, number) = seeded_for_cards(&app).await;
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        for (call, path) in CARD_PATHS {
            for body in ["", "{", "null", "42", "[{\"u\": \"admin\"}]", "{\"u\": [\"admin\"], \"p\": {\"x\": \"adminpass\"}}", "{\"u\": \"adm\\ud800in\"}", deep.as_str()] {
                let answer = post_raw_to(&app, path, "application/json", body.as_bytes().to_vec()).await;
                assert_card_answer(&answer, call, Expect::Error("Bad login"), "", &format!("{path} {}", body.get(..30).unwrap_or(body)));
            }
            let form = form_bytes(&signed_call(call, &as_refs(&card_base(call, &number)), USER, PASSWORD, KEY));
            for content_type in ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/octet-stream", "application/json", ""] {
                let answer = post_raw_to(&app, path, content_type, form.clone()).await;
                assert_card_answer(&answer, call, Expect::Error("Bad login"), "", &format!("{path} {content_type}"));
            }
        }
        assert_cards_unchanged(&app, &before).await;
    }

    /// Other methods answer 405 on every card path; broken HTTP is refused with a 4xx.
    async fn unknown_methods_and_broken_http_on_the_card_paths(app) {
        let (before, number) = seeded_for_cards(&app).await;
        for (call, path) in CARD_PATHS {
            let form = signed_call(call, &as_refs(&card_base(call, &number)), USER, PASSWORD, KEY);
            for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "FOO"] {
                let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                let answer = app.send(app.client().request(method.clone(), app.url(path)).form(&form)).await;
                assert_eq!(answer.status, 405, "{method} {path}");
            }
            let garbage = format!("POST {path} HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nu=adm");
            if let Some((status, _)) = raw_http(&app, garbage.as_bytes()) {
                assert!((400..500).contains(&status), "{path}: HTTP {status}");
            }
        }
        assert_cards_unchanged(&app, &before).await;
    }
}
