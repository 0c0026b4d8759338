//! How one stored value compares with a filter's value, in SQL, by the evaluator's rules.
//!
//! The attribute's type decides, as in `rollcall_scim::filter`'s evaluator: booleans compare
//! as booleans, numbers as numbers, date-times as instants, and anything that does not read as
//! the type (and every `co`, `sw` and `ew`) as text, case-folded unless the attribute is
//! `caseExact`. Text compares byte for byte in SQLite's BINARY collation, which orders UTF-8
//! as Rust orders `str`.

use chrono::{DateTime, FixedOffset};
use rollcall_scim::filter::{AttrPath, CompValue, CompareOp, Filter, matches_element};
use rollcall_scim::schema::{Attribute, AttributeType};
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Value};

use super::fragment::{Cond, Fragment};
use crate::fold_case;

/// One stored value: its SQL value (`json_extract` gives 1 and 0 for JSON booleans) and, when
/// it comes from JSON, its `json_type`.
pub(super) struct Stored {
    pub value: Fragment,
    pub json_type: Option<Fragment>,
}

impl Stored {
    /// Neither missing, null nor the empty string (RFC 7643 §2.5). Booleans and numbers
    /// differ from '' in SQLite, and a JSON null is SQL NULL.
    pub(super) fn present(self) -> Cond {
        Cond::Sql(self.value.then(" <> ''"))
    }
}

/// How a leaf value compares.
pub(super) enum Leaf<'s> {
    /// String, reference and binary attributes.
    Text {
        case_exact: bool,
    },
    Boolean(&'s Attribute),
    Number {
        case_exact: bool,
    },
    DateTime {
        case_exact: bool,
    },
    /// `meta.created` and `meta.lastModified`: epoch milliseconds in a column.
    Millis,
}

