//! Translation of SCIM filters (RFC 7644 §3.4.2.2) to SQL conditions on the `users` table.
//!
//! Every filter becomes one condition over the alias `u`, true for exactly the users on which
//! the in-memory evaluator, `rollcall_scim::filter::matches`, holds for the document a filter
//! sees: the stored body plus `id` and `meta` (`created`, `lastModified`, `version`,
//! `resourceType`). The property test in `agreement` holds the two to that. Paths resolve
//! against the schema the way the evaluator resolves them; how a value compares (case folding,
//! booleans, instants) is the business of [`leaf`].
//!
//! Where the values come from:
//! - body attributes through `json_extract` and `json_type`, and multi-valued ones through
//!   `json_each`, so that a comparison holds when any value satisfies it;
//! - `id` from `u.id`, and `meta` from the `created_at`, `updated_at` and `version` columns;
//! - `eq` on userName, externalId, displayName, email and emails.value, and every test on
//!   active, from the indexed key columns: the index narrows, the body decides.
//!
//! Nothing from a filter is spliced into the SQL text: values and JSON paths are bound
//! parameters, numbered from the caller's `first_param`. The condition may also refer to `?1`,
//! which must be the workspace id (as in every users query), so that a `user_emails` lookup is
//! an uncorrelated subquery the planner can run from its index.
//!
//! The translation reads the body in stored form, as `rollcall_scim::resource::normalize`
//! writes it: canonical attribute names, extension attributes under their URN, multi-valued
//! attributes as arrays and single-valued ones never, and each value of its schema type
//! (strings for text and date-times, JSON booleans, JSON numbers). A body that broke this
//! would be read differently from the evaluator.

mod fragment;
mod json;
mod leaf;

#[cfg(test)]
mod agreement;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod typed_agreement;

use rollcall_scim::filter::{AttrPath, CompValue, CompareOp, Filter, matches, matches_element};
use rollcall_scim::schema::{Attribute, AttributeType, ResourceSchema, user_resource};
use rusqlite::types::Value as SqlValue;
use serde_json::json;

use self::fragment::{Cond, Fragment};
use self::json::{Cursor, Step};
use self::leaf::{Leaf, Stored, value_text};
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

/// Translates a filter on users. The parameters are numbered from `?{first_param}`; `?1` must
/// be the workspace id.
pub fn translate(filter: &Filter, first_param: usize) -> SqlFilter {
    translate_with(filter, user_resource(), first_param)
}

/// Translates a filter against `schema`, whose resources are rows of a table shaped like
/// `users`.
pub(crate) fn translate_with(
    filter: &Filter,
    schema: &ResourceSchema,
    first_param: usize,
) -> SqlFilter {
    let mut translator = Translator { schema, aliases: 0 };
    let (sql, params) = translator
        .filter(filter)
        .into_fragment()
        .render(first_param);
    SqlFilter { sql, params }
}

/// The values one comparison looks at: the evaluator's `collect`.
enum Values {
    /// Values in JSON, `steps` below `start`, arrays flattened.
    Json { start: Cursor, steps: Vec<Step> },
    /// One value computed from columns, NULL when the user has none.
    Column(Fragment),
}

/// What an attribute path at the top of a filter names.
enum Target<'s> {
    /// A schema attribute stored in the body, `steps` below its root.
    Body {
        attribute: &'s Attribute,
        steps: Vec<Step>,
        core: bool,
    },
    /// The `id` attribute: the `u.id` column.
    Id(&'s Attribute),
    /// One of the `meta` values kept in columns.
    Meta(MetaColumn),
    /// Anything whose answer is the same for every user: `schemas` (never in the document),
    /// `meta` itself, `meta.resourceType`, `meta.location` (not in the document) and unknown
    /// attributes.
    Constant,
}

#[derive(Debug, Clone, Copy)]
enum MetaColumn {
    Created,
    LastModified,
    Version,
}

struct Translator<'s> {
    schema: &'s ResourceSchema,
    aliases: usize,
}

impl<'s> Translator<'s> {
    fn filter(&mut self, filter: &Filter) -> Cond {
        match filter {
            Filter::And(left, right) => {
                let left = self.filter(left);
                left.and(self.filter(right))
            }
            Filter::Or(left, right) => {
                let left = self.filter(left);
                left.or(self.filter(right))
            }
            Filter::Not(inner) => self.filter(inner).not(),
            Filter::Present(path) => self.present(filter, path),
            Filter::Compare { path, op, value } => self.compare(filter, path, *op, value),
            Filter::ValuePath {
                path,
                filter: inner,
            } => self.value_path(path, inner),
        }
    }

