//! card_calls.md §2: `card_group_get` (alias `show_calling_card_group`), a group's price and
//! stock; with §1 (paths, hash, callers, hidden groups and cards, free cards).

use crate::support::*;
use morcc_adapters::admin;
use morcc_domain::{settings, ApiCall, BigDecimal, CardGroupId, CardNumber, OwnerId, UserType};
use std::str::FromStr;

const CALL: ApiCall = ApiCall::CardGroupGet;

/// The golden reply of a group.
#[allow(clippy::too_many_arguments)]
fn group_reply(
    name: &str,
    image: &str,
    description: &str,
    price: &str,
    price_with_tax: &str,
    currency: &str,
    free: usize,
    pin_length: usize,
    number_length: usize,
) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<page>
  <cardgroup>
    <name>{name}</name>
    <iamge_link>/billing/cards/{image}</iamge_link>
    <description>{description}</description>
    <price>{price}</price>
    <price_with_tax>{price_with_tax}</price_with_tax>
    <currency>{currency}</currency>
    <free_cards_size>{free}</free_cards_size>
    <pin_length>{pin_length}</pin_length>
    <number_length>{number_length}</number_length>
  </cardgroup>
</page>
"
    )
}

/// The spec's group: priced 10.084033613445378 with one 21 % tax, 4-digit PINs.
fn spec_group(app: &TestApp) -> CardGroupId {
    let tax = add_tax(app, &["21"], false);
    let spec = admin::CardGroupSpec {
        name: "Test_cardgroup".into(),
        description: "10 minutes cards".into(),
        price: money("10.084033613445378"),
        pin_length: 4,
        number_length: 10,
        tax_id: Some(tax),
        ..Default::default()
    };
    admin::create_card_group(&app.db, &spec).unwrap()
}

