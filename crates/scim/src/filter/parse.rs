//! The parser for the filter grammar of RFC 7644 §3.4.2.2, also used for PATCH paths.
//!
//! A recursive descent over the input string, one function per grammar rule: `or` binds
//! loosest, then `and`, then `not` and grouping. Every error carries the byte offset of the
//! problem. The parser never slices inside a character, and it checks the nesting depth before
//! each recursive step, so no input can make it panic or overflow the stack.
//!
//! Beyond the RFC it accepts what identity providers send in practice: keywords in any case,
//! extra whitespace, and unquoted values (`externalId eq 5a2b`), read as strings.

use serde_json::Number;

use super::{AttrPath, CompValue, CompareOp, Filter, FilterLimits};
use crate::error::Error;

/// How many characters of the offending text an error message quotes.
const QUOTED_CHARS: usize = 40;

pub(super) fn parse(input: &str, limits: &FilterLimits) -> Result<Filter, Error> {
    if input.len() > limits.max_length {
        // Only count characters when the byte length says the filter may be too long.
        if let Some((offset, _)) = input.char_indices().nth(limits.max_length) {
            let message = format!("filter is longer than {} characters", limits.max_length);
            return Err(Error::InvalidFilter { offset, message });
        }
    }
    if input.trim().is_empty() {
        return Err(Error::InvalidFilter {
            offset: 0,
            message: "empty filter".to_owned(),
        });
    }

    let mut parser = Parser::new(input, 0, *limits, "end of filter");
    let filter = parser.or_expression()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(filter),
        Some(c @ (')' | ']')) => Err(parser.error(parser.pos, format!("unexpected \"{c}\""))),
        Some(_) => Err(parser.error(
            parser.pos,
            format!(
                "expected \"and\", \"or\" or the end of the filter, found {}",
                parser.found(parser.pos)
            ),
        )),
    }
}

/// Parses the bracketed value filter of a PATCH path (RFC 7644 §3.5.2). `open` is the byte
/// offset of `[` in `input`, which follows `path`; returns the filter and the offset after `]`.
pub(crate) fn parse_value_filter(
    input: &str,
    open: usize,
    path: &AttrPath,
) -> Result<(Filter, usize), Error> {
    let mut parser = Parser::new(input, open, FilterLimits::default(), "end of path");
    let filter = parser.bracketed_filter(path)?;
    Ok((filter, parser.pos))
}

/// Reads the attribute path that starts at byte offset `start`; returns it and the offset
/// after it.
pub(crate) fn scan_attr_path(input: &str, start: usize) -> Result<(AttrPath, usize), Error> {
    let mut parser = Parser::new(input, start, FilterLimits::default(), "end of path");
    let path = parser.attr_path()?;
    Ok((path, parser.pos))
}

/// Reads a bare sub-attribute name, as after `emails[type eq "work"].`, that starts at `start`.
pub(crate) fn scan_attr_name(input: &str, start: usize) -> Result<(String, usize), Error> {
    let parser = Parser::new(input, start, FilterLimits::default(), "end of path");
    let end = parser.word_end(start);
    let name = input.get(start..end).unwrap_or("");
    if name.is_empty() {
        let message = format!(
            "expected a sub-attribute name after \".\", found {}",
            parser.found(start)
        );
        return Err(parser.error(start, message));
    }
    check_name(name, start, "a sub-attribute name").map_err(|(at, m)| parser.error(at, m))?;
    Ok((name.to_owned(), end))
}

/// Describes the text at `at` for an error message: a quoted word or character, or the end.
pub(crate) fn found_at(input: &str, at: usize) -> String {
    Parser::new(input, at, FilterLimits::default(), "end of path").found(at)
}

struct Parser<'a> {
    input: &'a str,
    /// Byte offset of the next character; always on a character boundary.
    pos: usize,
    limits: FilterLimits,
    depth: usize,
    nodes: usize,
    /// Inside `[...]`, where RFC 7644 does not allow another value path.
    in_value_path: bool,
    /// How error messages name the end of the input: of a filter or of a PATCH path.
    end_name: &'static str,
}

/// Characters that end an attribute path, an operator or a keyword.
fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"')
}

