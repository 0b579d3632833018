//! What the call refuses before it opens a transaction, and how it reads its parameters.

use morcc_domain::ports::MockLedger;
use morcc_domain::{cc_by_cli, CardRequest, CcError, Holder, Reply};

use crate::support::*;

/// Runs a request on a ledger that answers nothing: any read or write would panic.
fn run_untouched(request: &CardRequest) -> (Result<Reply, CcError>, usize) {
    let store = TestStore::new(MockLedger::new());
    let result = cc_by_cli(&store, &codes(), &admin(), request);
    (result, store.transactions())
}

#[test]
fn a_missing_callerid_must_be_specified_and_nothing_is_read() {
    let request = CardRequest {
        amount: Some("100".into()),
        cardgroup_id: Some("1".into()),
        ..CardRequest::default()
    };
    assert_eq!(run_untouched(&request), (Err(CcError::CallerIdRequired), 0));
}

#[test]
fn an_empty_or_blank_callerid_must_be_specified() {
    for blank in ["", " ", "\t  "] {
        assert_eq!(
            run_untouched(&ask(blank).amount("100").group("1")),
            (Err(CcError::CallerIdRequired), 0),
            "{blank:?}"
        );
    }
}

#[test]
fn a_callerid_longer_than_its_column_must_be_specified() {
    let overlong = "1".repeat(256);
    assert_eq!(
        run_untouched(&ask(&overlong).amount("1").group("1")),
        (Err(CcError::CallerIdRequired), 0)
    );
}

#[test]
fn the_callerid_is_checked_before_the_amount() {
    assert_eq!(
        run_untouched(&ask("").amount("abc")),
        (Err(CcError::CallerIdRequired), 0)
    );
}

#[test]
fn anything_but_a_plain_decimal_amount_is_invalid_and_opens_no_transaction() {
    for amount in [
        "-1",
        "+1",
        "1e3",
        "NaN",
        "abc",
        " 1",
        "1.",
        ".5",
        "1,5",
        "0x10",
        "1234567890123456",
        "1.1234567890123456",
    ] {
        assert_eq!(
            run_untouched(&ask(CLI).amount(amount).group("1")),
            (Err(CcError::InvalidAmount), 0),
            "{amount:?}"
        );
    }
}

#[test]
fn an_amount_of_fifteen_integer_and_fifteen_fraction_digits_is_accepted() {
    let world = World::default();
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(
        ledger,
        &ask(CLI)
            .amount("999999999999999.999999999999999")
            .group("1"),
    ));
    assert_eq!(
        reply.card.balance.to_stored_string(),
        "999999999999999.999999999999999"
    );
    assert_eq!(writes.payments().len(), 1);
}

#[test]
fn an_invalid_amount_does_not_matter_when_a_pin_is_sent() {
    let world = World {
        cards: vec![morcc_domain::Card {
            sold: false,
            ..card(7, 1, "20")
        }],
        ..World::default()
    };
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).pin(&pin_of(7)).amount("-5")));
    assert_eq!(reply.card.balance, money("20"));
    assert!(writes.payments().is_empty());
}

#[test]
fn an_empty_pin_counts_as_no_pin_so_the_amount_is_checked() {
    assert_eq!(
        run_untouched(&ask(CLI).pin("").amount("1e3")),
        (Err(CcError::InvalidAmount), 0)
    );
}

#[test]
fn an_empty_amount_is_zero_and_an_empty_cardgroup_id_is_absent() {
    let world = World {
        cards: vec![card_with_cli(3, 1, "12.5", CLI)],
        ..World::default()
    };
    // An already sold, active card: a pure look-up, so the ledger must see no write at all.
    let reply = card_reply(run(world.ledger(), &ask(CLI).amount("").group("")));
    assert_eq!(reply.card, world.cards[0]);
}

#[test]
fn a_cardgroup_id_that_is_not_a_positive_integer_is_invalid() {
    for garbage in ["abc", "0", "-1", "1.0", " 1", "1e2", "99999999999999999999"] {
        let world = World::default();
        assert_eq!(
            run(world.ledger(), &ask(CLI).amount("10").group(garbage)),
            Err(CcError::InvalidCardGroup),
            "{garbage:?}"
        );
    }
}

#[test]
fn the_debug_form_of_a_request_never_shows_the_pin() {
    let request = ask(CLI).pin("918273");
    let shown = format!("{request:?}");
    assert!(!shown.contains("918273"), "{shown}");
    assert!(shown.contains(CLI));
}

#[test]
fn leading_zeros_of_an_amount_are_only_notation() {
    let world = World::default();
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("007.50").group("1")));
    assert_eq!(reply.card.balance, money("7.5"));
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::Card(reply.card.id),
            "7.5",
            "0",
            "7.5",
            SYSTEM_CURRENCY
        )]
    );
}
