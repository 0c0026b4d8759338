//! Setup link rows. Only the SHA-256 of a link's secret is stored.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{ExecuteCached, from_millis, from_millis_opt, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::SetupLinkRecord;

pub fn insert(conn: &Connection, link: &SetupLinkRecord) -> Result<(), StoreError> {
    conn.execute_cached(
        "INSERT INTO setup_links (id, workspace_id, secret_hash, created_at, expires_at, used_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            link.id,
            link.workspace_id.as_str(),
            link.secret_hash,
            to_millis(link.created_at),
            to_millis(link.expires_at),
            link.used_at.map(to_millis),
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<SetupLinkRecord>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT id, workspace_id, secret_hash, created_at, expires_at, used_at
             FROM setup_links WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<i64>>(5)?,
            ))
        })
        .optional()?;
    row.map(|(id, workspace, secret_hash, created, expires, used)| {
        Ok(SetupLinkRecord {
            id,
            workspace_id: WorkspaceId::new(workspace),
            secret_hash,
            created_at: from_millis(created)?,
            expires_at: from_millis(expires)?,
            used_at: from_millis_opt(used)?,
        })
    })
    .transpose()
}

pub fn use_link(conn: &Connection, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = conn.execute_cached(
        "UPDATE setup_links SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL AND expires_at > ?2",
        params![id, to_millis(at)],
    )?;
    Ok(changed == 1)
}
