//! card_calls.md §2: `card_group_get` shows an owned, unhidden card group's price, price with
//! tax, currency and free cards, as a look-up that changes nothing.

use mockall::predicate::eq;
use morcc_domain::ports::MockLedger;
use morcc_domain::{
    card_group_get, Caller, CardCallError, CardGroup, CardGroupId, CardGroupShown, StoreError,
    TaxId, UserType, TRANSACTION_FAILED,
};

use crate::support::*;

/// The spec's example group: priced 10.084033613445378 with one 21 % tax (tax row 1).
fn example_group() -> CardGroup {
    CardGroup {
        name: "Test_cardgroup".into(),
        description: "10 minutes cards".into(),
        image: "example.jpg".into(),
        price: money("10.084033613445378"),
        tax_id: Some(TaxId(1)),
        number_length: 10,
        pin_length: 4,
        ..group(1)
    }
}

/// Group 1 (the example), 2 (the admin's, hidden), 3 (another owner's), 4 (the admin's, no
/// tax, priced 7.5).
fn world() -> World {
    World {
        groups: vec![
            example_group(),
            CardGroup {
                hidden: true,
                ..group(2)
            },
            CardGroup {
                owner_id: OTHER_OWNER,
                ..group(3)
            },
            CardGroup {
                price: money("7.5"),
                ..group(4)
            },
        ],
        taxes: vec![(TaxId(1), tax(&["21"], false))],
        ..World::default()
    }
}

/// Runs the call on `ledger`; it must be one look-up.
fn get(
    caller: &Caller,
    ledger: MockLedger,
    id: Option<&str>,
) -> Result<CardGroupShown, CardCallError> {
    let store = TestStore::new(ledger);
    let result = card_group_get(&store, caller, id);
    assert_eq!(
        (store.look_ups(), store.transactions()),
        (1, 1),
        "one look-up, never a transaction"
    );
    result
}

// Found.

#[test]
fn the_spec_s_example_shows_price_price_with_tax_currency_and_the_ledger_s_free_cards() {
    let mut ledger = MockLedger::new();
    ledger
        .expect_card_group()
        .with(eq(CardGroupId(1)))
        .returning(|_| Ok(Some(example_group())));
    ledger
        .expect_tax()
        .with(eq(TaxId(1)))
        .returning(|_| Ok(Some(tax(&["21"], false))));
    ledger
        .expect_system_currency()
        .returning(|| Ok(Some(currency(SYSTEM_CURRENCY, "1"))));
    ledger
        .expect_free_card_count()
        .with(eq(CardGroupId(1)))
        .times(1)
        .returning(|_| Ok(21));
    let shown = get(&admin(), ledger, Some("1")).expect("the group is shown");
    assert_eq!(shown.group, example_group());
    assert_eq!(shown.group.price.display(4), "10.0840");
    assert_eq!(shown.price_with_tax.display(4), "12.2017");
    // Unrounded until printed.
    assert_eq!(
        shown.price_with_tax.as_decimal(),
        &decimal("12.20168067226890738")
    );
    assert_eq!(shown.currency, SYSTEM_CURRENCY);
    assert_eq!(shown.free_cards, 21);
}

#[test]
fn free_cards_are_the_group_s_unsold_unhidden_unbound_cards_with_a_balance() {
    let mut world = world();
    world.cards = vec![
        unsold_card(11, 1, "10"),
        unsold_card(12, 1, "0.000000000000001"),
        card(13, 1, "10"),
        morcc_domain::Card {
            hidden: true,
            ..unsold_card(14, 1, "10")
        },
        morcc_domain::Card {
            callerid: Some(cli(CLI)),
            ..unsold_card(15, 1, "10")
        },
        unsold_card(16, 1, "0"),
        unsold_card(17, 1, "-1"),
        unsold_card(41, 4, "10"),
    ];
    // No write is expected: any would panic.
    let shown = get(&admin(), world.ledger(), Some("1")).expect("the group is shown");
    assert_eq!(shown.free_cards, 2);
    let shown = get(&admin(), world.ledger(), Some("4")).expect("the group is shown");
    assert_eq!(shown.free_cards, 1);
}

#[test]
fn a_group_without_cards_has_no_free_cards() {
    let shown = get(&admin(), world().ledger(), Some("1")).expect("the group is shown");
    assert_eq!(shown.free_cards, 0);
}