impl<'a> Parser<'a> {
    fn new(input: &'a str, pos: usize, limits: FilterLimits, end_name: &'static str) -> Self {
        Parser {
            input,
            pos,
            limits,
            depth: 0,
            nodes: 0,
            in_value_path: false,
            end_name,
        }
    }

    /// `FILTER = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"`, with `or` on top.
    fn or_expression(&mut self) -> Result<Filter, Error> {
        let mut left = self.and_expression()?;
        while self.eat_keyword("or") {
            let at = self.pos;
            let right = self.and_expression()?;
            left = self.node(at, Filter::Or(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn and_expression(&mut self) -> Result<Filter, Error> {
        let mut left = self.unary_expression()?;
        while self.eat_keyword("and") {
            let at = self.pos;
            let right = self.unary_expression()?;
            left = self.node(at, Filter::And(Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    /// A group, a `not (...)`, or an attribute expression.
    fn unary_expression(&mut self) -> Result<Filter, Error> {
        self.skip_whitespace();
        let start = self.pos;
        match self.peek() {
            Some('(') => self.group(),
            None | Some(')' | ']' | '"') => Err(self.error(
                start,
                format!(
                    "expected an attribute path, \"(\" or \"not\", found {}",
                    self.found(start)
                ),
            )),
            Some(_) => {
                let end = self.word_end(start);
                if !self.text(start, end).eq_ignore_ascii_case("not") {
                    return self.attr_expression();
                }

                // RFC 7644 only negates a parenthesised filter; `not title pr` is an error.
                self.pos = end;
                self.skip_whitespace();
                if self.peek() != Some('(') {
                    let message = format!(
                        "expected \"(\" after \"not\", found {}; not applies to a filter in \
                         parentheses, as in not (title pr)",
                        self.found(self.pos)
                    );
                    return Err(self.error(self.pos, message));
                }
                let inner = self.group()?;
                self.node(start, Filter::Not(Box::new(inner)))
            }
        }
    }

    /// `"(" FILTER ")"`, with the parser at the `(`.
    fn group(&mut self) -> Result<Filter, Error> {
        let open = self.pos;
        self.enter(open)?;
        self.pos += 1;
        let inner = self.or_expression()?;
        self.expect_close(')')?;
        self.depth -= 1;
        Ok(inner)
    }

    /// `attrPath "pr"`, `attrPath compareOp compValue`, or a value path.
    fn attr_expression(&mut self) -> Result<Filter, Error> {
        let start = self.pos;
        let path = self.attr_path()?;
        if self.peek() == Some('[') {
            let filter = self.bracketed_filter(&path)?;
            if self.peek() == Some('.') {
                // Microsoft Entra ID sends `emails[type eq "work"].value eq "x"`, which the RFC
                // 7644 grammar has no rule for. It means an element that matches the filter and
                // whose sub-attribute passes the test: `emails[type eq "work" and value eq "x"]`.
                self.pos += 1;
                let (sub, end) = scan_attr_name(self.input, self.pos)?;
                let test_at = self.pos;
                self.pos = end;
                let test = self.comparison(test_at, AttrPath::new(sub))?;
                let both = self.node(start, Filter::And(Box::new(filter), Box::new(test)))?;
                let filter = Box::new(both);
                return self.node(start, Filter::ValuePath { path, filter });
            }
            let filter = Box::new(filter);
            return self.node(start, Filter::ValuePath { path, filter });
        }
        self.comparison(start, path)
    }

    /// `"pr"` or `compareOp compValue` after `path`, which started at `start`.
    fn comparison(&mut self, start: usize, path: AttrPath) -> Result<Filter, Error> {
        self.skip_whitespace();
        let op_at = self.pos;
        let op_end = self.word_end(op_at);
        let word = self.text(op_at, op_end);
        if word.eq_ignore_ascii_case("pr") {
            self.pos = op_end;
            self.reject_value_after_pr()?;
            return self.node(start, Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            let message = format!(
                "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr, \
                 found {}",
                self.found(op_at)
            );
            return Err(self.error(op_at, message));
        };
        self.pos = op_end;

        self.skip_whitespace();
        let value = self.comp_value(op)?;
        self.node(start, Filter::Compare { path, op, value })
    }

    /// `"[" valFilter "]"`, with the parser at the `[` that follows `path`.
    fn bracketed_filter(&mut self, path: &AttrPath) -> Result<Filter, Error> {
        let open = self.pos;
        if self.in_value_path {
            return Err(self.error(
                open,
                "a value filter cannot contain another value path; its paths name \
                 sub-attributes",
            ));
        }
        if let Some(sub_attr) = &path.sub_attr {
            let message = format!(
                "a value filter applies to a multi-valued attribute, not to the sub-attribute \
                 \"{sub_attr}\""
            );
            return Err(self.error(open, message));
        }

        self.enter(open)?;
        self.in_value_path = true;
        self.pos += 1;
        let filter = self.or_expression()?;
        self.expect_close(']')?;
        self.in_value_path = false;
        self.depth -= 1;
        Ok(filter)
    }

    /// `attrPath = [URI ":"] ATTRNAME *1subAttr`.
    fn attr_path(&mut self) -> Result<AttrPath, Error> {
        let start = self.pos;
        let end = self.word_end(start);
        if end == start {
            let message = format!("expected an attribute path, found {}", self.found(start));
            return Err(self.error(start, message));
        }
        let path = split_attr_path(self.text(start, end), start)
            .map_err(|(at, message)| self.error(at, message))?;
        self.pos = end;
        Ok(path)
    }

    /// `compValue = false / null / true / number / string`, or an unquoted word read as a
    /// string, as Microsoft Entra ID sends `id eq 1234-abcd`.
    fn comp_value(&mut self, op: CompareOp) -> Result<CompValue, Error> {
        let at = self.pos;
        let (value, raw) = match self.peek() {
            Some('"') => (CompValue::String(self.string()?), None),
            None | Some(')' | ']') => {
                let message = format!(
                    "expected a value after {op} (a string, number, true, false or null), \
                     found {}",
                    self.found(at)
                );
                return Err(self.error(at, message));
            }
            Some(_) => {
                let end = self
                    .rest(at)
                    .char_indices()
                    .find(|&(_, c)| c.is_whitespace() || c == ')' || c == ']')
                    .map_or(self.input.len(), |(i, _)| at + i);
                let raw = self.text(at, end);
                self.pos = end;
                (bare_value(raw), Some(raw))
            }
        };

        match (op, value) {
            (CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le, CompValue::Bool(_)) => {
                Err(self.error(at, format!("{op} cannot compare booleans")))
            }
            (CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le, CompValue::Null) => {
                Err(self.error(at, format!("{op} cannot compare with null")))
            }
            // An unquoted number after co, sw or ew is text to look for, such as an id prefix.
            (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, CompValue::Number(number)) => {
                let text = raw.map_or_else(|| number.to_string(), str::to_owned);
                Ok(CompValue::String(text))
            }
            (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, value @ CompValue::String(_)) => {
                Ok(value)
            }
            (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, value) => {
                Err(self.error(at, format!("{op} needs a string value, found {value}")))
            }
            (_, value) => Ok(value),
        }
    }

    /// A JSON string (RFC 8259 §7), with the parser at the opening quote.
    fn string(&mut self) -> Result<String, Error> {
        let open = self.pos;
        let mut out = String::new();
        let mut chars = self.rest(open + 1).char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = open + 1 + i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let at = open + 1 + i;
                    let unescaped = match chars.next() {
                        None => break,
                        Some((_, '"')) => '"',
                        Some((_, '\\')) => '\\',
                        Some((_, '/')) => '/',
                        Some((_, 'b')) => '\u{8}',
                        Some((_, 'f')) => '\u{c}',
                        Some((_, 'n')) => '\n',
                        Some((_, 'r')) => '\r',
                        Some((_, 't')) => '\t',
                        Some((_, 'u')) => self.unicode_escape(&mut chars, at)?,
                        Some((_, other)) => {
                            let message = format!("invalid escape \"\\{other}\" in a string");
                            return Err(self.error(at, message));
                        }
                    };
                    out.push(unescaped);
                }
                c => out.push(c),
            }
        }
        Err(self.error(open, "unterminated string"))
    }

    /// The rest of a `\uXXXX` escape at `at`, including the second half of a surrogate pair.
    fn unicode_escape(
        &self,
        chars: &mut std::str::CharIndices<'_>,
        at: usize,
    ) -> Result<char, Error> {
        let malformed = || self.error(at, "invalid \\u escape: expected four hex digits");
        let unpaired = || self.error(at, "invalid \\u escape: unpaired UTF-16 surrogate");
        let first = hex4(chars).ok_or_else(malformed)?;
        let code = match first {
            // Characters outside the Basic Multilingual Plane arrive as a UTF-16 surrogate pair.
            0xD800..=0xDBFF => {
                let low = match (chars.next(), chars.next()) {
                    (Some((_, '\\')), Some((_, 'u'))) => hex4(chars).ok_or_else(malformed)?,
                    _ => return Err(unpaired()),
                };
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(unpaired());
                }
                0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(unpaired()),
            code => code,
        };
        char::from_u32(code).ok_or_else(malformed)
    }

    /// After `pr` comes an operator, a closing bracket or the end, never a value.
    fn reject_value_after_pr(&mut self) -> Result<(), Error> {
        let before = self.pos;
        self.skip_whitespace();
        let at = self.pos;
        let word = self.text(at, self.word_end(at));
        let fine = matches!(self.peek(), None | Some(')' | ']'))
            || word.eq_ignore_ascii_case("and")
            || word.eq_ignore_ascii_case("or");
        self.pos = before;
        if fine {
            Ok(())
        } else {
            Err(self.error(at, format!("pr takes no value, found {}", self.found(at))))
        }
    }

    fn expect_close(&mut self, close: char) -> Result<(), Error> {
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        let message = format!("expected \"{close}\", found {}", self.found(self.pos));
        Err(self.error(self.pos, message))
    }

    /// Consumes `keyword` (case-insensitively) after optional whitespace, or consumes nothing.
    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let before = self.pos;
        self.skip_whitespace();
        let end = self.word_end(self.pos);
        if self.text(self.pos, end).eq_ignore_ascii_case(keyword) {
            self.pos = end;
            true
        } else {
            self.pos = before;
            false
        }
    }

    /// Counts one level of nesting, refusing to go deeper than the limit before recursing.
    fn enter(&mut self, at: usize) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            let message = format!("filter nests deeper than {} levels", self.limits.max_depth);
            return Err(self.error(at, message));
        }
        Ok(())
    }

    fn node(&mut self, at: usize, filter: Filter) -> Result<Filter, Error> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            let message = format!("filter has more than {} expressions", self.limits.max_nodes);
            return Err(self.error(at, message));
        }
        Ok(filter)
    }

    fn skip_whitespace(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            self.pos += c.len_utf8();
        }
    }

