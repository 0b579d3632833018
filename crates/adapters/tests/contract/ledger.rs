//! Every method of the ports, one transaction at a time.

use std::str::FromStr;
use std::time::Duration;

use morcc_adapters::admin::{self, CardGroupChange, CardGroupSpec, CardSpec, TaxSpec};
use morcc_adapters::AdapterError;
use morcc_domain::settings::{ALLOW_API, API_SECRET_KEY};
use morcc_domain::{
    AuditLog, BigDecimal, CallerId, CallerIdHolder, CardGroupId, CardKey, CardNumber, CcError,
    Device, DeviceUser, Directory, FailedAttempt, Holder, Ledger, Money, NewCard, OwnerId, Payment,
    Pin, StoreError, TaxId, Transact, UserId, UserType,
};

use crate::support::*;

fn cli(text: &str) -> CallerId {
    CallerId::parse(text).unwrap()
}

fn pin(text: &str) -> Pin {
    Pin::parse(text).unwrap()
}

fn new_card(group: CardGroupId, number: &str, code: &str, callerid: &str) -> NewCard {
    NewCard {
        cardgroup_id: group,
        owner_id: OwnerId(0),
        number: CardNumber::parse(number).unwrap(),
        pin: pin(code),
        balance: money("12.5"),
        callerid: cli(callerid),
    }
}

fn percent(text: &str) -> BigDecimal {
    BigDecimal::from_str(text).unwrap()
}

