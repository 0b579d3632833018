//! card_calls.md §3: `card_from_group_sell` (alias `buy_card_from_callingroup`) sells PIN
//! cards of a group; and the sales `cc_by_cli` makes when it activates a PIN.

use crate::checks::parse_xml;
use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{
    ApiCall, BigDecimal, CardGroupId, CardId, CardNumber, Holder, Money, OwnerId, UserType,
};

const CALL: ApiCall = ApiCall::CardFromGroupSell;
const SOLD_OVER_API: &str = "card_sell_over_api";

/// A card of a sale's reply: PIN, number, balance and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Sold {
    pin: String,
    number: String,
    balance: String,
    currency: String,
}

/// The cards a successful sale answered, in order; panics on anything else.
#[track_caller]
fn sold(answer: &Answer) -> Vec<Sold> {
    assert_eq!(answer.status, 200);
    let root = parse_xml(&answer.body).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(root.name, "page", "{}", answer.body);
    assert_eq!(root.children.len(), 1, "{}", answer.body);
    let cards = root
        .child("cards")
        .unwrap_or_else(|| panic!("not a sale: {}", answer.body));
    cards
        .children
        .iter()
        .map(|card| {
            assert_eq!(card.name, "card");
            let names: Vec<&str> = card
                .children
                .iter()
                .map(|child| child.name.as_str())
                .collect();
            assert_eq!(names, ["pin", "number", "balance_without_vat", "currency"]);
            let text = |name: &str| card.text_at(&[name]).unwrap().to_owned();
            Sold {
                pin: text("pin"),
                number: text("number"),
                balance: text("balance_without_vat"),
                currency: text("currency"),
            }
        })
        .collect()
}

fn numbers(sold: &[Sold]) -> Vec<String> {
    sold.iter().map(|card| card.number.clone()).collect()
}

/// The golden reply of a sale of these (pin, number, balance) cards, in USD.
fn sale_reply(cards: &[(&str, &str, &str)]) -> String {
    let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <cards>\n");
    for (pin, number, balance) in cards {
        body.push_str(&format!(
            "    <card>\n      <pin>{pin}</pin>\n      <number>{number}</number>\n      <balance_without_vat>{balance}</balance_without_vat>\n      <currency>USD</currency>\n    </card>\n"
        ));
    }
    body.push_str("  </cards>\n</page>\n");
    body
}

