//! Evaluation of a parsed [`Filter`] against a resource in memory (RFC 7644 §3.4.2.2).
//!
//! How two values compare is read from the schema: the attribute's type decides between
//! booleans, numbers, instants and text, and `caseExact` decides whether text is case-folded.
//! The schema module does not define the common attributes `meta` and `schemas` (RFC 7643
//! §3.1), so this module knows their few sub-attributes itself.
//!
//! Decisions the RFC leaves open, made here once:
//! - A comparison on a multi-valued attribute holds when any value satisfies it.
//! - `ne` is the negation of `eq`: it holds when no value equals, including when the attribute
//!   is absent. `emails.type ne "work"` is false for a user with any work email.
//! - An attribute the schema does not know is treated as absent, so it matches `eq null` and
//!   `ne`, and nothing else.
//! - `eq null` holds when the attribute has no value (absent, null, "", [] or {}); `ne null`
//!   is then the same as `pr`.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::schema::{Attribute, AttributeType, ResourceSchema};

/// Evaluates a filter against a whole resource in stored form: canonical attribute names,
/// extension attributes under their schema URN, plus `id` and `meta`.
pub fn matches(filter: &Filter, resource: &Value, schema: &ResourceSchema) -> bool {
    match filter {
        Filter::And(left, right) => {
            matches(left, resource, schema) && matches(right, resource, schema)
        }
        Filter::Or(left, right) => {
            matches(left, resource, schema) || matches(right, resource, schema)
        }
        Filter::Not(inner) => !matches(inner, resource, schema),
        Filter::Present(path) => locate(path, resource, schema)
            .is_some_and(|found| found.present(path.sub_attr.as_deref())),
        Filter::Compare { path, op, value } => {
            let operands = locate(path, resource, schema)
                .map(|found| found.operands(path.sub_attr.as_deref()))
                .unwrap_or_default();
            compare(&operands, *op, value)
        }
        Filter::ValuePath { path, filter } => {
            let Some(Found {
                definition: Definition::Attribute(attribute),
                value: Some(value),
            }) = locate(path, resource, schema)
            else {
                return false;
            };
            // A single-valued complex attribute (`name[givenName eq "x"]`) is its own element.
            elements(value)
                .iter()
                .any(|element| matches_element(filter, element, attribute))
        }
    }
}

/// Evaluates a filter inside a value path, against one element of a multi-valued complex
/// attribute (`attribute` is that multi-valued attribute's definition; paths in the filter
/// name its sub-attributes).
pub fn matches_element(filter: &Filter, element: &Value, attribute: &Attribute) -> bool {
    match filter {
        Filter::And(left, right) => {
            matches_element(left, element, attribute) && matches_element(right, element, attribute)
        }
        Filter::Or(left, right) => {
            matches_element(left, element, attribute) || matches_element(right, element, attribute)
        }
        Filter::Not(inner) => !matches_element(inner, element, attribute),
        Filter::Present(path) => element_sub_attribute(path, attribute)
            .and_then(|sub| member(element, &sub.name))
            .is_some_and(is_present),
        Filter::Compare { path, op, value } => {
            let operands = element_sub_attribute(path, attribute)
                .map(|sub| Operands {
                    values: collect(Some(element), Some(&sub.name)),
                    leaf: Leaf::of(sub),
                })
                .unwrap_or_default();
            compare(&operands, *op, value)
        }
        // The parser rejects a value path inside another; a tree built by hand matches nothing.
        Filter::ValuePath { .. } => false,
    }
}

/// What decides how a stored value compares: the type and whether case matters.
#[derive(Debug, Clone, Copy)]
struct Leaf {
    kind: AttributeType,
    case_exact: bool,
}

impl Leaf {
    fn of(attribute: &Attribute) -> Self {
        Leaf {
            kind: attribute.kind,
            case_exact: attribute.case_exact,
        }
    }
}

impl Default for Leaf {
    fn default() -> Self {
        Leaf {
            kind: AttributeType::String,
            case_exact: false,
        }
    }
}

/// The stored values one comparison looks at, with how they compare. Empty when absent.
#[derive(Debug, Default)]
struct Operands<'a> {
    values: Vec<&'a Value>,
    leaf: Leaf,
}

