//! User rows and their `user_emails` index rows, as in the SQLite backend's `users` module.
//!
//! Lists differ in how they filter: PostgreSQL cannot run the SQL functions the SQLite
//! translation of filters relies on, so [`narrowing`] answers the common `eq` tests from the key
//! columns and the evaluator decides the rest in memory ([`page`]); [`order`] keeps sort keys
//! and cursors identical to SQLite's.

mod narrowing;
mod order;
mod page;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{GenericClient, Row, Transaction};
use rollcall_scim::schema::user_resource;
use rollcall_scim::user::Role;
use serde_json::Value;

use super::{events, roles};
use crate::columns::{from_millis, parse_column, to_millis};
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::{ResourceId, WorkspaceId};
use crate::model::{ListPage, UserQuery, UserRecord, UserWrite};
use crate::postgres::statements::{self, Cached};

const COLUMNS: &str =
    "u.seq, u.id, u.workspace_id, u.body, u.role, u.active, u.version, u.created_at, u.updated_at,
     u.idp_role";

pub fn insert(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    user: &UserWrite,
) -> Result<UserRecord, StoreError> {
    let body = serde_json::to_string(&user.body)?;
    let inserted = tx.query_one_c(
        "INSERT INTO users (id, workspace_id, user_name, user_name_key, external_id, email_key,
             display_name, display_name_key, active, role, idp_role, version, body, created_at,
             updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13, $13)
         RETURNING seq",
        &[
            &id.as_str(),
            &workspace.as_str(),
            &user.user_name,
            &fold_case(&user.user_name),
            &user.external_id,
            &fold_case(&user.email),
            &user.display_name,
            &fold_case(&user.display_name),
            &user.active,
            &user.role.as_str(),
            &user.idp_role.map(Role::as_str),
            &body,
            &to_millis(user.at),
        ],
    );
    let seq: i64 = inserted.map_err(unique_user_name)?.try_get(0)?;
    write_emails(tx, workspace, seq, &user.emails)?;
    roles::recompute(tx, workspace, &[seq], user.at, false)?;
    let record = get(tx, workspace, id)?.ok_or(StoreError::NotFound)?;
    events::record(
        tx,
        workspace,
        "user.created",
        id.as_str(),
        &record.body,
        user.at,
    )?;
    Ok(record)
}

pub fn get(
    tx: &mut impl GenericClient,
    workspace: &WorkspaceId,
    id: &ResourceId,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.workspace_id = $1 AND u.id = $2");
    tx.query_opt_c(&sql, &[&workspace.as_str(), &id.as_str()])?
        .map(|row| read(&row))
        .transpose()
}

pub fn replace(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    expected_version: i64,
    user: &UserWrite,
) -> Result<UserRecord, StoreError> {
    let before = get(tx, workspace, id)?;
    let body = serde_json::to_string(&user.body)?;
    let updated = tx
        .execute(
            "UPDATE users SET user_name = $4, user_name_key = $5, external_id = $6, email_key = $7,
                 display_name = $8, display_name_key = $9, active = $10, role = $11, body = $12,
                 updated_at = $13, idp_role = $14, version = version + 1
             WHERE workspace_id = $1 AND id = $2 AND version = $3",
            &[
                &workspace.as_str(),
                &id.as_str(),
                &expected_version,
                &user.user_name,
                &fold_case(&user.user_name),
                &user.external_id,
                &fold_case(&user.email),
                &user.display_name,
                &fold_case(&user.display_name),
                &user.active,
                &user.role.as_str(),
                &body,
                &to_millis(user.at),
                &user.idp_role.map(Role::as_str),
            ],
        )
        .map_err(unique_user_name)?;
    if updated == 0 {
        return Err(missing_or_stale(tx, workspace, id)?);
    }
    let seq = seq_of(tx, workspace, id)?;
    write_emails(tx, workspace, seq, &user.emails)?;
    roles::recompute(tx, workspace, &[seq], user.at, false)?;
    let after = get(tx, workspace, id)?.ok_or(StoreError::NotFound)?;
    if let Some(before) = before {
        record_changes(tx, workspace, &before, &after, user.at)?;
    }
    Ok(after)
}

