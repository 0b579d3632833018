//! Spec §1: routes, methods, parameter sources, content types, headers, limits.

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{settings, OwnerId};

const NOT_FOUND: [(&str, &str); 1] = [("callerid", "5550000")];

scenarios! {
    async fn every_route_serves_the_call(app) {
        for path in ["/api/cc_by_cli", "/api/card_by_cli_update", "/billing/api/cc_by_cli", "/billing/api/card_by_cli_update"] {
            app.post_form(path, &app.signed(&NOT_FOUND)).await.assert_action_error("Card was not found");
            app.get(path, &app.signed(&NOT_FOUND)).await.assert_action_error("Card was not found");
        }
    }

    async fn get_needs_allow_get_api_but_post_does_not(app) {
        admin::set_setting(&app.db, settings::ALLOW_GET_API, "0", OwnerId(0)).unwrap();
        app.get("/api/cc_by_cli", &app.signed(&NOT_FOUND)).await.assert_filter_error("GET Requests are disabled");
        app.post_form("/api/cc_by_cli", &app.signed(&NOT_FOUND)).await.assert_action_error("Card was not found");
    }

    async fn other_methods_answer_405(app) {
        for method in [reqwest::Method::PUT, reqwest::Method::DELETE, reqwest::Method::PATCH] {
            let answer = app.send(app.client().request(method, app.url("/api/cc_by_cli"))).await;
            assert_eq!(answer.status, 405);
        }
    }

    async fn a_json_body_is_read_with_numbers_as_written(app) {
        // amount as a JSON number: its literal text (10.50) is what is hashed and parsed.
        let signed = app.signed(&[("amount", "10.50"), ("callerid", "4444"), ("cardgroup_id", "1")]);
        let mut body: serde_json::Map<String, serde_json::Value> =
            signed.into_iter().map(|(name, value)| (name, value.into())).collect();
        body.insert("amount".into(), serde_json::from_str("10.50").unwrap());
        let answer = app.send(app.client().post(app.url("/api/cc_by_cli")).json(&body)).await;
        let card = app.card("4444").expect("the card was created");
        assert_eq!(answer.body, card_reply(&card, "10.5000", "10.5000"));
    }

    async fn the_body_wins_over_the_query_string(app) {
        let signed = app.signed(&NOT_FOUND);
        let request = app
            .client()
            .post(app.url("/api/cc_by_cli?u=admin&p=wrong-password"))
            .form(&signed);
        app.send(request).await.assert_action_error("Card was not found");
        // And the other way round: a wrong password in the body is not rescued by the query.
        let query: Vec<(String, String)> = signed.iter().filter(|(name, _)| name != "p").cloned().collect();
        let request = app.client().post(app.url("/api/cc_by_cli")).query(&query).form(&[("p", "wrong")]);
        app.send(request).await.assert_filter_error("Bad login");
    }

    async fn cardgroup_is_an_alias_of_cardgroup_id(app) {
        let answer = app.call(&[("callerid", "4444"), ("amount", "5"), ("cardgroup", "1")]).await;
        let card = app.card("4444").expect("the card was created");
        assert_eq!(answer.body, card_reply(&card, "5.0000", "5.0000"));
    }

    async fn replies_are_html_attachments_unless_test_or_the_xml_extension(app) {
        let answer = app.call(&NOT_FOUND).await;
        assert_eq!(answer.content_type.as_deref(), Some("text/html; charset=utf-8"));
        assert_eq!(answer.disposition.as_deref(), Some("attachment; filename=\"mor_api_response.html\""));

        let answer = app.call(&[("callerid", "5550000"), ("test", "1")]).await;
        assert_eq!(answer.disposition, None);
        answer.assert_action_error("Card was not found");

        admin::set_setting(&app.db, settings::XML_API_EXTENSION, "1", OwnerId(0)).unwrap();
        let answer = app.call(&NOT_FOUND).await;
        assert_eq!(answer.content_type.as_deref(), Some("text/xml; charset=utf-8"));
        assert_eq!(answer.disposition.as_deref(), Some("attachment; filename=\"mor_api_response.xml\""));
    }

    async fn a_body_over_the_limit_answers_413(app) {
        let huge = "x".repeat(128 * 1024);
        let request = app.client().post(app.url("/api/cc_by_cli")).form(&[("callerid", huge.as_str())]);
        assert_eq!(app.send(request).await.status, 413);
    }

    async fn nice_number_digits_sets_the_printed_decimals(app) {
        admin::set_setting(&app.db, settings::NICE_NUMBER_DIGITS, "2", OwnerId(0)).unwrap();
        let answer = app.call(&[("callerid", "4444"), ("amount", "1.005"), ("cardgroup_id", "1")]).await;
        let card = app.card("4444").unwrap();
        assert_eq!(answer.body, card_reply(&card, "1.01", "1.01"));
    }

    async fn healthz_answers_when_the_database_does(app) {
        let answer = app.send(app.client().get(app.url("/healthz"))).await;
        assert_eq!(answer.status, 200);
    }
}

#[actix_web::test]
async fn settings_are_cached_for_their_ttl_then_read_again() {
    let app = TestApp::sqlite_with(morcc::cli::ServeArgs {
        cache_ttl_ms: 300,
        ..uncached()
    })
    .await;
    app.call(&NOT_FOUND)
        .await
        .assert_action_error("Card was not found");
    admin::set_setting(&app.db, settings::ALLOW_API, "0", OwnerId(0)).unwrap();
    app.call(&NOT_FOUND)
        .await
        .assert_action_error("Card was not found");
    actix_web::rt::time::sleep(std::time::Duration::from_millis(350)).await;
    app.call(&NOT_FOUND)
        .await
        .assert_filter_error("API Requests are disabled");
}
