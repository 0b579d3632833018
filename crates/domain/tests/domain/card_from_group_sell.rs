//! card_calls.md §3: `card_from_group_sell` sells free cards of an owned, unhidden group, one
//! by its number or the first ones by number, in one transaction: each becomes sold and
//! active, its balance unchanged, and one sale records them (no payment).

use mockall::predicate::eq;
use morcc_domain::ports::MockLedger;
use morcc_domain::{
    card_from_group_sell, Caller, Card, CardCallError, CardGroup, CardGroupId, CardId, CardsSold,
    SaleRequest, StoreError, UserType, TRANSACTION_FAILED,
};

use crate::support::*;

/// Groups 1 and 4 (the admin's), 2 (the admin's, hidden), 3 (another owner's).
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
            group(4),
        ],
        ..World::default()
    }
}

fn world_with(cards: Vec<Card>) -> World {
    World { cards, ..world() }
}

/// `card` as it is after the sale: sold and active, nothing else changed.
fn sold(card: &Card) -> Card {
    Card {
        sold: true,
        active: true,
        ..card.clone()
    }
}

fn hidden(card: Card) -> Card {
    Card {
        hidden: true,
        ..card
    }
}

/// A request for group `id`.
fn from_group(id: &str) -> SaleRequest<'_> {
    SaleRequest {
        id: Some(id),
        ..SaleRequest::default()
    }
}

/// Runs the call on `ledger`; it must be one transaction, never a look-up.
fn sell(
    caller: &Caller,
    ledger: MockLedger,
    request: &SaleRequest<'_>,
) -> Result<CardsSold, CardCallError> {
    let store = TestStore::new(ledger);
    let result = card_from_group_sell(&store, caller, request);
    assert_eq!(
        (store.look_ups(), store.transactions()),
        (0, 1),
        "one transaction"
    );
    result
}

/// Sells on the world's ledger, accepting every write, and returns the outcome and the writes.
fn sell_in(
    world: &World,
    caller: &Caller,
    request: &SaleRequest<'_>,
) -> (Result<CardsSold, CardCallError>, Writes) {
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    (sell(caller, ledger, request), writes)
}

/// The cards a successful sale sold.
fn cards_sold(outcome: Result<CardsSold, CardCallError>) -> Vec<Card> {
    let sold = outcome.expect("the sale succeeds");
    assert_eq!(sold.currency, SYSTEM_CURRENCY);
    sold.cards
}

// The group.

#[test]
fn a_missing_malformed_unknown_another_owner_s_or_hidden_group_is_not_found() {
    let world = world_with(vec![
        unsold_card(11, 1, "10"),
        unsold_card(21, 2, "10"),
        unsold_card(31, 3, "10"),
    ]);
    for id in [
        None,
        Some(""),
        Some("abc"),
        Some("-1"),
        Some("0"),
        Some("99"),
        Some("3"),
        Some("2"),
    ] {
        let request = SaleRequest {
            id,
            ..SaleRequest::default()
        };
        // No write is expected: any would panic.
        let error = sell(&admin(), world.ledger(), &request).unwrap_err();
        assert_eq!(error, CardCallError::CardGroupNotFound, "{id:?}");
        assert_eq!(error.text(), "Cardgroup was not found");
    }
}

#[test]
fn the_group_is_checked_before_the_card_chosen_by_number() {
    let world = world_with(vec![unsold_card(31, 3, "10")]);
    let request = SaleRequest {
        number: Some("0000000031"),
        ..from_group("3")
    };
    assert_eq!(
        sell(&admin(), world.ledger(), &request),
        Err(CardCallError::CardGroupNotFound)
    );
}

// One card chosen by its number.

#[test]
fn a_free_card_chosen_by_its_exact_number_is_sold_alone_whatever_the_quantity() {
    let world = world_with(vec![unsold_card(11, 1, "10"), unsold_card(12, 1, "20.5")]);
    let request = SaleRequest {
        number: Some("0000000012"),
        quantity: Some("5"),
        email: Some("buyer@example.com"),
        ..from_group("1")
    };
    let (outcome, writes) = sell_in(&world, &admin(), &request);
    let expected = sold(&world.cards[1]);
    assert_eq!(cards_sold(outcome), vec![expected.clone()]);
    assert_eq!(expected.balance, money("20.5"));
    assert_eq!(
        writes.all(),
        vec![
            Write::UpdateCard(expected),
            Write::Sale(sale_of(&admin(), "buyer@example.com", &[(12, 1, "20.5")])),
        ]
    );
}

