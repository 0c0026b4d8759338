//! The part of a user filter (RFC 7644 §3.4.2.2) that the indexed key columns answer.
//!
//! The SQLite backend translates every filter to SQL with SQL functions of its own; PostgreSQL
//! has none of them. It narrows instead: the `eq` tests IdPs send to find a user become
//! conditions on the columns SQLite's translation reads for them (`user_name_key`,
//! `external_id`, `display_name_key`, `email_key`, the `user_emails` rows, `active`), joined
//! by `and` and `or`; every other test narrows nothing and is left to the evaluator.
//!
//! A narrowing never drops a user the evaluator would match. It is *exact* when it also keeps
//! no other user, so the evaluator need not look. Exactness rests on what SQLite's translation
//! rests on: each key column is written from the stored body, `fold_case`d where the attribute
//! is not case-exact, and the `active` column is NULL exactly when the body has no `active`.

use rollcall_scim::filter::{AttrPath, CompValue, CompareOp, Filter, matches};
use rollcall_scim::schema::{Attribute, AttributeType, ResourceSchema};
use serde_json::json;

use super::Params;
use crate::fold_case;

/// A condition that holds for every user a filter matches.
#[derive(Debug)]
pub(super) struct Narrowing {
    /// `None` narrows nothing.
    condition: Option<Condition>,
    /// Whether the condition holds for no other user.
    pub exact: bool,
}

#[derive(Debug)]
enum Condition {
    /// A key column equals a value.
    Equals(&'static str, String),
    /// One of the user's `emails` folds to this key.
    Email(String),
    /// The user sent `active`, with a value for which `holds` says the filter holds.
    Active {
        holds_false: bool,
        holds_true: bool,
    },
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
}

impl Narrowing {
    /// The narrowing of no filter: every user, exactly.
    pub(super) fn everything() -> Narrowing {
        Narrowing {
            condition: None,
            exact: true,
        }
    }

    fn nothing_known() -> Narrowing {
        Narrowing {
            condition: None,
            exact: false,
        }
    }

    fn exact(condition: Condition) -> Narrowing {
        Narrowing {
            condition: Some(condition),
            exact: true,
        }
    }

