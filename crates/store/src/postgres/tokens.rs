//! SCIM token rows. Only the SHA-256 of a token's secret is stored.

use chrono::{DateTime, Utc};
use postgres::{Row, Transaction};

use crate::columns::{from_millis, from_millis_opt, to_millis};
use crate::error::StoreError;
use crate::ids::{TokenId, WorkspaceId};
use crate::model::TokenRecord;
use crate::postgres::statements::Cached;

const COLUMNS: &str =
    "id, workspace_id, label, secret_hash, created_at, last_used_at, expires_at, revoked_at";

pub fn insert(tx: &mut Transaction<'_>, token: &TokenRecord) -> Result<(), StoreError> {
    tx.execute_c(
        &format!("INSERT INTO scim_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
        &[
            &token.id.as_str(),
            &token.workspace_id.as_str(),
            &token.label,
            &token.secret_hash,
            &to_millis(token.created_at),
            &token.last_used_at.map(to_millis),
            &token.expires_at.map(to_millis),
            &token.revoked_at.map(to_millis),
        ],
    )?;
    Ok(())
}

pub fn get(tx: &mut Transaction<'_>, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM scim_tokens WHERE id = $1");
    tx.query_opt_c(&sql, &[&id.as_str()])?
        .map(|row| read(&row))
        .transpose()
}

pub fn list(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
) -> Result<Vec<TokenRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM scim_tokens WHERE workspace_id = $1 ORDER BY created_at, id"
    );
    tx.query_c(&sql, &[&workspace.as_str()])?
        .iter()
        .map(read)
        .collect()
}

pub fn revoke(tx: &mut Transaction<'_>, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
    let changed = tx.execute_c(
        "UPDATE scim_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
        &[&id.as_str(), &to_millis(at)],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn rotate(
    tx: &mut Transaction<'_>,
    old: &TokenId,
    new: &TokenRecord,
    old_expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = to_millis(old_expires_at);
    let changed = tx.execute_c(
        "UPDATE scim_tokens SET expires_at = LEAST(COALESCE(expires_at, $2), $2)
         WHERE id = $1 AND revoked_at IS NULL",
        &[&old.as_str(), &at],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    insert(tx, new)
}

pub fn touch(tx: &mut Transaction<'_>, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
    tx.execute_c(
        "UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1",
        &[&id.as_str(), &to_millis(at)],
    )?;
    Ok(())
}

fn read(row: &Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: TokenId::new(row.try_get::<_, String>(0)?),
        workspace_id: WorkspaceId::new(row.try_get::<_, String>(1)?),
        label: row.try_get(2)?,
        secret_hash: row.try_get(3)?,
        created_at: from_millis(row.try_get(4)?)?,
        last_used_at: from_millis_opt(row.try_get(5)?)?,
        expires_at: from_millis_opt(row.try_get(6)?)?,
        revoked_at: from_millis_opt(row.try_get(7)?)?,
    })
}
