//! The per-workspace request log: one row per authenticated SCIM request, written in batches
//! by the server's logger, read newest first, pruned by age.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::{ExecuteCached, from_millis, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::RequestLogEntry;

pub fn append(conn: &Connection, entries: &[RequestLogEntry]) -> Result<(), StoreError> {
    let mut statement = conn.prepare_cached(
        "INSERT INTO request_log (workspace_id, at, method, route, resource_id, status, scim_type,
             detail, latency_ms, token_id, user_agent, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for entry in entries {
        statement.execute(params![
            entry.workspace_id.as_str(),
            to_millis(entry.at),
            entry.method,
            entry.route,
            entry.resource_id,
            entry.status,
            entry.scim_type,
            entry.detail,
            entry.latency_ms,
            entry.token_id,
            entry.user_agent,
            entry.body,
        ])?;
    }
    Ok(())
}

pub fn list(
    conn: &Connection,
    workspace: &WorkspaceId,
    limit: usize,
    failed_only: bool,
) -> Result<Vec<RequestLogEntry>, StoreError> {
    let sql = format!(
        "SELECT at, method, route, resource_id, status, scim_type, detail, latency_ms, token_id,
             user_agent, body
         FROM request_log WHERE workspace_id = ?1 {} ORDER BY seq DESC LIMIT ?2",
        if failed_only { "AND status >= 400" } else { "" }
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![workspace.as_str(), limit], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            RequestLogEntry {
                workspace_id: workspace.clone(),
                at: DateTime::<Utc>::UNIX_EPOCH,
                method: row.get(1)?,
                route: row.get(2)?,
                resource_id: row.get(3)?,
                status: row.get(4)?,
                scim_type: row.get(5)?,
                detail: row.get(6)?,
                latency_ms: row.get(7)?,
                token_id: row.get(8)?,
                user_agent: row.get(9)?,
                body: row.get(10)?,
            },
        ))
    })?;
    rows.map(|row| {
        let (at, entry) = row?;
        Ok(RequestLogEntry {
            at: from_millis(at)?,
            ..entry
        })
    })
    .collect()
}

pub fn prune(conn: &Connection, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let removed =
        conn.execute_cached("DELETE FROM request_log WHERE at < ?1", [to_millis(before)])?;
    Ok(u64::try_from(removed).unwrap_or(u64::MAX))
}
