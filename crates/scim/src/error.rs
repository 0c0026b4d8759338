//! The protocol core's error type and the SCIM Error message of RFC 7644 §3.12.
//!
//! The core only says what went wrong; the server decides the HTTP status in one place. Each
//! variant names the attribute, path or filter position the client has to fix.

use serde::Serialize;
use serde_json::Value;

use crate::schema::ERROR;

/// What went wrong while reading or applying a client's request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A filter that does not parse or uses an operator the attribute cannot take.
    #[error("{message} at position {offset} of the filter")]
    InvalidFilter { offset: usize, message: String },

    /// A PATCH path or an attribute path that does not parse or names no attribute.
    #[error("invalid path {path:?}: {message}")]
    InvalidPath { path: String, message: String },

    /// A request body that is not a well-formed SCIM message.
    #[error("{0}")]
    InvalidSyntax(String),

    /// A value of the wrong type, outside the canonical values, or missing when required.
    #[error("{attribute}: {message}")]
    InvalidValue { attribute: String, message: String },

    /// A write to an attribute the client may not change.
    #[error("{attribute} is {mutability} and cannot be changed")]
    Mutability {
        attribute: String,
        mutability: &'static str,
    },

    /// A PATCH whose value filter selected nothing, or a remove without a path.
    #[error("{0}")]
    NoTarget(String),

    /// A `cursor` the service provider did not issue for this list (RFC 9865).
    #[error("{0}")]
    InvalidCursor(String),

    /// A request that exceeds a limit the service provider advertises.
    #[error("{0}")]
    TooMany(String),
}

impl Error {
    pub fn invalid_value(attribute: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidValue {
            attribute: attribute.into(),
            message: message.into(),
        }
    }

    pub fn invalid_path(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidPath {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The RFC 7644 §3.12 `scimType` keyword for this error.
    pub fn scim_type(&self) -> ScimType {
        match self {
            Error::InvalidFilter { .. } => ScimType::InvalidFilter,
            Error::InvalidPath { .. } => ScimType::InvalidPath,
            Error::InvalidSyntax(_) => ScimType::InvalidSyntax,
            Error::InvalidValue { .. } => ScimType::InvalidValue,
            Error::Mutability { .. } => ScimType::Mutability,
            Error::NoTarget(_) => ScimType::NoTarget,
            Error::TooMany(_) => ScimType::TooMany,
            Error::InvalidCursor(_) => ScimType::InvalidCursor,
        }
    }
}

/// RFC 7644 §3.12, Table 9: the detail error keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
    /// RFC 9865.
    InvalidCursor,
    /// RFC 9865; rollcall's cursors do not expire, so it never answers this one.
    ExpiredCursor,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::ExpiredCursor => "expiredCursor",
        }
    }
}

/// The SCIM Error message body (RFC 7644 §3.12). `status` is a string on the wire.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorResponse {
    schemas: [&'static str; 1],
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    scim_type: Option<&'static str>,
    detail: String,
    status: String,
}

impl ErrorResponse {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ErrorResponse {
            schemas: [ERROR],
            scim_type: scim_type.map(ScimType::as_str),
            detail: detail.into(),
            status: status.to_string(),
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
