//! What can go wrong in the store.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(
        "the database has schema version {found} but this program knows only up to {known}; run a newer nonono"
    )]
    TooNew { found: usize, known: usize },
    #[error("{what} {id} does not exist")]
    Missing { what: &'static str, id: i64 },
}

impl StoreError {
    /// The database was busy or locked: trying again later may succeed.
    pub fn is_busy(&self) -> bool {
        match self {
            StoreError::Sqlite(e) => matches!(
                e.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            _ => false,
        }
    }
}

/// Result of store calls.
pub type Result<T> = std::result::Result<T, StoreError>;
