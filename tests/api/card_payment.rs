//! card_calls.md §5: `card_payment_add` tops up a sold card by number, in the request's
//! currency, with the group's tax removed, writing one payments row.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{
    settings, ApiCall, BigDecimal, CardGroupId, CardId, CardNumber, Holder, Money, OwnerId, UserId,
    UserType,
};
use std::str::FromStr;

const CALL: ApiCall = ApiCall::CardPaymentAdd;

fn decimal(text: &str) -> BigDecimal {
    BigDecimal::from_str(text).unwrap()
}

/// A success reply's figures.
struct Paid<'a> {
    group: &'a str,
    number: &'a str,
    currency: &'a str,
    amount: &'a str,
    current: &'a str,
    /// `converted_to` and `exchange_rate`, when converted.
    conversion: Option<(&'a str, &'a str)>,
    with_tax: &'a str,
    without_tax: &'a str,
    new: &'a str,
    description: &'a str,
}

impl Paid<'_> {
    fn reply(&self) -> String {
        let conversion = self.conversion.map_or(String::new(), |(to, rate)| {
            format!("      <converted_to>{to}</converted_to>\n      <exchange_rate>{rate}</exchange_rate>\n")
        });
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <status>
    <success>Calling Card balance successfully updated</success>
  </status>
  <calling_card_group>
    <name>{group}</name>
  </calling_card_group>
  <calling_card>
    <number>{number}</number>
  </calling_card>
  <add_payment>
    <currency>{currency}</currency>
    <amount_with_tax>{amount}</amount_with_tax>
    <details>
      <current_balance>{current}</current_balance>
{conversion}      <amount_with_tax>{with_tax}</amount_with_tax>
      <amount_without_tax>{without_tax}</amount_without_tax>
      <new_balance>{new}</new_balance>
      <description>{description}</description>
    </details>
  </add_payment>
</page>
",
            group = self.group,
            number = self.number,
            currency = self.currency,
            amount = self.amount,
            current = self.current,
            with_tax = self.with_tax,
            without_tax = self.without_tax,
            new = self.new,
            description = self.description,
        )
    }
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

fn allow_payments(app: &TestApp) {
    admin::set_setting(
        &app.db,
        settings::API_ALLOW_PAYMENTS_OVER_API,
        "1",
        OwnerId(0),
    )
    .unwrap();
}

/// The spec's set-up: EUR at 0.73853104, the group "Test_cardgroup" taxed 5 % and 2 %
/// compound, its sold card 1111111001 holding 10.084033613445378; payments allowed.
fn spec_card(app: &TestApp) -> (CardGroupId, CardId) {
    allow_payments(app);
    admin::set_exchange_rate(&app.db, "EUR", &decimal("0.73853104")).unwrap();
    let taxes = add_tax(app, &["5", "2"], true);
    let spec = admin::CardGroupSpec {
        name: "Test_cardgroup".into(),
        pin_length: 4,
        tax_id: Some(taxes),
        ..Default::default()
    };
    let group = admin::create_card_group(&app.db, &spec).unwrap();
    let card = add_card_with(
        app,
        group,
        "1111111001",
        None,
        "10.084033613445378",
        true,
        None,
    );
    (group, card)
}

/// The card's balance, payments and the orders are exactly as they were.
#[track_caller]
fn unchanged(app: &TestApp, card: CardId, balance: &str, payments: usize) {
    let now = admin::card(&app.db, card).unwrap().unwrap();
    assert_eq!(now.balance, money(balance));
    assert_eq!(
        admin::payments_for(&app.db, Holder::Card(card))
            .unwrap()
            .len(),
        payments
    );
    assert_eq!(admin::payments_count(&app.db).unwrap() as usize, payments);
}

fn reseller_group(app: &TestApp, reseller: UserId) -> CardGroupId {
    let spec = admin::CardGroupSpec {
        name: "Reseller group".into(),
        owner_id: OwnerId(reseller.0),
        ..Default::default()
    };
    admin::create_card_group(&app.db, &spec).unwrap()
}

