//! The documents filters are evaluated on, the same for every backend.
//!
//! A stored body has neither `id` nor `meta`; a filter may test both. Where a backend evaluates
//! a filter in memory (PostgreSQL), it evaluates it on this document; where it translates the
//! filter to SQL (SQLite), the translation is held to agree with the evaluator on it.

use serde_json::Value;

use crate::model::UserRecord;

/// The document a filter on users sees: the stored body plus `id` and the `meta` values it can
/// test.
pub(crate) fn user(record: &UserRecord) -> Value {
    let mut doc = record.body.clone();
    if let Value::Object(fields) = &mut doc {
        fields.insert("id".to_owned(), Value::String(record.id.to_string()));
        fields.insert(
            "meta".to_owned(),
            serde_json::json!({
                "resourceType": "User",
                "created": rollcall_scim::render::timestamp(record.created_at),
                "lastModified": rollcall_scim::render::timestamp(record.updated_at),
                "version": format!("W/\"{}\"", record.version),
            }),
        );
    }
    doc
}