#[test]
fn a_number_matches_exactly_so_leading_zeros_count() {
    let world = world_with(vec![with_number(unsold_card(11, 1, "10"), "0123")]);
    for number in ["123", "00123", "0123 ", "O123"] {
        let request = SaleRequest {
            number: Some(number),
            ..from_group("1")
        };
        assert_eq!(
            sell(&admin(), world.ledger(), &request),
            Err(CardCallError::FreeCardsNotFound),
            "{number:?}"
        );
    }
    let request = SaleRequest {
        number: Some("0123"),
        ..from_group("1")
    };
    let (outcome, _) = sell_in(&world, &admin(), &request);
    assert_eq!(cards_sold(outcome)[0].id, CardId(11));
}

#[test]
fn an_unknown_number_or_one_no_card_can_have_finds_no_free_card() {
    let world = world_with(vec![unsold_card(11, 1, "10")]);
    let too_long = "1".repeat(256);
    for number in ["0000000099", too_long.as_str()] {
        let request = SaleRequest {
            number: Some(number),
            ..from_group("1")
        };
        assert_eq!(
            sell(&admin(), world.ledger(), &request),
            Err(CardCallError::FreeCardsNotFound)
        );
    }
}

#[test]
fn a_card_of_another_group_is_not_sold_from_this_one() {
    let world = world_with(vec![unsold_card(41, 4, "10"), card(42, 4, "10")]);
    for number in ["0000000041", "0000000042"] {
        let request = SaleRequest {
            number: Some(number),
            ..from_group("1")
        };
        assert_eq!(
            sell(&admin(), world.ledger(), &request),
            Err(CardCallError::FreeCardsNotFound),
            "{number}"
        );
    }
}

#[test]
fn a_hidden_card_is_not_found_even_when_sold() {
    let world = world_with(vec![
        hidden(unsold_card(11, 1, "10")),
        hidden(card(12, 1, "10")),
    ]);
    for number in ["0000000011", "0000000012"] {
        let request = SaleRequest {
            number: Some(number),
            ..from_group("1")
        };
        assert_eq!(
            sell(&admin(), world.ledger(), &request),
            Err(CardCallError::FreeCardsNotFound),
            "{number}"
        );
    }
}

#[test]
fn a_sold_card_is_already_sold() {
    let world = world_with(vec![card(11, 1, "10"), card_with_cli(12, 1, "0", CLI)]);
    for number in ["0000000011", "0000000012"] {
        let request = SaleRequest {
            number: Some(number),
            ..from_group("1")
        };
        let error = sell(&admin(), world.ledger(), &request).unwrap_err();
        assert_eq!(error, CardCallError::CardAlreadySold, "{number}");
        assert_eq!(error.text(), "Card is already sold");
    }
}

#[test]
fn an_unsold_card_that_is_not_free_is_not_found() {
    let bound = Card {
        callerid: Some(cli(CLI)),
        ..unsold_card(11, 1, "10")
    };
    let world = world_with(vec![bound, unsold_card(12, 1, "0")]);
    for number in ["0000000011", "0000000012"] {
        let request = SaleRequest {
            number: Some(number),
            ..from_group("1")
        };
        let error = sell(&admin(), world.ledger(), &request).unwrap_err();
        assert_eq!(error, CardCallError::FreeCardsNotFound, "{number}");
        assert_eq!(error.text(), "Free cards was not found");
    }
}

#[test]
fn an_empty_number_sells_by_quantity() {
    let world = world_with(vec![unsold_card(11, 1, "10"), unsold_card(12, 1, "10")]);
    let request = SaleRequest {
        number: Some(""),
        quantity: Some("2"),
        ..from_group("1")
    };
    let (outcome, _) = sell_in(&world, &admin(), &request);
    assert_eq!(cards_sold(outcome).len(), 2);
}

// The first free cards.

#[test]
fn quantity_sells_the_first_free_cards_by_number_then_id_and_records_one_sale() {
    let world = world_with(vec![
        with_number(unsold_card(21, 1, "1"), "0000000030"),
        with_number(unsold_card(22, 1, "2.5"), "0000000010"),
        with_number(unsold_card(23, 1, "3"), "0000000020"),
        card(24, 1, "4"),
        hidden(with_number(unsold_card(25, 1, "5"), "0000000001")),
        with_number(unsold_card(26, 1, "0"), "0000000002"),
        with_number(unsold_card(41, 4, "6"), "0000000003"),
    ]);
    let request = SaleRequest {
        quantity: Some("2"),
        email: Some("test@test.lt"),
        ..from_group("1")
    };
    let (outcome, writes) = sell_in(&world, &admin(), &request);
    let first = sold(&world.cards[1]);
    let second = sold(&world.cards[2]);
    assert_eq!(cards_sold(outcome), vec![first.clone(), second.clone()]);
    assert_eq!(
        writes.all(),
        vec![
            Write::UpdateCard(first),
            Write::UpdateCard(second),
            Write::Sale(sale_of(
                &admin(),
                "test@test.lt",
                &[(22, 1, "2.5"), (23, 1, "3")]
            )),
        ]
    );
    assert_eq!(writes.sales()[0].amount(), money("5.5"));
    assert!(writes.payments().is_empty(), "a sale changes no balance");
}

