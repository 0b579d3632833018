//! Load: many concurrent clients mixing every kind of request on a small shared set of cards
//! and devices, through two morcc processes on one database. Afterwards no money is lost or
//! invented, every reply is a well-formed MOR reply, and no lost race reached a client.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use morcc_adapters::{admin, Database};
use morcc_domain::{CallerId, CardGroupId, CardId, Money, OwnerId, UserId, UserType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::checks::{self, Outcome};
use crate::procs::{Morcc, MorccOptions, TempDir, UrlDatabase};
use crate::support::{signed_with, KEY, PASSWORD, USER};

/// The one refusal the load can meet: its transfers may find a card with nothing on it.
pub const PIN_BALANCE_ZERO: &str = "PIN number balance is zero";

/// The shared set the clients fight over.
pub const CARDS: usize = 20;
pub const DEVICES: usize = 5;
/// Unsold cards with money on them that each client keeps to itself, per card group, as the
/// PINs of its transfers.
pub const VOUCHERS_PER_GROUP: usize = 8;
pub const VOUCHER_CLIENTS: usize = 32;
const VOUCHER_BALANCE: &str = "5";

/// What the load runs against: two card groups, 20 sold cards bound to caller IDs (ten in
/// each group), five customers with a device each, all at zero; and for each client its own
/// unsold vouchers worth 5.00 (an opening balance, which writes no payment).
///
/// The PIN of a transfer is always one of the client's own vouchers, never the card of another
/// caller ID: a cross-group transfer gives the caller ID to the PIN's card, and taking a card
/// that is bound to another caller ID would leave that caller ID with no card (see
/// docs/RELIABILITY.md, findings). So every caller ID keeps a card throughout.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub groups: [CardGroupId; 2],
    pub card_clis: Vec<String>,
    pub device_clis: Vec<String>,
    pub users: Vec<UserId>,
    pub openings: BTreeMap<CardId, Money>,
    vouchers: Vec<Vec<(String, i64)>>,
    group_of: HashMap<String, i64>,
}

pub fn seed(db: &Database) -> Fixture {
    let admin_id = crate::support::seed_admin(db).unwrap();
    let groups = ["Load A", "Load B"].map(|name| {
        admin::create_card_group(
            db,
            &admin::CardGroupSpec {
                name: name.into(),
                ..Default::default()
            },
        )
        .unwrap()
    });
    let mut fixture = Fixture {
        groups,
        card_clis: Vec::new(),
        device_clis: Vec::new(),
        users: vec![admin_id],
        openings: BTreeMap::new(),
        vouchers: vec![Vec::new(); VOUCHER_CLIENTS],
        group_of: HashMap::new(),
    };
    for index in 0..CARDS {
        let cli = format!("3706{index:07}");
        let group = groups[index % 2];
        let id = admin::create_card(
            db,
            &admin::CardSpec {
                cardgroup_id: group,
                balance: Money::zero(),
                pin: None,
                number: None,
                callerid: Some(CallerId::parse(&cli).unwrap()),
                sold: true,
            },
        )
        .unwrap();
        assert!(admin::card(db, id).unwrap().is_some());
        fixture.group_of.insert(cli.clone(), group.0);
        fixture.card_clis.push(cli);
    }
    let voucher_balance = Money::parse_amount(VOUCHER_BALANCE).unwrap();
    for client in 0..VOUCHER_CLIENTS {
        for index in 0..2 * VOUCHERS_PER_GROUP {
            let group = groups[index % 2];
            let id = admin::create_card(
                db,
                &admin::CardSpec {
                    cardgroup_id: group,
                    balance: voucher_balance.clone(),
                    pin: None,
                    number: None,
                    callerid: None,
                    sold: false,
                },
            )
            .unwrap();
            let card = admin::card(db, id).unwrap().unwrap();
            fixture.openings.insert(id, voucher_balance.clone());
            fixture.vouchers[client].push((card.pin.expose().to_owned(), group.0));
        }
    }
    for index in 0..DEVICES {
        let user = admin::create_user(
            db,
            &format!("customer{index}"),
            "customer-password",
            &UserType::User,
            OwnerId(0),
            &Money::zero(),
        )
        .unwrap();
        let cli = format!("3707{index:07}");
        admin::create_device(
            db,
            &format!("phone{index}"),
            user.0,
            &CallerId::parse(&cli).unwrap(),
        )
        .unwrap();
        fixture.users.push(user);
        fixture.device_clis.push(cli);
    }
    fixture
}

