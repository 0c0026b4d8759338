//! Group rows and their `group_members` rows, as in the SQLite backend's `groups` module.
//!
//! Membership changes are set operations on rows (`INSERT ... ON CONFLICT DO NOTHING`,
//! `DELETE`), each one statement over an array of users, so two concurrent changes cannot lose
//! each other's members and the rows of even a 100,000-member change move in a few round trips.
//! Every member id is checked to be a user of the same workspace inside the transaction; one
//! unknown id rolls the whole change back. The statements return the rows they actually
//! changed, so there is one event per member who joined or left, in the order the SQLite
//! backend writes them (those events are still written one statement each, by
//! `events::record`).
//!
//! PostgreSQL text cannot hold a NUL character, and sending one is an error: an id or name
//! with a NUL equals nothing stored here, so lookups and filters match it against nothing
//! instead of sending it (an unknown member, an empty list), as SQLite answers them.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{GenericClient, Row, ToStatement, Transaction};
use rollcall_scim::filter::{self, CompValue, CompareOp, Filter};
use rollcall_scim::group::MemberChange;
use rollcall_scim::list::{CursorPosition, Page, Paging, SortSpec};
use rollcall_scim::schema::group_resource;
use serde_json::{Value, json};

use super::{counts, events, roles, unique_violation};
use crate::columns::{from_millis, to_millis};
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::{ResourceId, WorkspaceId};
use crate::model::{GroupQuery, GroupRecord, GroupRef, GroupUpdate, GroupWrite, ListPage, Member};
use crate::postgres::statements::{self, Cached};

const COLUMNS: &str = "g.seq, g.id, g.workspace_id, g.body, g.version, g.created_at, g.updated_at";

/// The members of one group (`$1`, its row key), in the order the users were created.
const MEMBERS: &str = "SELECT u.id, u.display_name FROM group_members m
     JOIN users u ON u.seq = m.user_seq
     WHERE m.group_seq = $1 ORDER BY u.seq";

pub fn insert(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    group: &GroupWrite,
    members: &[String],
    at: DateTime<Utc>,
) -> Result<GroupRecord, StoreError> {
    // The refusals come first, in SQLite's order: a create that fails after its insert has
    // spent an identity value, and the gap would make later cursors differ from SQLite's.
    let key = fold_case(&group.display_name);
    let taken = tx.query_opt_c(
        "SELECT 1 FROM groups WHERE workspace_id = $1 AND display_name_key = $2",
        &[&workspace.as_str(), &key],
    )?;
    if taken.is_some() {
        return Err(StoreError::Uniqueness {
            attribute: "displayName",
        });
    }
    let users = user_seqs(tx, workspace, members)?;

    let seq: i64 = tx
        .query_one(
            "INSERT INTO groups (id, workspace_id, display_name, display_name_key, external_id,
                 version, body, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)
             RETURNING seq",
            &[
                &id.as_str(),
                &workspace.as_str(),
                &group.display_name,
                &key,
                &group.external_id,
                &serde_json::to_string(&group.body)?,
                &to_millis(at),
            ],
        )
        .map_err(unique_display_name)?
        .try_get(0)?;
    let added = insert_members(tx, seq, &users)?;
    events::record(tx, workspace, "group.created", id.as_str(), &group.body, at)?;
    let member_events: Vec<(&str, i64)> = added
        .iter()
        .map(|user| ("group.member_added", *user))
        .collect();
    record_members(tx, workspace, id, &member_events, at)?;
    if roles::is_mapped(tx, workspace, &key)? {
        roles::recompute(tx, workspace, &added, at, true)?;
    }
    get(tx, workspace, id, true)?.ok_or(StoreError::NotFound)
}

pub fn get(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    with_members: bool,
) -> Result<Option<GroupRecord>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM groups g WHERE g.workspace_id = $1 AND g.id = $2");
    let Some(row) = tx.query_opt_c(&sql, &[&workspace.as_str(), &id.as_str()])? else {
        return Ok(None);
    };
    let raw = RawGroup::read(&row)?;
    let seq = raw.seq;
    let mut record = raw.into_record()?;
    if with_members {
        record.members = Some(members_of(tx, MEMBERS, seq)?);
    }
    Ok(Some(record))
}

