//! Spec §4.3: taxes and currencies, with worked figures.

use morcc_domain::pricing::OptionalTax;
use morcc_domain::{CardGroup, CardId, CcError, Holder, Money, Payment, Tax, TaxId, UserId};

use crate::support::*;

const EUR: &str = "EUR";

/// Group 1 with tax row 1 and priced in `currency`; EUR is worth half a USD (rate 2).
fn world_with(group_tax: Tax, group_currency: &str) -> World {
    World {
        groups: vec![CardGroup {
            tax_id: Some(TaxId(1)),
            currency: group_currency.to_owned(),
            ..group(1)
        }],
        taxes: vec![(TaxId(1), group_tax)],
        currencies: vec![currency(EUR, "2")],
        ..World::default()
    }
}

fn four_compound_tens() -> Tax {
    tax(&["10", "10", "10", "10"], true)
}

/// The only payment written, or a panic.
fn only_payment(payments: &[Payment]) -> &Payment {
    match payments {
        [payment] => payment,
        other => panic!("expected one payment, got {other:?}"),
    }
}

#[test]
fn a_top_up_of_100_with_one_10_percent_tax_gives_90_9091_and_100_with_vat() {
    let mut world = world_with(tax(&["10"], false), "");
    world.cards = vec![card_with_cli(8, 1, "0", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("100")));
    assert_eq!(reply.card.balance.display(4), "90.9091");
    assert_eq!(reply.card.balance.to_stored_string(), "90.909090909090909");
    assert_eq!(reply.balance_with_vat.display(4), "100.0000");
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::Card(CardId(8)),
            "90.909090909090909",
            "9.090909090909091",
            "100",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_new_card_of_300_eur_at_rate_2_with_four_compound_10_percent_taxes_gives_102_4520_and_150() {
    let world = world_with(four_compound_tens(), EUR);
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("300").group("1")));
    assert_eq!(reply.card.balance.display(4), "102.4520");
    assert_eq!(reply.balance_with_vat.display(4), "150.0000");
    let payment = only_payment(&writes.payments()).clone();
    assert_eq!(payment.holder, Holder::Card(reply.card.id));
    assert_eq!(payment.amount, reply.card.balance);
    assert_eq!(payment.gross, money("300"));
    assert_eq!(payment.currency, EUR);
    assert_eq!(&payment.amount + &payment.tax, money("150"));
}

#[test]
fn a_group_with_a_blank_currency_is_priced_in_the_system_currency() {
    let world = world_with(Tax::none(), "   ");
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("100").group("1")));
    assert_eq!(reply.card.balance, money("100"));
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::Card(reply.card.id),
            "100",
            "0",
            "100",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_group_with_an_unknown_currency_is_priced_in_the_system_currency_not_zero() {
    let mut world = world_with(tax(&["10"], false), "XYZ");
    world.cards = vec![card_with_cli(8, 1, "1", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("110")));
    assert_eq!(reply.card.balance, money("101"));
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::Card(CardId(8)),
            "100",
            "10",
            "110",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_group_priced_in_the_system_currency_by_name_is_not_converted() {
    let world = world_with(Tax::none(), SYSTEM_CURRENCY);
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("42").group("1")));
    assert_eq!(reply.card.balance, money("42"));
    assert_eq!(only_payment(&writes.payments()).currency, SYSTEM_CURRENCY);
}

#[test]
fn additive_taxes_sum_their_rates() {
    let world = world_with(tax(&["10", "10"], false), "");
    let mut ledger = world.ledger();
    allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("120").group("1")));
    assert_eq!(reply.card.balance, money("100"));
    assert_eq!(reply.balance_with_vat.display(4), "120.0000");
}

#[test]
fn a_disabled_tax_does_not_count_but_tax1_always_does() {
    let disabled = OptionalTax {
        enabled: false,
        percent: decimal("50"),
    };
    let tax = Tax::from_row(
        decimal("25"),
        [disabled.clone(), disabled.clone(), disabled],
        true,
    );
    let world = world_with(tax, "");
    let mut ledger = world.ledger();
    allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("125").group("1")));
    assert_eq!(reply.card.balance, money("100"));
}

#[test]
fn a_tax_id_without_a_taxes_row_means_no_tax() {
    let mut world = world_with(tax(&["10"], false), "");
    world.taxes.clear();
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("100").group("1")));
    assert_eq!(reply.card.balance, money("100"));
    assert_eq!(reply.balance_with_vat.display(4), "100.0000");
    assert!(only_payment(&writes.payments()).tax.is_zero());
}