/// What each client does.
#[derive(Debug, Clone)]
pub struct Plan {
    pub clients: usize,
    pub requests_per_client: usize,
    /// Base addresses of the morcc instances; each client alternates between them.
    pub targets: Vec<String>,
    /// Set to stop the clients before they have sent all their requests.
    pub stop: Arc<AtomicBool>,
    /// A pause between two requests of a client.
    pub pause: Duration,
    /// Offsets the client numbers (and so the unique amounts) of a second run on the same data.
    pub first_client: usize,
    /// Whether caller IDs move between groups (group moves and transfers across groups); when
    /// not, those requests are card top-ups and transfers within the group.
    pub moves: bool,
}

impl Plan {
    pub fn new(clients: usize, requests_per_client: usize, targets: Vec<String>) -> Plan {
        Plan {
            clients,
            requests_per_client,
            targets,
            stop: Arc::new(AtomicBool::new(false)),
            pause: Duration::ZERO,
            first_client: 0,
            moves: true,
        }
    }
}

/// One request and what came of it.
#[derive(Debug, Clone)]
pub struct Record {
    pub op: &'static str,
    pub target: usize,
    pub started: Instant,
    pub elapsed: Duration,
    /// The amount a top-up (of a card, a user or a moved card) added, when it succeeded.
    pub top_up: Option<Money>,
    pub result: Result<Outcome, String>,
}

impl Record {
    pub fn label(&self) -> String {
        match &self.result {
            Ok(outcome) => outcome.label(),
            Err(error) => format!("broken: {}", error.chars().take(60).collect::<String>()),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self.result, Ok(Outcome::Ok(_)))
    }

    pub fn finished(&self) -> Instant {
        self.started + self.elapsed
    }
}

/// What the clients learn as they go: the group of each caller ID's card.
struct Shared {
    fixture: Fixture,
    group_of: Mutex<HashMap<String, i64>>,
}

