//! Spec §4 B: no device, no PIN. Look-up, new card, top-up and move to another group.

use mockall::predicate::eq;
use mockall::Sequence;
use morcc_domain::ports::MockLedger;
use morcc_domain::{
    Card, CardGroup, CardGroupId, CardId, CcError, Holder, NewCard, OwnerId, StoreError, TaxId,
};

use crate::support::*;

fn other_owners_group(id: i64) -> CardGroup {
    CardGroup {
        owner_id: OTHER_OWNER,
        ..group(id)
    }
}

/// Groups 1 (no tax) and 2 (10 % tax) of the admin, 3 of another owner.
fn world() -> World {
    World {
        groups: vec![
            group(1),
            CardGroup {
                tax_id: Some(TaxId(1)),
                ..group(2)
            },
            other_owners_group(3),
        ],
        taxes: vec![(TaxId(1), tax(&["10"], false))],
        ..World::default()
    }
}

// No card has the caller ID.

#[test]
fn a_look_up_of_an_unknown_callerid_is_card_not_found_after_two_reads_and_no_write() {
    let mut ledger = MockLedger::new();
    ledger
        .expect_device_by_cli()
        .times(1)
        .returning(|_| Ok(None));
    ledger
        .expect_lock_card_by_cli()
        .with(eq(cli(CLI)))
        .times(1)
        .returning(|_| Ok(None));
    assert_eq!(run(ledger, &ask(CLI)), Err(CcError::CardNotFound));
}

#[test]
fn a_look_up_with_amount_zero_and_no_group_is_card_not_found() {
    assert_eq!(
        run(world().ledger(), &ask(CLI).amount("0")),
        Err(CcError::CardNotFound)
    );
}

#[test]
fn an_amount_for_an_unknown_callerid_without_a_group_is_an_invalid_cardgroup() {
    assert_eq!(
        run(world().ledger(), &ask(CLI).amount("10")),
        Err(CcError::InvalidCardGroup)
    );
}

#[test]
fn a_new_card_needs_a_group_that_exists() {
    assert_eq!(
        run(world().ledger(), &ask(CLI).amount("10").group("99")),
        Err(CcError::InvalidCardGroup)
    );
}

#[test]
fn a_new_card_needs_a_group_the_caller_owns() {
    assert_eq!(
        run(world().ledger(), &ask(CLI).amount("10").group("3")),
        Err(CcError::InvalidCardGroup)
    );
}

#[test]
fn a_new_card_needs_a_well_formed_group_id() {
    assert_eq!(
        run(world().ledger(), &ask(CLI).amount("10").group("two")),
        Err(CcError::InvalidCardGroup)
    );
}

#[test]
fn an_unknown_callerid_with_an_amount_and_a_group_buys_a_new_sold_active_card() {
    let mut world = world();
    world.groups[1].number_length = 8;
    world.groups[1].pin_length = 4;
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("100").group("2")));

    let new_id = CardId(FIRST_NEW_CARD_ID);
    let Write::InsertCard(inserted) = &writes.balances()[0] else {
        panic!("expected an insert, got {:?}", writes.all());
    };
    assert_eq!(writes.balances().len(), 1);
    assert_eq!(inserted.cardgroup_id, CardGroupId(2));
    assert_eq!(inserted.owner_id, ADMIN_OWNER);
    assert_eq!(inserted.callerid, cli(CLI));
    assert_eq!(inserted.balance.to_stored_string(), "90.909090909090909");
    assert_eq!(inserted.number.as_str().len(), 8);
    assert_eq!(inserted.pin.expose().len(), 4);

    assert_eq!(reply.card.id, new_id);
    assert!(reply.card.sold && reply.card.active);
    assert_eq!(reply.card.callerid, Some(cli(CLI)));
    assert_eq!(reply.card.balance.display(4), "90.9091");
    assert_eq!(reply.balance_with_vat.display(4), "100.0000");
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::Card(new_id),
            "90.909090909090909",
            "9.090909090909091",
            "100",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_new_card_in_a_group_without_code_lengths_gets_ten_digit_numbers_and_six_digit_pins() {
    let mut ledger = world().ledger();
    let writes = allow_writes(&mut ledger);
    let mut codes = morcc_domain::ports::MockCodeGenerator::new();
    codes
        .expect_digits()
        .with(eq(6))
        .times(1)
        .returning(|_| "012345".into());
    codes
        .expect_digits()
        .with(eq(10))
        .times(1)
        .returning(|_| "0987654321".into());
    let store = TestStore::new(ledger);
    let reply = card_reply(morcc_domain::cc_by_cli(
        &store,
        &codes,
        &admin(),
        &ask(CLI).amount("5").group("1"),
    ));
    assert_eq!(reply.card.pin.expose(), "012345");
    assert_eq!(reply.card.number.as_str(), "0987654321");
    assert_eq!(writes.balances().len(), 1);
}

