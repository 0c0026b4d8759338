//! Group rows and their `group_members` rows.
//!
//! Membership changes are set operations on rows (`INSERT OR IGNORE`, `DELETE`), so their cost
//! does not grow with the size of the group and two concurrent changes cannot lose each
//! other's members. Every member id is checked to be a user of the same workspace inside the
//! transaction; one unknown id rolls the whole change back.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rollcall_scim::filter::{self, CompValue, CompareOp, Filter};
use rollcall_scim::group::MemberChange;
use rollcall_scim::list::{CursorPosition, Page, Paging, SortSpec};
use rollcall_scim::schema::group_resource;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, ErrorCode, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Value, json};

use super::{ExecuteCached, counts, events, from_millis, roles, to_millis};
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::{ResourceId, WorkspaceId};
use crate::model::{GroupQuery, GroupRecord, GroupRef, GroupUpdate, GroupWrite, ListPage, Member};

const COLUMNS: &str = "g.seq, g.id, g.workspace_id, g.body, g.version, g.created_at, g.updated_at";

pub fn insert(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    group: &GroupWrite,
    members: &[String],
    at: DateTime<Utc>,
) -> Result<GroupRecord, StoreError> {
    conn.execute_cached(
        "INSERT INTO groups (id, workspace_id, display_name, display_name_key, external_id,
             version, body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?7)",
        params![
            id.as_str(),
            workspace.as_str(),
            group.display_name,
            fold_case(&group.display_name),
            group.external_id,
            serde_json::to_string(&group.body)?,
            to_millis(at),
        ],
    )
    .map_err(unique_display_name)?;
    let seq = conn.last_insert_rowid();
    let added = add_members(conn, workspace, seq, members)?;
    events::record(
        conn,
        workspace,
        "group.created",
        id.as_str(),
        &group.body,
        at,
    )?;
    for user in &added {
        record_member(conn, workspace, id, "group.member_added", *user, at)?;
    }
    if roles::is_mapped(conn, workspace, &fold_case(&group.display_name))? {
        roles::recompute(conn, workspace, &added, at, true)?;
    }
    get(conn, workspace, id, true)?.ok_or(StoreError::NotFound)
}

pub fn get(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    with_members: bool,
) -> Result<Option<GroupRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups g WHERE g.workspace_id = ?1 AND g.id = ?2");
    let row = conn
        .prepare_cached(&sql)?
        .query_row([workspace.as_str(), id.as_str()], RawGroup::read)
        .optional()?;
    let Some(raw) = row else {
        return Ok(None);
    };
    let seq = raw.seq;
    let mut record = raw.into_record()?;
    if with_members {
        record.members = Some(members_of(conn, seq)?);
    }
    Ok(Some(record))
}