/// The definition a path resolved to: a schema attribute or a common attribute.
#[derive(Debug, Clone, Copy)]
enum Definition<'a> {
    Attribute(&'a Attribute),
    /// `meta` (RFC 7643 §3.1), complex, with dateTime `created` and `lastModified`.
    Meta,
    /// `schemas` (RFC 7643 §3), the URIs of the resource's schemas.
    Schemas,
}

/// An attribute a path names, with its stored value when the resource has one.
struct Found<'a> {
    definition: Definition<'a>,
    value: Option<&'a Value>,
}

impl<'a> Found<'a> {
    fn present(&self, sub_attr: Option<&str>) -> bool {
        match sub_attr {
            None => self.value.is_some_and(is_present),
            Some(_) => self.operands(sub_attr).values.into_iter().any(is_present),
        }
    }

    fn operands(&self, sub_attr: Option<&str>) -> Operands<'a> {
        let leaf = |attribute: &Attribute| Operands {
            values: collect(self.value, Some(&attribute.name)),
            leaf: Leaf::of(attribute),
        };
        match (self.definition, sub_attr) {
            (Definition::Attribute(attribute), Some(sub)) => {
                attribute.sub_attribute(sub).map(leaf).unwrap_or_default()
            }
            // RFC 7644 §3.4.2.2: a complex attribute named without a sub-attribute is compared
            // through its `value` sub-attribute, as in `emails co "example.com"`.
            (Definition::Attribute(attribute), None)
                if attribute.kind == AttributeType::Complex =>
            {
                attribute
                    .sub_attribute("value")
                    .map(leaf)
                    .unwrap_or_default()
            }
            (Definition::Attribute(attribute), None) => Operands {
                values: collect(self.value, None),
                leaf: Leaf::of(attribute),
            },
            (Definition::Meta, Some(sub)) => match meta_leaf(sub) {
                Some(leaf) => Operands {
                    values: collect(self.value, Some(sub)),
                    leaf,
                },
                None => Operands::default(),
            },
            (Definition::Meta, None) => Operands::default(),
            // Schema URIs are URNs, whose comparison RFC 8141 §3 makes mostly case-insensitive.
            (Definition::Schemas, None) => Operands {
                values: collect(self.value, None),
                leaf: Leaf {
                    kind: AttributeType::Reference,
                    case_exact: false,
                },
            },
            (Definition::Schemas, Some(_)) => Operands::default(),
        }
    }
}

/// Finds the attribute `path` names, or `None` when no schema defines it.
fn locate<'a>(
    path: &AttrPath,
    resource: &'a Value,
    schema: &'a ResourceSchema,
) -> Option<Found<'a>> {
    if let Some(resolved) = schema.resolve(path.uri.as_deref(), &path.name) {
        // Extension attributes are stored under their schema's URN (RFC 7643 §3.3).
        let container = match resolved.extension {
            Some(urn) => member(resource, urn),
            None => Some(resource),
        };
        return Some(Found {
            definition: Definition::Attribute(resolved.attribute),
            value: container.and_then(|c| member(c, &resolved.attribute.name)),
        });
    }

    let in_core = path
        .uri
        .as_deref()
        .is_none_or(|uri| uri.eq_ignore_ascii_case(&schema.core.id));
    let definition = match path.name.as_str() {
        name if in_core && name.eq_ignore_ascii_case("meta") => Definition::Meta,
        name if in_core && name.eq_ignore_ascii_case("schemas") => Definition::Schemas,
        _ => return None,
    };
    Some(Found {
        definition,
        value: member(resource, &path.name),
    })
}

/// The sub-attribute of `attribute` a path inside a value filter names: `type`, or the
/// redundant `emails.type`. A URN prefix is ignored: only the parent's schema applies here.
fn element_sub_attribute<'a>(path: &AttrPath, attribute: &'a Attribute) -> Option<&'a Attribute> {
    let name = match &path.sub_attr {
        Some(sub) if path.name.eq_ignore_ascii_case(&attribute.name) => sub,
        Some(_) => return None,
        None => &path.name,
    };
    attribute.sub_attribute(name)
}