pub fn update(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    update: &GroupUpdate,
    with_members: bool,
) -> Result<GroupRecord, StoreError> {
    let row = tx
        .query_opt(
            "SELECT seq, version, display_name_key FROM groups WHERE workspace_id = $1 AND id = $2",
            &[&workspace.as_str(), &id.as_str()],
        )?
        .ok_or(StoreError::NotFound)?;
    let seq: i64 = row.try_get(0)?;
    let version: i64 = row.try_get(1)?;
    let old_key: String = row.try_get(2)?;
    if update
        .expected_version
        .is_some_and(|expected| expected != version)
    {
        return Err(StoreError::VersionConflict);
    }

    let mut new_key = old_key.clone();
    if let Some(document) = &update.document {
        new_key = fold_case(&document.display_name);
        tx.execute_c(
            "UPDATE groups SET display_name = $2, display_name_key = $3, external_id = $4,
                 body = $5
             WHERE seq = $1",
            &[
                &seq,
                &document.display_name,
                &new_key,
                &document.external_id,
                &serde_json::to_string(&document.body)?,
            ],
        )
        .map_err(unique_display_name)?;
    }
    let mut touched = Vec::new();
    let mut member_events = Vec::new();
    for change in &update.members {
        let delta = apply_change(tx, workspace, seq, change)?;
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
        tx.execute_c(
            "UPDATE groups SET version = version + 1, updated_at = $2 WHERE seq = $1",
            &[&seq, &to_millis(update.at)],
        )?;
    }
    if let Some(document) = &update.document {
        events::record(
            tx,
            workspace,
            "group.updated",
            id.as_str(),
            &document.body,
            update.at,
        )?;
    }
    record_members(tx, workspace, id, &member_events, update.at)?;

    // Roles follow the map: members who came or went, or all of them after a rename.
    let renamed = old_key != new_key;
    let mapped = roles::is_mapped(tx, workspace, &old_key)?
        || renamed && roles::is_mapped(tx, workspace, &new_key)?;
    if mapped {
        if renamed {
            touched.extend(member_seqs(tx, seq)?);
        }
        roles::recompute(tx, workspace, &touched, update.at, true)?;
    }
    get(tx, workspace, id, with_members)?.ok_or(StoreError::NotFound)
}

pub fn delete(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    id: &ResourceId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = tx
        .query_opt(
            "SELECT seq, display_name_key, display_name FROM groups
             WHERE workspace_id = $1 AND id = $2",
            &[&workspace.as_str(), &id.as_str()],
        )?
        .ok_or(StoreError::NotFound)?;
    let seq: i64 = row.try_get(0)?;
    let key: &str = row.try_get(1)?;
    let display_name: &str = row.try_get(2)?;
    let members = if roles::is_mapped(tx, workspace, key)? {
        member_seqs(tx, seq)?
    } else {
        Vec::new()
    };
    tx.execute_c("DELETE FROM groups WHERE seq = $1", &[&seq])?;
    let data = json!({"displayName": display_name});
    events::record(tx, workspace, "group.deleted", id.as_str(), &data, at)?;
    roles::recompute(tx, workspace, &members, at, true)
}

pub fn list(
    tx: &mut Transaction<'_>,
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
            list_in_sql(tx, workspace, *page, (&sql, params), unfiltered)?
        }
        _ => list_in_memory(tx, workspace, query)?,
    };
    if query.with_members && !page.items.is_empty() {
        let statement = statements::prepared(tx, MEMBERS)?;
        for (record, seq) in page.items.iter_mut() {
            record.members = Some(members_of(tx, &statement, *seq)?);
        }
    }
    Ok(ListPage {
        total: page.total,
        items: page.items.into_iter().map(|(record, _)| record).collect(),
        next: page.next,
    })
}

