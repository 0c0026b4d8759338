//! Webhook rows and the delivery log.
//!
//! A webhook keeps its own cursor into the workspace's event feed (`delivered_through`), moved
//! only after a receiver accepted the event that follows it, so delivery resumes where it
//! stopped after any crash: at least once, in feed order.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, Row, params};

use super::{ExecuteCached, from_millis, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::{DeliveryAttempt, WebhookRecord};

const COLUMNS: &str = "w.id, w.workspace_id, w.url, w.secret_salt, w.created_at, \
     w.delivered_through, w.failures, w.next_attempt_at";

pub fn insert(conn: &Connection, webhook: &WebhookRecord) -> Result<WebhookRecord, StoreError> {
    let end: i64 = conn.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM events WHERE workspace_id = ?1",
        [webhook.workspace_id.as_str()],
        |row| row.get(0),
    )?;
    conn.execute_cached(
        "INSERT INTO webhooks (id, workspace_id, url, secret_salt, created_at, delivered_through,
             failures, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?5)",
        params![
            webhook.id,
            webhook.workspace_id.as_str(),
            webhook.url,
            webhook.secret_salt,
            to_millis(webhook.created_at),
            end,
        ],
    )?;
    Ok(WebhookRecord {
        delivered_through: end,
        failures: 0,
        next_attempt_at: webhook.created_at,
        ..webhook.clone()
    })
}

pub fn list(conn: &Connection, workspace: &WorkspaceId) -> Result<Vec<WebhookRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks w WHERE w.workspace_id = ?1 ORDER BY w.created_at, w.id"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([workspace.as_str()], read_webhook)?;
    rows.map(|row| row.map_err(StoreError::from)?).collect()
}

pub fn remove(conn: &Connection, workspace: &WorkspaceId, id: &str) -> Result<(), StoreError> {
    let removed = conn.execute_cached(
        "DELETE FROM webhooks WHERE workspace_id = ?1 AND id = ?2",
        params![workspace.as_str(), id],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The condition under which a webhook is due at `?1` for owner `?2`.
const DUE: &str = "w.next_attempt_at <= ?1
     AND (w.lease_until IS NULL OR w.lease_until <= ?1 OR w.lease_owner = ?2)
     AND EXISTS (SELECT 1 FROM events e
                 WHERE e.workspace_id = w.workspace_id AND e.seq > w.delivered_through)";

/// Whether any webhook is due: a read, so that an idle server does not write on every poll.
pub fn any_due(conn: &Connection, owner: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM webhooks w WHERE {DUE})");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![to_millis(now), owner], |row| row.get(0))?)
}

pub fn pending(conn: &Connection) -> Result<(u64, u64), StoreError> {
    let (webhooks, events): (i64, i64) = conn
        .prepare_cached(
            "SELECT COUNT(*), COALESCE(SUM(n), 0) FROM (
                 SELECT (SELECT COUNT(*) FROM events e
                         WHERE e.workspace_id = w.workspace_id AND e.seq > w.delivered_through) AS n
                 FROM webhooks w) WHERE n > 0",
        )?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok((
        u64::try_from(webhooks).unwrap_or(0),
        u64::try_from(events).unwrap_or(0),
    ))
}

pub fn claim_due(
    conn: &Connection,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<WebhookRecord>, StoreError> {
    let sql = format!(
        "UPDATE webhooks AS w SET lease_owner = ?2, lease_until = ?3 WHERE {DUE}
         RETURNING {}",
        // SQLite's RETURNING takes bare column names.
        COLUMNS.replace("w.", "")
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(
        params![to_millis(now), owner, to_millis(lease_until)],
        read_webhook,
    )?;
    rows.map(|row| row.map_err(StoreError::from)?).collect()
}

pub fn record(
    conn: &Connection,
    attempt: &DeliveryAttempt,
    retry_at: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (webhook_id, workspace_id, event_id, event_cursor,
             attempt, at, status, error, delivered, duration_ms)
         SELECT id, workspace_id, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 FROM webhooks
         WHERE id = ?1",
    )?
    .execute(params![
        attempt.webhook_id,
        attempt.event_id,
        attempt.event_cursor,
        attempt.attempt,
        to_millis(attempt.at),
        attempt.status,
        attempt.error,
        attempt.delivered,
        attempt.duration_ms,
    ])?;
    if attempt.delivered {
        conn.prepare_cached(
            "UPDATE webhooks SET delivered_through = MAX(delivered_through, ?2), failures = 0,
                 next_attempt_at = ?3, lease_until = ?4
             WHERE id = ?1",
        )?
        .execute(params![
            attempt.webhook_id,
            attempt.event_cursor,
            to_millis(attempt.at),
            to_millis(lease_until),
        ])?;
    } else {
        conn.prepare_cached(
            "UPDATE webhooks SET failures = failures + 1, next_attempt_at = ?2, lease_until = ?3
             WHERE id = ?1",
        )?
        .execute(params![
            attempt.webhook_id,
            to_millis(retry_at),
            to_millis(lease_until)
        ])?;
    }
    Ok(())
}

pub fn deliveries(
    conn: &Connection,
    workspace: &WorkspaceId,
    limit: usize,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT webhook_id, workspace_id, event_id, event_cursor, attempt, at, status, error,
             delivered, duration_ms
         FROM webhook_deliveries WHERE workspace_id = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map(params![workspace.as_str(), limit], |row| {
        Ok((
            DeliveryAttempt {
                webhook_id: row.get(0)?,
                workspace_id: WorkspaceId::new(row.get::<_, String>(1)?),
                event_id: row.get(2)?,
                event_cursor: row.get(3)?,
                attempt: row.get(4)?,
                at: DateTime::<Utc>::UNIX_EPOCH,
                status: row.get(6)?,
                error: row.get(7)?,
                delivered: row.get(8)?,
                duration_ms: row.get(9)?,
            },
            row.get::<_, i64>(5)?,
        ))
    })?;
    rows.map(|row| {
        let (attempt, at) = row?;
        Ok(DeliveryAttempt {
            at: from_millis(at)?,
            ..attempt
        })
    })
    .collect()
}

fn read_webhook(row: &Row<'_>) -> rusqlite::Result<Result<WebhookRecord, StoreError>> {
    let created_at: i64 = row.get(4)?;
    let next_attempt_at: i64 = row.get(7)?;
    let (id, workspace_id, url, secret_salt): (String, String, String, String) =
        (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
    let (delivered_through, failures) = (row.get(5)?, row.get(6)?);
    Ok((|| {
        Ok(WebhookRecord {
            id,
            workspace_id: WorkspaceId::new(workspace_id),
            url,
            secret_salt,
            created_at: from_millis(created_at)?,
            delivered_through,
            failures,
            next_attempt_at: from_millis(next_attempt_at)?,
        })
    })())
}