/// The events of one user write: deactivation or reactivation, a new role, and any other
/// change of the document as `user.updated`.
fn record_changes(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    before: &UserRecord,
    after: &UserRecord,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let id = after.id.as_str();
    match (before.active, after.active) {
        (true, false) => events::record(tx, workspace, "user.deactivated", id, &after.body, at)?,
        (false, true) => events::record(tx, workspace, "user.reactivated", id, &after.body, at)?,
        _ => {}
    }
    if before.role != after.role {
        role_changed(tx, workspace, &after.id, before.role, after.role, at)?;
    }
    let rest = |body: &Value| {
        let mut body = body.clone();
        if let Value::Object(fields) = &mut body {
            fields.remove("active");
            fields.remove("role");
        }
        body
    };
    if rest(&before.body) != rest(&after.body) {
        events::record(tx, workspace, "user.updated", id, &after.body, at)?;
    }
    Ok(())
}

/// Records `user.role_changed` with the role before and after.
pub fn role_changed(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    from: Role,
    to: Role,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let data = serde_json::json!({"from": from.as_str(), "to": to.as_str()});
    events::record(tx, workspace, "user.role_changed", id.as_str(), &data, at)
}

/// The operator's role change: Owner is set as is; any other role becomes the user's IdP-level
/// role, under whatever its groups map to.
pub fn set_role(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    role: Role,
    at: DateTime<Utc>,
) -> Result<UserRecord, StoreError> {
    let mut record = get(tx, workspace, id)?.ok_or(StoreError::NotFound)?;
    if let Value::Object(body) = &mut record.body {
        body.insert("role".to_owned(), Value::String(role.as_str().to_owned()));
    }
    let idp_role = if role == Role::Owner {
        record.idp_role
    } else {
        Some(role)
    };
    tx.execute_c(
        "UPDATE users SET role = $3, idp_role = $4, body = $5, updated_at = $6,
             version = version + 1
         WHERE workspace_id = $1 AND id = $2",
        &[
            &workspace.as_str(),
            &id.as_str(),
            &role.as_str(),
            &idp_role.map(Role::as_str),
            &serde_json::to_string(&record.body)?,
            &to_millis(at),
        ],
    )?;
    let seq = seq_of(tx, workspace, id)?;
    roles::recompute(tx, workspace, &[seq], at, false)?;
    let after = get(tx, workspace, id)?.ok_or(StoreError::NotFound)?;
    if record.role != after.role {
        role_changed(tx, workspace, id, record.role, after.role, at)?;
    }
    Ok(after)
}

/// Deletes a user; its memberships go with it (`user.deleted` stands for them in the feed).
pub fn delete(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let record = get(tx, workspace, id)?.ok_or(StoreError::NotFound)?;
    tx.execute_c(
        "DELETE FROM users WHERE workspace_id = $1 AND id = $2",
        &[&workspace.as_str(), &id.as_str()],
    )?;
    let data = serde_json::json!({"userName": record.body.get("userName")});
    events::record(tx, workspace, "user.deleted", id.as_str(), &data, at)
}

