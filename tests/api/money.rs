//! Spec §4.3 over HTTP: taxes and currencies, stored exactly, with the ledger intact.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{BigDecimal, CallerId, Holder, Money, OwnerId, UserType};
use std::str::FromStr;

fn decimal(text: &str) -> BigDecimal {
    BigDecimal::from_str(text).unwrap()
}

fn tax(app: &TestApp, values: [&str; 4], compound: bool) -> morcc_domain::TaxId {
    let spec = admin::TaxSpec {
        values: values.map(decimal),
        enabled: [true; 4],
        compound,
    };
    admin::create_tax(&app.db, &spec).unwrap()
}

scenarios! {
    async fn a_top_up_of_100_with_10_percent_vat(app) {
        let ten = tax(&app, ["10", "0", "0", "0"], false);
        admin::set_card_group_tax(&app.db, app.group, Some(ten)).unwrap();
        let answer = app.call(&[("callerid", "4444"), ("amount", "100"), ("cardgroup_id", "1")]).await;
        let card = app.card("4444").unwrap();
        assert_eq!(answer.body, card_reply(&card, "90.9091", "100.0000"));
        assert_eq!(card.balance.to_stored_string(), "90.909090909090909");
        let payments = admin::payments_for(&app.db, Holder::Card(card.id)).unwrap();
        assert_eq!(payments.len(), 1);
        assert_eq!(payments[0].gross, money("100"));
        assert_eq!(payments[0].tax.to_stored_string(), "9.090909090909091");
        assert_eq!(app.payments_sum(Holder::Card(card.id)), card.balance);
    }

    async fn a_group_priced_in_eur_with_four_compound_taxes(app) {
        admin::set_exchange_rate(&app.db, "EUR", &decimal("2")).unwrap();
        let taxes = tax(&app, ["10", "10", "10", "10"], true);
        let spec = admin::CardGroupSpec { name: "Euro".into(), currency: "EUR".into(), tax_id: Some(taxes), ..Default::default() };
        let euro = admin::create_card_group(&app.db, &spec).unwrap().to_string();
        let answer = app.call(&[("callerid", "4444"), ("amount", "300"), ("cardgroup_id", euro.as_str())]).await;
        let card = app.card("4444").unwrap();
        assert_eq!(answer.body, card_reply(&card, "102.4520", "150.0000"));
        let payments = admin::payments_for(&app.db, Holder::Card(card.id)).unwrap();
        assert_eq!((payments[0].currency.as_str(), &payments[0].gross), ("EUR", &money("300")));
        assert_eq!(&payments[0].amount + &payments[0].tax, money("150"));
        // A second top-up adds; the stored sum is rounded once when printed.
        let answer = app.call(&[("callerid", "4444"), ("amount", "300")]).await;
        let card = app.card("4444").unwrap();
        assert_eq!(answer.body, card_reply(&card, "204.9040", "300.0000"));
        assert_eq!(app.payments_sum(Holder::Card(card.id)), card.balance);
    }

    async fn a_move_carries_the_balance_as_it_is(app) {
        let ten = tax(&app, ["10", "0", "0", "0"], false);
        app.call(&[("callerid", "4444"), ("amount", "100"), ("cardgroup_id", "1")]).await;
        let spec = admin::CardGroupSpec { name: "Taxed".into(), tax_id: Some(ten), ..Default::default() };
        let taxed = admin::create_card_group(&app.db, &spec).unwrap().to_string();
        let answer = app.call(&[("callerid", "4444"), ("amount", "11"), ("cardgroup_id", taxed.as_str())]).await;
        let card = app.card("4444").unwrap();
        // 100 carried untaxed, plus 11 / 1.1 = 10.
        assert_eq!(card.balance, money("110"));
        assert_eq!(answer.body, card_reply(&card, "110.0000", "121.0000"));
        assert_eq!(app.payments_sum(Holder::Card(card.id)), card.balance);
    }

    async fn a_taxed_user_on_the_device_path(app) {
        let compound = tax(&app, ["10", "10", "0", "0"], true);
        let user = admin::create_user(&app.db, "customer", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        admin::set_user_tax(&app.db, user, Some(compound)).unwrap();
        let device = admin::create_device(&app.db, "phone", user.0, &CallerId::parse("5555").unwrap()).unwrap();
        let answer = app.call(&[("callerid", "5555"), ("amount", "500")]).await;
        assert_eq!(answer.body, device_reply(device.0, user.0, "413.2231", "500.0000"));
        let balance = admin::user_balance(&app.db, user).unwrap().unwrap();
        assert_eq!(balance.to_stored_string(), "413.223140495867769");
        assert_eq!(app.payments_sum(Holder::User(user)), balance);
    }
}
