//! How storage errors reach the domain: a lost race is a [`StoreError::Conflict`] (worth a
//! retry), a taken unique key a [`StoreError::Duplicate`], anything else a
//! [`StoreError::Failure`].

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use morcc_domain::StoreError;

/// Why the adapters could not open, migrate or use the database outside a request.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// The database URL names no backend this build supports.
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    /// A `mysql://` URL was given to a build without the `mysql` feature.
    #[error("this build has no MySQL support: rebuild with the `mysql` feature")]
    MysqlNotCompiled,
    /// The connection pool could not be built (the database refused the first connection).
    #[error("cannot open the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A row an operation needs does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A query failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Classifies a diesel error for the domain.
pub(crate) fn store_error(error: DieselError) -> StoreError {
    store_error_of(&error)
}

fn store_error_of(error: &DieselError) -> StoreError {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Duplicate,
        // MySQL/MariaDB deadlock (1213) and Galera certification failures.
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
            StoreError::Conflict(error.to_string())
        }
        DieselError::DatabaseError(_, info) if is_lost_race(info.message()) => {
            StoreError::Conflict(error.to_string())
        }
        // A COMMIT that failed and whose ROLLBACK failed too (Galera answers both with the
        // certification failure): what counts is why the commit failed.
        DieselError::RollbackErrorOnCommit { commit_error, .. } => {
            match store_error_of(commit_error) {
                StoreError::Conflict(_) => StoreError::Conflict(error.to_string()),
                _ => StoreError::Failure(error.to_string()),
            }
        }
        _ => StoreError::Failure(error.to_string()),
    }
}

/// Classifies a failed insert into or update of `cards`. A taken number or PIN is a
/// [`StoreError::Duplicate`] (the domain draws new codes); a taken caller ID means a concurrent
/// request sold a card to the same phone since this transaction looked (on an insert of a new
/// card, or on an update that binds a card to the phone, as the PIN path does), so the whole
/// transaction must run again and find that card: a [`StoreError::Conflict`]. The message
/// names the column, never the value.
pub(crate) fn card_write_error(error: DieselError) -> StoreError {
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
            if names_callerid_key(info.message()) =>
        {
            StoreError::Conflict("cards.callerid was taken by a concurrent request".into())
        }
        _ => store_error(error),
    }
}

/// Whether a unique violation is on `cards.callerid`, judged by the key the message ends with,
/// never by the duplicated value it quotes (an operator's PIN may read "callerid"):
/// SQLite `UNIQUE constraint failed: cards.callerid`, MariaDB `... for key 'cards_callerid'`,
/// MySQL 8 `... for key 'cards.cards_callerid'`.
fn names_callerid_key(message: &str) -> bool {
    message.ends_with("cards.callerid") || message.ends_with("cards_callerid'")
}

/// diesel reports these as `Unknown`, so they are told apart by the server's message:
/// MySQL 1205 (lock wait timeout), SQLite `SQLITE_BUSY` and `SQLITE_LOCKED`.
fn is_lost_race(message: &str) -> bool {
    const MESSAGES: [&str; 4] = [
        "Lock wait timeout exceeded",
        "Deadlock found",
        "database is locked",
        "database table is locked",
    ];
    MESSAGES.iter().any(|known| message.contains(known))
}

/// Whether an error is a lost race that running the transaction again may win.
pub(crate) trait Retryable {
    /// The message of a [`StoreError::Conflict`], wherever it is wrapped.
    fn conflict_message(&self) -> Option<&str>;

    /// True for [`StoreError::Conflict`], wherever it is wrapped.
    fn is_conflict(&self) -> bool {
        self.conflict_message().is_some()
    }
}

impl Retryable for StoreError {
    fn conflict_message(&self) -> Option<&str> {
        match self {
            StoreError::Conflict(message) => Some(message),
            _ => None,
        }
    }
}

impl Retryable for morcc_domain::UnitError {
    fn conflict_message(&self) -> Option<&str> {
        match self {
            morcc_domain::UnitError::Store(error) => error.conflict_message(),
            morcc_domain::UnitError::Refused => None,
        }
    }
}

