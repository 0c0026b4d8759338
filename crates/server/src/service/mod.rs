//! Operations on SCIM resources, independent of how the request arrived: the resource routes,
//! `POST /.search` and `/Bulk` all call these.

pub mod groups;
pub mod users;

use crate::error::ApiError;

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
