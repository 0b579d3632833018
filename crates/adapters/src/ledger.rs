//! The unit of work: [`Store`] on [`Database`] and the [`Ledger`] it hands to the domain.

use diesel::dsl::now;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use morcc_domain::{
    CallerId, CallerIdHolder, Card, CardGroup, CardGroupId, CardId, CardKey, CardNumber, Catalog,
    Currency, Device, DeviceId, DeviceUser, Fingerprint, IdempotencyKey, Ledger, Money, NewCard,
    Payment, Pin, Sale, Store, StoreError, StoredReply, Tax, TaxId, UnitError, User, UserId,
};

use crate::cache::CatalogCache;
use crate::connection::{AnyConnection, Database};
use crate::error::{card_write_error, store_error};
use crate::money_sql;
#[cfg(feature = "mysql")]
use crate::mysql;
use crate::rows::{self, CardRow, UserRow};
use crate::schema::{actions, callerids, cardgroups, cards, cclineitems, ccorders, currencies};
use crate::schema::{devices, idempotency_keys, payments, providers, taxes, users};

/// MOR's system currency: `currencies.id` 1.
const SYSTEM_CURRENCY_ID: i64 = 1;

/// The first row of `$query` as `$row`, locked until the transaction ends when `$ledger` is a
/// transaction's.
///
/// MySQL locks it with `SELECT ... FOR UPDATE`. SQLite has no row locks, and needs none: the
/// transaction began with `BEGIN IMMEDIATE`, so it already holds the database's write lock.
macro_rules! first_locked {
    ($ledger:expr, $query:expr, $row:ty) => {
        match &mut *$ledger.conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(inner) if $ledger.in_transaction => {
                $query.for_update().first::<$row>(inner).optional()
            }
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(inner) => $query.first::<$row>(inner).optional(),
            AnyConnection::Sqlite(inner) => $query.first::<$row>(inner).optional(),
        }
    };
}

/// The card whose code in `$column` (caller ID, PIN or number) is exactly `$code`, locked
/// like [`first_locked!`]. MySQL's collation also finds a code that differs by trailing spaces,
/// so the stored code is checked once more ([`exact_card`]).
macro_rules! card_by_code {
    ($ledger:expr, $column:expr, $code:expr, $stored:expr) => {{
        let code: &str = $code;
        let query = cards::table
            .filter($column.eq(code))
            .select(rows::CARD_COLUMNS);
        first_locked!($ledger, query, CardRow)
            .map_err(store_error)
            .and_then(|row| exact_card(row, code, $stored))
    }};
}

impl Store for Database {
    fn run_unit(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError> {
        let catalog = self.catalog();
        self.in_transaction(|conn| {
            let mut unit = AbortAware {
                ledger: SqlLedger {
                    conn,
                    catalog,
                    in_transaction: true,
                    wrote: false,
                },
                lost: None,
            };
            let outcome = work(&mut unit);
            unit.unless_lost(outcome)
        })
    }

    /// Plain reads on a pooled connection, no transaction: on MySQL no `BEGIN`, `COMMIT` or
    /// row locks; on SQLite no write lock, so look-ups run beside a writer (WAL).
    fn run_look_up(
        &self,
        work: &mut dyn FnMut(&mut dyn Ledger) -> Result<(), UnitError>,
    ) -> Result<(), UnitError> {
        let mut conn = self.connection()?;
        let outcome = work(&mut SqlLedger {
            conn: &mut conn,
            catalog: self.catalog(),
            in_transaction: false,
            wrote: false,
        });
        #[cfg(feature = "mysql")]
        if matches!(outcome, Err(UnitError::Store(_))) {
            conn.discard_if_sealed();
        }
        if !matches!(outcome, Err(UnitError::Store(_))) {
            conn.answered();
        }
        outcome
    }
}

/// A transaction's [`Ledger`] that ends the unit of work at its first lost race.
///
/// A deadlock, a lock wait timeout or a Galera conflict may have rolled the transaction back
/// on the server (a deadlock and a certification failure always do), and every statement
/// after that would run on its own, outside the transaction, committing by itself. So once a
/// statement has lost a race, no further statement of the unit runs (each answers the same
/// conflict), and the unit cannot commit even if the use case swallowed the error: it is
/// rolled back and runs again from the start. An abort can only lose the whole unit.
struct AbortAware<'c> {
    ledger: SqlLedger<'c>,
    /// The first lost race, once there was one.
    lost: Option<StoreError>,
}