#[test]
fn the_device_path_strips_the_users_compound_tax_without_converting() {
    let world = World {
        devices: vec![("5550001".to_owned(), device(3, 20))],
        users: vec![morcc_domain::User {
            tax_id: Some(TaxId(2)),
            ..user(20, ADMIN_OWNER, "0")
        }],
        taxes: vec![(TaxId(2), tax(&["10", "10"], true))],
        currencies: vec![currency(EUR, "2")],
        ..World::default()
    };
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = device_reply(run(ledger, &ask("5550001").amount("121")));
    assert_eq!(reply.new_balance, money("100"));
    assert_eq!(reply.new_balance_with_vat.display(4), "121.0000");
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::User(UserId(20)),
            "100",
            "21",
            "121",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_move_carries_the_old_balance_as_it_is_and_adds_the_converted_stripped_amount() {
    let mut world = world_with(tax(&["10"], false), EUR);
    // The old group 2 has a tax of its own: it must not be stripped from the carried balance.
    world.groups.push(CardGroup {
        tax_id: Some(TaxId(1)),
        ..group(2)
    });
    world.cards = vec![card_with_cli(8, 2, "50", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("220").group("1")));
    // 220 EUR is 110 USD, 100 without the tax; plus the 50 carried.
    assert_eq!(reply.card.balance, money("150"));
    assert_eq!(reply.balance_with_vat.display(4), "165.0000");
    let new_id = reply.card.id;
    assert_eq!(
        rows(&writes.payments()),
        vec![
            row(Holder::Card(CardId(8)), "-50", "0", "50", SYSTEM_CURRENCY),
            row(Holder::Card(new_id), "50", "0", "50", SYSTEM_CURRENCY),
            row(Holder::Card(new_id), "100", "10", "220", EUR),
        ]
    );
}

#[test]
fn pin_transfers_move_balances_as_they_are_without_tax_or_conversion() {
    let mut world = world_with(four_compound_tens(), EUR);
    world.cards = vec![card_with_cli(8, 1, "10", CLI), card(7, 1, "30")];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).pin(&pin_of(7))));
    assert_eq!(reply.card.balance, money("40"));
    for payment in writes.payments() {
        assert!(payment.tax.is_zero(), "{payment:?}");
        assert_eq!(payment.gross, money("30"));
        assert_eq!(payment.currency, SYSTEM_CURRENCY);
    }
}

#[test]
fn a_payments_net_amount_plus_its_tax_is_the_converted_gross() {
    let rate = decimal("3");
    for (amount, taxes, compound) in [
        ("100", vec!["10"], false),
        ("0.01", vec!["7"], false),
        ("7", vec!["10", "5", "3.5"], true),
        ("123456.789", vec!["21", "4"], false),
    ] {
        let mut world = world_with(tax(&taxes, compound), "GBP");
        world.currencies.push(currency("GBP", "3"));
        let mut ledger = world.ledger();
        let writes = allow_writes(&mut ledger);
        let reply = card_reply(run(ledger, &ask(CLI).amount(amount).group("1")));
        let payment = only_payment(&writes.payments()).clone();
        let converted = Money::from_decimal(money(amount).as_decimal() / &rate);
        assert_eq!(&payment.amount + &payment.tax, converted, "{amount}");
        assert_eq!(payment.amount, reply.card.balance, "{amount}");
        assert!(payment.tax.is_positive(), "{amount}");
        assert_eq!(payment.gross, money(amount));
        assert_eq!(payment.currency, "GBP");
    }
}

#[test]
fn balances_are_stored_with_fifteen_decimals_and_rounded_only_when_printed() {
    // Two earlier top-ups of 1 at 7 % left 2 x 0.934579439252336; a third brings 2.8037...
    // Rounding each top-up to 4 decimals first would print 2.8038.
    let mut world = world_with(tax(&["7"], false), "");
    world.cards = vec![card_with_cli(8, 1, "1.869158878504672", CLI)];
    let mut ledger = world.ledger();
    allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("1")));
    assert_eq!(reply.card.balance.to_stored_string(), "2.803738317757008");
    assert_eq!(reply.card.balance.display(4), "2.8037");
    assert_eq!(reply.balance_with_vat.display(4), "3.0000");
}

#[test]
fn a_currency_with_a_rate_of_zero_fails_the_transaction_without_a_write() {
    let mut world = world_with(Tax::none(), "ZZZ");
    world.currencies.push(currency("ZZZ", "0"));
    assert!(matches!(
        run(world.ledger(), &ask(CLI).amount("10").group("1")),
        Err(CcError::Inconsistent(_))
    ));
}

#[test]
fn a_missing_system_currency_fails_the_transaction_without_a_write() {
    let mut world = world_with(Tax::none(), "");
    world.system = None;
    world.cards = vec![card_with_cli(8, 1, "1", CLI)];
    assert!(matches!(
        run(world.ledger(), &ask(CLI).amount("10")),
        Err(CcError::Inconsistent(_))
    ));
}

#[test]
fn a_look_up_needs_no_currency_at_all() {
    let mut world = world_with(tax(&["10"], false), "");
    world.system = None;
    world.cards = vec![card_with_cli(8, 1, "90.909090909090909", CLI)];
    let reply = card_reply(run(world.ledger(), &ask(CLI)));
    assert_eq!(reply.card, world.cards[0]);
    assert_eq!(reply.balance_with_vat.display(4), "100.0000");
}

#[test]
fn a_tax_row_adding_up_to_minus_100_percent_fails_the_transaction_without_a_write() {
    let mut world = world_with(tax(&["-100"], false), "");
    world.cards = vec![card_with_cli(8, 1, "5", CLI)];
    // No write is allowed: the request must fail before any, instead of dividing by zero.
    let outcome = run(world.ledger(), &ask(CLI).amount("10"));
    assert!(
        matches!(outcome, Err(CcError::Inconsistent(_))),
        "{outcome:?}"
    );
}
