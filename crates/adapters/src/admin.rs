//! Operator operations: what the `morcc` binary's subcommands use to set up a database. Each
//! write is one transaction; all money is exact. What only tests need (reading cards, balances
//! and payments back, blocking users, providers) is in `admin/for_tests.rs`, behind the `testing`
//! feature.

use diesel::prelude::*;
use morcc_domain::fresh_codes::{insert_with_fresh_codes, ChosenCodes};
use morcc_domain::hash::sha1_hex;
use morcc_domain::model::{DEFAULT_NUMBER_LENGTH, DEFAULT_PIN_LENGTH};
use morcc_domain::{
    BigDecimal, CallerId, CardGroupId, CardId, CardNumber, DeviceId, Money, OwnerId, Pin,
    StoreError, TaxId, UserId, UserType,
};

use crate::connection::{AnyConnection, Database};
use crate::error::{store_error, AdapterError};
use crate::ledger::{insert_card_row, last_insert_id, CardValues};
use crate::money_sql;
use crate::rows;
use crate::schema::{callerids, cardgroups, cards, conflines, currencies, devices, taxes, users};
use crate::SecureCodes;

/// Updates the row of `$table` whose id is `$id` with `$values`, in the transaction of `$conn`;
/// [`AdapterError::NotFound`] of `$what` when there is no such row. MySQL counts only the rows
/// an UPDATE changed, so 0 may also mean "already so": then the row is looked for.
macro_rules! update_row {
    ($conn:expr, $table:ident, $id:expr, $values:expr, $what:expr) => {{
        let updated = diesel::update($table::table.find($id))
            .set($values)
            .execute($conn)
            .map_err($crate::error::store_error)?;
        let row = $table::table.find($id).select($table::id);
        if updated > 0 || $crate::admin::exists($conn, row)? {
            Ok(())
        } else {
            Err($crate::error::AdapterError::NotFound($what))
        }
    }};
}

/// A card group to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardGroupSpec {
    /// `cardgroups.name`.
    pub name: String,
    /// Whose group it is: 0 for the admin, else a reseller's id.
    pub owner_id: OwnerId,
    /// Digits of new card numbers.
    pub number_length: usize,
    /// Digits of new PINs.
    pub pin_length: usize,
    /// The tax included in its prices.
    pub tax_id: Option<TaxId>,
    /// The currency its prices are in (`tell_balance_in_currency`); blank for the system one.
    pub currency: String,
    /// A card's price, net of tax, in the system currency (`cardgroups.price`).
    pub price: Money,
    /// The picture's file name, served under `/billing/cards/` (`cardgroups.image`).
    pub image: String,
    /// `cardgroups.description`.
    pub description: String,
}

/// MOR's picture of a card group that has none of its own.
pub const DEFAULT_CARD_GROUP_IMAGE: &str = "example.jpg";

/// What to change of a card group; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardGroupChange {
    /// A new price, net of tax, in the system currency.
    pub price: Option<Money>,
    /// A new picture file name.
    pub image: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// Hide the group (and with it its cards) from the API, or show it again.
    pub hidden: Option<bool>,
}

impl Default for CardGroupSpec {
    /// An admin's group with MOR's default code lengths, no tax, in the system currency.
    fn default() -> Self {
        CardGroupSpec {
            name: String::new(),
            owner_id: OwnerId(0),
            number_length: DEFAULT_NUMBER_LENGTH,
            pin_length: DEFAULT_PIN_LENGTH,
            tax_id: None,
            currency: String::new(),
            price: Money::zero(),
            image: DEFAULT_CARD_GROUP_IMAGE.to_owned(),
            description: String::new(),
        }
    }
}

/// A card to create. Codes left out are drawn from [`SecureCodes`] with the group's lengths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSpec {
    /// Its card group, whose owner becomes the card's owner.
    pub cardgroup_id: CardGroupId,
    /// The opening balance (net, system currency); no payment is written for it.
    pub balance: Money,
    /// A chosen PIN.
    pub pin: Option<Pin>,
    /// A chosen card number.
    pub number: Option<CardNumber>,
    /// The caller ID it is bound to.
    pub callerid: Option<CallerId>,
    /// Whether it is already sold.
    pub sold: bool,
}

