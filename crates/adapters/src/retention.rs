//! What expires: idempotency keys past their retention, deleted in small batches by a task
//! beside the requests, by the database's own clock.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

use crate::connection::{AnyConnection, Database};
use crate::error::{store_error, AdapterError};
use crate::schema::idempotency_keys;

/// Rows deleted per statement: small enough that no request waits long behind the delete.
const BATCH: i64 = 500;

/// SQL for "N seconds before the database's now", around the bound N: the text before it and
/// after it. The database's clock decides, so every instance judges the same rows alike.
pub(crate) fn seconds_ago(conn: &AnyConnection) -> (&'static str, &'static str) {
    match conn {
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => ("NOW() - INTERVAL ", " SECOND"),
        AnyConnection::Sqlite(_) => ("datetime('now', '-' || ", " || ' seconds')"),
    }
}

impl Database {
    /// Deletes the idempotency keys kept longer than `retention`; how many.
    pub fn purge_idempotency_keys(&self, retention: Duration) -> Result<u64, AdapterError> {
        let seconds = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
        let mut purged = 0;
        loop {
            let mut conn = self.connection()?;
            let (before, after) = seconds_ago(&conn);
            let expired: Vec<i64> = idempotency_keys::table
                .filter(
                    diesel::dsl::sql::<Bool>("`created_at` < ")
                        .sql(before)
                        .bind::<BigInt, _>(seconds)
                        .sql(after),
                )
                .select(idempotency_keys::id)
                .limit(BATCH)
                .load(&mut *conn)
                .map_err(store_error)?;
            if expired.is_empty() {
                return Ok(purged);
            }
            let deleted = diesel::delete(
                idempotency_keys::table.filter(idempotency_keys::id.eq_any(&expired)),
            )
            .execute(&mut *conn)
            .map_err(store_error)?;
            purged += deleted as u64;
            if expired.len() < BATCH as usize {
                return Ok(purged);
            }
        }
    }
}