impl AbortAware<'_> {
    /// Runs one statement of the unit, unless the unit already lost a race.
    fn run<T>(
        &mut self,
        statement: impl FnOnce(&mut SqlLedger<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if let Some(lost) = &self.lost {
            return Err(lost.clone());
        }
        let outcome = statement(&mut self.ledger);
        if let Err(error @ StoreError::Conflict(_)) = &outcome {
            self.lost = Some(error.clone());
        }
        outcome
    }

    /// The unit's outcome, or its lost race when it had one (whatever the use case made of it).
    fn unless_lost(self, outcome: Result<(), UnitError>) -> Result<(), UnitError> {
        match self.lost {
            Some(lost) => Err(UnitError::Store(lost)),
            None => outcome,
        }
    }
}

/// Implements `$port` for [`AbortAware`]: each method runs its ledger's own through
/// [`AbortAware::run`]; `$other` are the port's methods written out.
macro_rules! each_through_run {
    ($port:ident { $(fn $name:ident($($arg:ident: $type:ty),*) -> $answer:ty;)* } $($other:item)*) => {
        impl $port for AbortAware<'_> {
            $(
                fn $name(&mut self, $($arg: $type),*) -> Result<$answer, StoreError> {
                    self.run(|ledger| ledger.$name($($arg),*))
                }
            )*
            $($other)*
        }
    };
}

each_through_run! {
    Ledger {
        fn device_by_cli(cli: &CallerId) -> Option<Device>;
        fn lock_user(id: UserId) -> Option<User>;
        fn lock_card_by_cli(cli: &CallerId) -> Option<Card>;
        fn lock_holder_of(cli: &CallerId) -> Option<CallerIdHolder>;
        fn lock_card_by_pin(pin: &Pin) -> Option<Card>;
        fn lock_cards(keys: &[CardKey]) -> Vec<Option<Card>>;
        fn insert_card(card: &NewCard) -> Card;
        fn update_card(card: &Card) -> ();
        fn update_user_balance(id: UserId, balance: &Money) -> ();
        fn record_payment(payment: &Payment) -> ();
        fn lock_card_by_number(number: &CardNumber) -> Option<Card>;
        fn free_card_count(group: CardGroupId) -> u64;
        fn lock_free_cards(group: CardGroupId, limit: usize) -> Vec<Card>;
        fn record_sale(sale: &Sale) -> ();
        fn kept_reply(user: UserId, key: &IdempotencyKey) -> Option<StoredReply>;
        fn claim_key(user: UserId, key: &IdempotencyKey, fingerprint: &Fingerprint) -> ();
        fn settle_key(user: UserId, key: &IdempotencyKey, body: Option<String>) -> ();
    }
    fn has_written(&self) -> bool {
        self.ledger.has_written()
    }
}

each_through_run! {
    Catalog {
        fn card_group(id: CardGroupId) -> Option<CardGroup>;
        fn tax(id: TaxId) -> Option<Tax>;
        fn currency(name: &str) -> Option<Currency>;
        fn system_currency() -> Option<Currency>;
    }
}

/// The [`Ledger`] of one transaction, or of a look-up ([`Store::run_look_up`]): every call runs on
/// its connection.
struct SqlLedger<'c> {
    conn: &'c mut AnyConnection,
    /// The catalog's rows as recently read, shared with the database's other units of work.
    catalog: &'c CatalogCache,
    /// False for a look-up: reads take no locks and writes fail with [`StoreError::ReadOnly`].
    in_transaction: bool,
    /// Whether a write was made (or attempted) through this ledger.
    wrote: bool,
}

