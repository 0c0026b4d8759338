//! PATCH paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`.
//!
//! This module only reads the path's text into a [`PatchPath`]; the PATCH engine resolves it
//! against the schema and applies the operation. A value path's bracketed filter is read by
//! the filter parser, so both accept the same grammar and report errors the same way.

use std::fmt;

use crate::error::Error;
use crate::filter::{self, AttrPath, Filter};

/// A parsed PATCH path, such as `members[value eq "2819c223"].displayName`.
///
/// A URN-qualified path splits at the last `:` before any `[`, so a path that is only a schema
/// URN, such as `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, reads as the URI
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0` and the name `User`. The PATCH
/// engine recognizes that case, where the path names a whole extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    /// The attribute, with a sub-attribute only when there is no value filter.
    pub attr: AttrPath,
    /// The value filter of a value path: `type eq "work"` in `emails[type eq "work"]`.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value path: `value` in `emails[type eq "work"].value`.
    pub sub_attr: Option<String>,
}

/// Parses a PATCH path, reporting any problem as [`Error::InvalidPath`] with the byte offset
/// of the problem in the message. Surrounding whitespace is ignored.
pub fn parse_patch_path(input: &str) -> Result<PatchPath, Error> {
    parse(input).map_err(|error| match error {
        Error::InvalidFilter { offset, message } => {
            Error::invalid_path(input, format!("{message} at position {offset}"))
        }
        other => other,
    })
}

/// Parses with errors as [`Error::InvalidFilter`], whose offsets the caller turns into text.
fn parse(input: &str) -> Result<PatchPath, Error> {
    // Trailing whitespace is cut off; leading whitespace is skipped, so that offsets still
    // count from the start of what the client sent.
    let text = input.trim_end();
    let start = text.len() - text.trim_start().len();
    if start == text.len() {
        return Err(Error::invalid_path(input, "empty path"));
    }

    let (attr, mut pos) = filter::scan_attr_path(text, start)?;
    let mut path = PatchPath {
        attr,
        filter: None,
        sub_attr: None,
    };
    if text.get(pos..).is_some_and(|rest| rest.starts_with('[')) {
        let (value_filter, after) = filter::parse_value_filter(text, pos, &path.attr)?;
        path.filter = Some(value_filter);
        pos = after;
        if text.get(pos..).is_some_and(|rest| rest.starts_with('.')) {
            let (sub_attr, after) = filter::scan_attr_name(text, pos + 1)?;
            path.sub_attr = Some(sub_attr);
            pos = after;
        }
    }

    if pos < text.len() {
        let rest = text.get(pos..).unwrap_or("");
        let at = pos + rest.len() - rest.trim_start().len();
        let expected = match (&path.filter, &path.sub_attr, &path.attr.sub_attr) {
            (Some(_), None, _) => "\".\" or the end of the path",
            (None, _, None) => "\"[\" or the end of the path",
            _ => "the end of the path",
        };
        let message = format!("expected {expected}, found {}", filter::found_at(text, at));
        return Err(Error::InvalidFilter {
            offset: at,
            message,
        });
    }
    Ok(path)
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(value_filter) = &self.filter {
            write!(f, "[{value_filter}]")?;
        }
        if let Some(sub_attr) = &self.sub_attr {
            write!(f, ".{sub_attr}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filter::{CompValue, CompareOp};

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    fn eq(name: &str, value: &str) -> Filter {
        Filter::Compare {
            path: AttrPath::new(name),
            op: CompareOp::Eq,
            value: CompValue::String(value.to_owned()),
        }
    }

    fn path(attr: AttrPath, filter: Option<Filter>, sub_attr: Option<&str>) -> PatchPath {
        PatchPath {
            attr,
            filter,
            sub_attr: sub_attr.map(str::to_owned),
        }
    }

    fn message(input: &str) -> String {
        match parse_patch_path(input) {
            Err(Error::InvalidPath { path, message }) => {
                assert_eq!(path, input);
                message
            }
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    #[test]
    fn parses_the_paths_of_rfc_7644() {
        let cases = [
            ("members", path(AttrPath::new("members"), None, None)),
            (
                "name.familyName",
                path(
                    AttrPath::new("name").with_sub_attr("familyName"),
                    None,
                    None,
                ),
            ),
            (
                r#"addresses[type eq "work"]"#,
                path(AttrPath::new("addresses"), Some(eq("type", "work")), None),
            ),
            (
                r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
                path(
                    AttrPath::new("members"),
                    Some(eq("value", "2819c223-7f76-453a-919d-413861904646")),
                    None,
                ),
            ),
            (
                r#"members[value eq "2819c223"].displayName"#,
                path(
                    AttrPath::new("members"),
                    Some(eq("value", "2819c223")),
                    Some("displayName"),
                ),
            ),
            (
                r#"emails[type eq "work"].value"#,
                path(
                    AttrPath::new("emails"),
                    Some(eq("type", "work")),
                    Some("value"),
                ),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                path(AttrPath::new("manager").with_uri(ENTERPRISE), None, None),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                path(
                    AttrPath::new("manager")
                        .with_uri(ENTERPRISE)
                        .with_sub_attr("value"),
                    None,
                    None,
                ),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
                path(
                    AttrPath::new("name")
                        .with_uri(CORE)
                        .with_sub_attr("givenName"),
                    None,
                    None,
                ),
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[value eq "a:b"].value"#,
                path(
                    AttrPath::new("emails").with_uri(CORE),
                    Some(eq("value", "a:b")),
                    Some("value"),
                ),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                path(
                    AttrPath::new("User")
                        .with_uri("urn:ietf:params:scim:schemas:extension:enterprise:2.0"),
                    None,
                    None,
                ),
            ),
            (
                "  groups[$ref ew \"/Groups/1\" or (type eq direct)] ",
                path(
                    AttrPath::new("groups"),
                    Some(Filter::Or(
                        Box::new(Filter::Compare {
                            path: AttrPath::new("$ref"),
                            op: CompareOp::Ew,
                            value: CompValue::String("/Groups/1".to_owned()),
                        }),
                        Box::new(eq("type", "direct")),
                    )),
                    None,
                ),
            ),
        ];
        for (text, expected) in cases {
            let parsed = parse_patch_path(text).unwrap();
            assert_eq!(parsed, expected, "{text}");
            assert_eq!(
                parse_patch_path(&parsed.to_string()).unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn displays_the_canonical_path() {
        let parsed = parse_patch_path(r#"emails[Type EQ "work" AND primary eq True].Value"#);
        assert_eq!(
            parsed.unwrap().to_string(),
            r#"emails[Type eq "work" and primary eq true].Value"#
        );
    }

    #[test]
    fn reports_what_is_wrong_and_where() {
        let cases = [
            ("", "empty path"),
            ("   ", "empty path"),
            (
                "emails#work",
                "unexpected \"#\" in an attribute name; names use letters, digits, \"-\" and \"_\" \
                 at position 6",
            ),
            (
                "9lives",
                "an attribute name must start with a letter, found \"9\" at position 0",
            ),
            (
                r#"emails[type eq "work""#,
                r#"expected "]", found end of path at position 21"#,
            ),
            (
                r#"addresses[type eq "work" x]"#,
                r#"expected "]", found "x" at position 25"#,
            ),
            (
                r#"emails[type eq "work"]x"#,
                r#"expected "." or the end of the path, found "x" at position 22"#,
            ),
            (
                r#"emails[type eq "work"].value.display"#,
                "an attribute path has at most one sub-attribute at position 28",
            ),
            (
                "members extra",
                r#"expected "[" or the end of the path, found "extra" at position 8"#,
            ),
            (
                "name.givenName]",
                r#"expected the end of the path, found "]" at position 14"#,
            ),
            (
                "name.",
                r#"expected a sub-attribute name after "." at position 5"#,
            ),
            (
                r#"emails[type eq "work"]."#,
                r#"expected a sub-attribute name after ".", found end of path at position 23"#,
            ),
            (
                r#"name.givenName[value eq "x"]"#,
                "a value filter applies to a multi-valued attribute, not to the sub-attribute \
                 \"givenName\" at position 14",
            ),
            (
                "a.b.c",
                "an attribute path has at most one sub-attribute at position 3",
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:",
                "expected an attribute name after the schema URN at position 43",
            ),
            (
                r#"emails[type[value eq "x"]]"#,
                "a value filter cannot contain another value path; its paths name \
                 sub-attributes at position 11",
            ),
            (
                "[type eq \"work\"]",
                r#"expected an attribute path, found "[" at position 0"#,
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(message(input), expected, "{input:?}");
        }
    }

    #[test]
    fn error_display_names_the_path() {
        let error = parse_patch_path("emails[").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid path \"emails[\": expected an attribute path, \"(\" or \"not\", found end of \
             path at position 7"
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let inputs = [
            "é",
            "emails[é",
            "emails[type eq \"é",
            "urn:é:ü",
            "urn:",
            "urn:x:",
            "a.",
            ".a",
            "[",
            "]",
            "a[]",
            "a[",
            "a]",
            "a..b",
            "$",
            "$ref",
            "emails[value eq \"x\"].",
            "ü.ä[ö]",
        ];
        for input in inputs {
            let _ = parse_patch_path(input);
        }
    }
}
