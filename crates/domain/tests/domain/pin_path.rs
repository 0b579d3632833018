//! Spec §4 C: no device, a PIN is sent (the amount is ignored). P is the card with the PIN,
//! X the card with the caller ID.

use mockall::Sequence;
use morcc_domain::ports::MockLedger;
use morcc_domain::{Card, CardGroup, CardId, CcError, Holder, StoreError, TaxId};

use crate::support::*;

/// Groups 1 (no tax) and 2 (10 % tax) of the admin, 3 of another owner.
fn world() -> World {
    World {
        groups: vec![
            group(1),
            CardGroup {
                tax_id: Some(TaxId(1)),
                ..group(2)
            },
            CardGroup {
                owner_id: OTHER_OWNER,
                ..group(3)
            },
        ],
        taxes: vec![(TaxId(1), tax(&["10"], false))],
        ..World::default()
    }
}

fn unsold(card: Card) -> Card {
    Card {
        sold: false,
        active: false,
        ..card
    }
}

// P is unknown or not the caller's.

#[test]
fn an_unknown_pin_is_not_found_and_nothing_is_written() {
    assert_eq!(
        run(world().ledger(), &ask(CLI).pin("31337")),
        Err(CcError::PinNotFound)
    );
}

#[test]
fn the_pin_of_another_owners_card_is_not_found() {
    let mut world = world();
    world.cards = vec![unsold(card(7, 3, "5"))];
    assert_eq!(
        run(world.ledger(), &ask(CLI).pin(&pin_of(7))),
        Err(CcError::PinNotFound)
    );
}

#[test]
fn a_pin_longer_than_any_card_can_have_is_not_found_without_looking_it_up() {
    let mut ledger = MockLedger::new();
    ledger
        .expect_device_by_cli()
        .times(1)
        .returning(|_| Ok(None));
    // No lock_card_by_pin expectation: a look-up would panic.
    assert_eq!(
        run(ledger, &ask(CLI).pin(&"1".repeat(256))),
        Err(CcError::PinNotFound)
    );
}

// No card has the caller ID: P is sold to it.

#[test]
fn an_unsold_card_is_sold_to_a_new_callerid_and_activated() {
    let mut world = world();
    world.cards = vec![unsold(card(7, 2, "20"))];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).pin(&pin_of(7)).amount("500")));
    let sold = Card {
        callerid: Some(cli(CLI)),
        sold: true,
        active: true,
        ..world.cards[0].clone()
    };
    assert_eq!(reply.card, sold);
    assert_eq!(reply.card.balance, money("20"));
    assert_eq!(reply.balance_with_vat.display(4), "22.0000");
    // Activating an unsold PIN card is a sale (card_calls.md §3): one order, no e-mail, the
    // card at its balance, and no payment (no balance changed).
    assert_eq!(
        writes.all(),
        vec![
            Write::UpdateCard(sold),
            Write::Sale(sale_of(&admin(), "", &[(7, 2, "20")]))
        ]
    );
}

#[test]
fn an_already_sold_card_cannot_be_sold_again() {
    let mut world = world();
    world.cards = vec![card(7, 1, "20")];
    assert_eq!(
        run(world.ledger(), &ask(CLI).pin(&pin_of(7))),
        Err(CcError::CardAlreadySold)
    );
}

// A card X has the caller ID.

#[test]
fn a_callerid_on_another_owners_card_may_not_be_accessed() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 3, "10", CLI), card(7, 1, "20")];
    assert_eq!(
        run(world.ledger(), &ask(CLI).pin(&pin_of(7))),
        Err(CcError::CardNotOwned)
    );
}

#[test]
fn when_the_pin_card_already_holds_the_callerid_it_is_answered_unchanged() {
    let mut world = world();
    world.cards = vec![Card {
        pin: pin(&pin_of(7)),
        ..card_with_cli(7, 2, "9.5", CLI)
    }];
    // No write is expected: any would panic.
    let reply = card_reply(run(world.ledger(), &ask(CLI).pin(&pin_of(7))));
    assert_eq!(reply.card, world.cards[0]);
    assert_eq!(reply.balance_with_vat.display(4), "10.4500");
}

#[test]
fn in_the_same_group_the_callerid_card_takes_the_pin_cards_whole_balance() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 2, "10", CLI), card(7, 2, "30.125")];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).pin(&pin_of(7))));

    let holder = Card {
        balance: money("40.125"),
        ..world.cards[0].clone()
    };
    let emptied = Card {
        balance: money("0"),
        sold: false,
        ..world.cards[1].clone()
    };
    assert_eq!(reply.card, holder);
    assert_eq!(reply.balance_with_vat.display(4), "44.1375");
    assert_eq!(
        writes.balances(),
        vec![Write::UpdateCard(emptied), Write::UpdateCard(holder)]
    );
    assert_eq!(
        rows(&writes.payments()),
        vec![
            row(
                Holder::Card(CardId(7)),
                "-30.125",
                "0",
                "30.125",
                SYSTEM_CURRENCY
            ),
            row(
                Holder::Card(CardId(8)),
                "30.125",
                "0",
                "30.125",
                SYSTEM_CURRENCY
            ),
        ]
    );
}