impl SqlLedger<'_> {
    /// Writes a card's balance, flags and caller ID.
    fn write_card(&mut self, card: &Card) -> Result<(), StoreError> {
        let balance = money_sql::to_sql(&card.balance)?;
        let callerid = card.callerid.as_ref().map(CallerId::as_str);
        #[cfg(feature = "mysql")]
        if let AnyConnection::Mysql(inner) = &mut *self.conn {
            return mysql::statements::CardUpdate {
                id: card.id.0,
                balance: &balance,
                sold: i32::from(card.sold),
                active: i32::from(card.active),
                callerid,
            }
            .execute(inner)
            .map(drop)
            .map_err(card_write_error);
        }
        diesel::update(cards::table.find(card.id.0))
            .set((
                cards::balance.eq(balance.as_str()),
                cards::sold.eq(i32::from(card.sold)),
                cards::active.eq(i32::from(card.active)),
                cards::callerid.eq(callerid),
            ))
            .execute(self.conn)
            .map(drop)
            .map_err(card_write_error)
    }

    /// A caller ID found taken (a [`StoreError::Conflict`]) is a lost race, worth running the
    /// unit of work again, unless the card holding it has a caller ID that differs from `cli`
    /// only by trailing spaces: MySQL's PAD SPACE unique key takes the two for one, and no
    /// retry can change that.
    fn settle_callerid_conflict<T>(
        &mut self,
        outcome: Result<T, StoreError>,
        cli: Option<&str>,
    ) -> Result<T, StoreError> {
        match (&outcome, cli) {
            (Err(StoreError::Conflict(_)), Some(cli)) if self.held_by_a_padded_twin(cli)? => {
                Err(StoreError::Failure(
                    "the caller ID differs from a stored one only by trailing spaces".into(),
                ))
            }
            _ => outcome,
        }
    }

    fn held_by_a_padded_twin(&mut self, cli: &str) -> Result<bool, StoreError> {
        let stored = cards::table
            .filter(cards::callerid.eq(cli))
            .select(cards::callerid)
            .load::<Option<String>>(self.conn)
            .map_err(store_error)?;
        Ok(stored.iter().any(|value| value.as_deref() != Some(cli)))
    }

    /// The card whose caller ID is exactly `cli`, locked in a transaction.
    fn card_by_cli(&mut self, cli: &CallerId) -> Result<Option<Card>, StoreError> {
        card_by_code!(self, cards::callerid, cli.as_str(), rows::card_callerid)
    }

    /// The card of `cli` once more, after a locking read found none.
    ///
    /// MySQL: a locking read that waited for a transaction moving this caller ID to a new
    /// card can come back empty-handed (InnoDB resumes its index scan past the new entry, or
    /// hands back the old row, which no longer matches) although the new card is committed by
    /// then. A second read is a new statement and sees it. It does not wait (`NOWAIT`): when
    /// another transaction holds the caller ID's rows by then (a second move of the same phone
    /// on a busy cluster, a new card for it), it fails at once as a lost race and the unit
    /// runs again, so "no card" is only the answer of a read that met no transaction in
    /// flight. Elsewhere the first answer stands.
    #[cfg_attr(not(feature = "mysql"), allow(unused_variables))]
    fn card_by_cli_after_waiting(&mut self, cli: &CallerId) -> Result<Option<Card>, StoreError> {
        #[cfg(feature = "mysql")]
        if let (AnyConnection::Mysql(inner), true) = (&mut *self.conn, self.in_transaction) {
            let row = cards::table
                .filter(cards::callerid.eq(cli.as_str()))
                .select(rows::CARD_COLUMNS)
                .for_update()
                .no_wait()
                .first::<CardRow>(inner)
                .optional()
                .map_err(store_error)?;
            return exact_card(row, cli.as_str(), rows::card_callerid);
        }
        Ok(None)
    }

    /// `Card::is_free` in SQL, the one statement of that rule for the database: unsold, not
    /// hidden, no caller ID (NULL or blank) and a balance above zero. MySQL compares its
    /// `DECIMAL` with 0 exactly; SQLite holds the canonical decimal text (`money_sql`), where a
    /// positive value is one without a sign that has a non-zero digit: decided on the text, so
    /// no value passes through a float. The locked rows are checked again with `is_free`.
    fn is_free(&self) -> diesel::expression::SqlLiteral<Bool> {
        macro_rules! free_and {
            ($positive:literal) => {
                concat!(
                    "`cards`.`sold` = 0 AND `cards`.`hidden` = 0 ",
                    "AND (`cards`.`callerid` IS NULL OR TRIM(`cards`.`callerid`) = '') AND ",
                    $positive
                )
            };
        }
        diesel::dsl::sql::<Bool>(if self.is_mysql() {
            free_and!("`cards`.`balance` > 0")
        } else {
            free_and!("`cards`.`balance` NOT LIKE '-%' AND `cards`.`balance` GLOB '*[1-9]*'")
        })
    }

    fn is_mysql(&self) -> bool {
        match self.conn {
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(_) => true,
            AnyConnection::Sqlite(_) => false,
        }
    }

    /// Every write asks first: a look-up's ledger refuses it, a transaction's notes it.
    fn writable(&mut self) -> Result<(), StoreError> {
        if self.in_transaction {
            self.wrote = true;
            Ok(())
        } else {
            Err(StoreError::ReadOnly)
        }
    }
}

