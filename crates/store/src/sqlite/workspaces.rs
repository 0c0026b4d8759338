//! Workspace rows.

use rusqlite::{Connection, OptionalExtension, Row, params};

use chrono::{DateTime, Utc};

use super::{ExecuteCached, from_millis, parse_column, roles, to_millis};
use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::model::Workspace;
use crate::store::WorkspaceChange;

const COLUMNS: &str =
    "id, name, plan, invitation_only, scim_enabled, username_format, default_role, created_at,
     role_discovery";

pub fn insert(conn: &Connection, workspace: &Workspace) -> Result<(), StoreError> {
    conn.execute_cached(
        &format!("INSERT INTO workspaces ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        params![
            workspace.id.as_str(),
            workspace.name,
            workspace.plan.as_str(),
            workspace.invitation_only,
            workspace.scim_enabled,
            workspace.username_format.as_str(),
            workspace.default_role.as_str(),
            to_millis(workspace.created_at),
            workspace.role_discovery,
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM workspaces WHERE id = ?1");
    let row = conn
        .prepare_cached(&sql)?
        .query_row([id.as_str()], RawWorkspace::read)
        .optional()?;
    row.map(RawWorkspace::into_workspace).transpose()
}

pub fn list(conn: &Connection) -> Result<Vec<Workspace>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM workspaces ORDER BY created_at, id");
    let mut statement = conn.prepare(&sql)?;
    let rows = statement.query_map([], RawWorkspace::read)?;
    rows.map(|row| row.map_err(StoreError::from)?.into_workspace())
        .collect()
}

pub fn update(
    conn: &Connection,
    id: &WorkspaceId,
    change: WorkspaceChange,
    at: DateTime<Utc>,
) -> Result<Workspace, StoreError> {
    let mut workspace = get(conn, id)?.ok_or(StoreError::NotFound)?;
    let default_before = workspace.default_role;
    change(&mut workspace).map_err(StoreError::Refused)?;
    conn.execute_cached(
        "UPDATE workspaces SET name = ?2, plan = ?3, invitation_only = ?4, scim_enabled = ?5,
             username_format = ?6, default_role = ?7, role_discovery = ?8
         WHERE id = ?1",
        params![
            id.as_str(),
            workspace.name,
            workspace.plan.as_str(),
            workspace.invitation_only,
            workspace.scim_enabled,
            workspace.username_format.as_str(),
            workspace.default_role.as_str(),
            workspace.role_discovery,
        ],
    )?;
    if workspace.default_role != default_before {
        let users = roles::all_users(conn, id)?;
        roles::recompute(conn, id, &users, at, true)?;
    }
    Ok(workspace)
}

/// A row as read, before its text columns are parsed (parsing can fail on a corrupt file).
struct RawWorkspace {
    id: String,
    name: String,
    plan: String,
    invitation_only: bool,
    scim_enabled: bool,
    username_format: String,
    default_role: String,
    created_at: i64,
    role_discovery: bool,
}

impl RawWorkspace {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawWorkspace> {
        Ok(RawWorkspace {
            id: row.get(0)?,
            name: row.get(1)?,
            plan: row.get(2)?,
            invitation_only: row.get(3)?,
            scim_enabled: row.get(4)?,
            username_format: row.get(5)?,
            default_role: row.get(6)?,
            created_at: row.get(7)?,
            role_discovery: row.get(8)?,
        })
    }

    fn into_workspace(self) -> Result<Workspace, StoreError> {
        Ok(Workspace {
            id: WorkspaceId::new(self.id),
            name: self.name,
            plan: parse_column("plan", &self.plan)?,
            invitation_only: self.invitation_only,
            scim_enabled: self.scim_enabled,
            username_format: parse_column("username_format", &self.username_format)?,
            default_role: parse_column("default_role", &self.default_role)?,
            role_discovery: self.role_discovery,
            created_at: from_millis(self.created_at)?,
        })
    }
}