/// A row of `taxes`: four percentages, which of them count (MOR's tax1 always does), and
/// whether they compound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxSpec {
    /// `tax1_value` to `tax4_value`, in percent.
    pub values: [BigDecimal; 4],
    /// `tax1_enabled` to `tax4_enabled`.
    pub enabled: [bool; 4],
    /// `compound_tax`.
    pub compound: bool,
}

/// Adds a user; the password is stored as MOR does, lowercase SHA1 hex.
pub fn create_user(
    db: &Database,
    username: &str,
    password: &str,
    usertype: &UserType,
    owner_id: OwnerId,
    balance: &Money,
) -> Result<UserId, AdapterError> {
    let password_sha1 = sha1_hex(password);
    let balance = money_sql::to_sql(balance)?;
    db.in_transaction(|conn| {
        diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::password.eq(&password_sha1),
                users::usertype.eq(usertype.as_str()),
                users::owner_id.eq(owner_id.0),
                users::balance.eq(&balance),
            ))
            .execute(conn)
            .map_err(store_error)?;
        Ok(UserId(last_insert_id(conn)?))
    })
}

/// Adds a card group.
pub fn create_card_group(db: &Database, spec: &CardGroupSpec) -> Result<CardGroupId, AdapterError> {
    let number_length = code_length_column(spec.number_length)?;
    let pin_length = code_length_column(spec.pin_length)?;
    let price = money_sql::to_sql(&spec.price)?;
    db.in_transaction(|conn| {
        diesel::insert_into(cardgroups::table)
            .values((
                cardgroups::name.eq(&spec.name),
                cardgroups::owner_id.eq(spec.owner_id.0),
                cardgroups::number_length.eq(number_length),
                cardgroups::pin_length.eq(pin_length),
                cardgroups::tax_id.eq(spec.tax_id.map(|id| id.0)),
                cardgroups::tell_balance_in_currency.eq(&spec.currency),
                cardgroups::price.eq(&price),
                cardgroups::image.eq(&spec.image),
                cardgroups::description.eq(&spec.description),
            ))
            .execute(conn)
            .map_err(store_error)?;
        Ok(CardGroupId(last_insert_id(conn)?))
    })
}

fn code_length_column(length: usize) -> Result<i32, AdapterError> {
    i32::try_from(length)
        .map_err(|_| AdapterError::Store(StoreError::Failure(format!("code length {length}"))))
}

/// Adds a card to a group. A chosen PIN, number or caller ID that is taken fails with
/// [`StoreError::Duplicate`]; drawn codes are drawn again on a collision.
pub fn create_card(db: &Database, spec: &CardSpec) -> Result<CardId, AdapterError> {
    db.in_transaction(|conn| {
        let query = cardgroups::table
            .find(spec.cardgroup_id.0)
            .select(rows::CARD_GROUP_COLUMNS);
        let group = rows::first(conn, query)?
            .map(rows::card_group)
            .transpose()?
            .ok_or_else(|| AdapterError::NotFound(format!("card group {}", spec.cardgroup_id)))?;
        // The call's rule for new codes (the group's lengths, draws again on a collision).
        let chosen = ChosenCodes {
            number: spec.number.as_ref(),
            pin: spec.pin.as_ref(),
        };
        Ok(insert_with_fresh_codes(
            &group,
            &SecureCodes,
            chosen,
            |number, pin| {
                insert_card_row(
                    conn,
                    &CardValues {
                        cardgroup_id: spec.cardgroup_id,
                        owner_id: group.owner_id.0,
                        number: number.as_str(),
                        pin: pin.expose(),
                        balance: &spec.balance,
                        sold: spec.sold,
                        callerid: spec.callerid.as_ref().map(CallerId::as_str),
                    },
                )
            },
        )?)
    })
}