impl Ledger for SqlLedger<'_> {
    fn device_by_cli(&mut self, cli: &CallerId) -> Result<Option<Device>, StoreError> {
        // `callerids.cli` is not unique: MySQL's PAD SPACE collation may also return `12 `
        // for `12` (see `rows::exactly`), so the first exact one wins.
        let found = callerids::table
            .inner_join(devices::table.left_join(providers::table))
            .filter(callerids::cli.eq(cli.as_str()))
            .order(callerids::id)
            .select((
                devices::id,
                devices::user_id,
                providers::id.nullable(),
                callerids::cli,
            ))
            .load::<(i64, i64, Option<i64>, String)>(self.conn)
            .map_err(store_error)?
            .into_iter()
            .find(|(_, _, _, stored)| stored == cli.as_str());
        Ok(found.map(|(id, user_id, provider, _)| Device {
            id: DeviceId(id),
            user: DeviceUser::from_mor(user_id, provider.is_some()),
        }))
    }

    fn lock_user(&mut self, id: UserId) -> Result<Option<User>, StoreError> {
        let query = users::table.find(id.0).select(rows::USER_COLUMNS);
        first_locked!(self, query, UserRow)
            .map_err(store_error)?
            .map(rows::user)
            .transpose()
    }

    fn lock_card_by_cli(&mut self, cli: &CallerId) -> Result<Option<Card>, StoreError> {
        match self.card_by_cli(cli)? {
            None => self.card_by_cli_after_waiting(cli),
            found => Ok(found),
        }
    }

    /// One statement when a card has the caller ID and no device does (a card top-up's or
    /// look-up's only read): the card, locked, and whether a device has the caller ID too.
    /// Otherwise the device, then the card, as [`Ledger::lock_holder_of`] says.
    fn lock_holder_of(&mut self, cli: &CallerId) -> Result<Option<CallerIdHolder>, StoreError> {
        let query = cards::table
            .filter(cards::callerid.eq(cli.as_str()))
            .select((
                rows::CARD_COLUMNS,
                diesel::dsl::exists(
                    callerids::table
                        .inner_join(devices::table)
                        .filter(callerids::cli.eq(cli.as_str())),
                ),
            ));
        let (row, a_device_may_have_it) =
            match first_locked!(self, query, (CardRow, bool)).map_err(store_error)? {
                Some((row, a_device_has_it)) => (Some(row), a_device_has_it),
                None => (None, true),
            };
        let row = rows::exactly(row, cli.as_str(), rows::card_callerid);
        let only_a_card_has_it = row.is_some() && !a_device_may_have_it;
        if !only_a_card_has_it {
            if let Some(device) = self.device_by_cli(cli)? {
                return Ok(Some(CallerIdHolder::Device(device)));
            }
        }
        // The row becomes a card only now: a device wins even over a card whose row does not
        // convert (a MOR row without a PIN, say).
        let card = match row {
            Some(row) => Some(rows::card(row)?),
            None => self.card_by_cli_after_waiting(cli)?,
        };
        Ok(card.map(CallerIdHolder::Card))
    }

    fn lock_card_by_pin(&mut self, pin: &Pin) -> Result<Option<Card>, StoreError> {
        card_by_code!(self, cards::pin, pin.expose(), rows::card_pin)
    }

    fn lock_cards(&mut self, keys: &[CardKey]) -> Result<Vec<Option<Card>>, StoreError> {
        #[cfg(feature = "mysql")]
        if let (AnyConnection::Mysql(inner), true) = (&mut *self.conn, self.in_transaction) {
            mysql::statements::lock_in_id_order(inner, keys).map_err(store_error)?;
        }
        keys.iter()
            .map(|key| match key {
                CardKey::Pin(pin) => self.lock_card_by_pin(pin),
                CardKey::CallerId(cli) => self.lock_card_by_cli(cli),
            })
            .collect()
    }

    fn insert_card(&mut self, card: &NewCard) -> Result<Card, StoreError> {
        self.writable()?;
        let inserted = insert_card_row(
            self.conn,
            &CardValues {
                cardgroup_id: card.cardgroup_id,
                owner_id: card.owner_id.0,
                number: card.number.as_str(),
                pin: card.pin.expose(),
                balance: &card.balance,
                sold: true,
                callerid: Some(card.callerid.as_str()),
            },
        );
        let id = self.settle_callerid_conflict(inserted, Some(card.callerid.as_str()))?;
        Ok(card.clone().stored_as(id))
    }

    fn update_card(&mut self, card: &Card) -> Result<(), StoreError> {
        self.writable()?;
        let written = self.write_card(card);
        self.settle_callerid_conflict(written, card.callerid.as_ref().map(CallerId::as_str))
    }

    fn update_user_balance(&mut self, id: UserId, balance: &Money) -> Result<(), StoreError> {
        self.writable()?;
        let balance = money_sql::to_sql(balance)?;
        #[cfg(feature = "mysql")]
        if let AnyConnection::Mysql(inner) = &mut *self.conn {
            return mysql::statements::UserBalanceUpdate {
                id: id.0,
                balance: &balance,
            }
            .execute(inner)
            .map(drop)
            .map_err(store_error);
        }
        diesel::update(users::table.find(id.0))
            .set(users::balance.eq(balance))
            .execute(self.conn)
            .map(drop)
            .map_err(store_error)
    }

    fn record_payment(&mut self, payment: &Payment) -> Result<(), StoreError> {
        self.writable()?;
        let (paymenttype, card, user_id) = rows::payment_holder(payment.holder);
        let amount = money_sql::to_sql(&payment.amount)?;
        let gross = money_sql::to_sql(&payment.gross)?;
        let tax = money_sql::to_sql(&payment.tax)?;
        diesel::insert_into(payments::table)
            .values((
                payments::paymenttype.eq(paymenttype),
                payments::amount.eq(amount),
                payments::currency.eq(&payment.currency),
                payments::gross.eq(gross),
                payments::date_added.eq(now),
                payments::completed.eq(1),
                payments::user_id.eq(user_id),
                payments::card.eq(card),
                payments::owner_id.eq(payment.owner_id.0),
                payments::tax.eq(tax),
                payments::description.eq(&payment.description),
            ))
            .execute(self.conn)
            .map(drop)
            .map_err(store_error)
    }

    fn lock_card_by_number(&mut self, number: &CardNumber) -> Result<Option<Card>, StoreError> {
        card_by_code!(self, cards::number, number.as_str(), rows::card_number)
    }

    fn free_card_count(&mut self, group: CardGroupId) -> Result<u64, StoreError> {
        let count = cards::table
            .filter(cards::cardgroup_id.eq(group.0))
            .filter(self.is_free())
            .count()
            .get_result::<i64>(self.conn)
            .map_err(store_error)?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    fn lock_free_cards(
        &mut self,
        group: CardGroupId,
        limit: usize,
    ) -> Result<Vec<Card>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let query = cards::table
            .filter(cards::cardgroup_id.eq(group.0))
            .filter(self.is_free())
            .order((cards::number, cards::id))
            .limit(limit)
            .select(rows::CARD_COLUMNS);
        let found = match &mut *self.conn {
            // A buyer passes over the cards another sale in flight has locked, rather than
            // waiting for it and then finding them sold.
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(inner) if self.in_transaction => {
                query.for_update().skip_locked().load::<CardRow>(inner)
            }
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(inner) => query.load::<CardRow>(inner),
            AnyConnection::Sqlite(inner) => query.load::<CardRow>(inner),
        };
        found
            .map_err(store_error)?
            .into_iter()
            .map(rows::card)
            .collect()
    }

    fn record_sale(&mut self, sale: &Sale) -> Result<(), StoreError> {
        self.writable()?;
        let amount = money_sql::to_sql(&sale.amount())?;
        diesel::insert_into(ccorders::table)
            .values((
                ccorders::ordertype.eq("unspecified"),
                ccorders::email.eq(&sale.email),
                ccorders::amount.eq(amount),
                ccorders::currency.eq(&sale.currency),
                ccorders::date_added.eq(now),
                ccorders::completed.eq(1),
                ccorders::owner_id.eq(sale.owner_id.0),
            ))
            .execute(self.conn)
            .map_err(store_error)?;
        let order = last_insert_id(self.conn)?;
        for card in &sale.cards {
            let price = money_sql::to_sql(&card.price)?;
            diesel::insert_into(cclineitems::table)
                .values((
                    cclineitems::ccorder_id.eq(order),
                    cclineitems::cardgroup_id.eq(card.cardgroup_id.0),
                    cclineitems::card_id.eq(card.card_id.0),
                    cclineitems::quantity.eq(1),
                    cclineitems::price.eq(price),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
            diesel::insert_into(actions::table)
                .values((
                    actions::user_id.eq(sale.seller.0),
                    actions::date.eq(now),
                    actions::action.eq("card_sell_over_api"),
                    actions::target_id.eq(card.card_id.0),
                    actions::target_type.eq("Card"),
                ))
                .execute(self.conn)
                .map_err(store_error)?;
        }
        Ok(())
    }

    fn kept_reply(
        &mut self,
        user: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<StoredReply>, StoreError> {
        let query = idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(user.0))
            .filter(idempotency_keys::idempotency_key.eq(key.as_str()))
            .select((
                idempotency_keys::idempotency_key,
                idempotency_keys::fingerprint,
                idempotency_keys::body,
            ));
        let row = first_locked!(self, query, (String, String, String)).map_err(store_error)?;
        Ok(
            rows::exactly(row, key.as_str(), |(stored, _, _)| Some(stored)).map(
                |(_, fingerprint, body)| StoredReply {
                    fingerprint: Fingerprint::from_stored(fingerprint),
                    body,
                },
            ),
        )
    }

    fn claim_key(
        &mut self,
        user: UserId,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
    ) -> Result<(), StoreError> {
        // The claim is the unit's meeting point with its copies, not a change of its own.
        let wrote = self.wrote;
        self.writable()?;
        self.wrote = wrote;
        let inserted = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::user_id.eq(user.0),
                idempotency_keys::idempotency_key.eq(key.as_str()),
                idempotency_keys::fingerprint.eq(fingerprint.as_str()),
                idempotency_keys::body.eq(""),
                idempotency_keys::created_at.eq(now),
            ))
            .execute(self.conn)
            .map(drop)
            .map_err(store_error);
        match inserted {
            // A copy of the request claimed it first and has committed by now: run again, and
            // be answered from its reply.
            Err(StoreError::Duplicate) if self.holds_key(user, key)? => Err(StoreError::Conflict(
                "the idempotency key was claimed by a concurrent request".into(),
            )),
            Err(StoreError::Duplicate) => Err(StoreError::Failure(
                "the idempotency key differs from a stored one only by trailing spaces".into(),
            )),
            outcome => outcome,
        }
    }

    fn settle_key(
        &mut self,
        user: UserId,
        key: &IdempotencyKey,
        body: Option<String>,
    ) -> Result<(), StoreError> {
        self.writable()?;
        let claimed = idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(user.0))
            .filter(idempotency_keys::idempotency_key.eq(key.as_str()));
        match body {
            Some(body) => diesel::update(claimed)
                .set(idempotency_keys::body.eq(&body))
                .execute(self.conn),
            None => diesel::delete(claimed).execute(self.conn),
        }
        .map(drop)
        .map_err(store_error)
    }

    fn has_written(&self) -> bool {
        self.wrote
    }
}