    fn peek(&self) -> Option<char> {
        self.rest(self.pos).chars().next()
    }

    fn rest(&self, at: usize) -> &'a str {
        self.input.get(at..).unwrap_or("")
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        self.input.get(start..end).unwrap_or("")
    }

    /// The offset where the word starting at `start` ends: the next delimiter or the end.
    fn word_end(&self, start: usize) -> usize {
        self.rest(start)
            .char_indices()
            .find(|&(_, c)| is_delimiter(c))
            .map_or(self.input.len(), |(i, _)| start + i)
    }

    /// Quotes what stands at `at` for an error message, shortened when long.
    fn found(&self, at: usize) -> String {
        let Some(first) = self.rest(at).chars().next() else {
            return self.end_name.to_owned();
        };
        let end = if is_delimiter(first) {
            at + first.len_utf8()
        } else {
            self.word_end(at)
        };
        let text = self.text(at, end);
        match text.char_indices().nth(QUOTED_CHARS) {
            Some((cut, _)) => format!("{:?}…", self.text(at, at + cut)),
            None => format!("{text:?}"),
        }
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> Error {
        Error::InvalidFilter {
            offset,
            message: message.into(),
        }
    }
}

/// Splits an attribute path token at byte offset `at` into its URN, name and sub-attribute.
fn split_attr_path(token: &str, at: usize) -> Result<AttrPath, (usize, String)> {
    // URNs contain dots and colons (`...:enterprise:2.0:User:manager.value`), so the attribute
    // starts after the last colon and only its own part is split at a dot.
    let has_urn = token
        .get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("urn:"));
    let (uri, rest, rest_at) = match token.rfind(':') {
        Some(colon) if has_urn => (
            Some(token[..colon].to_owned()),
            &token[colon + 1..],
            at + colon + 1,
        ),
        _ => (None, token, at),
    };
    if rest.is_empty() {
        return Err((
            rest_at,
            "expected an attribute name after the schema URN".to_owned(),
        ));
    }

    let (name, sub_attr) = match rest.find('.') {
        Some(dot) => (&rest[..dot], Some((&rest[dot + 1..], rest_at + dot + 1))),
        None => (rest, None),
    };
    if name.is_empty() {
        return Err((
            rest_at,
            "expected an attribute name before \".\"".to_owned(),
        ));
    }
    check_name(name, rest_at, "an attribute name")?;
    let sub_attr = match sub_attr {
        Some(("", sub_at)) => {
            return Err((
                sub_at,
                "expected a sub-attribute name after \".\"".to_owned(),
            ));
        }
        Some((sub, sub_at)) => {
            check_name(sub, sub_at, "a sub-attribute name")?;
            Some(sub.to_owned())
        }
        None => None,
    };
    Ok(AttrPath {
        uri,
        name: name.to_owned(),
        sub_attr,
    })
}

