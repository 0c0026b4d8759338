//! The embedded SQLite backend, rollcall's default.
//!
//! Durability first: the database runs in WAL mode with `synchronous=FULL`, so a commit is on
//! disk before the caller hears `Ok`. All writes go through one writer thread that owns the only
//! writing connection and opens every transaction with `BEGIN IMMEDIATE`, so writers never race
//! for the lock inside this process; other processes (the CLI while a server runs) wait on
//! `busy_timeout`. Reads run on a small pool of connections on the blocking thread pool, and in
//! WAL mode they never wait for the writer.

mod api_keys;
mod counts;
mod custom;
mod events;
mod filter_sql;
mod functions;
mod groups;
mod migrations;
mod request_log;
mod roles;
mod setup_links;
mod sort;
mod tokens;
mod users;
mod webhooks;
mod workspaces;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rollcall_scim::schema::CustomAttribute;
use rollcall_scim::user::Role;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use tokio::sync::{Semaphore, oneshot};

use crate::columns::{from_millis, from_millis_opt, parse_column, to_millis};
use crate::error::StoreError;
use crate::ids::{ResourceId, TokenId, WorkspaceId};
use crate::model::{
    ApiKeyRecord, DeliveryAttempt, Event, GroupQuery, GroupRecord, GroupRef, GroupUpdate,
    GroupWrite, ListPage, PoolStats, RequestLogEntry, RoleMapping, ScimSession, SetupLinkRecord,
    TokenRecord, UserQuery, UserRecord, UserWrite, WebhookRecord, Workspace,
};
use crate::store::{Store, WorkspaceChange};

/// How long a connection waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How many read connections the pool keeps.
const READERS: usize = 4;

/// Prepared statements each connection keeps compiled.
const STATEMENT_CACHE: usize = 128;

/// The most writes committed together in one transaction.
const MAX_BATCH: usize = 256;