#[test]
fn a_group_without_a_tax_shows_its_price_as_the_price_with_tax() {
    let shown = get(&admin(), world().ledger(), Some("4")).expect("the group is shown");
    assert_eq!(shown.group.price, money("7.5"));
    assert_eq!(shown.price_with_tax, money("7.5").to_figure());
    assert_eq!(shown.price_with_tax.display(4), "7.5000");
}

#[test]
fn compound_taxes_multiply_and_other_taxes_add() {
    for (compound, expected) in [(true, "107.1"), (false, "107")] {
        let mut world = world();
        world.groups[0].price = money("100");
        world.taxes = vec![(TaxId(1), tax(&["5", "2"], compound))];
        let shown = get(&admin(), world.ledger(), Some("1")).expect("the group is shown");
        assert_eq!(
            shown.price_with_tax.as_decimal(),
            &decimal(expected),
            "compound {compound}"
        );
    }
}

#[test]
fn a_tax_id_without_a_row_is_no_tax() {
    let mut world = world();
    world.taxes.clear();
    let shown = get(&admin(), world.ledger(), Some("1")).expect("the group is shown");
    assert_eq!(shown.price_with_tax, example_group().price.to_figure());
}

#[test]
fn an_id_with_leading_zeros_names_the_same_group() {
    let shown = get(&admin(), world().ledger(), Some("01")).expect("the group is shown");
    assert_eq!(shown.group.id, CardGroupId(1));
}

#[test]
fn an_accountant_is_shown_the_admin_s_groups() {
    let accountant = caller_of_type(UserType::Accountant);
    let shown = get(&accountant, world().ledger(), Some("1")).expect("the group is shown");
    assert_eq!(shown.group.id, CardGroupId(1));
}

#[test]
fn a_reseller_is_shown_its_own_group_but_not_the_admin_s() {
    let shown = get(&reseller(), world().ledger(), Some("3")).expect("its own group");
    assert_eq!(shown.group.id, CardGroupId(3));
    assert_eq!(
        get(&reseller(), world().ledger(), Some("1")),
        Err(CardCallError::CardGroupNotFound)
    );
}

// Not found.

#[test]
fn a_missing_or_malformed_id_is_not_found_without_a_look_up() {
    for id in [
        None,
        Some(""),
        Some("abc"),
        Some("-1"),
        Some("+1"),
        Some("0"),
        Some("1.0"),
        Some(" 1"),
        Some("1 "),
        Some("1e2"),
        Some("99999999999999999999"),
    ] {
        // The ledger expects nothing: a look-up would panic.
        assert_eq!(
            get(&admin(), MockLedger::new(), id),
            Err(CardCallError::CardGroupNotFound),
            "{id:?}"
        );
    }
}

#[test]
fn an_unknown_another_owner_s_or_a_hidden_group_is_not_found() {
    for id in ["99", "3", "2"] {
        let error = get(&admin(), world().ledger(), Some(id)).unwrap_err();
        assert_eq!(error, CardCallError::CardGroupNotFound, "{id}");
        assert_eq!(error.text(), "Cardgroup was not found");
    }
}

#[test]
fn a_reseller_s_own_hidden_group_is_not_found() {
    let mut world = world();
    world.groups[2].hidden = true;
    assert_eq!(
        get(&reseller(), world.ledger(), Some("3")),
        Err(CardCallError::CardGroupNotFound)
    );
}

// Service failures.

#[test]
fn without_a_system_currency_the_transaction_fails() {
    let world = World {
        system: None,
        ..world()
    };
    let error = get(&admin(), world.ledger(), Some("1")).unwrap_err();
    assert!(matches!(error, CardCallError::Inconsistent(_)), "{error:?}");
    assert_eq!(error.text(), TRANSACTION_FAILED);
}

#[test]
fn a_tax_row_of_minus_100_percent_fails_the_transaction() {
    let mut world = world();
    world.taxes = vec![(TaxId(1), tax(&["-100"], false))];
    let error = get(&admin(), world.ledger(), Some("1")).unwrap_err();
    assert!(matches!(error, CardCallError::Inconsistent(_)), "{error:?}");
}

#[test]
fn a_storage_failure_is_a_storage_error() {
    let mut ledger = MockLedger::new();
    ledger
        .expect_card_group()
        .returning(|_| Err(StoreError::Failure("down".into())));
    let error = get(&admin(), ledger, Some("1")).unwrap_err();
    assert_eq!(
        error,
        CardCallError::Storage(StoreError::Failure("down".into()))
    );
    assert!(error.is_service_failure());
}
