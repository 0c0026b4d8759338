//! Operator API key rows. Only the SHA-256 of a key's secret is stored.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{ExecuteCached, from_millis, from_millis_opt, to_millis};
use crate::error::StoreError;
use crate::model::ApiKeyRecord;

const COLUMNS: &str = "id, label, secret_hash, created_at, last_used_at, revoked_at";

pub fn insert(conn: &Connection, key: &ApiKeyRecord) -> Result<(), StoreError> {
    conn.execute_cached(
        &format!("INSERT INTO api_keys ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            key.id,
            key.label,
            key.secret_hash,
            to_millis(key.created_at),
            key.last_used_at.map(to_millis),
            key.revoked_at.map(to_millis),
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], read)
        .optional()?
        .transpose()
}

pub fn list(conn: &Connection) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id");
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([], read)?;
    rows.map(|row| row.map_err(StoreError::from)?).collect()
}

pub fn revoke(conn: &Connection, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let changed = conn.execute_cached(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        params![id, to_millis(at)],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn touch(conn: &Connection, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    conn.execute_cached(
        "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
        params![id, to_millis(at)],
    )?;
    Ok(())
}

fn read(row: &Row<'_>) -> rusqlite::Result<Result<ApiKeyRecord, StoreError>> {
    let (id, label, secret_hash): (String, Option<String>, String) =
        (row.get(0)?, row.get(1)?, row.get(2)?);
    let (created_at, last_used_at, revoked_at): (i64, Option<i64>, Option<i64>) =
        (row.get(3)?, row.get(4)?, row.get(5)?);
    Ok((|| {
        Ok(ApiKeyRecord {
            id,
            label,
            secret_hash,
            created_at: from_millis(created_at)?,
            last_used_at: from_millis_opt(last_used_at)?,
            revoked_at: from_millis_opt(revoked_at)?,
        })
    })())
}
