//! card_calls.md §1: the four card calls share cc_by_cli's transport and filters (methods,
//! parameter sources, headers, the filters in order), each with its own hashed parameters.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{settings, ApiCall, OwnerId, UserType};

/// A card call, its parameters and the body of its answer.
type Known = (ApiCall, Vec<(&'static str, String)>, String);

/// Each card call with parameters whose answer is known.
fn known_answers(number: &str) -> Vec<Known> {
    vec![
        (
            ApiCall::CardGroupGet,
            vec![("id", "999".into())],
            card_error("Cardgroup was not found"),
        ),
        (
            ApiCall::CardFromGroupSell,
            vec![("id", "1".into()), ("quantity", "2".into())],
            card_error("Free cards was not found"),
        ),
        (
            ApiCall::CardBalanceGet,
            vec![("number", number.into())],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <calling_card>\n    <balance>5.0</balance>\n    <currency>USD</currency>\n  </calling_card>\n</page>\n".into(),
        ),
        (
            ApiCall::CardPaymentAdd,
            vec![("number", number.into()), ("amount", "-1".into())],
            card_error("Invalid amount"),
        ),
    ]
}

fn refs<'a>(params: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    params
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

fn setup(app: &TestApp) -> &'static str {
    admin::set_setting(
        &app.db,
        settings::API_ALLOW_PAYMENTS_OVER_API,
        "1",
        OwnerId(0),
    )
    .unwrap();
    add_card_with(app, app.group, "1111111000", None, "5", true, Some("4444"));
    "1111111000"
}

scenarios! {
    /// The filters come first, in cc_by_cli's order, on every card call.
    async fn the_filters_in_order_on_every_card_call(app) {
        let number = setup(&app);
        admin::create_user(&app.db, "blocked", "pw", &UserType::Admin, OwnerId(0), &morcc_domain::Money::zero()).unwrap();
        admin::set_user_blocked(&app.db, "blocked", true).unwrap();
        for (call, params, expected) in known_answers(number) {
            let params = refs(&params);
            assert_eq!(app.request(call, &params).await.body, expected, "{call:?}");
            app.request_as(call, &params, USER, "wrong", KEY).await.assert_filter_error("Bad login");
            app.request_as(call, &params, "nobody", PASSWORD, KEY).await.assert_filter_error("Bad login");
            app.request_as(call, &params, "blocked", "pw", KEY).await.assert_filter_error("Bad login");
            let no_password: Vec<(String, String)> = signed_call(call, &params, USER, PASSWORD, KEY).into_iter().filter(|(name, _)| name != "p").collect();
            app.post_form(&format!("/api/{}", call.name()), &no_password).await.assert_filter_error("Bad login");
            app.request_as(call, &params, USER, PASSWORD, "other-key").await.assert_filter_error("Incorrect hash");
            let unsigned: Vec<(String, String)> = signed_call(call, &params, USER, PASSWORD, KEY).into_iter().filter(|(name, _)| name != "hash").collect();
            app.post_form(&format!("/api/{}", call.name()), &unsigned).await.assert_filter_error("Incorrect hash");
        }
        admin::set_setting(&app.db, settings::API_SECRET_KEY, "", OwnerId(0)).unwrap();
        for (call, params, _) in known_answers(number) {
            app.request(call, &refs(&params)).await.assert_filter_error("API must have Secret Key");
        }
        admin::set_setting(&app.db, settings::ALLOW_GET_API, "0", OwnerId(0)).unwrap();
        for (call, params, _) in known_answers(number) {
            let signed = signed_call(call, &refs(&params), USER, PASSWORD, KEY);
            app.get(&format!("/api/{}", call.name()), &signed).await.assert_filter_error("GET Requests are disabled");
        }
        admin::set_setting(&app.db, settings::ALLOW_API, "0", OwnerId(0)).unwrap();
        for (call, params, _) in known_answers(number) {
            app.request(call, &refs(&params)).await.assert_filter_error("API Requests are disabled");
            app.request_as(call, &refs(&params), USER, "wrong", KEY).await.assert_filter_error("Bad login");
        }
    }

    /// Hash checking disabled for the owner: no hash needed, any hash accepted.
    async fn hash_checking_can_be_disabled(app) {
        let number = setup(&app);
        admin::set_setting(&app.db, settings::API_DISABLE_HASH_CHECKING, "1", OwnerId(0)).unwrap();
        for (call, params, expected) in known_answers(number) {
            let mut form: Vec<(String, String)> = vec![("u".into(), USER.into()), ("p".into(), PASSWORD.into())];
            form.extend(params.iter().map(|(name, value)| (name.to_string(), value.clone())));
            assert_eq!(app.post_form(&format!("/api/{}", call.name()), &form).await.body, expected, "{call:?}");
            form.push(("hash".into(), "nonsense".into()));
            assert_eq!(app.post_form(&format!("/billing/api/{}", call.name()), &form).await.body, expected, "{call:?}");
        }
    }

    /// A reseller signs with its own key, or with the admin's while the admin allows the API.
    async fn a_reseller_signs_with_its_key_or_the_admin_s(app) {
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        let spec = admin::CardGroupSpec { name: "Reseller group".into(), owner_id: OwnerId(reseller.0), ..Default::default() };
        let own = admin::create_card_group(&app.db, &spec).unwrap();
        add_card_with(&app, own, "3333333000", None, "5", true, None);
        let call = ApiCall::CardBalanceGet;
        let params = [("number", "3333333000")];
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<page>\n  <calling_card>\n    <balance>5.0</balance>\n    <currency>USD</currency>\n  </calling_card>\n</page>\n";
        assert_eq!(app.request_as(call, &params, "reseller", "pw", KEY).await.body, expected);
        admin::set_setting(&app.db, settings::API_SECRET_KEY, "reseller-key", OwnerId(reseller.0)).unwrap();
        assert_eq!(app.request_as(call, &params, "reseller", "pw", "reseller-key").await.body, expected);
        assert_eq!(app.request_as(call, &params, "reseller", "pw", KEY).await.body, expected);
        app.request_as(call, &params, "reseller", "pw", "wrong").await.assert_filter_error("Incorrect hash");
        // Without the admin's API the admin's key no longer counts.
        admin::set_setting(&app.db, settings::ALLOW_API, "1", OwnerId(reseller.0)).unwrap();
        admin::set_setting(&app.db, settings::ALLOW_API, "0", OwnerId(0)).unwrap();
        app.request_as(call, &params, "reseller", "pw", KEY).await.assert_filter_error("Incorrect hash");
        assert_eq!(app.request_as(call, &params, "reseller", "pw", "reseller-key").await.body, expected);
    }

    /// Replies are HTML attachments unless `test=1` (not hashed), XML with the extension.
    async fn headers_as_cc_by_cli(app) {
        let number = setup(&app);
        for (call, params, expected) in known_answers(number) {
            let params = refs(&params);
            let answer = app.request(call, &params).await;
            assert_eq!(answer.content_type.as_deref(), Some("text/html; charset=utf-8"), "{call:?}");
            assert_eq!(answer.disposition.as_deref(), Some("attachment; filename=\"mor_api_response.html\""), "{call:?}");
            let mut with_test = params.clone();
            with_test.push(("test", "1"));
            let answer = app.request(call, &with_test).await;
            assert_eq!(answer.disposition, None, "{call:?}");
            assert_eq!(answer.body, expected, "{call:?}");
        }
        admin::set_setting(&app.db, settings::XML_API_EXTENSION, "1", OwnerId(0)).unwrap();
        for (call, params, _) in known_answers(number) {
            let answer = app.request(call, &refs(&params)).await;
            assert_eq!(answer.content_type.as_deref(), Some("text/xml; charset=utf-8"), "{call:?}");
            assert_eq!(answer.disposition.as_deref(), Some("attachment; filename=\"mor_api_response.xml\""), "{call:?}");
        }
    }

    /// JSON bodies (numbers by their literal text), and the body wins over the query string.
    async fn json_bodies_and_the_body_over_the_query(app) {
        let number = setup(&app);
        let signed = signed_call(ApiCall::CardPaymentAdd, &[("number", number), ("amount", "10.50")], USER, PASSWORD, KEY);
        let mut body: serde_json::Map<String, serde_json::Value> = signed.into_iter().map(|(name, value)| (name, value.into())).collect();
        body.insert("amount".into(), serde_json::from_str("10.50").unwrap());
        let answer = app.send(app.client().post(app.url("/api/card_payment_add")).json(&body)).await;
        assert!(answer.body.contains("<amount_with_tax>10.5</amount_with_tax>") && answer.body.contains("<new_balance>15.5</new_balance>"), "{}", answer.body);
        // A group id as a JSON number.
        let signed = signed_call(ApiCall::CardGroupGet, &[("id", "1")], USER, PASSWORD, KEY);
        let mut body: serde_json::Map<String, serde_json::Value> = signed.into_iter().map(|(name, value)| (name, value.into())).collect();
        body.insert("id".into(), serde_json::from_str("1").unwrap());
        let answer = app.send(app.client().post(app.url("/api/show_calling_card_group")).json(&body)).await;
        assert!(answer.body.contains("<name>Group one</name>"), "{}", answer.body);
        // Body over query.
        let signed = signed_call(ApiCall::CardBalanceGet, &[("number", number)], USER, PASSWORD, KEY);
        let request = app.client().post(app.url("/api/card_balance_get?number=9999&p=wrong")).form(&signed);
        assert!(app.send(request).await.body.contains("<balance>15.5</balance>"));
        let query: Vec<(String, String)> = signed.iter().filter(|(name, _)| name != "p").cloned().collect();
        let request = app.client().post(app.url("/api/card_balance_get")).query(&query).form(&[("p", "wrong")]);
        app.send(request).await.assert_filter_error("Bad login");
    }
}
