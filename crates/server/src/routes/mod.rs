//! One module per SCIM endpoint, named after the URL it serves.

pub mod discovery;
pub mod health;
pub mod users;

use axum::extract::Query;

/// Query parameters, looked up by name case-insensitively (clients differ in how they spell
/// `startIndex` and `excludedAttributes`).
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_query(Query(pairs): Query<Vec<(String, String)>>) -> Self {
        Params(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// An integer parameter; a value that is not an integer names the parameter in the error.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, rollcall_scim::Error> {
        self.get(name)
            .map(|text| {
                text.trim().parse::<i64>().map_err(|_| {
                    rollcall_scim::Error::invalid_value(
                        name,
                        format!("must be an integer, not {text:?}"),
                    )
                })
            })
            .transpose()
    }
}
