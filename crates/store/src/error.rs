//! The store's error type. The server maps each variant to one HTTP answer.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The workspace, token or resource does not exist (in this workspace).
    #[error("not found")]
    NotFound,

    /// A value that must be unique is taken; names the attribute (`userName`).
    #[error("{attribute} is already taken")]
    Uniqueness { attribute: &'static str },

    /// A member id that names no user of the workspace.
    #[error("no user {id:?} in this workspace")]
    UnknownMember { id: String },

    /// The resource changed since the caller read it.
    #[error("the resource changed since it was read")]
    VersionConflict,

    /// A rule of the workspace refused the change; the message says why.
    #[error("{0}")]
    Refused(String),

    /// The database cannot take the request now (locked, down, restarting).
    #[error("database unavailable: {0}")]
    Unavailable(String),

    /// The database URL names something this build cannot open.
    #[error("{0}")]
    Unsupported(String),

    /// A bug or corrupt data; the message is for the log, not for clients.
    #[error("internal store error: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Internal(err.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Internal(format!("stored JSON: {err}"))
    }
}

impl From<postgres::Error> for StoreError {
    /// Connection trouble is `Unavailable` (503 and a retry); anything else is a bug.
    fn from(err: postgres::Error) -> Self {
        if crate::postgres::is_unavailable(&err) {
            StoreError::Unavailable(err.to_string())
        } else {
            StoreError::Internal(err.to_string())
        }
    }
}

impl From<r2d2::Error> for StoreError {
    /// The pool gives up only when no connection could be had in time: the database is down,
    /// unreachable, or out of connections.
    fn from(err: r2d2::Error) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}
