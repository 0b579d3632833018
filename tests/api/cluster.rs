//! Scale-out on a real cluster: three morcc processes, each on another node of a three-node
//! MariaDB Galera cluster, under the load of `load.rs` (hot cards, top-ups with unique amounts,
//! look-ups, moves, PIN transfers), first with every node up, then with one node SIGKILLed
//! mid-load and restarted. No certification conflict reaches a client, the instances on the
//! surviving nodes keep serving, the one on the dead node fails fast and serves again after
//! the restart without being restarted itself, and afterwards every node holds the same rows
//! with the ledger exact and every acknowledged top-up applied exactly once.

use std::time::{Duration, Instant};

use crate::checks::{self, Outcome};
use crate::galera::GaleraCluster;
use crate::load::{self, Plan, Record, PIN_BALANCE_ZERO};
use crate::procs::{Morcc, MorccOptions, TempDir, UrlDatabase};
use crate::support::{signed_call, signed_with, KEY, PASSWORD, USER};
use morcc_adapters::admin;
use morcc_domain::{settings, ApiCall, CardNumber, Holder, Money, OwnerId};

/// 24 clients x 60 requests: 1 440 requests a phase.
const CLIENTS: usize = 24;
const REQUESTS: usize = 60;
/// The node (and the morcc instance on it) that is killed in the second phase.
const VICTIM: usize = 2;
const TRANSACTION_FAILED: &str = "Failed to make transaction";

