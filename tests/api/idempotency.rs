//! Idempotency keys (`Idempotency-Key` header or `idempotency_key` parameter): a request that
//! changed money or cards, sent again with its key, applies once and gets the first reply byte
//! for byte, however many copies, from however many instances, and after a restart.

use morcc_adapters::admin::{self, CardSpec};
use morcc_domain::{settings, ApiCall, CardNumber, Holder, Money, OwnerId, UserType};

use crate::procs::{Morcc, MorccOptions, TempDir, UrlDatabase};
use crate::support::*;

const HEADER: &str = "Idempotency-Key";
const KEY_REUSED: &str = "Idempotency key was used with other parameters";

/// POSTs a signed cc_by_cli request as the admin to the instance at `base`, with `key` in the
/// header.
async fn top_up_at(app: &TestApp, base: &str, key: &str, amount: &str) -> Answer {
    let form = app.signed(&[("callerid", "4444"), ("amount", amount)]);
    let request = app
        .client()
        .post(format!("{base}/api/cc_by_cli"))
        .header(HEADER, key)
        .form(&form);
    app.send(request).await
}

/// A sold card bound to 4444 with 10 on it, through the API (so its opening is a payment).
async fn card_of_4444(app: &TestApp) -> morcc_domain::Card {
    app.call(&[
        ("callerid", "4444"),
        ("amount", "10"),
        ("cardgroup_id", &app.group.to_string()),
    ])
    .await;
    app.card("4444").expect("a card for 4444")
}

fn payments_of(app: &TestApp, card: &morcc_domain::Card) -> usize {
    admin::payments_for(&app.db, Holder::Card(card.id))
        .unwrap()
        .len()
}