    fn present(&mut self, node: &Filter, path: &AttrPath) -> Cond {
        let (attribute, steps) = match self.resolve(path) {
            Target::Body {
                attribute, steps, ..
            } => (attribute, steps),
            Target::Id(_) if path.sub_attr.is_none() => {
                return Cond::Sql(Fragment::sql("u.id <> ''"));
            }
            // The server sets created, lastModified and version on every user.
            Target::Meta(_) => return Cond::Always,
            Target::Id(_) | Target::Constant => return self.constant(node),
        };
        let Some(sub) = path.sub_attr.as_deref() else {
            return self.present_at(&Cursor::body().follow(&steps), attribute);
        };
        match attribute.sub_attribute(sub) {
            Some(sub) => self.any(body_values(steps, attribute, sub), &mut Stored::present),
            None => self.constant(node),
        }
    }

    fn compare(
        &mut self,
        node: &Filter,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Cond {
        let (attribute, steps, core) = match self.resolve(path) {
            Target::Body {
                attribute,
                steps,
                core,
            } => (attribute, steps, core),
            Target::Id(attribute) if path.sub_attr.is_none() => {
                let values = Values::Column(Fragment::sql("u.id"));
                return self.compare_values(values, &Leaf::of(attribute), op, value);
            }
            Target::Meta(MetaColumn::Created) => {
                let values = Values::Column(Fragment::sql("u.created_at"));
                return self.compare_values(values, &Leaf::Millis, op, value);
            }
            Target::Meta(MetaColumn::LastModified) => {
                let values = Values::Column(Fragment::sql("u.updated_at"));
                return self.compare_values(values, &Leaf::Millis, op, value);
            }
            // The weak ETag of RFC 7644 §3.14, as the server renders `meta.version`.
            Target::Meta(MetaColumn::Version) => {
                let values = Values::Column(Fragment::sql("('W/\"' || u.version || '\"')"));
                let leaf = Leaf::Text { case_exact: true };
                return self.compare_values(values, &leaf, op, value);
            }
            Target::Id(_) | Target::Constant => return self.constant(node),
        };

        // RFC 7644 §3.4.2.2: a complex attribute without a sub-attribute compares its `value`
        // sub-attribute, as in `emails co "example.com"`.
        let compared = match path.sub_attr.as_deref() {
            Some(sub) => attribute.sub_attribute(sub),
            None if attribute.kind == AttributeType::Complex => attribute.sub_attribute("value"),
            None => Some(attribute),
        };
        let Some(compared) = compared else {
            return self.constant(node);
        };
        let leaf = Leaf::of(compared);

        // The active column is NULL exactly when the body has no active, else its boolean.
        if core && attribute.name == "active" && attribute.kind == AttributeType::Boolean {
            return self.compare_values(
                Values::Column(Fragment::sql("u.active")),
                &leaf,
                op,
                value,
            );
        }
        let body = self.compare_values(body_values(steps, attribute, compared), &leaf, op, value);
        match index_key(attribute, compared, op, value).filter(|_| core) {
            Some(key) => Cond::Sql(key).and(body),
            None => body,
        }
    }

    /// `attrPath[valFilter]`: some element of the attribute satisfies the inner filter.
    fn value_path(&mut self, path: &AttrPath, inner: &Filter) -> Cond {
        match self.resolve(path) {
            Target::Body {
                attribute, steps, ..
            } => self.each(Cursor::body(), &steps, &mut |translator, element| {
                // A single-valued attribute is its own element, when it has a value at all.
                let guard = match &element {
                    Cursor::Doc { .. } => Cond::Sql(element.call("json_type").then(" IS NOT NULL")),
                    Cursor::Row(_) => Cond::Always,
                };
                guard.and(translator.element(inner, attribute, &element))
            }),
            // `id` has no sub-attributes, so no row can answer differently from another.
            Target::Id(attribute) => Cond::constant(matches_element(inner, &json!(""), attribute)),
            // The evaluator looks into elements of schema attributes only.
            Target::Meta(_) | Target::Constant => Cond::Never,
        }
    }

    /// The inner filter of a value path, on one element of `attribute` (the evaluator's
    /// `matches_element`).
    fn element(&mut self, filter: &Filter, attribute: &Attribute, element: &Cursor) -> Cond {
        match filter {
            Filter::And(left, right) => {
                let left = self.element(left, attribute, element);
                left.and(self.element(right, attribute, element))
            }
            Filter::Or(left, right) => {
                let left = self.element(left, attribute, element);
                left.or(self.element(right, attribute, element))
            }
            Filter::Not(inner) => self.element(inner, attribute, element).not(),
            Filter::Present(path) => match element_sub_attribute(path, attribute) {
                Some(sub) => self.present_at(&element.clone().key(&sub.name), sub),
                None => Cond::constant(matches_element(filter, &json!({}), attribute)),
            },
            Filter::Compare { path, op, value } => match element_sub_attribute(path, attribute) {
                Some(sub) => {
                    let values = Values::Json {
                        start: element.clone(),
                        steps: vec![Step::of(sub)],
                    };
                    self.compare_values(values, &Leaf::of(sub), *op, value)
                }
                None => Cond::constant(matches_element(filter, &json!({}), attribute)),
            },
            // The parser refuses a value path inside another; the evaluator matches nothing.
            Filter::ValuePath { .. } => Cond::Never,
        }
    }

    /// The evaluator's rules for a comparison: any value satisfies it, `ne` is "no value
    /// equals", and `eq null` is "no value is present".
    fn compare_values(
        &mut self,
        values: Values,
        leaf: &Leaf<'_>,
        op: CompareOp,
        value: &CompValue,
    ) -> Cond {
        match (op, value) {
            (CompareOp::Eq, CompValue::Null) => self.any(values, &mut Stored::present).not(),
            (CompareOp::Ne, CompValue::Null) => self.any(values, &mut Stored::present),
            (_, CompValue::Null) => Cond::Never,
            (CompareOp::Ne, _) => self
                .any(values, &mut |stored| {
                    leaf.test(stored, CompareOp::Eq, value)
                })
                .not(),
            _ => self.any(values, &mut |stored| leaf.test(stored, op, value)),
        }
    }

    /// True when some value satisfies `test`.
    fn any(&mut self, values: Values, test: &mut dyn FnMut(Stored) -> Cond) -> Cond {
        match values {
            Values::Column(value) => test(Stored {
                value,
                json_type: None,
            }),
            Values::Json { start, steps } => {
                self.each(start, &steps, &mut |_, cursor| test(cursor.stored()))
            }
        }
    }

    /// True when `test` holds at some position `steps` below `cursor`, each multi-valued step
    /// becoming an `EXISTS` over `json_each`.
    fn each(
        &mut self,
        cursor: Cursor,
        steps: &[Step],
        test: &mut dyn FnMut(&mut Self, Cursor) -> Cond,
    ) -> Cond {
        let Some((step, rest)) = steps.split_first() else {
            return test(self, cursor);
        };
        let cursor = cursor.key(&step.key);
        if !step.multi {
            return self.each(cursor, rest, test);
        }
        let alias = self.alias();
        let from = cursor.call("json_each").then(&format!(" AS {alias}"));
        self.each(Cursor::Row(alias), rest, test).exists(from)
    }

    /// The evaluator's "present": some value anywhere in the attribute's value is a boolean, a
    /// number or a non-empty string. A simple single-valued attribute has only itself to check.
    fn present_at(&mut self, cursor: &Cursor, attribute: &Attribute) -> Cond {
        if attribute.kind != AttributeType::Complex && !attribute.multi_valued {
            return cursor.stored().present();
        }
        let alias = self.alias();
        let from = cursor.call("json_tree").then(&format!(" AS {alias}"));
        Cond::Sql(Fragment::sql(format!("{alias}.atom <> ''"))).exists(from)
    }

    /// A fresh table alias for a `json_each` or `json_tree` inside the condition.
    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("j{}", self.aliases)
    }

