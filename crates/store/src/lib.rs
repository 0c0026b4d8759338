//! rollcall's storage layer: the [`Store`] trait, its data types, and the SQLite backend.
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
//! - [`error`]: the store's error type, [`StoreError`].

pub mod error;
pub mod ids;
pub mod model;
pub mod sqlite;
pub mod store;

pub use error::StoreError;
pub use ids::{ResourceId, TokenId, WorkspaceId};
pub use model::*;
pub use store::{Store, WorkspaceChange};

/// Opens the store a database URL names: `sqlite://PATH` (or a bare path) for SQLite.
///
/// The file is created, and the schema migrated, when missing.
pub fn open(url: &str) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        rest
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(StoreError::Unsupported(
            "PostgreSQL is not supported by this build yet; use a sqlite:// URL".to_owned(),
        ));
    } else if url.contains("://") {
        return Err(StoreError::Unsupported(format!(
            "unknown database URL {url:?}; use sqlite://PATH"
        )));
    } else {
        url
    };
    if path.is_empty() {
        return Err(StoreError::Unsupported(
            "the sqlite:// URL names no file".to_owned(),
        ));
    }
    Ok(std::sync::Arc::new(sqlite::SqliteStore::open(path)?))
}

/// The key under which case-insensitive values (`userName`, email addresses) are unique and
/// looked up. Computed here, not by the database, so that every backend folds case the same way.
pub fn fold_case(value: &str) -> String {
    value.to_lowercase()
}