contract_tests! {
    /// A look-up's ledger reads what is committed and refuses every write.
    fn read_refuses_writes(db: &Database) {
        let group = group(db, "g");
        let spec = CardSpec { cardgroup_id: group, balance: money("4.5"), pin: Some(pin("4321")), number: None, callerid: Some(cli("77")), sold: true };
        let id = admin::create_card(db, &spec).unwrap();
        let mut seen = None;
        let outcome = db.read(|ledger: &mut dyn Ledger| {
            let mut card = ledger.lock_card_by_cli(&cli("77"))?.unwrap();
            seen = Some(card.balance.clone());
            card.balance = money("1000");
            ledger.update_card(&card)?;
            Ok::<_, CcError>(())
        });
        assert_eq!(outcome, Err(CcError::Storage(StoreError::ReadOnly)));
        assert_eq!(seen, Some(money("4.5")));
        assert_eq!(admin::card(db, id).unwrap().unwrap().balance, money("4.5"));
        let refused = db.read(|ledger: &mut dyn Ledger| {
            ledger.record_payment(&Payment {
                holder: Holder::Card(id), amount: money("1"), tax: Money::zero(), gross: money("1"),
                currency: "USD".into(), owner_id: OwnerId(0), description: String::new(),
            })?;
            Ok::<_, CcError>(())
        });
        assert_eq!(refused, Err(CcError::Storage(StoreError::ReadOnly)));
        assert!(admin::payments_for(db, Holder::Card(id)).unwrap().is_empty());
    }

    /// A database whose catalog is cached answers card groups and currencies as first read
    /// until the time is up; without the cache, every read sees the change at once.
    fn the_catalog_is_reused_for_its_time(db: &Database) {
        let group = group(db, "g");
        let price = |db: &morcc_adapters::Database| {
            db.read(|ledger: &mut dyn Ledger| {
                let group = ledger.card_group(group)?.unwrap();
                let rate = ledger.currency("EUR")?.unwrap().exchange_rate;
                Ok::<_, CcError>((group.price, rate))
            }).unwrap()
        };
        let set = |price: &str, rate: i32| {
            let change = CardGroupChange { price: Some(money(price)), ..CardGroupChange::default() };
            admin::update_card_group(db, group, &change).unwrap();
            admin::set_exchange_rate(db, "EUR", &BigDecimal::from(rate)).unwrap();
        };
        set("1", 2);
        let long = db.clone().with_catalog_cached_for(Duration::from_secs(600));
        let brief = db.clone().with_catalog_cached_for(Duration::from_millis(200));
        assert_eq!(price(&long), (money("1"), BigDecimal::from(2)));
        assert_eq!(price(&brief), (money("1"), BigDecimal::from(2)));
        set("5", 3);
        assert_eq!(price(db), (money("5"), BigDecimal::from(3)), "no cache: at once");
        assert_eq!(price(&long), (money("1"), BigDecimal::from(2)), "cached");
        assert_eq!(price(&brief), (money("1"), BigDecimal::from(2)), "cached");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(price(&brief), (money("5"), BigDecimal::from(3)), "read again");
        assert_eq!(price(&long), (money("1"), BigDecimal::from(2)), "still cached");
    }

    /// Devices are found by their caller ID exactly; providers' devices say so.
    fn devices_by_caller_id(db: &Database) {
        let user = admin::create_user(db, "u", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        let own = admin::create_device(db, "phone", user.0, &cli("12")).unwrap();
        let trunk = admin::create_device(db, "trunk", -1, &cli("34")).unwrap();
        let routed = admin::create_device(db, "route", user.0, &cli("56")).unwrap();
        admin::create_provider(db, "carrier", routed).unwrap();

        with_ledger(db, |ledger| {
            let device = ledger.device_by_cli(&cli("12"))?.unwrap();
            assert_eq!((device.id, device.user), (own, DeviceUser::User(user)));
            assert!(ledger.device_by_cli(&cli("1"))?.is_none(), "no partial match");
            assert!(ledger.device_by_cli(&cli("123"))?.is_none());
            let device = ledger.device_by_cli(&cli("34"))?.unwrap();
            assert_eq!((device.id, device.user), (trunk, DeviceUser::Provider));
            let device = ledger.device_by_cli(&cli("56"))?.unwrap();
            assert_eq!((device.id, device.user), (routed, DeviceUser::Provider));
            Ok(())
        }).unwrap();
    }

    /// The holder of a caller ID: a device wins over a card that has it too; a card alone is
    /// found (locked in a transaction); a code that matches only by padding finds nobody.
    fn holders_of_caller_ids(db: &Database) {
        let user = admin::create_user(db, "u", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        let phone = admin::create_device(db, "phone", user.0, &cli("12")).unwrap();
        let trunk = admin::create_device(db, "trunk", -1, &cli("34")).unwrap();
        let group = group(db, "g");
        let card_with = |callerid: &str| {
            let spec = CardSpec { cardgroup_id: group, balance: money("3"), pin: None, number: None, callerid: Some(cli(callerid)), sold: true };
            admin::create_card(db, &spec).unwrap()
        };
        card_with("12");
        let alone = card_with("77");
        card_with("4444");
        // A MOR row that would not convert to a card does not hide the device that wins.
        db.execute_sql("UPDATE cards SET pin = '' WHERE callerid = '12'").unwrap();
        for read_only in [false, true] {
            let look = |ledger: &mut dyn Ledger| {
                Ok::<_, CcError>(["12", "34", "77", "4444 ", "99"].map(|code| ledger.lock_holder_of(&cli(code))))
            };
            let [shared, provider, card, padded, nobody] = if read_only { db.read(look) } else { db.transact(look) }.unwrap();
            let device = |found: Result<Option<CallerIdHolder>, StoreError>| match found {
                Ok(Some(CallerIdHolder::Device(device))) => device,
                other => panic!("expected a device, got {other:?}"),
            };
            assert_eq!(device(shared), Device { id: phone, user: DeviceUser::User(user) }, "the device wins");
            assert_eq!(device(provider), Device { id: trunk, user: DeviceUser::Provider });
            match card {
                Ok(Some(CallerIdHolder::Card(card))) => {
                    assert_eq!((card.id, card.balance), (alone, money("3")));
                }
                other => panic!("expected the card, got {other:?}"),
            }
            assert_eq!(padded, Ok(None), "no padded match");
            assert_eq!(nobody, Ok(None));
        }
    }

    /// Users, cards, groups, taxes and currencies read back as written.
    fn look_ups(db: &Database) {
        let tax = admin::create_tax(db, &TaxSpec {
            values: [percent("10"), percent("5.5"), percent("50"), percent("0")],
            enabled: [true, true, false, false],
            compound: false,
        }).unwrap();
        let reseller = admin::create_user(db, "r", "pw", &UserType::Reseller, OwnerId(0), &money("7.25")).unwrap();
        admin::set_user_tax(db, reseller, Some(tax)).unwrap();
        let group = admin::create_card_group(db, &CardGroupSpec {
            name: "euro".into(),
            owner_id: OwnerId(reseller.0),
            number_length: 12,
            pin_length: 8,
            tax_id: Some(tax),
            currency: "EUR".into(),
            ..CardGroupSpec::default()
        }).unwrap();
        admin::set_exchange_rate(db, "EUR", &percent("0.9")).unwrap();
        admin::set_exchange_rate(db, "EUR", &percent("0.925")).unwrap();
        let card = admin::create_card(db, &CardSpec {
            cardgroup_id: group,
            balance: money("3"),
            pin: Some(pin("0042")),
            number: None,
            callerid: Some(cli("+370 600")),
            sold: true,
        }).unwrap();

        with_ledger(db, |ledger| {
            let user = ledger.lock_user(reseller)?.unwrap();
            assert_eq!((user.owner_id, user.balance.clone(), user.tax_id), (OwnerId(0), money("7.25"), Some(tax)));
            assert!(ledger.lock_user(UserId(999))?.is_none());

            let by_cli = ledger.lock_card_by_cli(&cli("+370 600"))?.unwrap();
            let by_pin = ledger.lock_card_by_pin(&pin("0042"))?.unwrap();
            assert_eq!(by_cli, by_pin);
            assert_eq!(by_cli.id, card);
            assert_eq!(by_cli.number.as_str().len(), 12);
            assert!(by_cli.number.as_str().bytes().all(|b| b.is_ascii_digit()));
            assert_eq!((by_cli.balance.clone(), by_cli.sold, by_cli.active), (money("3"), true, true));
            assert!(ledger.lock_card_by_cli(&cli("+370"))?.is_none());
            assert!(ledger.lock_card_by_pin(&pin("42"))?.is_none());

            let stored_group = ledger.card_group(group)?.unwrap();
            assert_eq!(stored_group.owner_id, OwnerId(reseller.0));
            assert_eq!((stored_group.number_length, stored_group.pin_length), (12, 8));
            assert_eq!((stored_group.tax_id, stored_group.currency.as_str()), (Some(tax), "EUR"));
            assert!(ledger.card_group(CardGroupId(999))?.is_none());

            // 10 % and the enabled 5.5 %, added: 100 + 15.5 % of it.
            let stored_tax = ledger.tax(tax)?.unwrap();
            assert_eq!(
                stored_tax.add(&money("100").to_figure()).as_decimal(),
                &percent("115.5")
            );
            assert!(ledger.tax(TaxId(999))?.is_none());

            let euro = ledger.currency("EUR")?.unwrap();
            assert_eq!(euro.exchange_rate, percent("0.925"));
            assert!(ledger.currency("GBP")?.is_none());
            Ok(())
        }).unwrap();
    }

    /// Inserts and updates of cards and balances, and payments rows as MOR writes them.
    fn writes(db: &Database) {
        let group = group(db, "g");
        let user = admin::create_user(db, "u", "pw", &UserType::User, OwnerId(0), &Money::zero()).unwrap();
        let inserted = with_ledger(db, |ledger| {
            let mut card = ledger.insert_card(&new_card(group, "0000000001", "000001", "777"))?;
            assert!((card.sold, card.active) == (true, true));
            card.balance = money("1.000000000000001");
            card.sold = false;
            card.active = false;
            card.callerid = None;
            ledger.update_card(&card)?;
            ledger.update_user_balance(user, &money("-2.5"))?;
            ledger.record_payment(&Payment {
                holder: Holder::Card(card.id),
                amount: money("1.000000000000001"),
                tax: money("0.1"),
                gross: money("2"),
                currency: "EUR".into(),
                owner_id: OwnerId(0),
                description: "test".into(),
            })?;
            ledger.record_payment(&Payment {
                holder: Holder::User(user),
                amount: money("-2.5"),
                tax: Money::zero(),
                gross: money("2.5"),
                currency: "USD".into(),
                owner_id: OwnerId(3),
                description: "debit".into(),
            })?;
            Ok(card)
        }).unwrap();

        let stored = admin::card(db, inserted.id).unwrap().unwrap();
        assert_eq!(stored, inserted);
        assert!(admin::card_by_callerid(db, &cli("777")).unwrap().is_none());
        assert_eq!(admin::user_balance(db, user).unwrap(), Some(money("-2.5")));

        let card_payments = admin::payments_for(db, Holder::Card(inserted.id)).unwrap();
        assert_eq!(card_payments.len(), 1);
        let payment = &card_payments[0];
        assert_eq!(payment.paymenttype, "Card");
        assert_eq!((payment.amount.clone(), payment.tax.clone(), payment.gross.clone()), (money("1.000000000000001"), money("0.1"), money("2")));
        assert_eq!((payment.currency.as_str(), payment.completed, payment.description.as_str()), ("EUR", true, "test"));
        let user_payments = admin::payments_for(db, Holder::User(user)).unwrap();
        assert_eq!(user_payments.len(), 1);
        assert_eq!(user_payments[0].paymenttype, "card_refill");
        assert_eq!(user_payments[0].owner_id, OwnerId(3));
        assert_user_ledger(db, user);
        assert_card_ledger(db, inserted.id);
    }

    /// A taken PIN or number is a Duplicate (draw new codes); a taken caller ID is a lost
    /// race (run the transaction again, which then finds the card).
    fn duplicates(db: &Database) {
        let group = group(db, "g");
        with_ledger(db, |ledger| {
            ledger.insert_card(&new_card(group, "1111", "2222", "a"))?;
            for taken in [
                new_card(group, "1111", "3333", "b"),
                new_card(group, "4444", "2222", "c"),
            ] {
                assert_eq!(ledger.insert_card(&taken), Err(StoreError::Duplicate));
            }
            Ok(())
        }).unwrap();
        // A lost race ends the unit of work: it runs again, and fails as a conflict.
        let same_phone = with_ledger(db, |ledger| Ok(ledger.insert_card(&new_card(group, "5555", "6666", "a"))?));
        assert!(matches!(same_phone, Err(CcError::Storage(StoreError::Conflict(_)))), "{same_phone:?}");
        let taken_pin = admin::create_card(db, &CardSpec {
            cardgroup_id: group,
            balance: Money::zero(),
            pin: Some(pin("2222")),
            number: CardNumber::parse("9999"),
            callerid: None,
            sold: false,
        }).unwrap_err();
        assert!(matches!(taken_pin, AdapterError::Store(StoreError::Duplicate)), "{taken_pin:?}");
        assert_eq!(admin::cards_in_group(db, group).unwrap().len(), 1);
    }

    /// Codes match byte for byte: a trailing space makes another code, although MySQL's
    /// `utf8mb4_bin` (a PAD SPACE collation) compares `'4444 ' = '4444'`.
    /// A caller ID differing from a stored one only by trailing spaces: SQLite stores both;
    /// MySQL's PAD SPACE unique key cannot, and answers at once instead of retrying a race
    /// that no retry can win.
    fn a_padded_twin_of_a_stored_caller_id(db: &Database) {
        let group = group(db, "g");
        let admin = admin(db);
        let stored = card_call(db, &admin, &request("4444", "", "1", &group.to_string()));
        let twin = call(db, &admin, &request("4444 ", "", "2", &group.to_string()));
        match db.backend() {
            morcc_adapters::Backend::Sqlite => {
                let Ok(morcc_domain::Reply::Card(twin)) = twin else { panic!("{twin:?}") };
                assert_ne!(twin.card.id, stored.card.id);
            }
            #[cfg(feature = "mysql")]
            morcc_adapters::Backend::Mysql => assert!(
                matches!(twin, Err(CcError::Storage(StoreError::Failure(_)))),
                "{twin:?}"
            ),
        }
        assert_card_ledger(db, stored.card.id);
        assert_eq!(admin::card(db, stored.card.id).unwrap().unwrap().balance, money("1"));
    }

    fn codes_match_exactly_without_padding(db: &Database) {
        let group = group(db, "g");
        let card = admin::create_card(db, &CardSpec {
            cardgroup_id: group,
            balance: money("1"),
            pin: Some(pin("123456")),
            number: None,
            callerid: Some(cli("4444")),
            sold: true,
        }).unwrap();
        let user = admin::create_user(db, "admin", "pw", &UserType::Admin, OwnerId(0), &Money::zero()).unwrap();
        let phone = admin::create_device(db, "phone", user.0, &cli("12")).unwrap();

        with_ledger(db, |ledger| {
            assert_eq!(ledger.lock_card_by_cli(&cli("4444"))?.map(|card| card.id), Some(card));
            assert!(ledger.lock_card_by_cli(&cli("4444 "))?.is_none(), "callerid 4444 + space");
            assert_eq!(ledger.lock_card_by_pin(&pin("123456"))?.map(|card| card.id), Some(card));
            assert!(ledger.lock_card_by_pin(&pin("123456 "))?.is_none(), "PIN + space");
            let padded = [CardKey::Pin(pin("123456 ")), CardKey::CallerId(cli("4444 "))];
            assert_eq!(ledger.lock_cards(&padded)?, vec![None, None]);
            let exact = [CardKey::CallerId(cli("4444")), CardKey::Pin(pin("123456"))];
            let ids: Vec<_> = ledger.lock_cards(&exact)?.into_iter().map(|found| found.map(|card| card.id)).collect();
            assert_eq!(ids, vec![Some(card), Some(card)], "in the keys' order, one card twice");
            assert_eq!(ledger.device_by_cli(&cli("12"))?.map(|device| device.id), Some(phone));
            assert!(ledger.device_by_cli(&cli("12 "))?.is_none(), "cli 12 + space");
            assert!(ledger.currency("USD")?.is_some());
            assert!(ledger.currency("USD ")?.is_none(), "currency + space");
            Ok(())
        }).unwrap();
        let looked_up = db.read(|ledger: &mut dyn Ledger| {
            assert!(ledger.lock_card_by_cli(&cli("4444 "))?.is_none());
            Ok::<_, CcError>(())
        });
        assert!(looked_up.is_ok());
        assert!(admin::card_by_callerid(db, &cli("4444 ")).unwrap().is_none());

        assert_eq!(db.account_by_username("admin").unwrap().map(|account| account.id), Some(user));
        assert!(db.account_by_username("admin ").unwrap().is_none(), "username + space");
        let refused = admin::set_user_blocked(db, "admin ", true).unwrap_err();
        assert!(matches!(refused, AdapterError::NotFound(_)), "{refused:?}");
        assert!(!db.account_by_username("admin").unwrap().unwrap().blocked);
        admin::set_user_blocked(db, "admin", true).unwrap();
        admin::set_user_blocked(db, "admin", true).unwrap();
        assert!(db.account_by_username("admin").unwrap().unwrap().blocked);
    }

    /// An update that binds a card to a caller ID another card took meanwhile (a concurrent
    /// request sold that card to the same phone) lost a race: the unit of work runs again.
    fn a_caller_id_taken_by_an_update_is_a_conflict(db: &Database) {
        let group = group(db, "g");
        let (a, b) = with_ledger(db, |ledger| {
            let a = ledger.insert_card(&new_card(group, "1111", "2222", "4444"))?;
            let b = ledger.insert_card(&new_card(group, "3333", "5555", "6666"))?;
            Ok((a, b))
        }).unwrap();
        let taken = with_ledger(db, |ledger| {
            let mut b = ledger.lock_card_by_pin(&pin("5555"))?.unwrap();
            b.callerid = a.callerid.clone();
            Ok(ledger.update_card(&b)?)
        });
        assert!(matches!(taken, Err(CcError::Storage(StoreError::Conflict(_)))), "{taken:?}");
        assert_eq!(admin::card(db, b.id).unwrap().unwrap().callerid, Some(cli("6666")));
        assert_eq!(admin::card_by_callerid(db, &cli("4444")).unwrap().map(|card| card.id), Some(a.id));
    }

    /// The cache's `Debug` form (and the database's) shows no cached secret: neither the API
    /// secret key nor a password hash.
    fn debug_forms_hide_secrets(db: &Database) {
        admin::create_user(db, "res", "pa55", &UserType::Reseller, OwnerId(0), &Money::zero()).unwrap();
        admin::set_setting(db, API_SECRET_KEY, "s3cr3t-key", OwnerId(0)).unwrap();
        let cache = morcc_adapters::CachedDirectory::new(db.clone(), std::time::Duration::from_secs(60));
        assert!(cache.account_by_username("res").unwrap().is_some());
        assert_eq!(cache.setting(API_SECRET_KEY, OwnerId(0)).unwrap().as_deref(), Some("s3cr3t-key"));
        let hash = morcc_domain::hash::sha1_hex("pa55");
        for shown in [format!("{cache:?}"), format!("{db:?}")] {
            assert!(!shown.contains("s3cr3t-key") && !shown.contains(&hash), "{shown}");
        }
    }

    /// A unit of work that goes on after a lost race (here: ignores it) cannot commit: nothing
    /// of it stays, and it runs again from the start.
    fn a_unit_that_ignored_a_lost_race_runs_again_and_commits_nothing_of_it(db: &Database) {
        let group = group(db, "g");
        with_ledger(db, |ledger| Ok(ledger.insert_card(&new_card(group, "1111", "2222", "a"))?)).unwrap();
        let calls = Calls::default();
        let outcome = with_ledger(db, |ledger| {
            if calls.tick() == 1 {
                // The caller ID is taken: a lost race, which this unit ignores.
                let _ = ledger.insert_card(&new_card(group, "3333", "4444", "a"));
                // Refused: the unit already lost.
                let after = ledger.insert_card(&new_card(group, "5555", "6666", "b"));
                assert!(matches!(after, Err(StoreError::Conflict(_))), "{after:?}");
                return Ok("ignored");
            }
            ledger.insert_card(&new_card(group, "7777", "8888", "c"))?;
            Ok("second attempt")
        });
        assert_eq!((outcome, calls.count()), (Ok("second attempt"), 2));
        let clis: Vec<_> = admin::cards_in_group(db, group).unwrap().into_iter().map(|card| card.callerid).collect();
        assert_eq!(clis, vec![Some(cli("a")), Some(cli("c"))]);
    }

    /// Work that writes and then fails leaves nothing behind.
    fn rollback(db: &Database) {
        let group = group(db, "g");
        let outcome = with_ledger(db, |ledger| {
            let card = ledger.insert_card(&new_card(group, "1", "2", "3"))?;
            ledger.record_payment(&Payment {
                holder: Holder::Card(card.id),
                amount: money("5"),
                tax: Money::zero(),
                gross: money("5"),
                currency: "USD".into(),
                owner_id: OwnerId(0),
                description: "doomed".into(),
            })?;
            Err::<(), _>(CcError::CardNotFound)
        });
        assert_eq!(outcome, Err(CcError::CardNotFound));
        assert!(admin::cards_in_group(db, group).unwrap().is_empty());
        assert!(admin::payments_for(db, Holder::Card(morcc_domain::CardId(1))).unwrap().is_empty());
    }

    /// Conflicts are retried until the retry budget (a second for these tests) is spent; other
    /// errors are not retried.
    fn conflicts_are_retried(db: &Database) {
        let calls = Calls::default();
        let outcome = with_ledger(db, |_| {
            if calls.tick() < 3 {
                return Err(StoreError::Conflict("deadlock".into()).into());
            }
            Ok("done")
        });
        assert_eq!((outcome, calls.count()), (Ok("done"), 3));

        let calls = Calls::default();
        let started = std::time::Instant::now();
        let outcome = with_ledger(db, |_| {
            calls.tick();
            Err::<(), _>(StoreError::Conflict("deadlock".into()).into())
        });
        assert!(matches!(outcome, Err(CcError::Storage(StoreError::Conflict(_)))));
        assert!(calls.count() > 5, "{} attempts", calls.count());
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "gave up within its budget");

        let calls = Calls::default();
        let outcome = with_ledger(db, |_| {
            calls.tick();
            Err::<(), _>(CcError::PinBalanceZero)
        });
        assert_eq!((outcome, calls.count()), (Err(CcError::PinBalanceZero), 1));
    }

    /// Accounts and settings for the filters; failed attempts in `actions`.
    fn directory_and_audit(db: &Database) {
        let reseller = admin::create_user(db, "res", "pa55", &UserType::Reseller, OwnerId(0), &Money::zero()).unwrap();
        let account = db.account_by_username("res").unwrap().unwrap();
        assert_eq!((account.id, account.usertype.clone(), account.blocked), (reseller, UserType::Reseller, false));
        assert_eq!(account.password_sha1, morcc_domain::hash::sha1_hex("pa55"));
        assert!(db.account_by_username("RES").unwrap().is_none(), "usernames match exactly");
        assert!(db.account_by_username("nobody").unwrap().is_none());

        assert_eq!(db.setting(ALLOW_API, OwnerId(0)).unwrap(), None);
        admin::set_setting(db, ALLOW_API, "1", OwnerId(0)).unwrap();
        admin::set_setting(db, ALLOW_API, "1", OwnerId(0)).unwrap();
        admin::set_setting(db, ALLOW_API, "0", OwnerId(reseller.0)).unwrap();
        admin::set_setting(db, API_SECRET_KEY, "k1", OwnerId(0)).unwrap();
        admin::set_setting(db, API_SECRET_KEY, "k2", OwnerId(0)).unwrap();
        assert_eq!(db.setting(ALLOW_API, OwnerId(0)).unwrap().as_deref(), Some("1"));
        assert_eq!(db.setting(ALLOW_API, OwnerId(reseller.0)).unwrap().as_deref(), Some("0"));
        assert_eq!(db.setting(API_SECRET_KEY, OwnerId(0)).unwrap().as_deref(), Some("k2"));

        assert_eq!(admin::actions_count(db).unwrap(), 0);
        db.record_failure(&FailedAttempt {
            username: "res".into(),
            remote_address: "192.0.2.1".into(),
            reason: "Bad login".into(),
            target: "/api/cc_by_cli?u=res".into(),
        });
        assert_eq!(admin::actions_count(db).unwrap(), 1);
    }
}
