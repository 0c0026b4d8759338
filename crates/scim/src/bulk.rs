//! The `BulkRequest` message (RFC 7644 §3.7) and its `bulkId` references.
//!
//! Parsing checks the shape of every operation before any runs, so a malformed request writes
//! nothing. Running the operations is the server's job; this module resolves the
//! `bulkId:NAME` references an operation makes to resources created earlier in the request.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::resource::get_ci;
use crate::schema::BULK_REQUEST;

/// The HTTP method of one bulk operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }
}

/// One entry of `Operations`.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    pub method: BulkMethod,
    pub bulk_id: Option<String>,
    /// `/Users` or `/Users/{id}`, possibly `/Users/bulkId:NAME`.
    pub path: String,
    pub data: Option<Value>,
    /// An entity tag the resource must still have, like `If-Match`.
    pub version: Option<String>,
}

/// A parsed `BulkRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors; `None` runs every operation.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkOperation>,
}

/// Reads a `BulkRequest` message.
pub fn parse_bulk_request(body: &Value) -> Result<BulkRequest, Error> {
    let Value::Object(fields) = body else {
        return Err(Error::InvalidSyntax(
            "the request body must be a JSON object".to_owned(),
        ));
    };
    let names_bulk = get_ci(fields, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|uris| uris.iter().any(|uri| uri.as_str() == Some(BULK_REQUEST)));
    if !names_bulk {
        return Err(Error::InvalidSyntax(format!(
            "schemas must be [\"{BULK_REQUEST}\"]"
        )));
    }
    let fail_on_errors = match get_ci(fields, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n > 0 => Some(n),
            _ => {
                return Err(Error::invalid_value(
                    "failOnErrors",
                    "must be an integer of 1 or more",
                ));
            }
        },
        Some(_) => {
            return Err(Error::invalid_value(
                "failOnErrors",
                "must be an integer of 1 or more",
            ));
        }
    };
    let Some(Value::Array(operations)) = get_ci(fields, "Operations") else {
        return Err(Error::InvalidSyntax(
            "a BulkRequest needs an \"Operations\" array".to_owned(),
        ));
    };
    let operations = operations
        .iter()
        .enumerate()
        .map(|(index, operation)| parse_operation(index, operation))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BulkRequest {
        fail_on_errors,
        operations,
    })
}

fn parse_operation(index: usize, operation: &Value) -> Result<BulkOperation, Error> {
    let Value::Object(fields) = operation else {
        return Err(Error::InvalidSyntax(format!(
            "Operations[{index}] must be a JSON object"
        )));
    };
    let method = match string(fields, "method") {
        Some(m) if m.eq_ignore_ascii_case("POST") => BulkMethod::Post,
        Some(m) if m.eq_ignore_ascii_case("PUT") => BulkMethod::Put,
        Some(m) if m.eq_ignore_ascii_case("PATCH") => BulkMethod::Patch,
        Some(m) if m.eq_ignore_ascii_case("DELETE") => BulkMethod::Delete,
        Some(m) => {
            return Err(Error::InvalidSyntax(format!(
                "Operations[{index}].method is {m:?}; it must be POST, PUT, PATCH or DELETE"
            )));
        }
        None => {
            return Err(Error::InvalidSyntax(format!(
                "Operations[{index}] needs a \"method\""
            )));
        }
    };
    let path = string(fields, "path")
        .ok_or_else(|| Error::InvalidSyntax(format!("Operations[{index}] needs a \"path\"")))?;
    let bulk_id = string(fields, "bulkId").map(str::to_owned);
    if method == BulkMethod::Post && bulk_id.is_none() {
        // RFC 7644 §3.7: bulkId is required for POST, so its result can be told apart.
        return Err(Error::InvalidSyntax(format!(
            "Operations[{index}] (POST) needs a \"bulkId\""
        )));
    }
    let data = get_ci(fields, "data").filter(|v| !v.is_null()).cloned();
    if method != BulkMethod::Delete && data.is_none() {
        return Err(Error::InvalidSyntax(format!(
            "Operations[{index}] ({}) needs \"data\"",
            method.as_str()
        )));
    }
    Ok(BulkOperation {
        method,
        bulk_id,
        path: path.to_owned(),
        data,
        version: string(fields, "version").map(str::to_owned),
    })
}

fn string<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    get_ci(fields, name).and_then(Value::as_str)
}

const REFERENCE: &str = "bulkId:";

/// Replaces every `bulkId:NAME` (in a path, or as a whole string value anywhere in `data`) with
/// the id the earlier operation `NAME` created. Fails naming the first unknown reference.
pub fn resolve_references(
    value: &mut Value,
    created: &HashMap<String, String>,
) -> Result<(), String> {
    match value {
        Value::String(text) => {
            if let Some(name) = text.strip_prefix(REFERENCE) {
                let id = created.get(name).ok_or_else(|| name.to_owned())?;
                *text = id.clone();
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|item| resolve_references(item, created)),
        Value::Object(fields) => fields
            .values_mut()
            .try_for_each(|item| resolve_references(item, created)),
        _ => Ok(()),
    }
}

/// Resolves a `bulkId:NAME` last segment of a path like `/Users/bulkId:NAME`.
pub fn resolve_path(path: &str, created: &HashMap<String, String>) -> Result<String, String> {
    match path.rsplit_once('/') {
        Some((prefix, last)) => match last.strip_prefix(REFERENCE) {
            Some(name) => created
                .get(name)
                .map(|id| format!("{prefix}/{id}"))
                .ok_or_else(|| name.to_owned()),
            None => Ok(path.to_owned()),
        },
        None => Ok(path.to_owned()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_operations_and_refuses_malformed_ones() {
        let body = json!({
            "schemas": [BULK_REQUEST],
            "failOnErrors": 1,
            "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "x"}},
                {"method": "delete", "path": "/Users/bulkId:a", "version": "W/\"1\""}
            ]
        });
        let request = parse_bulk_request(&body).unwrap();
        assert_eq!(request.fail_on_errors, Some(1));
        assert_eq!(request.operations[1].method, BulkMethod::Delete);
        assert_eq!(request.operations[1].version.as_deref(), Some("W/\"1\""));

        let body = json!({"schemas": [BULK_REQUEST], "Operations": [{"method": "POST", "path": "/Users", "data": {}}]});
        assert_eq!(
            parse_bulk_request(&body).unwrap_err(),
            Error::InvalidSyntax("Operations[0] (POST) needs a \"bulkId\"".to_owned())
        );
        let body =
            json!({"schemas": [BULK_REQUEST], "Operations": [{"method": "GET", "path": "/Users"}]});
        assert_eq!(
            parse_bulk_request(&body).unwrap_err(),
            Error::InvalidSyntax(
                "Operations[0].method is \"GET\"; it must be POST, PUT, PATCH or DELETE".to_owned()
            )
        );
    }

    #[test]
    fn resolves_references_in_paths_and_values() {
        let created = HashMap::from([("a".to_owned(), "id-1".to_owned())]);
        assert_eq!(
            resolve_path("/Users/bulkId:a", &created).unwrap(),
            "/Users/id-1"
        );
        assert_eq!(resolve_path("/Users/bulkId:b", &created).unwrap_err(), "b");
        let mut data = json!({"members": [{"value": "bulkId:a"}], "note": "not bulkId:a"});
        resolve_references(&mut data, &created).unwrap();
        assert_eq!(
            data,
            json!({"members": [{"value": "id-1"}], "note": "not bulkId:a"})
        );
    }
}
