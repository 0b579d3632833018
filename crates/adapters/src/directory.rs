//! The read-only look-ups of the filters ([`Directory`]) and the record of failed attempts
//! ([`AuditLog`]), each on its own pooled connection, outside any transaction.

use diesel::dsl::now;
use diesel::prelude::*;
use std::time::Duration;

use morcc_domain::{
    Account, AuditLog, Directory, FailedAttempt, OwnerId, RecentFailures, StoreError, UserId,
    UserType,
};

use crate::connection::Database;
use crate::error::store_error;
use crate::retention::seconds_ago;
use crate::rows;
use crate::schema::{actions, conflines, users};

/// A user as the filters read it.
#[derive(diesel::Queryable)]
struct AccountRow {
    id: i64,
    username: String,
    usertype: String,
    owner_id: i64,
    /// `users.password`: the SHA1 hex of the password.
    password: String,
    blocked: i32,
}

/// `actions.user_id` of a failure no known user caused, as MOR writes it.
const NO_USER: i64 = -1;
/// `actions.action` of a failed login or hash, as MOR writes it.
const FAILURE_ACTION: &str = "error";

impl Directory for Database {
    fn account_by_username(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let mut conn = self.connection()?;
        let row = users::table
            .filter(users::username.eq(username))
            .select((
                users::id,
                users::username,
                users::usertype,
                users::owner_id,
                users::password,
                users::blocked,
            ))
            .first::<AccountRow>(&mut *conn)
            .optional()
            .map_err(store_error)?;
        // `admin ` must not log in as `admin` (MySQL's PAD SPACE collation; see `rows::exactly`).
        let row = rows::exactly(row, username, |row| Some(&row.username));
        Ok(row.map(|row| Account {
            id: UserId(row.id),
            username: row.username,
            usertype: UserType::parse(&row.usertype),
            owner_id: OwnerId(row.owner_id),
            password_sha1: row.password,
            blocked: row.blocked != 0,
        }))
    }

    fn setting(&self, name: &str, owner: OwnerId) -> Result<Option<String>, StoreError> {
        let mut conn = self.connection()?;
        let value = conflines::table
            .filter(conflines::name.eq(name))
            .filter(conflines::owner_id.eq(owner.0))
            .select(conflines::value)
            .first::<Option<String>>(&mut *conn)
            .optional()
            .map_err(store_error)?;
        // A row whose value is NULL is as good as no row.
        Ok(value.flatten())
    }
}

impl AuditLog for Database {
    fn recent_failures(
        &self,
        username: &str,
        remote_address: &str,
        window: Duration,
    ) -> Result<RecentFailures, StoreError> {
        let mut conn = self.connection()?;
        // The database's own clock decides what is recent: every instance then judges the
        // same rows alike, whatever its own clock says.
        let seconds = window.as_secs().min(i64::MAX as u64) as i64;
        let (before, after) = seconds_ago(&conn);
        let recent = || {
            actions::table
                .filter(actions::action.eq(FAILURE_ACTION))
                .filter(actions::user_id.eq(NO_USER))
                .filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>("`date` >= ")
                        .sql(before)
                        .bind::<diesel::sql_types::BigInt, _>(seconds)
                        .sql(after),
                )
        };
        let by_username: i64 = recent()
            .filter(actions::data2.eq(username))
            .count()
            .get_result(&mut *conn)
            .map_err(store_error)?;
        let by_address: i64 = recent()
            .filter(actions::data3.eq(remote_address))
            .count()
            .get_result(&mut *conn)
            .map_err(store_error)?;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(RecentFailures {
            by_username: count(by_username),
            by_address: count(by_address),
        })
    }

    fn record_failure(&self, attempt: &FailedAttempt) {
        if let Err(error) = self.write_failure(attempt) {
            // Best effort (see the port): the reply must not change because the log failed.
            tracing::warn!(
                %error,
                reason = %attempt.reason,
                remote_address = %attempt.remote_address,
                "could not record a failed attempt"
            );
        }
    }
}

impl Database {
    /// Writes one MOR `actions` row: `error`, the reason, the username, the address, the target.
    fn write_failure(&self, attempt: &FailedAttempt) -> Result<(), StoreError> {
        let mut conn = self.connection()?;
        diesel::insert_into(actions::table)
            .values((
                actions::user_id.eq(NO_USER),
                actions::date.eq(now),
                actions::action.eq(FAILURE_ACTION),
                actions::data.eq(&attempt.reason),
                actions::data2.eq(&attempt.username),
                actions::data3.eq(&attempt.remote_address),
                actions::data4.eq(&attempt.target),
            ))
            .execute(&mut *conn)
            .map(drop)
            .map_err(store_error)
    }
}
