//! Effective roles and the group-to-role map.
//!
//! A user's effective role (the `role` column and the `role` of its document) is Owner when the
//! operator named one; otherwise the highest role that the workspace's map gives any of the
//! user's groups; otherwise the role the IdP sent (`idp_role`); otherwise the workspace's
//! default. [`recompute`] applies that rule to some users, inside the transaction of the change
//! that may have moved it: a user write, a membership change, a group rename or deletion, a map
//! change, or a new default role.

use chrono::{DateTime, Utc};
use rollcall_scim::user::Role;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use super::{ExecuteCached, parse_column, to_millis, users};
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::{ResourceId, WorkspaceId};
use crate::model::RoleMapping;

/// Brings the effective role of the users with row keys `seqs` up to date. With
/// `bump_version`, a user whose role changes gets a new version (the change is visible); without
/// it, the caller's own write already counts as the new version.
pub fn recompute(
    conn: &Connection,
    workspace: &WorkspaceId,
    seqs: &[i64],
    at: DateTime<Utc>,
    bump_version: bool,
) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let default: String = conn
        .prepare_cached("SELECT default_role FROM workspaces WHERE id = ?1")?
        .query_row([workspace.as_str()], |row| row.get(0))?;
    let default: Role = parse_column("default_role", &default)?;
    let mut read_user =
        conn.prepare_cached("SELECT role, idp_role, body FROM users WHERE seq = ?1")?;
    let mut mapped = conn.prepare_cached(
        "SELECT rm.role FROM group_members m
         JOIN groups g ON g.seq = m.group_seq
         JOIN role_mappings rm ON rm.workspace_id = g.workspace_id AND rm.group_key = g.display_name_key
         WHERE m.user_seq = ?1",
    )?;
    let mut write = conn.prepare_cached(
        "UPDATE users SET role = ?2, body = ?3, updated_at = ?4, version = version + ?5
         WHERE seq = ?1",
    )?;

    for &seq in seqs {
        let row: Option<(String, Option<String>, String)> = read_user
            .query_row([seq], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .optional()?;
        let Some((current, idp_role, body)) = row else {
            continue;
        };
        let current: Role = parse_column("role", &current)?;
        if current == Role::Owner {
            continue;
        }
        let roles: Vec<String> = mapped
            .query_map([seq], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let best = roles
            .iter()
            .filter_map(|role| role.parse::<Role>().ok())
            .min();
        let idp_role = idp_role
            .map(|role| parse_column::<Role>("idp_role", &role))
            .transpose()?;
        let effective = best.or(idp_role).unwrap_or(default);
        if effective == current {
            continue;
        }
        let mut body: Value = serde_json::from_str(&body)?;
        if let Value::Object(fields) = &mut body {
            fields.insert(
                "role".to_owned(),
                Value::String(effective.as_str().to_owned()),
            );
        }
        write.execute(params![
            seq,
            effective.as_str(),
            serde_json::to_string(&body)?,
            to_millis(at),
            i64::from(bump_version),
        ])?;
        // A change the caller's own write made is recorded by that write; one that groups, the
        // map or the default made is recorded here.
        if bump_version {
            let id: String = conn
                .prepare_cached("SELECT id FROM users WHERE seq = ?1")?
                .query_row([seq], |row| row.get(0))?;
            users::role_changed(
                conn,
                workspace,
                &ResourceId::new(id),
                current,
                effective,
                at,
            )?;
        }
    }
    Ok(())
}

/// Whether the workspace maps a group of this folded displayName to a role.
pub fn is_mapped(
    conn: &Connection,
    workspace: &WorkspaceId,
    key: &str,
) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM role_mappings WHERE workspace_id = ?1 AND group_key = ?2")?
        .query_row([workspace.as_str(), key], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The row keys of the members of the workspace's groups whose folded name is `key`.
pub fn members_of_named(
    conn: &Connection,
    workspace: &WorkspaceId,
    key: &str,
) -> Result<Vec<i64>, StoreError> {
    let seqs = conn
        .prepare_cached(
            "SELECT m.user_seq FROM groups g JOIN group_members m ON m.group_seq = g.seq
             WHERE g.workspace_id = ?1 AND g.display_name_key = ?2
             ORDER BY m.user_seq",
        )?
        .query_map([workspace.as_str(), key], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(seqs)
}

/// Maps a group name to a role, replacing an earlier mapping of the same name.
pub fn set_mapping(
    conn: &Connection,
    workspace: &WorkspaceId,
    mapping: &RoleMapping,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key = fold_case(mapping.group.trim());
    conn.execute_cached(
        "INSERT INTO role_mappings (workspace_id, group_key, group_name, role)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workspace_id, group_key) DO UPDATE SET group_name = ?3, role = ?4",
        params![
            workspace.as_str(),
            key,
            mapping.group.trim(),
            mapping.role.as_str()
        ],
    )?;
    let members = members_of_named(conn, workspace, &key)?;
    recompute(conn, workspace, &members, at, true)
}

/// Removes a group's mapping; `NotFound` when there is none.
pub fn remove_mapping(
    conn: &Connection,
    workspace: &WorkspaceId,
    group: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key = fold_case(group.trim());
    let removed = conn.execute_cached(
        "DELETE FROM role_mappings WHERE workspace_id = ?1 AND group_key = ?2",
        [workspace.as_str(), key.as_str()],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    let members = members_of_named(conn, workspace, &key)?;
    recompute(conn, workspace, &members, at, true)
}

pub fn list_mappings(
    conn: &Connection,
    workspace: &WorkspaceId,
) -> Result<Vec<RoleMapping>, StoreError> {
    let rows: Vec<(String, String)> = conn
        .prepare_cached(
            "SELECT group_name, role FROM role_mappings WHERE workspace_id = ?1
             ORDER BY group_key",
        )?
        .query_map([workspace.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(group, role)| {
            Ok(RoleMapping {
                group,
                role: parse_column("role", &role)?,
            })
        })
        .collect()
}

/// Every user of the workspace, for a change of its default role.
pub fn all_users(conn: &Connection, workspace: &WorkspaceId) -> Result<Vec<i64>, StoreError> {
    let seqs = conn
        .prepare_cached("SELECT seq FROM users WHERE workspace_id = ?1 ORDER BY seq")?
        .query_map([workspace.as_str()], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(seqs)
}