/// The groups of each of `users`, in the order of `users` and then of the groups' creation.
pub fn groups_of_users(
    tx: &mut impl GenericClient,
    workspace: &WorkspaceId,
    users: &[ResourceId],
) -> Result<Vec<(ResourceId, GroupRef)>, StoreError> {
    let ids: Vec<&str> = users
        .iter()
        .map(ResourceId::as_str)
        .filter(|id| storable(id))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tx.query_c(
        "SELECT u.id, g.id, g.display_name FROM users u
         JOIN group_members m ON m.user_seq = u.seq
         JOIN groups g ON g.seq = m.group_seq
         WHERE u.workspace_id = $1 AND u.id = ANY($2)
         ORDER BY g.seq",
        &[&workspace.as_str(), &ids],
    )?;
    let mut by_user: HashMap<&str, Vec<GroupRef>> = HashMap::new();
    for row in &rows {
        by_user.entry(row.try_get(0)?).or_default().push(GroupRef {
            id: ResourceId::new(row.try_get::<_, String>(1)?),
            display: row.try_get(2)?,
        });
    }

    // One entry per user asked for, so a user named twice is answered twice.
    let mut out = Vec::new();
    for user in users {
        if let Some(groups) = by_user.get(user.as_str()) {
            out.extend(groups.iter().map(|group| (user.clone(), group.clone())));
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
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    seq: i64,
    change: &MemberChange,
) -> Result<Delta, StoreError> {
    match change {
        MemberChange::Add(ids) => Ok(Delta {
            added: add_members(tx, workspace, seq, ids)?,
            removed: Vec::new(),
        }),
        MemberChange::Remove(ids) => {
            // Ids that are not users of the workspace are ignored, as ids not in the group are.
            let known = find_users(tx, workspace, ids)?;
            let users: Vec<i64> = ids
                .iter()
                .filter_map(|id| known.get(id.as_str()))
                .copied()
                .collect();
            Ok(Delta {
                added: Vec::new(),
                removed: remove_members(tx, seq, &users)?,
            })
        }
        MemberChange::RemoveMatching(filter) => {
            let attribute = group_resource()
                .core
                .attribute("members")
                .ok_or_else(|| StoreError::Internal("the Group schema lost members".to_owned()))?;
            let mut gone = Vec::new();
            for member in members_of(tx, MEMBERS, seq)? {
                if filter::matches_element(filter, &member_element(&member), attribute) {
                    gone.push(member.id.to_string());
                }
            }
            apply_change(tx, workspace, seq, &MemberChange::Remove(gone))
        }
        MemberChange::Replace(ids) => {
            let wanted = user_seqs(tx, workspace, ids)?;
            // Sets, so that replacing a 100,000-member list stays linear.
            let wanted_set: HashSet<i64> = wanted.iter().copied().collect();
            let current = member_seqs(tx, seq)?;
            let leaving: Vec<i64> = current
                .iter()
                .copied()
                .filter(|user| !wanted_set.contains(user))
                .collect();
            Ok(Delta {
                removed: remove_members(tx, seq, &leaving)?,
                added: insert_members(tx, seq, &wanted)?,
            })
        }
    }
}

/// Records a `group.member_added` or `group.member_removed` event for each (kind, user row key),
/// in order.
fn record_members(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    group: &ResourceId,
    changes: &[(&str, i64)],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let seqs: Vec<i64> = changes.iter().map(|(_, user)| *user).collect();
    let rows = tx.query_c("SELECT seq, id FROM users WHERE seq = ANY($1)", &[&seqs])?;
    let mut ids = HashMap::with_capacity(rows.len());
    for row in &rows {
        ids.insert(row.try_get::<_, i64>(0)?, row.try_get::<_, &str>(1)?);
    }
    let mut batch = Vec::with_capacity(changes.len());
    for (kind, user) in changes {
        let user = ids
            .get(user)
            .ok_or_else(|| StoreError::Internal(format!("member row {user} has no user")))?;
        batch.push(events::NewEvent {
            kind,
            resource_id: group.as_str(),
            data: json!({"group": group.as_str(), "user": user}),
        });
    }
    events::record_many(tx, workspace, &batch, at)
}

fn add_members(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    seq: i64,
    ids: &[String],
) -> Result<Vec<i64>, StoreError> {
    let users = user_seqs(tx, workspace, ids)?;
    insert_members(tx, seq, &users)
}

/// Inserts membership rows; returns the users that were not members yet, in the order of
/// `users`.
fn insert_members(
    tx: &mut Transaction<'_>,
    seq: i64,
    users: &[i64],
) -> Result<Vec<i64>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tx.query_c(
        "INSERT INTO group_members (group_seq, user_seq)
         SELECT $1::BIGINT, user_seq FROM UNNEST($2::BIGINT[]) AS t(user_seq)
         ON CONFLICT DO NOTHING
         RETURNING user_seq",
        &[&seq, &users],
    )?;
    returned_in_order(users, &rows)
}

/// Deletes membership rows; returns the users that were members, in the order of `users`.
fn remove_members(
    tx: &mut Transaction<'_>,
    seq: i64,
    users: &[i64],
) -> Result<Vec<i64>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tx.query_c(
        "DELETE FROM group_members WHERE group_seq = $1 AND user_seq = ANY($2)
         RETURNING user_seq",
        &[&seq, &users],
    )?;
    returned_in_order(users, &rows)
}

