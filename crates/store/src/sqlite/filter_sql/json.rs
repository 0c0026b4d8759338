//! Positions in a user's stored JSON and the SQL that reads them.
//!
//! A [`Cursor`] is a path into a JSON document (`u.body`, or an element a `json_each` row
//! holds); the translator walks [`Step`]s from the body's root and opens a `json_each` at every
//! multi-valued one.

use rollcall_scim::schema::Attribute;
use rusqlite::types::Value as SqlValue;

use super::fragment::Fragment;
use super::leaf::Stored;

/// One key of a JSON path, and whether the value under it is multi-valued (an array).
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub key: String,
    pub multi: bool,
}

impl Step {
    pub(super) fn of(attribute: &Attribute) -> Step {
        Step {
            key: attribute.name.clone(),
            multi: attribute.multi_valued,
        }
    }
}

/// A position in JSON: a path into a document, or one row of a `json_each`.
#[derive(Debug, Clone)]
pub(super) enum Cursor {
    Doc { json: Fragment, keys: Vec<String> },
    Row(String),
}

impl Cursor {
    pub(super) fn body() -> Cursor {
        Cursor::Doc {
            json: Fragment::sql("u.body"),
            keys: Vec::new(),
        }
    }

    pub(super) fn key(self, key: &str) -> Cursor {
        let (json, mut keys) = match self {
            Cursor::Doc { json, keys } => (json, keys),
            Cursor::Row(alias) => (Fragment::sql(format!("{alias}.value")), Vec::new()),
        };
        keys.push(key.to_owned());
        Cursor::Doc { json, keys }
    }

    /// Follows single-valued steps (an attribute and its extension's URN).
    pub(super) fn follow(mut self, steps: &[Step]) -> Cursor {
        for step in steps {
            self = self.key(&step.key);
        }
        self
    }

    /// `{name}(json, path)` for a JSON function or table. The path is bound; its keys are
    /// schema names (and URNs), never filter text, and none holds a double quote.
    pub(super) fn call(&self, name: &str) -> Fragment {
        let (json, keys) = match self {
            Cursor::Doc { json, keys } => (json.clone(), keys.as_slice()),
            Cursor::Row(alias) => (Fragment::sql(format!("{alias}.value")), &[][..]),
        };
        let mut path = String::from("$");
        for key in keys {
            path.push_str(&format!(".\"{key}\""));
        }
        Fragment::sql(format!("{name}("))
            .with(json)
            .then(", ")
            .bind(SqlValue::Text(path))
            .then(")")
    }

    /// The value here, as the leaf comparisons read it.
    pub(super) fn stored(&self) -> Stored {
        match self {
            Cursor::Doc { .. } => Stored {
                value: self.call("json_extract"),
                json_type: Some(self.call("json_type")),
            },
            Cursor::Row(alias) => Stored {
                value: Fragment::sql(format!("{alias}.value")),
                json_type: Some(Fragment::sql(format!("{alias}.type"))),
            },
        }
    }
}
