//! One page of a user list, read in SQL or in memory; both page as the SQLite backend does
//! (RFC 7644 §3.4.2.4 index paging, RFC 9865 cursor paging).

use postgres::Transaction;
use postgres::fallible_iterator::FallibleIterator;
use rollcall_scim::filter::matches;
use rollcall_scim::list::{CursorPosition, Paging};
use rollcall_scim::schema::ResourceSchema;

use super::narrowing::Narrowing;
use super::order::{self, KeyColumn, SortKey};
use super::{COLUMNS, Params, read};
use crate::error::StoreError;
use crate::filterable;
use crate::ids::WorkspaceId;
use crate::model::{ListPage, UserQuery, UserRecord};
use crate::postgres::counts;
use crate::postgres::statements::Cached;

/// Counts and pages in SQL, for an exact narrowing and an order by `key` (none: insertion).
pub(super) fn in_sql(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    query: &UserQuery,
    narrowing: &Narrowing,
    key: Option<KeyColumn>,
) -> Result<ListPage<UserRecord>, StoreError> {
    let mut params = Params::new(workspace);
    let condition = narrowing.sql(&mut params);
    let unfiltered = query.filter.is_none();
    let total = counts::total(tx, workspace, counts::Counted::Users, unfiltered, |tx| {
        let count_sql =
            format!("SELECT count(*) FROM users u WHERE u.workspace_id = $1 AND ({condition})");
        Ok(tx.query_one_c(&count_sql, &params.refs())?.try_get(0)?)
    })?;

    // The order, the cursor's position in it, and the page.
    let descending = query.sort.as_ref().is_some_and(|s| s.descending);
    let mut page_condition = format!("({condition})");
    let (limit, offset) = match &query.paging {
        Paging::Index(page) => (page.count, page.offset()),
        Paging::Cursor { after, count } => {
            if let Some(position) = after {
                let after = order::after(key.as_ref(), descending, position, &mut params);
                page_condition = format!("({condition}) AND {after}");
            }
            // One row more than asked tells whether another page follows.
            (count.saturating_add(1), 0)
        }
    };
    let limit = params.bind(i64::try_from(limit).unwrap_or(i64::MAX));
    let offset = params.bind(i64::try_from(offset).unwrap_or(i64::MAX));
    let key_sql = key.map_or(String::new(), |key| format!(", {}", key.sql));
    let page_sql = format!(
        "SELECT {COLUMNS}{key_sql} FROM users u WHERE u.workspace_id = $1 AND {page_condition}
         ORDER BY {} LIMIT {limit} OFFSET {offset}",
        order::order_by(key.as_ref(), descending),
    );
    let rows = tx.query_c(&page_sql, &params.refs())?;
    let mut items = Vec::with_capacity(rows.len());
    let mut positions = Vec::with_capacity(rows.len());
    for row in &rows {
        let sort_key = match &key {
            Some(key) => key.read(row, 10)?,
            None => SortKey::Null,
        };
        positions.push((row.try_get::<_, i64>(0)?, sort_key));
        items.push(read(row)?);
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
                key: key.to_json(),
                seq: *seq,
            });
    }
    Ok(ListPage {
        total: usize::try_from(total).unwrap_or(0),
        items,
        next,
    })
}

/// Filters, sorts and pages the narrowed users in memory.
///
/// FIXME: this reads every user of the workspace that the narrowing keeps (all of them when
/// the filter has no `eq` on an indexed attribute), whenever the narrowing is not exact or the
/// order is by an attribute without a key column. Translating filters and sort keys to
/// PostgreSQL SQL, as the SQLite backend translates them to its own, would remove the scan.
pub(super) fn in_memory(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    query: &UserQuery,
    schema: &ResourceSchema,
    narrowing: &Narrowing,
) -> Result<ListPage<UserRecord>, StoreError> {
    let sort = query.sort.as_ref();
    let column = sort.and_then(order::key_column);
    let mut params = Params::new(workspace);
    let condition = narrowing.sql(&mut params);
    let key_sql = column.map_or(String::new(), |key| format!(", {}", key.sql));
    let sql = format!(
        "SELECT {COLUMNS}{key_sql} FROM users u WHERE u.workspace_id = $1 AND ({condition})
         ORDER BY u.seq"
    );

    // An exact narrowing has already filtered; otherwise the evaluator decides.
    let recheck = query.filter.as_ref().filter(|_| !narrowing.exact);
    let mut matched = Vec::new();
    let mut rows = tx.query_raw(&sql, params.refs())?;
    while let Some(row) = rows.next()? {
        let record = read(&row)?;
        if let Some(filter) = recheck
            && !matches(filter, &filterable::user(&record), schema)
        {
            continue;
        }
        let key = match (&column, sort) {
            (Some(column), _) => column.read(&row, 10)?,
            (None, Some(spec)) => order::body_key(&record.body, spec),
            (None, None) => SortKey::Null,
        };
        matched.push((record, row.try_get::<_, i64>(0)?, key));
    }

    let descending = sort.is_some_and(|s| s.descending);
    matched.sort_by(|a, b| order::compare_rows((&a.2, a.1), (&b.2, b.1), descending));
    let total = matched.len();
    let (start, count) = match &query.paging {
        Paging::Index(page) => (page.offset(), page.count),
        Paging::Cursor { after, count } => {
            let start = after.as_ref().map_or(0, |position| {
                // Without `sortBy`, SQLite resumes after `seq` alone, whatever the key says.
                let last = match (&column, sort) {
                    (Some(column), _) => column.cursor_key(&position.key),
                    (None, Some(_)) => SortKey::from_json(&position.key),
                    (None, None) => SortKey::Null,
                };
                matched
                    .iter()
                    .position(|(_, seq, key)| {
                        order::compare_rows((key, *seq), (&last, position.seq), descending)
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
                key: key.to_json(),
                seq: *seq,
            })
        }
        _ => None,
    };
    let items = matched
        .into_iter()
        .skip(start)
        .take(end.saturating_sub(start))
        .map(|(record, _, _)| record)
        .collect();
    Ok(ListPage { total, items, next })
}