/// What group 1 (the scenarios' "Group one") answers with `free` free cards.
fn group_one(free: usize) -> String {
    group_reply(
        "Group one",
        "example.jpg",
        "",
        "0.0000",
        "0.0000",
        "USD",
        free,
        6,
        10,
    )
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
    /// The spec's example: 21 free cards, and beside them cards that are not free (sold, no
    /// balance, bound to a caller ID, hidden), which the stock does not count.
    async fn the_spec_s_group_with_a_21_percent_tax(app) {
        let group = spec_group(&app);
        for index in 0..21 {
            add_card(&app, group, &format!("11111110{index:02}"), "10.084033613445378");
        }
        add_card_with(&app, group, "1111111100", None, "10", true, None);
        add_card_with(&app, group, "1111111101", None, "0", false, None);
        add_card_with(&app, group, "1111111102", None, "10", false, Some("37060000001"));
        add_card(&app, group, "1111111103", "10");
        admin::set_card_hidden(&app.db, &CardNumber::parse("1111111103").unwrap(), true).unwrap();
        // A free card of another group does not count either.
        add_card(&app, app.group, "2222222000", "10");
        let before = admin::cards_in_group(&app.db, group).unwrap();
        let id = group.to_string();
        let answer = app.request(CALL, &[("id", id.as_str())]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.body,
            group_reply("Test_cardgroup", "example.jpg", "10 minutes cards", "10.0840", "12.2017", "USD", 21, 4, 10)
        );
        // It changes nothing.
        assert_eq!(admin::cards_in_group(&app.db, group).unwrap(), before);
        assert!(admin::orders(&app.db).unwrap().is_empty());
        assert_eq!(admin::payments_count(&app.db).unwrap(), 0);
    }

    /// The call and its alias, under `/api` and `/billing/api`, by POST and (allowed) GET.
    async fn every_path_and_the_alias_answer_alike(app) {
        add_card(&app, app.group, "1111111000", "5");
        for path in [
            "/api/card_group_get",
            "/billing/api/card_group_get",
            "/api/show_calling_card_group",
            "/billing/api/show_calling_card_group",
        ] {
            assert_eq!(app.request_at(path, CALL, &[("id", "1")]).await.body, group_one(1), "POST {path}");
            let signed = signed_call(CALL, &[("id", "1")], USER, PASSWORD, KEY);
            assert_eq!(app.get(path, &signed).await.body, group_one(1), "GET {path}");
        }
        admin::set_setting(&app.db, settings::ALLOW_GET_API, "0", OwnerId(0)).unwrap();
        let signed = signed_call(CALL, &[("id", "1")], USER, PASSWORD, KEY);
        app.get("/billing/api/show_calling_card_group", &signed).await.assert_filter_error("GET Requests are disabled");
    }

    /// The hash is `sha1(id + key)`; no other parameter enters it.
    async fn the_hash_covers_the_id_only(app) {
        let base = [("u", USER), ("p", PASSWORD), ("id", "1")];
        let with_hash = |hash: &str, extra: &[(&str, &str)]| -> Vec<(String, String)> {
            base.iter().chain(extra).chain([("hash", hash)].iter())
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect()
        };
        // The spec's example: id=1 with the key `secret`.
        let spec_hash = "bc2f114099d16656d37e45fd9e8744cb9386d462";
        assert_eq!(app.post_form("/api/card_group_get", &with_hash(spec_hash, &[])).await.body, group_one(0));
        // Parameters outside the hash change nothing, whatever they hold.
        let extra = [("quantity", "5"), ("number", "1"), ("email", "x@y.z"), ("amount", "5"), ("callerid", "4444"), ("cardgroup_id", "2")];
        assert_eq!(app.post_form("/api/show_calling_card_group", &with_hash(spec_hash, &extra)).await.body, group_one(0));
        // A hash over another id, over the parameters of another call, or none: refused.
        let other_id = signed_call(CALL, &[("id", "2")], USER, PASSWORD, KEY).pop().unwrap().1;
        let cc_by_cli_hash = signed_with(&[("callerid", "4444"), ("id", "1")], USER, PASSWORD, KEY).pop().unwrap().1;
        for hash in [other_id.as_str(), cc_by_cli_hash.as_str(), "", "BC2F114099D16656D37E45FD9E8744CB9386D462x"] {
            app.post_form("/api/card_group_get", &with_hash(hash, &[])).await.assert_filter_error("Incorrect hash");
        }
        let unsigned: Vec<(String, String)> = with_hash(spec_hash, &[]).into_iter().filter(|(name, _)| name != "hash").collect();
        app.post_form("/api/card_group_get", &unsigned).await.assert_filter_error("Incorrect hash");
        // And the login filters come first.
        app.request_as(CALL, &[("id", "1")], USER, "wrong", KEY).await.assert_filter_error("Bad login");
    }

    /// Only plain digits name a group, and only an owned, unhidden group is found.
    async fn a_missing_unknown_garbage_foreign_or_hidden_group_is_not_found(app) {
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        let foreign = reseller_group(&app, reseller).to_string();
        let hidden = admin::create_card_group(&app.db, &admin::CardGroupSpec { name: "Hidden".into(), ..Default::default() }).unwrap();
        add_card(&app, hidden, "1111111000", "5");
        admin::update_card_group(&app.db, hidden, &admin::CardGroupChange { hidden: Some(true), ..Default::default() }).unwrap();
        let hidden = hidden.to_string();
        for id in [
            "", "abc", "-1", "0", "999", "1.0", " 1", "1 ", "+1", "1e0", "0x1", "\u{0661}",
            "99999999999999999999", "9223372036854775808", foreign.as_str(), hidden.as_str(),
        ] {
            app.request(CALL, &[("id", id)]).await.assert_card_error("Cardgroup was not found");
        }
        app.request(CALL, &[]).await.assert_card_error("Cardgroup was not found");
        // Leading zeros are the same number.
        assert_eq!(app.request(CALL, &[("id", "0001")]).await.body, group_one(0));
        // Shown again, the hidden group is found with its card.
        admin::update_card_group(&app.db, CardGroupId(hidden.parse().unwrap()), &admin::CardGroupChange { hidden: Some(false), ..Default::default() }).unwrap();
        let answer = app.request(CALL, &[("id", hidden.as_str())]).await;
        assert!(answer.body.contains("<free_cards_size>1</free_cards_size>"), "{}", answer.body);
    }

    /// Users are refused by the filters; accountants see the admin's groups; a reseller sees
    /// its own groups only, and the admin not the reseller's.
    async fn who_may_see_which_group(app) {
        add_user(&app, "customer", UserType::User, OwnerId(0));
        add_user(&app, "accountant", UserType::Accountant, OwnerId(0));
        let reseller = add_user(&app, "reseller", UserType::Reseller, OwnerId(0));
        let own = reseller_group(&app, reseller);
        add_card(&app, own, "1111111000", "5");
        add_card(&app, own, "1111111001", "5");
        let own = own.to_string();
        app.request_as(CALL, &[("id", "1")], "customer", "pw", KEY).await.assert_filter_error("Access Denied");
        assert_eq!(app.request_as(CALL, &[("id", "1")], "accountant", "pw", KEY).await.body, group_one(0));
        app.request_as(CALL, &[("id", own.as_str())], "accountant", "pw", KEY).await.assert_card_error("Cardgroup was not found");
        let reseller_s = group_reply("Reseller group", "example.jpg", "", "0.0000", "0.0000", "USD", 2, 6, 10);
        assert_eq!(app.request_as(CALL, &[("id", own.as_str())], "reseller", "pw", KEY).await.body, reseller_s);
        app.request_as(CALL, &[("id", "1")], "reseller", "pw", KEY).await.assert_card_error("Cardgroup was not found");
        app.request(CALL, &[("id", own.as_str())]).await.assert_card_error("Cardgroup was not found");
        // With a key of its own, the reseller signs with it.
        admin::set_setting(&app.db, settings::API_SECRET_KEY, "reseller-key", OwnerId(reseller.0)).unwrap();
        let answer = app.request_as(CALL, &[("id", own.as_str())], "reseller", "pw", "reseller-key").await;
        assert!(answer.body.contains("<free_cards_size>2</free_cards_size>"), "{}", answer.body);
    }

    /// Prices print with `Nice_Number_Digits` decimals; the currency is the system currency's
    /// whatever the group's; the image, description and code lengths are the group's, escaped.
    async fn prices_codes_and_texts_are_the_group_s(app) {
        admin::set_exchange_rate(&app.db, "EUR", &BigDecimal::from_str("2").unwrap()).unwrap();
        let taxes = add_tax(&app, &["10", "10"], true);
        let spec = admin::CardGroupSpec {
            name: "Gold <&>".into(),
            description: "\"50\" minutes & more".into(),
            image: "gold.png".into(),
            price: money("100"),
            pin_length: 8,
            number_length: 12,
            tax_id: Some(taxes),
            currency: "EUR".into(),
            ..Default::default()
        };
        let group = admin::create_card_group(&app.db, &spec).unwrap();
        add_card(&app, group, "111111111000", "100");
        let id = group.to_string();
        let answer = app.request(CALL, &[("id", id.as_str())]).await;
        let root = crate::checks::parse_xml(&answer.body).unwrap();
        assert_eq!(root.text_at(&["cardgroup", "name"]), Some("Gold <&>"));
        assert_eq!(root.text_at(&["cardgroup", "description"]), Some("\"50\" minutes & more"));
        assert_eq!(root.text_at(&["cardgroup", "iamge_link"]), Some("/billing/cards/gold.png"));
        assert_eq!(root.text_at(&["cardgroup", "price"]), Some("100.0000"));
        // 100 * 1.1 * 1.1, in the system currency: no conversion.
        assert_eq!(root.text_at(&["cardgroup", "price_with_tax"]), Some("121.0000"));
        assert_eq!(root.text_at(&["cardgroup", "currency"]), Some("USD"));
        assert_eq!(root.text_at(&["cardgroup", "free_cards_size"]), Some("1"));
        assert_eq!(root.text_at(&["cardgroup", "pin_length"]), Some("8"));
        assert_eq!(root.text_at(&["cardgroup", "number_length"]), Some("12"));
        assert!(answer.body.contains("<name>Gold &lt;&amp;&gt;</name>"), "{}", answer.body);
        // Two decimals; then the spec group's price, rounded half away from zero.
        admin::set_setting(&app.db, settings::NICE_NUMBER_DIGITS, "2", OwnerId(0)).unwrap();
        let spec_id = spec_group(&app).to_string();
        assert_eq!(
            app.request(CALL, &[("id", spec_id.as_str())]).await.body,
            group_reply("Test_cardgroup", "example.jpg", "10 minutes cards", "10.08", "12.20", "USD", 0, 4, 10)
        );
        admin::set_setting(&app.db, settings::NICE_NUMBER_DIGITS, "6", OwnerId(0)).unwrap();
        assert_eq!(
            app.request(CALL, &[("id", spec_id.as_str())]).await.body,
            group_reply("Test_cardgroup", "example.jpg", "10 minutes cards", "10.084034", "12.201681", "USD", 0, 4, 10)
        );
    }

    /// Cards cc_by_cli sold, emptied or bound to a caller ID leave the stock.
    async fn the_stock_follows_cc_by_cli(app) {
        let voucher = add_card_with(&app, app.group, "1111111000", Some("111111"), "20", false, None);
        add_card_with(&app, app.group, "1111111001", Some("222222"), "20", false, None);
        add_card_with(&app, app.group, "1111111002", Some("333333"), "20", false, None);
        assert_eq!(app.request(CALL, &[("id", "1")]).await.body, group_one(3));
        // A PIN activated for a caller ID is sold.
        app.call(&[("callerid", "4444"), ("pin", "222222")]).await;
        assert_eq!(app.request(CALL, &[("id", "1")]).await.body, group_one(2));
        // A voucher whose balance went to a caller's card is unsold but empty: not free.
        app.call(&[("callerid", "4444"), ("pin", "111111")]).await;
        let emptied = admin::card(&app.db, voucher).unwrap().unwrap();
        assert!(!emptied.sold && emptied.balance.is_zero());
        assert_eq!(app.request(CALL, &[("id", "1")]).await.body, group_one(1));
    }

    /// A system currency no arithmetic can use: `Failed to make transaction`, in the call's
    /// envelope.
    async fn a_broken_system_currency_fails_in_the_call_s_envelope(app) {
        admin::set_exchange_rate(&app.db, "USD", &BigDecimal::from(0)).unwrap();
        app.request(CALL, &[("id", "1")]).await.assert_card_error("Failed to make transaction");
    }
}
