//! Query parameters of a list request and the `ListResponse` message (RFC 7644 §3.4.2).

use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::render::Projection;
use crate::resource::get_ci;
use crate::schema::{LIST_RESPONSE, ResourceSchema, SEARCH_REQUEST};

/// The most resources one page returns, whatever `count` asks for (advertised as
/// `filter.maxResults` in `/ServiceProviderConfig`).
pub const MAX_PAGE_SIZE: usize = 1000;

/// The page size when the client sends no `count`.
pub const DEFAULT_PAGE_SIZE: usize = 100;

/// `startIndex` and `count` after the RFC 7644 §3.4.2.4 rules: a `startIndex` below 1 means 1, a
/// negative `count` means 0, and `count` is clamped to [`MAX_PAGE_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based index of the first result.
    pub start_index: usize,
    pub count: usize,
}

impl Page {
    pub fn new(start_index: Option<i64>, count: Option<i64>) -> Page {
        let start_index = start_index.unwrap_or(1).max(1);
        let count = count.map_or(DEFAULT_PAGE_SIZE as i64, |c| c.max(0));
        Page {
            start_index: usize::try_from(start_index).unwrap_or(usize::MAX),
            count: usize::try_from(count)
                .unwrap_or(MAX_PAGE_SIZE)
                .min(MAX_PAGE_SIZE),
        }
    }

    /// The number of results to skip.
    pub fn offset(&self) -> usize {
        self.start_index - 1
    }
}

/// The parameters of a list request, from a query string (RFC 7644 §3.4.2) or from the body of
/// `POST /.search` (§3.4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
    /// Comma-separated, as in a query string.
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
    pub cursor: Option<String>,
}

impl SearchRequest {
    /// Reads a `SearchRequest` message (RFC 7644 §3.4.3).
    pub fn from_body(body: &Value) -> Result<SearchRequest, Error> {
        let Value::Object(fields) = body else {
            return Err(Error::InvalidSyntax(
                "the request body must be a JSON object".to_owned(),
            ));
        };
        if let Some(schemas) = get_ci(fields, "schemas") {
            let names_search = schemas
                .as_array()
                .is_some_and(|uris| uris.iter().any(|uri| uri.as_str() == Some(SEARCH_REQUEST)));
            if !names_search {
                return Err(Error::InvalidSyntax(format!(
                    "schemas must be [\"{SEARCH_REQUEST}\"]"
                )));
            }
        }
        Ok(SearchRequest {
            filter: text(fields, "filter")?,
            start_index: integer(fields, "startIndex")?,
            count: integer(fields, "count")?,
            sort_by: text(fields, "sortBy")?,
            sort_order: text(fields, "sortOrder")?,
            attributes: names(fields, "attributes")?,
            excluded_attributes: names(fields, "excludedAttributes")?,
            cursor: text(fields, "cursor")?,
        })
    }

    /// The `attributes` and `excludedAttributes` of the request.
    pub fn projection(&self, schema: &ResourceSchema) -> Projection {
        Projection::parse(
            self.attributes.as_deref(),
            self.excluded_attributes.as_deref(),
            schema,
        )
    }
}

fn text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    match get_ci(fields, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(Error::invalid_value(name, "must be a string")),
    }
}

fn integer(fields: &Map<String, Value>, name: &str) -> Result<Option<i64>, Error> {
    match get_ci(fields, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| Error::invalid_value(name, "must be an integer")),
        Some(_) => Err(Error::invalid_value(name, "must be an integer")),
    }
}

/// `attributes` in a body is an array of names (RFC 7644 §3.4.3); a string is taken too.
fn names(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    match get_ci(fields, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(Value::Array(items)) => {
            let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            names
                .map(|names| Some(names.join(",")))
                .ok_or_else(|| Error::invalid_value(name, "must be an array of attribute names"))
        }
        Some(_) => Err(Error::invalid_value(
            name,
            "must be an array of attribute names",
        )),
    }
}

/// The RFC 7644 §3.4.2 list response.
pub fn list_response(total_results: usize, page: Page, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total_results,
        "startIndex": page.start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_search_request_body() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes": ["displayName", "userName"],
            "filter": "displayName sw \"smith\"",
            "startIndex": 1,
            "count": 10
        });
        assert_eq!(
            SearchRequest::from_body(&body).unwrap(),
            SearchRequest {
                filter: Some("displayName sw \"smith\"".to_owned()),
                start_index: Some(1),
                count: Some(10),
                attributes: Some("displayName,userName".to_owned()),
                ..SearchRequest::default()
            }
        );
        let err = SearchRequest::from_body(&json!({"count": "ten"})).unwrap_err();
        assert_eq!(err, Error::invalid_value("count", "must be an integer"));
    }

    #[test]
    fn clamps_start_index_and_count_as_the_rfc_says() {
        assert_eq!(
            Page::new(None, None),
            Page {
                start_index: 1,
                count: 100
            }
        );
        assert_eq!(
            Page::new(Some(-5), Some(-1)),
            Page {
                start_index: 1,
                count: 0
            }
        );
        assert_eq!(
            Page::new(Some(3), Some(1_000_000)),
            Page {
                start_index: 3,
                count: 1000
            }
        );
        assert_eq!(Page::new(Some(3), Some(2)).offset(), 2);
    }

    #[test]
    fn an_empty_result_is_a_list_with_zero_results() {
        let page = Page::new(None, None);
        assert_eq!(
            list_response(0, page, Vec::new()),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0,
                "startIndex": 1,
                "itemsPerPage": 0,
                "Resources": [],
            })
        );
    }
}