impl SqlLedger<'_> {
    /// Whether the row of `key` for `user` exists with exactly this key (MySQL's PAD SPACE
    /// collation takes `k ` for `k`).
    fn holds_key(&mut self, user: UserId, key: &IdempotencyKey) -> Result<bool, StoreError> {
        let stored = idempotency_keys::table
            .filter(idempotency_keys::user_id.eq(user.0))
            .filter(idempotency_keys::idempotency_key.eq(key.as_str()))
            .select(idempotency_keys::idempotency_key)
            .load::<String>(self.conn)
            .map_err(store_error)?;
        Ok(stored.iter().any(|stored| stored == key.as_str()))
    }
}

impl Catalog for SqlLedger<'_> {
    fn card_group(&mut self, id: CardGroupId) -> Result<Option<CardGroup>, StoreError> {
        let cache = self.catalog;
        cache.card_groups.get_or_read(id, cache.ttl, || {
            let query = cardgroups::table
                .find(id.0)
                .select(rows::CARD_GROUP_COLUMNS);
            rows::first(self.conn, query)?
                .map(rows::card_group)
                .transpose()
        })
    }

    fn tax(&mut self, id: TaxId) -> Result<Option<Tax>, StoreError> {
        let cache = self.catalog;
        cache.taxes.get_or_read(id, cache.ttl, || {
            let query = taxes::table.find(id.0).select(rows::TAX_COLUMNS);
            rows::first(self.conn, query)?.map(rows::tax).transpose()
        })
    }

    fn currency(&mut self, name: &str) -> Result<Option<Currency>, StoreError> {
        let cache = self.catalog;
        cache
            .currencies
            .get_or_read(name.to_owned(), cache.ttl, || {
                let query = currencies::table
                    .filter(currencies::name.eq(name))
                    .select(rows::CURRENCY_COLUMNS);
                let row = rows::first::<_, rows::CurrencyRow>(self.conn, query)?;
                rows::exactly(row, name, |row| Some(&row.name))
                    .map(rows::currency)
                    .transpose()
            })
    }

    fn system_currency(&mut self) -> Result<Option<Currency>, StoreError> {
        let cache = self.catalog;
        cache.system_currency.get_or_read((), cache.ttl, || {
            let query = currencies::table
                .find(SYSTEM_CURRENCY_ID)
                .select(rows::CURRENCY_COLUMNS);
            rows::first(self.conn, query)?
                .map(rows::currency)
                .transpose()
        })
    }
}

