//! `sortBy` (RFC 7644 §3.4.2.3) and cursor positions (RFC 9865), exactly as the SQLite
//! backend's `sort` module computes them, so that both backends list users in one order and
//! hand out the same cursors.
//!
//! A sort key is what SQLite's key expression yields, as a [`SortKey`]: indexed attributes read
//! their key columns; other attributes read the stored body as `json_extract` does (JSON
//! booleans become 0 and 1), folded with `fold_case` when they are text that is not case-exact
//! (and NULL when they are not text); a multi-valued attribute sorts by its primary value, else
//! its first. Keys compare as SQLite compares values: numbers before text, integers and reals
//! by value, text byte by byte. Rows without a key come after the others in ascending order and
//! before them in descending order, and ties, like lists without `sortBy`, follow `seq`.

use std::cmp::Ordering;

use postgres::Row;
use rollcall_scim::list::{CursorPosition, SortSpec};
use serde_json::Value;

use super::Params;
use crate::fold_case;

/// One row's sort key, a value of one of SQLite's storage classes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SortKey {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

/// A sort key that is a column of `users`.
#[derive(Debug, Clone, Copy)]
pub(super) struct KeyColumn {
    /// The key's SQL over the alias `u`.
    pub sql: &'static str,
    kind: ColumnKind,
    nullable: bool,
}

/// How SQLite keeps a key column, which decides how it converts a cursor's value (its type
/// affinity) and how PostgreSQL reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Text,
    Integer,
    /// `active`, a boolean that SQLite keeps as 0 and 1.
    Flag,
}

/// The key column of a sort, when it has one: the attributes SQLite sorts by an indexed
/// column (already folded where not case-exact), `id`, and the timestamps.
pub(super) fn key_column(spec: &SortSpec) -> Option<KeyColumn> {
    let column = |sql, kind, nullable| {
        Some(KeyColumn {
            sql,
            kind,
            nullable,
        })
    };
    if spec.extension.is_some() {
        return None;
    }
    match (spec.name.as_str(), spec.sub.as_deref()) {
        ("id", None) => column("u.id", ColumnKind::Text, false),
        ("userName", None) => column("u.user_name_key", ColumnKind::Text, false),
        ("displayName", None) => column("u.display_name_key", ColumnKind::Text, false),
        ("email", None) => column("u.email_key", ColumnKind::Text, false),
        ("externalId", None) => column("u.external_id", ColumnKind::Text, true),
        ("active", None) => column("(u.active::int)", ColumnKind::Flag, true),
        ("meta", Some("created")) => column("u.created_at", ColumnKind::Integer, false),
        ("meta", Some("lastModified")) => column("u.updated_at", ColumnKind::Integer, false),
        _ => None,
    }
}

impl KeyColumn {
    /// The key in column `index` of a row that selected [`KeyColumn::sql`].
    pub(super) fn read(&self, row: &Row, index: usize) -> Result<SortKey, postgres::Error> {
        Ok(match self.kind {
            ColumnKind::Text => row
                .try_get::<_, Option<String>>(index)?
                .map_or(SortKey::Null, SortKey::Text),
            ColumnKind::Integer => row
                .try_get::<_, Option<i64>>(index)?
                .map_or(SortKey::Null, SortKey::Integer),
            ColumnKind::Flag => row
                .try_get::<_, Option<i32>>(index)?
                .map_or(SortKey::Null, |flag| SortKey::Integer(i64::from(flag))),
        })
    }

    /// The cursor's key as SQLite compares it with this column, converted to the column's type
    /// affinity: numbers become text for a text column, and numeric text becomes a number for
    /// an integer column.
    pub(super) fn cursor_key(&self, key: &Value) -> SortKey {
        let key = SortKey::from_json(key);
        match (self.kind, key) {
            (ColumnKind::Text, SortKey::Integer(number)) => SortKey::Text(number.to_string()),
            (ColumnKind::Text, SortKey::Real(number)) => SortKey::Text(format!("{number:?}")),
            (ColumnKind::Integer | ColumnKind::Flag, SortKey::Text(text)) => numeric_text(text),
            (_, key) => key,
        }
    }
}

