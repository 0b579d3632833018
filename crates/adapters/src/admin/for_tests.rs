//! Operations only tests need: reading cards, balances, payments and the audit log back, and
//! setting up what the operator's subcommands do not (blocked users, providers). Behind the
//! `testing` feature, so they are not product API.

use diesel::dsl::{count_star, Limit};
use diesel::prelude::*;
use diesel::query_dsl::methods::LimitDsl;
use diesel::query_dsl::LoadQuery;
use morcc_domain::{
    CallerId, Card, CardGroupId, CardId, CardNumber, DeviceId, Holder, Ledger, Money, OwnerId,
    StoreError, Transact, UserId,
};

use crate::connection::{AnyConnection, Database};
use crate::error::{store_error, AdapterError};
use crate::money_sql;
use crate::rows::{self, CardRow};
use crate::schema::{actions, cards, cclineitems, ccorders, payments, providers, users};

/// A row of `payments`, as an operator reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    /// `payments.id`.
    pub id: i64,
    /// `Card` or `card_refill`.
    pub paymenttype: String,
    /// The signed balance change, in the system currency.
    pub amount: Money,
    /// The currency of `gross`.
    pub currency: String,
    /// What the client paid.
    pub gross: Money,
    /// The tax removed.
    pub tax: Money,
    /// `payments.completed`.
    pub completed: bool,
    /// `payments.owner_id`.
    pub owner_id: OwnerId,
    /// `payments.description`.
    pub description: String,
}

/// Blocks or unblocks a user: a blocked user cannot log in to the API.
pub fn set_user_blocked(db: &Database, username: &str, blocked: bool) -> Result<(), AdapterError> {
    db.in_transaction(|conn| {
        let id = super::reports::user_id(conn, username)?;
        let blocked = users::blocked.eq(i32::from(blocked));
        update_row!(conn, users, id, blocked, format!("user {username}"))
    })
}

/// Adds a provider that uses `device`, which makes the device's caller IDs untouchable.
pub fn create_provider(db: &Database, name: &str, device: DeviceId) -> Result<(), AdapterError> {
    db.in_transaction(|conn| {
        diesel::insert_into(providers::table)
            .values((providers::name.eq(name), providers::device_id.eq(device.0)))
            .execute(conn)
            .map_err(store_error)?;
        Ok(())
    })
}

/// A card by id.
pub fn card(db: &Database, id: CardId) -> Result<Option<Card>, AdapterError> {
    let mut conn = db.connection()?;
    let query = cards::table.find(id.0).select(rows::CARD_COLUMNS);
    Ok(rows::first(&mut conn, query)?.map(rows::card).transpose()?)
}

/// The card bound to a caller ID: the ledger's look-up, without a lock.
pub fn card_by_callerid(db: &Database, cli: &CallerId) -> Result<Option<Card>, AdapterError> {
    Ok(db.read(|ledger: &mut dyn Ledger| ledger.lock_card_by_cli(cli))?)
}

/// The cards of a group, by id.
pub fn cards_in_group(db: &Database, group: CardGroupId) -> Result<Vec<Card>, AdapterError> {
    let mut conn = db.connection()?;
    let rows = cards::table
        .filter(cards::cardgroup_id.eq(group.0))
        .order(cards::id)
        .select(rows::CARD_COLUMNS)
        .load::<CardRow>(&mut *conn)
        .map_err(store_error)?;
    Ok(rows.into_iter().map(rows::card).collect::<Result<_, _>>()?)
}

/// A user's balance.
pub fn user_balance(db: &Database, id: UserId) -> Result<Option<Money>, AdapterError> {
    let mut conn = db.connection()?;
    let query = users::table.find(id.0).select(users::balance);
    let balance: Option<String> = rows::first(&mut conn, query)?;
    Ok(balance.as_deref().map(money_sql::money).transpose()?)
}

/// The payments of a card or user, oldest first.
pub fn payments_for(db: &Database, holder: Holder) -> Result<Vec<PaymentRow>, AdapterError> {
    let (_, card, user_id) = rows::payment_holder(holder);
    let mut conn = db.connection()?;
    let rows = payments::table
        .filter(payments::card.eq(card))
        .filter(payments::user_id.eq(user_id))
        .order(payments::id)
        .select((
            payments::id,
            payments::paymenttype,
            payments::amount,
            payments::currency,
            payments::gross,
            payments::tax,
            payments::completed,
            payments::owner_id,
            payments::description,
        ))
        .load::<(
            i64,
            String,
            String,
            String,
            String,
            String,
            i32,
            i64,
            Option<String>,
        )>(&mut *conn)
        .map_err(store_error)?;
    let payments = rows
        .into_iter()
        .map(
            |(id, paymenttype, amount, currency, gross, tax, completed, owner_id, description)| {
                Ok::<_, StoreError>(PaymentRow {
                    id,
                    paymenttype,
                    amount: money_sql::money(&amount)?,
                    currency,
                    gross: money_sql::money(&gross)?,
                    tax: money_sql::money(&tax)?,
                    completed: completed != 0,
                    owner_id: OwnerId(owner_id),
                    description: description.unwrap_or_default(),
                })
            },
        )
        .collect::<Result<_, _>>()?;
    Ok(payments)
}

