//! The per-workspace request log, as in the SQLite backend's `request_log` module.

use chrono::{DateTime, Utc};
use postgres::Transaction;

use crate::columns::{from_millis, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::RequestLogEntry;
use crate::postgres::statements::{self, Cached};

pub fn append(tx: &mut Transaction<'_>, entries: &[RequestLogEntry]) -> Result<(), StoreError> {
    let statement = statements::prepared(
        tx,
        "INSERT INTO request_log (workspace_id, at, method, route, resource_id, status, scim_type,
             detail, latency_ms, token_id, user_agent, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )?;
    for entry in entries {
        tx.execute_c(
            &statement,
            &[
                &entry.workspace_id.as_str(),
                &to_millis(entry.at),
                &entry.method,
                &entry.route,
                &entry.resource_id,
                &i64::from(entry.status),
                &entry.scim_type,
                &entry.detail,
                &entry.latency_ms,
                &entry.token_id,
                &entry.user_agent,
                &entry.body,
            ],
        )?;
    }
    Ok(())
}

pub fn list(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    limit: usize,
    failed_only: bool,
) -> Result<Vec<RequestLogEntry>, StoreError> {
    let sql = format!(
        "SELECT at, method, route, resource_id, status, scim_type, detail, latency_ms, token_id,
             user_agent, body
         FROM request_log WHERE workspace_id = $1 {} ORDER BY seq DESC LIMIT $2",
        if failed_only { "AND status >= 400" } else { "" }
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    tx.query_c(&sql, &[&workspace.as_str(), &limit])?
        .iter()
        .map(|row| {
            let status: i64 = row.try_get(4)?;
            Ok(RequestLogEntry {
                workspace_id: workspace.clone(),
                at: from_millis(row.try_get(0)?)?,
                method: row.try_get(1)?,
                route: row.try_get(2)?,
                resource_id: row.try_get(3)?,
                status: u16::try_from(status).unwrap_or(0),
                scim_type: row.try_get(5)?,
                detail: row.try_get(6)?,
                latency_ms: row.try_get(7)?,
                token_id: row.try_get(8)?,
                user_agent: row.try_get(9)?,
                body: row.try_get(10)?,
            })
        })
        .collect()
}

pub fn prune(tx: &mut Transaction<'_>, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(tx.execute_c(
        "DELETE FROM request_log WHERE at < $1",
        &[&to_millis(before)],
    )?)
}
