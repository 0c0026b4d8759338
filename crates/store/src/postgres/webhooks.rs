//! Webhook rows and the delivery log, as in the SQLite backend's `webhooks` module.
//!
//! A webhook's cursor (`delivered_through`) moves only after a receiver accepted the event that
//! follows it. A lease (`lease_owner`, `lease_until`) lets one node at a time deliver to a
//! webhook; a node that dies leaves its lease to run out, and another node takes over.

use chrono::{DateTime, Utc};
use postgres::{Row, Transaction};

use crate::columns::{from_millis, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::{DeliveryAttempt, WebhookRecord};
use crate::postgres::statements::Cached;

const COLUMNS: &str = "w.id, w.workspace_id, w.url, w.secret_salt, w.created_at, \
     w.delivered_through, w.failures, w.next_attempt_at";

/// Inserts a webhook at the end of the feed. The caller holds the workspace's lock, so no
/// event of the workspace can commit below the end read here.
pub fn insert(
    tx: &mut Transaction<'_>,
    webhook: &WebhookRecord,
) -> Result<WebhookRecord, StoreError> {
    let end: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(seq), 0) FROM events WHERE workspace_id = $1",
            &[&webhook.workspace_id.as_str()],
        )?
        .try_get(0)?;
    tx.execute_c(
        "INSERT INTO webhooks (id, workspace_id, url, secret_salt, created_at, delivered_through,
             failures, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, 0, $5)",
        &[
            &webhook.id,
            &webhook.workspace_id.as_str(),
            &webhook.url,
            &webhook.secret_salt,
            &to_millis(webhook.created_at),
            &end,
        ],
    )?;
    Ok(WebhookRecord {
        delivered_through: end,
        failures: 0,
        next_attempt_at: webhook.created_at,
        ..webhook.clone()
    })
}

pub fn list(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
) -> Result<Vec<WebhookRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM webhooks w WHERE w.workspace_id = $1 ORDER BY w.created_at, w.id"
    );
    tx.query_c(&sql, &[&workspace.as_str()])?
        .iter()
        .map(read)
        .collect()
}

pub fn remove(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &str,
) -> Result<(), StoreError> {
    let removed = tx.execute_c(
        "DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2",
        &[&workspace.as_str(), &id],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The condition under which a webhook is due at `$1` for owner `$2`.
const DUE: &str = "w.next_attempt_at <= $1
     AND (w.lease_until IS NULL OR w.lease_until <= $1 OR w.lease_owner = $2)
     AND EXISTS (SELECT 1 FROM events e
                 WHERE e.workspace_id = w.workspace_id AND e.seq > w.delivered_through)";

pub fn any_due(
    tx: &mut Transaction<'_>,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM webhooks w WHERE {DUE})");
    Ok(tx
        .query_one_c(&sql, &[&to_millis(now), &owner])?
        .try_get(0)?)
}

pub fn pending(tx: &mut Transaction<'_>) -> Result<(u64, u64), StoreError> {
    let row = tx.query_one_c(
        "SELECT COUNT(*), COALESCE(SUM(n), 0)::BIGINT FROM (
             SELECT (SELECT COUNT(*) FROM events e
                     WHERE e.workspace_id = w.workspace_id AND e.seq > w.delivered_through) AS n
             FROM webhooks w) counts WHERE n > 0",
        &[],
    )?;
    let (webhooks, events): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    Ok((
        u64::try_from(webhooks).unwrap_or(0),
        u64::try_from(events).unwrap_or(0),
    ))
}

/// Claims the due webhooks. Rows another node is claiming at this moment are skipped rather
/// than waited for (`SKIP LOCKED`); they are that node's.
pub fn claim_due(
    tx: &mut Transaction<'_>,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<WebhookRecord>, StoreError> {
    let sql = format!(
        "UPDATE webhooks AS w SET lease_owner = $2, lease_until = $3
         WHERE w.id IN (SELECT w.id FROM webhooks w WHERE {DUE} FOR UPDATE SKIP LOCKED)
         RETURNING {COLUMNS}"
    );
    tx.query_c(&sql, &[&to_millis(now), &owner, &to_millis(lease_until)])?
        .iter()
        .map(read)
        .collect()
}

pub fn record(
    tx: &mut Transaction<'_>,
    attempt: &DeliveryAttempt,
    retry_at: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute_c(
        "INSERT INTO webhook_deliveries (webhook_id, workspace_id, event_id, event_cursor,
             attempt, at, status, error, delivered, duration_ms)
         SELECT id, workspace_id, $2, $3, $4, $5, $6, $7, $8, $9 FROM webhooks WHERE id = $1",
        &[
            &attempt.webhook_id,
            &attempt.event_id,
            &attempt.event_cursor,
            &i64::from(attempt.attempt),
            &to_millis(attempt.at),
            &attempt.status.map(i64::from),
            &attempt.error,
            &attempt.delivered,
            &attempt.duration_ms,
        ],
    )?;
    if attempt.delivered {
        tx.execute_c(
            "UPDATE webhooks SET delivered_through = GREATEST(delivered_through, $2),
                 failures = 0, next_attempt_at = $3, lease_until = $4
             WHERE id = $1",
            &[
                &attempt.webhook_id,
                &attempt.event_cursor,
                &to_millis(attempt.at),
                &to_millis(lease_until),
            ],
        )?;
    } else {
        tx.execute_c(
            "UPDATE webhooks SET failures = failures + 1, next_attempt_at = $2, lease_until = $3
             WHERE id = $1",
            &[
                &attempt.webhook_id,
                &to_millis(retry_at),
                &to_millis(lease_until),
            ],
        )?;
    }
    Ok(())
}

pub fn deliveries(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    limit: usize,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = tx.query_c(
        "SELECT webhook_id, workspace_id, event_id, event_cursor, attempt, at, status, error,
             delivered, duration_ms
         FROM webhook_deliveries WHERE workspace_id = $1 ORDER BY seq DESC LIMIT $2",
        &[&workspace.as_str(), &limit],
    )?;
    rows.iter()
        .map(|row| {
            let attempt: i64 = row.try_get(4)?;
            let status: Option<i64> = row.try_get(6)?;
            Ok(DeliveryAttempt {
                webhook_id: row.try_get(0)?,
                workspace_id: WorkspaceId::new(row.try_get::<_, String>(1)?),
                event_id: row.try_get(2)?,
                event_cursor: row.try_get(3)?,
                attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                at: from_millis(row.try_get(5)?)?,
                status: status.and_then(|s| u16::try_from(s).ok()),
                error: row.try_get(7)?,
                delivered: row.try_get(8)?,
                duration_ms: row.try_get(9)?,
            })
        })
        .collect()
}

fn read(row: &Row) -> Result<WebhookRecord, StoreError> {
    let failures: i64 = row.try_get(6)?;
    Ok(WebhookRecord {
        id: row.try_get(0)?,
        workspace_id: WorkspaceId::new(row.try_get::<_, String>(1)?),
        url: row.try_get(2)?,
        secret_salt: row.try_get(3)?,
        created_at: from_millis(row.try_get(4)?)?,
        delivered_through: row.try_get(5)?,
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        next_attempt_at: from_millis(row.try_get(7)?)?,
    })
}