/// The sum of the payments of a card or user, added exactly in Rust (never in SQL, where
/// SQLite would add doubles).
pub fn payments_sum_for(db: &Database, holder: Holder) -> Result<Money, AdapterError> {
    Ok(payments_for(db, holder)?
        .iter()
        .fold(Money::zero(), |sum, payment| &sum + &payment.amount))
}

/// How many rows `actions` holds (failed logins and hashes among them).
pub fn actions_count(db: &Database) -> Result<i64, AdapterError> {
    count(db, actions::table.select(count_star()))
}

/// A sale as recorded: a row of `ccorders` with its `cclineitems`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// `ccorders.id`.
    pub id: i64,
    /// `ccorders.ordertype`.
    pub ordertype: String,
    /// `ccorders.email`.
    pub email: String,
    /// `ccorders.amount`.
    pub amount: Money,
    /// `ccorders.currency`.
    pub currency: String,
    /// `ccorders.completed`.
    pub completed: bool,
    /// `ccorders.owner_id`.
    pub owner_id: OwnerId,
    /// Its line items: (card, card group, quantity, price), in id order.
    pub lines: Vec<(CardId, CardGroupId, i32, Money)>,
}

/// A row of `ccorders`, as [`orders`] reads it.
#[derive(diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = ccorders)]
struct OrderRow {
    id: i64,
    ordertype: String,
    email: Option<String>,
    amount: String,
    currency: String,
    completed: i32,
    owner_id: i64,
}

/// A row of `cclineitems`, as [`orders`] reads it.
#[derive(diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = cclineitems)]
struct LineItemRow {
    ccorder_id: i64,
    card_id: i64,
    cardgroup_id: i64,
    quantity: i32,
    price: String,
}

/// Every order, oldest first, with its line items.
pub fn orders(db: &Database) -> Result<Vec<OrderRecord>, AdapterError> {
    let mut conn = db.connection()?;
    let orders = ccorders::table
        .order(ccorders::id)
        .select(OrderRow::as_select())
        .load(&mut *conn)
        .map_err(store_error)?;
    let lines = cclineitems::table
        .order(cclineitems::id)
        .select(LineItemRow::as_select())
        .load(&mut *conn)
        .map_err(store_error)?;
    orders
        .into_iter()
        .map(|order| {
            let lines = lines
                .iter()
                .filter(|line| line.ccorder_id == order.id)
                .map(|line| {
                    Ok::<_, StoreError>((
                        CardId(line.card_id),
                        CardGroupId(line.cardgroup_id),
                        line.quantity,
                        money_sql::money(&line.price)?,
                    ))
                })
                .collect::<Result<_, _>>()?;
            Ok(OrderRecord {
                id: order.id,
                ordertype: order.ordertype,
                email: order.email.unwrap_or_default(),
                amount: money_sql::money(&order.amount)?,
                currency: order.currency,
                completed: order.completed != 0,
                owner_id: OwnerId(order.owner_id),
                lines,
            })
        })
        .collect()
}

/// The `actions` rows named `action`: (user, target id, target type), oldest first.
pub fn actions_named(
    db: &Database,
    action: &str,
) -> Result<Vec<(UserId, Option<i64>, String)>, AdapterError> {
    let mut conn = db.connection()?;
    Ok(actions::table
        .filter(actions::action.eq(action))
        .order(actions::id)
        .select((actions::user_id, actions::target_id, actions::target_type))
        .load::<(i64, Option<i64>, String)>(&mut *conn)
        .map_err(store_error)?
        .into_iter()
        .map(|(user, target, kind)| (UserId(user), target, kind))
        .collect())
}

/// The card with this number, exactly as stored (the operator's `morcc card` reads it so).
pub fn card_by_number(db: &Database, number: &CardNumber) -> Result<Option<Card>, AdapterError> {
    super::reports::card(db, number)
}

/// The id of the user with this name.
pub fn user_id(db: &Database, username: &str) -> Result<Option<UserId>, AdapterError> {
    let mut conn = db.connection()?;
    let query = users::table
        .filter(users::username.eq(username))
        .select((users::id, users::username));
    Ok(rows::exact_id(&mut conn, query, username)?.map(UserId))
}

/// How many rows `payments` holds, whoever they belong to.
pub fn payments_count(db: &Database) -> Result<i64, AdapterError> {
    count(db, payments::table.select(count_star()))
}

/// The number a `SELECT COUNT(*)` query answers.
fn count<'q, Q>(db: &Database, query: Q) -> Result<i64, AdapterError>
where
    Q: RunQueryDsl<AnyConnection> + LimitDsl,
    Limit<Q>: LoadQuery<'q, AnyConnection, i64>,
{
    let mut conn = db.connection()?;
    Ok(query.first::<i64>(&mut *conn).map_err(store_error)?)
}