/// The card of a row found by a code, when its stored code is exactly `asked`
/// ([`rows::exactly`]).
fn exact_card(
    row: Option<CardRow>,
    asked: &str,
    stored: impl FnOnce(&CardRow) -> Option<&str>,
) -> Result<Option<Card>, StoreError> {
    rows::exactly(row, asked, stored)
        .map(rows::card)
        .transpose()
}

/// A card as written to `cards`, by the call or by an operator.
pub(crate) struct CardValues<'a> {
    pub(crate) cardgroup_id: CardGroupId,
    pub(crate) owner_id: i64,
    pub(crate) number: &'a str,
    pub(crate) pin: &'a str,
    pub(crate) balance: &'a Money,
    pub(crate) sold: bool,
    pub(crate) callerid: Option<&'a str>,
}

/// Inserts an active card; [`StoreError::Duplicate`] when its number or PIN is taken,
/// [`StoreError::Conflict`] when its caller ID is (see [`card_write_error`]).
pub(crate) fn insert_card_row(
    conn: &mut AnyConnection,
    card: &CardValues<'_>,
) -> Result<CardId, StoreError> {
    let balance = money_sql::to_sql(card.balance)?;
    diesel::insert_into(cards::table)
        .values((
            cards::cardgroup_id.eq(card.cardgroup_id.0),
            cards::number.eq(card.number),
            cards::pin.eq(card.pin),
            cards::balance.eq(balance),
            cards::sold.eq(i32::from(card.sold)),
            cards::active.eq(1),
            cards::callerid.eq(card.callerid),
            cards::owner_id.eq(card.owner_id),
        ))
        .execute(conn)
        .map_err(card_write_error)?;
    last_insert_id(conn).map(CardId)
}

/// The id the connection's last insert got. The enum connection has no `RETURNING` (MySQL
/// lacks it), so each backend is asked in its own words.
pub(crate) fn last_insert_id(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    let function = match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => "LAST_INSERT_ID()",
        AnyConnection::Sqlite(_) => "last_insert_rowid()",
    };
    diesel::select(diesel::dsl::sql::<BigInt>(function))
        .get_result(conn)
        .map_err(store_error)
}
