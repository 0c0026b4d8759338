//! Translation of filters on indexed user attributes to SQL, with bound parameters only.
//!
//! A filter made of `eq` tests on `id`, `userName`, `externalId`, `email`, `emails.value` and
//! `active`, combined with `and` and `or`, becomes a `WHERE` condition that the indexes answer.
//! Anything else returns `None` and is evaluated in memory by the caller. Case-insensitive
//! attributes are compared on their folded key columns, folded by [`crate::fold_case`] exactly as
//! the in-memory evaluator folds them.

use rollcall_scim::filter::{AttrPath, CompValue, CompareOp, Filter};
use rollcall_scim::resource::parse_boolean;
use rollcall_scim::schema::{USER_SCHEMA, USER_SCHEMA_V1};
use rusqlite::types::Value as SqlValue;

use crate::fold_case;

/// A SQL condition over the alias `u` (users), with its parameters in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlFilter {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

impl SqlFilter {
    /// The condition that matches every user.
    pub fn everything() -> SqlFilter {
        SqlFilter {
            sql: "1 = 1".to_owned(),
            params: Vec::new(),
        }
    }
}

/// Translates `filter`, or returns `None` when part of it has no indexed translation.
///
/// Parameter numbers start at `?2`: `?1` is the workspace id.
pub fn translate(filter: &Filter) -> Option<SqlFilter> {
    let mut params = Vec::new();
    let sql = condition(filter, &mut params)?;
    Some(SqlFilter { sql, params })
}

fn condition(filter: &Filter, params: &mut Vec<SqlValue>) -> Option<String> {
    match filter {
        Filter::And(left, right) => {
            let left = condition(left, params)?;
            let right = condition(right, params)?;
            Some(format!("({left} AND {right})"))
        }
        Filter::Or(left, right) => {
            let left = condition(left, params)?;
            let right = condition(right, params)?;
            Some(format!("({left} OR {right})"))
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => equality(path, value, params),
        _ => None,
    }
}

fn equality(path: &AttrPath, value: &CompValue, params: &mut Vec<SqlValue>) -> Option<String> {
    if let Some(uri) = &path.uri
        && !uri.eq_ignore_ascii_case(USER_SCHEMA)
        && !uri.eq_ignore_ascii_case(USER_SCHEMA_V1)
    {
        return None;
    }
    let name = path.name.to_ascii_lowercase();
    let sub = path.sub_attr.as_deref().map(str::to_ascii_lowercase);

    if name == "active" && sub.is_none() {
        let wanted = match value {
            CompValue::Bool(b) => *b,
            CompValue::String(s) => parse_boolean(&serde_json::Value::String(s.clone()))?,
            _ => return None,
        };
        params.push(SqlValue::Integer(i64::from(wanted)));
        return Some(format!("u.active = ?{}", params.len() + 1));
    }

    let CompValue::String(text) = value else {
        return None;
    };
    let (column, key) = match (name.as_str(), sub.as_deref()) {
        ("id", None) => ("u.id", text.clone()),
        ("username", None) => ("u.user_name_key", fold_case(text)),
        ("externalid", None) => ("u.external_id", text.clone()),
        ("email", None) => ("u.email_key", fold_case(text)),
        ("emails", None | Some("value")) => {
            params.push(SqlValue::Text(fold_case(text)));
            return Some(format!(
                "u.seq IN (SELECT e.user_seq FROM user_emails e
                           WHERE e.workspace_id = u.workspace_id AND e.email_key = ?{})",
                params.len() + 1
            ));
        }
        _ => return None,
    };
    params.push(SqlValue::Text(key));
    Some(format!("{column} = ?{}", params.len() + 1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rollcall_scim::filter::parse_filter;

    use super::*;

    fn sql(filter: &str) -> Option<SqlFilter> {
        translate(&parse_filter(filter).unwrap())
    }

    #[test]
    fn translates_indexed_equalities_with_folded_keys() {
        let out = sql(r#"userName eq "Ada@Example.com" and externalId eq "X1""#).unwrap();
        assert_eq!(out.sql, "(u.user_name_key = ?2 AND u.external_id = ?3)");
        assert_eq!(
            out.params,
            [
                SqlValue::Text("ada@example.com".to_owned()),
                SqlValue::Text("X1".to_owned())
            ]
        );
        let out = sql(r#"active eq "False" or id eq "a""#).unwrap();
        assert_eq!(out.sql, "(u.active = ?2 OR u.id = ?3)");
    }

    #[test]
    fn leaves_everything_else_to_the_evaluator() {
        assert_eq!(sql(r#"userName sw "a""#), None);
        assert_eq!(sql(r#"title eq "a""#), None);
        assert_eq!(sql(r#"not (userName eq "a")"#), None);
        assert_eq!(sql(r#"urn:example:x:userName eq "a""#), None);
    }
}
