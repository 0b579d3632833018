//! card_calls.md §5: `card_payment_add` tops up an owned, sold card found by its number, in the
//! request's currency, with the group's tax removed, when payments over the API are on.

use morcc_domain::ports::{MockDirectory, MockLedger};
use morcc_domain::{
    card_payment_add, Caller, Card, CardCallError, CardGroup, CardId, CardNumber, CardPayment,
    Conversion, Holder, Money, Payment, PaymentRequest, StoreError, TaxId, UserType,
    TRANSACTION_FAILED,
};

use crate::support::*;

const SETTING: &str = "API_Allow_payments_ower_API";
const EUR: &str = "EUR";
/// The spec's card.
const NUMBER: &str = "1111111001";
const BALANCE: &str = "10.084033613445378";

/// Group 1 (the spec's: taxed 5 % and 2 % compound), 2 (hidden), 3 (another owner's); EUR at
/// the spec's rate, GBP inactive, ZZZ with a rate of 0. Cards: 1 (the spec's, sold), 12
/// (unsold), 13 (hidden), 21 (in the hidden group), 31 (another owner's).
fn world() -> World {
    World {
        groups: vec![
            CardGroup {
                name: "Test_cardgroup".into(),
                tax_id: Some(TaxId(1)),
                ..group(1)
            },
            CardGroup {
                hidden: true,
                ..group(2)
            },
            CardGroup {
                owner_id: OTHER_OWNER,
                ..group(3)
            },
        ],
        taxes: vec![(TaxId(1), tax(&["5", "2"], true))],
        currencies: vec![
            currency(EUR, "0.73853104"),
            morcc_domain::Currency {
                active: false,
                ..currency("GBP", "0.8")
            },
            currency("ZZZ", "0"),
        ],
        cards: vec![
            with_number(card(1, 1, BALANCE), NUMBER),
            unsold_card(12, 1, "10"),
            Card {
                hidden: true,
                ..card(13, 1, "10")
            },
            card(21, 2, "10"),
            card(31, 3, "10"),
        ],
        ..World::default()
    }
}

/// Payments over the API are on.
fn enabled() -> MockDirectory {
    directory(Vec::new(), &[(SETTING, 0, "1")])
}

fn to_card<'a>(number: &'a str, amount: &'a str) -> PaymentRequest<'a> {
    PaymentRequest {
        number: Some(number),
        amount: Some(amount),
        ..PaymentRequest::default()
    }
}

/// Runs the call; returns its outcome and how many units of work ran (none may be a look-up).
fn pay(
    directory: &MockDirectory,
    caller: &Caller,
    ledger: MockLedger,
    request: &PaymentRequest<'_>,
) -> (Result<CardPayment, CardCallError>, usize) {
    let store = TestStore::new(ledger);
    let result = card_payment_add(&store, directory, caller, request);
    assert_eq!(store.look_ups(), 0, "a transaction, never a look-up");
    (result, store.transactions())
}

/// Runs the call on the world's ledger, which accepts every write.
fn pay_in(
    world: &World,
    caller: &Caller,
    request: &PaymentRequest<'_>,
) -> (Result<CardPayment, CardCallError>, Writes) {
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let (outcome, transactions) = pay(&enabled(), caller, ledger, request);
    assert_eq!(transactions, 1, "one transaction");
    (outcome, writes)
}

/// The outcome on the world's ledger, which expects no write.
fn refused(caller: &Caller, request: &PaymentRequest<'_>) -> CardCallError {
    let (outcome, _) = pay(&enabled(), caller, world().ledger(), request);
    outcome.expect_err("the payment is refused")
}

// The spec's example.

