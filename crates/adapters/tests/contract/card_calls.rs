//! The storage the card calls need (card_calls.md): cards by number, free cards, sales, and
//! the migration that brings them to a database of the previous release.

use morcc_adapters::admin::{self, CardGroupChange, CardSpec};
use morcc_adapters::Database;
use morcc_domain::{
    CallerId, Card, CardGroupId, CardNumber, CcError, Ledger, OwnerId, Pin, Sale, Transact,
};

use crate::support::*;

fn number(text: &str) -> CardNumber {
    CardNumber::parse(text).unwrap()
}

/// A card of `group` numbered `code`, its PIN `9<code>`.
fn stock(db: &Database, group: CardGroupId, code: &str, balance: &str, sold: bool) -> Card {
    let id = admin::create_card(
        db,
        &CardSpec {
            cardgroup_id: group,
            balance: money(balance),
            pin: Some(Pin::parse(&format!("9{code}")).unwrap()),
            number: Some(number(code)),
            callerid: None,
            sold,
        },
    )
    .unwrap();
    admin::card(db, id).unwrap().unwrap()
}

fn free_cards(db: &Database, group: CardGroupId, limit: usize) -> Vec<Card> {
    with_ledger(db, |ledger| Ok(ledger.lock_free_cards(group, limit)?)).unwrap()
}

contract_tests! {
    /// A card is found by its number byte for byte: no leading zero dropped, no trailing space
    /// ignored (MySQL's PAD SPACE collation would), case kept.
    fn cards_are_found_by_their_exact_number(db: &Database) {
        let group = group(db, "g");
        let card = stock(db, group, "0123", "5", false);
        let found = |code: &str| with_ledger(db, |ledger| Ok(ledger.lock_card_by_number(&number(code))?)).unwrap();
        assert_eq!(found("0123"), Some(card));
        assert_eq!(found("123"), None);
        assert_eq!(found("0123 "), None);
        let read = db.read(|ledger: &mut dyn Ledger| Ok::<_, CcError>(ledger.lock_card_by_number(&number("0123"))?));
        assert!(matches!(read, Ok(Some(_))), "a look-up reads it without a transaction");
    }

    /// Free cards are the unsold, unhidden cards with no caller ID and a positive balance, in
    /// order of number, then id; the count and the locked selection agree with `Card::is_free`.
    fn free_cards_follow_the_domain_rule(db: &Database) {
        let group = group(db, "g");
        let other = crate::support::group(db, "other");
        let second = stock(db, group, "1002", "10", false);
        let first = stock(db, group, "1001", "0.000000000000001", false);
        stock(db, group, "1003", "10", true);
        stock(db, group, "1004", "0", false);
        stock(db, group, "1005", "-1", false);
        let hidden = stock(db, group, "1006", "10", false);
        admin::set_card_hidden(db, &hidden.number, true).unwrap();
        let bound = admin::create_card(db, &CardSpec {
            cardgroup_id: group, balance: money("10"), pin: None, number: Some(number("1000")),
            callerid: Some(CallerId::parse("4444").unwrap()), sold: false,
        }).unwrap();
        stock(db, other, "2001", "10", false);

        let count = with_ledger(db, |ledger| Ok(ledger.free_card_count(group)?)).unwrap();
        assert_eq!(count, 2);
        let cards = free_cards(db, group, 10);
        assert_eq!(cards, vec![first.clone(), second]);
        assert!(cards.iter().all(Card::is_free));
        assert_eq!(free_cards(db, group, 1), vec![first]);
        assert!(!admin::card(db, bound).unwrap().unwrap().is_free());
        // A hidden group's cards are the call's to refuse; the store counts what the rule says.
        admin::update_card_group(db, group, &CardGroupChange { hidden: Some(true), ..Default::default() }).unwrap();
        assert_eq!(free_cards(db, group, 10).len(), 2);
    }

    /// A sale writes its order, a line item and a `card_sell_over_api` action per card, and
    /// no payment.
    fn a_sale_is_recorded_as_an_order(db: &Database) {
        let caller = admin(db);
        let group = group(db, "g");
        let cards = [stock(db, group, "1001", "10.5", true), stock(db, group, "1002", "2.25", true)];
        let sale = Sale::of(&caller, "buyer@example.com", "USD".into(), &cards);
        with_ledger(db, |ledger| Ok(ledger.record_sale(&sale)?)).unwrap();
        let orders = admin::orders(db).unwrap();
        assert_eq!(orders.len(), 1);
        let order = &orders[0];
        assert_eq!((order.ordertype.as_str(), order.email.as_str(), order.currency.as_str()), ("unspecified", "buyer@example.com", "USD"));
        assert_eq!(order.amount, money("12.75"));
        assert!(order.completed);
        assert_eq!(order.owner_id, OwnerId(0));
        assert_eq!(order.lines, vec![
            (cards[0].id, group, 1, money("10.5")),
            (cards[1].id, group, 1, money("2.25")),
        ]);
        let actions = admin::actions_named(db, "card_sell_over_api").unwrap();
        assert_eq!(actions, vec![
            (caller.id, Some(cards[0].id.0), "Card".to_owned()),
            (caller.id, Some(cards[1].id.0), "Card".to_owned()),
        ]);
        for card in &cards {
            assert!(admin::payments_for(db, morcc_domain::Holder::Card(card.id)).unwrap().is_empty());
        }
    }

    /// The card calls' migration applies to a database the previous release migrated: its
    /// groups get MOR's picture, its cards are visible, and its rows read as before.
    fn a_database_of_the_previous_release_is_upgraded(db: &Database) {
        db.revert_newest_migration().unwrap();
        db.execute_sql(
            "INSERT INTO cardgroups (id, name, owner_id, price, number_length, pin_length, tell_balance_in_currency, hidden) \
             VALUES (7, 'old', 0, 2.5, 10, 6, '', 0);
             INSERT INTO cards (id, cardgroup_id, number, pin, balance, sold, active, owner_id) \
             VALUES (70, 7, '0000000070', '700070', 4.5, 0, 1, 0);",
        ).unwrap();
        db.run_migrations().unwrap();
        let group = with_ledger(db, |ledger| Ok(ledger.card_group(CardGroupId(7))?)).unwrap().unwrap();
        assert_eq!((group.image.as_str(), group.hidden, group.price.clone()), ("example.jpg", false, money("2.5")));
        let card = with_ledger(db, |ledger| Ok(ledger.lock_card_by_number(&number("0000000070"))?)).unwrap().unwrap();
        assert!(!card.hidden && card.is_free());
        assert_eq!(free_cards(db, CardGroupId(7), 5), vec![card]);
        assert!(admin::orders(db).unwrap().is_empty());
    }
}

