//! Spec §4 C: no device, PIN given.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{CallerId, CardGroupId, CardId, Holder, Money, Pin};

fn card(
    app: &TestApp,
    group: CardGroupId,
    pin: &str,
    balance: &str,
    callerid: Option<&str>,
    sold: bool,
) -> CardId {
    let spec = admin::CardSpec {
        cardgroup_id: group,
        balance: money(balance),
        pin: Some(Pin::parse(pin).unwrap()),
        number: None,
        callerid: callerid.map(|cli| CallerId::parse(cli).unwrap()),
        sold,
    };
    admin::create_card(&app.db, &spec).unwrap()
}

scenarios! {
    async fn an_unsold_pin_card_is_sold_to_a_new_caller_id(app) {
        let id = card(&app, app.group, "111111", "20", None, false);
        let answer = app.call(&[("callerid", "4444"), ("pin", "111111"), ("amount", "999")]).await;
        let sold = app.card("4444").unwrap();
        assert_eq!(sold.id, id);
        assert!(sold.sold && sold.active);
        assert_eq!(answer.body, card_reply(&sold, "20.0000", "20.0000"));
    }

    async fn a_sold_card_cannot_be_sold_again(app) {
        card(&app, app.group, "111111", "20", Some("1000"), true);
        app.call(&[("callerid", "4444"), ("pin", "111111")]).await.assert_action_error("Cannot sell already sold card");
    }

    async fn an_unknown_pin_is_not_found(app) {
        app.call(&[("callerid", "4444"), ("pin", "000000")]).await.assert_action_error("PIN number not found");
    }

    async fn the_pin_of_the_caller_s_own_card_changes_nothing(app) {
        card(&app, app.group, "111111", "20", Some("4444"), true);
        let answer = app.call(&[("callerid", "4444"), ("pin", "111111")]).await;
        assert_eq!(answer.body, card_reply(&app.card("4444").unwrap(), "20.0000", "20.0000"));
    }

    async fn in_the_same_group_the_caller_s_card_takes_the_pin_card_s_balance(app) {
        let holder = card(&app, app.group, "111111", "5", Some("4444"), true);
        let voucher = card(&app, app.group, "222222", "20", None, true);
        let answer = app.call(&[("callerid", "4444"), ("pin", "222222")]).await;
        let now = app.card("4444").unwrap();
        assert_eq!(now.id, holder);
        assert_eq!(answer.body, card_reply(&now, "25.0000", "25.0000"));
        let voucher_now = admin::card(&app.db, voucher).unwrap().unwrap();
        assert!(voucher_now.balance.is_zero() && !voucher_now.sold);
        assert_eq!(app.payments_sum(Holder::Card(holder)), money("20"));
        assert_eq!(app.payments_sum(Holder::Card(voucher)), money("-20"));
        // Spent: a second use finds a zero balance.
        app.call(&[("callerid", "4444"), ("pin", "222222")]).await.assert_action_error("PIN number balance is zero");
    }

    async fn across_groups_the_caller_id_and_its_balance_move_to_the_pin_card(app) {
        let other = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Two".into(), ..Default::default() }).unwrap();
        let holder = card(&app, app.group, "111111", "5", Some("4444"), true);
        let target = card(&app, other, "222222", "1", None, false);
        let answer = app.call(&[("callerid", "4444"), ("pin", "222222")]).await;
        let now = app.card("4444").unwrap();
        assert_eq!(now.id, target);
        assert_eq!(answer.body, card_reply(&now, "6.0000", "6.0000"));
        let old = admin::card(&app.db, holder).unwrap().unwrap();
        assert!(old.balance.is_zero() && old.callerid.is_none() && !old.sold);
        assert_eq!(app.payments_sum(Holder::Card(holder)), money("-5"));
        assert_eq!(app.payments_sum(Holder::Card(target)), money("5"));
    }

    async fn in_the_same_group_an_unsold_caller_s_card_is_sold_and_active_after_the_merge(app) {
        let holder = card(&app, app.group, "111111", "5", Some("4444"), false);
        card(&app, app.group, "222222", "20", None, true);
        let answer = app.call(&[("callerid", "4444"), ("pin", "222222")]).await;
        let now = app.card("4444").unwrap();
        assert_eq!(now.id, holder);
        assert!(now.sold && now.active);
        assert_eq!(answer.body, card_reply(&now, "25.0000", "25.0000"));
    }

    async fn across_groups_a_pin_card_bound_to_another_phone_moves_to_the_phone_with_its_pin(app) {
        let other = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Two".into(), ..Default::default() }).unwrap();
        let holder = card(&app, app.group, "111111", "5", Some("4444"), true);
        let target = card(&app, other, "222222", "1", Some("5555"), true);
        let answer = app.call(&[("callerid", "4444"), ("pin", "222222")]).await;
        let now = app.card("4444").unwrap();
        assert_eq!(now.id, target);
        assert_eq!(answer.body, card_reply(&now, "6.0000", "6.0000"));
        assert!(app.card("5555").is_none(), "the PIN card's old caller ID is replaced");
        let old = admin::card(&app.db, holder).unwrap().unwrap();
        assert!(old.balance.is_zero() && old.callerid.is_none() && !old.sold);
        assert_eq!(app.payments_sum(Holder::Card(holder)), money("-5"));
        assert_eq!(app.payments_sum(Holder::Card(target)), money("5"));
    }

    async fn across_groups_an_empty_caller_card_is_zero_even_when_the_pin_card_is_bound(app) {
        let other = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Two".into(), ..Default::default() }).unwrap();
        card(&app, app.group, "111111", "0", Some("4444"), true);
        card(&app, other, "222222", "1", Some("5555"), true);
        app.call(&[("callerid", "4444"), ("pin", "222222")]).await.assert_action_error("PIN number balance is zero");
        assert_eq!(app.card("5555").unwrap().balance, money("1"));
    }

    async fn across_groups_an_empty_caller_card_has_nothing_to_move(app) {
        let other = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Two".into(), ..Default::default() }).unwrap();
        card(&app, app.group, "111111", "0", Some("4444"), true);
        card(&app, other, "222222", "1", None, false);
        app.call(&[("callerid", "4444"), ("pin", "222222")]).await.assert_action_error("PIN number balance is zero");
        assert_eq!(app.card("4444").unwrap().balance, Money::zero());
    }
}
