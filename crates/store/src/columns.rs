//! How values are kept in columns, the same on every backend: timestamps as milliseconds since
//! the epoch, enumerations as their names.

use chrono::{DateTime, Utc};

use crate::error::StoreError;

/// Milliseconds since the epoch, the stored form of every timestamp.
pub(crate) fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub(crate) fn from_millis(millis: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(millis)
        .ok_or_else(|| StoreError::Internal(format!("stored timestamp {millis} is out of range")))
}

pub(crate) fn from_millis_opt(millis: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    millis.map(from_millis).transpose()
}

pub(crate) fn parse_column<T: std::str::FromStr>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Internal(format!("stored {column} {text:?} is not valid")))
}
