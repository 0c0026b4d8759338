//! SCIM filters (RFC 7644 §3.4.2.2): the syntax tree, its canonical text, and the entry points.
//!
//! This module owns the [`Filter`] tree that a `filter` query parameter or a PATCH value path
//! becomes. The parser lives in `parse` and the evaluator in `eval`; listing users, the PATCH
//! engine and [`crate::path`] only see the functions re-exported here. Which attributes exist
//! and how they compare is not decided here but read from [`crate::schema`].

mod eval;
mod parse;

use std::fmt;

use serde_json::{Number, Value};

use crate::error::Error;
use crate::schema::{AttributeType, ResourceSchema};

pub use eval::{matches, matches_element};
pub(crate) use parse::{found_at, parse_value_filter, scan_attr_name, scan_attr_path};

/// A parsed filter expression (RFC 7644 §3.4.2.2, Figure 1 and the `FILTER` rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `attrPath pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attrPath compareOp compValue`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `attrPath "[" valFilter "]"`, as in `emails[type eq "work" and primary eq true]`; the
    /// paths inside `filter` name sub-attributes of `path`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// The comparison operators of RFC 7644 §3.4.2.2, Table 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// The `compValue` of a comparison: a JSON literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

/// An `attrPath`: an optional schema URN, an attribute name and an optional sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub uri: Option<String>,
    pub name: String,
    pub sub_attr: Option<String>,
}

/// Bounds on the size of a filter, so that a hostile filter cannot exhaust the stack or the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// The longest filter accepted, in characters.
    pub max_length: usize,
    /// How deep groups, `not` and value paths may nest.
    pub max_depth: usize,
    /// How many nodes the tree may have: each comparison, `pr`, value path, `and`, `or`, `not`.
    pub max_nodes: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        FilterLimits {
            max_length: 4096,
            max_depth: 32,
            max_nodes: 256,
        }
    }
}

/// Parses a filter with the [`FilterLimits`] in force (see [`crate::limits`]).
pub fn parse_filter(input: &str) -> Result<Filter, Error> {
    parse_filter_with(input, &crate::limits::limits().filter)
}

/// Parses a filter, rejecting it with [`Error::InvalidFilter`] when it breaks the grammar or
/// one of `limits`. The error's offset is a byte offset into `input`.
pub fn parse_filter_with(input: &str, limits: &FilterLimits) -> Result<Filter, Error> {
    parse::parse(input, limits)
}

/// Checks a parsed filter against the attributes it names (RFC 7644 §3.4.2.2): `gt`, `ge`,
/// `lt` and `le` on a boolean or binary attribute, and a value filter (`name[...]`) on an
/// attribute that is not complex, are `invalidFilter`. `input` is the filter's text, used to
/// point at the attribute in the error.
pub fn check_filter(filter: &Filter, input: &str, schema: &ResourceSchema) -> Result<(), Error> {
    let at = |path: &AttrPath| {
        input
            .to_ascii_lowercase()
            .find(&path.name.to_ascii_lowercase())
            .unwrap_or(0)
    };
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            check_filter(left, input, schema)?;
            check_filter(right, input, schema)
        }
        Filter::Not(inner) => check_filter(inner, input, schema),
        Filter::Present(_) => Ok(()),
        Filter::Compare { path, op, .. } => {
            let ordering = matches!(
                op,
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
            );
            let kind = schema
                .resolve(path.uri.as_deref(), &path.name)
                .map(|resolved| match path.sub_attr.as_deref() {
                    Some(sub) => resolved.attribute.sub_attribute(sub),
                    None => Some(resolved.attribute),
                })
                .and_then(|attribute| attribute.map(|a| a.kind));
            match kind {
                Some(kind @ (AttributeType::Boolean | AttributeType::Binary)) if ordering => {
                    Err(Error::InvalidFilter {
                        offset: at(path),
                        message: format!(
                            "{} cannot order {path}, which is {}",
                            op.as_str(),
                            if kind == AttributeType::Boolean {
                                "a boolean"
                            } else {
                                "binary"
                            }
                        ),
                    })
                }
                _ => Ok(()),
            }
        }
        Filter::ValuePath { path, .. } => {
            let complex = schema
                .resolve(path.uri.as_deref(), &path.name)
                .is_some_and(|resolved| resolved.attribute.kind == AttributeType::Complex);
            if complex || schema.resolve(path.uri.as_deref(), &path.name).is_none() {
                Ok(())
            } else {
                Err(Error::InvalidFilter {
                    offset: at(path),
                    message: format!("{path} is not complex, so it takes no value filter"),
                })
            }
        }
    }
}