scenarios! {
    /// 100 copies of one top-up at once through two instances: one credit, one payments row,
    /// and every copy answered with the same body.
    async fn a_top_up_sent_100_times_at_once_through_two_instances_credits_once(app) {
        let card = card_of_4444(&app).await;
        let other = app.another_instance(uncached());
        let bases = [app.address.clone(), other];
        let copies = (0..100).map(|copy| top_up_at(&app, &bases[copy % 2], "refill-1", "2.5"));
        let answers = futures_util_join(copies).await;
        let first = &answers[0];
        assert_eq!(first.status, 200);
        assert!(first.body.contains("<balance>12.5000</balance>"), "{}", first.body);
        for answer in &answers {
            assert_eq!((answer.status, &answer.body), (200, &first.body));
        }
        let after = app.card("4444").unwrap();
        assert_eq!(after.balance, money("12.5"));
        assert_eq!(payments_of(&app, &card), 2);
        assert_eq!(app.payments_sum(Holder::Card(card.id)), after.balance);
    }

    /// The same key with another amount is refused with HTTP 422 and changes nothing.
    async fn the_same_key_with_other_parameters_is_refused(app) {
        card_of_4444(&app).await;
        let base = app.address.clone();
        let first = top_up_at(&app, &base, "refill-2", "1").await;
        assert_eq!(first.status, 200);
        let other = top_up_at(&app, &base, "refill-2", "2").await;
        assert_eq!(other.status, 422);
        assert_eq!(
            other.body,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<status>\n  <error>{KEY_REUSED}</error>\n</status>\n")
        );
        assert_eq!(app.card("4444").unwrap().balance, money("11"));
        // The first parameters still get the first reply.
        assert_eq!(top_up_at(&app, &base, "refill-2", "1").await.body, first.body);
    }

    /// The `idempotency_key` parameter (not hashed) serves clients that only build URLs; the
    /// header wins over it.
    async fn the_parameter_carries_a_key_and_the_header_wins(app) {
        card_of_4444(&app).await;
        let mut form = app.signed(&[("callerid", "4444"), ("amount", "1")]);
        form.push(("idempotency_key".into(), "by-parameter".into()));
        let first = app.post_form("/api/cc_by_cli", &form).await;
        let again = app.post_form("/api/cc_by_cli", &form).await;
        assert_eq!(again.body, first.body);
        assert_eq!(app.card("4444").unwrap().balance, money("11"));
        // The header names another key: the request runs again under it.
        let request = app.client().post(app.url("/api/cc_by_cli")).header(HEADER, "by-header").form(&form);
        let by_header = app.send(request).await;
        assert!(by_header.body.contains("<balance>12.0000</balance>"), "{}", by_header.body);
    }

    /// Headers follow each copy's own `test`: the kept body, with or without the attachment.
    async fn a_replay_s_headers_follow_its_own_test_parameter(app) {
        card_of_4444(&app).await;
        let mut form = app.signed(&[("callerid", "4444"), ("amount", "1")]);
        let request = |form: &Vec<(String, String)>| app.client().post(app.url("/api/cc_by_cli")).header(HEADER, "k").form(form);
        let first = app.send(request(&form)).await;
        assert!(first.disposition.is_some());
        form.push(("test".into(), "1".into()));
        let inline = app.send(request(&form)).await;
        assert_eq!((inline.body.as_str(), inline.disposition.as_deref()), (first.body.as_str(), None));
    }

    /// Keys are per API user: another user's request with the same key runs on its own and
    /// never sees the first reply.
    async fn keys_are_per_user(app) {
        let card = card_of_4444(&app).await;
        admin::create_user(&app.db, "clerk", "pw", &UserType::Accountant, OwnerId(0), &Money::zero()).unwrap();
        let base = app.address.clone();
        let admins = top_up_at(&app, &base, "shared", "1").await;
        let form = signed_with(&[("callerid", "4444"), ("amount", "1")], "clerk", "pw", KEY);
        let request = app.client().post(app.url("/api/cc_by_cli")).header(HEADER, "shared").form(&form);
        let clerks = app.send(request).await;
        assert_ne!(clerks.body, admins.body);
        assert!(clerks.body.contains("<balance>12.0000</balance>"), "{}", clerks.body);
        assert_eq!(payments_of(&app, &card), 3);
    }

    /// An error or a look-up keeps nothing: sent again with its key, the request runs again.
    async fn errors_and_look_ups_keep_nothing(app) {
        let base = app.address.clone();
        let missing = top_up_at(&app, &base, "early", "0").await;
        missing.assert_action_error("Card was not found");
        card_of_4444(&app).await;
        let found = top_up_at(&app, &base, "early", "0").await;
        assert!(found.body.contains("<balance>10.0000</balance>"), "{}", found.body);
        let topped = top_up_at(&app, &base, "early", "1").await;
        assert!(topped.body.contains("<balance>11.0000</balance>"), "{}", topped.body);
    }

    /// A sale and a card payment, each sent twice with its key: one sale, one payment.
    async fn sales_and_card_payments_apply_once(app) {
        admin::set_setting(&app.db, settings::API_ALLOW_PAYMENTS_OVER_API, "1", OwnerId(0)).unwrap();
        for number in ["5001", "5002"] {
            admin::create_card(&app.db, &CardSpec {
                cardgroup_id: app.group, balance: money("3"), pin: None,
                number: Some(CardNumber::parse(number).unwrap()), callerid: None, sold: false,
            }).unwrap();
        }
        let group = app.group.to_string();
        let sell = signed_call(ApiCall::CardFromGroupSell, &[("id", &group)], USER, PASSWORD, KEY);
        let post = |path: &str, form: &Vec<(String, String)>, key: &str| app.client().post(app.url(path)).header(HEADER, key).form(form);
        let sold = app.send(post("/api/card_from_group_sell", &sell, "sale-1")).await;
        let again = app.send(post("/api/card_from_group_sell", &sell, "sale-1")).await;
        assert_eq!(again.body, sold.body);
        assert!(sold.body.contains("<number>5001</number>"), "{}", sold.body);
        assert_eq!(admin::orders(&app.db).unwrap().len(), 1);
        let pay = signed_call(ApiCall::CardPaymentAdd, &[("number", "5001"), ("amount", "2")], USER, PASSWORD, KEY);
        let paid = app.send(post("/api/card_payment_add", &pay, "pay-1")).await;
        let repaid = app.send(post("/api/card_payment_add", &pay, "pay-1")).await;
        assert_eq!(repaid.body, paid.body);
        let card = admin::cards_in_group(&app.db, app.group).unwrap().into_iter().find(|card| card.number.as_str() == "5001").unwrap();
        assert_eq!(card.balance, money("5"));
        assert_eq!(admin::payments_for(&app.db, Holder::Card(card.id)).unwrap().len(), 1);
    }

    /// Copies in flight of requests whose second run would fail (a sale by number, a sale that
    /// empties the group, a PIN transfer) all get the first's reply: each copy waits for the
    /// claim of the key, not only for the rows.
    async fn copies_in_flight_of_a_sale_and_a_transfer_all_get_the_first_reply(app) {
        let group = app.group.to_string();
        for number in ["6001", "6002"] {
            admin::create_card(&app.db, &CardSpec {
                cardgroup_id: app.group, balance: money("4"), pin: Some(morcc_domain::Pin::parse(&format!("9{number}")).unwrap()),
                number: Some(CardNumber::parse(number).unwrap()), callerid: None, sold: false,
            }).unwrap();
        }
        card_of_4444(&app).await;
        let other = app.another_instance(uncached());
        let bases = [app.address.clone(), other];
        type Request<'a> = (&'a str, ApiCall, Vec<(&'a str, &'a str)>);
        let requests: [Request; 3] = [
            ("by-number", ApiCall::CardFromGroupSell, vec![("id", group.as_str()), ("number", "6001")]),
            ("empties-the-group", ApiCall::CardFromGroupSell, vec![("id", group.as_str()), ("quantity", "5")]),
            ("transfer", ApiCall::CcByCli, vec![("callerid", "4444"), ("pin", "96002")]),
        ];
        for (key, call, params) in requests {
            let form = signed_call(call, &params, USER, PASSWORD, KEY);
            let path = format!("/api/{}", call.name());
            let copies = (0..20).map(|copy| {
                let request = app.client().post(format!("{}{path}", bases[copy % 2])).header(HEADER, key).form(&form);
                app.send(request)
            });
            let answers = futures_util_join(copies).await;
            assert!(!answers[0].body.contains("<error>"), "{key}: {}", answers[0].body);
            for answer in &answers {
                assert_eq!((answer.status, &answer.body), (200, &answers[0].body), "{key}");
            }
        }
        assert_eq!(admin::orders(&app.db).unwrap().len(), 2);
        let card = app.card("4444").unwrap();
        assert_eq!(card.balance, money("14"));
        assert_eq!(app.payments_sum(Holder::Card(card.id)), card.balance);
    }

    /// A cc_by_cli key reused with parameters the call would refuse is still a reused key.
    async fn a_key_reused_with_bad_input_is_refused_as_reused(app) {
        card_of_4444(&app).await;
        let base = app.address.clone();
        assert_eq!(top_up_at(&app, &base, "k-bad", "1").await.status, 200);
        let garbage = top_up_at(&app, &base, "k-bad", "abc").await;
        assert_eq!(garbage.status, 422, "{}", garbage.body);
        // Without a kept reply, bad input is answered as always.
        top_up_at(&app, &base, "k-fresh", "abc").await.assert_action_error("Invalid amount");
    }

    /// Keys that are not UTF-8 are refused, so two of them never read alike.
    async fn keys_that_are_not_utf_8_are_refused(app) {
        card_of_4444(&app).await;
        let form = app.signed(&[("callerid", "4444"), ("amount", "1")]);
        for raw in [&b"ord\xff"[..], &b"ord\xfe"[..]] {
            let value = reqwest::header::HeaderValue::from_bytes(raw).unwrap();
            let request = app.client().post(app.url("/api/cc_by_cli")).header(HEADER, value).form(&form);
            let refused = app.send(request).await;
            assert_eq!(refused.status, 400, "{}", refused.body);
        }
        let mut by_parameter = form.clone();
        by_parameter.push(("idempotency_key".into(), "ord\u{FFFD}".into()));
        assert_eq!(app.post_form("/api/cc_by_cli", &by_parameter).await.status, 400);
        assert_eq!(app.card("4444").unwrap().balance, money("10"));
    }

    /// A key no request may carry is refused with HTTP 400 before anything runs.
    async fn an_unusable_key_is_refused(app) {
        card_of_4444(&app).await;
        let base = app.address.clone();
        let refused = top_up_at(&app, &base, &"k".repeat(256), "1").await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("<error>Idempotency key is invalid</error>"), "{}", refused.body);
        assert_eq!(app.card("4444").unwrap().balance, money("10"));
    }

    /// Keys past their retention are purged; the same key then runs again.
    async fn expired_keys_are_purged(app) {
        card_of_4444(&app).await;
        let base = app.address.clone();
        top_up_at(&app, &base, "old", "1").await;
        assert_eq!(app.db.purge_idempotency_keys(std::time::Duration::from_secs(3600)).unwrap(), 0);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(app.db.purge_idempotency_keys(std::time::Duration::ZERO).unwrap(), 1);
        let again = top_up_at(&app, &base, "old", "1").await;
        assert!(again.body.contains("<balance>12.0000</balance>"), "{}", again.body);
    }
}

