//! What an operator looks at when someone calls support: the card groups and their stock, a
//! group's cards, one card and its payments, and payments. Read only: plain look-ups on a
//! pooled connection, no transaction and no lock. Codes asked for (numbers, caller IDs,
//! usernames) are matched byte for byte, on MySQL too ([`rows::exactly`]).

use std::collections::HashMap;

use diesel::dsl::{count_star, sql};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use morcc_domain::{Card, CardGroup, CardGroupId, CardNumber, Ledger, Money, StoreError, Transact};

use crate::connection::{AnyConnection, Database};
use crate::error::{store_error, AdapterError};
use crate::money_sql;
use crate::rows::{self, CardGroupRow, CardRow};
use crate::schema::{cardgroups, cards, payments, users};

/// A card group and its stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupStock {
    /// The group.
    pub group: CardGroup,
    /// Its free cards: those a sale may take ([`Card::is_free`]), counted as the API counts
    /// them (`card_group_get`'s `free_cards_size`).
    pub free: u64,
    /// Its sold cards.
    pub sold: u64,
}

/// Every card group, by id, with its free and sold cards.
pub fn card_groups(db: &Database) -> Result<Vec<GroupStock>, AdapterError> {
    let (groups, sold) = {
        let mut conn = db.connection()?;
        let groups = cardgroups::table
            .order(cardgroups::id)
            .select(rows::CARD_GROUP_COLUMNS)
            .load::<CardGroupRow>(&mut *conn)
            .map_err(store_error)?
            .into_iter()
            .map(rows::card_group)
            .collect::<Result<Vec<_>, _>>()?;
        let sold: HashMap<i64, i64> = cards::table
            .filter(cards::sold.ne(0))
            .group_by(cards::cardgroup_id)
            .select((cards::cardgroup_id, count_star()))
            .load::<(i64, i64)>(&mut *conn)
            .map_err(store_error)?
            .into_iter()
            .collect();
        (groups, sold)
    };
    // The free cards are counted by the ledger's own query, the one the API answers with: one
    // home for that rule.
    let free = db.read(|ledger: &mut dyn Ledger| {
        groups
            .iter()
            .map(|group| ledger.free_card_count(group.id))
            .collect::<Result<Vec<_>, StoreError>>()
    })?;
    Ok(groups
        .into_iter()
        .zip(free)
        .map(|(group, free)| GroupStock {
            sold: sold
                .get(&group.id.0)
                .map_or(0, |&count| u64::try_from(count).unwrap_or(0)),
            group,
            free,
        })
        .collect())
}

/// Which of a group's cards to list; `None` lists all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFilter {
    /// Only sold cards (`true`) or only unsold ones (`false`).
    pub sold: Option<bool>,
    /// Only the card bound to this caller ID.
    pub callerid: Option<String>,
    /// Only the card with this number.
    pub number: Option<String>,
}

/// A group's cards that pass `filter`, by number; [`AdapterError::NotFound`] when the group
/// does not exist.
pub fn cards(
    db: &Database,
    group: CardGroupId,
    filter: &CardFilter,
) -> Result<Vec<Card>, AdapterError> {
    let mut conn = db.connection()?;
    if !super::exists(
        &mut conn,
        cardgroups::table.find(group.0).select(cardgroups::id),
    )? {
        return Err(AdapterError::NotFound(format!("card group {group}")));
    }
    let mut query = cards::table
        .filter(cards::cardgroup_id.eq(group.0))
        .select(rows::CARD_COLUMNS)
        .order((cards::number, cards::id))
        .into_boxed();
    match filter.sold {
        Some(true) => query = query.filter(cards::sold.ne(0)),
        Some(false) => query = query.filter(cards::sold.eq(0)),
        None => {}
    }
    if let Some(callerid) = &filter.callerid {
        query = query.filter(cards::callerid.eq(callerid.as_str()));
    }
    if let Some(number) = &filter.number {
        query = query.filter(cards::number.eq(number.as_str()));
    }
    let found = query.load::<CardRow>(&mut *conn).map_err(store_error)?;
    Ok(found
        .into_iter()
        .filter(|row| {
            // MySQL's PAD SPACE finds `12 ` for `12`: keep exact matches only.
            let exact = |asked: &Option<String>, stored: Option<&str>| {
                asked.as_deref().is_none_or(|asked| stored == Some(asked))
            };
            exact(&filter.callerid, rows::card_callerid(row))
                && exact(&filter.number, rows::card_number(row))
        })
        .map(rows::card)
        .collect::<Result<_, _>>()?)
}

/// The card with this number, exactly as stored: the ledger's look-up, without a lock.
pub fn card(db: &Database, number: &CardNumber) -> Result<Option<Card>, AdapterError> {
    Ok(db.read(|ledger: &mut dyn Ledger| ledger.lock_card_by_number(number))?)
}

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day(String);

impl Day {
    /// A day written `YYYY-MM-DD` that exists in the calendar (years 0001 to 9999).
    pub fn parse(text: &str) -> Option<Day> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return None;
        }
        let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().ok();
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (year >= 1 && (1..=days).contains(&day)).then(|| Day(text.to_owned()))
    }

    /// The day as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whose payments: a card's or a user's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payer {
    /// The card with this number.
    Card(CardNumber),
    /// The user with this username.
    User(String),
}

/// Which payments to list; `None` lists all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    /// Only payments added on this day or later.
    pub since: Option<Day>,
    /// Only this card's or user's.
    pub of: Option<Payer>,
}

