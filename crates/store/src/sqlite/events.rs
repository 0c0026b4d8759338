//! The per-workspace event feed: one row per change, written in the transaction of the change,
//! so a change without its event, or an event of a change that rolled back, cannot exist.
//!
//! The row key (`seq`) orders the feed. SQLite has a single writer, so `seq` order is commit
//! order and a reader that pages by `seq` sees every event exactly once.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde_json::Value;

use super::{from_millis, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::Event;

/// Appends one event.
pub fn record(
    conn: &Connection,
    workspace: &WorkspaceId,
    kind: &str,
    resource_id: &str,
    data: &Value,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO events (id, workspace_id, type, resource_id, data, occurred_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        uuid::Uuid::new_v4().to_string(),
        workspace.as_str(),
        kind,
        resource_id,
        serde_json::to_string(data)?,
        to_millis(at),
    ])?;
    Ok(())
}

/// The workspace's events after `after` (a cursor from an earlier page), oldest first.
pub fn list(
    conn: &Connection,
    workspace: &WorkspaceId,
    after: i64,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, id, type, resource_id, data, occurred_at FROM events
         WHERE workspace_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![workspace.as_str(), after, limit], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, String>(4)?,
            row.get::<_, i64>(5)?,
        ))
    })?;
    let mut events = Vec::new();
    for row in rows {
        let (seq, id, kind, resource_id, data, occurred_at) = row?;
        events.push(Event {
            cursor: seq,
            id,
            kind,
            resource_id,
            data: serde_json::from_str(&data)?,
            occurred_at: from_millis(occurred_at)?,
        });
    }
    Ok(events)
}
