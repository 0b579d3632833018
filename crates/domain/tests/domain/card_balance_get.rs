//! card_calls.md §4: `card_balance_get` shows a card's stored balance by its exact number: any
//! unhidden card for the admin, a reseller's own groups' cards for a reseller; a look-up that
//! changes nothing.

use morcc_domain::ports::MockLedger;
use morcc_domain::{
    card_balance_get, Caller, Card, CardBalance, CardCallError, CardGroup, StoreError, UserType,
    TRANSACTION_FAILED,
};

use crate::support::*;

/// Groups 1 (the admin's), 2 (the admin's, hidden), 3 (another owner's); cards 11 (sold, 20),
/// 12 (unsold, 10.084033613445378), 13 (hidden), 21 (in the hidden group), 31 (group 3, 7.25).
fn world() -> World {
    World {
        groups: vec![
            group(1),
            CardGroup {
                hidden: true,
                ..group(2)
            },
            CardGroup {
                owner_id: OTHER_OWNER,
                ..group(3)
            },
        ],
        cards: vec![
            card(11, 1, "20"),
            unsold_card(12, 1, "10.084033613445378"),
            Card {
                hidden: true,
                ..card(13, 1, "5")
            },
            card(21, 2, "5"),
            card(31, 3, "7.25"),
        ],
        ..World::default()
    }
}

/// The number of `card(id, ..)`.
fn number(id: i64) -> String {
    format!("{id:010}")
}

/// Runs the call on `ledger`; the look-ups it made are returned too.
fn balance(
    caller: &Caller,
    ledger: MockLedger,
    number: Option<&str>,
) -> (Result<CardBalance, CardCallError>, usize) {
    let store = TestStore::new(ledger);
    let result = card_balance_get(&store, caller, number);
    assert_eq!(
        store.look_ups(),
        store.transactions(),
        "look-ups only, never a transaction"
    );
    (result, store.look_ups())
}

fn found(caller: &Caller, id: i64) -> CardBalance {
    let (outcome, look_ups) = balance(caller, world().ledger(), Some(&number(id)));
    assert_eq!(look_ups, 1);
    outcome.expect("the card is found")
}

fn not_found(caller: &Caller, number: Option<&str>) {
    // No write is expected: any would panic.
    let (outcome, _) = balance(caller, world().ledger(), number);
    let error = outcome.unwrap_err();
    assert_eq!(error, CardCallError::CallingCardNotFound, "{number:?}");
    assert_eq!(error.text(), "Calling Card was not found");
}

// Who may ask.

#[test]
fn an_accountant_or_a_user_is_not_authorized_and_nothing_is_read() {
    for usertype in [
        UserType::Accountant,
        UserType::User,
        UserType::parse("partner"),
    ] {
        // The ledger expects nothing and no unit of work may run.
        let (outcome, look_ups) = balance(
            &caller_of_type(usertype.clone()),
            MockLedger::new(),
            Some(&number(11)),
        );
        let error = outcome.unwrap_err();
        assert_eq!(error, CardCallError::NotAuthorized, "{usertype:?}");
        assert_eq!(
            error.text(),
            "You are not authorized to use this functionality"
        );
        assert_eq!(look_ups, 0);
    }
}

#[test]
fn the_admin_sees_the_balance_of_any_card_in_the_system_currency() {
    assert_eq!(
        found(&admin(), 11),
        CardBalance {
            balance: money("20"),
            currency: SYSTEM_CURRENCY.into(),
        }
    );
    assert_eq!(found(&admin(), 11).balance.plain(), "20.0");
    // Another owner's card too.
    assert_eq!(found(&admin(), 31).balance, money("7.25"));
}

#[test]
fn a_reseller_sees_only_the_cards_of_its_own_groups() {
    assert_eq!(found(&reseller(), 31).balance, money("7.25"));
    not_found(&reseller(), Some(&number(11)));
    not_found(&reseller(), Some(&number(12)));
}

#[test]
fn an_unsold_card_is_found_with_its_stored_balance() {
    let shown = found(&admin(), 12);
    assert_eq!(shown.balance, money("10.084033613445378"));
    assert_eq!(shown.balance.plain(), "10.084033613445378");
}

#[test]
fn the_balance_is_shown_unconverted_whatever_the_group_s_currency_and_tax() {
    let mut world = world();
    world.groups[0].currency = "EUR".into();
    world.groups[0].tax_id = Some(morcc_domain::TaxId(1));
    world.taxes = vec![(morcc_domain::TaxId(1), tax(&["21"], false))];
    world.currencies = vec![currency("EUR", "2")];
    let (outcome, _) = balance(&admin(), world.ledger(), Some(&number(11)));
    assert_eq!(outcome.expect("found").balance, money("20"));
}

// Not found.

#[test]
fn a_hidden_card_or_a_card_of_a_hidden_group_is_not_found() {
    not_found(&admin(), Some(&number(13)));
    not_found(&admin(), Some(&number(21)));
}

#[test]
fn a_missing_empty_unknown_or_inexact_number_is_not_found() {
    for number in [
        None,
        Some(""),
        Some("0000000099"),
        Some("11"),
        Some(" 0000000011"),
    ] {
        not_found(&admin(), number);
    }
}

#[test]
fn a_missing_or_empty_number_is_not_looked_up() {
    for number in [None, Some("")] {
        // The ledger expects nothing: a look-up would panic.
        let (outcome, _) = balance(&admin(), MockLedger::new(), number);
        assert_eq!(outcome, Err(CardCallError::CallingCardNotFound));
    }
}

// Failures.

#[test]
fn without_a_system_currency_the_transaction_fails() {
    let world = World {
        system: None,
        ..world()
    };
    let (outcome, _) = balance(&admin(), world.ledger(), Some(&number(11)));
    let error = outcome.unwrap_err();
    assert!(matches!(error, CardCallError::Inconsistent(_)), "{error:?}");
    assert_eq!(error.text(), TRANSACTION_FAILED);
}

#[test]
fn a_storage_failure_is_a_storage_error() {
    let mut ledger = MockLedger::new();
    ledger
        .expect_lock_card_by_number()
        .returning(|_| Err(StoreError::Failure("down".into())));
    let (outcome, _) = balance(&admin(), ledger, Some(&number(11)));
    assert_eq!(
        outcome,
        Err(CardCallError::Storage(StoreError::Failure("down".into())))
    );
}
