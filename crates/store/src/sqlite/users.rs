//! User rows and their `user_emails` index rows.

use chrono::{DateTime, Utc};
use rollcall_scim::list::{CursorPosition, Paging};
use rollcall_scim::user::Role;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params, params_from_iter};
use serde_json::Value;

use super::{ExecuteCached, counts, events, filter_sql, roles, sort};
use super::{from_millis, parse_column, to_millis};
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::{ResourceId, WorkspaceId};
use crate::model::{ListPage, UserQuery, UserRecord, UserWrite};

const COLUMNS: &str =
    "u.seq, u.id, u.workspace_id, u.body, u.role, u.active, u.version, u.created_at, u.updated_at,
     u.idp_role";

pub fn insert(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    user: &UserWrite,
) -> Result<UserRecord, StoreError> {
    let body = serde_json::to_string(&user.body)?;
    let inserted = conn.execute_cached(
        "INSERT INTO users (id, workspace_id, user_name, user_name_key, external_id, email_key,
             display_name, display_name_key, active, role, idp_role, version, body, created_at,
             updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12, ?13, ?13)",
        params![
            id.as_str(),
            workspace.as_str(),
            user.user_name,
            fold_case(&user.user_name),
            user.external_id,
            fold_case(&user.email),
            user.display_name,
            fold_case(&user.display_name),
            user.active,
            user.role.as_str(),
            user.idp_role.map(Role::as_str),
            body,
            to_millis(user.at),
        ],
    );
    inserted.map_err(unique_user_name)?;
    let seq = conn.last_insert_rowid();
    write_emails(conn, workspace, seq, &user.emails)?;
    roles::recompute(conn, workspace, &[seq], user.at, false)?;
    let record = get(conn, workspace, id)?.ok_or(StoreError::NotFound)?;
    events::record(
        conn,
        workspace,
        "user.created",
        id.as_str(),
        &record.body,
        user.at,
    )?;
    Ok(record)
}

pub fn get(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users u WHERE u.workspace_id = ?1 AND u.id = ?2");
    let mut statement = conn.prepare_cached(&sql)?;
    let row = statement
        .query_row([workspace.as_str(), id.as_str()], RawUser::read)
        .optional()?;
    row.map(RawUser::into_record).transpose()
}

pub fn replace(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    expected_version: i64,
    user: &UserWrite,
) -> Result<UserRecord, StoreError> {
    let before = get(conn, workspace, id)?;
    let body = serde_json::to_string(&user.body)?;
    let updated = conn
        .execute(
            "UPDATE users SET user_name = ?4, user_name_key = ?5, external_id = ?6, email_key = ?7,
                 display_name = ?8, display_name_key = ?9, active = ?10, role = ?11, body = ?12,
                 updated_at = ?13, idp_role = ?14, version = version + 1
             WHERE workspace_id = ?1 AND id = ?2 AND version = ?3",
            params![
                workspace.as_str(),
                id.as_str(),
                expected_version,
                user.user_name,
                fold_case(&user.user_name),
                user.external_id,
                fold_case(&user.email),
                user.display_name,
                fold_case(&user.display_name),
                user.active,
                user.role.as_str(),
                body,
                to_millis(user.at),
                user.idp_role.map(Role::as_str),
            ],
        )
        .map_err(unique_user_name)?;
    if updated == 0 {
        return Err(missing_or_stale(conn, workspace, id)?);
    }
    let seq = seq_of(conn, workspace, id)?;
    write_emails(conn, workspace, seq, &user.emails)?;
    roles::recompute(conn, workspace, &[seq], user.at, false)?;
    let after = get(conn, workspace, id)?.ok_or(StoreError::NotFound)?;
    if let Some(before) = before {
        record_changes(conn, workspace, &before, &after, user.at)?;
    }
    Ok(after)
}

/// The events of one user write: deactivation or reactivation, a new role, and any other
/// change of the document as `user.updated`.
fn record_changes(
    conn: &Connection,
    workspace: &WorkspaceId,
    before: &UserRecord,
    after: &UserRecord,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let id = after.id.as_str();
    match (before.active, after.active) {
        (true, false) => events::record(conn, workspace, "user.deactivated", id, &after.body, at)?,
        (false, true) => events::record(conn, workspace, "user.reactivated", id, &after.body, at)?,
        _ => {}
    }
    if before.role != after.role {
        role_changed(conn, workspace, &after.id, before.role, after.role, at)?;
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
        events::record(conn, workspace, "user.updated", id, &after.body, at)?;
    }
    Ok(())
}