impl<'s> Leaf<'s> {
    pub(super) fn of(attribute: &'s Attribute) -> Leaf<'s> {
        let case_exact = attribute.case_exact;
        match attribute.kind {
            AttributeType::Boolean => Leaf::Boolean(attribute),
            AttributeType::Integer | AttributeType::Decimal => Leaf::Number { case_exact },
            AttributeType::DateTime => Leaf::DateTime { case_exact },
            AttributeType::String
            | AttributeType::Binary
            | AttributeType::Reference
            | AttributeType::Complex => Leaf::Text { case_exact },
        }
    }

    /// `stored op value`, for a value that is not null (the caller handles null and `ne`).
    pub(super) fn test(&self, stored: Stored, op: CompareOp, value: &CompValue) -> Cond {
        let Some(text) = value_text(value) else {
            return Cond::Never;
        };
        // None for co, sw and ew, which compare text whatever the type.
        let ordering = comparison(op);
        match *self {
            Leaf::Text { case_exact } => text_test(stored.value, case_exact, op, &text),
            Leaf::Boolean(attribute) => boolean_test(stored, attribute, op, value),
            Leaf::Number { case_exact } => {
                // The evaluator compares numbers as f64 and text when either side is not a
                // number (NaN included).
                match (value_number(value).filter(|n| !n.is_nan()), ordering) {
                    (Some(wanted), Some(ordering)) => Cond::Sql(
                        Fragment::sql("CAST(")
                            .with(stored.value)
                            .then(&format!(" AS REAL) {ordering} "))
                            .bind(SqlValue::Real(wanted)),
                    ),
                    _ => {
                        let number = Fragment::sql("rc_number_text(")
                            .with(stored.value)
                            .then(")");
                        text_test(number, case_exact, op, &text)
                    }
                }
            }
            Leaf::DateTime { case_exact } => match (instant(&text), ordering) {
                (Some(_), Some(ordering)) => Cond::Sql(
                    Fragment::sql("rc_instant_cmp(")
                        .with(stored.value)
                        .then(", ")
                        .with(Fragment::text_value(text))
                        .then(&format!(") {ordering} 0")),
                ),
                _ => text_test(stored.value, case_exact, op, &text),
            },
            Leaf::Millis => match (instant(&text), ordering) {
                (Some(wanted), Some(_)) => millis_test(stored.value, op, wanted),
                // Not an instant: the evaluator compares the rendered timestamp as text.
                _ => {
                    let rendered = Fragment::sql("rc_timestamp(").with(stored.value).then(")");
                    text_test(rendered, false, op, &text)
                }
            },
        }
    }
}

/// The evaluator's text comparison; `stored` is NULL for a value that is not text.
fn text_test(stored: Fragment, case_exact: bool, op: CompareOp, text: &str) -> Cond {
    let (stored, text) = if case_exact {
        (stored, text.to_owned())
    } else {
        (
            Fragment::sql("rc_fold(").with(stored).then(")"),
            fold_case(text),
        )
    };
    let bound = Fragment::text_value(text.clone());
    let sql = match op {
        // instr counts in characters but matches bytes, so it finds exactly what
        // `str::contains` finds; the first match is at 1 exactly for a prefix.
        CompareOp::Co => Fragment::sql("instr(")
            .with(stored)
            .then(", ")
            .with(bound)
            .then(") > 0"),
        CompareOp::Sw => Fragment::sql("instr(")
            .with(stored)
            .then(", ")
            .with(bound)
            .then(") = 1"),
        CompareOp::Ew if text.is_empty() => stored.then(" IS NOT NULL"),
        // A suffix compared as bytes, so that no character count can differ from Rust's.
        CompareOp::Ew => {
            let length = i64::try_from(text.len()).unwrap_or(i64::MAX);
            Fragment::sql("substr(CAST(")
                .with(stored)
                .then(" AS BLOB), ")
                .bind(SqlValue::Integer(-length))
                .then(") = ")
                .bind(SqlValue::Blob(text.into_bytes()))
        }
        CompareOp::Eq => stored.then(" = ").with(bound),
        CompareOp::Ne => stored.then(" <> ").with(bound),
        CompareOp::Gt => stored.then(" > ").with(bound),
        CompareOp::Ge => stored.then(" >= ").with(bound),
        CompareOp::Lt => stored.then(" < ").with(bound),
        CompareOp::Le => stored.then(" <= ").with(bound),
    };
    Cond::Sql(sql)
}

/// A boolean has two values, so instead of restating the evaluator's rules (the strings "True"
/// and "False", text comparison of anything else) this asks the evaluator about both.
fn boolean_test(stored: Stored, attribute: &Attribute, op: CompareOp, value: &CompValue) -> Cond {
    let holds = |flag: bool| boolean_holds(attribute, flag, op, value);
    let wanted = match (holds(false), holds(true)) {
        (false, false) => return Cond::Never,
        (false, true) => "= 1",
        (true, false) => "= 0",
        (true, true) => "IN (0, 1)",
    };
    let sql = match stored.json_type {
        // A JSON boolean's type is 'true' or 'false'; json_extract turns both into integers.
        Some(json_type) => {
            let types = match wanted {
                "= 1" => " = 'true'",
                "= 0" => " = 'false'",
                _ => " IN ('true', 'false')",
            };
            json_type.then(types)
        }
        // The `active` column: NULL, 0 or 1.
        None => stored.value.then(" ").then(wanted),
    };
    Cond::Sql(sql)
}

/// Whether the evaluator holds `flag op value` for a boolean attribute like `attribute`: it
/// evaluates the comparison inside a one-member element whose parent has only that attribute.
fn boolean_holds(attribute: &Attribute, flag: bool, op: CompareOp, value: &CompValue) -> bool {
    let mut parent = attribute.clone();
    parent.kind = AttributeType::Complex;
    parent.multi_valued = false;
    parent.sub_attributes = vec![attribute.clone()];
    let filter = Filter::Compare {
        path: AttrPath::new(attribute.name.clone()),
        op,
        value: value.clone(),
    };
    let mut element = Map::new();
    element.insert(attribute.name.clone(), Value::Bool(flag));
    matches_element(&filter, &Value::Object(element), &parent)
}

/// Compares epoch milliseconds with an instant that may have finer precision.
///
/// With `floor` the instant's millisecond and `exact` whether nothing is left below it, a
/// whole number of milliseconds `m` is above the instant when `m > floor`, below it when
/// `m < floor` (exact) or `m <= floor` (not exact), and equal only when exact. A leap second
/// (chrono's nanoseconds past 10^9) lies after every millisecond of its second.
fn millis_test(column: Fragment, op: CompareOp, wanted: DateTime<FixedOffset>) -> Cond {
    let nanos = wanted.timestamp_subsec_nanos();
    let seconds = wanted.timestamp().saturating_mul(1000);
    let (floor, exact) = if nanos >= 1_000_000_000 {
        (seconds.saturating_add(999), false)
    } else {
        (
            seconds.saturating_add(i64::from(nanos / 1_000_000)),
            nanos.is_multiple_of(1_000_000),
        )
    };
    let sql = match (op, exact) {
        (CompareOp::Eq, false) => return Cond::Never,
        (CompareOp::Ne, false) => return Cond::Always,
        (CompareOp::Ge, false) => ">",
        (CompareOp::Lt, false) => "<=",
        (op, _) => match comparison(op) {
            Some(sql) => sql,
            None => return Cond::Never,
        },
    };
    Cond::Sql(
        column
            .then(&format!(" {sql} "))
            .bind(SqlValue::Integer(floor)),
    )
}

/// The SQL operator of an ordering or equality operator; `None` for co, sw and ew.
fn comparison(op: CompareOp) -> Option<&'static str> {
    match op {
        CompareOp::Eq => Some("="),
        CompareOp::Ne => Some("<>"),
        CompareOp::Gt => Some(">"),
        CompareOp::Ge => Some(">="),
        CompareOp::Lt => Some("<"),
        CompareOp::Le => Some("<="),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => None,
    }
}

/// The filter value as text, as the evaluator reads it for a text comparison.
pub(super) fn value_text(value: &CompValue) -> Option<String> {
    match value {
        CompValue::String(text) => Some(text.clone()),
        CompValue::Number(number) => Some(number.to_string()),
        CompValue::Bool(flag) => Some(flag.to_string()),
        CompValue::Null => None,
    }
}

fn value_number(value: &CompValue) -> Option<f64> {
    match value {
        CompValue::Number(number) => number.as_f64(),
        CompValue::String(text) => text.trim().parse().ok(),
        CompValue::Null | CompValue::Bool(_) => None,
    }
}

fn instant(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}
