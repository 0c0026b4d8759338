//! Operations on SCIM resources, independent of how the request arrived: the resource routes,
//! `POST /.search` and `/Bulk` all call these.

pub mod groups;
pub mod users;

use rollcall_scim::list::{
    CursorPosition, Paging, SortSpec, cursor_list_response, encode_cursor, list_response,
};
use serde_json::Value;

use crate::error::ApiError;

/// The list response for either paging: index (RFC 7644 §3.4.2.4) or cursor (RFC 9865).
pub fn list_body(
    total: usize,
    paging: &Paging,
    sort: Option<&SortSpec>,
    next: Option<&CursorPosition>,
    resources: Vec<Value>,
) -> Value {
    match paging {
        Paging::Index(page) => list_response(total, *page, resources),
        Paging::Cursor { .. } => {
            let next = next.map(|position| encode_cursor(position, sort));
            cursor_list_response(total, resources, next)
        }
    }
}

/// The weak entity tag of a resource version (RFC 7644 §3.14).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// True when a comma-separated list of entity tags names `version` or `*`.
pub fn lists_tag(tags: &str, version: &str) -> bool {
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == version)
}

/// RFC 7644 §3.14: a write with `If-Match` applies only to the version it names.
pub fn check_if_match(if_match: Option<&str>, version: i64, kind: &str) -> Result<(), ApiError> {
    let current = etag(version);
    match if_match {
        Some(tags) if !lists_tag(tags, &current) => Err(ApiError::PreconditionFailed(format!(
            "the {kind} is at version {current}, not the one If-Match names"
        ))),
        _ => Ok(()),
    }
}
