//! SQL under construction: text with its bound values kept in place, and conditions that fold
//! to constants.
//!
//! A [`Fragment`] never holds a value in its text: a value is a [`Part::Value`] and becomes a
//! numbered parameter only when the whole condition is rendered. Numbering at the end means
//! that a branch dropped by constant folding leaves no unused parameter behind (rusqlite
//! refuses a statement bound with more values than it has parameters).

use rusqlite::types::Value as SqlValue;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Sql(String),
    Value(SqlValue),
}

/// SQL text interleaved with the values bound in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Fragment {
    parts: Vec<Part>,
}

impl Fragment {
    /// A fragment of fixed SQL text (never text that came from a filter).
    pub(super) fn sql(text: impl Into<String>) -> Fragment {
        Fragment {
            parts: vec![Part::Sql(text.into())],
        }
    }

    /// A bound value.
    pub(super) fn value(value: SqlValue) -> Fragment {
        Fragment {
            parts: vec![Part::Value(value)],
        }
    }

    pub(super) fn text_value(text: impl Into<String>) -> Fragment {
        Fragment::value(SqlValue::Text(text.into()))
    }

    /// Appends fixed SQL text.
    pub(super) fn then(mut self, text: &str) -> Fragment {
        self.parts.push(Part::Sql(text.to_owned()));
        self
    }

    /// Appends another fragment.
    pub(super) fn with(mut self, other: Fragment) -> Fragment {
        self.parts.extend(other.parts);
        self
    }

    /// Appends a bound value.
    pub(super) fn bind(self, value: SqlValue) -> Fragment {
        self.with(Fragment::value(value))
    }

    /// The fragment as SQL text, its values numbered from `?{first_param}`.
    pub(super) fn render(self, first_param: usize) -> (String, Vec<SqlValue>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        for part in self.parts {
            match part {
                Part::Sql(text) => sql.push_str(&text),
                Part::Value(value) => {
                    params.push(value);
                    sql.push_str(&format!("?{}", first_param + params.len() - 1));
                }
            }
        }
        (sql, params)
    }
}

/// A condition on one user row, or a constant when the answer is the same for every row.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cond {
    Always,
    Never,
    Sql(Fragment),
}

impl Cond {
    pub(super) fn constant(value: bool) -> Cond {
        if value { Cond::Always } else { Cond::Never }
    }

    pub(super) fn and(self, other: Cond) -> Cond {
        match (self, other) {
            (Cond::Never, _) | (_, Cond::Never) => Cond::Never,
            (Cond::Always, other) | (other, Cond::Always) => other,
            (Cond::Sql(left), Cond::Sql(right)) => Cond::Sql(
                Fragment::sql("(")
                    .with(left)
                    .then(" AND ")
                    .with(right)
                    .then(")"),
            ),
        }
    }

    pub(super) fn or(self, other: Cond) -> Cond {
        match (self, other) {
            (Cond::Always, _) | (_, Cond::Always) => Cond::Always,
            (Cond::Never, other) | (other, Cond::Never) => other,
            (Cond::Sql(left), Cond::Sql(right)) => Cond::Sql(
                Fragment::sql("(")
                    .with(left)
                    .then(" OR ")
                    .with(right)
                    .then(")"),
            ),
        }
    }

    /// The negation. SQL conditions can be NULL (`json_extract` of a missing attribute), which
    /// `AND` and `OR` already treat as false; `IS NOT TRUE` makes `not` treat it so as well.
    pub(super) fn not(self) -> Cond {
        match self {
            Cond::Always => Cond::Never,
            Cond::Never => Cond::Always,
            Cond::Sql(inner) => Cond::Sql(Fragment::sql("(").with(inner).then(") IS NOT TRUE")),
        }
    }

    /// `EXISTS (SELECT 1 FROM {from} WHERE {self})`, or a constant when `self` is `Never`.
    pub(super) fn exists(self, from: Fragment) -> Cond {
        let select = Fragment::sql("EXISTS (SELECT 1 FROM ").with(from);
        match self {
            Cond::Never => Cond::Never,
            Cond::Always => Cond::Sql(select.then(")")),
            Cond::Sql(inner) => Cond::Sql(select.then(" WHERE ").with(inner).then(")")),
        }
    }

    pub(super) fn into_fragment(self) -> Fragment {
        match self {
            Cond::Always => Fragment::sql("1"),
            Cond::Never => Fragment::sql("0"),
            Cond::Sql(fragment) => fragment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(text: &str, value: i64) -> Cond {
        Cond::Sql(Fragment::sql(text).bind(SqlValue::Integer(value)))
    }

    #[test]
    fn numbers_only_the_values_that_survive_folding() {
        let kept = condition("a = ", 1)
            .or(condition("b = ", 2).and(Cond::Never))
            .and(condition("c = ", 3).not());
        let (sql, params) = kept.into_fragment().render(2);
        assert_eq!(sql, "(a = ?2 AND (c = ?3) IS NOT TRUE)");
        assert_eq!(params, [SqlValue::Integer(1), SqlValue::Integer(3)]);
    }

    #[test]
    fn constants_fold_through_exists() {
        let from = Fragment::sql("json_each(u.body, ")
            .bind(SqlValue::Integer(1))
            .then(") j");
        assert_eq!(Cond::Never.exists(from.clone()), Cond::Never);
        let (sql, _) = Cond::Always.exists(from).into_fragment().render(2);
        assert_eq!(sql, "EXISTS (SELECT 1 FROM json_each(u.body, ?2) j)");
    }
}