#[test]
fn the_spec_s_example_5_eur_on_a_card_taxed_5_and_2_percent_compound() {
    let world = world();
    let request = PaymentRequest {
        description: Some("refill"),
        currency: Some(EUR),
        ..to_card(NUMBER, "5")
    };
    let (outcome, writes) = pay_in(&world, &admin(), &request);
    let paid = outcome.expect("the payment is made");
    assert_eq!(
        paid,
        CardPayment {
            group_name: "Test_cardgroup".into(),
            number: CardNumber::parse(NUMBER).unwrap(),
            paid: money("5"),
            currency: EUR.into(),
            conversion: Some(Conversion {
                converted_to: SYSTEM_CURRENCY.into(),
                exchange_rate: money("0.73853104"),
            }),
            amount_with_tax: money("6.770196145039483"),
            amount_without_tax: money("6.321378286684858"),
            current_balance: money(BALANCE),
            new_balance: money("16.405411900130236"),
            description: "refill".into(),
        }
    );
    // As the reply prints them.
    assert_eq!(paid.paid.plain(), "5.0");
    assert_eq!(
        paid.conversion.as_ref().unwrap().exchange_rate.plain(),
        "0.73853104"
    );
    assert_eq!(paid.amount_with_tax.plain(), "6.770196145039483");
    assert_eq!(paid.amount_without_tax.plain(), "6.321378286684858");
    assert_eq!(paid.current_balance.plain(), "10.084033613445378");
    assert_eq!(paid.new_balance.plain(), "16.405411900130236");

    let payment = Payment {
        holder: Holder::Card(CardId(1)),
        amount: money("6.321378286684858"),
        tax: money("0.448817858354625"),
        gross: money("5"),
        currency: EUR.into(),
        owner_id: ADMIN_OWNER,
        description: "refill".into(),
    };
    let topped_up = Card {
        balance: money("16.405411900130236"),
        ..world.cards[0].clone()
    };
    assert_eq!(
        writes.all(),
        vec![
            Write::UpdateCard(topped_up),
            Write::Payment(payment.clone())
        ]
    );
    // Net + tax is the converted gross exactly.
    assert_eq!(&payment.amount + &payment.tax, money("6.770196145039483"));
}

#[test]
fn a_payment_in_the_system_currency_is_not_converted_and_only_loses_the_tax() {
    let (outcome, writes) = pay_in(&world(), &admin(), &to_card(NUMBER, "107.1"));
    let paid = outcome.expect("the payment is made");
    assert_eq!(paid.conversion, None);
    assert_eq!(paid.currency, SYSTEM_CURRENCY);
    assert_eq!(paid.amount_with_tax, money("107.1"));
    assert_eq!(paid.amount_without_tax, money("100"));
    assert_eq!(paid.new_balance, &money(BALANCE) + &money("100"));
    assert_eq!(paid.description, "");
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::Card(CardId(1)),
            "100",
            "7.1",
            "107.1",
            SYSTEM_CURRENCY
        )]
    );
    assert_eq!(writes.payments()[0].description, "");
}

#[test]
fn an_absent_empty_or_named_system_currency_is_the_system_currency() {
    for currency in [None, Some(""), Some(SYSTEM_CURRENCY)] {
        let request = PaymentRequest {
            currency,
            ..to_card(NUMBER, "10.71")
        };
        let (outcome, writes) = pay_in(&world(), &admin(), &request);
        let paid = outcome.expect("the payment is made");
        assert_eq!(paid.currency, SYSTEM_CURRENCY, "{currency:?}");
        assert_eq!(paid.conversion, None, "{currency:?}");
        assert_eq!(paid.amount_without_tax, money("10"), "{currency:?}");
        assert_eq!(writes.payments()[0].currency, SYSTEM_CURRENCY);
    }
}

#[test]
fn a_zero_amount_writes_nothing_and_answers_the_balance_as_current_and_new() {
    for amount in [None, Some(""), Some("0"), Some("0.00"), Some("000.000")] {
        let request = PaymentRequest {
            number: Some(NUMBER),
            amount,
            ..PaymentRequest::default()
        };
        // No write is expected: any would panic.
        let (outcome, transactions) = pay(&enabled(), &admin(), world().ledger(), &request);
        let paid = outcome.expect("a zero payment is answered");
        assert_eq!(transactions, 1);
        assert!(paid.paid.is_zero(), "{amount:?}");
        assert_eq!(paid.amount_with_tax, Money::zero(), "{amount:?}");
        assert_eq!(paid.amount_without_tax, Money::zero(), "{amount:?}");
        assert_eq!(paid.amount_with_tax.plain(), "0.0");
        assert_eq!(paid.current_balance, money(BALANCE));
        assert_eq!(paid.new_balance, money(BALANCE));
    }
}

