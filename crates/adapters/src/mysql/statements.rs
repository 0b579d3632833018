//! The call's `UPDATE`s on MySQL as statements diesel keeps prepared.
//!
//! diesel never keeps an `UPDATE` built with `diesel::update` (a changeset may skip `None`
//! fields, so one Rust type can stand for several SQL texts): it prepares, runs and closes it
//! every time, and on MySQL the prepare is a round trip of its own. These have one fixed text
//! each, the same columns and `WHERE` as the `diesel::update` they replace (SQLite keeps that),
//! so diesel's cache keys them by type and prepares them once per connection.
//!
//! And the locking of a PIN transfer's two cards in id order.

use diesel::mysql::Mysql;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::{MysqlConnection, QueryResult, RunQueryDsl};
use morcc_domain::CardKey;

use crate::rows;
use crate::schema::cards;

/// Makes `$statement` one diesel keeps prepared: a static query id (its type stands for one
/// SQL text), run on a MySQL connection.
macro_rules! kept_prepared {
    ($statement:ident) => {
        impl QueryId for $statement<'_> {
            type QueryId = $statement<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl RunQueryDsl<MysqlConnection> for $statement<'_> {}
    };
}

/// `UPDATE cards SET balance, sold, active, callerid WHERE id`.
pub(crate) struct CardUpdate<'a> {
    pub(crate) id: i64,
    pub(crate) balance: &'a str,
    pub(crate) sold: i32,
    pub(crate) active: i32,
    pub(crate) callerid: Option<&'a str>,
}

impl QueryFragment<Mysql> for CardUpdate<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        out.push_sql("UPDATE `cards` SET `balance` = ");
        out.push_bind_param::<Text, _>(self.balance)?;
        out.push_sql(", `sold` = ");
        out.push_bind_param::<Integer, _>(&self.sold)?;
        out.push_sql(", `active` = ");
        out.push_bind_param::<Integer, _>(&self.active)?;
        out.push_sql(", `callerid` = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.callerid)?;
        out.push_sql(" WHERE `cards`.`id` = ");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        Ok(())
    }
}

kept_prepared!(CardUpdate);

/// `UPDATE users SET balance WHERE id`.
pub(crate) struct UserBalanceUpdate<'a> {
    pub(crate) id: i64,
    pub(crate) balance: &'a str,
}

impl QueryFragment<Mysql> for UserBalanceUpdate<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        out.push_sql("UPDATE `users` SET `balance` = ");
        out.push_bind_param::<Text, _>(self.balance)?;
        out.push_sql(" WHERE `users`.`id` = ");
        out.push_bind_param::<BigInt, _>(&self.id)?;
        Ok(())
    }
}

kept_prepared!(UserBalanceUpdate);

/// Locks the cards `keys` find in id order (MySQL).
///
/// Read one after the other, two transfers between the same cards in opposite directions
/// would lock them in opposite orders, and InnoDB would kill one of them as a deadlock every
/// time they overlap; under load the retries could run out. Locking them at once, in id order,
/// makes them queue instead. The ids are found without locks first, so a card that changes
/// meanwhile only means one lock more than needed (held to the end of the transaction, which
/// is harmless); the locked reads that follow decide.
pub(crate) fn lock_in_id_order(conn: &mut MysqlConnection, keys: &[CardKey]) -> QueryResult<()> {
    let mut ids = Vec::with_capacity(keys.len());
    for key in keys {
        let found = match key {
            CardKey::Pin(pin) => {
                let row = cards::table
                    .filter(cards::pin.eq(pin.expose()))
                    .select((cards::id, cards::pin))
                    .first::<(i64, String)>(conn)
                    .optional()?;
                rows::exactly(row, pin.expose(), |(_, stored)| Some(stored)).map(|(id, _)| id)
            }
            CardKey::CallerId(cli) => {
                let row = cards::table
                    .filter(cards::callerid.eq(cli.as_str()))
                    .select((cards::id, cards::callerid))
                    .first::<(i64, Option<String>)>(conn)
                    .optional()?;
                rows::exactly(row, cli.as_str(), |(_, stored)| stored.as_deref()).map(|(id, _)| id)
            }
        };
        ids.extend(found);
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > 1 {
        cards::table
            .filter(cards::id.eq_any(&ids))
            .order(cards::id)
            .select(cards::id)
            .for_update()
            .load::<i64>(conn)?;
    }
    Ok(())
}
