//! One module per SCIM endpoint, named after the URL it serves.

pub mod bulk;
pub mod discovery;
pub mod groups;
pub mod health;
pub mod roles;
pub mod search;
pub mod users;

use axum::extract::Query;
use rollcall_scim::list::SearchRequest;
use rollcall_scim::render::Projection;
use rollcall_scim::schema::ResourceSchema;

/// Query parameters, looked up by name case-insensitively (clients differ in how they spell
/// `startIndex` and `excludedAttributes`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_query(Query(pairs): Query<Vec<(String, String)>>) -> Self {
        Params(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The list parameters of RFC 7644 §3.4.2.
    pub fn search_request(&self) -> Result<SearchRequest, rollcall_scim::Error> {
        let text = |name: &str| self.get(name).map(str::to_owned);
        Ok(SearchRequest {
            filter: text("filter"),
            start_index: self.integer("startIndex")?,
            count: self.integer("count")?,
            sort_by: text("sortBy"),
            sort_order: text("sortOrder"),
            attributes: text("attributes"),
            excluded_attributes: text("excludedAttributes"),
            cursor: text("cursor"),
        })
    }

    /// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5), on any read or write.
    pub fn projection(&self, schema: &ResourceSchema) -> Projection {
        Projection::parse(
            self.get("attributes"),
            self.get("excludedAttributes"),
            schema,
        )
    }

    /// An integer parameter; a value that is not an integer names the parameter in the error.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, rollcall_scim::Error> {
        self.get(name)
            .map(|text| {
                text.trim().parse::<i64>().map_err(|_| {
                    rollcall_scim::Error::invalid_value(
                        name,
                        format!("must be an integer, not {text:?}"),
                    )
                })
            })
            .transpose()
    }
}

/// A header's value as text, when it is valid text.
pub fn header_text(headers: &axum::http::HeaderMap, name: axum::http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