/// One write, run by the writer thread inside a batch's transaction (or told why there is
/// none). It answers whether its work succeeded, and how to reply once the batch's commit is
/// known.
type WriteJob = Box<dyn FnOnce(Result<&rusqlite::Transaction<'_>, &StoreError>) -> Done + Send>;

/// A write's outcome within its batch, and its reply, called with the batch's commit result.
type Done = (bool, Box<dyn FnOnce(Result<(), StoreError>) + Send>);

/// A SQLite database file opened for rollcall.
pub struct SqliteStore {
    path: PathBuf,
    writer: mpsc::Sender<WriteJob>,
    readers: Arc<ReaderPool>,
}

struct ReaderPool {
    idle: Mutex<Vec<Connection>>,
    /// One permit per idle connection. A read holds its permit for as long as it holds the
    /// connection, on the thread that uses it: a request that is dropped while its read runs
    /// on the blocking pool (its client went away, a deadline passed) must not free a permit
    /// whose connection is still in use.
    permits: Arc<Semaphore>,
}

impl ReaderPool {
    /// Runs `work` on an idle connection and puts the connection back. The caller holds one of
    /// `permits` until this returns, so an idle connection is there.
    fn run<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self
            .idle
            .lock()
            .map_err(|_| StoreError::Internal("the reader pool is poisoned".to_owned()))?
            .pop()
            .ok_or_else(|| StoreError::Internal("no idle reader".to_owned()))?;
        let result = work(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        result
    }
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path` and runs the migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with_batch(path, MAX_BATCH)
    }

    /// [`SqliteStore::open`] with at most `max_batch` writes per commit; 1 commits each write
    /// on its own (for measuring what group commit gains).
    pub fn open_with_batch(
        path: impl AsRef<Path>,
        max_batch: usize,
    ) -> Result<SqliteStore, StoreError> {
        let max_batch = max_batch.max(1);
        let path = path.as_ref().to_path_buf();
        // Processes that open a new file together (a server and a CLI, or `migrate` run by
        // several nodes) can find it locked in ways SQLite does not wait out by itself (the
        // switch to WAL, WAL recovery): start over until the deadline.
        let deadline = std::time::Instant::now() + 2 * BUSY_TIMEOUT;
        let mut writer = loop {
            let opened = open_connection(&path, false).and_then(|mut writer| {
                enable_wal(&writer)?;
                migrations::run(&mut writer)?;
                Ok(writer)
            });
            match opened {
                Err(StoreError::Unavailable(_)) if std::time::Instant::now() < deadline => {
                    thread::sleep(Duration::from_millis(20));
                }
                other => break other?,
            }
        };

        let mut idle = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            idle.push(open_connection(&path, true)?);
        }
        let readers = Arc::new(ReaderPool {
            idle: Mutex::new(idle),
            permits: Arc::new(Semaphore::new(READERS)),
        });

        let (sender, receiver) = mpsc::channel::<WriteJob>();
        thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || {
                // The thread ends when the store is dropped.
                while let Ok(first) = receiver.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < max_batch {
                        match receiver.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    run_batch(&mut writer, jobs);
                }
            })
            .map_err(|err| StoreError::Internal(format!("cannot start the writer: {err}")))?;
        Ok(SqliteStore {
            path,
            writer: sender,
            readers,
        })
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` on the writer thread, all or nothing, and answers once it is committed.
    ///
    /// Writes that queue up while the writer is busy are committed together (group commit):
    /// one `BEGIN IMMEDIATE` transaction, one savepoint per write so that a write that fails
    /// undoes only its own changes, and one commit, whose fsync makes all of them durable
    /// before any of them is answered. Each write sees the writes before it in the batch, as it
    /// would if they had committed one by one.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: WriteJob = Box::new(move |tx| match tx {
            Ok(tx) => {
                let result = work(tx);
                let ok = result.is_ok();
                let finish = move |commit: Result<(), StoreError>| {
                    let _ = reply.send(commit.and(result));
                };
                (ok, Box::new(finish))
            }
            Err(err) => {
                let _ = reply.send(Err(copy_error(err)));
                (false, Box::new(|_| {}))
            }
        });
        self.writer
            .send(job)
            .map_err(|_| StoreError::Internal("the writer thread has stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| StoreError::Internal("the writer dropped a job".to_owned()))?
    }

    /// Runs a read whose cost is bounded (a lookup by key or through a unique index) at once,
    /// on the calling thread, when a read connection is free; otherwise as [`SqliteStore::read`].
    ///
    /// Handing a read of a few microseconds to the blocking pool costs more than the read: two
    /// thread wake-ups and a context switch each way. A read that may scan (a list, a filter,
    /// a sort, a large group's members) must use [`SqliteStore::read`], so that it never holds
    /// up the async worker threads.
    async fn read_point<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let Ok(_permit) = self.readers.permits.try_acquire() else {
            return self.read(work).await;
        };
        self.readers.run(work)
    }

    /// Runs `work` on a pooled read connection on the blocking thread pool.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let permit = Arc::clone(&self.readers.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Internal("the reader pool is closed".to_owned()))?;
        let readers = Arc::clone(&self.readers);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            readers.run(work)
        })
        .await
        .map_err(|err| StoreError::Internal(format!("a read task failed: {err}")))?
    }
}

/// `execute` through the connection's statement cache: the SQL is compiled once per connection
/// instead of on every call.
pub(crate) trait ExecuteCached {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl ExecuteCached for Connection {
    fn execute_cached<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

/// Whether a user query is `userName eq "..."` or `id eq "..."` with no sort: answered from a
/// unique index, at most one row (the lookups IdPs make before each create).
fn finds_at_most_one(query: &UserQuery) -> bool {
    use rollcall_scim::filter::{CompValue, CompareOp, Filter};
    let Some(Filter::Compare { path, op, value }) = &query.filter else {
        return false;
    };
    query.sort.is_none()
        && *op == CompareOp::Eq
        && matches!(value, CompValue::String(_))
        && path.sub_attr.is_none()
        && path
            .uri
            .as_deref()
            .is_none_or(|uri| uri == rollcall_scim::schema::USER_SCHEMA)
        && (path.name.eq_ignore_ascii_case("userName") || path.name.eq_ignore_ascii_case("id"))
}

/// Runs one batch of writes in one transaction and answers each after the commit.
fn run_batch(conn: &mut Connection, jobs: Vec<WriteJob>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(err) => {
            let err = StoreError::from(err);
            for job in jobs {
                let _ = job(Err(&err));
            }
            return;
        }
    };
    let mut replies = Vec::with_capacity(jobs.len());
    let mut broken: Option<StoreError> = None;
    for job in jobs {
        if let Some(err) = &broken {
            let _ = job(Err(err));
            continue;
        }
        if let Err(err) = tx.execute_batch("SAVEPOINT write") {
            let err = StoreError::from(err);
            let _ = job(Err(&err));
            broken = Some(err);
            continue;
        }
        let (ok, reply) = job(Ok(&tx));
        let end = if ok {
            "RELEASE write"
        } else {
            "ROLLBACK TO write; RELEASE write"
        };
        if let Err(err) = tx.execute_batch(end) {
            broken = Some(StoreError::from(err));
        }
        replies.push(reply);
    }
    let committed = match broken {
        // A savepoint that could not be closed leaves the batch in doubt: none of it commits.
        Some(err) => {
            drop(tx);
            Err(err)
        }
        None => tx.commit().map_err(StoreError::from),
    };
    for reply in replies {
        reply(committed.as_ref().map(|_| ()).map_err(copy_error));
    }
}

/// The same failure again, for each write of a batch that failed as a whole.
fn copy_error(err: &StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        other => StoreError::Internal(other.to_string()),
    }
}