#[test]
fn a_zero_amount_in_another_currency_writes_nothing_either() {
    let request = PaymentRequest {
        currency: Some(EUR),
        ..to_card(NUMBER, "0")
    };
    let (outcome, _) = pay(&enabled(), &admin(), world().ledger(), &request);
    let paid = outcome.expect("a zero payment is answered");
    assert_eq!(paid.currency, EUR);
    assert_eq!(paid.new_balance, money(BALANCE));
}

// 1. The setting, before anything else.

#[test]
fn payments_are_a_disabled_feature_unless_the_admin_s_setting_is_1() {
    let callers = [
        admin(),
        reseller(),
        caller_of_type(UserType::Accountant),
        caller_of_type(UserType::User),
    ];
    for settings in [
        vec![],
        vec![(SETTING, 0, "0")],
        vec![(SETTING, 0, "yes")],
        vec![(SETTING, 0, "")],
        // A reseller's own setting does not count.
        vec![(SETTING, OTHER_OWNER.0, "1")],
    ] {
        let directory = directory(Vec::new(), &settings);
        for caller in &callers {
            // The ledger expects nothing and no transaction may start.
            let (outcome, transactions) =
                pay(&directory, caller, MockLedger::new(), &to_card(NUMBER, "5"));
            let error = outcome.unwrap_err();
            assert_eq!(
                error,
                CardCallError::FeatureDisabled,
                "{settings:?} {caller:?}"
            );
            assert_eq!(error.text(), "Feature Disabled");
            assert_eq!(transactions, 0);
        }
    }
}

#[test]
fn a_failure_to_read_the_setting_fails_the_transaction() {
    let mut directory = MockDirectory::new();
    directory
        .expect_setting()
        .returning(|_, _| Err(StoreError::Failure("down".into())));
    let (outcome, transactions) = pay(
        &directory,
        &admin(),
        MockLedger::new(),
        &to_card(NUMBER, "5"),
    );
    assert_eq!(
        outcome,
        Err(CardCallError::Storage(StoreError::Failure("down".into())))
    );
    assert_eq!(transactions, 0);
}

// 2. Who may pay.

#[test]
fn an_accountant_or_a_user_is_denied_access_without_a_transaction() {
    for usertype in [
        UserType::Accountant,
        UserType::User,
        UserType::parse("partner"),
    ] {
        let (outcome, transactions) = pay(
            &enabled(),
            &caller_of_type(usertype.clone()),
            MockLedger::new(),
            &to_card(NUMBER, "5"),
        );
        let error = outcome.unwrap_err();
        assert_eq!(error, CardCallError::AccessDenied, "{usertype:?}");
        assert_eq!(error.text(), "Access Denied");
        assert_eq!(transactions, 0);
    }
}

#[test]
fn a_reseller_pays_onto_its_own_card_and_the_payment_is_its_own() {
    let (outcome, writes) = pay_in(&world(), &reseller(), &to_card(&format!("{:010}", 31), "3"));
    assert_eq!(outcome.expect("paid").new_balance, money("13"));
    assert_eq!(
        rows(&writes.payments()),
        vec![Row {
            owner: OTHER_OWNER,
            ..row(Holder::Card(CardId(31)), "3", "0", "3", SYSTEM_CURRENCY)
        }]
    );
    assert_eq!(
        refused(&reseller(), &to_card(NUMBER, "3")),
        CardCallError::CallingCardNotFound
    );
}

// 3. The card.

#[test]
fn an_unsold_hidden_another_owner_s_or_unknown_card_is_not_found() {
    for number in [
        "0000000012",
        "0000000013",
        "0000000021",
        "0000000031",
        "0000000099",
        "111111100",
        "1111111001 ",
    ] {
        let error = refused(&admin(), &to_card(number, "5"));
        assert_eq!(error, CardCallError::CallingCardNotFound, "{number}");
        assert_eq!(error.text(), "Calling Card was not found");
    }
}