#[actix_web::test]
async fn three_instances_on_a_galera_cluster_lose_nothing_when_a_node_dies() {
    let cluster = GaleraCluster::start()
        .expect("a three-node Galera cluster (.ci/run installs galera-4 and rsync)");
    let database = UrlDatabase::mysql(cluster.server(0)).expect("a database on the cluster");
    let fixture = load::seed(&database.db);
    let views: Vec<UrlDatabase> = (0..3)
        .map(|node| database.view_on(cluster.server(node)))
        .collect();
    let logs = TempDir::new("morcc-cluster");
    let options = MorccOptions {
        workers: 2,
        pool_size: 8,
        pool_timeout_secs: 10,
    };
    let instances: Vec<Morcc> = views
        .iter()
        .enumerate()
        .map(|(node, view)| Morcc::spawn(&view.url, logs.path(), &format!("node{node}"), options))
        .collect();
    let targets: Vec<String> = instances
        .iter()
        .map(|morcc| morcc.address.clone())
        .collect();
    let logs_of = || {
        instances
            .iter()
            .enumerate()
            .map(|(node, morcc)| format!("--- morcc on node {node}:\n{}", morcc.log()))
            .collect::<Vec<_>>()
            .join("\n")
    };

    // Phase 1: every node up. Every reply is ok or the one refusal the load can meet.
    let plan = Plan::new(CLIENTS, REQUESTS, targets.clone());
    let started = Instant::now();
    let mut records = load::run(&fixture, &plan).await;
    let first = started.elapsed();
    assert_eq!(records.len(), CLIENTS * REQUESTS);
    let refused = unexpected(&records, |_| false);
    assert!(
        refused.is_empty(),
        "phase 1: {:?}\n{}",
        sample(&refused),
        logs_of()
    );
    let audit = load::assert_ledger(&database, &fixture, &records);
    load::report("cluster, all nodes up", &records, first, &audit);

    // Causal reads: a top-up acknowledged through one instance is seen at once through the
    // others (their nodes may not have applied it yet without `wsrep_sync_wait`).
    for (index, callerid) in fixture.card_clis.iter().enumerate() {
        let amount = format!("0.{:04}", 1 + index);
        let topped_up = card_balance(&instances[index % 3], callerid, &amount).await;
        for other in 1..3 {
            let seen = card_balance(&instances[(index + other) % 3], callerid, "0").await;
            assert_eq!(
                seen, topped_up,
                "{callerid}: a look-up through another node"
            );
        }
    }

    // Phase 2: the victim node is killed mid-load and restarted after a few seconds.
    let plan = Plan {
        first_client: CLIENTS,
        ..Plan::new(CLIENTS, REQUESTS, targets.clone())
    };
    let chaos = std::thread::spawn(move || {
        let mut cluster = cluster;
        std::thread::sleep(Duration::from_millis(1500));
        cluster.kill(VICTIM);
        let killed = Instant::now();
        std::thread::sleep(Duration::from_secs(5));
        cluster.restart(VICTIM);
        (cluster, killed, Instant::now())
    });
    let started = Instant::now();
    let second = load::run(&fixture, &plan).await;
    let duration = started.elapsed();
    let (cluster, killed, restarted) = chaos.join().expect("the node was killed and restarted");
    eprintln!(
        "[cluster, a node killed] killed at {:.1} s, restarted and synced at {:.1} s; per 5 s:\n{}",
        killed.duration_since(started).as_secs_f64(),
        restarted.duration_since(started).as_secs_f64(),
        timeline(&second, started)
    );
    assert_eq!(second.len(), CLIENTS * REQUESTS);

    // The survivors' instances answered everything; only the victim's may fail, and fast.
    let refused = unexpected(&second, |record| {
        record.target == VICTIM && record.label() == TRANSACTION_FAILED
    });
    assert!(
        refused.is_empty(),
        "phase 2: {:?}\n{}",
        sample(&refused),
        logs_of()
    );
    let survivors_stall = second
        .iter()
        .filter(|record| record.target != VICTIM)
        .map(|record| record.elapsed)
        .max()
        .unwrap_or_default();
    let victim_failures: Vec<Duration> = second
        .iter()
        .filter(|record| record.target == VICTIM && record.label() == TRANSACTION_FAILED)
        .map(|record| record.elapsed)
        .collect();
    let slowest_failure = victim_failures.iter().max().copied().unwrap_or_default();
    assert!(
        slowest_failure < Duration::from_secs(5),
        "the instance on the dead node answered a failure after {slowest_failure:?}"
    );

    // The victim's instance serves again, without a restart of its own: during the load when
    // the restart came early enough, else when asked afterwards.
    let first_ok_after_restart = second
        .iter()
        .filter(|record| record.target == VICTIM && record.is_ok() && record.started > restarted)
        .map(Record::finished)
        .min();
    let back = match first_ok_after_restart {
        Some(back) => back,
        None => serves_again(&instances[VICTIM], &fixture.card_clis[0]).await,
    };
    let mut survivors: Vec<Duration> = second
        .iter()
        .filter(|record| record.target != VICTIM)
        .map(|record| record.elapsed)
        .collect();
    survivors.sort();
    let survivors_p99 = survivors[survivors.len() * 99 / 100];
    assert!(
        survivors_p99 < Duration::from_secs(5),
        "the survivors' instances slowed down for good: p99 {survivors_p99:?}\n{}",
        timeline(&second, started)
    );
    records.extend(second.iter().cloned());
    cluster
        .wait_synced(Duration::from_secs(60))
        .expect("the cluster is synced again");

    // Every node: the same rows, the ledger exact, every acknowledged top-up once.
    let audit = load::assert_ledger(&database, &fixture, &records);
    let whole = database
        .whole_ledger()
        .expect("the mariadb client reads the whole ledger");
    for (node, view) in views.iter().enumerate() {
        let seen = load::assert_ledger(view, &fixture, &records);
        assert_eq!(
            seen.amounts, audit.amounts,
            "node {node}: other payments than node 0"
        );
        assert_eq!(
            seen.balances_sum, audit.balances_sum,
            "node {node}: other balances"
        );
        assert_eq!(
            view.whole_ledger(),
            Some(whole.clone()),
            "node {node}: other rows"
        );
    }
    load::report("cluster, a node killed", &second, duration, &audit);
    eprintln!(
        "[cluster, a node killed] killed {:.1} s into the phase, restarted and synced {:.1} s \
         later; the survivors' instances: p99 {} ms, longest {} ms; the dead node's instance \
         failed {} requests, slowest after {} ms, and served again {:.1} s after the restart",
        killed.duration_since(started).as_secs_f64(),
        restarted.duration_since(killed).as_secs_f64(),
        survivors_p99.as_millis(),
        survivors_stall.as_millis(),
        victim_failures.len(),
        slowest_failure.as_millis(),
        back.saturating_duration_since(restarted).as_secs_f64(),
    );
    for node in 0..3 {
        let status = |variable| cluster.status(node, variable).unwrap_or_default();
        eprintln!(
            "[cluster] node {node}: certification failures {}, transactions aborted for \
             replicated ones {}, flow control paused {:.1} s",
            status("wsrep_local_cert_failures"),
            status("wsrep_local_bf_aborts"),
            status("wsrep_flow_control_paused_ns")
                .parse::<f64>()
                .unwrap_or_default()
                / 1e9,
        );
    }
    let killed_sessions: Vec<String> = instances
        .iter()
        .flat_map(|morcc| {
            morcc
                .log()
                .lines()
                .filter(|line| line.contains("outlived its deadline"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    eprintln!(
        "[cluster] sessions killed by the watchdog over both phases: {}\n{}",
        killed_sessions.len(),
        killed_sessions.join("\n")
    );

    // Phase 3: the card calls through every instance at once: every card sold once, every
    // acknowledged card payment applied once, the same rows on every node.
    sales_and_payments_through_every_node(&database, &instances).await;
    cluster
        .wait_synced(Duration::from_secs(60))
        .expect("the cluster is synced after the card calls");
    let whole = database.whole_ledger().expect("the whole ledger");
    for (node, view) in views.iter().enumerate() {
        assert_eq!(
            view.whole_ledger(),
            Some(whole.clone()),
            "node {node}: other rows after the card calls"
        );
    }

    // The database is dropped through node 0 while the cluster still runs.
    drop(views);
    drop(database);
    drop(cluster);
}

/// Free cards of one group sold by clients of all three instances until none is left, then
/// card payments on a few hot cards through all three: each card sold exactly once, each
/// acknowledged payment in exactly one payments row, each balance its opening plus its rows.
async fn sales_and_payments_through_every_node(database: &UrlDatabase, instances: &[Morcc]) {
    const CARDS: usize = 90;
    const HOT_CARDS: usize = 4;
    let db = &database.db;
    let group = admin::create_card_group(
        db,
        &admin::CardGroupSpec {
            name: "stock".into(),
            ..Default::default()
        },
    )
    .unwrap();
    for index in 0..CARDS {
        admin::create_card(
            db,
            &admin::CardSpec {
                cardgroup_id: group,
                balance: Money::parse_stored("10").unwrap(),
                pin: None,
                number: Some(CardNumber::parse(&format!("77{index:08}")).unwrap()),
                callerid: None,
                sold: false,
            },
        )
        .unwrap();
    }
    admin::set_setting(db, settings::API_ALLOW_PAYMENTS_OVER_API, "1", OwnerId(0)).unwrap();
    let group_id = group.to_string();
    let clients = instances
        .iter()
        .flat_map(|morcc| std::iter::repeat_n(morcc.url(""), 6));
    let buyers = clients.enumerate().map(|(client, base)| {
        let group_id = group_id.clone();
        async move {
            let http = reqwest::Client::new();
            let mut bought = Vec::new();
            loop {
                let quantity = (1 + client % 3).to_string();
                let form = signed_call(
                    ApiCall::CardFromGroupSell,
                    &[("id", &group_id), ("quantity", &quantity)],
                    USER,
                    PASSWORD,
                    KEY,
                );
                let body = post(&http, &base, "/api/card_from_group_sell", &form).await;
                if body.contains("<error>Free cards was not found</error>") {
                    return bought;
                }
                let numbers = elements(&body, "number");
                assert!(!numbers.is_empty(), "a sale answered {body}");
                bought.extend(numbers);
            }
        }
    });
    let mut sold: Vec<String> = futures_join(buyers).await.into_iter().flatten().collect();
    sold.sort();
    let expected: Vec<String> = (0..CARDS).map(|index| format!("77{index:08}")).collect();
    assert_eq!(sold, expected, "every card sold exactly once");
    assert_eq!(
        admin::orders(db)
            .unwrap()
            .iter()
            .map(|order| order.lines.len())
            .sum::<usize>(),
        CARDS
    );

    let hot: Vec<String> = expected.iter().take(HOT_CARDS).cloned().collect();
    let clients = instances
        .iter()
        .flat_map(|morcc| std::iter::repeat_n(morcc.url(""), 6));
    let payers = clients.enumerate().map(|(client, base)| {
        let hot = hot.clone();
        async move {
            let http = reqwest::Client::new();
            let mut paid = Vec::new();
            for request in 0..10 {
                let number = &hot[(client + request) % hot.len()];
                // Unique amounts: each acknowledged payment is found again by its gross.
                let amount = format!("0.{:03}{:03}", client + 1, request + 1);
                let form = signed_call(
                    ApiCall::CardPaymentAdd,
                    &[("number", number), ("amount", &amount)],
                    USER,
                    PASSWORD,
                    KEY,
                );
                let body = post(&http, &base, "/api/card_payment_add", &form).await;
                if body.contains("Calling Card balance successfully updated") {
                    paid.push((number.clone(), amount));
                } else {
                    assert!(
                        body.contains("Failed to make transaction"),
                        "a payment answered {body}"
                    );
                }
            }
            paid
        }
    });
    let paid: Vec<(String, String)> = futures_join(payers).await.into_iter().flatten().collect();
    assert!(
        paid.len() >= 18 * 10 * 9 / 10,
        "most payments acknowledged: {}",
        paid.len()
    );
    for card in admin::cards_in_group(db, group)
        .unwrap()
        .iter()
        .filter(|card| hot.contains(&card.number.as_str().to_owned()))
    {
        let rows = admin::payments_for(db, Holder::Card(card.id)).unwrap();
        let mut acknowledged: Vec<Money> = paid
            .iter()
            .filter(|(number, _)| number == card.number.as_str())
            .map(|(_, amount)| Money::parse_stored(amount).unwrap())
            .collect();
        let mut recorded: Vec<Money> = rows.iter().map(|row| row.gross.clone()).collect();
        acknowledged.sort();
        recorded.sort();
        assert_eq!(
            recorded,
            acknowledged,
            "card {}: each acknowledged payment once",
            card.number.as_str()
        );
        let total = rows
            .iter()
            .fold(Money::parse_stored("10").unwrap(), |sum, row| {
                &sum + &row.amount
            });
        assert_eq!(
            card.balance,
            total,
            "card {}: opening plus its payments",
            card.number.as_str()
        );
    }
}

async fn post(http: &reqwest::Client, base: &str, path: &str, form: &[(String, String)]) -> String {
    http.post(format!("{base}{path}"))
        .form(form)
        .send()
        .await
        .expect("a reply")
        .text()
        .await
        .expect("a body")
}

/// The texts of every `<name>` element of a reply.
fn elements(body: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    body.split(open.as_str())
        .skip(1)
        .filter_map(|rest| {
            rest.split_once(close.as_str())
                .map(|(text, _)| text.to_owned())
        })
        .collect()
}

/// Runs the futures concurrently on this thread and collects their results in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + 'static,
    F::Output: 'static,
{
    let handles: Vec<_> = futures.map(actix_web::rt::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("a client task"));
    }
    outputs
}

/// Per 5 s of the phase and per instance: replies finished, of them not ok, the slowest.
fn timeline(records: &[Record], started: Instant) -> String {
    let mut windows: std::collections::BTreeMap<(u64, usize), (usize, usize, Duration)> =
        std::collections::BTreeMap::new();
    for record in records {
        let window = record.finished().duration_since(started).as_secs() / 5 * 5;
        let entry = windows.entry((window, record.target)).or_default();
        entry.0 += 1;
        entry.1 += usize::from(!record.is_ok() && record.label() != PIN_BALANCE_ZERO);
        entry.2 = entry.2.max(record.elapsed);
    }
    windows
        .iter()
        .map(|((window, target), (replies, failed, slowest))| {
            format!(
                "  {window:>3} s, node {target}: {replies} replies, {failed} failed, slowest {} ms",
                slowest.as_millis()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The records whose reply is neither ok nor `PIN number balance is zero`, unless `allowed`.
fn unexpected(records: &[Record], allowed: impl Fn(&Record) -> bool) -> Vec<&Record> {
    records
        .iter()
        .filter(|record| !(record.is_ok() || record.label() == PIN_BALANCE_ZERO || allowed(record)))
        .collect()
}

fn sample<'r>(records: &[&'r Record]) -> Vec<&'r Record> {
    records.iter().take(5).copied().collect()
}

/// Tops up (or, with `0`, looks up) the card of `callerid` through `morcc`; its new balance.
async fn card_balance(morcc: &Morcc, callerid: &str, amount: &str) -> String {
    let form = signed_with(
        &[("callerid", callerid), ("amount", amount)],
        USER,
        PASSWORD,
        KEY,
    );
    let body = reqwest::Client::new()
        .post(morcc.url("/api/cc_by_cli"))
        .form(&form)
        .send()
        .await
        .expect("a reply")
        .text()
        .await
        .expect("a body");
    match checks::classify(&body) {
        Ok(Outcome::Ok(response)) => response
            .child("card")
            .and_then(|card| card.text_at(&["balance"]))
            .expect("a card with a balance")
            .to_owned(),
        other => panic!("{callerid} {amount}: {other:?}"),
    }
}

/// Waits until `morcc` answers a look-up with ok again; when it did.
async fn serves_again(morcc: &Morcc, callerid: &str) -> Instant {
    let http = reqwest::Client::new();
    let form = signed_with(&[("callerid", callerid)], USER, PASSWORD, KEY);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = http
            .post(morcc.url("/api/cc_by_cli"))
            .form(&form)
            .send()
            .await;
        if let Ok(response) = answer {
            let body = response.text().await.unwrap_or_default();
            if matches!(checks::classify(&body), Ok(Outcome::Ok(_))) {
                return Instant::now();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the instance on the restarted node does not serve again:\n{}",
            morcc.log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}