/// Switches the file to WAL mode. Changing the journal mode does not wait for other processes
/// (SQLite answers "locked" at once instead of calling the busy handler), and several
/// processes opening a new file together all try it: retry for up to [`BUSY_TIMEOUT`].
fn enable_wal(conn: &Connection) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        let mode = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0));
        match mode {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(StoreError::Internal(format!(
                    "the database cannot use WAL mode (it is in {mode} mode)"
                )));
            }
            Err(err)
                if matches!(
                    err.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) && std::time::Instant::now() < deadline =>
            {
                thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    if read_only {
        // Read connections stay read-write at the file level (WAL readers need the shared
        // memory file) but refuse writes, so a bug cannot bypass the writer thread.
        conn.pragma_update(None, "query_only", true)?;
    }
    // FULL makes every commit durable in WAL mode; NORMAL would lose the last commits on a
    // power failure.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // One plan per statement, whatever values are bound. Without it SQLite marks some cached
    // statements (an ORDER BY on a filtered table, a join) to be compiled again each time a
    // parameter is bound anew, which made parsing SQL a fifth of a GET's CPU time.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // Room for every fixed statement a connection runs, and the commonest filter shapes.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Translated filters call these; every connection reads users, so every one has them.
    functions::register(&conn)?;
    Ok(conn)
}