/// The parameters with the hash given, not computed.
fn with_hash(params: &[(&str, &str)], hash: &str) -> Vec<(String, String)> {
    [("u", USER), ("p", PASSWORD)]
        .iter()
        .chain(params)
        .chain([("hash", hash)].iter())
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

fn group(app: &TestApp, name: &str, owner: OwnerId) -> CardGroupId {
    let spec = admin::CardGroupSpec {
        name: name.into(),
        owner_id: owner,
        ..Default::default()
    };
    admin::create_card_group(&app.db, &spec).unwrap()
}

/// Nothing was sold: every card of `group` unsold, no order, no action, no payment.
#[track_caller]
fn nothing_sold(app: &TestApp, group: CardGroupId) {
    assert!(admin::cards_in_group(&app.db, group)
        .unwrap()
        .iter()
        .all(|card| !card.sold || card.callerid.is_some()));
    assert!(admin::orders(&app.db).unwrap().is_empty());
    assert!(admin::actions_named(&app.db, SOLD_OVER_API)
        .unwrap()
        .is_empty());
    assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
}

scenarios! {
    /// The spec's first hash example (email=test@test.lt, id=1, quantity=1) sells the spec's
    /// card, and records it: the card sold and active, its balance as it was, one order with
    /// one line item, one action, and no payment.
    async fn the_spec_s_sale_and_what_it_records(app) {
        let card = add_card_with(&app, app.group, "1111111006", Some("8870"), "10.084033613445378", false, None);
        let later = add_card_with(&app, app.group, "1111111007", Some("8871"), "10", false, None);
        let params = [("email", "test@test.lt"), ("id", "1"), ("quantity", "1")];
        let answer = app.post_form("/api/card_from_group_sell", &with_hash(&params, "be191f49ac6cf3004a89de3498a1275a7d15df03")).await;
        assert_eq!(answer.body, sale_reply(&[("8870", "1111111006", "10.084033613445378")]));
        let now = admin::card(&app.db, card).unwrap().unwrap();
        assert!(now.sold && now.active);
        assert_eq!(now.balance, money("10.084033613445378"));
        assert!(now.callerid.is_none());
        assert!(!admin::card(&app.db, later).unwrap().unwrap().sold);
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!(orders.len(), 1);
        let order = &orders[0];
        assert_eq!(order.ordertype, "unspecified");
        assert_eq!(order.email, "test@test.lt");
        assert_eq!(order.amount, money("10.084033613445378"));
        assert_eq!(order.currency, "USD");
        assert!(order.completed);
        assert_eq!(order.owner_id, OwnerId(0));
        assert_eq!(order.lines, vec![(card, app.group, 1, money("10.084033613445378"))]);
        assert_eq!(admin::actions_named(&app.db, SOLD_OVER_API).unwrap(), vec![(admin_id(&app), Some(card.0), "Card".to_owned())]);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
        assert!(admin::payments_for(&app.db, Holder::Card(card)).unwrap().is_empty());
    }

    /// The second example (id=3, quantity=2, no email): two cards, one order of both, with
    /// the sum of their balances and an empty e-mail.
    async fn the_spec_s_second_example_sells_two_cards(app) {
        group(&app, "Two", OwnerId(0));
        let three = group(&app, "Three", OwnerId(0));
        assert_eq!(three, CardGroupId(3));
        let first = add_card_with(&app, three, "1111111001", Some("5001"), "20", false, None);
        let second = add_card_with(&app, three, "1111111002", Some("5002"), "0.5", false, None);
        add_card_with(&app, three, "1111111003", Some("5003"), "7", false, None);
        let params = [("id", "3"), ("quantity", "2")];
        let answer = app.post_form("/api/card_from_group_sell", &with_hash(&params, "1a9ce54d9d4c3129b35270f5842430ab3345dd71")).await;
        assert_eq!(answer.body, sale_reply(&[("5001", "1111111001", "20.0"), ("5002", "1111111002", "0.5")]));
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].email, "");
        assert_eq!(orders[0].amount, money("20.5"));
        assert_eq!(orders[0].lines, vec![(first, three, 1, money("20")), (second, three, 1, money("0.5"))]);
        let actions = admin::actions_named(&app.db, SOLD_OVER_API).unwrap();
        let targets: Vec<Option<i64>> = actions.iter().map(|(_, target, _)| *target).collect();
        assert_eq!(targets, [Some(first.0), Some(second.0)]);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
    }

    /// `number` is not hashed: the spec's hash of email, id and quantity sells the card chosen
    /// by number. A wrong hash sells nothing.
    async fn the_hash_covers_email_id_and_quantity_only(app) {
        add_card(&app, app.group, "1111111006", "10");
        add_card(&app, app.group, "1111111007", "10");
        let spec_hash = "be191f49ac6cf3004a89de3498a1275a7d15df03";
        let base = [("email", "test@test.lt"), ("id", "1"), ("quantity", "1")];
        // The hash over other values, of another order, of another call, or none.
        let reordered = morcc_domain::hash::sha1_hex("11test@test.ltsecret");
        let with_number = morcc_domain::hash::sha1_hex("test@test.lt111111110071secret");
        let other_quantity = signed_call(CALL, &[("email", "test@test.lt"), ("id", "1"), ("quantity", "2")], USER, PASSWORD, KEY).pop().unwrap().1;
        for hash in [reordered.as_str(), with_number.as_str(), other_quantity.as_str(), ""] {
            app.post_form("/api/card_from_group_sell", &with_hash(&base, hash)).await.assert_filter_error("Incorrect hash");
        }
        let mut tampered = with_hash(&base, spec_hash);
        tampered[3].1 = "2".into();
        app.post_form("/api/card_from_group_sell", &tampered).await.assert_filter_error("Incorrect hash");
        nothing_sold(&app, app.group);
        // Parameters outside the hash, the chosen number among them.
        let with_number = [("email", "test@test.lt"), ("id", "1"), ("quantity", "1"), ("number", "1111111007"), ("callerid", "4444"), ("amount", "5")];
        let answer = app.post_form("/api/card_from_group_sell", &with_hash(&with_number, spec_hash)).await;
        assert_eq!(numbers(&sold(&answer)), ["1111111007"]);
    }

    /// `quantity`: plain digits of at least 1; anything else means 1; the cards go in order
    /// of number; more than there are sells those there are; then none are free.
    async fn quantity_rules_and_the_order_of_the_cards(app) {
        // Inserted out of order: the sale goes by number.
        let mut expected: Vec<String> = Vec::new();
        for index in [7, 3, 11, 0, 9, 1, 5, 10, 2, 8, 4, 6, 12, 13] {
            add_card(&app, app.group, &format!("55500000{index:02}"), "1.25");
        }
        for index in 0..14 {
            expected.push(format!("55500000{index:02}"));
        }
        let mut next = expected.iter();
        for quantity in [None, Some(""), Some("0"), Some("000"), Some("abc"), Some("-2"), Some("+2"), Some("2.0"), Some(" 2"), Some("2 "), Some("1e1")] {
            let mut params = vec![("id", "1")];
            if let Some(quantity) = quantity {
                params.push(("quantity", quantity));
            }
            let answer = app.request(CALL, &params).await;
            let cards = sold(&answer);
            assert_eq!(numbers(&cards), [next.next().unwrap().clone()], "quantity {quantity:?}");
            assert_eq!(cards[0].balance, "1.25");
            assert_eq!(cards[0].currency, "USD");
        }
        let answer = app.request(CALL, &[("id", "1"), ("quantity", "0002")]).await;
        assert_eq!(numbers(&sold(&answer)), [next.next().unwrap().clone(), next.next().unwrap().clone()]);
        // One is left; 1001 (and any number of digits) sells the one there is.
        let answer = app.request(CALL, &[("id", "1"), ("quantity", "99999999999999999999999999")]).await;
        assert_eq!(numbers(&sold(&answer)), [next.next().unwrap().clone()]);
        assert!(next.next().is_none());
        for quantity in ["1", "1001", "0"] {
            app.request(CALL, &[("id", "1"), ("quantity", quantity)]).await.assert_card_error("Free cards was not found");
        }
        // Each card sold once, each request one order.
        assert!(admin::cards_in_group(&app.db, app.group).unwrap().iter().all(|card| card.sold && card.active));
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!(orders.len(), 13);
        assert_eq!(orders.iter().map(|order| order.lines.len()).sum::<usize>(), 14);
        assert_eq!(admin::actions_named(&app.db, SOLD_OVER_API).unwrap().len(), 14);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
    }

    /// More asked than free: the request sells those there are (here 3 of 1001).
    async fn a_large_quantity_sells_those_there_are(app) {
        for index in 0..3 {
            add_card(&app, app.group, &format!("444000000{index}"), "2");
        }
        let answer = app.request(CALL, &[("id", "1"), ("quantity", "1001")]).await;
        assert_eq!(numbers(&sold(&answer)), ["4440000000", "4440000001", "4440000002"]);
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!((orders.len(), orders[0].lines.len(), &orders[0].amount), (1, 3, &money("6")));
    }

    /// Free means unsold, unhidden, without caller ID and with money on it (fix): an emptied
    /// voucher, a PIN card bound to a phone and a hidden card are not sold by quantity; by
    /// number they are not free, and a sold card is `Card is already sold`.
    async fn only_free_cards_are_sold(app) {
        let emptied = add_card(&app, app.group, "1111111000", "0");
        let bound = add_card_with(&app, app.group, "1111111001", None, "5", false, Some("37060000001"));
        let hidden = add_card(&app, app.group, "1111111002", "5");
        admin::set_card_hidden(&app.db, &CardNumber::parse("1111111002").unwrap(), true).unwrap();
        let sold_before = add_card_with(&app, app.group, "1111111003", None, "5", true, None);
        let hidden_sold = add_card_with(&app, app.group, "1111111004", None, "5", true, None);
        admin::set_card_hidden(&app.db, &CardNumber::parse("1111111004").unwrap(), true).unwrap();
        let free = add_card(&app, app.group, "1111111005", "0.000000000000001");
        // A free card of another group is not this group's.
        let other = group(&app, "Other", OwnerId(0));
        add_card(&app, other, "2222222000", "5");
        for (number, expected) in [
            ("1111111000", "Free cards was not found"),
            ("1111111001", "Free cards was not found"),
            ("1111111002", "Free cards was not found"),
            ("1111111003", "Card is already sold"),
            ("1111111004", "Free cards was not found"),
            ("2222222000", "Free cards was not found"),
            ("9999999999", "Free cards was not found"),
        ] {
            app.request(CALL, &[("id", "1"), ("number", number)]).await.assert_card_error(expected);
        }
        let answer = app.request(CALL, &[("id", "1"), ("quantity", "10")]).await;
        assert_eq!(numbers(&sold(&answer)), ["1111111005"]);
        app.request(CALL, &[("id", "1"), ("quantity", "10")]).await.assert_card_error("Free cards was not found");
        app.request(CALL, &[("id", "1"), ("number", "1111111005")]).await.assert_card_error("Card is already sold");
        for id in [emptied, bound, hidden] {
            assert!(!admin::card(&app.db, id).unwrap().unwrap().sold, "{id:?}");
        }
        for id in [sold_before, hidden_sold, free] {
            assert!(admin::card(&app.db, id).unwrap().unwrap().sold);
        }
        assert_eq!(admin::orders(&app.db).unwrap().len(), 1);
        assert_eq!(admin::actions_named(&app.db, SOLD_OVER_API).unwrap().len(), 1);
        // The other group's card is still on sale there.
        let other = other.to_string();
        assert_eq!(numbers(&sold(&app.request(CALL, &[("id", other.as_str())]).await)), ["2222222000"]);
    }

    /// A card chosen by number is matched exactly (fix: `0123` must not find `123`);
    /// `quantity` is then ignored.
    async fn a_number_is_matched_exactly(app) {
        add_card(&app, app.group, "123", "5");
        add_card(&app, app.group, "0456", "5");
        add_card(&app, app.group, "A789", "5");
        add_card(&app, app.group, "1111111000", "5");
        for number in ["0123", "00123", "123 ", " 123", "456", "0456 ", "a789", "12", "1234", "%", "12_", "123%"] {
            app.request(CALL, &[("id", "1"), ("number", number)]).await.assert_card_error("Free cards was not found");
        }
        nothing_sold(&app, app.group);
        let answer = app.request(CALL, &[("id", "1"), ("number", "123"), ("quantity", "5")]).await;
        assert_eq!(numbers(&sold(&answer)), ["123"]);
        let answer = app.request(CALL, &[("id", "1"), ("number", "0456"), ("quantity", "5")]).await;
        assert_eq!(numbers(&sold(&answer)), ["0456"]);
        let answer = app.request(CALL, &[("id", "1"), ("number", "A789")]).await;
        assert_eq!(numbers(&sold(&answer)), ["A789"]);
        // An empty number is no number: the sale goes by quantity.
        let answer = app.request(CALL, &[("id", "1"), ("number", ""), ("quantity", "3")]).await;
        assert_eq!(numbers(&sold(&answer)), ["1111111000"]);
    }

    /// The group comes first: a missing, garbage, unknown, foreign or hidden group is not
    /// found, even with a free card's number.
    async fn an_unknown_foreign_or_hidden_group_sells_nothing(app) {
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        let foreign = group(&app, "Theirs", OwnerId(reseller.0));
        add_card(&app, foreign, "3333333000", "5");
        let hidden = group(&app, "Hidden", OwnerId(0));
        add_card(&app, hidden, "4444444000", "5");
        admin::update_card_group(&app.db, hidden, &admin::CardGroupChange { hidden: Some(true), ..Default::default() }).unwrap();
        add_card(&app, app.group, "1111111000", "5");
        let (foreign_id, hidden_id) = (foreign.to_string(), hidden.to_string());
        for id in ["", "abc", "-1", "0", "999", "1.0", "99999999999999999999", foreign_id.as_str(), hidden_id.as_str()] {
            app.request(CALL, &[("id", id)]).await.assert_card_error("Cardgroup was not found");
            app.request(CALL, &[("id", id), ("number", "1111111000")]).await.assert_card_error("Cardgroup was not found");
        }
        app.request(CALL, &[("number", "1111111000")]).await.assert_card_error("Cardgroup was not found");
        app.request(CALL, &[("id", hidden_id.as_str()), ("number", "4444444000")]).await.assert_card_error("Cardgroup was not found");
        nothing_sold(&app, app.group);
        nothing_sold(&app, foreign);
        nothing_sold(&app, hidden);
        // `01` is group 1.
        assert_eq!(numbers(&sold(&app.request(CALL, &[("id", "01")]).await)), ["1111111000"]);
    }

    /// Users are refused by the filters; an accountant sells the admin's cards; a reseller its
    /// own only, recorded with its owner id; the admin cannot sell a reseller's cards.
    async fn who_may_sell_which_cards(app) {
        add_user(&app, "customer", UserType::User, OwnerId(0));
        let accountant = add_user(&app, "accountant", UserType::Accountant, OwnerId(0));
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        let own = group(&app, "Reseller group", OwnerId(reseller.0));
        let reseller_card = add_card(&app, own, "3333333000", "5");
        let admin_card = add_card(&app, app.group, "1111111000", "5");
        add_card(&app, app.group, "1111111001", "5");
        let own_id = own.to_string();
        app.request_as(CALL, &[("id", "1")], "customer", "pw", KEY).await.assert_filter_error("Access Denied");
        app.request_as(CALL, &[("id", "1"), ("number", "1111111000")], "customer", "pw", KEY).await.assert_filter_error("Access Denied");
        nothing_sold(&app, app.group);
        app.request_as(CALL, &[("id", "1")], "reseller", "pw", KEY).await.assert_card_error("Cardgroup was not found");
        app.request(CALL, &[("id", own_id.as_str())]).await.assert_card_error("Cardgroup was not found");
        app.request_as(CALL, &[("id", own_id.as_str())], "accountant", "pw", KEY).await.assert_card_error("Cardgroup was not found");
        nothing_sold(&app, own);
        let answer = app.request_as(CALL, &[("id", own_id.as_str()), ("email", "r@shop.lt")], "reseller", "pw", KEY).await;
        assert_eq!(numbers(&sold(&answer)), ["3333333000"]);
        let answer = app.request_as(CALL, &[("id", "1")], "accountant", "pw", KEY).await;
        assert_eq!(numbers(&sold(&answer)), ["1111111000"]);
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!(orders.len(), 2);
        assert_eq!((orders[0].owner_id, orders[0].email.as_str()), (OwnerId(reseller.0), "r@shop.lt"));
        assert_eq!(orders[0].lines, vec![(reseller_card, own, 1, money("5"))]);
        assert_eq!(orders[1].owner_id, OwnerId(0));
        assert_eq!(
            admin::actions_named(&app.db, SOLD_OVER_API).unwrap(),
            vec![(reseller, Some(reseller_card.0), "Card".to_owned()), (accountant, Some(admin_card.0), "Card".to_owned())]
        );
    }

    /// The call and its alias, under `/api` and `/billing/api`, each sell a card; GET too.
    async fn every_path_and_the_alias_sell(app) {
        for index in 0..5 {
            add_card(&app, app.group, &format!("111111100{index}"), "5");
        }
        let mut seen = Vec::new();
        for path in [
            "/api/card_from_group_sell",
            "/billing/api/card_from_group_sell",
            "/api/buy_card_from_callingroup",
            "/billing/api/buy_card_from_callingroup",
        ] {
            seen.extend(numbers(&sold(&app.request_at(path, CALL, &[("id", "1")]).await)));
        }
        let signed = signed_call(CALL, &[("id", "1")], USER, PASSWORD, KEY);
        seen.extend(numbers(&sold(&app.get("/billing/api/buy_card_from_callingroup", &signed).await)));
        assert_eq!(seen, ["1111111000", "1111111001", "1111111002", "1111111003", "1111111004"]);
        assert_eq!(admin::orders(&app.db).unwrap().len(), 5);
    }

    /// A failure after the cards were chosen (no usable system currency) rolls the whole
    /// sale back: `Failed to make transaction` in the call's envelope, nothing sold.
    async fn a_failed_sale_sells_nothing(app) {
        add_card(&app, app.group, "1111111000", "5");
        add_card(&app, app.group, "1111111001", "5");
        admin::set_exchange_rate(&app.db, "USD", &BigDecimal::from(0)).unwrap();
        app.request(CALL, &[("id", "1"), ("quantity", "2")]).await.assert_card_error("Failed to make transaction");
        app.request(CALL, &[("id", "1"), ("number", "1111111001")]).await.assert_card_error("Failed to make transaction");
        nothing_sold(&app, app.group);
        admin::set_exchange_rate(&app.db, "USD", &BigDecimal::from(1)).unwrap();
        assert_eq!(sold(&app.request(CALL, &[("id", "1"), ("quantity", "2")]).await).len(), 2);
    }

    /// cc_by_cli activating an unsold PIN card for a new caller ID is a sale: the same order
    /// (no e-mail), line item and action, and no payment.
    async fn cc_by_cli_activating_a_pin_writes_an_order(app) {
        let card = add_card_with(&app, app.group, "1111111000", Some("111111"), "20", false, None);
        let answer = app.call(&[("callerid", "4444"), ("pin", "111111")]).await;
        let now = app.card("4444").unwrap();
        assert_eq!(now.id, card);
        assert_eq!(answer.body, card_reply(&now, "20.0000", "20.0000"));
        let orders = admin::orders(&app.db).unwrap();
        assert_eq!(orders.len(), 1);
        let order = &orders[0];
        assert_eq!(
            (order.ordertype.as_str(), order.email.as_str(), &order.amount, order.currency.as_str(), order.completed, order.owner_id),
            ("unspecified", "", &money("20"), "USD", true, OwnerId(0))
        );
        assert_eq!(order.lines, vec![(card, app.group, 1, money("20"))]);
        assert_eq!(admin::actions_named(&app.db, SOLD_OVER_API).unwrap(), vec![(admin_id(&app), Some(card.0), "Card".to_owned())]);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
        // The card is sold: not for sale by number any more.
        app.request(CALL, &[("id", "1"), ("number", "1111111000")]).await.assert_card_error("Card is already sold");
    }

    /// A card sold by the sale is sold for cc_by_cli: its PIN cannot be activated for a new
    /// caller ID, and nothing changes.
    async fn a_card_sold_here_cannot_be_activated_by_pin(app) {
        add_card_with(&app, app.group, "1111111000", Some("111111"), "20", false, None);
        let cards = sold(&app.request(CALL, &[("id", "1")]).await);
        assert_eq!(cards[0].pin, "111111");
        app.call(&[("callerid", "4444"), ("pin", "111111")]).await.assert_action_error("Cannot sell already sold card");
        assert!(app.card("4444").is_none());
        let card = card_numbered(&app, "1111111000");
        assert!(card.sold && card.callerid.is_none());
        assert_eq!(card.balance, money("20"));
        assert_eq!(admin::orders(&app.db).unwrap().len(), 1);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
    }

    /// cc_by_cli's other branches that mark a card sold (a new card, a top-up, a move, a PIN
    /// merge) are not sales: no order, no line item, no action.
    async fn other_cc_by_cli_branches_write_no_order(app) {
        let second = group(&app, "Two", OwnerId(0)).to_string();
        app.call(&[("callerid", "4444"), ("amount", "10"), ("cardgroup_id", "1")]).await;
        app.call(&[("callerid", "4444"), ("amount", "5")]).await;
        app.call(&[("callerid", "4444"), ("amount", "1"), ("cardgroup_id", second.as_str())]).await;
        add_card_with(&app, app.group, "1111111000", Some("111111"), "3", true, None);
        let second_group = CardGroupId(second.parse().unwrap());
        add_card_with(&app, second_group, "1111111001", Some("222222"), "3", false, None);
        let answer = app.call(&[("callerid", "4444"), ("pin", "222222")]).await;
        let card = app.card("4444").unwrap();
        assert_eq!(card.balance, money("19"), "{}", answer.body);
        assert!(admin::orders(&app.db).unwrap().is_empty());
        assert!(admin::actions_named(&app.db, SOLD_OVER_API).unwrap().is_empty());
    }

    /// Selling changes no balance, so the ledger holds: every card's payments still add up.
    async fn a_sale_leaves_the_ledger_intact(app) {
        app.call(&[("callerid", "4444"), ("amount", "10"), ("cardgroup_id", "1")]).await;
        let free: Vec<CardId> = (0..3).map(|index| add_card(&app, app.group, &format!("111111100{index}"), "4")).collect();
        let before = admin::payments_count(&app.db).unwrap();
        sold(&app.request(CALL, &[("id", "1"), ("quantity", "3")]).await);
        assert_eq!(admin::payments_count(&app.db).unwrap(), before);
        for id in free {
            let card = admin::card(&app.db, id).unwrap().unwrap();
            assert_eq!(card.balance, money("4"));
            assert_eq!(app.payments_sum(Holder::Card(id)), Money::zero());
        }
        let holder = app.card("4444").unwrap();
        assert_eq!(app.payments_sum(Holder::Card(holder.id)), holder.balance);
    }
}