/// `ATTRNAME = ALPHA *(nameChar)`, plus names starting with `$` such as `$ref`. `noun` names
/// the part with its article, as in "an attribute name".
fn check_name(name: &str, at: usize, noun: &str) -> Result<(), (usize, String)> {
    for (i, c) in name.char_indices() {
        let fine = if i == 0 {
            c.is_ascii_alphabetic() || (c == '$' && name.len() > 1)
        } else {
            c.is_ascii_alphanumeric() || c == '-' || c == '_'
        };
        if fine {
            continue;
        }
        let message = if c == '.' {
            "an attribute path has at most one sub-attribute".to_owned()
        } else if i == 0 {
            format!("{noun} must start with a letter, found \"{c}\"")
        } else {
            format!("unexpected \"{c}\" in {noun}; names use letters, digits, \"-\" and \"_\"")
        };
        return Err((at + i, message));
    }
    Ok(())
}

fn bare_value(raw: &str) -> CompValue {
    if raw.eq_ignore_ascii_case("true") {
        CompValue::Bool(true)
    } else if raw.eq_ignore_ascii_case("false") {
        CompValue::Bool(false)
    } else if raw.eq_ignore_ascii_case("null") {
        CompValue::Null
    } else if let Ok(number) = serde_json::from_str::<Number>(raw) {
        CompValue::Number(number)
    } else {
        CompValue::String(raw.to_owned())
    }
}

