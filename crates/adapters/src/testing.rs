//! Scratch databases for tests (feature `testing`): each test gets a migrated database of its
//! own, removed when the value is dropped, so tests run in parallel on either backend.

use std::time::Duration;

use crate::connection::{Database, PoolSettings};
use crate::error::AdapterError;

/// A migrated database that lives as long as this value.
#[derive(Debug)]
pub struct ScratchDatabase {
    database: Database,
    _storage: Storage,
}

#[derive(Debug)]
enum Storage {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    #[cfg(feature = "mysql")]
    Mysql(#[allow(dead_code)] mysql::DropGuard),
}

/// Enough connections for concurrency tests, and patience for a busy machine.
fn settings() -> PoolSettings {
    PoolSettings {
        max_size: Some(8),
        connection_timeout: Duration::from_secs(20),
        // Tests that lose a race on purpose give up within a second.
        retry_budget: Duration::from_secs(1),
        ..PoolSettings::default()
    }
}

impl ScratchDatabase {
    /// A fresh SQLite file in a temporary directory.
    pub fn sqlite() -> Result<ScratchDatabase, AdapterError> {
        let dir = tempfile::tempdir().map_err(|error| AdapterError::Connect(error.to_string()))?;
        let url = format!("sqlite://{}", dir.path().join("morcc.db").display());
        let database = Database::connect(&url, settings())?;
        database.run_migrations()?;
        Ok(ScratchDatabase {
            database,
            _storage: Storage::Sqlite(dir),
        })
    }

    /// A fresh database `morcc_test_<random>` on the MySQL server at `server_url`
    /// (e.g. `mysql://root@127.0.0.1:3306`), dropped with this value.
    #[cfg(feature = "mysql")]
    pub fn mysql(server_url: &str) -> Result<ScratchDatabase, AdapterError> {
        ScratchDatabase::mysql_with(server_url, settings())
    }

    /// [`ScratchDatabase::mysql`] with a pool of these `settings`.
    #[cfg(feature = "mysql")]
    pub fn mysql_with(
        server_url: &str,
        settings: PoolSettings,
    ) -> Result<ScratchDatabase, AdapterError> {
        let (guard, url) = mysql::DropGuard::create(server_url)?;
        let database = Database::connect(&url, settings)?;
        database.run_migrations()?;
        Ok(ScratchDatabase {
            database,
            _storage: Storage::Mysql(guard),
        })
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, MysqlConnection};
    use rand::Rng;

    use crate::error::AdapterError;

    /// Drops the scratch database when the test ends.
    pub struct DropGuard {
        server: String,
        name: String,
    }

    impl std::fmt::Debug for DropGuard {
        // The server URL may carry a password: show only the database's name.
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("DropGuard")
                .field("name", &self.name)
                .finish()
        }
    }

    impl DropGuard {
        /// Creates the database and returns its URL.
        pub fn create(server: &str) -> Result<(DropGuard, String), AdapterError> {
            let server = server.trim_end_matches('/').to_owned();
            let name = format!("morcc_test_{:016x}", rand::rng().random::<u64>());
            MysqlConnection::establish(&server)
                .map_err(|error| AdapterError::Connect(error.to_string()))?
                .batch_execute(&format!("CREATE DATABASE {name} CHARACTER SET utf8mb4"))
                .map_err(|error| AdapterError::Connect(error.to_string()))?;
            let url = format!("{server}/{name}");
            Ok((DropGuard { server, name }, url))
        }
    }

    impl Drop for DropGuard {
        fn drop(&mut self) {
            let dropped = MysqlConnection::establish(&self.server)
                .map_err(|error| error.to_string())
                .and_then(|mut conn| {
                    conn.batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.name))
                        .map_err(|error| error.to_string())
                });
            if let Err(error) = dropped {
                eprintln!("could not drop {}: {error}", self.name);
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::DropGuard;

        #[test]
        fn debug_hides_the_server_url() {
            let guard = DropGuard {
                server: "mysql://root:hunter2@db.example:3306".into(),
                name: "morcc_test_0".into(),
            };
            let shown = format!("{guard:?}");
            // Nothing to drop on that server.
            std::mem::forget(guard);
            assert!(
                shown.contains("morcc_test_0") && !shown.contains("hunter2"),
                "{shown}"
            );
        }
    }
}
