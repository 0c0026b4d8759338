//! rollcall's storage layer: the [`Store`] trait, its data types, and its two backends.
//!
//! The store keeps workspaces, SCIM tokens (hashes only) and users. It knows nothing of HTTP:
//! callers hand it validated documents and the values to index, and it answers with records.
//! Every method that writes commits before it returns, so a caller that answers 2xx after an
//! `Ok` never loses that write.
//!
//! Layout:
//! - [`ids`]: the id newtypes (`WorkspaceId`, `ResourceId`, `TokenId`).
//! - [`model`]: records and the inputs of writes.
//! - [`store`]: the [`Store`] trait every backend implements.
//! - [`sqlite`]: the embedded default backend.
//! - [`postgres`]: the backend for many nodes on one PostgreSQL database.
//! - [`error`]: the store's error type, [`StoreError`].
//! - [`testing`]: throwaway PostgreSQL schemas for test suites.

mod columns;
pub mod error;
mod filterable;
pub mod ids;
pub mod model;
pub mod postgres;
pub mod sqlite;
pub mod store;
pub mod testing;

pub use error::StoreError;
pub use ids::{ResourceId, TokenId, WorkspaceId};
pub use model::*;
pub use store::{Store, WorkspaceChange};

/// How to open a store, beyond its URL.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    /// The most connections a PostgreSQL store keeps (ignored by SQLite).
    pub pool_size: u32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            pool_size: postgres::DEFAULT_POOL_SIZE,
        }
    }
}

/// Which backend a database URL names, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl<'a> {
    Sqlite(&'a str),
    Postgres(&'a str),
}

impl<'a> DatabaseUrl<'a> {
    /// Reads `sqlite://PATH` (or a bare path) and `postgres://…` / `postgresql://…`.
    pub fn parse(url: &'a str) -> Result<DatabaseUrl<'a>, StoreError> {
        let path = if let Some(rest) = url.strip_prefix("sqlite://") {
            rest
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            rest
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url));
        } else if url.contains("://") {
            return Err(StoreError::Unsupported(format!(
                "unknown database URL {url:?}; use sqlite://PATH or postgres://..."
            )));
        } else {
            url
        };
        if path.is_empty() {
            return Err(StoreError::Unsupported(
                "the sqlite:// URL names no file".to_owned(),
            ));
        }
        Ok(DatabaseUrl::Sqlite(path))
    }
}

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path) for SQLite,
/// `postgres://…` for PostgreSQL.
///
/// A SQLite file is created when missing; either schema is migrated to this build's version.
/// Blocks while it connects and migrates, so an async caller should open stores at start-up.
pub fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    open_with(url, OpenOptions::default())
}

/// [`open`] with options.
pub fn open_with(url: &str, options: OpenOptions) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(path) => Ok(std::sync::Arc::new(sqlite::SqliteStore::open(path)?)),
        DatabaseUrl::Postgres(url) => {
            // The synchronous client runs its own runtime, which must not start on a thread
            // that is inside tokio's: connect and migrate on a thread of its own.
            let url = url.to_owned();
            let store =
                std::thread::spawn(move || postgres::PostgresStore::open(&url, options.pool_size))
                    .join()
                    .map_err(|_| {
                        StoreError::Internal("opening PostgreSQL panicked".to_owned())
                    })??;
            Ok(std::sync::Arc::new(store))
        }
    }
}

/// The key under which case-insensitive values (`userName`, email addresses) are unique and
/// looked up. Computed here, not by the database, so that every backend folds case the same way.
pub fn fold_case(value: &str) -> String {
    value.to_lowercase()
}