/// Runs the futures concurrently and collects their results in order.
async fn futures_util_join<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(pinned.len());
    let mut pending: Vec<_> = pinned.into_iter().enumerate().collect();
    let mut done: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|context| {
        pending.retain_mut(|(index, future)| match future.as_mut().poll(context) {
            std::task::Poll::Ready(output) => {
                done[*index] = Some(output);
                false
            }
            std::task::Poll::Pending => true,
        });
        if pending.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    outputs.extend(
        done.into_iter()
            .map(|output| output.expect("every future finished")),
    );
    outputs
}

/// A restart between a request and its copy: the copy gets the kept reply from the database.
async fn a_replay_after_a_restart_gets_the_kept_reply(database: UrlDatabase) {
    let db = &database.db;
    let group = seed_api(db).unwrap();
    let logs = TempDir::new("morcc-idempotency");
    let group = group.to_string();
    let form = signed_with(
        &[
            ("callerid", "4444"),
            ("amount", "7"),
            ("cardgroup_id", &group),
        ],
        USER,
        PASSWORD,
        KEY,
    );
    let send = |morcc: &Morcc| {
        reqwest::Client::new()
            .post(morcc.url("/api/cc_by_cli"))
            .header(HEADER, "sale-4444")
            .form(&form)
            .send()
    };
    let first = Morcc::spawn(&database.url, logs.path(), "first", MorccOptions::default());
    let sold = send(&first).await.unwrap().text().await.unwrap();
    drop(first);
    let second = Morcc::spawn(
        &database.url,
        logs.path(),
        "second",
        MorccOptions::default(),
    );
    let replayed = send(&second).await.unwrap().text().await.unwrap();
    assert_eq!(replayed, sold);
    let cards = admin::cards_in_group(
        db,
        group.parse::<i64>().map(morcc_domain::CardGroupId).unwrap(),
    )
    .unwrap();
    assert_eq!(cards.len(), 1, "one card sold");
    assert_eq!(cards[0].balance, money("7"));
}

#[actix_web::test]
async fn a_replay_after_a_restart_gets_the_kept_reply_on_sqlite() {
    a_replay_after_a_restart_gets_the_kept_reply(UrlDatabase::sqlite()).await;
}

#[cfg(feature = "mysql")]
#[actix_web::test]
async fn a_replay_after_a_restart_gets_the_kept_reply_on_mysql() {
    let server =
        crate::procs::MysqlServer::from_env().expect("MORCC_TEST_MYSQL_URL names a server");
    a_replay_after_a_restart_gets_the_kept_reply(UrlDatabase::mysql(&server).unwrap()).await;
}