/// The sub-attributes of `meta` (RFC 7643 §3.1); the server sets all of them.
fn meta_leaf(sub_attr: &str) -> Option<Leaf> {
    const META: [(&str, AttributeType, bool); 5] = [
        ("created", AttributeType::DateTime, false),
        ("lastModified", AttributeType::DateTime, false),
        ("resourceType", AttributeType::String, true),
        ("location", AttributeType::Reference, true),
        ("version", AttributeType::String, true),
    ];
    META.iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(sub_attr))
        .map(|&(_, kind, case_exact)| Leaf { kind, case_exact })
}

fn compare(operands: &Operands<'_>, op: CompareOp, value: &CompValue) -> bool {
    let mut values = operands.values.iter().copied();
    let leaf = operands.leaf;
    match (op, value) {
        (CompareOp::Eq, CompValue::Null) => !values.any(is_present),
        (CompareOp::Ne, CompValue::Null) => values.any(is_present),
        // The parser rejects ordering and substring operators with null.
        (_, CompValue::Null) => false,
        (CompareOp::Ne, _) => !values.any(|stored| compare_one(stored, CompareOp::Eq, value, leaf)),
        _ => values.any(|stored| compare_one(stored, op, value, leaf)),
    }
}

fn compare_one(stored: &Value, op: CompareOp, value: &CompValue, leaf: Leaf) -> bool {
    if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
        return compare_text(stored, op, value, leaf.case_exact);
    }
    // When either side does not read as the attribute's type, compare the text as sent.
    match typed_order(stored, value, leaf.kind) {
        Some(order) => match op {
            CompareOp::Eq => order == Ordering::Equal,
            CompareOp::Ne => order != Ordering::Equal,
            CompareOp::Gt => order == Ordering::Greater,
            CompareOp::Ge => order != Ordering::Less,
            CompareOp::Lt => order == Ordering::Less,
            CompareOp::Le => order != Ordering::Greater,
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
        },
        None => compare_text(stored, op, value, leaf.case_exact),
    }
}

fn typed_order(stored: &Value, value: &CompValue, kind: AttributeType) -> Option<Ordering> {
    match kind {
        AttributeType::Boolean => Some(stored_bool(stored)?.cmp(&value_bool(value)?)),
        AttributeType::Integer | AttributeType::Decimal => {
            stored_number(stored)?.partial_cmp(&value_number(value)?)
        }
        AttributeType::DateTime => {
            Some(instant(&stored_text(stored)?)?.cmp(&instant(&value_text(value)?)?))
        }
        AttributeType::String
        | AttributeType::Binary
        | AttributeType::Reference
        | AttributeType::Complex => None,
    }
}

fn compare_text(stored: &Value, op: CompareOp, value: &CompValue, case_exact: bool) -> bool {
    let (Some(left), Some(right)) = (stored_text(stored), value_text(value)) else {
        return false;
    };
    let (left, right) = if case_exact {
        (left, right)
    } else {
        (
            Cow::Owned(left.to_lowercase()),
            Cow::Owned(right.to_lowercase()),
        )
    };
    match op {
        CompareOp::Eq => left == right,
        CompareOp::Ne => left != right,
        CompareOp::Co => left.contains(right.as_ref()),
        CompareOp::Sw => left.starts_with(right.as_ref()),
        CompareOp::Ew => left.ends_with(right.as_ref()),
        CompareOp::Gt => left > right,
        CompareOp::Ge => left >= right,
        CompareOp::Lt => left < right,
        CompareOp::Le => left <= right,
    }
}

/// Booleans also arrive as the strings "True" and "False", as Microsoft Entra ID sends them.
fn stored_bool(stored: &Value) -> Option<bool> {
    match stored {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) => parse_bool(text),
        _ => None,
    }
}

