//! Each workspace's number of users and groups, as the trigger of schema version 6 keeps them
//! in `resource_counts` (see the SQLite twin).

use postgres::GenericClient;

use crate::error::StoreError;
use crate::ids::WorkspaceId;
use crate::postgres::statements::Cached;

/// What is counted.
#[derive(Debug, Clone, Copy)]
pub enum Counted {
    Users,
    Groups,
}

/// A list's total: the stored count when the list is `unfiltered` (and the workspace has its
/// row), else what `count` counts.
pub fn total<C: GenericClient>(
    client: &mut C,
    workspace: &WorkspaceId,
    counted: Counted,
    unfiltered: bool,
    count: impl FnOnce(&mut C) -> Result<i64, StoreError>,
) -> Result<i64, StoreError> {
    let stored = if unfiltered {
        stored(client, workspace, counted)?
    } else {
        None
    };
    match stored {
        Some(total) => Ok(total),
        None => count(client),
    }
}

/// The workspace's stored count, or `None` when it has no row (then count the rows instead).
fn stored(
    client: &mut impl GenericClient,
    workspace: &WorkspaceId,
    counted: Counted,
) -> Result<Option<i64>, StoreError> {
    let sql = match counted {
        Counted::Users => "SELECT users FROM resource_counts WHERE workspace_id = $1",
        Counted::Groups => "SELECT groups FROM resource_counts WHERE workspace_id = $1",
    };
    Ok(match client.query_opt_c(sql, &[&workspace.as_str()])? {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}
