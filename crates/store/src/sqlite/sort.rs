//! `sortBy` (RFC 7644 §3.4.2.3) and cursor positions (RFC 9865) in SQL.
//!
//! A sort key is one SQL expression per row. Indexed attributes use their key columns (already
//! folded); other attributes read the stored document, folded with `rc_fold` when they are
//! text that is not case-exact; a multi-valued attribute sorts by its primary value, else its
//! first. Rows without a value sort after every value in ascending order and before them in
//! descending order; ties, and lists without `sortBy`, follow insertion order (`seq`), so every
//! order is total and a cursor can resume it exactly.

use rollcall_scim::list::{CursorPosition, SortSpec};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

/// The SQL expression of a row's sort key (alias `alias`), pushing the JSON paths it needs as
/// parameters. `columns` maps indexed attributes to their key columns. `params` holds every
/// parameter of the statement so far, `?1` included, so a pushed value is `?{params.len()}`.
pub fn key_expression(
    spec: &SortSpec,
    alias: &str,
    columns: &[(&str, &str)],
    params: &mut Vec<SqlValue>,
) -> String {
    let named = match (&spec.extension, spec.name.as_str(), spec.sub.as_deref()) {
        (None, "meta", Some("created")) => Some("created_at"),
        (None, "meta", Some("lastModified")) => Some("updated_at"),
        (None, name, None) => columns
            .iter()
            .find(|(attribute, _)| *attribute == name)
            .map(|(_, column)| *column),
        _ => None,
    };
    if let Some(column) = named {
        return format!("{alias}.{column}");
    }

    let mut path = String::from("$");
    if let Some(urn) = &spec.extension {
        path.push_str(&format!(".{}", quote(urn)));
    }
    path.push_str(&format!(".{}", quote(&spec.name)));
    let raw = if spec.multi_valued {
        params.push(SqlValue::Text(path));
        let array = params.len();
        match &spec.sub {
            Some(sub) => {
                params.push(SqlValue::Text(format!("$.{}", quote(sub))));
                let value = params.len();
                format!(
                    "COALESCE(
                       (SELECT json_extract(j.value, ?{value}) FROM json_each({alias}.body, ?{array}) j
                        WHERE json_extract(j.value, '$.primary') = 1 LIMIT 1),
                       (SELECT json_extract(j.value, ?{value}) FROM json_each({alias}.body, ?{array}) j
                        LIMIT 1))"
                )
            }
            None => format!("(SELECT j.value FROM json_each({alias}.body, ?{array}) j LIMIT 1)"),
        }
    } else {
        if let Some(sub) = &spec.sub {
            path.push_str(&format!(".{}", quote(sub)));
        }
        params.push(SqlValue::Text(path));
        format!("json_extract({alias}.body, ?{})", params.len())
    };
    if spec.case_exact {
        raw
    } else {
        format!("rc_fold({raw})")
    }
}

/// `ORDER BY` for a key: missing values last when ascending, first when descending.
pub fn order_by(key: Option<&str>, descending: bool, alias: &str) -> String {
    match (key, descending) {
        (None, _) => format!("{alias}.seq"),
        (Some(key), false) => format!("({key}) IS NULL, {key}, {alias}.seq"),
        (Some(key), true) => format!("({key}) IS NULL DESC, {key} DESC, {alias}.seq"),
    }
}

/// The condition selecting the rows after `position` in the order of [`order_by`].
pub fn after(
    key: Option<&str>,
    descending: bool,
    alias: &str,
    position: &CursorPosition,
    params: &mut Vec<SqlValue>,
) -> String {
    params.push(SqlValue::Integer(position.seq));
    let seq = format!("?{}", params.len());
    let Some(key) = key else {
        return format!("{alias}.seq > {seq}");
    };
    let last = match &position.key {
        Value::Null => None,
        Value::Bool(b) => Some(SqlValue::Integer(i64::from(*b))),
        Value::Number(n) => Some(match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        }),
        Value::String(s) => Some(SqlValue::Text(s.clone())),
        other => Some(SqlValue::Text(other.to_string())),
    };
    match (last, descending) {
        (None, false) => format!("(({key}) IS NULL AND {alias}.seq > {seq})"),
        (None, true) => {
            format!("((({key}) IS NULL AND {alias}.seq > {seq}) OR ({key}) IS NOT NULL)")
        }
        (Some(last), false) => {
            params.push(last);
            let last = format!("?{}", params.len());
            format!(
                "(({key}) > {last} OR (({key}) = {last} AND {alias}.seq > {seq}) OR ({key}) IS NULL)"
            )
        }
        (Some(last), true) => {
            params.push(last);
            let last = format!("?{}", params.len());
            format!("(({key}) < {last} OR (({key}) = {last} AND {alias}.seq > {seq}))")
        }
    }
}

/// A stored sort key as it goes into a cursor.
pub fn key_value(value: SqlValue) -> Value {
    match value {
        SqlValue::Null | SqlValue::Blob(_) => Value::Null,
        SqlValue::Integer(i) => Value::from(i),
        SqlValue::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        SqlValue::Text(s) => Value::String(s),
    }
}

/// Quotes one key of a JSON path, so that URNs and odd names stay one key.
fn quote(key: &str) -> String {
    format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
}
