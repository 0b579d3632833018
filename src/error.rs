//! Why the program stops.

/// Why the program stopped.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The database could not be opened, migrated or written.
    #[error("database: {0}")]
    Database(#[from] morcc_adapters::AdapterError),
    /// The socket could not be bound or the server failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// An address could not be listened on.
    #[error("cannot listen for {what} on {address}: {source}")]
    Listen {
        /// What was to be served there.
        what: &'static str,
        /// The address as given.
        address: String,
        /// Why not.
        source: std::io::Error,
    },
    /// An argument is not usable.
    #[error("{0}")]
    Invalid(String),
}
