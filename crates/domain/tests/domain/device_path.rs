//! Spec §4 A: the caller ID belongs to a device.

use morcc_domain::ports::MockLedger;
use morcc_domain::{CcError, DeviceId, DeviceUser, Holder, OwnerId, TaxId, UserId};

use crate::support::*;

const DEVICE_CLI: &str = "37060000001";

/// Device 3 of user 20 (the admin's, balance 10) answers `DEVICE_CLI`.
fn world() -> World {
    World {
        devices: vec![(DEVICE_CLI.to_owned(), device(3, 20))],
        users: vec![user(20, ADMIN_OWNER, "10")],
        ..World::default()
    }
}

#[test]
fn a_device_top_up_adds_the_amount_to_its_users_balance() {
    let mut ledger = world().ledger();
    let writes = allow_writes(&mut ledger);
    let reply = device_reply(run(ledger, &ask(DEVICE_CLI).amount("25.5")));
    assert_eq!(reply.device_id, DeviceId(3));
    assert_eq!(reply.user_id, UserId(20));
    assert_eq!(reply.new_balance, money("35.5"));
    assert_eq!(reply.new_balance_with_vat.display(4), "35.5000");
    assert_eq!(
        writes.balances(),
        vec![Write::UserBalance(UserId(20), money("35.5"))]
    );
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::User(UserId(20)),
            "25.5",
            "0",
            "25.5",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_device_top_up_removes_the_users_tax_and_converts_nothing() {
    let mut world = world();
    world.users[0].tax_id = Some(TaxId(4));
    world.taxes = vec![(TaxId(4), tax(&["10"], false))];
    // A group priced in EUR exists, and the card-group id is even sent: neither matters here.
    world.currencies = vec![currency("EUR", "2")];
    world.groups[0].currency = "EUR".into();
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = device_reply(run(ledger, &ask(DEVICE_CLI).amount("110").group("1")));
    assert_eq!(reply.new_balance, money("110"));
    assert_eq!(reply.new_balance_with_vat.display(4), "121.0000");
    assert_eq!(
        rows(&writes.payments()),
        vec![row(
            Holder::User(UserId(20)),
            "100",
            "10",
            "110",
            SYSTEM_CURRENCY
        )]
    );
}

#[test]
fn a_device_look_up_with_amount_zero_writes_nothing() {
    let mut world = world();
    world.users[0].tax_id = Some(TaxId(4));
    world.taxes = vec![(TaxId(4), tax(&["10"], false))];
    // No write is expected by the ledger: one would panic.
    let reply = device_reply(run(world.ledger(), &ask(DEVICE_CLI)));
    assert_eq!(reply.new_balance, money("10"));
    assert_eq!(reply.new_balance_with_vat.display(4), "11.0000");
}

#[test]
fn a_device_takes_precedence_over_a_card_with_the_same_callerid() {
    let mut world = world();
    world.cards = vec![card_with_cli(8, 1, "99", DEVICE_CLI)];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = device_reply(run(ledger, &ask(DEVICE_CLI).amount("1").group("1")));
    assert_eq!(reply.new_balance, money("11"));
    assert_eq!(
        writes.balances(),
        vec![Write::UserBalance(UserId(20), money("11"))]
    );
}

#[test]
fn a_device_with_a_pin_takes_the_cards_whole_balance_and_leaves_the_card_empty_and_unsold() {
    let mut world = world();
    world.cards = vec![card(7, 1, "40.25")];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    // The amount is ignored when a PIN is sent.
    let reply = device_reply(run(ledger, &ask(DEVICE_CLI).pin(&pin_of(7)).amount("1000")));
    assert_eq!(reply.new_balance, money("50.25"));
    let emptied = morcc_domain::Card {
        balance: money("0"),
        sold: false,
        ..card(7, 1, "0")
    };
    assert_eq!(
        writes.balances(),
        vec![
            Write::UpdateCard(emptied),
            Write::UserBalance(UserId(20), money("50.25"))
        ]
    );
    assert_eq!(
        rows(&writes.payments()),
        vec![
            row(
                Holder::Card(morcc_domain::CardId(7)),
                "-40.25",
                "0",
                "40.25",
                SYSTEM_CURRENCY
            ),
            row(
                Holder::User(UserId(20)),
                "40.25",
                "0",
                "40.25",
                SYSTEM_CURRENCY
            ),
        ]
    );
}

#[test]
fn a_pin_transfer_to_a_device_moves_the_balance_without_tax_and_prints_it_with_the_users_tax() {
    let mut world = world();
    world.users[0].tax_id = Some(TaxId(4));
    world.taxes = vec![(TaxId(4), tax(&["10"], false))];
    world.groups[0].tax_id = Some(TaxId(4));
    world.cards = vec![card(7, 1, "30")];
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = device_reply(run(ledger, &ask(DEVICE_CLI).pin(&pin_of(7))));
    assert_eq!(reply.new_balance, money("40"));
    assert_eq!(reply.new_balance_with_vat.display(4), "44.0000");
    assert!(writes
        .payments()
        .iter()
        .all(|payment| payment.tax.is_zero()));
}

#[test]
fn a_device_with_an_unknown_pin_answers_pin_not_found_and_writes_nothing() {
    let world = world();
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).pin("123")),
        Err(CcError::PinNotFound)
    );
}