    /// The condition in SQL over the alias `u`, binding its values to `params`.
    pub(super) fn sql(&self, params: &mut Params) -> String {
        match &self.condition {
            None => "TRUE".to_owned(),
            Some(condition) => render(condition, params),
        }
    }
}

/// Narrows the users to those that can match `filter`.
pub(super) fn narrow(filter: &Filter, schema: &ResourceSchema) -> Narrowing {
    match filter {
        Filter::And(left, right) => both(narrow(left, schema), narrow(right, schema)),
        Filter::Or(left, right) => either(narrow(left, schema), narrow(right, schema)),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => equals(filter, path, value, schema),
        Filter::ValuePath {
            path,
            filter: inner,
        } => match core_attribute(path, schema) {
            Some(attribute) if attribute.name == "emails" => email_element(inner, attribute),
            _ => Narrowing::nothing_known(),
        },
        Filter::Not(_) | Filter::Present(_) | Filter::Compare { .. } => Narrowing::nothing_known(),
    }
}

/// `left and right`: each side narrows.
fn both(left: Narrowing, right: Narrowing) -> Narrowing {
    let condition = match (left.condition, right.condition) {
        (Some(left), Some(right)) => Some(Condition::And(Box::new(left), Box::new(right))),
        (one, other) => one.or(other),
    };
    Narrowing {
        condition,
        exact: left.exact && right.exact,
    }
}

/// `left or right`: narrows only when both sides do.
fn either(left: Narrowing, right: Narrowing) -> Narrowing {
    match (left.condition, right.condition) {
        (Some(one), Some(other)) => Narrowing {
            condition: Some(Condition::Or(Box::new(one), Box::new(other))),
            exact: left.exact && right.exact,
        },
        _ => Narrowing::nothing_known(),
    }
}

/// `path eq value` at the top of a filter, where the path resolves as the evaluator resolves it.
fn equals(node: &Filter, path: &AttrPath, value: &CompValue, schema: &ResourceSchema) -> Narrowing {
    let Some(attribute) = core_attribute(path, schema) else {
        return Narrowing::nothing_known();
    };
    // `eq null` asks for an absent value, which no key finds.
    if *value == CompValue::Null {
        return Narrowing::nothing_known();
    }
    if attribute.name == "active"
        && attribute.kind == AttributeType::Boolean
        && path.sub_attr.is_none()
    {
        // The evaluator's rules for booleans ("True" and "False" strings, text comparison of
        // anything else) are asked rather than restated, as SQLite's translation does.
        let holds = |flag: bool| matches(node, &json!({ "active": flag }), schema);
        return Narrowing::exact(Condition::Active {
            holds_false: holds(false),
            holds_true: holds(true),
        });
    }

    // RFC 7644 §3.4.2.2: a complex attribute without a sub-attribute compares its `value`.
    let compared = match path.sub_attr.as_deref() {
        Some(sub) => attribute.sub_attribute(sub),
        None if attribute.kind == AttributeType::Complex => attribute.sub_attribute("value"),
        None => Some(attribute),
    };
    let (Some(compared), Some(text)) = (compared, value_text(value)) else {
        return Narrowing::nothing_known();
    };
    if compared.kind != AttributeType::String {
        return Narrowing::nothing_known();
    }
    let folded = fold_case(&text);
    match (
        attribute.name.as_str(),
        compared.name.as_str(),
        compared.case_exact,
    ) {
        // The key is folded from the trimmed userName, as SQLite looks it up; a value with
        // surrounding spaces finds the user but may not match the body.
        ("userName", "userName", false) => {
            let key = folded.trim();
            Narrowing {
                exact: key.len() == folded.len(),
                condition: Some(Condition::Equals("u.user_name_key", key.to_owned())),
            }
        }
        ("externalId", "externalId", true) => {
            Narrowing::exact(Condition::Equals("u.external_id", text))
        }
        ("displayName", "displayName", false) => {
            Narrowing::exact(Condition::Equals("u.display_name_key", folded))
        }
        ("email", "email", false) => Narrowing::exact(Condition::Equals("u.email_key", folded)),
        ("emails", "value", false) => Narrowing::exact(Condition::Email(folded)),
        _ => Narrowing::nothing_known(),
    }
}

/// The filter inside `emails[...]`, on one element: `value eq` is found through `user_emails`.
/// An `and` must hold on one element, which the rows cannot tell, so it is never exact.
fn email_element(filter: &Filter, emails: &Attribute) -> Narrowing {
    match filter {
        Filter::And(left, right) => Narrowing {
            exact: false,
            ..both(email_element(left, emails), email_element(right, emails))
        },
        Filter::Or(left, right) => {
            either(email_element(left, emails), email_element(right, emails))
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let is_value = element_sub_attribute(path, emails).is_some_and(|sub| {
                sub.name == "value" && sub.kind == AttributeType::String && !sub.case_exact
            });
            match value_text(value) {
                Some(text) if is_value => Narrowing::exact(Condition::Email(fold_case(&text))),
                _ => Narrowing::nothing_known(),
            }
        }
        Filter::Not(_) | Filter::Present(_) | Filter::Compare { .. } | Filter::ValuePath { .. } => {
            Narrowing::nothing_known()
        }
    }
}

/// The core schema attribute a path names; extension attributes have no key columns.
fn core_attribute<'s>(path: &AttrPath, schema: &'s ResourceSchema) -> Option<&'s Attribute> {
    let resolved = schema.resolve(path.uri.as_deref(), &path.name)?;
    resolved.extension.is_none().then_some(resolved.attribute)
}

/// The sub-attribute a path inside a value filter names, as the evaluator reads it: `value`,
/// or the redundant `emails.value`.
fn element_sub_attribute<'a>(path: &AttrPath, attribute: &'a Attribute) -> Option<&'a Attribute> {
    let name = match &path.sub_attr {
        Some(sub) if path.name.eq_ignore_ascii_case(&attribute.name) => sub,
        Some(_) => return None,
        None => &path.name,
    };
    attribute.sub_attribute(name)
}

/// The filter value as text, as the evaluator reads it for a text comparison.
fn value_text(value: &CompValue) -> Option<String> {
    match value {
        CompValue::String(text) => Some(text.clone()),
        CompValue::Number(number) => Some(number.to_string()),
        CompValue::Bool(flag) => Some(flag.to_string()),
        CompValue::Null => None,
    }
}

fn render(condition: &Condition, params: &mut Params) -> String {
    match condition {
        Condition::Equals(column, value) => format!("{column} = {}", params.bind(value.clone())),
        // `$1` (the workspace) makes the subquery independent of the row, so it runs once,
        // from the `user_emails_key` index.
        Condition::Email(key) => format!(
            "u.seq IN (SELECT e.user_seq FROM user_emails e \
             WHERE e.workspace_id = $1 AND e.email_key = {})",
            params.bind(key.clone())
        ),
        Condition::Active {
            holds_false,
            holds_true,
        } => match (holds_false, holds_true) {
            (false, false) => "FALSE".to_owned(),
            (false, true) => "u.active = true".to_owned(),
            (true, false) => "u.active = false".to_owned(),
            (true, true) => "u.active IS NOT NULL".to_owned(),
        },
        Condition::And(left, right) => {
            let left = render(left, params);
            format!("({left} AND {})", render(right, params))
        }
        Condition::Or(left, right) => {
            let left = render(left, params);
            format!("({left} OR {})", render(right, params))
        }
    }
}