#[async_trait]
impl Store for SqliteStore {
    fn pool_stats(&self) -> Option<PoolStats> {
        let idle = self.readers.idle.lock().ok()?.len();
        let readers = u32::try_from(READERS).unwrap_or(u32::MAX);
        // The writer connection is always open and counted as busy.
        Some(PoolStats {
            open: readers + 1,
            idle: u32::try_from(idle).unwrap_or(0),
            max: readers + 1,
        })
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|conn| Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?))
            .await
    }

    async fn create_workspace(&self, workspace: Workspace) -> Result<(), StoreError> {
        self.write(move |tx| workspaces::insert(tx, &workspace))
            .await
    }

    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
        let id = id.clone();
        self.read_point(move |conn| workspaces::get(conn, &id))
            .await
    }

    async fn list_workspaces(&self) -> Result<Vec<Workspace>, StoreError> {
        self.read(workspaces::list).await
    }

    async fn update_workspace(
        &self,
        id: &WorkspaceId,
        change: WorkspaceChange,
        at: DateTime<Utc>,
    ) -> Result<Workspace, StoreError> {
        let id = id.clone();
        self.write(move |tx| workspaces::update(tx, &id, change, at))
            .await
    }

    async fn scim_session(
        &self,
        token: &TokenId,
        workspace: &WorkspaceId,
    ) -> Result<ScimSession, StoreError> {
        let (token, workspace) = (token.clone(), workspace.clone());
        self.read_point(move |conn| {
            Ok(ScimSession {
                token: tokens::get(conn, &token)?,
                workspace: workspaces::get(conn, &workspace)?,
                custom_attributes: custom::list(conn, &workspace)?,
            })
        })
        .await
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.write(move |tx| tokens::insert(tx, &token)).await
    }

    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        let id = id.clone();
        self.read_point(move |conn| tokens::get(conn, &id)).await
    }

    async fn list_tokens(&self, workspace: &WorkspaceId) -> Result<Vec<TokenRecord>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |conn| tokens::list(conn, &workspace)).await
    }

    async fn revoke_token(&self, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |tx| tokens::revoke(tx, &id, at)).await
    }

    async fn rotate_token(
        &self,
        old: &TokenId,
        new: TokenRecord,
        old_expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let old = old.clone();
        self.write(move |tx| tokens::rotate(tx, &old, &new, old_expires_at))
            .await
    }

    async fn touch_token(&self, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |tx| tokens::touch(tx, &id, at)).await
    }

    async fn create_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        user: UserWrite,
    ) -> Result<UserRecord, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| users::insert(tx, &workspace, &id, &user))
            .await
    }

    async fn get_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
    ) -> Result<Option<UserRecord>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read_point(move |conn| users::get(conn, &workspace, &id))
            .await
    }

    async fn replace_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        expected_version: i64,
        user: UserWrite,
    ) -> Result<UserRecord, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| users::replace(tx, &workspace, &id, expected_version, &user))
            .await
    }

    async fn set_user_role(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<UserRecord, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| users::set_role(tx, &workspace, &id, role, at))
            .await
    }

    async fn delete_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| users::delete(tx, &workspace, &id, at))
            .await
    }

    async fn user_workspace(&self, id: &ResourceId) -> Result<Option<WorkspaceId>, StoreError> {
        let id = id.clone();
        self.read_point(move |conn| users::workspace_of(conn, &id))
            .await
    }

    async fn list_users(
        &self,
        workspace: &WorkspaceId,
        query: &UserQuery,
    ) -> Result<ListPage<UserRecord>, StoreError> {
        let (workspace, query) = (workspace.clone(), query.clone());
        let unique = finds_at_most_one(&query);
        let work = move |conn: &Connection| users::list(conn, &workspace, &query);
        if unique {
            self.read_point(work).await
        } else {
            self.read(work).await
        }
    }

    async fn list_events(
        &self,
        workspace: &WorkspaceId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |conn| events::list(conn, &workspace, after, limit))
            .await
    }

    async fn add_custom_attribute(
        &self,
        workspace: &WorkspaceId,
        attribute: CustomAttribute,
    ) -> Result<(), StoreError> {
        let workspace = workspace.clone();
        self.write(move |tx| custom::add(tx, &workspace, &attribute))
            .await
    }

    async fn list_custom_attributes(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<CustomAttribute>, StoreError> {
        let workspace = workspace.clone();
        self.read_point(move |conn| custom::list(conn, &workspace))
            .await
    }

    async fn remove_custom_attribute(
        &self,
        workspace: &WorkspaceId,
        name: &str,
    ) -> Result<(), StoreError> {
        let (workspace, name) = (workspace.clone(), name.to_owned());
        self.write(move |tx| custom::remove(tx, &workspace, &name))
            .await
    }

    async fn set_role_mapping(
        &self,
        workspace: &WorkspaceId,
        mapping: RoleMapping,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let workspace = workspace.clone();
        self.write(move |tx| roles::set_mapping(tx, &workspace, &mapping, at))
            .await
    }

    async fn remove_role_mapping(
        &self,
        workspace: &WorkspaceId,
        group: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (workspace, group) = (workspace.clone(), group.to_owned());
        self.write(move |tx| roles::remove_mapping(tx, &workspace, &group, at))
            .await
    }

    async fn list_role_mappings(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<RoleMapping>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |conn| roles::list_mappings(conn, &workspace))
            .await
    }

    async fn create_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        group: GroupWrite,
        members: Vec<String>,
        at: DateTime<Utc>,
    ) -> Result<GroupRecord, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| groups::insert(tx, &workspace, &id, &group, &members, at))
            .await
    }

    async fn get_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        with_members: bool,
    ) -> Result<Option<GroupRecord>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        let work = move |conn: &Connection| groups::get(conn, &workspace, &id, with_members);
        if with_members {
            // A group's members can be many: that read goes to the blocking pool.
            self.read(work).await
        } else {
            self.read_point(work).await
        }
    }

    async fn update_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        update: GroupUpdate,
        with_members: bool,
    ) -> Result<GroupRecord, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| groups::update(tx, &workspace, &id, &update, with_members))
            .await
    }

    async fn delete_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(move |tx| groups::delete(tx, &workspace, &id, at))
            .await
    }

    async fn list_groups(
        &self,
        workspace: &WorkspaceId,
        query: &GroupQuery,
    ) -> Result<ListPage<GroupRecord>, StoreError> {
        let (workspace, query) = (workspace.clone(), query.clone());
        self.read(move |conn| groups::list(conn, &workspace, &query))
            .await
    }

    async fn groups_of_users(
        &self,
        workspace: &WorkspaceId,
        users: &[ResourceId],
    ) -> Result<Vec<(ResourceId, GroupRef)>, StoreError> {
        let (workspace, users) = (workspace.clone(), users.to_vec());
        let one = users.len() <= 1;
        let work = move |conn: &Connection| groups::groups_of_users(conn, &workspace, &users);
        if one {
            // One user's groups (a GET, a write's answer): an indexed lookup.
            self.read_point(work).await
        } else {
            self.read(work).await
        }
    }

    async fn create_webhook(&self, webhook: WebhookRecord) -> Result<WebhookRecord, StoreError> {
        self.write(move |tx| webhooks::insert(tx, &webhook)).await
    }

    async fn list_webhooks(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<WebhookRecord>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |conn| webhooks::list(conn, &workspace))
            .await
    }

    async fn remove_webhook(&self, workspace: &WorkspaceId, id: &str) -> Result<(), StoreError> {
        let (workspace, id) = (workspace.clone(), id.to_owned());
        self.write(move |tx| webhooks::remove(tx, &workspace, &id))
            .await
    }

    async fn claim_due_webhooks(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<WebhookRecord>, StoreError> {
        let owner = owner.to_owned();
        // Most polls find nothing due: find that out with a read, and write only to claim.
        let probe = owner.clone();
        if !self
            .read(move |conn| webhooks::any_due(conn, &probe, now))
            .await?
        {
            return Ok(Vec::new());
        }
        self.write(move |tx| webhooks::claim_due(tx, &owner, now, lease_until))
            .await
    }

    async fn record_delivery(
        &self,
        attempt: DeliveryAttempt,
        retry_at: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(move |tx| webhooks::record(tx, &attempt, retry_at, lease_until))
            .await
    }

    async fn webhooks_pending(&self) -> Result<(u64, u64), StoreError> {
        self.read(webhooks::pending).await
    }

    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |conn| webhooks::deliveries(conn, &workspace, limit))
            .await
    }

    async fn append_request_log(&self, entries: Vec<RequestLogEntry>) -> Result<(), StoreError> {
        self.write(move |tx| request_log::append(tx, &entries))
            .await
    }

    async fn list_request_log(
        &self,
        workspace: &WorkspaceId,
        limit: usize,
        failed_only: bool,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |conn| request_log::list(conn, &workspace, limit, failed_only))
            .await
    }

    async fn prune_request_log(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(move |tx| request_log::prune(tx, before)).await
    }

    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError> {
        self.write(move |tx| api_keys::insert(tx, &key)).await
    }

    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let id = id.to_owned();
        self.read_point(move |conn| api_keys::get(conn, &id)).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.read(api_keys::list).await
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |tx| api_keys::revoke(tx, &id, at)).await
    }

    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(move |tx| api_keys::touch(tx, &id, at)).await
    }

    async fn create_setup_link(&self, link: SetupLinkRecord) -> Result<(), StoreError> {
        self.write(move |tx| setup_links::insert(tx, &link)).await
    }

    async fn get_setup_link(&self, id: &str) -> Result<Option<SetupLinkRecord>, StoreError> {
        let id = id.to_owned();
        self.read_point(move |conn| setup_links::get(conn, &id))
            .await
    }

    async fn use_setup_link(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |tx| setup_links::use_link(tx, &id, at))
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod group_commit_tests {
    use super::*;

    /// Writes sent at once are committed in batches; one that fails leaves no trace, and the
    /// others are not disturbed by it.
    #[test]
    fn a_failing_write_in_a_batch_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("batch.db")).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let results: Vec<Result<usize, StoreError>> = runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..400usize {
                let store = store.clone();
                tasks.spawn(async move {
                    store
                        .write(move |tx| {
                            tx.execute(
                                "INSERT INTO workspaces (id, name, plan, invitation_only,
                                     scim_enabled, username_format, default_role, created_at)
                                 VALUES (?1, 'w', 'free', 0, 0, 'email', 'Member', 0)",
                                [format!("ws-{i}")],
                            )?;
                            if i.is_multiple_of(3) {
                                return Err(StoreError::Refused(format!("write {i} refused")));
                            }
                            Ok(i)
                        })
                        .await
                });
            }
            let mut results = Vec::new();
            while let Some(done) = tasks.join_next().await {
                results.push(done.unwrap());
            }
            results
        });
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Refused(_))))
            .count();
        assert_eq!(refused, 134);
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 266);

        let stored: Vec<String> = runtime
            .block_on(store.list_workspaces())
            .unwrap()
            .into_iter()
            .map(|w| w.id.to_string())
            .collect();
        assert_eq!(stored.len(), 266);
        assert!(stored.iter().all(|id| {
            let i: usize = id.trim_start_matches("ws-").parse().unwrap();
            !i.is_multiple_of(3)
        }));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod reader_tests {
    use super::*;

    /// A read whose request is dropped while it runs (the client went away) keeps its
    /// connection counted as busy until it really ends: reads that follow wait for a free
    /// connection instead of failing to find one.
    #[test]
    fn an_abandoned_read_keeps_its_connection_until_it_ends() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("readers.db")).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let results: Vec<Result<i64, StoreError>> = runtime.block_on(async {
            let slow = store.read(|_conn| {
                thread::sleep(Duration::from_millis(300));
                Ok(())
            });
            let abandoned = tokio::time::timeout(Duration::from_millis(20), slow).await;
            assert!(abandoned.is_err(), "the slow read should still be running");

            let mut reads = tokio::task::JoinSet::new();
            for _ in 0..READERS {
                let store = store.clone();
                reads.spawn(async move {
                    store
                        .read(|conn| {
                            thread::sleep(Duration::from_millis(50));
                            Ok(conn.query_row("SELECT 1", [], |row| row.get(0))?)
                        })
                        .await
                });
            }
            let point = store
                .read_point(|conn| Ok(conn.query_row("SELECT 2", [], |row| row.get(0))?))
                .await;
            let mut results = vec![point];
            while let Some(done) = reads.join_next().await {
                results.push(done.unwrap());
            }
            results
        });
        assert_eq!(results.len(), READERS + 1);
        for result in results {
            assert!(matches!(result, Ok(1 | 2)), "{result:?}");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod statement_tests {
    use super::*;

    /// A cached statement run again with new values is not compiled again. (Without the query
    /// planner stability guarantee SQLite did so for these shapes, on every request.)
    #[test]
    fn cached_statements_are_not_compiled_again_when_values_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plans.db");
        let mut writer = open_connection(&path, false).unwrap();
        enable_wal(&writer).unwrap();
        migrations::run(&mut writer).unwrap();
        let reader = open_connection(&path, true).unwrap();
        let shapes = [
            // A workspace's custom attributes, in order.
            "SELECT name FROM custom_attributes WHERE workspace_id = ?1 ORDER BY seq",
            // A user's groups.
            "SELECT g.id FROM users u JOIN group_members m ON m.user_seq = u.seq
             JOIN groups g ON g.seq = m.group_seq WHERE u.workspace_id = ?1 AND u.id = ?2
             ORDER BY g.seq",
        ];
        for sql in shapes {
            for round in 0..3 {
                let mut statement = reader.prepare_cached(sql).unwrap();
                let values: Vec<String> = (0..statement.parameter_count())
                    .map(|i| format!("value-{round}-{i}"))
                    .collect();
                let mut rows = statement
                    .query(rusqlite::params_from_iter(values.iter()))
                    .unwrap();
                assert!(rows.next().unwrap().is_none());
                drop(rows);
                assert_eq!(
                    statement.get_status(rusqlite::StatementStatus::RePrepare),
                    0,
                    "compiled again in round {round}: {sql}"
                );
            }
        }
    }
}