scenarios! {
    /// The spec's example, signed with its hash: the exact reply and one payments row.
    async fn the_spec_s_payment_in_eur(app) {
        let (_, card) = spec_card(&app);
        let params = [("description", "refill"), ("number", "1111111001"), ("amount", "5"), ("currency", "EUR")];
        let answer = app.post_form("/api/card_payment_add", &with_hash(&params, "7ff6257c767cfb9b9cbde4e4f70a2d515e8e135f")).await;
        assert_eq!(answer.status, 200);
        let expected = Paid {
            group: "Test_cardgroup", number: "1111111001", currency: "EUR", amount: "5.0",
            current: "10.084033613445378", conversion: Some(("USD", "0.73853104")),
            with_tax: "6.770196145039483", without_tax: "6.321378286684858",
            new: "16.405411900130236", description: "refill",
        };
        assert_eq!(answer.body, expected.reply());
        let now = admin::card(&app.db, card).unwrap().unwrap();
        assert_eq!(now.balance, money("16.405411900130236"));
        assert!(now.sold);
        let payments = admin::payments_for(&app.db, Holder::Card(card)).unwrap();
        assert_eq!(payments.len(), 1);
        let row = &payments[0];
        assert_eq!(row.paymenttype, "Card");
        assert_eq!(row.amount, money("6.321378286684858"));
        assert_eq!(row.tax, money("0.448817858354625"));
        assert_eq!(&row.amount + &row.tax, money("6.770196145039483"));
        assert_eq!(row.gross, money("5"));
        assert_eq!(row.currency, "EUR");
        assert_eq!(row.description, "refill");
        assert_eq!(row.owner_id, OwnerId(0));
        assert!(row.completed);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 1);
        // The ledger: the balance changed by the sum of the card's payments.
        assert_eq!(&money("10.084033613445378") + &app.payments_sum(Holder::Card(card)), now.balance);
        // A payment is no sale.
        assert!(admin::orders(&app.db).unwrap().is_empty());
    }

    /// The spec's second hash (number=1111111001, amount=5): the system currency, no
    /// conversion shown, the group's tax removed, an empty description.
    async fn the_spec_s_payment_in_the_system_currency(app) {
        let (_, card) = spec_card(&app);
        let params = [("number", "1111111001"), ("amount", "5")];
        let answer = app.post_form("/api/card_payment_add", &with_hash(&params, "10c52385b238b26d8f3a6ce5c258486f62341cdf")).await;
        let expected = Paid {
            group: "Test_cardgroup", number: "1111111001", currency: "USD", amount: "5.0",
            current: "10.084033613445378", conversion: None,
            with_tax: "5.0", without_tax: "4.668534080298786",
            new: "14.752567693744164", description: "",
        };
        assert_eq!(answer.body, expected.reply());
        let row = admin::payments_for(&app.db, Holder::Card(card)).unwrap().pop().unwrap();
        assert_eq!((row.currency.as_str(), &row.gross, &row.amount, &row.tax, row.description.as_str()),
            ("USD", &money("5"), &money("4.668534080298786"), &money("0.331465919701214"), ""));
        // The system currency named, or named as empty: no conversion either.
        for currency in ["USD", ""] {
            let answer = app.request(CALL, &[("number", "1111111001"), ("amount", "1.071"), ("currency", currency)]).await;
            assert!(answer.body.contains("<currency>USD</currency>") && !answer.body.contains("converted_to") && !answer.body.contains("exchange_rate"), "{}", answer.body);
            assert!(answer.body.contains("<amount_without_tax>1.0</amount_without_tax>"), "{}", answer.body);
        }
        let now = admin::card(&app.db, card).unwrap().unwrap();
        assert_eq!(now.balance, money("16.752567693744164"));
        assert_eq!(&money("10.084033613445378") + &app.payments_sum(Holder::Card(card)), now.balance);
    }

    /// Every figure is computed unrounded and rounded once to 15 decimals; net + tax is the
    /// converted gross exactly, and the ledger adds up.
    async fn figures_are_rounded_once_and_the_ledger_adds_up(app) {
        allow_payments(&app);
        admin::set_exchange_rate(&app.db, "TRI", &decimal("3")).unwrap();
        let vat = add_tax(&app, &["21"], false);
        let spec = admin::CardGroupSpec { name: "VAT".into(), tax_id: Some(vat), ..Default::default() };
        let taxed = admin::create_card_group(&app.db, &spec).unwrap();
        let vat_card = add_card_with(&app, taxed, "1111111000", None, "0", true, None);
        let plain_card = add_card_with(&app, app.group, "1111111002", None, "1", true, Some("4444"));
        let answer = app.request(CALL, &[("number", "1111111000"), ("amount", "10")]).await;
        let expected = Paid {
            group: "VAT", number: "1111111000", currency: "USD", amount: "10.0", current: "0.0",
            conversion: None, with_tax: "10.0", without_tax: "8.264462809917355",
            new: "8.264462809917355", description: "",
        };
        assert_eq!(answer.body, expected.reply());
        let row = admin::payments_for(&app.db, Holder::Card(vat_card)).unwrap().pop().unwrap();
        assert_eq!(row.tax, money("1.735537190082645"));
        // One third of a unit, three times: 0.333333333333333 each, stored and shown so.
        for round in 1..=3 {
            let answer = app.request(CALL, &[("number", "1111111002"), ("amount", "1"), ("currency", "TRI")]).await;
            let root = crate::checks::parse_xml(&answer.body).unwrap();
            let details = |name: &str| root.text_at(&["add_payment", "details", name]).unwrap().to_owned();
            assert_eq!(details("exchange_rate"), "3.0");
            assert_eq!(details("converted_to"), "USD");
            assert_eq!(details("amount_with_tax"), "0.333333333333333");
            assert_eq!(details("amount_without_tax"), "0.333333333333333");
            let expected_new = (&money("1") + &Money::from_decimal(decimal("0.333333333333333") * BigDecimal::from(round))).plain();
            assert_eq!(details("new_balance"), expected_new);
        }
        let card = admin::card(&app.db, plain_card).unwrap().unwrap();
        assert_eq!(card.balance, money("1.999999999999999"));
        assert_eq!(&money("1") + &app.payments_sum(Holder::Card(plain_card)), card.balance);
        // Fifteen decimals sent are kept exactly.
        app.request(CALL, &[("number", "1111111002"), ("amount", "0.000000000000001")]).await;
        assert_eq!(admin::card(&app.db, plain_card).unwrap().unwrap().balance, money("2"));
    }

    /// `API_Allow_payments_ower_API` must be 1 (absent, 0 or anything else: `Feature
    /// Disabled`), checked before who calls.
    async fn payments_must_be_allowed(app) {
        let card = add_card_with(&app, app.group, "1111111000", None, "5", true, None);
        add_user(&app, "customer", UserType::User, OwnerId(0));
        app.request(CALL, &[("number", "1111111000"), ("amount", "5")]).await.assert_card_error("Feature Disabled");
        app.request_as(CALL, &[("number", "1111111000"), ("amount", "5")], "customer", "pw", KEY).await.assert_card_error("Feature Disabled");
        for value in ["0", "yes", "2", ""] {
            admin::set_setting(&app.db, settings::API_ALLOW_PAYMENTS_OVER_API, value, OwnerId(0)).unwrap();
            app.request(CALL, &[("number", "1111111000"), ("amount", "5")]).await.assert_card_error("Feature Disabled");
        }
        // A reseller's own setting does not count: the setting is the system's.
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        admin::set_setting(&app.db, settings::API_ALLOW_PAYMENTS_OVER_API, "1", OwnerId(reseller.0)).unwrap();
        let own = reseller_group(&app, reseller);
        add_card_with(&app, own, "3333333000", None, "5", true, None);
        app.request_as(CALL, &[("number", "3333333000"), ("amount", "5")], "reseller", "pw", KEY).await.assert_card_error("Feature Disabled");
        unchanged(&app, card, "5", 0);
        allow_payments(&app);
        assert!(app.request(CALL, &[("number", "1111111000"), ("amount", "5")]).await.body.contains("<new_balance>10.0</new_balance>"));
    }

    /// Accountants and users pass the filters and are denied inside the call (an action
    /// error); a reseller tops up its own cards only, the admin the admin's.
    async fn who_may_top_up_which_card(app) {
        allow_payments(&app);
        add_user(&app, "customer", UserType::User, OwnerId(0));
        add_user(&app, "accountant", UserType::Accountant, OwnerId(0));
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        let own = reseller_group(&app, reseller);
        let reseller_card = add_card_with(&app, own, "3333333000", None, "7", true, None);
        let admin_card = add_card_with(&app, app.group, "1111111000", None, "5", true, None);
        for user in ["customer", "accountant"] {
            for number in ["1111111000", "3333333000", "9999999999"] {
                app.request_as(CALL, &[("number", number), ("amount", "5")], user, "pw", KEY).await.assert_card_error("Access Denied");
            }
        }
        app.request_as(CALL, &[("number", "1111111000"), ("amount", "5")], "reseller", "pw", KEY).await.assert_card_error("Calling Card was not found");
        app.request(CALL, &[("number", "3333333000"), ("amount", "5")]).await.assert_card_error("Calling Card was not found");
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
        let answer = app.request_as(CALL, &[("number", "3333333000"), ("amount", "5"), ("description", "shop")], "reseller", "pw", KEY).await;
        let expected = Paid {
            group: "Reseller group", number: "3333333000", currency: "USD", amount: "5.0", current: "7.0",
            conversion: None, with_tax: "5.0", without_tax: "5.0", new: "12.0", description: "shop",
        };
        assert_eq!(answer.body, expected.reply());
        let row = admin::payments_for(&app.db, Holder::Card(reseller_card)).unwrap().pop().unwrap();
        assert_eq!(row.owner_id, OwnerId(reseller.0));
        assert!(app.request(CALL, &[("number", "1111111000"), ("amount", "5")]).await.body.contains("<new_balance>10.0</new_balance>"));
        assert_eq!(admin::card(&app.db, admin_card).unwrap().unwrap().balance, money("10"));
        assert_eq!(admin::payments_for(&app.db, Holder::Card(admin_card)).unwrap().len(), 1);
        assert_eq!(admin::payments_count(&app.db).unwrap(), 2);
        // The filters still come first, with the filter envelope.
        app.request_as(CALL, &[("number", "1111111000"), ("amount", "5")], "customer", "wrong", KEY).await.assert_filter_error("Bad login");
    }

    /// Only an owned, sold, unhidden card whose number matches exactly is found; that comes
    /// before the currency and the amount.
    async fn an_unsold_unknown_or_hidden_card_is_not_found(app) {
        allow_payments(&app);
        let unsold = add_card(&app, app.group, "1111111000", "5");
        add_card_with(&app, app.group, "0123", None, "5", true, None);
        add_card_with(&app, app.group, "1111111001", None, "5", true, None);
        admin::set_card_hidden(&app.db, &CardNumber::parse("1111111001").unwrap(), true).unwrap();
        let hidden_group = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Hidden".into(), ..Default::default() }).unwrap();
        add_card_with(&app, hidden_group, "2222222000", None, "5", true, None);
        admin::update_card_group(&app.db, hidden_group, &admin::CardGroupChange { hidden: Some(true), ..Default::default() }).unwrap();
        for number in ["1111111000", "1111111001", "2222222000", "123", "00123", "0123 ", "9999999999", "", "%", "012_"] {
            app.request(CALL, &[("number", number), ("amount", "5")]).await.assert_card_error("Calling Card was not found");
            app.request(CALL, &[("number", number), ("amount", "abc"), ("currency", "XXX")]).await.assert_card_error("Calling Card was not found");
        }
        app.request(CALL, &[("amount", "5")]).await.assert_card_error("Calling Card was not found");
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
        assert_eq!(admin::card(&app.db, unsold).unwrap().unwrap().balance, money("5"));
        assert!(!admin::card(&app.db, unsold).unwrap().unwrap().sold);
        assert!(app.request(CALL, &[("number", "0123"), ("amount", "5")]).await.body.contains("<new_balance>10.0</new_balance>"));
    }

    /// An unknown currency is not found (fix: MOR charged the system currency), names match
    /// exactly; an inactive one is disabled; both before the amount.
    async fn currency_rules(app) {
        let (_, card) = spec_card(&app);
        for currency in ["XXX", "eur", "Eur", "EUR ", " EUR", "EU", "EUR%", "E_R", "usd"] {
            app.request(CALL, &[("number", "1111111001"), ("amount", "5"), ("currency", currency)]).await.assert_card_error("Currency was not found");
        }
        app.request(CALL, &[("number", "1111111001"), ("amount", "abc"), ("currency", "XXX")]).await.assert_card_error("Currency was not found");
        admin::set_currency_active(&app.db, "EUR", false).unwrap();
        app.request(CALL, &[("number", "1111111001"), ("amount", "5"), ("currency", "EUR")]).await.assert_card_error("Currency disabled");
        app.request(CALL, &[("number", "1111111001"), ("amount", "-5"), ("currency", "EUR")]).await.assert_card_error("Currency disabled");
        unchanged(&app, card, "10.084033613445378", 0);
        // A named currency must be active even when it is the system currency; none named is
        // the system currency as it is.
        admin::set_currency_active(&app.db, "USD", false).unwrap();
        app.request(CALL, &[("number", "1111111001"), ("amount", "1.071"), ("currency", "USD")]).await.assert_card_error("Currency disabled");
        unchanged(&app, card, "10.084033613445378", 0);
        let answer = app.request(CALL, &[("number", "1111111001"), ("amount", "1.071")]).await;
        assert!(answer.body.contains("<new_balance>11.084033613445378</new_balance>"), "{}", answer.body);
        admin::set_currency_active(&app.db, "USD", true).unwrap();
        unchanged(&app, card, "11.084033613445378", 1);
        admin::set_currency_active(&app.db, "EUR", true).unwrap();
        let answer = app.request(CALL, &[("number", "1111111001"), ("amount", "5"), ("currency", "EUR")]).await;
        assert!(answer.body.contains("<new_balance>17.405411900130236</new_balance>"), "{}", answer.body);
    }

    /// An amount that is not a plain decimal is refused (fix: MOR took garbage for 0 and let
    /// a negative amount debit the card), and nothing changes.
    async fn invalid_amounts_change_nothing(app) {
        let (_, card) = spec_card(&app);
        for amount in ["-5", "-0.01", "+5", "abc", "5abc", "1e3", "1E-2", "NaN", "inf", "5.", ".5", " 5", "5 ", "1,5", "0x10", "1234567890123456", "0.1234567890123456", "1.2.3", "\u{0665}"] {
            for currency in ["", "EUR"] {
                app.request(CALL, &[("number", "1111111001"), ("amount", amount), ("currency", currency)]).await.assert_card_error("Invalid amount");
            }
        }
        unchanged(&app, card, "10.084033613445378", 0);
    }

    /// A zero amount (`0`, `0.00`, empty, absent) answers with the balance as it is and writes
    /// nothing.
    async fn a_zero_amount_changes_nothing(app) {
        let (_, card) = spec_card(&app);
        for amount in [Some("0"), Some("0.00"), Some("000.000000000000000"), Some(""), None] {
            let mut params = vec![("number", "1111111001"), ("description", "nothing")];
            if let Some(amount) = amount {
                params.push(("amount", amount));
            }
            let answer = app.request(CALL, &params).await;
            let expected = Paid {
                group: "Test_cardgroup", number: "1111111001", currency: "USD", amount: "0.0",
                current: "10.084033613445378", conversion: None, with_tax: "0.0", without_tax: "0.0",
                new: "10.084033613445378", description: "nothing",
            };
            assert_eq!(answer.body, expected.reply(), "amount {amount:?}");
        }
        let answer = app.request(CALL, &[("number", "1111111001"), ("amount", "0"), ("currency", "EUR")]).await;
        let expected = Paid {
            group: "Test_cardgroup", number: "1111111001", currency: "EUR", amount: "0.0",
            current: "10.084033613445378", conversion: Some(("USD", "0.73853104")), with_tax: "0.0",
            without_tax: "0.0", new: "10.084033613445378", description: "",
        };
        assert_eq!(answer.body, expected.reply());
        unchanged(&app, card, "10.084033613445378", 0);
    }

    /// The hash is over description, number, amount and currency as sent, in that order;
    /// other parameters change nothing; every path of the call answers alike.
    async fn the_hash_and_the_paths(app) {
        let (_, card) = spec_card(&app);
        let params = [("number", "1111111001"), ("amount", "5")];
        let spec_hash = "10c52385b238b26d8f3a6ce5c258486f62341cdf";
        // In another order (amount before number), over another amount, or none.
        let reordered = morcc_domain::hash::sha1_hex("51111111001secret");
        let other_amount = signed_call(CALL, &[("number", "1111111001"), ("amount", "50")], USER, PASSWORD, KEY).pop().unwrap().1;
        for hash in [reordered.as_str(), other_amount.as_str(), ""] {
            app.post_form("/api/card_payment_add", &with_hash(&params, hash)).await.assert_filter_error("Incorrect hash");
        }
        // A currency or description sent must be hashed.
        app.post_form("/api/card_payment_add", &with_hash(&[("number", "1111111001"), ("amount", "5"), ("currency", "EUR")], spec_hash)).await.assert_filter_error("Incorrect hash");
        app.post_form("/api/card_payment_add", &with_hash(&[("number", "1111111001"), ("amount", "5"), ("description", "x")], spec_hash)).await.assert_filter_error("Incorrect hash");
        unchanged(&app, card, "10.084033613445378", 0);
        let extra = [("number", "1111111001"), ("amount", "5"), ("id", "7"), ("quantity", "3"), ("callerid", "4444"), ("email", "a@b.c"), ("pin", "1")];
        let answer = app.post_form("/billing/api/card_payment_add", &with_hash(&extra, spec_hash)).await;
        assert!(answer.body.contains("<new_balance>14.752567693744164</new_balance>"), "{}", answer.body);
        let answer = app.request_at("/billing/api/card_payment_add", CALL, &[("number", "1111111001"), ("amount", "1.071")]).await;
        assert!(answer.body.contains("<new_balance>15.752567693744164</new_balance>"), "{}", answer.body);
        let signed = signed_call(CALL, &[("number", "1111111001"), ("amount", "1.071")], USER, PASSWORD, KEY);
        let answer = app.get("/api/card_payment_add", &signed).await;
        assert!(answer.body.contains("<new_balance>16.752567693744164</new_balance>"), "{}", answer.body);
        unchanged(&app, card, "16.752567693744164", 3);
    }

    /// The description is stored as sent and escaped in the reply.
    async fn the_description_is_kept_as_sent(app) {
        let (_, card) = spec_card(&app);
        let description = "<refill> & \"bonus\" 'x' \u{20AC}";
        let answer = app.request(CALL, &[("number", "1111111001"), ("amount", "1.071"), ("description", description)]).await;
        let root = crate::checks::parse_xml(&answer.body).unwrap();
        assert_eq!(root.text_at(&["add_payment", "details", "description"]), Some(description));
        assert!(answer.body.contains("&lt;refill&gt; &amp;"), "{}", answer.body);
        let row = admin::payments_for(&app.db, Holder::Card(card)).unwrap().pop().unwrap();
        assert_eq!(row.description, description);
    }

    /// A description holding characters XML 1.0 cannot carry (NUL, other controls, U+FFFE)
    /// still gets a well-formed reply (spec cc_by_cli §1; ARCHITECTURE: every reply is
    /// well-formed XML), and what the reply says is what happened: a success wrote one row, a
    /// refusal changed nothing.
    async fn a_description_xml_cannot_carry_still_gets_a_well_formed_reply(app) {
        let (_, card) = spec_card(&app);
        let mut balance = money("10.084033613445378");
        let mut rows = 0;
        for description in ["a\u{0}b", "x\u{1}y", "\u{1b}[31m", "\u{FFFE}", "\u{FFFF}", "\u{7}"] {
            let answer = app.request(CALL, &[("number", "1111111001"), ("amount", "1.071"), ("description", description)]).await;
            assert_eq!(answer.status, 200);
            let root = crate::checks::parse_xml(&answer.body).unwrap_or_else(|error| panic!("description {description:?}: {error}"));
            if root.text_at(&["status", "success"]).is_some() {
                balance = &balance + &money("1");
                rows += 1;
                // The reply says what was stored.
                let stored = admin::payments_for(&app.db, Holder::Card(card)).unwrap().pop().unwrap().description;
                assert_eq!(root.text_at(&["add_payment", "details", "description"]), Some(stored.as_str()), "{description:?}");
            } else {
                let text = root.text_at(&["status", "error"]).unwrap_or_else(|| panic!("{}", answer.body));
                assert!(is_spec_error(text), "{text}");
            }
            unchanged(&app, card, &balance.to_stored_string(), rows);
        }
    }

    /// A balance beyond `DECIMAL(30,15)` (16 integer digits) is refused on both backends
    /// (docs/DECISIONS.md), and nothing changes; up to the limit it is kept exactly.
    async fn a_balance_beyond_the_column_is_refused(app) {
        allow_payments(&app);
        let card = add_card_with(&app, app.group, "1111111000", None, "999999999999998.5", true, None);
        let answer = app.request(CALL, &[("number", "1111111000"), ("amount", "1.499999999999999")]).await;
        assert!(answer.body.contains("<new_balance>999999999999999.999999999999999</new_balance>"), "{}", answer.body);
        app.request(CALL, &[("number", "1111111000"), ("amount", "0.000000000000001")]).await.assert_card_error("Failed to make transaction");
        app.request(CALL, &[("number", "1111111000"), ("amount", "999999999999999")]).await.assert_card_error("Failed to make transaction");
        unchanged(&app, card, "999999999999999.999999999999999", 1);
    }

    /// A currency no arithmetic can use (rate 0): `Failed to make transaction` in the call's
    /// envelope, nothing changed.
    async fn a_failed_payment_changes_nothing(app) {
        let (_, card) = spec_card(&app);
        admin::set_exchange_rate(&app.db, "BAD", &BigDecimal::from(0)).unwrap();
        app.request(CALL, &[("number", "1111111001"), ("amount", "5"), ("currency", "BAD")]).await.assert_card_error("Failed to make transaction");
        admin::set_exchange_rate(&app.db, "USD", &BigDecimal::from(0)).unwrap();
        app.request(CALL, &[("number", "1111111001"), ("amount", "5")]).await.assert_card_error("Failed to make transaction");
        unchanged(&app, card, "10.084033613445378", 0);
    }
}
