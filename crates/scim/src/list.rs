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
                .unwrap_or(usize::MAX)
                .min(crate::limits::limits().max_page_size),
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

    /// Reads the filter (checked against `schema`), the order and the paging of the request,
    /// the parts every resource type's list shares.
    pub fn plan(&self, schema: &ResourceSchema) -> Result<ListPlan, Error> {
        let filter = match self.filter.as_deref().filter(|f| !f.trim().is_empty()) {
            Some(text) => {
                let filter = crate::filter::parse_filter(text)?;
                crate::filter::check_filter(&filter, text, schema)?;
                Some(filter)
            }
            None => None,
        };
        let sort = parse_sort(self.sort_by.as_deref(), self.sort_order.as_deref(), schema)?;
        let paging = Paging::from_request(self, sort.as_ref())?;
        Ok(ListPlan {
            filter,
            sort,
            paging,
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

/// The filter, order and paging of a list request, read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPlan {
    pub filter: Option<crate::filter::Filter>,
    pub sort: Option<SortSpec>,
    pub paging: Paging,
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

/// `sortBy` and `sortOrder` (RFC 7644 §3.4.2.3), resolved against the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortSpec {
    /// The extension URN, or `None` for the core schema.
    pub extension: Option<String>,
    /// The attribute's canonical name (`meta` for `meta.created` and `meta.lastModified`).
    pub name: String,
    pub sub: Option<String>,
    pub descending: bool,
    /// Whether values compare as they are (`caseExact`), or case-folded.
    pub case_exact: bool,
    pub multi_valued: bool,
}

impl SortSpec {
    /// A short text naming the order, carried in cursors so that a cursor of one order is not
    /// used with another.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}:{}.{}:{}",
            self.extension.as_deref().unwrap_or(""),
            self.name,
            self.sub.as_deref().unwrap_or(""),
            if self.descending { "d" } else { "a" }
        )
    }
}

/// Reads `sortBy` and `sortOrder`. An attribute the schema does not know is `invalidPath`; a
/// `sortOrder` other than `ascending` or `descending` is `invalidValue`.
pub fn parse_sort(
    sort_by: Option<&str>,
    sort_order: Option<&str>,
    schema: &ResourceSchema,
) -> Result<Option<SortSpec>, Error> {
    let descending = match sort_order.map(str::trim) {
        None | Some("") => false,
        Some(order) if order.eq_ignore_ascii_case("ascending") => false,
        Some(order) if order.eq_ignore_ascii_case("descending") => true,
        Some(order) => {
            return Err(Error::invalid_value(
                "sortOrder",
                format!("{order:?} is neither ascending nor descending"),
            ));
        }
    };
    let Some(sort_by) = sort_by.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let path = crate::path::parse_patch_path(sort_by)?;
    if path.filter.is_some() {
        return Err(Error::invalid_path(
            sort_by,
            "sortBy takes an attribute, not a filter",
        ));
    }
    if path.attr.uri.is_none() && path.attr.name.eq_ignore_ascii_case("meta") {
        let sub = match path.attr.sub_attr.as_deref() {
            Some(sub) if sub.eq_ignore_ascii_case("created") => "created",
            Some(sub) if sub.eq_ignore_ascii_case("lastModified") => "lastModified",
            _ => {
                return Err(Error::invalid_path(
                    sort_by,
                    "only meta.created and meta.lastModified can be sorted on",
                ));
            }
        };
        return Ok(Some(SortSpec {
            extension: None,
            name: "meta".to_owned(),
            sub: Some(sub.to_owned()),
            descending,
            case_exact: true,
            multi_valued: false,
        }));
    }
    let resolved = schema
        .resolve(path.attr.uri.as_deref(), &path.attr.name)
        .ok_or_else(|| {
            Error::invalid_path(
                sort_by,
                format!("the {} resource has no such attribute", schema.name),
            )
        })?;
    let attribute = resolved.attribute;
    let (sub, target) = match path.attr.sub_attr.as_deref() {
        Some(sub) => {
            let found = attribute.sub_attribute(sub).ok_or_else(|| {
                Error::invalid_path(
                    sort_by,
                    format!("{} has no sub-attribute {sub:?}", attribute.name),
                )
            })?;
            (Some(found.name.clone()), found)
        }
        // RFC 7644 §3.4.2.3: a complex attribute sorts by its `value` sub-attribute.
        None if attribute.kind == crate::schema::AttributeType::Complex => {
            let value = attribute.sub_attribute("value").ok_or_else(|| {
                Error::invalid_path(
                    sort_by,
                    format!("{} has no value to sort on", attribute.name),
                )
            })?;
            (Some(value.name.clone()), value)
        }
        None => (None, attribute),
    };
    Ok(Some(SortSpec {
        extension: resolved.extension.map(str::to_owned),
        name: attribute.name.clone(),
        sub,
        descending,
        // Only text that is not case-exact is folded; other types compare as they are.
        case_exact: target.case_exact || target.kind != crate::schema::AttributeType::String,
        multi_valued: attribute.multi_valued,
    }))
}