impl AttrPath {
    /// An unqualified path without a sub-attribute, such as `userName`.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            uri: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// The same path with a sub-attribute, such as `emails.value`.
    pub fn with_sub_attr(mut self, sub_attr: impl Into<String>) -> Self {
        self.sub_attr = Some(sub_attr.into());
        self
    }

    /// The same path qualified by a schema URN.
    pub fn with_uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }
}

impl CompareOp {
    /// The operator as the RFC spells it, in lower case.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Reads an operator keyword, case-insensitively (RFC 7644 §3.4.2.2).
    pub fn from_keyword(word: &str) -> Option<Self> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub_attr) = &self.sub_attr {
            write!(f, ".{sub_attr}")?;
        }
        Ok(())
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(value) => write!(f, "{value}"),
            CompValue::Number(value) => write!(f, "{value}"),
            // A JSON string literal is also the filter's string literal, escapes included.
            CompValue::String(value) => write!(f, "{}", Value::String(value.clone())),
        }
    }
}

/// Prints the canonical form: lower-case keywords, single spaces, and parentheses exactly
/// where the tree needs them, so that the text parses back to an equal tree.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Or(left, right) => {
                write!(f, "{left} or ")?;
                write_operand(f, right, matches!(**right, Filter::Or(..)))
            }
            Filter::And(left, right) => {
                write_operand(f, left, matches!(**left, Filter::Or(..)))?;
                f.write_str(" and ")?;
                write_operand(
                    f,
                    right,
                    matches!(**right, Filter::Or(..) | Filter::And(..)),
                )
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
        }
    }
}