fn hex4(chars: &mut std::str::CharIndices<'_>) -> Option<u32> {
    let mut code = 0;
    for _ in 0..4 {
        let (_, c) = chars.next()?;
        code = code * 16 + c.to_digit(16)?;
    }
    Some(code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    fn error(input: &str) -> (usize, String) {
        match parse_filter(input) {
            Err(Error::InvalidFilter { offset, message }) => (offset, message),
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    fn value(input: &str) -> CompValue {
        match parse_filter(input).unwrap() {
            Filter::Compare { value, .. } => value,
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    #[test]
    fn a_sub_attribute_after_a_value_path_joins_the_filter() {
        // The form Microsoft Entra ID sends when it matches users on their work email.
        assert_eq!(
            parse_filter(r#"emails[type eq "work"].value eq "x@y.com""#),
            parse_filter(r#"emails[type eq "work" and value eq "x@y.com"]"#)
        );
        assert_eq!(
            parse_filter(r#"emails[primary eq true].value pr"#),
            parse_filter(r#"emails[primary eq true and value pr]"#)
        );
    }

    #[test]
    fn reports_what_was_expected_and_where() {
        let op_message = "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or \
                          pr, found";
        let cases = [
            ("", 0, "empty filter".to_owned()),
            (" \t ", 0, "empty filter".to_owned()),
            (
                r#"userName equals "john""#,
                9,
                format!("{op_message} \"equals\""),
            ),
            ("userName", 8, format!("{op_message} end of filter")),
            (r#"userName eq "john"#, 12, "unterminated string".to_owned()),
            (
                r#"(userName eq "john""#,
                19,
                r#"expected ")", found end of filter"#.to_owned(),
            ),
            (r#"userName eq "john"]"#, 18, r#"unexpected "]""#.to_owned()),
            (r#"userName eq "john")"#, 18, r#"unexpected ")""#.to_owned()),
            (
                r#"userName eq "a" userType eq "b""#,
                16,
                r#"expected "and", "or" or the end of the filter, found "userType""#.to_owned(),
            ),
            (
                r#"not userName eq "x""#,
                4,
                "expected \"(\" after \"not\", found \"userName\"; not applies to a filter in \
                 parentheses, as in not (title pr)"
                    .to_owned(),
            ),
            (
                "userName eq",
                11,
                "expected a value after eq (a string, number, true, false or null), found end of \
                 filter"
                    .to_owned(),
            ),
            (
                "title pr and",
                12,
                r#"expected an attribute path, "(" or "not", found end of filter"#.to_owned(),
            ),
            (
                "()",
                1,
                r#"expected an attribute path, "(" or "not", found ")""#.to_owned(),
            ),
            (
                r#"title pr "x""#,
                9,
                r#"pr takes no value, found "\"""#.to_owned(),
            ),
            (
                "active gt true",
                10,
                "gt cannot compare booleans".to_owned(),
            ),
            (
                "active LE False",
                10,
                "le cannot compare booleans".to_owned(),
            ),
            (
                "nickName lt null",
                12,
                "lt cannot compare with null".to_owned(),
            ),
            (
                "userName co true",
                12,
                "co needs a string value, found true".to_owned(),
            ),
            (
                "userName sw null",
                12,
                "sw needs a string value, found null".to_owned(),
            ),
            (
                r#"user@name eq "x""#,
                4,
                r#"unexpected "@" in an attribute name; names use letters, digits, "-" and "_""#
                    .to_owned(),
            ),
            (
                r#"9lives eq "x""#,
                0,
                r#"an attribute name must start with a letter, found "9""#.to_owned(),
            ),
            (
                "a.b.c pr",
                3,
                "an attribute path has at most one sub-attribute".to_owned(),
            ),
            (
                "name. pr",
                5,
                r#"expected a sub-attribute name after ".""#.to_owned(),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User: pr",
                43,
                "expected an attribute name after the schema URN".to_owned(),
            ),
            (
                r#"x eq "a\qb""#,
                7,
                r#"invalid escape "\q" in a string"#.to_owned(),
            ),
            (
                r#"x eq "\u12G4""#,
                6,
                r#"invalid \u escape: expected four hex digits"#.to_owned(),
            ),
            (
                r#"x eq "\ud83d""#,
                6,
                r#"invalid \u escape: unpaired UTF-16 surrogate"#.to_owned(),
            ),
            (
                r#"x eq "\ude00""#,
                6,
                r#"invalid \u escape: unpaired UTF-16 surrogate"#.to_owned(),
            ),
            (
                r#"emails[type[value eq "x"]]"#,
                11,
                "a value filter cannot contain another value path; its paths name sub-attributes"
                    .to_owned(),
            ),
            (
                r#"name.givenName[value eq "x"]"#,
                14,
                "a value filter applies to a multi-valued attribute, not to the sub-attribute \
                 \"givenName\""
                    .to_owned(),
            ),
            (
                r#"emails[type eq "work""#,
                21,
                r#"expected "]", found end of filter"#.to_owned(),
            ),
            (
                r#"emails[type eq "work")"#,
                21,
                r#"expected "]", found ")""#.to_owned(),
            ),
            (
                "é eq 1",
                0,
                r#"an attribute name must start with a letter, found "é""#.to_owned(),
            ),
            ("x éq 1", 2, format!("{op_message} \"éq\"")),
        ];
        for (input, offset, message) in cases {
            assert_eq!(error(input), (offset, message), "{input:?}");
        }
    }

    #[test]
    fn error_display_gives_the_position() {
        let error = parse_filter(r#"userName equals "john""#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le) or pr, found \
             \"equals\" at position 9 of the filter"
        );
    }

    #[test]
    fn quotes_long_text_shortened() {
        let (_, message) = error(&format!("userName {}", "x".repeat(100)));
        let quoted = format!("\"{}\"…", "x".repeat(40));
        assert!(
            message.ends_with(&format!("or pr, found {quoted}")),
            "{message}"
        );
    }

    #[test]
    fn reads_every_kind_of_value() {
        assert_eq!(value("x eq null"), CompValue::Null);
        assert_eq!(value("x eq NULL"), CompValue::Null);
        assert_eq!(value("x eq True"), CompValue::Bool(true));
        assert_eq!(value("x eq false"), CompValue::Bool(false));
        assert_eq!(value("x eq 42"), CompValue::Number(42.into()));
        assert_eq!(value("x eq -7"), CompValue::Number((-7).into()));
        let number = |text: &str| serde_json::from_str::<Number>(text).unwrap();
        assert_eq!(value("x gt 1.25"), CompValue::Number(number("1.25")));
        assert_eq!(value("x lt -2.5E-3"), CompValue::Number(number("-0.0025")));
        let string = |text: &str| CompValue::String(text.to_owned());
        assert_eq!(
            value(r#"x eq "a \"b\" \\ \/ \b\f\n\r\t""#),
            string("a \"b\" \\ / \u{8}\u{c}\n\r\t")
        );
        assert_eq!(value(r#"x eq "\u00e9\u4e2d\ud83d\ude00""#), string("é中😀"));
        assert_eq!(value(r#"x eq "é中😀 ]) and""#), string("é中😀 ]) and"));
        assert_eq!(value(r#"x eq """#), string(""));

        // Unquoted values, as Microsoft Entra ID sometimes sends them.
        assert_eq!(value("externalId eq 5a2b9c"), string("5a2b9c"));
        assert_eq!(value("id eq 1234-abcd"), string("1234-abcd"));
        assert_eq!(value("id eq 0123"), string("0123"));
        assert_eq!(value("id eq 1e999"), string("1e999"));
        assert_eq!(value("id eq a\"b"), string("a\"b"));
        assert_eq!(value("(id eq abc)"), string("abc"));
        assert_eq!(value("id sw 12"), string("12"));
        assert_eq!(value("id co -1.50"), string("-1.50"));
    }

    #[test]
    fn tolerates_case_and_whitespace() {
        let canonical = parse_filter(r#"userName eq "a" and (title pr or not (x eq 1))"#).unwrap();
        for variant in [
            "  userName   EQ \"a\"\tAND(title PR Or NOT(x Eq 1))  ",
            "userName eq\"a\" and (title pr or not ( x eq 1 ) )",
            "userName Eq \"a\"\nand\n(\ttitle pr or not (x eq 1))",
        ] {
            assert_eq!(parse_filter(variant).unwrap(), canonical, "{variant:?}");
        }
        let bracketed = parse_filter("emails[type eq work]").unwrap();
        assert_eq!(
            bracketed,
            parse_filter(r#"emails[ type eq "work" ]"#).unwrap()
        );
    }

    #[test]
    fn attribute_paths_keep_the_urn_whole() {
        let filter = parse_filter(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "7""#,
        )
        .unwrap();
        let Filter::Compare { path, .. } = filter else {
            panic!("not a comparison: {filter:?}");
        };
        assert_eq!(
            path,
            AttrPath::new("manager")
                .with_uri("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
                .with_sub_attr("value")
        );
        let filter = parse_filter(r#"URN:x:y:emails[value eq "a:b"]"#).unwrap();
        let Filter::ValuePath { path, .. } = filter else {
            panic!("not a value path: {filter:?}");
        };
        assert_eq!(path, AttrPath::new("emails").with_uri("URN:x:y"));
        assert_eq!(
            parse_filter("groups.$ref pr").unwrap(),
            Filter::Present(AttrPath::new("groups").with_sub_attr("$ref"))
        );
    }
}