/// MySQL: while one sale holds a group's first free cards locked, another takes the next ones
/// at once instead of waiting for the first to end (`FOR UPDATE SKIP LOCKED`). On SQLite the
/// second sale cannot begin before the first ends: writers are serialised.
#[cfg(feature = "mysql")]
#[test]
fn concurrent_buyers_skip_each_others_locked_cards() {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let scratch = crate::support::mysql();
    let db = scratch.database().clone();
    let group = group(&db, "g");
    for code in ["1001", "1002", "1003", "1004"] {
        stock(&db, group, code, "10", false);
    }
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let holder = {
        let db = db.clone();
        std::thread::spawn(move || {
            db.transact(|ledger: &mut dyn Ledger| {
                let cards = ledger.lock_free_cards(group, 2)?;
                locked_tx
                    .send(
                        cards
                            .iter()
                            .map(|card| card.number.clone())
                            .collect::<Vec<_>>(),
                    )
                    .unwrap();
                // Hold the locks until the other buyer is done (or give up, failing the test).
                let _ = release_rx.recv_timeout(Duration::from_secs(20));
                Ok::<_, CcError>(())
            })
        })
    };
    let held = locked_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    let started = Instant::now();
    let taken = free_cards(&db, group, 2);
    let waited = started.elapsed();
    release_tx.send(()).unwrap();
    holder.join().unwrap().unwrap();
    assert_eq!(held, vec![number("1001"), number("1002")]);
    assert_eq!(
        taken
            .iter()
            .map(|card| card.number.clone())
            .collect::<Vec<_>>(),
        vec![number("1003"), number("1004")]
    );
    assert!(
        waited < Duration::from_secs(2),
        "the second buyer waited {waited:?}"
    );
}