/// Records `user.role_changed` with the role before and after.
pub fn role_changed(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    from: Role,
    to: Role,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let data = serde_json::json!({"from": from.as_str(), "to": to.as_str()});
    events::record(conn, workspace, "user.role_changed", id.as_str(), &data, at)
}

/// The operator's role change: Owner is set as is; any other role becomes the user's IdP-level
/// role, under whatever its groups map to.
pub fn set_role(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    role: Role,
    at: DateTime<Utc>,
) -> Result<UserRecord, StoreError> {
    let mut record = get(conn, workspace, id)?.ok_or(StoreError::NotFound)?;
    if let Value::Object(body) = &mut record.body {
        body.insert("role".to_owned(), Value::String(role.as_str().to_owned()));
    }
    let idp_role = if role == Role::Owner {
        record.idp_role
    } else {
        Some(role)
    };
    conn.execute_cached(
        "UPDATE users SET role = ?3, idp_role = ?4, body = ?5, updated_at = ?6,
             version = version + 1
         WHERE workspace_id = ?1 AND id = ?2",
        params![
            workspace.as_str(),
            id.as_str(),
            role.as_str(),
            idp_role.map(Role::as_str),
            serde_json::to_string(&record.body)?,
            to_millis(at),
        ],
    )?;
    let seq = seq_of(conn, workspace, id)?;
    roles::recompute(conn, workspace, &[seq], at, false)?;
    let after = get(conn, workspace, id)?.ok_or(StoreError::NotFound)?;
    if record.role != after.role {
        role_changed(conn, workspace, id, record.role, after.role, at)?;
    }
    Ok(after)
}

/// Deletes a user; its memberships go with it (`user.deleted` stands for them in the feed).
pub fn delete(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let record = get(conn, workspace, id)?.ok_or(StoreError::NotFound)?;
    conn.execute_cached(
        "DELETE FROM users WHERE workspace_id = ?1 AND id = ?2",
        [workspace.as_str(), id.as_str()],
    )?;
    let data = serde_json::json!({"userName": record.body.get("userName")});
    events::record(conn, workspace, "user.deleted", id.as_str(), &data, at)
}

pub fn list(
    conn: &Connection,
    workspace: &WorkspaceId,
    query: &UserQuery,
) -> Result<ListPage<UserRecord>, StoreError> {
    // ?1 is the workspace id; the filter's own parameters follow it.
    let condition = match &query.filter {
        None => filter_sql::SqlFilter::everything(),
        Some(filter) => match &query.schema {
            Some(schema) => filter_sql::translate_with(filter, schema, 2),
            None => filter_sql::translate(filter, 2),
        },
    };
    list_in_sql(conn, workspace, query, &condition)
}