/// A row of `payments`, with the card number or username it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// `payments.id`.
    pub id: i64,
    /// `payments.date_added`, `YYYY-MM-DD HH:MM:SS` as the database keeps it.
    pub date: String,
    /// `Card` (a card's balance changed) or `card_refill` (a user's).
    pub paymenttype: String,
    /// The card's number, for a card's payment (empty when the card is gone).
    pub card_number: Option<String>,
    /// The user's name, for a user's payment (empty when the user is gone).
    pub username: Option<String>,
    /// The signed balance change, in the system currency.
    pub amount: Money,
    /// The currency of `gross`.
    pub currency: String,
    /// What the client paid.
    pub gross: Money,
    /// The tax removed.
    pub tax: Money,
    /// Why the balance changed.
    pub description: String,
}

/// Payments that pass `filter`, newest first; [`AdapterError::NotFound`] when the card or user
/// named does not exist.
pub fn payments(db: &Database, filter: &PaymentFilter) -> Result<Vec<PaymentRecord>, AdapterError> {
    let mut conn = db.connection()?;
    let holder = match &filter.of {
        None => None,
        Some(Payer::Card(number)) => Some((1, card_id(&mut conn, number)?)),
        Some(Payer::User(username)) => Some((0, user_id(&mut conn, username)?)),
    };
    load_payments(&mut conn, filter.since.as_ref(), holder)
}

/// A card's payments, newest first.
pub fn card_payments(db: &Database, card: &Card) -> Result<Vec<PaymentRecord>, AdapterError> {
    let mut conn = db.connection()?;
    load_payments(&mut conn, None, Some((1, card.id.0)))
}

/// The id of the card with this number, exactly as stored.
pub(crate) fn card_id(conn: &mut AnyConnection, number: &CardNumber) -> Result<i64, AdapterError> {
    let query = cards::table
        .filter(cards::number.eq(number.as_str()))
        .select((cards::id, cards::number));
    rows::exact_id(conn, query, number.as_str())?
        .ok_or_else(|| AdapterError::NotFound(format!("card {}", number.as_str())))
}

/// The id of the user with this name, exactly as stored.
pub(crate) fn user_id(conn: &mut AnyConnection, username: &str) -> Result<i64, AdapterError> {
    let query = users::table
        .filter(users::username.eq(username))
        .select((users::id, users::username));
    rows::exact_id(conn, query, username)?
        .ok_or_else(|| AdapterError::NotFound(format!("user {username}")))
}

/// A row of `payments` as [`load_payments`] selects it.
#[derive(diesel::Queryable)]
struct PaymentRow {
    id: i64,
    /// `date_added`, formatted `YYYY-MM-DD HH:MM:SS`.
    date: Option<String>,
    paymenttype: String,
    amount: String,
    currency: String,
    gross: String,
    tax: String,
    /// `card`: 1 for a card's payment, 0 for a user's.
    card: i32,
    /// The card's number, for a card's payment.
    card_number: Option<String>,
    /// The user's name, for a user's payment.
    username: Option<String>,
    description: Option<String>,
}

/// Payments since `since`, of `holder` (`payments.card`, `payments.user_id`), newest first.
fn load_payments(
    conn: &mut AnyConnection,
    since: Option<&Day>,
    holder: Option<(i32, i64)>,
) -> Result<Vec<PaymentRecord>, AdapterError> {
    let date = match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => "DATE_FORMAT(`payments`.`date_added`, '%Y-%m-%d %H:%i:%s')",
        AnyConnection::Sqlite(_) => "strftime('%Y-%m-%d %H:%M:%S', `payments`.`date_added`)",
    };
    // `payments.user_id` is the card's id or the user's, as `payments.card` says.
    let mut query = payments::table
        .left_join(cards::table.on(payments::card.ne(0).and(cards::id.eq(payments::user_id))))
        .left_join(users::table.on(payments::card.eq(0).and(users::id.eq(payments::user_id))))
        .select((
            payments::id,
            sql::<Nullable<Text>>(date),
            payments::paymenttype,
            payments::amount,
            payments::currency,
            payments::gross,
            payments::tax,
            payments::card,
            cards::number.nullable(),
            users::username.nullable(),
            payments::description,
        ))
        .order((payments::date_added.desc(), payments::id.desc()))
        .into_boxed();
    if let Some(since) = since {
        query = query.filter(
            sql::<Bool>("`payments`.`date_added` >= ").bind::<Text, _>(since.as_str().to_owned()),
        );
    }
    if let Some((card, id)) = holder {
        query = query
            .filter(payments::card.eq(card))
            .filter(payments::user_id.eq(id));
    }
    let found = query.load::<PaymentRow>(conn).map_err(store_error)?;
    found
        .into_iter()
        .map(|row| {
            let (card_number, username) = if row.card != 0 {
                (Some(row.card_number.unwrap_or_default()), None)
            } else {
                (None, Some(row.username.unwrap_or_default()))
            };
            Ok(PaymentRecord {
                id: row.id,
                date: row.date.unwrap_or_default(),
                paymenttype: row.paymenttype,
                card_number,
                username,
                amount: money_sql::money(&row.amount)?,
                currency: row.currency,
                gross: money_sql::money(&row.gross)?,
                tax: money_sql::money(&row.tax)?,
                description: row.description.unwrap_or_default(),
            })
        })
        .collect::<Result<_, StoreError>>()
        .map_err(AdapterError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_a_calendar_date_written_yyyy_mm_dd() {
        for good in [
            "2026-12-03",
            "2024-02-29",
            "2000-02-29",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert_eq!(Day::parse(good).map(|day| day.0), Some(good.to_owned()));
        }
        for bad in [
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2023-02-29",
            "1900-02-29",
            "0000-01-01",
            "2026-1-01",
            "2026/12/03",
            "20261203",
            "2026-12-03 ",
            "2026-12-3",
            "+026-12-03",
            "",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }
}