#[test]
fn a_cardgroup_id_alone_for_an_unknown_callerid_sells_an_empty_card_without_a_payment() {
    let mut ledger = world().ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).group("1")));
    assert!(reply.card.balance.is_zero());
    assert!(reply.card.sold && reply.card.active);
    assert!(matches!(writes.balances()[..], [Write::InsertCard(_)]));
    assert!(writes.payments().is_empty());
}

#[test]
fn a_taken_number_or_pin_is_retried_with_fresh_codes() {
    let mut ledger = world().ledger();
    let attempts = std::sync::Arc::new(std::sync::Mutex::new(Vec::<NewCard>::new()));
    let seen = attempts.clone();
    ledger.expect_insert_card().times(2).returning(move |card| {
        let mut seen = seen.lock().unwrap();
        seen.push(card.clone());
        if seen.len() == 1 {
            Err(StoreError::Duplicate)
        } else {
            Ok(card.clone().stored_as(CardId(55)))
        }
    });
    ledger
        .expect_record_payment()
        .times(1)
        .returning(|_| Ok(()));
    let reply = card_reply(run(ledger, &ask(CLI).amount("5").group("1")));
    assert_eq!(reply.card.id, CardId(55));
    let attempts = attempts.lock().unwrap();
    assert_ne!(attempts[0].pin, attempts[1].pin);
    assert_ne!(attempts[0].number, attempts[1].number);
}

#[test]
fn when_every_code_is_taken_the_transaction_fails_without_a_payment() {
    let mut ledger = world().ledger();
    ledger
        .expect_insert_card()
        .times(morcc_domain::fresh_codes::CODE_ATTEMPTS)
        .returning(|_| Err(StoreError::Duplicate));
    assert_eq!(
        run(ledger, &ask(CLI).amount("5").group("1")),
        Err(CcError::CodesExhausted)
    );
}

#[test]
fn a_storage_failure_while_inserting_a_card_fails_the_transaction_at_once() {
    let mut ledger = world().ledger();
    ledger
        .expect_insert_card()
        .times(1)
        .returning(|_| Err(StoreError::Failure("gone".into())));
    assert_eq!(
        run(ledger, &ask(CLI).amount("5").group("1")),
        Err(CcError::Storage(StoreError::Failure("gone".into())))
    );
}

// A card has the caller ID.

#[test]
fn a_card_of_another_owner_may_not_be_accessed_and_nothing_is_written() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 3, "10", CLI)];
    for request in [
        ask(CLI),
        ask(CLI).amount("10"),
        ask(CLI).amount("10").group("3"),
        ask(CLI).amount("10").group("1"),
        ask(CLI).amount("10").group("garbage"),
    ] {
        assert_eq!(
            run(world.ledger(), &request),
            Err(CcError::CardNotOwned),
            "{request:?}"
        );
    }
}

#[test]
fn a_top_up_adds_the_amount_to_the_card_and_keeps_it_sold_and_active() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "10", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("2.5")));
    let expected = Card {
        balance: money("12.5"),
        ..world.cards[0].clone()
    };
    assert_eq!(reply.card, expected);
    assert_eq!(writes.balances(), vec![Write::UpdateCard(expected)]);
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::Card(CardId(8)),
            "2.5",
            "0",
            "2.5",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_top_up_naming_the_cards_own_group_is_a_top_up_not_a_move() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 2, "10", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("110").group("2")));
    assert_eq!(reply.card.id, CardId(8));
    assert_eq!(reply.card.balance, money("110"));
    assert_eq!(reply.balance_with_vat.display(4), "121.0000");
    assert!(matches!(writes.balances()[..], [Write::UpdateCard(_)]));
}

