//! card_calls.md §4: `card_balance_get`, a card's balance by its number. Its action errors are
//! `<page><error>` (cc_by_cli's envelope, as MOR sends them).

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{settings, ApiCall, BigDecimal, CardGroupId, CardNumber, OwnerId, UserType};

const CALL: ApiCall = ApiCall::CardBalanceGet;

fn balance_reply(balance: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <calling_card>
    <balance>{balance}</balance>
    <currency>USD</currency>
  </calling_card>
</page>
"
    )
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

fn reseller_group(app: &TestApp, reseller: morcc_domain::UserId) -> CardGroupId {
    let spec = admin::CardGroupSpec {
        name: "Reseller group".into(),
        owner_id: OwnerId(reseller.0),
        ..Default::default()
    };
    admin::create_card_group(&app.db, &spec).unwrap()
}

scenarios! {
    /// The spec's example: number=1111111000, hashed `1111111000secret`, holding 20.
    async fn the_spec_s_balance(app) {
        add_card_with(&app, app.group, "1111111000", None, "20", true, Some("4444"));
        let answer = app.post_form("/api/card_balance_get", &with_hash(&[("number", "1111111000")], "0540cea252d6367fb32737b0cd22c0822330ec41")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, balance_reply("20.0"));
        // The same on /billing.
        assert_eq!(app.request_at("/billing/api/card_balance_get", CALL, &[("number", "1111111000")]).await.body, balance_reply("20.0"));
        let signed = signed_call(CALL, &[("number", "1111111000")], USER, PASSWORD, KEY);
        assert_eq!(app.get("/billing/api/card_balance_get", &signed).await.body, balance_reply("20.0"));
    }

    /// The stored balance exactly, in plain notation, unconverted and untaxed; sold or not.
    async fn the_balance_is_the_stored_value_printed_plainly(app) {
        let taxed = add_tax(&app, &["21"], false);
        admin::set_exchange_rate(&app.db, "EUR", &"0.5".parse::<BigDecimal>().unwrap()).unwrap();
        let spec = admin::CardGroupSpec { name: "Euro".into(), currency: "EUR".into(), tax_id: Some(taxed), ..Default::default() };
        let euro = admin::create_card_group(&app.db, &spec).unwrap();
        for (number, balance, sold, expected) in [
            ("1111111001", "10.084033613445378", true, "10.084033613445378"),
            ("1111111002", "0", false, "0.0"),
            ("1111111003", "0.000000000000001", false, "0.000000000000001"),
            ("1111111004", "999999999999.999999999999999", true, "999999999999.999999999999999"),
            ("1111111005", "12.5", false, "12.5"),
        ] {
            add_card_with(&app, euro, number, None, balance, sold, None);
            assert_eq!(app.request(CALL, &[("number", number)]).await.body, balance_reply(expected), "{number}");
        }
        // Nice_Number_Digits does not apply.
        admin::set_setting(&app.db, settings::NICE_NUMBER_DIGITS, "2", OwnerId(0)).unwrap();
        assert_eq!(app.request(CALL, &[("number", "1111111001")]).await.body, balance_reply("10.084033613445378"));
        // It changes nothing.
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
        assert!(admin::orders(&app.db).unwrap().is_empty());
        assert!(!card_numbered(&app, "1111111002").sold);
    }

    /// Numbers match exactly; a missing, empty, unknown or hidden card (or one in a hidden
    /// group) is not found.
    async fn an_unknown_or_hidden_card_is_not_found(app) {
        add_card(&app, app.group, "0123", "5");
        add_card(&app, app.group, "A789", "5");
        add_card(&app, app.group, "1111111000", "5");
        add_card(&app, app.group, "1111111001", "5");
        admin::set_card_hidden(&app.db, &CardNumber::parse("1111111001").unwrap(), true).unwrap();
        let hidden_group = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Hidden".into(), ..Default::default() }).unwrap();
        add_card(&app, hidden_group, "2222222000", "5");
        admin::update_card_group(&app.db, hidden_group, &admin::CardGroupChange { hidden: Some(true), ..Default::default() }).unwrap();
        for number in [
            "", "123", "00123", "0123 ", " 0123", "a789", "01111111000", "1111111000 ", "111111100", "111111100%", "111111100_",
            "1111111001", "2222222000", "9999999999",
        ] {
            app.request(CALL, &[("number", number)]).await.assert_action_error("Calling Card was not found");
        }
        app.request(CALL, &[]).await.assert_action_error("Calling Card was not found");
        for number in ["0123", "A789", "1111111000"] {
            assert_eq!(app.request(CALL, &[("number", number)]).await.body, balance_reply("5.0"), "{number}");
        }
        // Shown again, they are found.
        admin::set_card_hidden(&app.db, &CardNumber::parse("1111111001").unwrap(), false).unwrap();
        admin::update_card_group(&app.db, hidden_group, &admin::CardGroupChange { hidden: Some(false), ..Default::default() }).unwrap();
        for number in ["1111111001", "2222222000"] {
            assert_eq!(app.request(CALL, &[("number", number)]).await.body, balance_reply("5.0"), "{number}");
        }
    }

    /// The admin sees any card; a reseller the cards of its own groups; an accountant or a
    /// user passes the filters and is not authorized, in the call's envelope.
    async fn who_may_see_which_card(app) {
        add_user(&app, "customer", UserType::User, OwnerId(0));
        add_user(&app, "accountant", UserType::Accountant, OwnerId(0));
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        let own = reseller_group(&app, reseller);
        add_card_with(&app, own, "3333333000", None, "7", true, None);
        add_card_with(&app, app.group, "1111111000", None, "5", true, None);
        for user in ["customer", "accountant"] {
            for number in ["1111111000", "3333333000", "9999999999", ""] {
                app.request_as(CALL, &[("number", number)], user, "pw", KEY).await.assert_action_error("You are not authorized to use this functionality");
            }
        }
        assert_eq!(app.request_as(CALL, &[("number", "3333333000")], "reseller", "pw", KEY).await.body, balance_reply("7.0"));
        app.request_as(CALL, &[("number", "1111111000")], "reseller", "pw", KEY).await.assert_action_error("Calling Card was not found");
        assert_eq!(app.request(CALL, &[("number", "3333333000")]).await.body, balance_reply("7.0"));
        assert_eq!(app.request(CALL, &[("number", "1111111000")]).await.body, balance_reply("5.0"));
        // The filters still come first.
        app.request_as(CALL, &[("number", "1111111000")], "customer", "wrong", KEY).await.assert_filter_error("Bad login");
        app.request_as(CALL, &[("number", "1111111000")], "customer", "pw", "other").await.assert_filter_error("Incorrect hash");
    }

    /// The hash is `sha1(number + key)`; other parameters change nothing.
    async fn the_hash_covers_the_number_only(app) {
        add_card_with(&app, app.group, "1111111000", None, "20", true, None);
        let spec_hash = "0540cea252d6367fb32737b0cd22c0822330ec41";
        let extra = [("number", "1111111000"), ("id", "1"), ("amount", "5"), ("currency", "EUR"), ("callerid", "4444"), ("description", "x")];
        assert_eq!(app.post_form("/api/card_balance_get", &with_hash(&extra, spec_hash)).await.body, balance_reply("20.0"));
        let other = signed_call(CALL, &[("number", "1111111001")], USER, PASSWORD, KEY).pop().unwrap().1;
        for hash in [other.as_str(), "", "0540CEA252D6367FB32737B0CD22C0822330EC41 "] {
            app.post_form("/api/card_balance_get", &with_hash(&[("number", "1111111000")], hash)).await.assert_filter_error("Incorrect hash");
        }
    }

    /// A system currency no arithmetic can use: `Failed to make transaction`, in this call's
    /// envelope (`<page><error>`).
    async fn a_broken_system_currency_fails_in_the_call_s_envelope(app) {
        add_card_with(&app, app.group, "1111111000", None, "20", true, None);
        admin::set_exchange_rate(&app.db, "USD", &BigDecimal::from(0)).unwrap();
        app.request(CALL, &[("number", "1111111000")]).await.assert_action_error("Failed to make transaction");
    }
}