/// The users of `asked` that a statement returned (first column), each once, in the order of
/// `asked`: the order in which one statement per user would have changed them.
fn returned_in_order(asked: &[i64], rows: &[Row]) -> Result<Vec<i64>, StoreError> {
    let mut returned = rows
        .iter()
        .map(|row| row.try_get::<_, i64>(0))
        .collect::<Result<HashSet<i64>, _>>()?;
    Ok(asked
        .iter()
        .copied()
        .filter(|user| returned.remove(user))
        .collect())
}

/// The row keys of a group's members, lowest first (the order of SQLite's primary key).
fn member_seqs(tx: &mut Transaction<'_>, seq: i64) -> Result<Vec<i64>, StoreError> {
    let rows = tx.query_c(
        "SELECT user_seq FROM group_members WHERE group_seq = $1 ORDER BY user_seq",
        &[&seq],
    )?;
    rows.iter()
        .map(|row| row.try_get(0).map_err(StoreError::from))
        .collect()
}

/// The row keys of `ids`, all of which must be users of the workspace, each once, in the order
/// of `ids`. The first id that is not a user is the error.
fn user_seqs(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    ids: &[String],
) -> Result<Vec<i64>, StoreError> {
    let known = find_users(tx, workspace, ids)?;
    let mut seqs = Vec::with_capacity(ids.len());
    let mut seen = HashSet::with_capacity(ids.len());
    for id in ids {
        let seq = *known
            .get(id.as_str())
            .ok_or_else(|| StoreError::UnknownMember { id: id.clone() })?;
        if seen.insert(seq) {
            seqs.push(seq);
        }
    }
    Ok(seqs)
}