/// Runs the plan's clients concurrently; every record, in no particular order.
pub async fn run(fixture: &Fixture, plan: &Plan) -> Vec<Record> {
    let shared = Arc::new(Shared {
        fixture: fixture.clone(),
        group_of: Mutex::new(fixture.group_of.clone()),
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        // Retire idle connections well before the server's 5 s keep-alive: a request sent on
        // a connection the server is closing at that moment gets a 408 or a reset.
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let handles: Vec<_> = (0..plan.clients)
        .map(|client| {
            let (shared, plan, http) = (shared.clone(), plan.clone(), http.clone());
            actix_web::rt::spawn(async move {
                client_loop(plan.first_client + client, &shared, &plan, &http).await
            })
        })
        .collect();
    let mut records = Vec::new();
    for handle in handles {
        records.extend(handle.await.expect("a client task"));
    }
    records
}

async fn client_loop(
    client: usize,
    shared: &Shared,
    plan: &Plan,
    http: &reqwest::Client,
) -> Vec<Record> {
    let mut rng = StdRng::seed_from_u64(0x6d6f_7263 + client as u64);
    let mut vouchers = shared.fixture.vouchers[client % VOUCHER_CLIENTS].clone();
    let mut records = Vec::with_capacity(plan.requests_per_client);
    for index in 0..plan.requests_per_client {
        if plan.stop.load(Ordering::Relaxed) {
            break;
        }
        let (op, params, amount, voucher) =
            next_request(&mut rng, shared, &vouchers, client, index, plan.moves);
        let target = (client + index) % plan.targets.len();
        let pairs: Vec<(&str, &str)> = params.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let mut form = signed_with(&pairs, USER, PASSWORD, KEY);
        form.push(("test".into(), "1".into()));
        let started = Instant::now();
        let sent = http
            .post(format!("{}/api/cc_by_cli", plan.targets[target]))
            .form(&form)
            .send()
            .await;
        let result = match sent {
            Err(error) => Err(format!("transport: {error}")),
            Ok(response) => {
                let status = response.status().as_u16();
                match response.text().await {
                    Err(error) => Err(format!("transport: {error}")),
                    Ok(body) if status != 200 => Err(format!("HTTP {status}: {body:?}")),
                    Ok(body) => checks::classify(&body),
                }
            }
        };
        let elapsed = started.elapsed();
        if let Ok(Outcome::Ok(response)) = &result {
            learn(shared, response);
            // A voucher that gave its money or took a caller ID is not a voucher any more.
            if let Some(spent) = voucher {
                vouchers.remove(spent);
            }
        }
        let top_up = amount.filter(|_| matches!(result, Ok(Outcome::Ok(_))));
        records.push(Record {
            op,
            target,
            started,
            elapsed,
            top_up,
            result,
        });
        if !plan.pause.is_zero() {
            actix_web::rt::time::sleep(plan.pause).await;
        }
    }
    records
}

/// Remembers the group of the card a reply shows.
fn learn(shared: &Shared, response: &checks::Element) {
    let Some(card) = response.child("card") else {
        return;
    };
    let (Some(cli), Some(group)) = (
        card.text_at(&["callerid"]),
        card.text_at(&["cardgroup_id"])
            .and_then(|id| id.parse().ok()),
    ) else {
        return;
    };
    shared
        .group_of
        .lock()
        .unwrap()
        .insert(cli.to_owned(), group);
}

type Params = Vec<(&'static str, String)>;

/// The next request of a client: top-ups of cards and users, look-ups, PIN transfers within a
/// group, across groups and to a user, and moves to the other group. Amounts are unique per
/// (client, request), so each acknowledged top-up can be found in the ledger afterwards.
/// Returns the index of the voucher a PIN transfer spends, if it succeeds.
fn next_request(
    rng: &mut StdRng,
    shared: &Shared,
    vouchers: &[(String, i64)],
    client: usize,
    index: usize,
    moves: bool,
) -> (&'static str, Params, Option<Money>, Option<usize>) {
    let fixture = &shared.fixture;
    let amount = format!("{}.{:07}", 1 + index % 9, client * 10_000 + index);
    let money = Some(Money::parse_amount(&amount).unwrap());
    let card_cli = fixture.card_clis[rng.random_range(0..fixture.card_clis.len())].clone();
    let device_cli = fixture.device_clis[rng.random_range(0..fixture.device_clis.len())].clone();
    let group = shared
        .group_of
        .lock()
        .unwrap()
        .get(&card_cli)
        .copied()
        .unwrap_or(fixture.groups[0].0);
    let other_group = if group == fixture.groups[0].0 {
        fixture.groups[1].0
    } else {
        fixture.groups[0].0
    };
    let voucher_in = |wanted: Option<i64>| {
        vouchers
            .iter()
            .position(|(_, group)| wanted.is_none_or(|wanted| *group == wanted))
    };
    let roll = match rng.random_range(0..100) {
        // Without moves: transfers within the group, top-ups instead of group moves.
        67..75 if !moves => 55,
        82.. if !moves => 0,
        roll => roll,
    };
    let look_up = |cli: String| {
        (
            "card look-up",
            vec![("callerid", cli), ("amount", "0".into())],
            None,
            None,
        )
    };
    match roll {
        0..30 => (
            "card top-up",
            vec![("callerid", card_cli), ("amount", amount)],
            money,
            None,
        ),
        30..42 => (
            "user top-up",
            vec![("callerid", device_cli), ("amount", amount)],
            money,
            None,
        ),
        42..50 => look_up(card_cli),
        50..55 => ("user look-up", vec![("callerid", device_cli)], None, None),
        55..67 => match voucher_in(Some(group)) {
            Some(spent) => (
                "PIN transfer, same group",
                vec![("callerid", card_cli), ("pin", vouchers[spent].0.clone())],
                None,
                Some(spent),
            ),
            None => look_up(card_cli),
        },
        67..75 => match voucher_in(Some(other_group)) {
            Some(spent) => (
                "PIN transfer, across groups",
                vec![("callerid", card_cli), ("pin", vouchers[spent].0.clone())],
                None,
                Some(spent),
            ),
            None => look_up(card_cli),
        },
        75..82 => match voucher_in(None) {
            Some(spent) => (
                "PIN transfer to a user",
                vec![("callerid", device_cli), ("pin", vouchers[spent].0.clone())],
                None,
                Some(spent),
            ),
            None => ("user look-up", vec![("callerid", device_cli)], None, None),
        },
        _ => (
            "group move",
            vec![
                ("callerid", card_cli),
                ("amount", amount),
                ("cardgroup_id", other_group.to_string()),
            ],
            money,
            None,
        ),
    }
}

/// Replies by outcome, and by kind of request.
pub fn tally(records: &[Record]) -> (BTreeMap<String, usize>, BTreeMap<&'static str, usize>) {
    let mut outcomes = BTreeMap::new();
    let mut ops = BTreeMap::new();
    for record in records {
        *outcomes.entry(record.label()).or_default() += 1;
        *ops.entry(record.op).or_default() += 1;
    }
    (outcomes, ops)
}

/// Checks the ledger after a run: every balance equals its payments (per card and user, and
/// over the whole database when a command-line client can read it), and every acknowledged
/// top-up is there. Returns the audit for the figures.
pub fn assert_ledger(
    database: &UrlDatabase,
    fixture: &Fixture,
    records: &[Record],
) -> checks::Audit {
    let audit = checks::audit(
        &database.db,
        &fixture.groups,
        &fixture.users,
        &fixture.openings,
    );
    match database.whole_ledger() {
        Some(whole) => {
            assert_eq!(
                whole.payments, audit.payments,
                "payments rows no card or user owns"
            );
            assert_eq!(whole.cards, audit.cards, "cards outside the load's groups");
            assert_eq!(whole.payments_sum, audit.payments_sum);
            assert_eq!(
                whole.balances_sum,
                &whole.payments_sum + &audit.openings_sum,
                "all balances must add up to all payments (and the vouchers' openings)"
            );
        }
        None => {
            eprintln!("no command-line client for the whole-database sums; per-holder audit only")
        }
    }
    // Amounts are unique per request: each acknowledged top-up is in exactly one top-up row
    // (none lost, none applied twice by a retry).
    let mut not_once = Vec::new();
    for amount in records.iter().filter_map(|record| record.top_up.as_ref()) {
        let rows = audit.top_ups.get(amount).copied().unwrap_or(0);
        if rows != 1 {
            not_once.push((amount.clone(), rows));
        }
    }
    assert!(
        not_once.is_empty(),
        "acknowledged top-ups not in exactly one payments row (amount, rows): {not_once:?}"
    );
    audit
}

/// Prints the figures of a run (they go into docs/RELIABILITY.md).
pub fn report(name: &str, records: &[Record], duration: Duration, audit: &checks::Audit) {
    let (outcomes, ops) = tally(records);
    let slowest = records
        .iter()
        .map(|record| record.elapsed)
        .max()
        .unwrap_or_default();
    eprintln!(
        "[{name}] {} requests in {:.1} s ({:.0}/s), slowest {} ms\n  by outcome: {outcomes:?}\n  by kind: {ops:?}\n  \
         ledger: {} cards, {} users, {} payments rows, balances {:?} == openings {:?} + payments {:?}",
        records.len(),
        duration.as_secs_f64(),
        records.len() as f64 / duration.as_secs_f64(),
        slowest.as_millis(),
        audit.cards,
        audit.users,
        audit.payments,
        audit.balances_sum,
        audit.openings_sum,
        audit.payments_sum,
    );
}

/// The load through two morcc processes on one database: HTTP 200 and a well-formed MOR reply
/// with a spec text every time, every acknowledged top-up in the ledger, and every balance
/// equal to its payments; and no lost race reached a client (the only refusal is
/// `PIN number balance is zero`).
async fn two_instances(name: &str, database: UrlDatabase, clients: usize, requests: usize) {
    let fixture = seed(&database.db);
    let logs = TempDir::new("morcc-load");
    let options = MorccOptions {
        workers: 2,
        pool_size: 8,
        pool_timeout_secs: 10,
    };
    let instances = [
        Morcc::spawn(&database.url, logs.path(), "one", options),
        Morcc::spawn(&database.url, logs.path(), "two", options),
    ];
    let plan = Plan::new(
        clients,
        requests,
        instances
            .iter()
            .map(|morcc| morcc.address.clone())
            .collect(),
    );
    let started = Instant::now();
    let records = run(&fixture, &plan).await;
    let duration = started.elapsed();
    assert_eq!(records.len(), clients * requests);
    // Every caller ID keeps a card, and every voucher is the client's own: the only refusal
    // possible is a transfer from a card with nothing on it.
    let broken: Vec<&Record> = records
        .iter()
        .filter(|record| record.result.is_err())
        .collect();
    assert!(
        broken.is_empty(),
        "not a MOR reply over HTTP 200: {broken:?}"
    );
    let lost_races: Vec<&Record> = records
        .iter()
        .filter(|record| !record.is_ok() && record.label() != PIN_BALANCE_ZERO)
        .collect();
    assert!(
        lost_races.is_empty(),
        "{} replies were neither ok nor {PIN_BALANCE_ZERO:?}, e.g. {:?}\nlog one: {}\nlog two: {}",
        lost_races.len(),
        lost_races.iter().take(5).collect::<Vec<_>>(),
        instances[0].log(),
        instances[1].log(),
    );
    for target in 0..2 {
        assert!(records
            .iter()
            .any(|record| record.target == target && record.is_ok()));
    }
    let audit = assert_ledger(&database, &fixture, &records);
    report(name, &records, duration, &audit);
}

/// 32 clients x 100 requests through two morcc processes on one MySQL database.
#[cfg(feature = "mysql")]
#[actix_web::test]
async fn two_instances_on_mysql_conserve_money() {
    let server = crate::procs::MysqlServer::from_env().expect("a MySQL server");
    let database = UrlDatabase::mysql(&server).expect("a scratch database");
    two_instances("load mysql", database, 32, 100).await;
}

/// The same mix, smaller, through two morcc processes on one SQLite file.
#[actix_web::test]
async fn two_instances_on_sqlite_conserve_money() {
    two_instances("load sqlite", UrlDatabase::sqlite(), 8, 50).await;
}

/// Concurrent first sales to one new caller ID on MySQL: under READ COMMITTED each may find no
/// card, and the losers meet the unique key on `cards.callerid`. That is a lost race: the
/// whole request runs again and tops up the card the winner created (DECISIONS: a caller ID
/// taken meanwhile). 20 rounds of 8 at once: every request succeeds, every card holds 8.
#[cfg(feature = "mysql")]
#[actix_web::test]
async fn concurrent_sales_to_one_new_caller_id_all_succeed() {
    let app = Arc::new(crate::support::TestApp::mysql().await);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for round in 0..20 {
        let cli = format!("99000{round}");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (app, cli) = (app.clone(), cli.clone());
                actix_web::rt::spawn(async move {
                    let params = [
                        ("callerid", cli.as_str()),
                        ("amount", "1"),
                        ("cardgroup_id", "1"),
                    ];
                    app.call(&params).await.body
                })
            })
            .collect();
        count_outcomes(handles, &mut outcomes).await;
        let card = app.card(&cli).expect("a card was sold");
        assert_eq!(
            card.balance,
            Money::parse_amount("8").unwrap(),
            "round {round}: {outcomes:?}"
        );
    }
    assert_eq!(outcomes.get("ok"), Some(&160), "{outcomes:?}");
}

/// A phone's card moved back and forth between two groups by several requests at once while
/// others top it up. A top-up whose locking read waited for a move can find the caller ID on
/// no card, and its second read can meet the next move in flight: that read does not wait
/// but loses the race, and the request runs again (ledger.rs, `card_by_cli_after_waiting`).
/// 20 rounds of 16 at once: every request finds the card, which holds every top-up.
#[cfg(feature = "mysql")]
#[actix_web::test]
async fn concurrent_moves_and_top_ups_of_one_phone_all_find_its_card() {
    let app = Arc::new(crate::support::TestApp::mysql().await);
    let spec = admin::CardGroupSpec {
        name: "Group two".into(),
        ..Default::default()
    };
    let groups = [app.group, admin::create_card_group(&app.db, &spec).unwrap()];
    let cli = "990777";
    let first = groups[0].to_string();
    let opened = app
        .call(&[("callerid", cli), ("amount", "1"), ("cardgroup_id", &first)])
        .await;
    assert_eq!(checks::classify(&opened.body).unwrap().label(), "ok");
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for round in 0..20 {
        let handles: Vec<_> = (0..16)
            .map(|request| {
                let app = app.clone();
                // Even requests move the card to the group the round and the request name,
                // odd ones top it up where it is.
                let group = (request % 2 == 0).then(|| groups[(round + request / 2) % 2]);
                actix_web::rt::spawn(async move {
                    let group = group.map(|group| group.to_string());
                    let mut params = vec![("callerid", cli), ("amount", "1")];
                    if let Some(group) = &group {
                        params.push(("cardgroup_id", group.as_str()));
                    }
                    app.call(&params).await.body
                })
            })
            .collect();
        count_outcomes(handles, &mut outcomes).await;
    }
    assert_eq!(outcomes.get("ok"), Some(&320), "{outcomes:?}");
    let card = app.card(cli).expect("the phone's card");
    assert_eq!(card.balance, Money::parse_amount("321").unwrap());
}

/// Counts the replies of `requests` by outcome into `outcomes`.
#[cfg(feature = "mysql")]
async fn count_outcomes(
    requests: Vec<actix_web::rt::task::JoinHandle<String>>,
    outcomes: &mut BTreeMap<String, usize>,
) {
    for request in requests {
        let body = request.await.unwrap();
        *outcomes
            .entry(checks::classify(&body).unwrap().label())
            .or_default() += 1;
    }
}
