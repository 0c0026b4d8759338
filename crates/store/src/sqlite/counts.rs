//! Each workspace's number of users and groups, as the triggers of schema version 6 keep them
//! in `resource_counts`: an unfiltered list's total without counting the directory.

use rusqlite::{Connection, OptionalExtension};

use crate::error::StoreError;
use crate::ids::WorkspaceId;

/// What is counted.
#[derive(Debug, Clone, Copy)]
pub enum Counted {
    Users,
    Groups,
}

/// A list's total: the stored count when the list is `unfiltered` (and the workspace has its
/// row), else what `count` counts.
pub fn total(
    conn: &Connection,
    workspace: &WorkspaceId,
    counted: Counted,
    unfiltered: bool,
    count: impl FnOnce() -> Result<i64, StoreError>,
) -> Result<i64, StoreError> {
    let stored = if unfiltered {
        stored(conn, workspace, counted)?
    } else {
        None
    };
    stored.map_or_else(count, Ok)
}

/// The workspace's stored count, or `None` when it has no row (then count the rows instead).
fn stored(
    conn: &Connection,
    workspace: &WorkspaceId,
    counted: Counted,
) -> Result<Option<i64>, StoreError> {
    let sql = match counted {
        Counted::Users => "SELECT users FROM resource_counts WHERE workspace_id = ?1",
        Counted::Groups => "SELECT groups FROM resource_counts WHERE workspace_id = ?1",
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([workspace.as_str()], |row| row.get(0))
        .optional()?)
}