#[test]
fn a_missing_or_empty_number_is_not_found_without_a_look_up() {
    for number in [None, Some("")] {
        let request = PaymentRequest {
            number,
            amount: Some("5"),
            ..PaymentRequest::default()
        };
        // The ledger expects nothing: a look-up would panic.
        let (outcome, _) = pay(&enabled(), &admin(), MockLedger::new(), &request);
        assert_eq!(
            outcome,
            Err(CardCallError::CallingCardNotFound),
            "{number:?}"
        );
    }
}

#[test]
fn the_card_is_looked_for_before_the_currency_and_the_amount() {
    let request = PaymentRequest {
        currency: Some("XYZ"),
        ..to_card("0000000099", "abc")
    };
    assert_eq!(
        refused(&admin(), &request),
        CardCallError::CallingCardNotFound
    );
}

// 4. The currency.

#[test]
fn an_unknown_currency_is_not_found_matching_names_exactly() {
    for currency in ["XYZ", "eur", "EUR ", " EUR"] {
        let request = PaymentRequest {
            currency: Some(currency),
            ..to_card(NUMBER, "5")
        };
        let error = refused(&admin(), &request);
        assert_eq!(error, CardCallError::CurrencyNotFound, "{currency:?}");
        assert_eq!(error.text(), "Currency was not found");
    }
}

#[test]
fn an_inactive_currency_is_disabled() {
    let request = PaymentRequest {
        currency: Some("GBP"),
        ..to_card(NUMBER, "5")
    };
    let error = refused(&admin(), &request);
    assert_eq!(error, CardCallError::CurrencyDisabled);
    assert_eq!(error.text(), "Currency disabled");
}

#[test]
fn the_currency_is_checked_before_the_amount() {
    let request = PaymentRequest {
        currency: Some("XYZ"),
        ..to_card(NUMBER, "-5")
    };
    assert_eq!(refused(&admin(), &request), CardCallError::CurrencyNotFound);
}

#[test]
fn a_currency_with_a_rate_of_zero_fails_the_transaction() {
    let request = PaymentRequest {
        currency: Some("ZZZ"),
        ..to_card(NUMBER, "5")
    };
    let error = refused(&admin(), &request);
    assert!(matches!(error, CardCallError::Inconsistent(_)), "{error:?}");
    assert_eq!(error.text(), TRANSACTION_FAILED);
}

// 5. The amount.

#[test]
fn an_amount_that_is_not_a_plain_decimal_is_invalid_and_nothing_is_written() {
    for amount in [
        "-5",
        "+5",
        "abc",
        "1e3",
        "5,0",
        " 5",
        "5 ",
        "5.",
        ".5",
        "NaN",
        "0x10",
        "1234567890123456",
        "1.1234567890123456",
    ] {
        let error = refused(&admin(), &to_card(NUMBER, amount));
        assert_eq!(error, CardCallError::InvalidAmount, "{amount:?}");
        assert_eq!(error.text(), "Invalid amount");
    }
}

#[test]
fn the_largest_plain_amount_is_accepted() {
    let (outcome, writes) = pay_in(
        &world(),
        &admin(),
        &to_card(NUMBER, "999999999999999.999999999999999"),
    );
    assert!(outcome.is_ok(), "{outcome:?}");
    assert_eq!(writes.payments().len(), 1);
}

// Failures.

#[test]
fn without_a_system_currency_the_transaction_fails() {
    let world = World {
        system: None,
        ..world()
    };
    let (outcome, _) = pay(&enabled(), &admin(), world.ledger(), &to_card(NUMBER, "5"));
    let error = outcome.unwrap_err();
    assert!(matches!(error, CardCallError::Inconsistent(_)), "{error:?}");
}

#[test]
fn a_failed_payment_row_fails_the_transaction() {
    let mut ledger = world().ledger();
    ledger.expect_update_card().times(1).returning(|_| Ok(()));
    ledger
        .expect_record_payment()
        .times(1)
        .returning(|_| Err(StoreError::Conflict("deadlock".into())));
    let (outcome, _) = pay(&enabled(), &admin(), ledger, &to_card(NUMBER, "5"));
    let error = outcome.unwrap_err();
    assert_eq!(
        error,
        CardCallError::Storage(StoreError::Conflict("deadlock".into()))
    );
    assert!(error.is_service_failure());
}