/// Changes a card group's price, picture, description or visibility, in one statement.
pub fn update_card_group(
    db: &Database,
    id: CardGroupId,
    change: &CardGroupChange,
) -> Result<(), AdapterError> {
    if *change == CardGroupChange::default() {
        return Ok(());
    }
    let price = change.price.as_ref().map(money_sql::to_sql).transpose()?;
    let columns = CardGroupColumns {
        price: price.as_deref(),
        image: change.image.as_deref(),
        description: change.description.as_deref(),
        hidden: change.hidden.map(i32::from),
        tax_id: None,
    };
    set_card_group_columns(db, id, &columns)
}

/// The columns of a card group the operator changes: those that are `Some` are set
/// (`tax_id: Some(None)` to NULL).
#[derive(Default, diesel::AsChangeset)]
#[diesel(table_name = cardgroups)]
struct CardGroupColumns<'a> {
    price: Option<&'a str>,
    image: Option<&'a str>,
    description: Option<&'a str>,
    hidden: Option<i32>,
    tax_id: Option<Option<i64>>,
}

/// Sets `columns` (at least one) of card group `id`, in one statement.
fn set_card_group_columns(
    db: &Database,
    id: CardGroupId,
    columns: &CardGroupColumns<'_>,
) -> Result<(), AdapterError> {
    db.in_transaction(|conn| {
        update_row!(conn, cardgroups, id.0, columns, format!("card group {id}"))
    })
}

/// Hides the card with this number from the API, or shows it again.
pub fn set_card_hidden(
    db: &Database,
    number: &CardNumber,
    hidden: bool,
) -> Result<(), AdapterError> {
    db.in_transaction(|conn| {
        let id = reports::card_id(conn, number)?;
        let hidden = cards::hidden.eq(i32::from(hidden));
        update_row!(conn, cards, id, hidden, format!("card {}", number.as_str()))
    })
}

/// Enables or disables the currency `name`: `card_payment_add` refuses a disabled one.
pub fn set_currency_active(db: &Database, name: &str, active: bool) -> Result<(), AdapterError> {
    db.in_transaction(|conn| {
        let what = || format!("currency {name}");
        let id = currency_id(conn, name)?.ok_or_else(|| AdapterError::NotFound(what()))?;
        let active = currencies::active.eq(i32::from(active));
        update_row!(conn, currencies, id, active, what())
    })
}

/// Sets a `conflines` setting of `owner`, adding the row when there is none.
pub fn set_setting(
    db: &Database,
    name: &str,
    value: &str,
    owner: OwnerId,
) -> Result<(), AdapterError> {
    db.in_transaction(|conn| {
        // The enum connection has no portable upsert: update, and insert if nothing was there.
        let updated = diesel::update(
            conflines::table
                .filter(conflines::name.eq(name))
                .filter(conflines::owner_id.eq(owner.0)),
        )
        .set(conflines::value.eq(value))
        .execute(conn)
        .map_err(store_error)?;
        if updated == 0 && !setting_exists(conn, name, owner)? {
            diesel::insert_into(conflines::table)
                .values((
                    conflines::name.eq(name),
                    conflines::value.eq(value),
                    conflines::owner_id.eq(owner.0),
                ))
                .execute(conn)
                .map_err(store_error)?;
        }
        Ok(())
    })
}

/// MySQL counts only rows an UPDATE changed, so 0 also means "already had this value".
fn setting_exists(
    conn: &mut AnyConnection,
    name: &str,
    owner: OwnerId,
) -> Result<bool, StoreError> {
    let setting = conflines::table
        .filter(conflines::name.eq(name))
        .filter(conflines::owner_id.eq(owner.0))
        .select(conflines::id);
    exists(conn, setting)
}

/// Sets the exchange rate of currency `name` (relative to the system currency), adding an
/// active currency of that name when there is none.
pub fn set_exchange_rate(db: &Database, name: &str, rate: &BigDecimal) -> Result<(), AdapterError> {
    let rate = money_sql::decimal_to_sql(rate)?;
    db.in_transaction(|conn| {
        match currency_id(conn, name)? {
            Some(id) => diesel::update(currencies::table.find(id))
                .set(currencies::exchange_rate.eq(&rate))
                .execute(conn),
            None => diesel::insert_into(currencies::table)
                .values((
                    currencies::name.eq(name),
                    currencies::full_name.eq(name),
                    currencies::exchange_rate.eq(&rate),
                    currencies::active.eq(1),
                ))
                .execute(conn),
        }
        .map_err(store_error)?;
        Ok(())
    })
}

