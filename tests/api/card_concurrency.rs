//! card_calls.md §1 and §3 under concurrency: concurrent sales from one group never sell a
//! card twice, and concurrent `card_payment_add` and `cc_by_cli` top-ups of the same cards
//! keep every card's balance equal to its opening plus its payments rows.

use std::collections::{BTreeMap, BTreeSet};

use crate::checks::parse_xml;
use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{settings, ApiCall, CardId, Holder, Money, OwnerId};

const SALE_CLIENTS: usize = 16;
const CARDS_ON_SALE: usize = 40;
const PAYMENT_CLIENTS: usize = 16;
const REQUESTS_PER_CLIENT: usize = 16;
const BOUND_CARDS: usize = 4;
const RACED_CARDS: usize = 30;
const RACERS: usize = 8;

/// Posts a form and returns the body (every reply must be HTTP 200).
async fn post(client: &reqwest::Client, url: &str, form: &[(String, String)]) -> String {
    let response = client.post(url).form(form).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.text().await.unwrap()
}

/// The numbers a sale answered, or `None` for `Free cards was not found`; panics on anything
/// else.
fn sale_outcome(body: &str) -> Option<Vec<String>> {
    if body == card_error("Free cards was not found") {
        return None;
    }
    let root = parse_xml(body).unwrap_or_else(|error| panic!("{error}"));
    let cards = root
        .child("cards")
        .unwrap_or_else(|| panic!("neither a sale nor `Free cards was not found`: {body}"));
    Some(
        cards
            .children
            .iter()
            .map(|card| card.text_at(&["number"]).unwrap().to_owned())
            .collect(),
    )
}

/// A request a payment client will send: by number (`card_payment_add`) or by caller ID
/// (`cc_by_cli`), the number or caller ID, the description, and the signed form.
type Planned = (bool, String, String, Vec<(String, String)>);

/// What one payment client was answered.
#[derive(Debug, Default)]
struct Acknowledged {
    /// `card_payment_add` successes: (number, description, current, net, new balance).
    payments: Vec<(String, String, Money, Money, Money)>,
    /// `cc_by_cli` successes, by caller ID.
    top_ups: Vec<String>,
}

