//! The call end to end through `morcc_domain::cc_by_cli` on a real database, with the ledger
//! invariant (each balance equals the sum of its payments) after every branch.

use std::str::FromStr;

use morcc_adapters::admin::{self, CardGroupSpec, CardSpec, TaxSpec};
use morcc_domain::{BigDecimal, CallerId, CcError, Holder, Money, OwnerId, StoreError, UserType};

use crate::support::*;

contract_tests! {
    /// A new card, top-ups on it, and a PIN transfer between two cards of one group.
    fn cards_are_created_topped_up_and_merged(db: &Database) {
        let caller = admin(db);
        let group = group(db, "cards");
        let gid = group.to_string();

        assert_eq!(call(db, &caller, &request("600", "", "", "")), Err(CcError::CardNotFound));
        let created = card_call(db, &caller, &request("600", "", "100", &gid));
        assert_eq!(created.card.balance, money("100"));
        assert_eq!((created.card.pin.expose().len(), created.card.number.as_str().len()), (6, 10));
        assert_eq!(created.card.cardgroup_id, group);
        assert_card_ledger(db, created.card.id);

        let topped = card_call(db, &caller, &request("600", "", "50.5", ""));
        assert_eq!((topped.card.id, topped.card.balance.clone()), (created.card.id, money("150.5")));
        let looked_up = card_call(db, &caller, &request("600", "", "", &gid));
        assert_eq!(looked_up.card, topped.card);
        assert_card_ledger(db, created.card.id);

        let other = card_call(db, &caller, &request("700", "", "20", &gid));
        let merged = card_call(db, &caller, &request("600", other.card.pin.expose(), "", ""));
        assert_eq!((merged.card.id, merged.card.balance.clone()), (created.card.id, money("170.5")));
        let emptied = admin::card(db, other.card.id).unwrap().unwrap();
        assert_eq!((emptied.balance.clone(), emptied.sold), (Money::zero(), false));
        assert_eq!(
            call(db, &caller, &request("600", other.card.pin.expose(), "", "")),
            Err(CcError::PinBalanceZero)
        );
        assert_card_ledger(db, created.card.id);
        assert_card_ledger(db, other.card.id);
        assert_eq!(admin::payments_for(db, Holder::Card(created.card.id)).unwrap().len(), 3);
    }

    /// A move to another group, priced with tax in a foreign currency (spec §4.3's example).
    fn moves_carry_the_balance_and_price_the_amount(db: &Database) {
        let caller = admin(db);
        let home = group(db, "home");
        let tax = admin::create_tax(db, &TaxSpec {
            values: ["10", "10", "10", "10"].map(|rate| BigDecimal::from_str(rate).unwrap()),
            enabled: [true; 4],
            compound: true,
        }).unwrap();
        admin::set_exchange_rate(db, "EUR", &BigDecimal::from(2)).unwrap();
        let abroad = admin::create_card_group(db, &CardGroupSpec {
            name: "abroad".into(),
            tax_id: Some(tax),
            currency: "EUR".into(),
            ..CardGroupSpec::default()
        }).unwrap();

        let old = card_call(db, &caller, &request("800", "", "10", &home.to_string()));
        let moved = card_call(db, &caller, &request("800", "", "300", &abroad.to_string()));
        assert_ne!(moved.card.id, old.card.id);
        assert_eq!(moved.card.cardgroup_id, abroad);
        assert_eq!(moved.card.balance.display(4), "112.4520");
        let left = admin::card(db, old.card.id).unwrap().unwrap();
        assert_eq!((left.balance.clone(), left.sold, left.callerid), (Money::zero(), false, None));
        let holder = admin::card_by_callerid(db, &CallerId::parse("800").unwrap()).unwrap().unwrap();
        assert_eq!(holder.id, moved.card.id);
        assert_card_ledger(db, old.card.id);
        assert_card_ledger(db, moved.card.id);
        let top_up = admin::payments_for(db, Holder::Card(moved.card.id)).unwrap().pop().unwrap();
        assert_eq!((top_up.gross, top_up.currency.as_str()), (money("300"), "EUR"));
        assert_eq!(&top_up.amount + &top_up.tax, money("150"));
    }

    /// The device path: a user's top-up with the user's tax removed, and a PIN paid to a user.
    fn devices_top_up_their_users(db: &Database) {
        let caller = admin(db);
        let group = group(db, "cards");
        let customer = admin::create_user(db, "customer", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        let tax = admin::create_tax(db, &TaxSpec {
            values: ["25", "0", "0", "0"].map(|rate| BigDecimal::from_str(rate).unwrap()),
            enabled: [true, false, false, false],
            compound: false,
        }).unwrap();
        admin::set_user_tax(db, customer, Some(tax)).unwrap();
        let phone = admin::create_device(db, "phone", customer.0, &CallerId::parse("555").unwrap()).unwrap();

        let reply = device_call(db, &caller, &request("555", "", "125", ""));
        assert_eq!((reply.device_id, reply.user_id), (phone, customer));
        assert_eq!(reply.new_balance, money("100"));
        assert_eq!(reply.new_balance_with_vat.display(2), "125.00");

        let card = card_call(db, &caller, &request("900", "", "7", &group.to_string()));
        let reply = device_call(db, &caller, &request("555", card.card.pin.expose(), "", ""));
        assert_eq!(reply.new_balance, money("107"));
        assert_user_ledger(db, customer);
        assert_card_ledger(db, card.card.id);

        let trunk = admin::create_device(db, "trunk", -1, &CallerId::parse("556").unwrap()).unwrap();
        let _ = trunk;
        assert_eq!(call(db, &caller, &request("556", "", "1", "")), Err(CcError::CallerIdBelongsToProvider));
    }

    /// A top-up past DECIMAL(30,15) (16 integer digits) fails on both backends before anything
    /// is written: MySQL would clamp the balance, SQLite would keep it, and either way the
    /// balance would part from the sum of its payments.
    fn balances_past_decimal_30_15_are_refused(db: &Database) {
        let caller = admin(db);
        let group = group(db, "cards");
        let full = money("999999999999999");
        let card = admin::create_card(db, &CardSpec {
            cardgroup_id: group,
            balance: full.clone(),
            pin: None,
            number: None,
            callerid: Some(CallerId::parse("4444").unwrap()),
            sold: true,
        }).unwrap();
        let outcome = call(db, &caller, &request("4444", "", "1", ""));
        assert!(matches!(outcome, Err(CcError::Storage(StoreError::Failure(_)))), "{outcome:?}");
        assert_eq!(admin::card(db, card).unwrap().unwrap().balance, full);
        assert!(admin::payments_for(db, Holder::Card(card)).unwrap().is_empty());

        let customer = admin::create_user(db, "customer", "pw", &UserType::User, OwnerId(0), &full).unwrap();
        admin::create_device(db, "phone", customer.0, &CallerId::parse("555").unwrap()).unwrap();
        let outcome = call(db, &caller, &request("555", "", "0.5", ""));
        assert!(matches!(outcome, Ok(morcc_domain::Reply::Device(_))), "{outcome:?}");
        let outcome = call(db, &caller, &request("555", "", "0.5", ""));
        assert!(matches!(outcome, Err(CcError::Storage(StoreError::Failure(_)))), "{outcome:?}");
        assert_eq!(admin::user_balance(db, customer).unwrap(), Some(money("999999999999999.5")));
        assert_eq!(admin::payments_for(db, Holder::User(customer)).unwrap().len(), 1);
    }

    /// The operator's cards and the call's cards get codes of the same lengths: a length of 0
    /// means MOR's default (10 and 6), and none is wider than its column (255).
    fn operator_and_call_agree_on_code_lengths(db: &Database) {
        let caller = admin(db);
        for (configured, number_digits, pin_digits) in [(0, 10, 6), (300, 255, 255), (7, 7, 7)] {
            let group = admin::create_card_group(db, &CardGroupSpec {
                name: format!("lengths {configured}"),
                number_length: configured,
                pin_length: configured,
                ..CardGroupSpec::default()
            }).unwrap();
            let by_operator = admin::create_card(db, &CardSpec {
                cardgroup_id: group,
                balance: Money::zero(),
                pin: None,
                number: None,
                callerid: None,
                sold: false,
            }).unwrap();
            let by_operator = admin::card(db, by_operator).unwrap().unwrap();
            let by_call = card_call(db, &caller, &request(&format!("9{configured}"), "", "1", &group.to_string())).card;
            for card in [by_operator, by_call] {
                assert_eq!(
                    (card.number.as_str().len(), card.pin.expose().len()),
                    (number_digits, pin_digits),
                    "group with length {configured}"
                );
            }
        }
    }
}