#[test]
fn a_top_up_of_an_unsold_inactive_card_sells_and_activates_it() {
    let mut world = world();
    let mut unsold = card_with_cli(8, 1, "10", CLI);
    unsold.sold = false;
    unsold.active = false;
    world.cards = vec![unsold];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("1")));
    assert!(reply.card.sold && reply.card.active);
    assert_eq!(
        writes.balances(),
        vec![Write::UpdateCard(reply.card.clone())]
    );
}

#[test]
fn a_look_up_of_a_sold_active_card_with_amount_zero_writes_nothing() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 2, "90.909090909090909", CLI)];
    for request in [
        ask(CLI),
        ask(CLI).amount("0"),
        ask(CLI).amount("0.000").group("2"),
    ] {
        // The ledger expects no write: any would panic.
        let reply = card_reply(run(world.ledger(), &request));
        assert_eq!(reply.card, world.cards[0], "{request:?}");
        assert_eq!(reply.card.balance.display(4), "90.9091");
        assert_eq!(reply.balance_with_vat.display(4), "100.0000");
    }
}

#[test]
fn a_look_up_of_an_unsold_card_marks_it_sold_and_active_without_a_payment() {
    let mut world = world();
    let mut unsold = card_with_cli(8, 1, "3", CLI);
    unsold.sold = false;
    world.cards = vec![unsold];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI)));
    let expected = Card {
        sold: true,
        ..world.cards[0].clone()
    };
    assert_eq!(reply.card, expected);
    assert_eq!(writes.all(), vec![Write::UpdateCard(expected)]);
}

#[test]
fn a_failing_card_update_fails_the_transaction_before_any_payment() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "3", CLI)];
    let mut ledger = world.ledger();
    ledger
        .expect_update_card()
        .times(1)
        .returning(|_| Err(StoreError::Conflict("deadlock".into())));
    assert_eq!(
        run(ledger, &ask(CLI).amount("1")),
        Err(CcError::Storage(StoreError::Conflict("deadlock".into())))
    );
}

// Moving to another group.

#[test]
fn a_move_empties_the_old_card_before_inserting_the_new_one() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "50", CLI)];
    let mut ledger = world.ledger();
    let mut order = Sequence::new();
    ledger
        .expect_update_card()
        .withf(|card| {
            card.id == CardId(8) && card.callerid.is_none() && card.balance.is_zero() && !card.sold
        })
        .times(1)
        .in_sequence(&mut order)
        .returning(|_| Ok(()));
    ledger
        .expect_insert_card()
        .withf(|card| card.cardgroup_id == CardGroupId(2) && card.callerid == cli(CLI))
        .times(1)
        .in_sequence(&mut order)
        .returning(|card| Ok(card.clone().stored_as(CardId(9))));
    ledger
        .expect_record_payment()
        .times(3)
        .returning(|_| Ok(()));
    let reply = card_reply(run(ledger, &ask(CLI).amount("110").group("2")));
    assert_eq!(reply.card.id, CardId(9));
}

#[test]
fn a_move_carries_the_old_balance_as_it_is_and_adds_the_stripped_amount() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "50", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).amount("110").group("2")));

    let new_id = CardId(FIRST_NEW_CARD_ID);
    let old = Card {
        balance: money("0"),
        sold: false,
        callerid: None,
        ..world.cards[0].clone()
    };
    let balances = writes.balances();
    assert_eq!(balances[0], Write::UpdateCard(old));
    let Write::InsertCard(inserted) = &balances[1] else {
        panic!("expected an insert, got {balances:?}");
    };
    assert_eq!(balances.len(), 2);
    assert_eq!(inserted.cardgroup_id, CardGroupId(2));
    assert_eq!(inserted.balance, money("150"));

    assert_eq!(reply.card.id, new_id);
    assert_eq!(reply.card.cardgroup_id, CardGroupId(2));
    assert_eq!(reply.card.callerid, Some(cli(CLI)));
    assert_eq!(reply.card.balance, money("150"));
    assert_eq!(reply.balance_with_vat.display(4), "165.0000");
    assert_eq!(
        rows(&writes.payments()),
        vec![
            row(Holder::Card(CardId(8)), "-50", "0", "50", SYSTEM_CURRENCY),
            row(Holder::Card(new_id), "50", "0", "50", SYSTEM_CURRENCY),
            row(Holder::Card(new_id), "100", "10", "110", SYSTEM_CURRENCY),
        ]
    );
}

