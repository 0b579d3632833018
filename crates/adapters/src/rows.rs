//! Rows as selected (the first a query finds, the id of the row with an exact code), and their
//! conversion to domain values.

use diesel::dsl::Limit;
use diesel::prelude::*;
use diesel::query_dsl::methods::LimitDsl;
use diesel::query_dsl::LoadQuery;
use morcc_domain::pricing::OptionalTax;
use morcc_domain::{
    CallerId, Card, CardGroup, CardGroupId, CardId, CardNumber, Currency, Holder, OwnerId, Pin,
    StoreError, Tax, TaxId, User, UserId,
};

use crate::connection::AnyConnection;
use crate::error::store_error;
use crate::money_sql::{decimal, money};
use crate::schema::{cardgroups, cards, currencies, taxes, users};

/// A constant selecting these columns of one table, in this order: the tuple's type and its
/// value from one list, so the two cannot drift apart.
macro_rules! columns {
    ($(#[$doc:meta])* $name:ident = $table:ident ($($column:ident),* $(,)?)) => {
        $(#[$doc])*
        pub(crate) const $name: ($($table::$column,)*) = ($($table::$column,)*);
    };
}

/// Keeps a row found by a code only when the stored code equals `asked` byte for byte.
///
/// MySQL's `utf8mb4_bin` is a PAD SPACE collation: there `'4444 ' = '4444'`, so a look-up
/// by `4444 ` finds the row of `4444`. The contract matches codes exactly (caller IDs, PINs,
/// usernames, currency names), so every such look-up checks again here; SQLite compares
/// bytes already. Collations stay as they are: an existing MOR database has its own.
pub(crate) fn exactly<T>(
    row: Option<T>,
    asked: &str,
    stored: impl FnOnce(&T) -> Option<&str>,
) -> Option<T> {
    row.filter(|row| stored(row) == Some(asked))
}

/// The first row `query` finds, if any.
pub(crate) fn first<'q, Q, R>(conn: &mut AnyConnection, query: Q) -> Result<Option<R>, StoreError>
where
    Q: RunQueryDsl<AnyConnection> + LimitDsl,
    Limit<Q>: LoadQuery<'q, AnyConnection, R>,
{
    query.first::<R>(conn).optional().map_err(store_error)
}

/// The id of the row `query` finds, selecting `(id, code)`, when its code is exactly `asked`
/// ([`exactly`]).
pub(crate) fn exact_id<'q, Q>(
    conn: &mut AnyConnection,
    query: Q,
    asked: &str,
) -> Result<Option<i64>, StoreError>
where
    Q: RunQueryDsl<AnyConnection> + LimitDsl,
    Limit<Q>: LoadQuery<'q, AnyConnection, (i64, String)>,
{
    let found = first::<_, (i64, String)>(conn, query)?;
    Ok(exactly(found, asked, |(_, stored)| Some(stored)).map(|(id, _)| id))
}

/// The stored caller ID of a [`CardRow`].
pub(crate) fn card_callerid(row: &CardRow) -> Option<&str> {
    row.callerid.as_deref()
}

/// The stored number of a [`CardRow`].
pub(crate) fn card_number(row: &CardRow) -> Option<&str> {
    Some(&row.number)
}

/// The stored PIN of a [`CardRow`].
pub(crate) fn card_pin(row: &CardRow) -> Option<&str> {
    Some(&row.pin)
}

columns! {
    /// The columns of a [`Card`].
    CARD_COLUMNS = cards (
        id,
        cardgroup_id,
        number,
        pin,
        balance,
        sold,
        active,
        callerid,
        hidden,
    )
}

/// A row of [`CARD_COLUMNS`].
#[derive(diesel::Queryable)]
pub(crate) struct CardRow {
    id: i64,
    cardgroup_id: i64,
    number: String,
    pin: String,
    balance: String,
    sold: i32,
    active: i32,
    callerid: Option<String>,
    hidden: i32,
}

pub(crate) fn card(row: CardRow) -> Result<Card, StoreError> {
    let id = row.id;
    Ok(Card {
        id: CardId(id),
        cardgroup_id: CardGroupId(row.cardgroup_id),
        number: CardNumber::parse(&row.number)
            .ok_or_else(|| StoreError::Failure(format!("card {id} has no usable number")))?,
        pin: Pin::parse(&row.pin)
            .ok_or_else(|| StoreError::Failure(format!("card {id} has no usable PIN")))?,
        balance: money(&row.balance)?,
        sold: row.sold != 0,
        active: row.active != 0,
        // MOR may keep an empty string where no caller ID is bound.
        callerid: row.callerid.and_then(|cli| CallerId::parse(&cli).ok()),
        hidden: row.hidden != 0,
    })
}

/// The columns of a [`User`].
pub(crate) const USER_COLUMNS: (users::id, users::owner_id, users::balance, users::tax_id) =
    (users::id, users::owner_id, users::balance, users::tax_id);

/// A row of [`USER_COLUMNS`].
#[derive(diesel::Queryable)]
pub(crate) struct UserRow {
    id: i64,
    owner_id: i64,
    balance: String,
    tax_id: Option<i64>,
}

pub(crate) fn user(row: UserRow) -> Result<User, StoreError> {
    Ok(User {
        id: UserId(row.id),
        owner_id: OwnerId(row.owner_id),
        balance: money(&row.balance)?,
        tax_id: row.tax_id.map(TaxId),
    })
}

columns! {
    /// The columns of a [`CardGroup`].
    CARD_GROUP_COLUMNS = cardgroups (
        id,
        owner_id,
        number_length,
        pin_length,
        tax_id,
        tell_balance_in_currency,
        name,
        description,
        image,
        price,
        hidden,
    )
}

/// A row of [`CARD_GROUP_COLUMNS`].
#[derive(diesel::Queryable)]
pub(crate) struct CardGroupRow {
    id: i64,
    owner_id: i64,
    number_length: i32,
    pin_length: i32,
    tax_id: Option<i64>,
    /// `tell_balance_in_currency`.
    currency: String,
    name: String,
    description: Option<String>,
    image: String,
    price: String,
    hidden: i32,
}

pub(crate) fn card_group(row: CardGroupRow) -> Result<CardGroup, StoreError> {
    Ok(CardGroup {
        id: CardGroupId(row.id),
        owner_id: OwnerId(row.owner_id),
        // Stored as read, but a negative length (nonsense) as 0, unset: what a length means
        // (MOR's default when unset, capped at the column) is `CardGroup::number_digits` and
        // `pin_digits`, the one home of that rule.
        number_length: usize::try_from(row.number_length).unwrap_or(0),
        pin_length: usize::try_from(row.pin_length).unwrap_or(0),
        tax_id: row.tax_id.map(TaxId),
        currency: row.currency,
        name: row.name,
        description: row.description.unwrap_or_default(),
        image: row.image,
        price: money(&row.price)?,
        hidden: row.hidden != 0,
    })
}

columns! {
    /// The columns of a [`Tax`].
    TAX_COLUMNS = taxes (
        tax1_value,
        tax2_enabled,
        tax2_value,
        tax3_enabled,
        tax3_value,
        tax4_enabled,
        tax4_value,
        compound_tax,
    )
}

/// A row of [`TAX_COLUMNS`].
#[derive(diesel::Queryable)]
pub(crate) struct TaxRow {
    tax1: String,
    tax2_enabled: i32,
    tax2: String,
    tax3_enabled: i32,
    tax3: String,
    tax4_enabled: i32,
    tax4: String,
    compound: i32,
}

pub(crate) fn tax(row: TaxRow) -> Result<Tax, StoreError> {
    let TaxRow {
        tax1,
        tax2_enabled,
        tax2,
        tax3_enabled,
        tax3,
        tax4_enabled,
        tax4,
        compound,
    } = row;
    let optional = |enabled: i32, percent: &str| {
        Ok::<_, StoreError>(OptionalTax {
            enabled: enabled != 0,
            percent: decimal(percent)?,
        })
    };
    Ok(Tax::from_row(
        decimal(&tax1)?,
        [
            optional(tax2_enabled, &tax2)?,
            optional(tax3_enabled, &tax3)?,
            optional(tax4_enabled, &tax4)?,
        ],
        compound != 0,
    ))
}

columns! {
    /// The columns of a [`Currency`].
    CURRENCY_COLUMNS = currencies (
        name,
        exchange_rate,
        active,
    )
}

/// A row of [`CURRENCY_COLUMNS`].
#[derive(diesel::Queryable)]
pub(crate) struct CurrencyRow {
    pub(crate) name: String,
    exchange_rate: String,
    active: i32,
}

pub(crate) fn currency(row: CurrencyRow) -> Result<Currency, StoreError> {
    Ok(Currency {
        name: row.name,
        exchange_rate: decimal(&row.exchange_rate)?,
        active: row.active != 0,
    })
}

/// How MOR's `payments` names a holder: (`paymenttype`, `card`, `user_id`).
pub(crate) fn payment_holder(holder: Holder) -> (&'static str, i32, i64) {
    match holder {
        Holder::Card(CardId(id)) => ("Card", 1, id),
        Holder::User(UserId(id)) => ("card_refill", 0, id),
    }
}