#[test]
fn cards_of_the_same_number_are_taken_in_id_order() {
    let world = world_with(vec![
        with_number(unsold_card(32, 1, "1"), "0000000005"),
        with_number(unsold_card(31, 1, "1"), "0000000005"),
    ]);
    let request = SaleRequest {
        quantity: Some("1"),
        ..from_group("1")
    };
    let (outcome, _) = sell_in(&world, &admin(), &request);
    assert_eq!(cards_sold(outcome)[0].id, CardId(31));
}

#[test]
fn quantity_is_plain_digits_of_at_least_one_and_anything_else_means_one() {
    let cards = (1..=5).map(|id| unsold_card(id, 1, "10")).collect();
    let world = world_with(cards);
    for (quantity, expected) in [
        (None, 1),
        (Some(""), 1),
        (Some("abc"), 1),
        (Some("-2"), 1),
        (Some("+2"), 1),
        (Some("2.0"), 1),
        (Some("0"), 1),
        (Some("000"), 1),
        (Some(" 3"), 1),
        (Some("3"), 3),
        (Some("0003"), 3),
    ] {
        let request = SaleRequest {
            quantity,
            ..from_group("1")
        };
        let (outcome, writes) = sell_in(&world, &admin(), &request);
        assert_eq!(cards_sold(outcome).len(), expected, "{quantity:?}");
        assert_eq!(writes.sales().len(), 1, "{quantity:?}");
        assert_eq!(writes.sales()[0].cards.len(), expected, "{quantity:?}");
    }
}

#[test]
fn at_most_a_thousand_cards_are_sold_however_many_are_asked_for() {
    let cards = (1..=1005).map(|id| unsold_card(id, 1, "1")).collect();
    let world = world_with(cards);
    for quantity in ["1001", "99999999999999999999999999999"] {
        let request = SaleRequest {
            quantity: Some(quantity),
            ..from_group("1")
        };
        let (outcome, writes) = sell_in(&world, &admin(), &request);
        assert_eq!(cards_sold(outcome).len(), 1000, "{quantity}");
        assert_eq!(writes.sales()[0].cards.len(), 1000);
    }
}

#[test]
fn the_limit_asked_of_the_ledger_is_the_quantity() {
    let mut ledger = MockLedger::new();
    let group_one = group(1);
    ledger
        .expect_card_group()
        .returning(move |_| Ok(Some(group_one.clone())));
    ledger
        .expect_lock_free_cards()
        .with(eq(CardGroupId(1)), eq(1000))
        .times(1)
        .returning(|_, _| Ok(Vec::new()));
    let request = SaleRequest {
        quantity: Some("5000"),
        ..from_group("1")
    };
    assert_eq!(
        sell(&admin(), ledger, &request),
        Err(CardCallError::FreeCardsNotFound)
    );
}

#[test]
fn when_fewer_cards_are_free_than_asked_for_those_there_are_are_sold() {
    let world = world_with(vec![
        unsold_card(11, 1, "10"),
        card(12, 1, "10"),
        unsold_card(13, 1, "7"),
    ]);
    let request = SaleRequest {
        quantity: Some("5"),
        ..from_group("1")
    };
    let (outcome, writes) = sell_in(&world, &admin(), &request);
    assert_eq!(
        cards_sold(outcome),
        vec![sold(&world.cards[0]), sold(&world.cards[2])]
    );
    assert_eq!(
        writes.sales(),
        vec![sale_of(&admin(), "", &[(11, 1, "10"), (13, 1, "7")])]
    );
}

#[test]
fn a_group_without_a_free_card_has_none_to_sell_and_nothing_is_written() {
    let bound = Card {
        callerid: Some(cli(CLI)),
        ..unsold_card(12, 1, "10")
    };
    let world = world_with(vec![
        card(11, 1, "10"),
        bound,
        unsold_card(13, 1, "0"),
        hidden(unsold_card(14, 1, "10")),
        unsold_card(41, 4, "10"),
    ]);
    // No write is expected: any would panic.
    assert_eq!(
        sell(&admin(), world.ledger(), &from_group("1")),
        Err(CardCallError::FreeCardsNotFound)
    );
}