scenarios! {
    /// 16 clients buy 1 or 2 cards at a time from a group of 40 until none are free: every
    /// card is sold exactly once, to one request, and recorded once.
    async fn concurrent_buyers_never_share_a_card(app) {
        for index in 0..CARDS_ON_SALE {
            add_card(&app, app.group, &format!("66600000{index:02}"), "3");
        }
        let url = app.url("/api/card_from_group_sell");
        let mut clients = Vec::new();
        for client in 0..SALE_CLIENTS {
            let quantity = if client % 2 == 0 { "1" } else { "2" };
            let form = signed_call(ApiCall::CardFromGroupSell, &[("id", "1"), ("quantity", quantity)], USER, PASSWORD, KEY);
            let (http, url) = (app.client().clone(), url.clone());
            clients.push(actix_web::rt::spawn(async move {
                let mut bought: Vec<Vec<String>> = Vec::new();
                while let Some(cards) = sale_outcome(&post(&http, &url, &form).await) {
                    assert!(!cards.is_empty() && cards.len() <= 2, "{cards:?}");
                    bought.push(cards);
                }
                bought
            }));
        }
        let mut sales: Vec<Vec<String>> = Vec::new();
        for client in clients {
            sales.extend(client.await.unwrap());
        }
        // A buyer may have been told none were free while the last ones were locked by sales
        // in flight that then failed; whatever is still free is sold now, one at a time.
        let drain = signed_call(ApiCall::CardFromGroupSell, &[("id", "1")], USER, PASSWORD, KEY);
        let mut drained = 0;
        while let Some(cards) = sale_outcome(&post(app.client(), &url, &drain).await) {
            drained += cards.len();
            sales.push(cards);
        }
        let sold: Vec<String> = sales.iter().flatten().cloned().collect();
        let distinct: BTreeSet<&String> = sold.iter().collect();
        assert_eq!(sold.len(), CARDS_ON_SALE, "cards answered (drained afterwards: {drained})");
        assert_eq!(distinct.len(), CARDS_ON_SALE, "a card was sold twice");
        let cards = admin::cards_in_group(&app.db, app.group).unwrap();
        assert!(cards.iter().all(|card| card.sold && card.active && card.balance == money("3")));
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!(orders.len(), sales.len(), "one order per successful request");
        let lines: Vec<CardId> = orders.iter().flat_map(|order| order.lines.iter().map(|line| line.0)).collect();
        assert_eq!(lines.len(), CARDS_ON_SALE);
        assert_eq!(lines.iter().collect::<BTreeSet<_>>().len(), CARDS_ON_SALE);
        for order in &orders {
            let sum = order.lines.iter().fold(Money::zero(), |sum, line| &sum + &line.3);
            assert_eq!(order.amount, sum);
        }
        assert_eq!(admin::actions_named(&app.db, "card_sell_over_api").unwrap().len(), CARDS_ON_SALE);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
        eprintln!("concurrent sales: {} requests sold {} cards, {drained} drained afterwards", sales.len(), sold.len());
    }

    /// 16 clients mix `card_payment_add` (by number) and `cc_by_cli` top-ups (by caller ID)
    /// on the same four cards: every acknowledged payment has exactly one row, and every card's
    /// balance is its opening plus its payments.
    async fn concurrent_payments_and_top_ups_keep_the_ledger(app) {
        admin::set_setting(&app.db, settings::API_ALLOW_PAYMENTS_OVER_API, "1", OwnerId(0)).unwrap();
        let vat = add_tax(&app, &["21"], false);
        admin::set_card_group_tax(&app.db, app.group, Some(vat)).unwrap();
        let opening = money("1.5");
        let mut cards = Vec::new();
        for index in 0..BOUND_CARDS {
            let number = format!("77700000{index:02}");
            let cli = format!("37060000{index:03}");
            let id = add_card_with(&app, app.group, &number, None, "1.5", true, Some(cli.as_str()));
            cards.push((id, number, cli));
        }
        let payment_url = app.url("/api/card_payment_add");
        let top_up_url = app.url("/api/cc_by_cli");
        let amounts = ["1", "0.5", "2.25", "0.01", "12.1"];
        let mut clients = Vec::new();
        for client in 0..PAYMENT_CLIENTS {
            let mut requests: Vec<Planned> = Vec::new();
            for round in 0..REQUESTS_PER_CLIENT {
                let (_, number, cli) = &cards[(client + round) % BOUND_CARDS];
                let amount = amounts[(client * 7 + round) % amounts.len()];
                if (client + round) % 2 == 0 {
                    let description = format!("c{client}-r{round}");
                    let form = signed_call(ApiCall::CardPaymentAdd, &[("number", number), ("amount", amount), ("description", &description)], USER, PASSWORD, KEY);
                    requests.push((true, number.clone(), description, form));
                } else {
                    let form = signed_with(&[("callerid", cli), ("amount", amount)], USER, PASSWORD, KEY);
                    requests.push((false, cli.clone(), String::new(), form));
                }
            }
            let (http, payment_url, top_up_url) = (app.client().clone(), payment_url.clone(), top_up_url.clone());
            clients.push(actix_web::rt::spawn(async move {
                let mut acknowledged = Acknowledged::default();
                for (by_number, key, description, form) in requests {
                    if by_number {
                        let body = post(&http, &payment_url, &form).await;
                        let root = parse_xml(&body).unwrap_or_else(|error| panic!("{error}"));
                        let details = |name: &str| {
                            root.text_at(&["add_payment", "details", name])
                                .map(money)
                                .unwrap_or_else(|| panic!("not a payment: {body}"))
                        };
                        acknowledged.payments.push((key, description, details("current_balance"), details("amount_without_tax"), details("new_balance")));
                    } else {
                        let body = post(&http, &top_up_url, &form).await;
                        let root = parse_xml(&body).unwrap_or_else(|error| panic!("{error}"));
                        assert_eq!(root.text_at(&["response", "status"]), Some("ok"), "{body}");
                        acknowledged.top_ups.push(key);
                    }
                }
                acknowledged
            }));
        }
        let mut payments = Vec::new();
        let mut top_ups: BTreeMap<String, usize> = BTreeMap::new();
        for client in clients {
            let acknowledged = client.await.unwrap();
            payments.extend(acknowledged.payments);
            for cli in acknowledged.top_ups {
                *top_ups.entry(cli).or_default() += 1;
            }
        }
        assert_eq!(payments.len() + top_ups.values().sum::<usize>(), PAYMENT_CLIENTS * REQUESTS_PER_CLIENT);
        for (id, number, cli) in &cards {
            let card = admin::card(&app.db, *id).unwrap().unwrap();
            let rows = admin::payments_for(&app.db, Holder::Card(*id)).unwrap();
            // The ledger.
            let sum = rows.iter().fold(Money::zero(), |sum, row| &sum + &row.amount);
            assert_eq!(card.balance, &opening + &sum, "card {number}");
            // Every acknowledged payment has exactly one row, with its net amount.
            let mine: Vec<_> = payments.iter().filter(|payment| &payment.0 == number).collect();
            for (_, description, current, net, new) in &mine {
                let matching: Vec<_> = rows.iter().filter(|row| &row.description == description).collect();
                assert_eq!(matching.len(), 1, "payment {description}");
                assert_eq!(&matching[0].amount, net);
                assert_eq!(&(current + net), new, "payment {description}");
            }
            // No two payments saw the same balance before them (no lost update).
            let befores: BTreeSet<&Money> = mine.iter().map(|payment| &payment.2).collect();
            assert_eq!(befores.len(), mine.len(), "card {number}: two payments read one balance");
            // The other rows are the acknowledged cc_by_cli top-ups.
            assert_eq!(rows.len(), mine.len() + top_ups.get(cli).copied().unwrap_or(0), "card {number}");
        }
        assert_eq!(admin::payments_count(&app.db).unwrap() as usize, PAYMENT_CLIENTS * REQUESTS_PER_CLIENT);
    }

    /// Sales and cc_by_cli PIN activations race for the same unsold cards: each card goes to
    /// exactly one of them (a card the sale took cannot be activated, and the reverse), and
    /// each is recorded by exactly one line item.
    async fn sales_and_pin_activations_never_share_a_card(app) {
        let mut pins = Vec::new();
        for index in 0..RACED_CARDS {
            let pin = format!("5{index:05}");
            add_card_with(&app, app.group, &format!("88800000{index:02}"), Some(&pin), "2", false, None);
            pins.push(pin);
        }
        let sale_url = app.url("/api/card_from_group_sell");
        let cli_url = app.url("/api/cc_by_cli");
        let mut sellers = Vec::new();
        for _ in 0..RACERS {
            let form = signed_call(ApiCall::CardFromGroupSell, &[("id", "1")], USER, PASSWORD, KEY);
            let (http, url) = (app.client().clone(), sale_url.clone());
            sellers.push(actix_web::rt::spawn(async move {
                let mut bought = Vec::new();
                while let Some(cards) = sale_outcome(&post(&http, &url, &form).await) {
                    bought.extend(cards);
                }
                bought
            }));
        }
        let mut activators = Vec::new();
        for client in 0..RACERS {
            let attempts: Vec<(String, Vec<(String, String)>)> = (0..RACED_CARDS)
                .map(|step| {
                    let pin = &pins[(client * 4 + step) % RACED_CARDS];
                    let cli = format!("3707{client:02}{step:03}");
                    let form = signed_with(&[("callerid", &cli), ("pin", pin)], USER, PASSWORD, KEY);
                    (cli, form)
                })
                .collect();
            let (http, url) = (app.client().clone(), cli_url.clone());
            activators.push(actix_web::rt::spawn(async move {
                let mut activated = Vec::new();
                for (cli, form) in attempts {
                    let body = post(&http, &url, &form).await;
                    if body == action_error("Cannot sell already sold card") {
                        continue;
                    }
                    let root = parse_xml(&body).unwrap_or_else(|error| panic!("{error}"));
                    assert_eq!(root.text_at(&["response", "status"]), Some("ok"), "{body}");
                    let number = root.text_at(&["response", "card", "number"]).unwrap().to_owned();
                    activated.push((cli, number));
                }
                activated
            }));
        }
        let mut sold: Vec<String> = Vec::new();
        for seller in sellers {
            sold.extend(seller.await.unwrap());
        }
        let mut activated: Vec<(String, String)> = Vec::new();
        for activator in activators {
            activated.extend(activator.await.unwrap());
        }
        // What in-flight sales had locked when a buyer looked, sold now.
        let drain = signed_call(ApiCall::CardFromGroupSell, &[("id", "1")], USER, PASSWORD, KEY);
        while let Some(cards) = sale_outcome(&post(app.client(), &sale_url, &drain).await) {
            sold.extend(cards);
        }
        let sold_set: BTreeSet<&String> = sold.iter().collect();
        let activated_set: BTreeSet<&String> = activated.iter().map(|(_, number)| number).collect();
        assert_eq!(sold_set.len(), sold.len(), "a card was sold twice");
        assert_eq!(activated_set.len(), activated.len(), "a card was activated twice");
        assert!(sold_set.is_disjoint(&activated_set), "a card was both sold and activated");
        assert_eq!(sold.len() + activated.len(), RACED_CARDS);
        for (cli, number) in &activated {
            let card = app.card(cli).unwrap_or_else(|| panic!("{cli} holds no card"));
            assert_eq!(card.number.as_str(), number);
            assert!(card.sold && card.active);
        }
        let cards = admin::cards_in_group(&app.db, app.group).unwrap();
        for card in &cards {
            assert!(card.sold, "{} unsold", card.number.as_str());
            assert_eq!(card.callerid.is_some(), activated_set.contains(&card.number.as_str().to_owned()), "{}", card.number.as_str());
            assert_eq!(card.balance, money("2"));
        }
        let lines: Vec<CardId> = admin::orders(&app.db).unwrap().iter().flat_map(|order| order.lines.iter().map(|line| line.0)).collect();
        assert_eq!(lines.len(), RACED_CARDS);
        assert_eq!(lines.iter().collect::<BTreeSet<_>>().len(), RACED_CARDS);
        assert_eq!(admin::actions_named(&app.db, "card_sell_over_api").unwrap().len(), RACED_CARDS);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
        eprintln!("race: {} sold, {} activated", sold.len(), activated.len());
    }
}
