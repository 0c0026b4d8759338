//! The one place where every failure becomes an HTTP answer: a SCIM Error body (RFC 7644
//! §3.12) with the status as a string and the right `scimType`.
//!
//! Each variant of [`ApiError`] maps to exactly one status in [`ApiError::into_response`]. A 5xx
//! carries a generic detail; its cause is logged once, here.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_scim::{ErrorResponse, ScimType};
use rollcall_store::StoreError;
use serde_json::Value;

use crate::response::SCIM_CONTENT_TYPE;

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request breaks a rule of the protocol core (filter, path, value, mutability…).
    #[error(transparent)]
    Scim(#[from] rollcall_scim::Error),

    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// No valid bearer token for this workspace. One answer for every cause, so that a caller
    /// learns nothing about which tokens or workspaces exist.
    #[error("unauthorized")]
    Unauthorized,

    /// The workspace exists and the token is valid, but the request is not allowed.
    #[error("{0}")]
    Forbidden(String),

    /// No such resource or endpoint.
    #[error("{0}")]
    NotFound(String),

    #[error("{0}")]
    MethodNotAllowed(String),

    /// The body is larger than the server accepts.
    #[error("{0}")]
    PayloadTooLarge(String),

    /// An `If-Match` that names another version.
    #[error("{0}")]
    PreconditionFailed(String),

    /// The workspace sent more requests than its rate allows; retry after the seconds given.
    #[error("too many requests")]
    TooManyRequests { retry_after: u64 },

    /// A feature this server does not offer; listed as unsupported in `/ServiceProviderConfig`.
    #[error("{0}")]
    NotImplemented(String),

    /// The server cannot take the request now (too many in flight, or it ran too long); the
    /// client should retry shortly.
    #[error("{0}")]
    Busy(String),

    /// The client did not send its body in time.
    #[error("{0}")]
    RequestTimeout(String),
}

impl ApiError {
    /// The status, `scimType` and detail of the SCIM Error this failure becomes. A server-side
    /// cause is logged here, once.
    pub fn describe(self) -> (StatusCode, Option<ScimType>, String) {
        use StatusCode as S;
        match self {
            ApiError::Scim(err) => (S::BAD_REQUEST, Some(err.scim_type()), err.to_string()),
            ApiError::Store(StoreError::NotFound) => {
                (S::NOT_FOUND, None, "resource not found".to_owned())
            }
            ApiError::Store(StoreError::Uniqueness { attribute }) => (
                S::CONFLICT,
                Some(ScimType::Uniqueness),
                format!("{attribute} is already taken in this workspace"),
            ),
            ApiError::Store(StoreError::UnknownMember { id }) => (
                S::BAD_REQUEST,
                Some(ScimType::InvalidValue),
                format!("members: {id:?} is not a user of this workspace"),
            ),
            ApiError::Store(StoreError::VersionConflict) => (
                S::CONFLICT,
                None,
                "the resource was changed by another request at the same time; retry".to_owned(),
            ),
            ApiError::Store(StoreError::Refused(reason)) => (S::CONFLICT, None, reason),
            ApiError::Busy(detail) => (S::SERVICE_UNAVAILABLE, None, detail),
            ApiError::RequestTimeout(detail) => (S::REQUEST_TIMEOUT, None, detail),
            ApiError::Store(StoreError::Unavailable(cause)) => {
                tracing::warn!(%cause, "store unavailable");
                (
                    S::SERVICE_UNAVAILABLE,
                    None,
                    "the directory is briefly unavailable; retry shortly".to_owned(),
                )
            }
            ApiError::Store(err @ (StoreError::Internal(_) | StoreError::Unsupported(_))) => {
                tracing::error!(cause = %err, "store failure");
                (
                    S::INTERNAL_SERVER_ERROR,
                    None,
                    "internal server error".to_owned(),
                )
            }
            ApiError::Unauthorized => (
                S::UNAUTHORIZED,
                None,
                "a valid bearer token for this workspace is required".to_owned(),
            ),
            ApiError::Forbidden(detail) => (S::FORBIDDEN, None, detail),
            ApiError::NotFound(detail) => (S::NOT_FOUND, None, detail),
            ApiError::MethodNotAllowed(detail) => (S::METHOD_NOT_ALLOWED, None, detail),
            ApiError::PayloadTooLarge(detail) => (S::PAYLOAD_TOO_LARGE, None, detail),
            ApiError::PreconditionFailed(detail) => (S::PRECONDITION_FAILED, None, detail),
            ApiError::NotImplemented(detail) => (S::NOT_IMPLEMENTED, None, detail),
            ApiError::TooManyRequests { retry_after } => (
                S::TOO_MANY_REQUESTS,
                None,
                format!(
                    "this workspace sent more requests than its rate allows; retry after \
                     {retry_after} s (Retry-After)"
                ),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after } => *retry_after,
            _ => 1,
        };
        let (status, scim_type, detail) = self.describe();
        let mut response = error_response(status, scim_type, detail);
        let headers = response.headers_mut();
        match status {
            StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::TOO_MANY_REQUESTS => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            _ => {}
        }
        response
    }
}

/// The SCIM Error body for a status.
pub fn error_body(status: StatusCode, scim_type: Option<ScimType>, detail: String) -> Value {
    ErrorResponse::new(status.as_u16(), scim_type, detail).to_json()
}

/// A SCIM Error response with the given status.
pub fn error_response(status: StatusCode, scim_type: Option<ScimType>, detail: String) -> Response {
    let summary = crate::request_log::ErrorSummary {
        scim_type: scim_type.map(|t| t.as_str().to_owned()),
        detail: detail.clone(),
    };
    let body = error_body(status, scim_type, detail);
    let mut response = (status, body.to_string()).into_response();
    response.extensions_mut().insert(summary);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    );
    response
}