#[test]
fn a_card_the_ledger_hands_out_that_is_not_free_is_not_sold() {
    let mut ledger = MockLedger::new();
    let group_one = group(1);
    ledger
        .expect_card_group()
        .returning(move |_| Ok(Some(group_one.clone())));
    ledger
        .expect_system_currency()
        .returning(|| Ok(Some(currency(SYSTEM_CURRENCY, "1"))));
    let free = unsold_card(11, 1, "10");
    let taken = card(12, 1, "10");
    let handed_out = vec![taken, free.clone()];
    ledger
        .expect_lock_free_cards()
        .returning(move |_, _| Ok(handed_out.clone()));
    let writes = allow_writes(&mut ledger);
    let request = SaleRequest {
        quantity: Some("2"),
        ..from_group("1")
    };
    assert_eq!(
        cards_sold(sell(&admin(), ledger, &request)),
        vec![sold(&free)]
    );
    assert_eq!(
        writes.all(),
        vec![
            Write::UpdateCard(sold(&free)),
            Write::Sale(sale_of(&admin(), "", &[(11, 1, "10")])),
        ]
    );
}

// Who sells.

#[test]
fn a_reseller_sells_from_its_own_group_and_the_sale_is_its_own() {
    let world = world_with(vec![unsold_card(11, 1, "10"), unsold_card(31, 3, "8")]);
    let (outcome, writes) = sell_in(&world, &reseller(), &from_group("3"));
    assert_eq!(cards_sold(outcome), vec![sold(&world.cards[1])]);
    let sale = sale_of(&reseller(), "", &[(31, 3, "8")]);
    assert_eq!(sale.owner_id, OTHER_OWNER);
    assert_eq!(writes.sales(), vec![sale]);
    assert_eq!(
        sell(&reseller(), world.ledger(), &from_group("1")),
        Err(CardCallError::CardGroupNotFound)
    );
}

#[test]
fn an_accountant_sells_the_admin_s_cards_as_itself() {
    let accountant = Caller {
        id: morcc_domain::UserId(2),
        ..caller_of_type(UserType::Accountant)
    };
    let world = world_with(vec![unsold_card(11, 1, "10")]);
    let (outcome, writes) = sell_in(&world, &accountant, &from_group("1"));
    assert_eq!(cards_sold(outcome).len(), 1);
    let sale = &writes.sales()[0];
    assert_eq!(sale.seller, morcc_domain::UserId(2));
    assert_eq!(sale.owner_id, ADMIN_OWNER);
}

// Failures.

#[test]
fn a_failed_card_update_fails_the_transaction_before_the_sale_is_recorded() {
    let world = world_with(vec![unsold_card(11, 1, "10"), unsold_card(12, 1, "10")]);
    let mut ledger = world.ledger();
    ledger
        .expect_update_card()
        .times(1)
        .returning(|_| Err(StoreError::Conflict("deadlock".into())));
    // No record_sale expectation: a sale would panic.
    let error = sell(
        &admin(),
        ledger,
        &SaleRequest {
            quantity: Some("2"),
            ..from_group("1")
        },
    )
    .unwrap_err();
    assert_eq!(
        error,
        CardCallError::Storage(StoreError::Conflict("deadlock".into()))
    );
    assert_eq!(error.text(), TRANSACTION_FAILED);
}

#[test]
fn a_failed_sale_record_fails_the_transaction() {
    let world = world_with(vec![unsold_card(11, 1, "10")]);
    let mut ledger = world.ledger();
    ledger.expect_update_card().returning(|_| Ok(()));
    ledger
        .expect_record_sale()
        .times(1)
        .returning(|_| Err(StoreError::Failure("down".into())));
    assert_eq!(
        sell(&admin(), ledger, &from_group("1")),
        Err(CardCallError::Storage(StoreError::Failure("down".into())))
    );
}

#[test]
fn without_a_system_currency_the_transaction_fails() {
    let world = World {
        system: None,
        ..world_with(vec![unsold_card(11, 1, "10")])
    };
    let (outcome, writes) = sell_in(&world, &admin(), &from_group("1"));
    let error = outcome.unwrap_err();
    assert!(matches!(error, CardCallError::Inconsistent(_)), "{error:?}");
    assert_eq!(error.text(), TRANSACTION_FAILED);
    assert!(writes.sales().is_empty());
}
