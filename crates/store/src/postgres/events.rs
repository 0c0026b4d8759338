//! The per-workspace event feed: one row per change, written in the transaction of the change,
//! so a change without its event, or an event of a change that rolled back, cannot exist.
//!
//! `seq` comes from an identity column, which hands out numbers at insert time, not at commit
//! time: on its own, a reader paging by `seq` could pass over a number that commits later.
//! Every write to a workspace holds the workspace's advisory lock until it commits
//! (`lock_workspace` in the module root), so within a workspace a transaction only gets its
//! numbers after the previous one is committed and visible. Paging one workspace's feed by
//! `seq` therefore sees every event exactly once, in commit order, whichever node wrote it.

use chrono::{DateTime, Utc};
use postgres::Transaction;
use serde_json::Value;

use crate::columns::{from_millis, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::Event;
use crate::postgres::statements::Cached;

/// Appends one event. The caller holds the workspace's lock.
pub fn record(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    kind: &str,
    resource_id: &str,
    data: &Value,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute_c(
        "INSERT INTO events (id, workspace_id, type, resource_id, data, occurred_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &uuid::Uuid::new_v4().to_string(),
            &workspace.as_str(),
            &kind,
            &resource_id,
            &serde_json::to_string(data)?,
            &to_millis(at),
        ],
    )?;
    Ok(())
}

/// One event of [`record_many`]: its type, the resource it is about, and its data.
pub struct NewEvent<'a> {
    pub kind: &'a str,
    pub resource_id: &'a str,
    pub data: Value,
}

/// Appends events in the order given, in one statement: a membership change of 100,000 users
/// writes its 100,000 events in one round trip instead of 100,000. The rows are numbered in
/// the order `ORDER BY ordinality` produces them, which is the order given.
pub fn record_many(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    events: &[NewEvent<'_>],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(events.len());
    let mut kinds = Vec::with_capacity(events.len());
    let mut resources = Vec::with_capacity(events.len());
    let mut data = Vec::with_capacity(events.len());
    for event in events {
        ids.push(uuid::Uuid::new_v4().to_string());
        kinds.push(event.kind);
        resources.push(event.resource_id);
        data.push(serde_json::to_string(&event.data)?);
    }
    tx.execute_c(
        "INSERT INTO events (id, workspace_id, type, resource_id, data, occurred_at)
         SELECT e.id, $1, e.type, e.resource_id, e.data, $6
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
              WITH ORDINALITY AS e(id, type, resource_id, data, ordinality)
         ORDER BY e.ordinality",
        &[
            &workspace.as_str(),
            &ids,
            &kinds,
            &resources,
            &data,
            &to_millis(at),
        ],
    )?;
    Ok(())
}

/// The workspace's events after `after` (a cursor from an earlier page), oldest first.
pub fn list(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    after: i64,
    limit: usize,
) -> Result<Vec<Event>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = tx.query_c(
        "SELECT seq, id, type, resource_id, data, occurred_at FROM events
         WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &[&workspace.as_str(), &after, &limit],
    )?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let data: String = row.try_get(4)?;
        events.push(Event {
            cursor: row.try_get(0)?,
            id: row.try_get(1)?,
            kind: row.try_get(2)?,
            resource_id: row.try_get(3)?,
            data: serde_json::from_str(&data)?,
            occurred_at: from_millis(row.try_get(5)?)?,
        });
    }
    Ok(events)
}
