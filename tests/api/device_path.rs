//! Spec §4 A: the caller ID belongs to a device.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{CallerId, Holder, Money, OwnerId, Pin, UserType};

scenarios! {
    async fn a_device_s_user_is_topped_up(app) {
        let user = admin::create_user(&app.db, "customer", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        let device = admin::create_device(&app.db, "phone", user.0, &CallerId::parse("37060000001").unwrap()).unwrap();
        let answer = app.call(&[("callerid", "37060000001"), ("amount", "12.5"), ("cardgroup_id", "1")]).await;
        assert_eq!(answer.body, device_reply(device.0, user.0, "12.5000", "12.5000"));
        assert_eq!(admin::user_balance(&app.db, user).unwrap(), Some(money("12.5")));
        assert_eq!(app.payments_sum(Holder::User(user)), money("12.5"));
        assert!(app.card("37060000001").is_none(), "no card is created for a device's caller ID");
    }

    async fn a_pin_card_gives_its_whole_balance_to_the_device_s_user(app) {
        let user = admin::create_user(&app.db, "customer", "pw", &UserType::User, OwnerId(0), &money("1")).unwrap();
        let device = admin::create_device(&app.db, "phone", user.0, &CallerId::parse("37060000001").unwrap()).unwrap();
        let spec = admin::CardSpec { cardgroup_id: app.group, balance: money("30"), pin: Some(Pin::parse("555555").unwrap()), number: None, callerid: None, sold: true };
        let voucher = admin::create_card(&app.db, &spec).unwrap();
        let answer = app.call(&[("callerid", "37060000001"), ("pin", "555555")]).await;
        assert_eq!(answer.body, device_reply(device.0, user.0, "31.0000", "31.0000"));
        let spent = admin::card(&app.db, voucher).unwrap().unwrap();
        assert!(spent.balance.is_zero() && !spent.sold);
        app.call(&[("callerid", "37060000001"), ("pin", "555555")]).await.assert_action_error("PIN number balance is zero");
        app.call(&[("callerid", "37060000001"), ("pin", "999999")]).await.assert_action_error("PIN number not found");
    }

    async fn a_provider_s_caller_id_is_refused(app) {
        admin::create_device(&app.db, "trunk", -1, &CallerId::parse("8000").unwrap()).unwrap();
        app.call(&[("callerid", "8000"), ("amount", "5")]).await.assert_action_error("Callerid belongs to provider");
        let user = admin::create_user(&app.db, "carrier", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        let device = admin::create_device(&app.db, "gateway", user.0, &CallerId::parse("8001").unwrap()).unwrap();
        admin::create_provider(&app.db, "Carrier", device).unwrap();
        app.call(&[("callerid", "8001"), ("amount", "5")]).await.assert_action_error("Callerid belongs to provider");
        assert_eq!(admin::user_balance(&app.db, user).unwrap(), Some(Money::zero()));
    }

    async fn another_owner_s_user_is_refused(app) {
        let reseller = admin::create_user(&app.db, "reseller", "pw", &UserType::Reseller, OwnerId(0), &Money::zero()).unwrap();
        let user = admin::create_user(&app.db, "theirs", "pw", &UserType::User, OwnerId(reseller.0), &Money::zero()).unwrap();
        admin::create_device(&app.db, "phone", user.0, &CallerId::parse("4444").unwrap()).unwrap();
        app.call(&[("callerid", "4444"), ("amount", "5")]).await.assert_action_error(
            "Device allready have such callerid, but you do not have permission to change user's balance",
        );
        assert_eq!(admin::user_balance(&app.db, user).unwrap(), Some(Money::zero()));
    }

    async fn the_caller_id_matches_exactly_not_as_a_substring(app) {
        let user = admin::create_user(&app.db, "customer", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        admin::create_device(&app.db, "phone", user.0, &CallerId::parse("37060000001").unwrap()).unwrap();
        app.call(&[("callerid", "1")]).await.assert_action_error("Card was not found");
        app.call(&[("callerid", "%")]).await.assert_action_error("Card was not found");
    }
}
