//! SCIM token rows. Only the SHA-256 of a token's secret is stored.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{ExecuteCached, from_millis, from_millis_opt, to_millis};
use crate::error::StoreError;
use crate::ids::{TokenId, WorkspaceId};
use crate::model::TokenRecord;

const COLUMNS: &str =
    "id, workspace_id, label, secret_hash, created_at, last_used_at, expires_at, revoked_at";

pub fn insert(conn: &Connection, token: &TokenRecord) -> Result<(), StoreError> {
    conn.execute_cached(
        &format!("INSERT INTO scim_tokens ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        params![
            token.id.as_str(),
            token.workspace_id.as_str(),
            token.label,
            token.secret_hash,
            to_millis(token.created_at),
            token.last_used_at.map(to_millis),
            token.expires_at.map(to_millis),
            token.revoked_at.map(to_millis),
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM scim_tokens WHERE id = ?1");
    let mut statement = conn.prepare_cached(&sql)?;
    let row = statement
        .query_row([id.as_str()], RawToken::read)
        .optional()?;
    row.map(RawToken::into_token).transpose()
}

pub fn list(conn: &Connection, workspace: &WorkspaceId) -> Result<Vec<TokenRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM scim_tokens WHERE workspace_id = ?1 ORDER BY created_at, id"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([workspace.as_str()], RawToken::read)?;
    rows.map(|row| row.map_err(StoreError::from)?.into_token())
        .collect()
}

pub fn revoke(conn: &Connection, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
    let changed = conn.execute_cached(
        "UPDATE scim_tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id.as_str(), to_millis(at)],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn rotate(
    conn: &Connection,
    old: &TokenId,
    new: &TokenRecord,
    old_expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = to_millis(old_expires_at);
    let changed = conn.execute_cached(
        "UPDATE scim_tokens SET expires_at = MIN(COALESCE(expires_at, ?2), ?2)
         WHERE id = ?1 AND revoked_at IS NULL",
        params![old.as_str(), at],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    insert(conn, new)
}

pub fn touch(conn: &Connection, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE scim_tokens SET last_used_at = ?2 WHERE id = ?1",
        params![id.as_str(), to_millis(at)],
    )?;
    Ok(())
}

struct RawToken {
    id: String,
    workspace_id: String,
    label: Option<String>,
    secret_hash: String,
    created_at: i64,
    last_used_at: Option<i64>,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl RawToken {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawToken> {
        Ok(RawToken {
            id: row.get(0)?,
            workspace_id: row.get(1)?,
            label: row.get(2)?,
            secret_hash: row.get(3)?,
            created_at: row.get(4)?,
            last_used_at: row.get(5)?,
            expires_at: row.get(6)?,
            revoked_at: row.get(7)?,
        })
    }

    fn into_token(self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord {
            id: TokenId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            label: self.label,
            secret_hash: self.secret_hash,
            created_at: from_millis(self.created_at)?,
            last_used_at: from_millis_opt(self.last_used_at)?,
            expires_at: from_millis_opt(self.expires_at)?,
            revoked_at: from_millis_opt(self.revoked_at)?,
        })
    }
}