    /// The answer for a node whose answer is the same for every user, from the evaluator.
    ///
    /// The document holds only what all users share; the node reads nothing else (an unknown
    /// attribute, `schemas`, `meta` without one of its column-backed sub-attributes).
    fn constant(&self, node: &Filter) -> Cond {
        let shared = json!({"meta": {"resourceType": self.schema.name}});
        Cond::constant(matches(node, &shared, self.schema))
    }

    /// Resolves a path as the evaluator's `locate` does.
    fn resolve(&self, path: &AttrPath) -> Target<'s> {
        if let Some(resolved) = self.schema.resolve(path.uri.as_deref(), &path.name) {
            let attribute = resolved.attribute;
            return match resolved.extension {
                None if attribute.name == "id" => Target::Id(attribute),
                None => Target::Body {
                    attribute,
                    steps: vec![Step::of(attribute)],
                    core: true,
                },
                // Extension attributes are stored under their schema's URN (RFC 7643 §3.3).
                Some(urn) => Target::Body {
                    attribute,
                    steps: vec![
                        Step {
                            key: urn.to_owned(),
                            multi: false,
                        },
                        Step::of(attribute),
                    ],
                    core: false,
                },
            };
        }

        // `meta` is common to all resources (RFC 7643 §3.1), named without a URN or with the
        // core schema's.
        let in_core = path
            .uri
            .as_deref()
            .is_none_or(|uri| uri.eq_ignore_ascii_case(&self.schema.core.id));
        if !in_core || !path.name.eq_ignore_ascii_case("meta") {
            return Target::Constant;
        }
        let is = |name: &str| {
            path.sub_attr
                .as_deref()
                .is_some_and(|sub| sub.eq_ignore_ascii_case(name))
        };
        if is("created") {
            Target::Meta(MetaColumn::Created)
        } else if is("lastModified") {
            Target::Meta(MetaColumn::LastModified)
        } else if is("version") {
            Target::Meta(MetaColumn::Version)
        } else {
            Target::Constant
        }
    }
}