/// Both `and` and `or` associate to the left, so a right operand of the same operator (and any
/// `or` under an `and`) needs parentheses to keep its place in the tree.
fn write_operand(f: &mut fmt::Formatter<'_>, operand: &Filter, grouped: bool) -> fmt::Result {
    if grouped {
        write!(f, "({operand})")
    } else {
        write!(f, "{operand}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare { path, op, value }
    }

    fn string(value: &str) -> CompValue {
        CompValue::String(value.to_owned())
    }

    fn and(left: Filter, right: Filter) -> Filter {
        Filter::And(Box::new(left), Box::new(right))
    }

    fn or(left: Filter, right: Filter) -> Filter {
        Filter::Or(Box::new(left), Box::new(right))
    }

    fn error(input: &str) -> (usize, String) {
        match parse_filter(input) {
            Err(Error::InvalidFilter { offset, message }) => (offset, message),
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    #[test]
    fn parses_the_examples_of_rfc_7644() {
        let emails_either = or(
            cmp(
                AttrPath::new("emails"),
                CompareOp::Co,
                string("example.com"),
            ),
            cmp(
                AttrPath::new("emails").with_sub_attr("value"),
                CompareOp::Co,
                string("example.org"),
            ),
        );
        let cases = [
            (
                r#"userName Eq "john""#,
                cmp(AttrPath::new("userName"), CompareOp::Eq, string("john")),
            ),
            (
                r#"Username eq "john""#,
                cmp(AttrPath::new("Username"), CompareOp::Eq, string("john")),
            ),
            (
                r#"name.familyName co "O'Malley""#,
                cmp(
                    AttrPath::new("name").with_sub_attr("familyName"),
                    CompareOp::Co,
                    string("O'Malley"),
                ),
            ),
            (
                r#"userName sw "J""#,
                cmp(AttrPath::new("userName"), CompareOp::Sw, string("J")),
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
                cmp(
                    AttrPath::new("userName")
                        .with_uri("urn:ietf:params:scim:schemas:core:2.0:User"),
                    CompareOp::Sw,
                    string("J"),
                ),
            ),
            ("title pr", Filter::Present(AttrPath::new("title"))),
            (
                r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
                cmp(
                    AttrPath::new("meta").with_sub_attr("lastModified"),
                    CompareOp::Gt,
                    string("2011-05-13T04:42:34Z"),
                ),
            ),
            (
                r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
                cmp(
                    AttrPath::new("meta").with_sub_attr("lastModified"),
                    CompareOp::Le,
                    string("2011-05-13T04:42:34Z"),
                ),
            ),
            (
                r#"title pr and userType eq "Employee""#,
                and(
                    Filter::Present(AttrPath::new("title")),
                    cmp(AttrPath::new("userType"), CompareOp::Eq, string("Employee")),
                ),
            ),
            (
                r#"title pr or userType eq "Intern""#,
                or(
                    Filter::Present(AttrPath::new("title")),
                    cmp(AttrPath::new("userType"), CompareOp::Eq, string("Intern")),
                ),
            ),
            (
                r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
                cmp(
                    AttrPath::new("schemas"),
                    CompareOp::Eq,
                    string("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"),
                ),
            ),
            (
                concat!(
                    r#"userType eq "Employee" and "#,
                    r#"(emails co "example.com" or emails.value co "example.org")"#
                ),
                and(
                    cmp(AttrPath::new("userType"), CompareOp::Eq, string("Employee")),
                    emails_either.clone(),
                ),
            ),
            (
                concat!(
                    r#"userType ne "Employee" and "#,
                    r#"not (emails co "example.com" or emails.value co "example.org")"#
                ),
                and(
                    cmp(AttrPath::new("userType"), CompareOp::Ne, string("Employee")),
                    Filter::Not(Box::new(emails_either)),
                ),
            ),
            (
                r#"userType eq "Employee" and (emails.type eq "work")"#,
                and(
                    cmp(AttrPath::new("userType"), CompareOp::Eq, string("Employee")),
                    cmp(
                        AttrPath::new("emails").with_sub_attr("type"),
                        CompareOp::Eq,
                        string("work"),
                    ),
                ),
            ),
            (
                r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
                and(
                    cmp(AttrPath::new("userType"), CompareOp::Eq, string("Employee")),
                    Filter::ValuePath {
                        path: AttrPath::new("emails"),
                        filter: Box::new(and(
                            cmp(AttrPath::new("type"), CompareOp::Eq, string("work")),
                            cmp(
                                AttrPath::new("value"),
                                CompareOp::Co,
                                string("@example.com"),
                            ),
                        )),
                    },
                ),
            ),
            (
                concat!(
                    r#"emails[type eq "work" and value co "@example.com"] or "#,
                    r#"ims[type eq "xmpp" and value co "@foo.com"]"#
                ),
                or(
                    Filter::ValuePath {
                        path: AttrPath::new("emails"),
                        filter: Box::new(and(
                            cmp(AttrPath::new("type"), CompareOp::Eq, string("work")),
                            cmp(
                                AttrPath::new("value"),
                                CompareOp::Co,
                                string("@example.com"),
                            ),
                        )),
                    },
                    Filter::ValuePath {
                        path: AttrPath::new("ims"),
                        filter: Box::new(and(
                            cmp(AttrPath::new("type"), CompareOp::Eq, string("xmpp")),
                            cmp(AttrPath::new("value"), CompareOp::Co, string("@foo.com")),
                        )),
                    },
                ),
            ),
        ];
        for (text, expected) in cases {
            let parsed = parse_filter(text).unwrap();
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(
                parse_filter(&parsed.to_string()).unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn display_is_canonical_and_parses_back() {
        let cases = [
            (r#"userName Eq "john""#, r#"userName eq "john""#),
            ("title  PR", "title pr"),
            ("a pr or b pr or c pr", "a pr or b pr or c pr"),
            ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
            ("a pr and b pr or c pr", "a pr and b pr or c pr"),
            ("a pr and (b pr or c pr)", "a pr and (b pr or c pr)"),
            ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
            ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
            ("((a pr))", "a pr"),
            ("NOT(a pr)", "not (a pr)"),
            // Found by fuzzing: numbers must be read exactly to print back as they came.
            ("a eq 3e97", "a eq 3e+97"),
            ("not (not (a pr))", "not (not (a pr))"),
            ("active eq TRUE", "active eq true"),
            ("x eq Null", "x eq null"),
            ("n gt -1.5e3", "n gt -1500.0"),
            ("n le 42", "n le 42"),
            (
                r#"x eq "q\"uote\\ \u00e9 \ud83d\ude00""#,
                r#"x eq "q\"uote\\ é 😀""#,
            ),
            ("externalId eq 5a2b-77", r#"externalId eq "5a2b-77""#),
            (
                r#"emails[type eq "work" and not (primary eq false)]"#,
                r#"emails[type eq "work" and not (primary eq false)]"#,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq 7"#,
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq 7"#,
            ),
            (
                r#"groups[$ref ew "/Groups/1" or (display sw "a" and type eq "direct")]"#,
                r#"groups[$ref ew "/Groups/1" or display sw "a" and type eq "direct"]"#,
            ),
        ];
        for (text, canonical) in cases {
            let parsed = parse_filter(text).unwrap();
            assert_eq!(parsed.to_string(), canonical, "{text}");
            assert_eq!(parse_filter(canonical).unwrap(), parsed, "{text}");
        }
    }

    #[test]
    fn display_parenthesises_trees_built_by_hand() {
        let leaf = |name: &str| Filter::Present(AttrPath::new(name));
        let trees = [
            or(leaf("a"), or(leaf("b"), leaf("c"))),
            and(or(leaf("a"), leaf("b")), and(leaf("c"), leaf("d"))),
            and(leaf("a"), Filter::Not(Box::new(or(leaf("b"), leaf("c"))))),
            or(
                and(leaf("a"), leaf("b")),
                and(leaf("c"), or(leaf("d"), leaf("e"))),
            ),
        ];
        for tree in trees {
            assert_eq!(parse_filter(&tree.to_string()).unwrap(), tree, "{tree}");
        }
    }

    #[test]
    fn enforces_the_limits() {
        let long = format!(r#"x eq "{}""#, "é".repeat(4096));
        let (offset, message) = error(&long);
        assert_eq!(message, "filter is longer than 4096 characters");
        assert_eq!(long[..offset].chars().count(), 4096);
        // The limit counts characters, not bytes.
        assert!(parse_filter(&format!(r#"x eq "{}""#, "é".repeat(4086))).is_ok());

        let nested = |levels: usize| format!("{}a pr{}", "(".repeat(levels), ")".repeat(levels));
        assert!(parse_filter(&nested(32)).is_ok());
        assert_eq!(
            error(&nested(33)),
            (32, "filter nests deeper than 32 levels".to_owned())
        );
        let negated = format!("{}a pr{}", "not (".repeat(33), ")".repeat(33));
        assert_eq!(error(&negated).1, "filter nests deeper than 32 levels");

        let terms = |count: usize| vec!["a pr"; count].join(" or ");
        assert!(parse_filter(&terms(128)).is_ok());
        assert_eq!(error(&terms(129)).1, "filter has more than 256 expressions");

        let small = FilterLimits {
            max_length: 20,
            max_depth: 1,
            max_nodes: 3,
        };
        let limited = |input: &str| match parse_filter_with(input, &small) {
            Err(Error::InvalidFilter { message, .. }) => message,
            other => panic!("{input:?} gave {other:?}"),
        };
        assert_eq!(
            limited("a pr or b pr or c pr"),
            "filter has more than 3 expressions"
        );
        assert_eq!(limited("((a pr))"), "filter nests deeper than 1 levels");
        assert_eq!(
            limited("emails[not (a pr)]"),
            "filter nests deeper than 1 levels"
        );
        assert_eq!(
            limited("abcdefghijklmnopq pr "),
            "filter is longer than 20 characters"
        );
        assert!(parse_filter_with("(a pr) or b pr", &small).is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "(".repeat(100_000);
        assert_eq!(error(&deep).1, "filter is longer than 4096 characters");

        let unbounded_length = FilterLimits {
            max_length: usize::MAX,
            ..FilterLimits::default()
        };
        for deep in [deep, "not (".repeat(20_000), "emails[".repeat(20_000)] {
            let result = parse_filter_with(&deep, &unbounded_length);
            assert!(
                matches!(result, Err(Error::InvalidFilter { .. })),
                "{result:?}"
            );
        }
    }

    /// Feeds the parser pseudo-random strings over the grammar's alphabet: it must never panic,
    /// and whatever it accepts must print as text that parses back to the same tree.
    #[test]
    fn random_input_never_panics_and_round_trips() {
        const PIECES: [&str; 30] = [
            "a", "emails", ".", "value", ":", "urn:x:y:", " ", "  ", "(", ")", "[", "]", "\"",
            "\\", "\\u", "d83d", "é", "😀", "eq", " eq ", " co ", " gt ", " pr", " and ", " or ",
            "not ", "1", "-2.5e1", "true", "null",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut accepted = 0;
        for _ in 0..20_000 {
            let len = next() % 12;
            let input: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            if let Ok(filter) = parse_filter(&input) {
                accepted += 1;
                let printed = filter.to_string();
                assert_eq!(
                    parse_filter(&printed).unwrap(),
                    filter,
                    "{input:?} -> {printed:?}"
                );
            }
        }
        assert!(accepted > 100, "only {accepted} inputs parsed");
    }
}