/// `ORDER BY` for a key column (none: insertion order), as SQLite orders.
pub(super) fn order_by(key: Option<&KeyColumn>, descending: bool) -> String {
    match (key, descending) {
        (None, _) => "u.seq".to_owned(),
        (Some(key), false) if !key.nullable => format!("{}, u.seq", key.sql),
        (Some(key), true) if !key.nullable => format!("{} DESC, u.seq", key.sql),
        (Some(key), false) => format!("{0} IS NULL, {0}, u.seq", key.sql),
        (Some(key), true) => format!("{0} IS NULL DESC, {0} DESC, u.seq", key.sql),
    }
}

/// The condition selecting the rows after `position` in the order of [`order_by`].
pub(super) fn after(
    key: Option<&KeyColumn>,
    descending: bool,
    position: &CursorPosition,
    params: &mut Params,
) -> String {
    let seq = params.bind(position.seq);
    let Some(key) = key else {
        return format!("u.seq > {seq}");
    };
    let column = key.sql;
    // The last key as a value PostgreSQL compares with the column (a text column's cursor key
    // is always text), or `None` for a text in an integer column, which SQLite ranks above
    // every number.
    let last = match key.cursor_key(&position.key) {
        SortKey::Null if descending => {
            return format!("(({column} IS NULL AND u.seq > {seq}) OR {column} IS NOT NULL)");
        }
        SortKey::Null => return format!("({column} IS NULL AND u.seq > {seq})"),
        SortKey::Text(text) if key.kind == ColumnKind::Text => Some(params.bind(text)),
        SortKey::Text(_) => None,
        SortKey::Integer(number) => Some(format!("{}::bigint", params.bind(number))),
        SortKey::Real(number) => Some(format!("{}::float8", params.bind(number))),
    };
    let (above, equal, below) = match last {
        Some(last) => (
            format!("{column} > {last}"),
            format!("{column} = {last}"),
            format!("{column} < {last}"),
        ),
        None => (
            "FALSE".to_owned(),
            "FALSE".to_owned(),
            format!("{column} IS NOT NULL"),
        ),
    };
    if descending {
        format!("({below} OR ({equal} AND u.seq > {seq}))")
    } else {
        format!("({above} OR ({equal} AND u.seq > {seq}) OR {column} IS NULL)")
    }
}

/// The sort key of a stored body for a sort that has no key column, as SQLite's key expression
/// computes it.
pub(super) fn body_key(body: &Value, spec: &SortSpec) -> SortKey {
    let container = match &spec.extension {
        Some(urn) => body.get(urn),
        None => Some(body),
    };
    let raw = match container.and_then(|container| container.get(&spec.name)) {
        None => SortKey::Null,
        Some(value) if spec.multi_valued => multi_valued_key(value, spec.sub.as_deref()),
        Some(value) => match &spec.sub {
            Some(sub) => sub_key(value, sub),
            None => SortKey::from_json(value),
        },
    };
    match raw {
        SortKey::Text(text) if !spec.case_exact => SortKey::Text(fold_case(&text)),
        // SQLite folds with `rc_fold`, which is NULL for anything but text.
        _ if !spec.case_exact => SortKey::Null,
        key => key,
    }
}

