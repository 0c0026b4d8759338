//! Workspace rows.

use chrono::{DateTime, Utc};
use postgres::{Row, Transaction};

use super::roles;
use crate::columns::{from_millis, parse_column, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::Workspace;
use crate::postgres::statements::Cached;
use crate::store::WorkspaceChange;

const COLUMNS: &str =
    "id, name, plan, invitation_only, scim_enabled, username_format, default_role, created_at,
     role_discovery";

pub fn insert(tx: &mut Transaction<'_>, workspace: &Workspace) -> Result<(), StoreError> {
    tx.execute_c(
        &format!("INSERT INTO workspaces ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
        &[
            &workspace.id.as_str(),
            &workspace.name,
            &workspace.plan.as_str(),
            &workspace.invitation_only,
            &workspace.scim_enabled,
            &workspace.username_format.as_str(),
            &workspace.default_role.as_str(),
            &to_millis(workspace.created_at),
            &workspace.role_discovery,
        ],
    )?;
    Ok(())
}

pub fn get(tx: &mut Transaction<'_>, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM workspaces WHERE id = $1");
    tx.query_opt_c(&sql, &[&id.as_str()])?
        .map(|row| read(&row))
        .transpose()
}

pub fn list(tx: &mut Transaction<'_>) -> Result<Vec<Workspace>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM workspaces ORDER BY created_at, id");
    tx.query_c(&sql, &[])?.iter().map(read).collect()
}

pub fn update(
    tx: &mut Transaction<'_>,
    id: &WorkspaceId,
    change: WorkspaceChange,
    at: DateTime<Utc>,
) -> Result<Workspace, StoreError> {
    let mut workspace = get(tx, id)?.ok_or(StoreError::NotFound)?;
    let default_before = workspace.default_role;
    change(&mut workspace).map_err(StoreError::Refused)?;
    tx.execute_c(
        "UPDATE workspaces SET name = $2, plan = $3, invitation_only = $4, scim_enabled = $5,
             username_format = $6, default_role = $7, role_discovery = $8
         WHERE id = $1",
        &[
            &id.as_str(),
            &workspace.name,
            &workspace.plan.as_str(),
            &workspace.invitation_only,
            &workspace.scim_enabled,
            &workspace.username_format.as_str(),
            &workspace.default_role.as_str(),
            &workspace.role_discovery,
        ],
    )?;
    if workspace.default_role != default_before {
        let users = roles::all_users(tx, id)?;
        roles::recompute(tx, id, &users, at, true)?;
    }
    Ok(workspace)
}

fn read(row: &Row) -> Result<Workspace, StoreError> {
    Ok(Workspace {
        id: WorkspaceId::new(row.try_get::<_, String>(0)?),
        name: row.try_get(1)?,
        plan: parse_column("plan", row.try_get(2)?)?,
        invitation_only: row.try_get(3)?,
        scim_enabled: row.try_get(4)?,
        username_format: parse_column("username_format", row.try_get(5)?)?,
        default_role: parse_column("default_role", row.try_get(6)?)?,
        created_at: from_millis(row.try_get(7)?)?,
        role_discovery: row.try_get(8)?,
    })
}