impl Retryable for AdapterError {
    fn conflict_message(&self) -> Option<&str> {
        match self {
            AdapterError::Store(error) => error.conflict_message(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Info(&'static str);

    impl diesel::result::DatabaseErrorInformation for Info {
        fn message(&self) -> &str {
            self.0
        }
        fn details(&self) -> Option<&str> {
            None
        }
        fn hint(&self) -> Option<&str> {
            None
        }
        fn table_name(&self) -> Option<&str> {
            None
        }
        fn column_name(&self) -> Option<&str> {
            None
        }
        fn constraint_name(&self) -> Option<&str> {
            None
        }
        fn statement_position(&self) -> Option<i32> {
            None
        }
    }

    fn database_error(kind: DatabaseErrorKind, message: &'static str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(Info(message)))
    }

    #[test]
    fn lost_races_are_conflicts() {
        for (kind, message) in [
            (
                DatabaseErrorKind::SerializationFailure,
                "Deadlock found when trying to get lock",
            ),
            (
                DatabaseErrorKind::Unknown,
                "Lock wait timeout exceeded; try restarting transaction",
            ),
            (DatabaseErrorKind::Unknown, "database is locked"),
            (DatabaseErrorKind::Unknown, "database table is locked"),
        ] {
            let mapped = store_error(database_error(kind, message));
            assert!(
                matches!(mapped, StoreError::Conflict(_)),
                "{message}: {mapped:?}"
            );
        }
    }

    /// Galera answers a COMMIT that failed certification, and the ROLLBACK after it, with
    /// 1213, which diesel reports as an unknown error, and wraps the pair.
    #[test]
    fn a_commit_that_lost_certification_is_a_conflict_even_when_its_rollback_failed() {
        let deadlock = || {
            database_error(
                DatabaseErrorKind::Unknown,
                "Deadlock found when trying to get lock; try restarting transaction",
            )
        };
        assert!(matches!(store_error(deadlock()), StoreError::Conflict(_)));
        let both = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(deadlock()),
            commit_error: Box::new(deadlock()),
        };
        assert!(matches!(store_error(both), StoreError::Conflict(_)));
        let lost = DieselError::RollbackErrorOnCommit {
            rollback_error: Box::new(deadlock()),
            commit_error: Box::new(database_error(
                DatabaseErrorKind::ClosedConnection,
                "Lost connection to server during query",
            )),
        };
        assert!(
            matches!(store_error(lost), StoreError::Failure(_)),
            "a commit whose outcome is unknown is never a conflict"
        );
    }

    #[test]
    fn a_taken_caller_id_is_a_conflict_and_other_taken_codes_duplicates() {
        for message in [
            "UNIQUE constraint failed: cards.callerid",
            "Duplicate entry '4444' for key 'cards_callerid'",
            "Duplicate entry '4444' for key 'cards.cards_callerid'",
        ] {
            let mapped =
                card_write_error(database_error(DatabaseErrorKind::UniqueViolation, message));
            assert!(
                matches!(mapped, StoreError::Conflict(_)),
                "{message}: {mapped:?}"
            );
        }
        for message in [
            "UNIQUE constraint failed: cards.pin",
            "Duplicate entry 'callerid' for key 'cards_pin'",
            "Duplicate entry '0123456789' for key 'cards.cards_number'",
        ] {
            let mapped =
                card_write_error(database_error(DatabaseErrorKind::UniqueViolation, message));
            assert_eq!(mapped, StoreError::Duplicate, "{message}");
        }
    }

    #[test]
    fn unique_violations_are_duplicates_and_the_rest_failures() {
        let duplicate = database_error(DatabaseErrorKind::UniqueViolation, "UNIQUE failed");
        assert_eq!(store_error(duplicate), StoreError::Duplicate);
        let other = database_error(DatabaseErrorKind::Unknown, "no such table: cards");
        assert!(matches!(store_error(other), StoreError::Failure(_)));
        assert!(matches!(
            store_error(DieselError::NotFound),
            StoreError::Failure(_)
        ));
    }
}