#[test]
fn a_move_without_an_amount_carries_the_old_balance_untaxed() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "50", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).group("2")));
    assert_eq!(reply.card.balance, money("50"));
    assert_eq!(reply.balance_with_vat.display(4), "55.0000");
    assert_eq!(writes.payments().len(), 2);
    assert!(writes
        .payments()
        .iter()
        .all(|payment| payment.tax.is_zero()));
}

#[test]
fn a_move_of_an_empty_card_without_an_amount_writes_no_payment() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "0", CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run(ledger, &ask(CLI).group("2")));
    assert!(reply.card.balance.is_zero());
    assert_eq!(writes.balances().len(), 2);
    assert!(writes.payments().is_empty());
}

#[test]
fn a_move_to_a_group_that_does_not_exist_is_refused_without_a_write() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "50", CLI)];
    assert_eq!(
        run(world.ledger(), &ask(CLI).amount("1").group("99")),
        Err(CcError::InvalidCardGroup)
    );
}

#[test]
fn a_move_to_another_owners_group_is_refused_without_a_write() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "50", CLI)];
    assert_eq!(
        run(world.ledger(), &ask(CLI).amount("1").group("3")),
        Err(CcError::InvalidCardGroup)
    );
}

#[test]
fn a_garbage_group_for_a_known_card_is_refused_without_a_write() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "50", CLI)];
    assert_eq!(
        run(world.ledger(), &ask(CLI).amount("1").group("1x")),
        Err(CcError::InvalidCardGroup)
    );
}

#[test]
fn a_reseller_tops_up_its_own_card_and_the_payment_is_its_own() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 3, "1", CLI)];
    let reseller = morcc_domain::Caller {
        id: morcc_domain::UserId(OTHER_OWNER.0),
        owner: OTHER_OWNER,
        usertype: morcc_domain::UserType::Reseller,
    };
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = card_reply(run_as(&reseller, ledger, &ask(CLI).amount("1")));
    assert_eq!(reply.card.balance, money("2"));
    assert_eq!(writes.payments()[0].owner_id, OwnerId(5));
}

/// A store that runs the work on each ledger in turn while the transaction loses a race.
#[derive(Debug)]
struct RetryingStore(std::sync::Mutex<Vec<MockLedger>>);

impl morcc_domain::Store for RetryingStore {
    fn run_unit(
        &self,
        work: &mut dyn FnMut(&mut dyn morcc_domain::Ledger) -> Result<(), morcc_domain::UnitError>,
    ) -> Result<(), morcc_domain::UnitError> {
        let mut ledgers = self.0.lock().unwrap();
        let mut outcome = Err(morcc_domain::UnitError::Refused);
        for ledger in ledgers.iter_mut() {
            outcome = work(ledger);
            if !matches!(
                outcome,
                Err(morcc_domain::UnitError::Store(StoreError::Conflict(_)))
            ) {
                break;
            }
        }
        outcome
    }
}

#[test]
fn a_top_up_run_again_after_a_conflict_starts_from_the_balance_it_reads_again() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "10", CLI)];
    let mut lost = world.ledger();
    lost.expect_update_card()
        .times(1)
        .returning(|_| Err(StoreError::Conflict("deadlock".into())));
    let mut again = world.ledger();
    let writes = allow_writes(&mut again);
    let store = RetryingStore(std::sync::Mutex::new(vec![lost, again]));
    let reply = card_reply(morcc_domain::cc_by_cli(
        &store,
        &codes(),
        &admin(),
        &ask(CLI).amount("5"),
    ));
    assert_eq!(reply.card.balance, money("15"));
    assert_eq!(
        writes.balances(),
        vec![Write::UpdateCard(reply.card.clone())]
    );
    assert_eq!(writes.payments().len(), 1);
}