/// Where a cursor-paged list stopped (RFC 9865): the sort key and row order of the last
/// resource returned.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPosition {
    /// The sort value of the last resource (`Null` when it had none or there is no `sortBy`).
    pub key: Value,
    /// The store's insertion order of the last resource, the tie-breaker of every order.
    pub seq: i64,
}

const CURSOR_PREFIX: &str = "c1";

/// Encodes a position as the opaque `nextCursor` value.
pub fn encode_cursor(position: &CursorPosition, sort: Option<&SortSpec>) -> String {
    let fingerprint = sort.map(SortSpec::fingerprint).unwrap_or_default();
    let payload = json!([fingerprint, position.key, position.seq]).to_string();
    let hex: String = payload.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{CURSOR_PREFIX}{hex}")
}

/// Decodes a `cursor` value; `invalidCursor` when it was not made by [`encode_cursor`] for the
/// same order.
pub fn decode_cursor(text: &str, sort: Option<&SortSpec>) -> Result<CursorPosition, Error> {
    let invalid = || {
        Error::InvalidCursor(format!(
            "the cursor {text:?} was not issued for this list; start again without a cursor \
             value"
        ))
    };
    let hex = text.strip_prefix(CURSOR_PREFIX).ok_or_else(invalid)?;
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    let payload: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    let fingerprint = sort.map(SortSpec::fingerprint).unwrap_or_default();
    match payload {
        Value::Array(items) if items.len() == 3 && items[0] == json!(fingerprint) => {
            let seq = items[2].as_i64().ok_or_else(invalid)?;
            Ok(CursorPosition {
                key: items[1].clone(),
                seq,
            })
        }
        _ => Err(invalid()),
    }
}

/// How a list is paged: by index (RFC 7644 §3.4.2.4) or by cursor (RFC 9865).
#[derive(Debug, Clone, PartialEq)]
pub enum Paging {
    Index(Page),
    /// `after` is `None` on the first page.
    Cursor {
        after: Option<CursorPosition>,
        count: usize,
    },
}

impl Paging {
    /// Chooses the paging a request asks for: a `cursor` parameter (even empty) means cursor
    /// paging, which cannot be combined with `startIndex`.
    pub fn from_request(request: &SearchRequest, sort: Option<&SortSpec>) -> Result<Paging, Error> {
        let page = Page::new(request.start_index, request.count);
        let Some(cursor) = request.cursor.as_deref() else {
            return Ok(Paging::Index(page));
        };
        if request.start_index.is_some() {
            return Err(Error::invalid_value(
                "cursor",
                "startIndex and cursor cannot be used together",
            ));
        }
        let after = match cursor.trim() {
            "" => None,
            text => Some(decode_cursor(text, sort)?),
        };
        Ok(Paging::Cursor {
            after,
            count: page.count,
        })
    }

    pub fn count(&self) -> usize {
        match self {
            Paging::Index(page) => page.count,
            Paging::Cursor { count, .. } => *count,
        }
    }
}

/// The list response of a cursor-paged list (RFC 9865): no `startIndex`, and a `nextCursor`
/// while more results follow.
pub fn cursor_list_response(
    total_results: usize,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Value {
    let mut out = json!({
        "schemas": [LIST_RESPONSE],
        "totalResults": total_results,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(next) = next_cursor {
        out["nextCursor"] = Value::String(next);
    }
    out
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