/// The values of `compared` in the body: the attribute at `steps` itself or one of its
/// sub-attributes.
fn body_values(mut steps: Vec<Step>, attribute: &Attribute, compared: &Attribute) -> Values {
    if !std::ptr::eq(compared, attribute) {
        steps.push(Step::of(compared));
    }
    Values::Json {
        start: Cursor::body(),
        steps,
    }
}

/// For `eq` on an attribute with an indexed key column, the condition on that column.
///
/// Each key column is written from the body (`fold_case` of it where the attribute is
/// case-insensitive), so every user whose body matches has the key: the key only narrows the
/// rows through its index, and the condition on the body decides.
fn index_key(
    attribute: &Attribute,
    compared: &Attribute,
    op: CompareOp,
    value: &CompValue,
) -> Option<Fragment> {
    let text = value_text(value).filter(|_| op == CompareOp::Eq)?;
    if compared.kind != AttributeType::String {
        return None;
    }
    let folded = Fragment::text_value(fold_case(&text));
    let key = match (
        attribute.name.as_str(),
        compared.name.as_str(),
        compared.case_exact,
    ) {
        // The key is folded from the trimmed name (the body keeps the name as sent), and
        // folding never turns a character into whitespace or back.
        ("userName", "userName", false) => {
            Fragment::sql("u.user_name_key = ").with(Fragment::text_value(fold_case(&text).trim()))
        }
        ("externalId", "externalId", true) => {
            Fragment::sql("u.external_id = ").with(Fragment::text_value(text))
        }
        ("displayName", "displayName", false) => {
            Fragment::sql("u.display_name_key = ").with(folded)
        }
        ("email", "email", false) => Fragment::sql("u.email_key = ").with(folded),
        // `?1` makes the subquery independent of the row, so it runs once, from its index.
        ("emails", "value", false) => Fragment::sql(
            "u.seq IN (SELECT e.user_seq FROM user_emails e \
             WHERE e.workspace_id = ?1 AND e.email_key = ",
        )
        .with(folded)
        .then(")"),
        _ => return None,
    };
    Some(key)
}

/// The sub-attribute a path inside a value filter names: `type`, or the redundant
/// `emails.type`. A URN is ignored, as the evaluator ignores it.
fn element_sub_attribute<'a>(path: &AttrPath, attribute: &'a Attribute) -> Option<&'a Attribute> {
    let name = match &path.sub_attr {
        Some(sub) if path.name.eq_ignore_ascii_case(&attribute.name) => sub,
        Some(_) => return None,
        None => &path.name,
    };
    attribute.sub_attribute(name)
}