fn value_bool(value: &CompValue) -> Option<bool> {
    match value {
        CompValue::Bool(flag) => Some(*flag),
        CompValue::String(text) => parse_bool(text),
        CompValue::Null | CompValue::Number(_) => None,
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn stored_number(stored: &Value) -> Option<f64> {
    match stored {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
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

fn stored_text(stored: &Value) -> Option<Cow<'_, str>> {
    match stored {
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Number(number) => Some(Cow::Owned(number.to_string())),
        Value::Bool(flag) => Some(Cow::Owned(flag.to_string())),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn value_text(value: &CompValue) -> Option<Cow<'_, str>> {
    match value {
        CompValue::String(text) => Some(Cow::Borrowed(text)),
        CompValue::Number(number) => Some(Cow::Owned(number.to_string())),
        CompValue::Bool(flag) => Some(Cow::Owned(flag.to_string())),
        CompValue::Null => None,
    }
}

/// A value counts as present unless it is null or empty (RFC 7643 §2.5).
fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// The values of `value`, or of its `sub_attr`, with multi-valued attributes flattened.
fn collect<'a>(value: Option<&'a Value>, sub_attr: Option<&str>) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for item in value.map_or(&[][..], elements) {
        match sub_attr {
            None => out.extend(elements(item)),
            Some(sub_attr) => {
                if let Some(sub_value) = member(item, sub_attr) {
                    out.extend(elements(sub_value));
                }
            }
        }
    }
    out
}

/// The elements of a multi-valued attribute, or the value itself when it is single.
fn elements(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// A member of a JSON object by attribute name. Names are case-insensitive (RFC 7643 §2.1);
/// stored documents use the canonical spelling, so the exact lookup usually hits.
fn member<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    let members = object.as_object()?;
    members.get(name).or_else(|| {
        members
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::filter::parse_filter;
    use crate::schema::{Schema, user_resource};

    const TEST_EXTENSION: &str = "urn:example:params:scim:schemas:extension:test:2.0:User";

    /// The User schema plus an extension with one attribute of each remaining type, built from
    /// clones of User attributes so that the test does not depend on how definitions are made.
    fn schema() -> ResourceSchema {
        let user = user_resource();
        let like = |name: &str, original: &str, kind: AttributeType| {
            let mut attribute = user.core.attribute(original).unwrap().clone();
            attribute.name = name.to_owned();
            attribute.kind = kind;
            attribute
        };
        let mut manager = like("manager", "emails", AttributeType::Complex);
        manager.multi_valued = false;
        let mut resource = user.clone();
        // Only the test extension, so that its names do not meet the Enterprise User ones.
        resource.extensions.clear();
        resource.extensions.push(Schema {
            id: TEST_EXTENSION.to_owned(),
            name: "Test".to_owned(),
            description: String::new(),
            attributes: vec![
                like("employeeNumber", "title", AttributeType::String),
                like("age", "title", AttributeType::Integer),
                like("score", "title", AttributeType::Decimal),
                like("hired", "title", AttributeType::DateTime),
                like("remote", "active", AttributeType::Boolean),
                manager,
            ],
        });
        resource
    }

    fn alice() -> Value {
        json!({
            "id": "2819c223-7f76-453a-919d-413861904646",
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", TEST_EXTENSION],
            "externalId": "AbC-123",
            "userName": "alice@x.com",
            "displayName": "Alice Émile",
            "title": "",
            "active": true,
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [
                {"value": "alice@x.com", "type": "work", "primary": true},
                {"value": "alice@home.org", "type": "home", "primary": "False"}
            ],
            "phoneNumbers": [],
            "meta": {
                "resourceType": "User",
                "created": "2024-01-01T10:00:00Z",
                "lastModified": "2024-03-01T12:00:00+02:00",
                "location": "https://rollcall.example/scim/v2/Users/2819c223",
                "version": "W/\"3\""
            },
            TEST_EXTENSION: {
                "employeeNumber": "701984",
                "age": 42,
                "score": "7.5",
                "hired": "2020-02-29T08:00:00Z",
                "remote": "True",
                "manager": {"value": "26118915", "display": "Bob"}
            }
        })
    }

    fn check(filter: &str) -> bool {
        matches(&parse_filter(filter).unwrap(), &alice(), &schema())
    }

    fn assert_all(cases: &[(&str, bool)]) {
        for &(filter, expected) in cases {
            assert_eq!(check(filter), expected, "{filter}");
        }
    }

    #[test]
    fn each_operator_on_a_string() {
        assert_all(&[
            (r#"userName eq "alice@x.com""#, true),
            (r#"userName eq "alice""#, false),
            (r#"userName ne "alice""#, true),
            (r#"userName ne "alice@x.com""#, false),
            (r#"userName co "@x.""#, true),
            (r#"userName co "@y.""#, false),
            (r#"userName sw "ali""#, true),
            (r#"userName sw "lice""#, false),
            (r#"userName ew ".com""#, true),
            (r#"userName ew ".org""#, false),
            (r#"userName gt "alice""#, true),
            (r#"userName gt "bob""#, false),
            (r#"userName ge "alice@x.com""#, true),
            (r#"userName lt "bob""#, true),
            (r#"userName lt "alice""#, false),
            (r#"userName le "alice@x.com""#, true),
        ]);
    }

    #[test]
    fn case_exact_decides_case_folding() {
        assert_all(&[
            (r#"userName eq "ALICE@X.COM""#, true),
            (r#"USERNAME Eq "Alice@x.com""#, true),
            (r#"displayName eq "ALICE ÉMILE""#, true),
            (r#"displayName co "émile""#, true),
            (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
            (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
            (r#"externalId eq "AbC-123""#, true),
            (r#"externalId eq "abc-123""#, false),
            ("externalId sw AbC", true),
            (r#"meta.resourceType eq "User""#, true),
            (r#"meta.resourceType eq "user""#, false),
            (r#"meta.version eq "W/\"3\"""#, true),
            (r#"meta.location sw "https://rollcall.example/""#, true),
            (
                r#"schemas eq "URN:IETF:params:scim:schemas:core:2.0:User""#,
                true,
            ),
        ]);
    }

    #[test]
    fn booleans_also_read_true_and_false_strings() {
        assert_all(&[
            ("active eq true", true),
            ("active eq false", false),
            (r#"active eq "True""#, true),
            (r#"active eq "FALSE""#, false),
            ("active ne false", true),
            ("emails[primary eq true]", true),
            (r#"emails[primary eq "True" and type eq "work"]"#, true),
            (r#"emails[primary eq "True" and type eq "home"]"#, false),
            ("emails[type eq home and primary eq false]", true),
            ("emails.primary eq false", true),
            ("remote eq true", true),
            ("remote eq false", false),
        ]);
    }

    #[test]
    fn date_times_compare_as_instants() {
        // lastModified is 2024-03-01T12:00:00+02:00, which is 10:00 UTC.
        assert_all(&[
            (r#"meta.lastModified eq "2024-03-01T10:00:00Z""#, true),
            (r#"meta.lastModified gt "2024-03-01T09:59:59Z""#, true),
            (r#"meta.lastModified gt "2024-03-01T10:00:00Z""#, false),
            (r#"meta.lastModified ge "2024-03-01T10:00:00.000Z""#, true),
            (r#"meta.lastModified lt "2024-03-01T11:00:00+00:00""#, true),
            (r#"meta.lastModified le "2024-03-01T09:00:00Z""#, false),
            (r#"meta.created lt "2024-01-01T10:00:01Z""#, true),
            (r#"meta.created gt "2011-05-13T04:42:34Z""#, true),
            (r#"META.CREATED sw "2024-01""#, true),
            (r#"hired gt "2020-02-29T07:00:00Z""#, true),
            // A value that is not a date-time falls back to comparing text.
            (r#"meta.created gt "2023""#, true),
            (r#"meta.created lt "2023""#, false),
        ]);
    }

    #[test]
    fn numbers_compare_numerically() {
        assert_all(&[
            ("age eq 42", true),
            ("age eq 42.0", true),
            (r#"age eq "42""#, true),
            ("age gt 9", true),
            ("age lt 100", true),
            ("age ge 43", false),
            ("score gt 7.25", true),
            ("score le 7.5", true),
            ("score lt 7", false),
            ("age co 4", true),
            ("employeeNumber eq 701984", true),
        ]);
    }

    #[test]
    fn multi_valued_attributes_match_when_any_value_does() {
        assert_all(&[
            (r#"emails co "home.org""#, true),
            (r#"emails eq "ALICE@X.COM""#, true),
            (r#"emails co "example.com""#, false),
            (r#"emails.value ew ".org""#, true),
            (r#"emails.type eq "home""#, true),
            (r#"emails.type eq "other""#, false),
            // ne is the negation of eq: false as soon as one value equals.
            (r#"emails.type ne "work""#, false),
            (r#"emails.type ne "other""#, true),
            (r#"emails.display eq "x""#, false),
            (r#"phoneNumbers co "555""#, false),
            (r#"phoneNumbers ne "555""#, true),
        ]);
    }

    #[test]
    fn presence_and_null() {
        assert_all(&[
            ("userName pr", true),
            ("title pr", false),
            ("nickName pr", false),
            ("emails pr", true),
            ("phoneNumbers pr", false),
            ("name pr", true),
            ("name.givenName pr", true),
            ("name.middleName pr", false),
            ("emails.primary pr", true),
            ("emails.display pr", false),
            ("meta.created pr", true),
            ("meta pr", true),
            ("manager.value pr", true),
            ("nickName eq null", true),
            ("title eq null", true),
            ("userName eq null", false),
            ("userName ne null", true),
            ("nickName ne null", false),
        ]);
    }

    #[test]
    fn unknown_attributes_are_absent() {
        assert_all(&[
            (r#"favouriteColour eq "blue""#, false),
            (r#"favouriteColour ne "blue""#, true),
            ("favouriteColour pr", false),
            ("favouriteColour eq null", true),
            (r#"name.nickname eq "x""#, false),
            (r#"meta.owner eq "x""#, false),
            (
                r#"urn:example:other:2.0:User:userName eq "alice@x.com""#,
                false,
            ),
            (r#"userName[value eq "x"]"#, false),
        ]);
    }

    #[test]
    fn extensions_resolve_with_and_without_their_urn() {
        assert_all(&[
            (r#"employeeNumber eq "701984""#, true),
            (
                concat!(
                    "urn:example:params:scim:schemas:extension:test:2.0:User:",
                    r#"employeeNumber eq "701984""#
                ),
                true,
            ),
            (
                concat!(
                    "urn:example:params:scim:schemas:extension:test:2.0:User:",
                    r#"manager.value eq "26118915""#
                ),
                true,
            ),
            (r#"manager co "2611""#, true),
            (r#"manager[display eq "bob"]"#, true),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "A""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:meta.resourceType eq "User""#,
                true,
            ),
        ]);
    }

    #[test]
    fn logic_and_value_paths() {
        assert_all(&[
            (r#"title pr and userType eq "Employee""#, false),
            (r#"title pr or userName sw "a""#, true),
            (r#"not (title pr) and userName sw "a""#, true),
            (r#"not (userName sw "a" or title pr)"#, false),
            (r#"emails[type eq "work" and value co "@x.com"]"#, true),
            (r#"emails[type eq "home" and value co "@x.com"]"#, false),
            (r#"emails[not (type eq "work")]"#, true),
            (r#"emails[emails.type eq "home"]"#, true),
            (r#"phoneNumbers[type eq "work"]"#, false),
            (r#"phoneNumbers[not (type eq "work")]"#, false),
            (r#"name[givenName eq "alice" and familyName sw "Sm"]"#, true),
            (
                concat!(
                    r#"emails[type eq "work" and value co "@x.com"] or "#,
                    r#"ims[type eq "xmpp" and value co "@foo.com"]"#
                ),
                true,
            ),
            (
                r#"active eq true and (emails co "home.org" or emails.value co "x.org")"#,
                true,
            ),
        ]);
    }

    #[test]
    fn matches_element_reads_sub_attributes() {
        let emails = user_resource().core.attribute("emails").unwrap();
        let element = json!({"value": "bob@example.com", "type": "Work", "primary": "true"});
        let check =
            |filter: &str| matches_element(&parse_filter(filter).unwrap(), &element, emails);
        assert!(check(r#"type eq "work""#));
        assert!(check(r#"TYPE eq "WORK" and primary eq true"#));
        assert!(check(r#"emails.type eq "work""#));
        assert!(check(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:value ew "example.com""#
        ));
        assert!(check("value pr and not (display pr)"));
        assert!(!check(r#"phoneNumbers.type eq "work""#));
        assert!(!check(r#"nope eq "x""#));
        assert!(check(r#"nope ne "x""#));
    }
}
