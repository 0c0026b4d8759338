//! Setup link rows, as in the SQLite backend's `setup_links` module.

use chrono::{DateTime, Utc};
use postgres::Transaction;

use crate::columns::{from_millis, from_millis_opt, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::SetupLinkRecord;
use crate::postgres::statements::Cached;

pub fn insert(tx: &mut Transaction<'_>, link: &SetupLinkRecord) -> Result<(), StoreError> {
    tx.execute_c(
        "INSERT INTO setup_links (id, workspace_id, secret_hash, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &link.id,
            &link.workspace_id.as_str(),
            &link.secret_hash,
            &to_millis(link.created_at),
            &to_millis(link.expires_at),
            &link.used_at.map(to_millis),
        ],
    )?;
    Ok(())
}

pub fn get(tx: &mut Transaction<'_>, id: &str) -> Result<Option<SetupLinkRecord>, StoreError> {
    let row = tx.query_opt_c(
        "SELECT id, workspace_id, secret_hash, created_at, expires_at, used_at
         FROM setup_links WHERE id = $1",
        &[&id],
    )?;
    row.map(|row| {
        Ok(SetupLinkRecord {
            id: row.try_get(0)?,
            workspace_id: WorkspaceId::new(row.try_get::<_, String>(1)?),
            secret_hash: row.try_get(2)?,
            created_at: from_millis(row.try_get(3)?)?,
            expires_at: from_millis(row.try_get(4)?)?,
            used_at: from_millis_opt(row.try_get(5)?)?,
        })
    })
    .transpose()
}

pub fn use_link(tx: &mut Transaction<'_>, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let changed = tx.execute_c(
        "UPDATE setup_links SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2",
        &[&id, &to_millis(at)],
    )?;
    Ok(changed == 1)
}