/// Adds a row of `taxes`.
pub fn create_tax(db: &Database, spec: &TaxSpec) -> Result<TaxId, AdapterError> {
    let [v1, v2, v3, v4] = spec.values.each_ref().map(money_sql::decimal_to_sql);
    let [v1, v2, v3, v4] = [v1?, v2?, v3?, v4?];
    let [e1, e2, e3, e4] = spec.enabled.map(i32::from);
    db.in_transaction(|conn| {
        diesel::insert_into(taxes::table)
            .values((
                taxes::tax1_enabled.eq(e1),
                taxes::tax2_enabled.eq(e2),
                taxes::tax3_enabled.eq(e3),
                taxes::tax4_enabled.eq(e4),
                taxes::tax1_value.eq(&v1),
                taxes::tax2_value.eq(&v2),
                taxes::tax3_value.eq(&v3),
                taxes::tax4_value.eq(&v4),
                taxes::compound_tax.eq(i32::from(spec.compound)),
            ))
            .execute(conn)
            .map_err(store_error)?;
        Ok(TaxId(last_insert_id(conn)?))
    })
}

/// Sets (or with `None` removes) the tax of a card group.
pub fn set_card_group_tax(
    db: &Database,
    group: CardGroupId,
    tax: Option<TaxId>,
) -> Result<(), AdapterError> {
    let columns = CardGroupColumns {
        tax_id: Some(tax.map(|id| id.0)),
        ..CardGroupColumns::default()
    };
    set_card_group_columns(db, group, &columns)
}

/// Sets (or with `None` removes) the tax of a user.
pub fn set_user_tax(db: &Database, user: UserId, tax: Option<TaxId>) -> Result<(), AdapterError> {
    db.in_transaction(|conn| {
        let tax = users::tax_id.eq(tax.map(|id| id.0));
        update_row!(conn, users, user.0, tax, format!("user {user}"))
    })
}

/// Adds a device of `user_id` (-1 for a provider's device) with one caller ID.
pub fn create_device(
    db: &Database,
    name: &str,
    user_id: i64,
    cli: &CallerId,
) -> Result<DeviceId, AdapterError> {
    db.in_transaction(|conn| {
        diesel::insert_into(devices::table)
            .values((devices::name.eq(name), devices::user_id.eq(user_id)))
            .execute(conn)
            .map_err(store_error)?;
        let device = last_insert_id(conn)?;
        diesel::insert_into(callerids::table)
            .values((
                callerids::cli.eq(cli.as_str()),
                callerids::device_id.eq(device),
            ))
            .execute(conn)
            .map_err(store_error)?;
        Ok(DeviceId(device))
    })
}

/// Whether the database has no users at all: a new installation, ready for demo data.
pub fn is_fresh(db: &Database) -> Result<bool, AdapterError> {
    let mut conn = db.connection()?;
    Ok(!exists(&mut conn, users::table.select(users::id))?)
}

/// Whether `query` finds a row.
pub(crate) fn exists<'q, Q>(conn: &mut AnyConnection, query: Q) -> Result<bool, StoreError>
where
    Q: RunQueryDsl<AnyConnection> + diesel::query_dsl::methods::LimitDsl,
    diesel::dsl::Limit<Q>: diesel::query_dsl::LoadQuery<'q, AnyConnection, i64>,
{
    Ok(rows::first::<_, i64>(conn, query)?.is_some())
}

/// The id of the currency named exactly `name`.
fn currency_id(conn: &mut AnyConnection, name: &str) -> Result<Option<i64>, StoreError> {
    let query = currencies::table
        .filter(currencies::name.eq(name))
        .select((currencies::id, currencies::name));
    rows::exact_id(conn, query, name)
}

pub mod batch;
pub mod reports;

#[cfg(feature = "testing")]
mod for_tests;
#[cfg(feature = "testing")]
pub use for_tests::*;