#[test]
fn a_device_with_the_pin_of_another_owners_card_answers_pin_not_found() {
    let mut world = world();
    world.groups.push(morcc_domain::CardGroup {
        owner_id: OTHER_OWNER,
        ..group(2)
    });
    world.cards = vec![card(7, 2, "30")];
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).pin(&pin_of(7))),
        Err(CcError::PinNotFound)
    );
}

#[test]
fn a_device_with_the_pin_of_an_empty_card_answers_pin_balance_is_zero() {
    let mut world = world();
    world.cards = vec![card(7, 1, "0")];
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).pin(&pin_of(7))),
        Err(CcError::PinBalanceZero)
    );
}

#[test]
fn a_device_of_user_minus_one_belongs_to_a_provider_and_nothing_else_is_read() {
    let mut ledger = MockLedger::new();
    ledger
        .expect_device_by_cli()
        .times(1)
        .returning(|_| Ok(Some(device(3, -1))));
    assert_eq!(
        run(ledger, &ask(DEVICE_CLI).amount("5")),
        Err(CcError::CallerIdBelongsToProvider)
    );
}

#[test]
fn a_device_named_by_a_provider_belongs_to_a_provider() {
    let mut world = world();
    world.devices[0].1.user = DeviceUser::from_mor(20, true);
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).amount("5")),
        Err(CcError::CallerIdBelongsToProvider)
    );
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).pin(&pin_of(7))),
        Err(CcError::CallerIdBelongsToProvider)
    );
}

#[test]
fn a_device_of_another_owners_user_may_not_be_changed() {
    let mut world = world();
    world.users[0].owner_id = OTHER_OWNER;
    world.cards = vec![card(7, 1, "30")];
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).amount("5")),
        Err(CcError::DeviceNotOwned)
    );
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).pin(&pin_of(7))),
        Err(CcError::DeviceNotOwned)
    );
}

#[test]
fn a_reseller_may_top_up_a_device_of_its_own_user() {
    let mut world = world();
    world.users[0].owner_id = OTHER_OWNER;
    let reseller = morcc_domain::Caller {
        id: UserId(OTHER_OWNER.0),
        owner: OTHER_OWNER,
        usertype: morcc_domain::UserType::Reseller,
    };
    let mut ledger = world.ledger();
    let writes = allow_writes(&mut ledger);
    let reply = device_reply(run_as(&reseller, ledger, &ask(DEVICE_CLI).amount("5")));
    assert_eq!(reply.new_balance, money("15"));
    assert_eq!(writes.payments()[0].owner_id, OwnerId(OTHER_OWNER.0));
}

#[test]
fn a_device_whose_user_is_missing_may_not_be_changed() {
    let mut world = world();
    world.users.clear();
    assert_eq!(
        run(world.ledger(), &ask(DEVICE_CLI).amount("5")),
        Err(CcError::DeviceNotOwned)
    );
}

#[test]
fn a_failing_user_balance_write_fails_the_transaction_before_any_payment() {
    let mut ledger = world().ledger();
    ledger
        .expect_update_user_balance()
        .times(1)
        .returning(|_, _| Err(morcc_domain::StoreError::Failure("disk full".into())));
    // No record_payment expectation: a payment after the failure would panic.
    assert_eq!(
        run(ledger, &ask(DEVICE_CLI).amount("5")),
        Err(CcError::Storage(morcc_domain::StoreError::Failure(
            "disk full".into()
        )))
    );
}
