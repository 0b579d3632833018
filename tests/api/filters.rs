//! Spec §3: the filters, their order and their texts, and the audit of probes.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{settings, Money, OwnerId, UserType};

const LOOKUP: [(&str, &str); 1] = [("callerid", "5550000")];

scenarios! {
    async fn a_wrong_password_is_a_bad_login_and_is_recorded(app) {
        let before = admin::actions_count(&app.db).unwrap();
        let answer = app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, USER, "wrong", KEY)).await;
        answer.assert_filter_error("Bad login");
        assert_eq!(admin::actions_count(&app.db).unwrap(), before + 1);
    }

    async fn an_unknown_user_or_a_missing_password_is_a_bad_login(app) {
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "nobody", PASSWORD, KEY)).await.assert_filter_error("Bad login");
        let without_password: Vec<(String, String)> = app.signed(&LOOKUP).into_iter().filter(|(name, _)| name != "p").collect();
        app.post_form("/api/cc_by_cli", &without_password).await.assert_filter_error("Bad login");
    }

    async fn a_blocked_user_cannot_log_in(app) {
        admin::create_user(&app.db, "blocked", "pw", &UserType::Admin, OwnerId(0), &Money::zero()).unwrap();
        admin::set_user_blocked(&app.db, "blocked", true).unwrap();
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "blocked", "pw", KEY)).await.assert_filter_error("Bad login");
    }

    async fn the_api_must_be_allowed(app) {
        admin::set_setting(&app.db, settings::ALLOW_API, "0", OwnerId(0)).unwrap();
        app.call(&LOOKUP).await.assert_filter_error("API Requests are disabled");
    }

    async fn a_secret_key_must_be_set(app) {
        admin::set_setting(&app.db, settings::API_SECRET_KEY, "", OwnerId(0)).unwrap();
        app.call(&LOOKUP).await.assert_filter_error("API must have Secret Key");
    }

    async fn a_wrong_hash_is_refused_and_recorded(app) {
        let before = admin::actions_count(&app.db).unwrap();
        let answer = app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, USER, PASSWORD, "other-key")).await;
        answer.assert_filter_error("Incorrect hash");
        assert_eq!(admin::actions_count(&app.db).unwrap(), before + 1);
        let unsigned: Vec<(String, String)> = app.signed(&LOOKUP).into_iter().filter(|(name, _)| name != "hash").collect();
        app.post_form("/api/cc_by_cli", &unsigned).await.assert_filter_error("Incorrect hash");
    }

    async fn hash_checking_can_be_disabled(app) {
        admin::set_setting(&app.db, settings::API_DISABLE_HASH_CHECKING, "1", OwnerId(0)).unwrap();
        let unsigned: Vec<(String, String)> = app.signed(&LOOKUP).into_iter().filter(|(name, _)| name != "hash").collect();
        app.post_form("/api/cc_by_cli", &unsigned).await.assert_action_error("Card was not found");
    }

    async fn an_end_user_is_denied(app) {
        admin::create_user(&app.db, "customer", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "customer", "pw", KEY)).await.assert_filter_error("Access Denied");
    }

    async fn a_reseller_uses_its_own_settings_or_the_admin_s(app) {
        let reseller = admin::create_user(&app.db, "reseller", "pw", &UserType::Reseller, OwnerId(0), &Money::zero()).unwrap();
        let owner = OwnerId(reseller.0);
        // The admin allows the API and has a key: a reseller hashing with the admin's key passes.
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "reseller", "pw", KEY)).await.assert_action_error("Card was not found");
        admin::set_setting(&app.db, settings::API_SECRET_KEY, "reseller-key", owner).unwrap();
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "reseller", "pw", "reseller-key")).await.assert_action_error("Card was not found");
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "reseller", "pw", "wrong")).await.assert_filter_error("Incorrect hash");
    }

    async fn a_reseller_falls_back_to_the_admin_s_key_only_while_the_admin_allows_the_api(app) {
        let reseller = admin::create_user(&app.db, "reseller", "pw", &UserType::Reseller, OwnerId(0), &Money::zero()).unwrap();
        let owner = OwnerId(reseller.0);
        admin::set_setting(&app.db, settings::ALLOW_API, "1", owner).unwrap();
        admin::set_setting(&app.db, settings::ALLOW_API, "0", OwnerId(0)).unwrap();
        // No key of its own and no fallback: the admin's key does not count.
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "reseller", "pw", KEY)).await.assert_filter_error("API must have Secret Key");
        admin::set_setting(&app.db, settings::API_SECRET_KEY, "reseller-key", owner).unwrap();
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "reseller", "pw", KEY)).await.assert_filter_error("Incorrect hash");
        app.post_form("/api/cc_by_cli", &signed_with(&LOOKUP, "reseller", "pw", "reseller-key")).await.assert_action_error("Card was not found");
    }
}