/// The row keys of those of `ids` that are users of the workspace, by id, in one query.
fn find_users(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    let ids: Vec<&str> = ids
        .iter()
        .map(String::as_str)
        .filter(|id| storable(id))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = tx.query_c(
        "SELECT id, seq FROM users WHERE workspace_id = $1 AND id = ANY($2)",
        &[&workspace.as_str(), &ids],
    )?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// The members of the group with row key `seq`; `query` is [`MEMBERS`] or a statement prepared
/// from it, for callers that read many groups.
fn members_of<Q>(tx: &mut Transaction<'_>, query: &Q, seq: i64) -> Result<Vec<Member>, StoreError>
where
    Q: ?Sized + ToStatement,
{
    tx.query(query, &[&seq])?
        .iter()
        .map(|row| {
            Ok(Member {
                id: ResourceId::new(row.try_get::<_, String>(0)?),
                display: row.try_get(1)?,
            })
        })
        .collect()
}

/// One page in SQL; `unfiltered` when `condition` selects every group (the stored count is
/// then the total).
fn list_in_sql(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    page: Page,
    (condition, params): (&str, Vec<String>),
    unfiltered: bool,
) -> Result<ListPage<(GroupRecord, i64)>, StoreError> {
    let mut texts = vec![workspace.as_str().to_owned()];
    texts.extend(params);
    let mut values: Vec<&(dyn ToSql + Sync)> = texts
        .iter()
        .map(|text| text as &(dyn ToSql + Sync))
        .collect();
    let total = counts::total(tx, workspace, counts::Counted::Groups, unfiltered, |tx| {
        let count_sql =
            format!("SELECT count(*) FROM groups g WHERE g.workspace_id = $1 AND ({condition})");
        Ok(tx.query_one_c(&count_sql, &values)?.try_get(0)?)
    })?;

    let count = i64::try_from(page.count).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    values.push(&count);
    values.push(&offset);
    let limit = values.len() - 1;
    let page_sql = format!(
        "SELECT {COLUMNS} FROM groups g WHERE g.workspace_id = $1 AND ({condition})
         ORDER BY g.seq LIMIT ${limit} OFFSET ${}",
        limit + 1
    );
    let mut items = Vec::new();
    for row in tx.query_c(&page_sql, &values)? {
        let raw = RawGroup::read(&row)?;
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
/// FIXME: this reads every group of the workspace (and, one query per group, the members of
/// each when the filter names `members`) whenever the filter is more than `eq` on
/// `displayName`, `externalId` or `id`, or the request sorts or pages by cursor; translating
/// group filters and orders to SQL like the user ones removes the scan. Workspaces hold far
/// fewer groups than users.
fn list_in_memory(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    query: &GroupQuery,
) -> Result<ListPage<(GroupRecord, i64)>, StoreError> {
    let needs_members = query.filter.as_ref().is_some_and(names_members);
    let sql = format!("SELECT {COLUMNS} FROM groups g WHERE g.workspace_id = $1 ORDER BY g.seq");
    let rows = tx.query_c(&sql, &[&workspace.as_str()])?;
    let members_statement = if needs_members {
        Some(statements::prepared(tx, MEMBERS)?)
    } else {
        None
    };
    let mut matched = Vec::new();
    for row in &rows {
        let raw = RawGroup::read(row)?;
        let seq = raw.seq;
        let record = raw.into_record()?;
        if let Some(filter) = &query.filter {
            let members = match &members_statement {
                Some(statement) => members_of(tx, statement, seq)?,
                None => Vec::new(),
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
                            == Ordering::Greater
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

fn compare_keys(a: &Value, a_seq: i64, b: &Value, b_seq: i64, descending: bool) -> Ordering {
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
/// `params` collects the compared values, which follow the workspace id (`$1`).
fn indexed_condition(filter: &Filter, params: &mut Vec<String>) -> Option<String> {
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
            if !storable(&key) {
                return Some("FALSE".to_owned());
            }
            params.push(key);
            Some(format!("{column} = ${}", params.len() + 1))
        }
        _ => None,
    }
}

/// Whether PostgreSQL text can hold `text`: a value it cannot hold equals no stored value.
fn storable(text: &str) -> bool {
    !text.contains('\0')
}

fn unique_display_name(err: postgres::Error) -> StoreError {
    if unique_violation(&err) == Some("groups_display_name") {
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
    fn read(row: &Row) -> Result<RawGroup, StoreError> {
        Ok(RawGroup {
            seq: row.try_get(0)?,
            id: row.try_get(1)?,
            workspace_id: row.try_get(2)?,
            body: row.try_get(3)?,
            version: row.try_get(4)?,
            created_at: row.try_get(5)?,
            updated_at: row.try_get(6)?,
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
