//! Migrations and exact money on every backend.

use morcc_adapters::admin::{self, CardSpec};
use morcc_adapters::{AdapterError, Backend, Database, PoolSettings};
use morcc_domain::{CardId, Holder, Money, OwnerId, StoreError, UserType};

use crate::support::*;

contract_tests! {
    /// Migrations are idempotent and seed the system currency.
    fn migrations_run_twice(db: &Database) {
        assert!(admin::is_fresh(db).unwrap());
        db.run_migrations().unwrap();
        db.run_migrations().unwrap();
        db.ping().unwrap();
        let system = with_ledger(db, |ledger| Ok(ledger.system_currency()?)).unwrap().unwrap();
        assert_eq!(system.name, "USD");
        assert_eq!(system.exchange_rate, money("1").as_decimal().clone());
        admin(db);
        assert!(!admin::is_fresh(db).unwrap());
    }

    /// 15 integer and 15 fractional digits survive a round trip through every money column.
    fn money_round_trips_exactly(db: &Database) {
        let widest = money("999999999999999.999999999999999");
        let tiny = money("0.000000000000001");
        let user = admin::create_user(db, "rich", "pw", &UserType::User, OwnerId(0), &widest).unwrap();
        assert_eq!(admin::user_balance(db, user).unwrap(), Some(widest.clone()));
        assert_eq!(
            admin::user_balance(db, user).unwrap().unwrap().to_stored_string(),
            "999999999999999.999999999999999"
        );

        let group = group(db, "cards");
        let card = admin::create_card(db, &CardSpec {
            cardgroup_id: group,
            balance: tiny.clone(),
            pin: None,
            number: None,
            callerid: None,
            sold: false,
        }).unwrap();
        assert_eq!(admin::card(db, card).unwrap().unwrap().balance, tiny);

        let negative = -&widest;
        with_ledger(db, |ledger| {
            ledger.update_user_balance(user, &negative)?;
            Ok(())
        }).unwrap();
        assert_eq!(admin::user_balance(db, user).unwrap(), Some(negative.clone()));
    }

    /// The operator's writes refuse what DECIMAL(30,15) cannot hold, on every backend.
    fn operator_values_past_decimal_30_15_are_refused(db: &Database) {
        let too_wide = money("1000000000000000");
        let refused = admin::create_user(db, "rich", "pw", &UserType::User, OwnerId(0), &too_wide).unwrap_err();
        assert!(matches!(&refused, AdapterError::Store(StoreError::Failure(message)) if message.contains("out of range")), "{refused:?}");
        assert!(admin::is_fresh(db).unwrap());
        let refused = admin::set_exchange_rate(db, "EUR", too_wide.as_decimal()).unwrap_err();
        assert!(matches!(refused, AdapterError::Store(StoreError::Failure(_))), "{refused:?}");
        let euro = with_ledger(db, |ledger| Ok(ledger.currency("EUR")?)).unwrap();
        assert!(euro.is_none());
    }

    /// 0.1 + 0.2 is 0.3, in balances and in the sum of payments.
    fn decimal_sums_are_exact(db: &Database) {
        let caller = admin(db);
        let group = group(db, "cards");
        let created = card_call(db, &caller, &request("100", "", "0.1", &group.to_string()));
        let topped = card_call(db, &caller, &request("100", "", "0.2", ""));
        assert_eq!(topped.card.id, created.card.id);
        assert_eq!(topped.card.balance, money("0.3"));
        let stored = admin::card(db, created.card.id).unwrap().unwrap();
        assert_eq!(stored.balance.to_stored_string(), "0.300000000000000");
        assert_eq!(admin::payments_sum_for(db, Holder::Card(stored.id)).unwrap(), money("0.3"));
    }
}

#[test]
fn urls_choose_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let relative_free = format!("sqlite://{}", dir.path().join("a.db").display());
    let db = Database::connect(&relative_free, PoolSettings::default()).unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    db.run_migrations().unwrap();

    for url in ["postgres://u:hunter2@h/db", "morcc.db", "sqlite://"] {
        let error = Database::connect(url, PoolSettings::default()).unwrap_err();
        assert!(
            matches!(error, AdapterError::UnsupportedUrl(_)),
            "{url}: {error:?}"
        );
        assert!(
            !error.to_string().contains("hunter2"),
            "the password leaked: {error}"
        );
    }
}

#[cfg(not(feature = "mysql"))]
#[test]
fn mysql_urls_need_the_mysql_feature() {
    let error =
        Database::connect("mysql://root@127.0.0.1/morcc", PoolSettings::default()).unwrap_err();
    assert!(matches!(error, AdapterError::MysqlNotCompiled), "{error:?}");
}

#[test]
fn a_missing_card_group_is_not_found() {
    let test_db = sqlite();
    let error = admin::create_card(
        test_db.database(),
        &CardSpec {
            cardgroup_id: morcc_domain::CardGroupId(42),
            balance: Money::zero(),
            pin: None,
            number: None,
            callerid: None,
            sold: false,
        },
    )
    .unwrap_err();
    assert!(matches!(error, AdapterError::NotFound(_)), "{error:?}");
    assert!(admin::card(test_db.database(), CardId(1))
        .unwrap()
        .is_none());
}

/// Every look-up of the request path is served by an index (SQLite's query planner says
/// `SEARCH ... USING INDEX`, never `SCAN`).
#[test]
fn request_path_look_ups_use_indexes() {
    use diesel::sql_types::Text;
    use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.db");
    let db = Database::connect(
        &format!("sqlite://{}", path.display()),
        PoolSettings::default(),
    )
    .unwrap();
    db.run_migrations().unwrap();
    let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    for query in [
        "SELECT id, password, blocked FROM users WHERE username = 'admin'",
        "SELECT value FROM conflines WHERE name = 'Allow_API' AND owner_id = 0",
        "SELECT devices.id, devices.user_id FROM callerids INNER JOIN devices \
         ON callerids.device_id = devices.id WHERE callerids.cli = '4444' ORDER BY callerids.id",
        "SELECT id FROM providers WHERE device_id = 1",
        "SELECT id, balance FROM users WHERE id = 1",
        "SELECT id, balance FROM cards WHERE callerid = '4444'",
        "SELECT id, balance FROM cards WHERE pin = '123456'",
        "SELECT id FROM cards WHERE number = '0123456789'",
        "SELECT owner_id FROM cardgroups WHERE id = 1",
        "SELECT tax1_value FROM taxes WHERE id = 1",
        "SELECT exchange_rate FROM currencies WHERE name = 'EUR'",
        "SELECT amount FROM payments WHERE card = 1 AND user_id = 1",
    ] {
        let plan = diesel::sql_query(format!("EXPLAIN QUERY PLAN {query}"))
            .load::<Step>(&mut conn)
            .unwrap();
        assert!(!plan.is_empty(), "{query}");
        for step in plan {
            assert!(!step.detail.starts_with("SCAN"), "{query}: {}", step.detail);
        }
    }
}