#[test]
fn in_the_same_group_an_empty_pin_card_has_a_zero_balance_to_give() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 2, "10", CLI), card(7, 2, "0")];
    assert_eq!(
        run(world.ledger(), &ask(CLI).pin(&pin_of(7))),
        Err(CcError::PinBalanceZero)
    );
}

/// Across groups the caller ID and all of card 8's balance (25) move to the PIN card 7 of
/// group 2 (with 5 on it), whatever caller ID the PIN card held before.
fn assert_moved_across_groups(pin_card: Card) {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "25", CLI), pin_card];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).pin(&pin_of(7))));

    let left = Card {
        balance: money("0"),
        sold: false,
        callerid: None,
        ..world.cards[0].clone()
    };
    let taker = Card {
        balance: money("30"),
        sold: true,
        active: true,
        callerid: Some(cli(CLI)),
        ..world.cards[1].clone()
    };
    assert_eq!(reply.card, taker);
    // Printed with the tax of the PIN card's group (2), not the old group's (1).
    assert_eq!(reply.balance_with_vat.display(4), "33.0000");
    assert_eq!(
        writes.balances(),
        vec![Write::UpdateCard(left), Write::UpdateCard(taker)]
    );
    assert_eq!(
        rows(&writes.payments()),
        vec![
            row(Holder::Card(CardId(8)), "-25", "0", "25", SYSTEM_CURRENCY),
            row(Holder::Card(CardId(7)), "25", "0", "25", SYSTEM_CURRENCY),
        ]
    );
}

#[test]
fn across_groups_the_callerid_and_its_balance_move_to_the_pin_card() {
    assert_moved_across_groups(unsold(card(7, 2, "5")));
}

#[test]
fn across_groups_a_pin_card_bound_to_another_phone_moves_to_the_phone_with_its_pin() {
    assert_moved_across_groups(card_with_cli(7, 2, "5", "another phone"));
}

#[test]
fn across_groups_the_callerid_card_gives_up_the_callerid_before_the_pin_card_takes_it() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "25", CLI), card(7, 2, "5")];
    let mut ledger = world.ledger();
    let mut order = Sequence::new();
    ledger
        .expect_update_card()
        .withf(|card| card.id == CardId(8) && card.callerid.is_none())
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    ledger
        .expect_update_card()
        .withf(|card| card.id == CardId(7) && card.callerid == Some(cli(CLI)))
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    ledger
        .expect_record_payment()
        .times(2)
        .returning(|_| Ok(()));
    let reply = card_reply(run(ledger, &ask(CLI).pin(&pin_of(7))));
    assert_eq!(reply.card.id, CardId(7));
}

#[test]
fn across_groups_an_empty_callerid_card_has_a_zero_balance_to_give() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "0", CLI), card(7, 2, "5")];
    assert_eq!(
        run(world.ledger(), &ask(CLI).pin(&pin_of(7))),
        Err(CcError::PinBalanceZero)
    );
}

#[test]
fn a_storage_failure_during_a_transfer_fails_the_transaction_before_the_second_write() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 2, "10", CLI), card(7, 2, "30")];
    let mut ledger = world.ledger();
    ledger
        .expect_update_card()
        .times(1)
        .returning(|_| Err(StoreError::Failure("lost connection".into())));
    assert_eq!(
        run(ledger, &ask(CLI).pin(&pin_of(7))),
        Err(CcError::Storage(StoreError::Failure(
            "lost connection".into()
        )))
    );
}

#[test]
fn across_groups_an_empty_callerid_card_is_zero_even_when_the_pin_card_is_bound() {
    let mut world = world();
    world.cards = vec![
        card_with_cli(7, 1, "0", CLI),
        card_with_cli(8, 2, "1", "another phone"),
    ];
    let request = ask(CLI).pin(&pin_of(8));
    assert_eq!(run(world.ledger(), &request), Err(CcError::PinBalanceZero));
}

#[test]
fn in_the_same_group_the_callerid_card_is_sold_and_active_after_the_merge() {
    let mut world = world();
    world.cards = vec![unsold(card_with_cli(8, 2, "10", CLI)), card(7, 2, "3")];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).pin(&pin_of(7))));

    let holder = Card {
        balance: money("13"),
        sold: true,
        active: true,
        ..world.cards[0].clone()
    };
    assert_eq!(reply.card, holder);
    assert_eq!(writes.balances()[1], Write::UpdateCard(holder));
}
