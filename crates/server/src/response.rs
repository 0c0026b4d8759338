//! Successful SCIM responses and the request body extractor.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;

/// RFC 7644 §3.1: the media type of every SCIM message.
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// A SCIM JSON response with optional `Location` and `ETag` headers.
#[derive(Debug)]
pub struct ScimJson {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
    pub etag: Option<String>,
}

impl ScimJson {
    pub fn ok(body: Value) -> Self {
        ScimJson {
            status: StatusCode::OK,
            body,
            location: None,
            etag: None,
        }
    }

    /// A resource response: `ETag` from `meta.version`, and `Location` from `meta.location`
    /// when the status is 201 (RFC 7644 §3.3).
    pub fn resource(status: StatusCode, body: Value, version: &str, location: &str) -> Self {
        ScimJson {
            status,
            body,
            location: (status == StatusCode::CREATED).then(|| location.to_owned()),
            etag: Some(version.to_owned()),
        }
    }
}

impl IntoResponse for ScimJson {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(SCIM_CONTENT_TYPE),
        );
        if let Some(value) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, value);
        }
        if let Some(value) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            headers.insert(header::ETAG, value);
        }
        (self.status, headers, self.body.to_string()).into_response()
    }
}

/// A JSON request body, whatever its declared media type (IdPs send `application/json`,
/// `application/scim+json`, and sometimes nothing), with failures as SCIM errors.
#[derive(Debug)]
pub struct ScimBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let audit = req.extensions().get::<crate::request_log::Audit>().cloned();
        let defaults = crate::guard::ServerLimits::default();
        let (deadline, max_bytes) = req
            .extensions()
            .get::<crate::guard::BodyDeadline>()
            .map_or((defaults.body_timeout, defaults.max_body_bytes), |d| {
                (d.0, d.1)
            });
        let reading = tokio::time::timeout(deadline, Bytes::from_request(req, state));
        let read = reading.await.map_err(|_| {
            ApiError::RequestTimeout(format!(
                "the request body did not arrive within {} ms",
                deadline.as_millis()
            ))
        })?;
        let bytes = read.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!(
                    "the request body is larger than {max_bytes} bytes"
                ))
            } else {
                ApiError::Scim(rollcall_scim::Error::InvalidSyntax(format!(
                    "the request body could not be read: {rejection}"
                )))
            }
        })?;
        if bytes.is_empty() {
            return Err(ApiError::Scim(rollcall_scim::Error::InvalidSyntax(
                "the request needs a JSON body".to_owned(),
            )));
        }
        let value = serde_json::from_slice(&bytes).map_err(|err| {
            if let Some(audit) = &audit {
                audit.unreadable_body(bytes.len());
            }
            ApiError::Scim(rollcall_scim::Error::InvalidSyntax(format!(
                "the request body is not valid JSON: {err}"
            )))
        })?;
        if let Some(audit) = &audit {
            audit.body(&value);
        }
        if let Some(place) = nul_character(&value, "") {
            return Err(ApiError::Scim(rollcall_scim::Error::InvalidSyntax(
                format!(
                    "the request body holds a NUL character (\\u0000) at {place}; rollcall stores \
                 no text with NUL characters"
                ),
            )));
        }
        Ok(ScimBody(value))
    }
}

/// Where a JSON document holds a NUL character, in a key or a string, as a JSON pointer
/// (`/emails/0/value`); `None` when it holds none. Neither backend can keep such text the
/// same way (PostgreSQL refuses it), so no body with one is accepted.
fn nul_character(value: &Value, at: &str) -> Option<String> {
    let place = |at: &str| {
        if at.is_empty() {
            "the top level".to_owned()
        } else {
            at.to_owned()
        }
    };
    match value {
        Value::String(text) if text.contains('\0') => Some(place(at)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_character(item, &format!("{at}/{index}"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let path = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
            if key.contains('\0') {
                Some(place(at))
            } else {
                nul_character(item, &path)
            }
        }),
        _ => None,
    }
}
