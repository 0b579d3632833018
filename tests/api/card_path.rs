//! Spec §4 B: no device, no PIN.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{Holder, Money, OwnerId, UserType};

scenarios! {
    async fn an_unknown_caller_id_without_group_or_amount_is_not_found(app) {
        app.call(&[("callerid", "4444")]).await.assert_action_error("Card was not found");
        app.call(&[("callerid", "4444"), ("amount", "0")]).await.assert_action_error("Card was not found");
        assert!(app.card("4444").is_none());
    }

    async fn a_blank_caller_id_must_be_specified(app) {
        app.call(&[("callerid", ""), ("amount", "5")]).await.assert_action_error("Callerid must be specified");
        app.call(&[("amount", "5")]).await.assert_action_error("Callerid must be specified");
    }

    async fn a_new_caller_id_with_a_group_buys_a_card(app) {
        let answer = app.call(&[("callerid", "4444"), ("amount", "100"), ("cardgroup_id", "1")]).await;
        let card = app.card("4444").expect("a card holds the caller ID");
        assert_eq!(answer.body, card_reply(&card, "100.0000", "100.0000"));
        assert!(card.sold && card.active);
        assert_eq!(card.pin.expose().len(), 6);
        assert_eq!(card.number.as_str().len(), 10);
        assert_eq!(app.payments_sum(Holder::Card(card.id)), money("100"));
    }

    async fn a_known_caller_id_is_topped_up_and_looked_up(app) {
        app.call(&[("callerid", "4444"), ("amount", "10"), ("cardgroup_id", "1")]).await;
        app.call(&[("callerid", "4444"), ("amount", "2.5")]).await;
        let answer = app.call(&[("callerid", "4444"), ("amount", "0.25"), ("cardgroup_id", "1")]).await;
        let card = app.card("4444").unwrap();
        assert_eq!(answer.body, card_reply(&card, "12.7500", "12.7500"));
        // A look-up changes nothing and writes no payment.
        let lookup = app.call(&[("callerid", "4444")]).await;
        assert_eq!(lookup.body, answer.body);
        let payments = admin::payments_for(&app.db, Holder::Card(card.id)).unwrap();
        assert_eq!(payments.len(), 3);
        assert_eq!(app.payments_sum(Holder::Card(card.id)), card.balance);
    }

    async fn another_group_moves_the_customer_to_a_new_card(app) {
        let second = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Two".into(), ..Default::default() }).unwrap();
        app.call(&[("callerid", "4444"), ("amount", "10"), ("cardgroup_id", "1")]).await;
        let old = app.card("4444").unwrap();
        let group = second.to_string();
        let answer = app.call(&[("callerid", "4444"), ("amount", "5"), ("cardgroup_id", group.as_str())]).await;
        let new = app.card("4444").unwrap();
        assert_ne!(new.id, old.id);
        assert_eq!(new.cardgroup_id, second);
        assert_eq!(answer.body, card_reply(&new, "15.0000", "15.0000"));
        let old_now = admin::card(&app.db, old.id).unwrap().unwrap();
        assert!(old_now.balance.is_zero() && !old_now.sold && old_now.callerid.is_none());
        assert_eq!(app.payments_sum(Holder::Card(old.id)), Money::zero());
        assert_eq!(app.payments_sum(Holder::Card(new.id)), money("15"));
    }

    async fn an_unknown_garbage_or_foreign_group_is_invalid(app) {
        let reseller = admin::create_user(&app.db, "reseller", "pw", &UserType::Reseller, OwnerId(0), &Money::zero()).unwrap();
        let foreign = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Theirs".into(), owner_id: OwnerId(reseller.0), ..Default::default() }).unwrap();
        let foreign = foreign.to_string();
        for group in ["999", "abc", "-1", foreign.as_str()] {
            app.call(&[("callerid", "4444"), ("amount", "5"), ("cardgroup_id", group)]).await.assert_action_error("Supplied Cardgroup_id is invalid");
        }
        assert!(app.card("4444").is_none());
    }

    async fn a_card_in_a_foreign_group_may_not_be_touched(app) {
        let reseller = admin::create_user(&app.db, "reseller", "pw", &UserType::Reseller, OwnerId(0), &Money::zero()).unwrap();
        let foreign = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Theirs".into(), owner_id: OwnerId(reseller.0), ..Default::default() }).unwrap();
        let spec = admin::CardSpec {
            cardgroup_id: foreign,
            balance: money("7"),
            pin: None,
            number: None,
            callerid: Some(morcc_domain::CallerId::parse("4444").unwrap()),
            sold: true,
        };
        admin::create_card(&app.db, &spec).unwrap();
        app.call(&[("callerid", "4444"), ("amount", "5")]).await.assert_action_error("You do not have permission to access card");
        assert_eq!(app.card("4444").unwrap().balance, money("7"));
    }

    async fn a_bad_amount_is_refused_and_changes_nothing(app) {
        app.call(&[("callerid", "4444"), ("amount", "10"), ("cardgroup_id", "1")]).await;
        for amount in ["-5", "1e3", "NaN", "abc", " 5", "5.", "1234567890123456", "0x10"] {
            app.call(&[("callerid", "4444"), ("amount", amount)]).await.assert_action_error("Invalid amount");
        }
        let card = app.card("4444").unwrap();
        assert_eq!(card.balance, money("10"));
        assert_eq!(admin::payments_for(&app.db, Holder::Card(card.id)).unwrap().len(), 1);
    }

    async fn fifteen_decimal_amounts_are_kept_exactly(app) {
        app.call(&[("callerid", "4444"), ("amount", "0.000000000000001"), ("cardgroup_id", "1")]).await;
        app.call(&[("callerid", "4444"), ("amount", "999999999999.999999999999999")]).await;
        let card = app.card("4444").unwrap();
        assert_eq!(card.balance.to_stored_string(), "1000000000000.000000000000000");
        assert_eq!(app.payments_sum(Holder::Card(card.id)), card.balance);
    }
}