fn list_in_sql(
    conn: &Connection,
    workspace: &WorkspaceId,
    query: &UserQuery,
    condition: &filter_sql::SqlFilter,
) -> Result<ListPage<UserRecord>, StoreError> {
    let mut values = vec![SqlValue::Text(workspace.as_str().to_owned())];
    values.extend(condition.params.iter().cloned());
    let filter_sql = &condition.sql;

    let unfiltered = query.filter.is_none();
    let total = counts::total(conn, workspace, counts::Counted::Users, unfiltered, || {
        let count_sql =
            format!("SELECT count(*) FROM users u WHERE u.workspace_id = ?1 AND ({filter_sql})");
        Ok(conn
            .prepare_cached(&count_sql)?
            .query_row(params_from_iter(values.iter()), |row| row.get(0))?)
    })?;

    // The order, the cursor's position in it, and the page.
    let descending = query.sort.as_ref().is_some_and(|s| s.descending);
    let key = query
        .sort
        .as_ref()
        .map(|spec| sort::key_expression(spec, "u", SORT_COLUMNS, &mut values));
    let mut page_condition = filter_sql.clone();
    let (limit, offset) = match &query.paging {
        Paging::Index(page) => (page.count, page.offset()),
        Paging::Cursor { after, count } => {
            if let Some(position) = after {
                let after = sort::after(key.as_deref(), descending, "u", position, &mut values);
                page_condition = format!("({filter_sql}) AND {after}");
            }
            // One row more than asked tells whether another page follows.
            (count.saturating_add(1), 0)
        }
    };
    values.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    values.push(SqlValue::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
    let limit_param = values.len() - 1;
    let page_sql = format!(
        "SELECT {COLUMNS}, {} FROM users u WHERE u.workspace_id = ?1 AND ({page_condition})
         ORDER BY {} LIMIT ?{limit_param} OFFSET ?{}",
        key.as_deref().unwrap_or("NULL"),
        sort::order_by(key.as_deref(), descending, "u"),
        limit_param + 1
    );
    let mut statement = conn.prepare_cached(&page_sql)?;
    let rows = statement.query_map(params_from_iter(values.iter()), |row| {
        let seq: i64 = row.get(0)?;
        let key: SqlValue = row.get(10)?;
        Ok((RawUser::read(row)?, seq, key))
    })?;
    let mut items = Vec::new();
    let mut positions = Vec::new();
    for row in rows {
        let (raw, seq, key) = row?;
        items.push(raw.into_record()?);
        positions.push((seq, key));
    }

    let mut next = None;
    if let Paging::Cursor { count, .. } = &query.paging
        && items.len() > *count
    {
        items.truncate(*count);
        next = positions
            .get(count.saturating_sub(1))
            .filter(|_| *count > 0)
            .map(|(seq, key)| CursorPosition {
                key: sort::key_value(key.clone()),
                seq: *seq,
            });
    }
    Ok(ListPage {
        total: usize::try_from(total).unwrap_or(0),
        items,
        next,
    })
}

/// Attributes whose sort key is an indexed column (already folded where not case-exact).
const SORT_COLUMNS: &[(&str, &str)] = &[
    ("id", "id"),
    ("userName", "user_name_key"),
    ("displayName", "display_name_key"),
    ("email", "email_key"),
    ("externalId", "external_id"),
    ("active", "active"),
];

/// The document a filter sees; the SQL translation of filters must agree with the evaluator
/// on it.
#[cfg(test)]
pub(crate) use crate::filterable::user as filterable;

fn write_emails(
    conn: &Connection,
    workspace: &WorkspaceId,
    seq: i64,
    emails: &[String],
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM user_emails WHERE user_seq = ?1")?
        .execute([seq])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO user_emails (workspace_id, user_seq, email_key) VALUES (?1, ?2, ?3)",
    )?;
    for email in emails {
        insert.execute(params![workspace.as_str(), seq, fold_case(email)])?;
    }
    Ok(())
}

fn seq_of(conn: &Connection, workspace: &WorkspaceId, id: &ResourceId) -> Result<i64, StoreError> {
    conn.prepare_cached("SELECT seq FROM users WHERE workspace_id = ?1 AND id = ?2")?
        .query_row([workspace.as_str(), id.as_str()], |row| row.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)
}

fn missing_or_stale(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
) -> Result<StoreError, StoreError> {
    Ok(match seq_of(conn, workspace, id) {
        Ok(_) => StoreError::VersionConflict,
        Err(StoreError::NotFound) => StoreError::NotFound,
        Err(other) => return Err(other),
    })
}

/// Turns a violation of `users_user_name` into the SCIM uniqueness error.
fn unique_user_name(err: rusqlite::Error) -> StoreError {
    if err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
        && err.to_string().contains("user_name_key")
    {
        return StoreError::Uniqueness {
            attribute: "userName",
        };
    }
    StoreError::from(err)
}

struct RawUser {
    id: String,
    workspace_id: String,
    body: String,
    role: String,
    active: Option<bool>,
    version: i64,
    created_at: i64,
    updated_at: i64,
    idp_role: Option<String>,
}

impl RawUser {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawUser> {
        Ok(RawUser {
            id: row.get(1)?,
            workspace_id: row.get(2)?,
            body: row.get(3)?,
            role: row.get(4)?,
            active: row.get(5)?,
            version: row.get(6)?,
            created_at: row.get(7)?,
            updated_at: row.get(8)?,
            idp_role: row.get(9)?,
        })
    }

    fn into_record(self) -> Result<UserRecord, StoreError> {
        Ok(UserRecord {
            id: ResourceId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            body: serde_json::from_str(&self.body)?,
            role: parse_column("role", &self.role)?,
            idp_role: self
                .idp_role
                .map(|role| parse_column("idp_role", &role))
                .transpose()?,
            active: self.active != Some(false),
            version: self.version,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
        })
    }
}

pub fn workspace_of(conn: &Connection, id: &ResourceId) -> Result<Option<WorkspaceId>, StoreError> {
    let workspace: Option<String> = conn
        .prepare_cached("SELECT workspace_id FROM users WHERE id = ?1")?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()?;
    Ok(workspace.map(WorkspaceId::new))
}