/// The key of a multi-valued attribute: the sub-attribute of its primary element, else of its
/// first; without a sub-attribute, its first element. The elements are those `json_each`
/// walks: an array's items, an object's member values, or a single value itself.
fn multi_valued_key(value: &Value, sub: Option<&str>) -> SortKey {
    let elements: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(members) => members.values().collect(),
        single => vec![single],
    };
    let Some(sub) = sub else {
        return elements
            .first()
            .map_or(SortKey::Null, |first| SortKey::from_json(first));
    };
    // SQLite's test is `json_extract(element, '$.primary') = 1`.
    let is_primary = |element: &&&Value| match element.get("primary") {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_f64() == Some(1.0),
        _ => false,
    };
    let primary = elements
        .iter()
        .find(is_primary)
        .map_or(SortKey::Null, |element| sub_key(element, sub));
    if primary != SortKey::Null {
        return primary;
    }
    elements
        .first()
        .map_or(SortKey::Null, |first| sub_key(first, sub))
}

/// `json_extract(value, '$.sub')`. SQLite fails the whole query on an element that is a bare
/// string; here it has no key, as other values that are not objects have none.
fn sub_key(value: &Value, sub: &str) -> SortKey {
    value.get(sub).map_or(SortKey::Null, SortKey::from_json)
}

/// Orders two rows by key and `seq` (the `ORDER BY` of [`order_by`]).
pub(super) fn compare_rows(
    (a, a_seq): (&SortKey, i64),
    (b, b_seq): (&SortKey, i64),
    descending: bool,
) -> Ordering {
    let nulls = (*a == SortKey::Null).cmp(&(*b == SortKey::Null));
    let keys = a.compare(b);
    let by_key = if descending {
        nulls.reverse().then(keys.reverse())
    } else {
        nulls.then(keys)
    };
    by_key.then(a_seq.cmp(&b_seq))
}

impl SortKey {
    /// A JSON value as `json_extract` returns it; also how SQLite binds a cursor's key.
    pub(super) fn from_json(value: &Value) -> SortKey {
        match value {
            Value::Null => SortKey::Null,
            Value::Bool(flag) => SortKey::Integer(i64::from(*flag)),
            Value::Number(number) => match number.as_i64() {
                Some(integer) => SortKey::Integer(integer),
                None => number.as_f64().map_or(SortKey::Null, SortKey::Real),
            },
            Value::String(text) => SortKey::Text(text.clone()),
            Value::Array(_) | Value::Object(_) => SortKey::Text(value.to_string()),
        }
    }

    /// The key as it goes into a cursor, as SQLite's `key_value` writes it.
    pub(super) fn to_json(&self) -> Value {
        match self {
            SortKey::Null => Value::Null,
            SortKey::Integer(integer) => Value::from(*integer),
            SortKey::Real(real) => {
                serde_json::Number::from_f64(*real).map_or(Value::Null, Value::Number)
            }
            SortKey::Text(text) => Value::String(text.clone()),
        }
    }

    /// SQLite's order of two values (NULL first): numbers by value, then text by bytes.
    fn compare(&self, other: &SortKey) -> Ordering {
        use SortKey::{Integer, Null, Real, Text};
        let class = |key: &SortKey| match key {
            Null => 0,
            Integer(_) | Real(_) => 1,
            Text(_) => 2,
        };
        match (self, other) {
            (Integer(a), Integer(b)) => a.cmp(b),
            (Text(a), Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Integer(_) | Real(_), Integer(_) | Real(_)) => {
                let number = |key: &SortKey| match key {
                    Integer(integer) => *integer as f64,
                    Real(real) => *real,
                    Null | Text(_) => 0.0,
                };
                number(self)
                    .partial_cmp(&number(other))
                    .unwrap_or(Ordering::Equal)
            }
            _ => class(self).cmp(&class(other)),
        }
    }
}

/// A text converted to a number as SQLite converts it for an integer column (numeric
/// affinity): when it reads as an integer or a real, spaces around it aside.
fn numeric_text(text: String) -> SortKey {
    let trimmed = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if let Ok(integer) = trimmed.parse::<i64>() {
        return SortKey::Integer(integer);
    }
    let numeric = !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
    match trimmed.parse::<f64>() {
        Ok(real) if numeric && real.is_finite() => SortKey::Real(real),
        _ => SortKey::Text(text),
    }
}
