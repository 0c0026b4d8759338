//! SQL functions registered on every connection, so that filters translated to SQL compare
//! values exactly as the in-memory evaluator (`rollcall_scim::filter::matches`) does.
//!
//! SQLite's own `lower()` folds ASCII only and its date functions round to milliseconds, so the
//! few rules that must agree with Rust to the byte live here, in Rust:
//! - `rc_fold(text)`: [`crate::fold_case`], Unicode lower case.
//! - `rc_timestamp(millis)`: the rendered `meta.created` text, as `render::timestamp` writes it.
//! - `rc_instant_cmp(a, b)`: -1, 0 or 1 when both texts are RFC 3339 date-times.
//! - `rc_number_text(number)`: a JSON number's text as serde_json prints it.
//!
//! Each returns NULL for an argument of another SQL type (json_extract gives 1 and 0 for JSON
//! booleans, so a boolean never passes for text), and all are deterministic so that SQLite may
//! evaluate them once per distinct argument.

use std::cmp::Ordering;

use chrono::DateTime;
use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

use crate::fold_case;

/// Registers the functions on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("rc_fold", 1, flags, |ctx| Ok(text(ctx, 0).map(fold_case)))?;
    conn.create_scalar_function("rc_timestamp", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Integer(millis) => {
                DateTime::from_timestamp_millis(millis).map(rollcall_scim::render::timestamp)
            }
            _ => None,
        })
    })?;
    conn.create_scalar_function("rc_instant_cmp", 2, flags, |ctx| {
        let instant = |index| DateTime::parse_from_rfc3339(text(ctx, index)?).ok();
        Ok(match (instant(0), instant(1)) {
            (Some(left), Some(right)) => Some(order(left.cmp(&right))),
            _ => None,
        })
    })?;
    conn.create_scalar_function("rc_number_text", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Integer(number) => Some(number.to_string()),
            ValueRef::Real(number) => serde_json::Number::from_f64(number).map(|n| n.to_string()),
            _ => None,
        })
    })?;
    Ok(())
}

/// The argument at `index` when it is text (invalid UTF-8 counts as no text).
fn text<'a>(ctx: &'a Context<'_>, index: usize) -> Option<&'a str> {
    match ctx.get_raw(index) {
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok(),
        _ => None,
    }
}

fn order(ordering: Ordering) -> i64 {
    match ordering {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rusqlite::types::Value as SqlValue;

    use super::*;

    fn eval(sql: &str) -> SqlValue {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        conn.query_row(&format!("SELECT {sql}"), [], |row| row.get(0))
            .unwrap()
    }

    fn text_value(text: &str) -> SqlValue {
        SqlValue::Text(text.to_owned())
    }

    #[test]
    fn fold_is_unicode_lower_case_and_null_for_anything_but_text() {
        assert_eq!(eval("rc_fold('ÉSS İ ß')"), text_value("éss i̇ ß"));
        assert_eq!(
            eval("rc_fold(json_extract('{\"a\":true}', '$.a'))"),
            SqlValue::Null
        );
        assert_eq!(eval("rc_fold(42)"), SqlValue::Null);
        assert_eq!(eval("rc_fold(NULL)"), SqlValue::Null);
    }

    #[test]
    fn timestamp_renders_like_the_protocol_core() {
        assert_eq!(
            eval("rc_timestamp(1767323045678)"),
            text_value("2026-01-02T03:04:05.678Z")
        );
        assert_eq!(eval("rc_timestamp('1767323045678')"), SqlValue::Null);
    }

    #[test]
    fn instants_compare_across_offsets() {
        let cmp = |a: &str, b: &str| eval(&format!("rc_instant_cmp('{a}', '{b}')"));
        assert_eq!(
            cmp("2024-03-01T12:00:00+02:00", "2024-03-01T10:00:00Z"),
            SqlValue::Integer(0)
        );
        assert_eq!(
            cmp("2024-03-01T10:00:00.001Z", "2024-03-01T10:00:00Z"),
            SqlValue::Integer(1)
        );
        assert_eq!(cmp("2024-03-01", "2024-03-01T10:00:00Z"), SqlValue::Null);
    }

    #[test]
    fn numbers_print_as_serde_json_prints_them() {
        assert_eq!(eval("rc_number_text(42)"), text_value("42"));
        assert_eq!(
            eval("rc_number_text(0.1 + 0.2)"),
            text_value("0.30000000000000004")
        );
        // SQLite would write 1.0e+20.
        assert_eq!(eval("rc_number_text(1e20)"), text_value("1e+20"));
        assert_eq!(eval("rc_number_text('42')"), SqlValue::Null);
    }
}