pub fn update(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    update: &GroupUpdate,
    with_members: bool,
) -> Result<GroupRecord, StoreError> {
    let (seq, version, old_key): (i64, i64, String) = conn
        .prepare_cached(
            "SELECT seq, version, display_name_key FROM groups WHERE workspace_id = ?1 AND id = ?2",
        )?
        .query_row([workspace.as_str(), id.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?
        .ok_or(StoreError::NotFound)?;
    if update
        .expected_version
        .is_some_and(|expected| expected != version)
    {
        return Err(StoreError::VersionConflict);
    }

    let mut new_key = old_key.clone();
    if let Some(document) = &update.document {
        new_key = fold_case(&document.display_name);
        conn.execute_cached(
            "UPDATE groups SET display_name = ?2, display_name_key = ?3, external_id = ?4,
                 body = ?5
             WHERE seq = ?1",
            params![
                seq,
                document.display_name,
                new_key,
                document.external_id,
                serde_json::to_string(&document.body)?,
            ],
        )
        .map_err(unique_display_name)?;
    }
    let mut touched = Vec::new();
    let mut member_events = Vec::new();
    for change in &update.members {
        let delta = apply_change(conn, workspace, seq, change)?;
        member_events.extend(delta.added.iter().map(|user| ("group.member_added", *user)));
        member_events.extend(
            delta
                .removed
                .iter()
                .map(|user| ("group.member_removed", *user)),
        );
        touched.extend(delta.added);
        touched.extend(delta.removed);
    }
    if update.document.is_some() || !touched.is_empty() {
        conn.execute_cached(
            "UPDATE groups SET version = version + 1, updated_at = ?2 WHERE seq = ?1",
            params![seq, to_millis(update.at)],
        )?;
    }
    if let Some(document) = &update.document {
        events::record(
            conn,
            workspace,
            "group.updated",
            id.as_str(),
            &document.body,
            update.at,
        )?;
    }
    for (kind, user) in member_events {
        record_member(conn, workspace, id, kind, user, update.at)?;
    }

    // Roles follow the map: members who came or went, or all of them after a rename.
    let renamed = old_key != new_key;
    let mapped = roles::is_mapped(conn, workspace, &old_key)?
        || renamed && roles::is_mapped(conn, workspace, &new_key)?;
    if mapped {
        if renamed {
            touched.extend(member_seqs(conn, seq)?);
        }
        roles::recompute(conn, workspace, &touched, update.at, true)?;
    }
    get(conn, workspace, id, with_members)?.ok_or(StoreError::NotFound)
}

pub fn delete(
    conn: &Connection,
    workspace: &WorkspaceId,
    id: &ResourceId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let found: Option<(i64, String, String)> = conn
        .prepare_cached(
            "SELECT seq, display_name_key, display_name FROM groups
             WHERE workspace_id = ?1 AND id = ?2",
        )?
        .query_row([workspace.as_str(), id.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?;
    let (seq, key, display_name) = found.ok_or(StoreError::NotFound)?;
    let members = if roles::is_mapped(conn, workspace, &key)? {
        member_seqs(conn, seq)?
    } else {
        Vec::new()
    };
    conn.execute_cached("DELETE FROM groups WHERE seq = ?1", [seq])?;
    let data = json!({"displayName": display_name});
    events::record(conn, workspace, "group.deleted", id.as_str(), &data, at)?;
    roles::recompute(conn, workspace, &members, at, true)
}

pub fn list(
    conn: &Connection,
    workspace: &WorkspaceId,
    query: &GroupQuery,
) -> Result<ListPage<GroupRecord>, StoreError> {
    let condition = match &query.filter {
        None => Some(("1 = 1".to_owned(), Vec::new())),
        Some(filter) => {
            let mut params = Vec::new();
            indexed_condition(filter, &mut params).map(|sql| (sql, params))
        }
    };
    let mut page = match (condition, &query.sort, &query.paging) {
        (Some((sql, params)), None, Paging::Index(page)) => {
            let unfiltered = query.filter.is_none();
            list_in_sql(conn, workspace, *page, (&sql, params), unfiltered)?
        }
        _ => list_in_memory(conn, workspace, query)?,
    };
    if query.with_members {
        for (record, seq) in page.items.iter_mut() {
            record.members = Some(members_of(conn, *seq)?);
        }
    }
    Ok(ListPage {
        total: page.total,
        items: page.items.into_iter().map(|(record, _)| record).collect(),
        next: page.next,
    })
}

pub fn groups_of_users(
    conn: &Connection,
    workspace: &WorkspaceId,
    users: &[ResourceId],
) -> Result<Vec<(ResourceId, GroupRef)>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT g.id, g.display_name FROM users u
         JOIN group_members m ON m.user_seq = u.seq
         JOIN groups g ON g.seq = m.group_seq
         WHERE u.workspace_id = ?1 AND u.id = ?2
         ORDER BY g.seq",
    )?;
    let mut out = Vec::new();
    for user in users {
        let rows = statement.query_map([workspace.as_str(), user.as_str()], |row| {
            Ok(GroupRef {
                id: ResourceId::new(row.get::<_, String>(0)?),
                display: row.get(1)?,
            })
        })?;
        for group in rows {
            out.push((user.clone(), group?));
        }
    }
    Ok(out)
}

/// The users (row keys) who joined and left a group in one change.
#[derive(Debug, Default)]
struct Delta {
    added: Vec<i64>,
    removed: Vec<i64>,
}

/// Applies one membership change.
fn apply_change(
    conn: &Connection,
    workspace: &WorkspaceId,
    seq: i64,
    change: &MemberChange,
) -> Result<Delta, StoreError> {
    match change {
        MemberChange::Add(ids) => Ok(Delta {
            added: add_members(conn, workspace, seq, ids)?,
            removed: Vec::new(),
        }),
        MemberChange::Remove(ids) => {
            let mut find =
                conn.prepare_cached("SELECT seq FROM users WHERE workspace_id = ?1 AND id = ?2")?;
            let mut users = Vec::with_capacity(ids.len());
            for id in ids {
                let user: Option<i64> = find
                    .query_row([workspace.as_str(), id.as_str()], |row| row.get(0))
                    .optional()?;
                users.extend(user);
            }
            Ok(Delta {
                added: Vec::new(),
                removed: remove_members(conn, seq, &users)?,
            })
        }
        MemberChange::RemoveMatching(filter) => {
            let attribute = group_resource()
                .core
                .attribute("members")
                .ok_or_else(|| StoreError::Internal("the Group schema lost members".to_owned()))?;
            let mut gone = Vec::new();
            for member in members_of(conn, seq)? {
                if filter::matches_element(filter, &member_element(&member), attribute) {
                    gone.push(member.id.to_string());
                }
            }
            apply_change(conn, workspace, seq, &MemberChange::Remove(gone))
        }
        MemberChange::Replace(ids) => {
            let wanted = user_seqs(conn, workspace, ids)?;
            // Sets, so that replacing a 100,000-member list stays linear.
            let wanted_set: HashSet<i64> = wanted.iter().copied().collect();
            let current = member_seqs(conn, seq)?;
            let leaving: Vec<i64> = current
                .iter()
                .copied()
                .filter(|user| !wanted_set.contains(user))
                .collect();
            Ok(Delta {
                removed: remove_members(conn, seq, &leaving)?,
                added: insert_members(conn, seq, &wanted)?,
            })
        }
    }
}

/// Records a `group.member_added` or `group.member_removed` event for one user.
fn record_member(
    conn: &Connection,
    workspace: &WorkspaceId,
    group: &ResourceId,
    kind: &str,
    user_seq: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let user: String = conn
        .prepare_cached("SELECT id FROM users WHERE seq = ?1")?
        .query_row([user_seq], |row| row.get(0))?;
    let data = json!({"group": group.as_str(), "user": user});
    events::record(conn, workspace, kind, group.as_str(), &data, at)
}

fn add_members(
    conn: &Connection,
    workspace: &WorkspaceId,
    seq: i64,
    ids: &[String],
) -> Result<Vec<i64>, StoreError> {
    let users = user_seqs(conn, workspace, ids)?;
    insert_members(conn, seq, &users)
}

/// Inserts membership rows; returns the users that were not members yet.
fn insert_members(conn: &Connection, seq: i64, users: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO group_members (group_seq, user_seq) VALUES (?1, ?2)",
    )?;
    let mut added = Vec::new();
    for &user in users {
        if insert.execute([seq, user])? > 0 {
            added.push(user);
        }
    }
    Ok(added)
}

/// Deletes membership rows; returns the users that were members.
fn remove_members(conn: &Connection, seq: i64, users: &[i64]) -> Result<Vec<i64>, StoreError> {
    let mut delete =
        conn.prepare_cached("DELETE FROM group_members WHERE group_seq = ?1 AND user_seq = ?2")?;
    let mut removed = Vec::new();
    for &user in users {
        if delete.execute([seq, user])? > 0 {
            removed.push(user);
        }
    }
    Ok(removed)
}

fn member_seqs(conn: &Connection, seq: i64) -> Result<Vec<i64>, StoreError> {
    let seqs = conn
        .prepare_cached("SELECT user_seq FROM group_members WHERE group_seq = ?1")?
        .query_map([seq], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(seqs)
}

/// The row keys of `ids`, all of which must be users of the workspace.
fn user_seqs(
    conn: &Connection,
    workspace: &WorkspaceId,
    ids: &[String],
) -> Result<Vec<i64>, StoreError> {
    let mut statement =
        conn.prepare_cached("SELECT seq FROM users WHERE workspace_id = ?1 AND id = ?2")?;
    let mut seqs = Vec::with_capacity(ids.len());
    let mut seen = HashSet::with_capacity(ids.len());
    for id in ids {
        let seq: Option<i64> = statement
            .query_row([workspace.as_str(), id.as_str()], |row| row.get(0))
            .optional()?;
        let seq = seq.ok_or_else(|| StoreError::UnknownMember { id: id.clone() })?;
        if seen.insert(seq) {
            seqs.push(seq);
        }
    }
    Ok(seqs)
}

fn members_of(conn: &Connection, seq: i64) -> Result<Vec<Member>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT u.id, u.display_name FROM group_members m JOIN users u ON u.seq = m.user_seq
         WHERE m.group_seq = ?1 ORDER BY u.seq",
    )?;
    let rows = statement.query_map([seq], |row| {
        Ok(Member {
            id: ResourceId::new(row.get::<_, String>(0)?),
            display: row.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One page in SQL; `unfiltered` when `condition` selects every group (the stored count is
/// then the total).
fn list_in_sql(
    conn: &Connection,
    workspace: &WorkspaceId,
    page: Page,
    (condition, params): (&str, Vec<SqlValue>),
    unfiltered: bool,
) -> Result<ListPage<(GroupRecord, i64)>, StoreError> {
    let mut values = vec![SqlValue::Text(workspace.as_str().to_owned())];
    values.extend(params);
    let total = counts::total(conn, workspace, counts::Counted::Groups, unfiltered, || {
        let count_sql =
            format!("SELECT count(*) FROM groups g WHERE g.workspace_id = ?1 AND ({condition})");
        Ok(conn
            .prepare_cached(&count_sql)?
            .query_row(params_from_iter(values.iter()), |row| row.get(0))?)
    })?;

    values.push(SqlValue::Integer(
        i64::try_from(page.count).unwrap_or(i64::MAX),
    ));
    values.push(SqlValue::Integer(
        i64::try_from(page.offset()).unwrap_or(i64::MAX),
    ));
    let limit = values.len() - 1;
    let page_sql = format!(
        "SELECT {COLUMNS} FROM groups g WHERE g.workspace_id = ?1 AND ({condition})
         ORDER BY g.seq LIMIT ?{limit} OFFSET ?{}",
        limit + 1
    );
    let mut statement = conn.prepare_cached(&page_sql)?;
    let rows = statement.query_map(params_from_iter(values.iter()), RawGroup::read)?;
    let mut items = Vec::new();
    for row in rows {
        let raw = row?;
        let seq = raw.seq;
        items.push((raw.into_record()?, seq));
    }
    Ok(ListPage {
        total: usize::try_from(total).unwrap_or(0),
        items,
        next: None,
    })
}

/// Filters, sorts and pages the workspace's groups in memory.
///
/// FIXME: this reads every group of the workspace (and the members of each when the filter
/// names `members`) whenever the filter is more than `eq` on `displayName`, `externalId` or
/// `id`, or the request sorts or pages by cursor; translating group filters and orders to SQL
/// like the user ones removes the scan. Workspaces hold far fewer groups than users.
fn list_in_memory(
    conn: &Connection,
    workspace: &WorkspaceId,
    query: &GroupQuery,
) -> Result<ListPage<(GroupRecord, i64)>, StoreError> {
    let needs_members = query.filter.as_ref().is_some_and(names_members);
    let sql = format!("SELECT {COLUMNS} FROM groups g WHERE g.workspace_id = ?1 ORDER BY g.seq");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([workspace.as_str()], RawGroup::read)?;
    let mut matched = Vec::new();
    for row in rows {
        let raw = row?;
        let seq = raw.seq;
        let record = raw.into_record()?;
        if let Some(filter) = &query.filter {
            let members = if needs_members {
                members_of(conn, seq)?
            } else {
                Vec::new()
            };
            if !filter::matches(filter, &filterable(&record, &members), group_resource()) {
                continue;
            }
        }
        let key = sort_key(&record, query.sort.as_ref());
        matched.push((record, seq, key));
    }

    // The same order as SQL lists use: missing keys last ascending, first descending, then seq.
    let descending = query.sort.as_ref().is_some_and(|s| s.descending);
    matched.sort_by(|a, b| compare_keys(&a.2, a.1, &b.2, b.1, descending));
    let total = matched.len();
    let (start, count) = match &query.paging {
        Paging::Index(page) => (page.offset(), page.count),
        Paging::Cursor { after, count } => {
            let start = after.as_ref().map_or(0, |position| {
                matched
                    .iter()
                    .position(|(_, seq, key)| {
                        compare_keys(key, *seq, &position.key, position.seq, descending)
                            == std::cmp::Ordering::Greater
                    })
                    .unwrap_or(total)
            });
            (start, *count)
        }
    };
    let end = start.saturating_add(count).min(total);
    let next = match &query.paging {
        Paging::Cursor { .. } if end < total && end > start => {
            matched.get(end - 1).map(|(_, seq, key)| CursorPosition {
                key: key.clone(),
                seq: *seq,
            })
        }
        _ => None,
    };
    let items = matched
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .map(|(record, seq, _)| (record, seq))
        .collect();
    Ok(ListPage { total, items, next })
}

/// A group's sort key: the folded displayName, externalId, id, or a timestamp in milliseconds.
fn sort_key(record: &GroupRecord, sort: Option<&SortSpec>) -> Value {
    let Some(sort) = sort else {
        return Value::Null;
    };
    match (sort.name.as_str(), sort.sub.as_deref()) {
        ("meta", Some("created")) => Value::from(to_millis(record.created_at)),
        ("meta", Some("lastModified")) => Value::from(to_millis(record.updated_at)),
        ("id", None) => Value::String(record.id.to_string()),
        (name, None) => match record.body.get(name).and_then(Value::as_str) {
            Some(text) if sort.case_exact => Value::String(text.to_owned()),
            Some(text) => Value::String(fold_case(text)),
            None => Value::Null,
        },
        // Members sort nothing apart: a group's members have no single value.
        _ => Value::Null,
    }
}

fn compare_keys(
    a: &Value,
    a_seq: i64,
    b: &Value,
    b_seq: i64,
    descending: bool,
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let by_key = match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (x, y) => x.as_str().unwrap_or("").cmp(y.as_str().unwrap_or("")),
    };
    let by_key = if descending { by_key.reverse() } else { by_key };
    by_key.then(a_seq.cmp(&b_seq))
}

/// A member as a filter sees an element of `members`.
fn member_element(member: &Member) -> Value {
    json!({"value": member.id.as_str(), "display": member.display, "type": "User"})
}

fn names_members(filter: &Filter) -> bool {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            names_members(left) || names_members(right)
        }
        Filter::Not(inner) => names_members(inner),
        Filter::Present(path) | Filter::Compare { path, .. } | Filter::ValuePath { path, .. } => {
            path.name.eq_ignore_ascii_case("members")
        }
    }
}

fn filterable(record: &GroupRecord, members: &[Member]) -> Value {
    let mut doc = record.body.clone();
    if let Value::Object(fields) = &mut doc {
        fields.insert("id".to_owned(), Value::String(record.id.to_string()));
        if !members.is_empty() {
            let members: Vec<Value> = members.iter().map(member_element).collect();
            fields.insert("members".to_owned(), Value::Array(members));
        }
        fields.insert(
            "meta".to_owned(),
            json!({
                "resourceType": "Group",
                "created": rollcall_scim::render::timestamp(record.created_at),
                "lastModified": rollcall_scim::render::timestamp(record.updated_at),
                "version": format!("W/\"{}\"", record.version),
            }),
        );
    }
    doc
}

/// `eq` on `displayName`, `externalId` and `id`, joined by `and`/`or`, answered by indexes.
fn indexed_condition(filter: &Filter, params: &mut Vec<SqlValue>) -> Option<String> {
    match filter {
        Filter::And(left, right) => Some(format!(
            "({} AND {})",
            indexed_condition(left, params)?,
            indexed_condition(right, params)?
        )),
        Filter::Or(left, right) => Some(format!(
            "({} OR {})",
            indexed_condition(left, params)?,
            indexed_condition(right, params)?
        )),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(text),
        } if path.sub_attr.is_none() && path.uri.is_none() => {
            let (column, key) = match path.name.to_ascii_lowercase().as_str() {
                "displayname" => ("g.display_name_key", fold_case(text)),
                "externalid" => ("g.external_id", text.clone()),
                "id" => ("g.id", text.clone()),
                _ => return None,
            };
            params.push(SqlValue::Text(key));
            Some(format!("{column} = ?{}", params.len() + 1))
        }
        _ => None,
    }
}

fn unique_display_name(err: rusqlite::Error) -> StoreError {
    if err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation)
        && err.to_string().contains("display_name_key")
    {
        return StoreError::Uniqueness {
            attribute: "displayName",
        };
    }
    StoreError::from(err)
}

struct RawGroup {
    seq: i64,
    id: String,
    workspace_id: String,
    body: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl RawGroup {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawGroup> {
        Ok(RawGroup {
            seq: row.get(0)?,
            id: row.get(1)?,
            workspace_id: row.get(2)?,
            body: row.get(3)?,
            version: row.get(4)?,
            created_at: row.get(5)?,
            updated_at: row.get(6)?,
        })
    }

    fn into_record(self) -> Result<GroupRecord, StoreError> {
        Ok(GroupRecord {
            id: ResourceId::new(self.id),
            workspace_id: WorkspaceId::new(self.workspace_id),
            body: serde_json::from_str(&self.body)?,
            version: self.version,
            created_at: from_millis(self.created_at)?,
            updated_at: from_millis(self.updated_at)?,
            members: None,
        })
    }
}
