//! Operator API key rows, as in the SQLite backend's `api_keys` module.

use chrono::{DateTime, Utc};
use postgres::{Row, Transaction};

use crate::columns::{from_millis, from_millis_opt, to_millis};
use crate::error::StoreError;
use crate::model::ApiKeyRecord;
use crate::postgres::statements::Cached;

const COLUMNS: &str = "id, label, secret_hash, created_at, last_used_at, revoked_at";

pub fn insert(tx: &mut Transaction<'_>, key: &ApiKeyRecord) -> Result<(), StoreError> {
    tx.execute_c(
        &format!("INSERT INTO api_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
        &[
            &key.id,
            &key.label,
            &key.secret_hash,
            &to_millis(key.created_at),
            &key.last_used_at.map(to_millis),
            &key.revoked_at.map(to_millis),
        ],
    )?;
    Ok(())
}

pub fn get(tx: &mut Transaction<'_>, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    tx.query_opt_c(&sql, &[&id])?
        .map(|row| read(&row))
        .transpose()
}

pub fn list(tx: &mut Transaction<'_>) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id");
    tx.query_c(&sql, &[])?.iter().map(read).collect()
}

pub fn revoke(tx: &mut Transaction<'_>, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    let changed = tx.execute_c(
        "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
        &[&id, &to_millis(at)],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn touch(tx: &mut Transaction<'_>, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
    tx.execute_c(
        "UPDATE api_keys SET last_used_at = $2 WHERE id = $1",
        &[&id, &to_millis(at)],
    )?;
    Ok(())
}

fn read(row: &Row) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: row.try_get(0)?,
        label: row.try_get(1)?,
        secret_hash: row.try_get(2)?,
        created_at: from_millis(row.try_get(3)?)?,
        last_used_at: from_millis_opt(row.try_get(4)?)?,
        revoked_at: from_millis_opt(row.try_get(5)?)?,
    })
}