/// One page of the workspace's users that match the query's filter, in its order.
///
/// The page is read in SQL when the narrowing of the filter is exact and the order is by a
/// key column (or insertion); otherwise the narrowed users are filtered, sorted and paged in
/// memory. Both give what the SQLite backend gives, cursors included.
pub fn list(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    query: &UserQuery,
) -> Result<ListPage<UserRecord>, StoreError> {
    let schema = query.schema.as_deref().unwrap_or_else(|| user_resource());
    let narrowing = match &query.filter {
        None => narrowing::Narrowing::everything(),
        Some(filter) => narrowing::narrow(filter, schema),
    };
    // `Some(None)`: insertion order; `Some(Some(column))`: a key column; `None`: the body.
    let order_in_sql = match &query.sort {
        None => Some(None),
        Some(spec) => order::key_column(spec).map(Some),
    };
    match order_in_sql {
        Some(key) if narrowing.exact => page::in_sql(tx, workspace, query, &narrowing, key),
        _ => page::in_memory(tx, workspace, query, schema, &narrowing),
    }
}

pub fn workspace_of(
    tx: &mut Transaction<'_>,
    id: &ResourceId,
) -> Result<Option<WorkspaceId>, StoreError> {
    let row = tx.query_opt_c(
        "SELECT workspace_id FROM users WHERE id = $1",
        &[&id.as_str()],
    )?;
    row.map(|row| Ok(WorkspaceId::new(row.try_get::<_, String>(0)?)))
        .transpose()
}

fn write_emails(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    seq: i64,
    emails: &[String],
) -> Result<(), StoreError> {
    tx.execute_c("DELETE FROM user_emails WHERE user_seq = $1", &[&seq])?;
    let insert = statements::prepared(
        tx,
        "INSERT INTO user_emails (workspace_id, user_seq, email_key) VALUES ($1, $2, $3)",
    )?;
    for email in emails {
        tx.execute_c(&insert, &[&workspace.as_str(), &seq, &fold_case(email)])?;
    }
    Ok(())
}

fn seq_of(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
) -> Result<i64, StoreError> {
    let row = tx.query_opt_c(
        "SELECT seq FROM users WHERE workspace_id = $1 AND id = $2",
        &[&workspace.as_str(), &id.as_str()],
    )?;
    Ok(row.ok_or(StoreError::NotFound)?.try_get(0)?)
}

fn missing_or_stale(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
) -> Result<StoreError, StoreError> {
    Ok(match seq_of(tx, workspace, id) {
        Ok(_) => StoreError::VersionConflict,
        Err(StoreError::NotFound) => StoreError::NotFound,
        Err(other) => return Err(other),
    })
}

/// Turns a violation of `users_user_name` into the SCIM uniqueness error.
fn unique_user_name(err: postgres::Error) -> StoreError {
    if super::unique_violation(&err) == Some("users_user_name") {
        return StoreError::Uniqueness {
            attribute: "userName",
        };
    }
    StoreError::from(err)
}

/// A user from a row that starts with [`COLUMNS`].
fn read(row: &Row) -> Result<UserRecord, StoreError> {
    let body: &str = row.try_get(3)?;
    let idp_role: Option<&str> = row.try_get(9)?;
    let active: Option<bool> = row.try_get(5)?;
    Ok(UserRecord {
        id: ResourceId::new(row.try_get::<_, String>(1)?),
        workspace_id: WorkspaceId::new(row.try_get::<_, String>(2)?),
        body: serde_json::from_str(body)?,
        role: parse_column("role", row.try_get(4)?)?,
        idp_role: idp_role
            .map(|role| parse_column("idp_role", role))
            .transpose()?,
        active: active != Some(false),
        version: row.try_get(6)?,
        created_at: from_millis(row.try_get(7)?)?,
        updated_at: from_millis(row.try_get(8)?)?,
    })
}

/// The values bound to one statement: `$1` is the workspace id, and every value bound after it
/// gets the next number.
struct Params(Vec<Box<dyn ToSql + Sync>>);

impl Params {
    fn new(workspace: &WorkspaceId) -> Params {
        Params(vec![Box::new(workspace.as_str().to_owned())])
    }

    /// Binds `value` and returns its placeholder.
    fn bind<T: ToSql + Sync + 'static>(&mut self, value: T) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    fn refs(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.0.iter().map(|value| value.as_ref()).collect()
    }
}
