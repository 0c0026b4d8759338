//! Effective roles and the group-to-role map, as in the SQLite backend's `roles` module (which
//! states the rule). Every function runs inside a write that holds the workspace's lock.

use chrono::{DateTime, Utc};
use postgres::Transaction;
use rollcall_scim::user::Role;
use serde_json::Value;

use super::events;
use crate::columns::{parse_column, to_millis};
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::WorkspaceId;
use crate::model::RoleMapping;
use crate::postgres::statements::{self, Cached};

/// Brings the effective role of the users with row keys `seqs` up to date. With
/// `bump_version`, a user whose role changes gets a new version (the change is visible); without
/// it, the caller's own write already counts as the new version.
pub fn recompute(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    seqs: &[i64],
    at: DateTime<Utc>,
    bump_version: bool,
) -> Result<(), StoreError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let default: String = tx
        .query_one(
            "SELECT default_role FROM workspaces WHERE id = $1",
            &[&workspace.as_str()],
        )?
        .try_get(0)?;
    let default: Role = parse_column("default_role", &default)?;
    let read_user = statements::prepared(
        tx,
        "SELECT role, idp_role, body, id FROM users WHERE seq = $1",
    )?;
    let mapped = statements::prepared(
        tx,
        "SELECT rm.role FROM group_members m
         JOIN groups g ON g.seq = m.group_seq
         JOIN role_mappings rm ON rm.workspace_id = g.workspace_id AND rm.group_key = g.display_name_key
         WHERE m.user_seq = $1",
    )?;
    let write = statements::prepared(
        tx,
        "UPDATE users SET role = $2, body = $3, updated_at = $4, version = version + $5
         WHERE seq = $1",
    )?;

    // (user id, from, to) of each change the caller did not make itself.
    let mut changed: Vec<(String, Role, Role)> = Vec::new();
    for &seq in seqs {
        let Some(row) = tx.query_opt_c(&read_user, &[&seq])? else {
            continue;
        };
        let current: Role = parse_column("role", row.try_get(0)?)?;
        if current == Role::Owner {
            continue;
        }
        let idp_role: Option<&str> = row.try_get(1)?;
        let idp_role = idp_role
            .map(|role| parse_column::<Role>("idp_role", role))
            .transpose()?;
        let best = tx
            .query(&mapped, &[&seq])?
            .iter()
            .filter_map(|row| row.try_get::<_, &str>(0).ok()?.parse::<Role>().ok())
            .min();
        let effective = best.or(idp_role).unwrap_or(default);
        if effective == current {
            continue;
        }
        let mut body: Value = serde_json::from_str(row.try_get(2)?)?;
        if let Value::Object(fields) = &mut body {
            fields.insert(
                "role".to_owned(),
                Value::String(effective.as_str().to_owned()),
            );
        }
        tx.execute_c(
            &write,
            &[
                &seq,
                &effective.as_str(),
                &serde_json::to_string(&body)?,
                &to_millis(at),
                &i64::from(bump_version),
            ],
        )?;
        // A change the caller's own write made is recorded by that write; one that groups, the
        // map or the default made is recorded here.
        if bump_version {
            changed.push((row.try_get(3)?, current, effective));
        }
    }
    let events: Vec<events::NewEvent<'_>> = changed
        .iter()
        .map(|(id, from, to)| events::NewEvent {
            kind: "user.role_changed",
            resource_id: id,
            data: change_data(*from, *to),
        })
        .collect();
    events::record_many(tx, workspace, &events, at)
}

/// The data of a `user.role_changed` event.
pub fn change_data(from: Role, to: Role) -> Value {
    serde_json::json!({"from": from.as_str(), "to": to.as_str()})
}

/// Whether the workspace maps a group of this folded displayName to a role.
pub fn is_mapped(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    key: &str,
) -> Result<bool, StoreError> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM role_mappings WHERE workspace_id = $1 AND group_key = $2",
            &[&workspace.as_str(), &key],
        )?
        .is_some())
}

/// The row keys of the members of the workspace's groups whose folded name is `key`.
pub fn members_of_named(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    key: &str,
) -> Result<Vec<i64>, StoreError> {
    let rows = tx.query_c(
        "SELECT m.user_seq FROM groups g JOIN group_members m ON m.group_seq = g.seq
         WHERE g.workspace_id = $1 AND g.display_name_key = $2
         ORDER BY m.user_seq",
        &[&workspace.as_str(), &key],
    )?;
    rows.iter()
        .map(|row| row.try_get(0).map_err(StoreError::from))
        .collect()
}

/// Maps a group name to a role, replacing an earlier mapping of the same name.
pub fn set_mapping(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    mapping: &RoleMapping,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key = fold_case(mapping.group.trim());
    tx.execute_c(
        "INSERT INTO role_mappings (workspace_id, group_key, group_name, role)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, group_key) DO UPDATE SET group_name = $3, role = $4",
        &[
            &workspace.as_str(),
            &key,
            &mapping.group.trim(),
            &mapping.role.as_str(),
        ],
    )?;
    let members = members_of_named(tx, workspace, &key)?;
    recompute(tx, workspace, &members, at, true)
}

/// Removes a group's mapping; `NotFound` when there is none.
pub fn remove_mapping(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    group: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key = fold_case(group.trim());
    let removed = tx.execute_c(
        "DELETE FROM role_mappings WHERE workspace_id = $1 AND group_key = $2",
        &[&workspace.as_str(), &key],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    let members = members_of_named(tx, workspace, &key)?;
    recompute(tx, workspace, &members, at, true)
}

pub fn list_mappings(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
) -> Result<Vec<RoleMapping>, StoreError> {
    let rows = tx.query_c(
        "SELECT group_name, role FROM role_mappings WHERE workspace_id = $1 ORDER BY group_key",
        &[&workspace.as_str()],
    )?;
    rows.iter()
        .map(|row| {
            Ok(RoleMapping {
                group: row.try_get(0)?,
                role: parse_column("role", row.try_get(1)?)?,
            })
        })
        .collect()
}

/// Every user of the workspace, for a change of its default role.
pub fn all_users(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
) -> Result<Vec<i64>, StoreError> {
    let rows = tx.query_c(
        "SELECT seq FROM users WHERE workspace_id = $1 ORDER BY seq",
        &[&workspace.as_str()],
    )?;
    rows.iter()
        .map(|row| row.try_get(0).map_err(StoreError::from))
        .collect()
}
