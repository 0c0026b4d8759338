//! The PostgreSQL backend, for many stateless rollcall nodes in front of one database.
//!
//! It keeps the same tables and values as the SQLite backend and answers every call the same
//! way; the store contract tests (`crates/store/tests/contract.rs`) hold the two together.
//!
//! How it runs:
//! - Connections come from an `r2d2` pool and are used on tokio's blocking threads, with the
//!   synchronous `postgres` client, so each module reads like its SQLite twin: plain functions
//!   over a [`postgres::Transaction`].
//! - Each connection keeps the statements it has prepared (see [`statements`]), so a statement
//!   costs one round trip after its first use on that connection, not two.
//! - Reads run in one `REPEATABLE READ, READ ONLY` transaction, so a list's count and its page
//!   come from the same snapshot.
//! - Every write that touches a workspace first takes that workspace's transaction-level
//!   advisory lock (see [`lock_workspace`]). Writes to one workspace therefore run one at a
//!   time across all nodes, as they do on SQLite's single writer; this makes the event feed's
//!   `seq` order equal commit order within a workspace, and keeps role recomputation and
//!   membership changes free of lost updates. Writes to different workspaces run in parallel.
//! - Nothing about tokens, workspaces or users is cached in a node: every request reads the
//!   database, so a change made through one node (a revoked token, say) holds on every node
//!   from the next request on.
//! - When the database is down or restarting, a call gives up after [`ACQUIRE_TIMEOUT`] (no
//!   connection) or [`STATEMENT_TIMEOUT`] (a statement that does not finish) with
//!   `StoreError::Unavailable`, which the server answers with 503 and `Retry-After`. Broken
//!   connections are found when they are checked out and replaced, so traffic recovers by
//!   itself when the database is back.

mod api_keys;
mod counts;
mod custom;
mod events;
mod groups;
mod migrations;
mod request_log;
mod roles;
mod setup_links;
mod statements;
mod tokens;
mod users;
mod webhooks;
mod workspaces;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
use rollcall_scim::schema::CustomAttribute;
use rollcall_scim::user::Role;

use crate::error::StoreError;
use crate::ids::{ResourceId, TokenId, WorkspaceId};
use crate::model::{
    ApiKeyRecord, DeliveryAttempt, Event, GroupQuery, GroupRecord, GroupRef, GroupUpdate,
    GroupWrite, ListPage, PoolStats, RequestLogEntry, RoleMapping, ScimSession, SetupLinkRecord,
    TokenRecord, UserQuery, UserRecord, UserWrite, WebhookRecord, Workspace,
};
use crate::store::{Store, WorkspaceChange};
use statements::Cached;

/// How long a call waits for a pooled connection before answering `Unavailable`.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long opening one connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest a statement, or a wait for a lock, may run on the server.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections per node unless the operator sets `ROLLCALL_DATABASE_POOL`.
pub const DEFAULT_POOL_SIZE: u32 = 10;

type Pool = r2d2::Pool<Manager>;

/// A pooled connection: the client and the statements it has prepared (see [`statements`]).
struct Connection {
    client: Client,
    statements: std::collections::HashMap<String, postgres::Statement>,
}

/// `r2d2_postgres`'s manager, with each connection's prepared statements kept beside it.
struct Manager(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: self.0.connect()?,
            statements: std::collections::HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Connection) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Connection) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}

/// A PostgreSQL database opened for rollcall.
pub struct PostgresStore {
    /// Always `Some` until the store is dropped (see its `Drop`).
    pool: Option<Pool>,
}

impl Drop for PostgresStore {
    /// Closing a synchronous client blocks on its own runtime, which panics on a thread that
    /// runs async tasks, and stores are often dropped on one: close the pool on a thread of
    /// its own.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let closing = std::thread::Builder::new()
                .name("postgres-close".to_owned())
                .spawn(move || drop(pool));
            if let Ok(handle) = closing {
                let _ = handle.join();
            }
        }
    }
}

impl PostgresStore {
    /// Connects to the database `url` names, with at most `pool_size` connections, and runs
    /// the migrations. Call it outside of an async context, or from a blocking thread.
    pub fn open(url: &str, pool_size: u32) -> Result<PostgresStore, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|err| StoreError::Unsupported(format!("invalid PostgreSQL URL: {err}")))?;
        let timeouts = format!(
            "-c statement_timeout={ms} -c lock_timeout={ms}",
            ms = STATEMENT_TIMEOUT.as_millis()
        );
        let options = match config.get_options() {
            Some(own) if !own.is_empty() => format!("{own} {timeouts}"),
            _ => timeouts,
        };
        config
            .options(&options)
            .connect_timeout(CONNECT_TIMEOUT)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .application_name("rollcall");
        let manager = Manager(PostgresConnectionManager::new(config, NoTls));
        let pool = r2d2::Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(ACQUIRE_TIMEOUT)
            .test_on_check_out(true)
            .error_handler(Box::new(LogErrors))
            .build_unchecked(manager);
        let mut conn = pool.get()?;
        migrations::run(&mut conn.client)?;
        drop(conn);
        Ok(PostgresStore { pool: Some(pool) })
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    async fn with_client<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self
            .pool
            .clone()
            .ok_or_else(|| StoreError::Internal("the pool is closed".to_owned()))?;
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            let conn = &mut *conn;
            statements::lend(&mut conn.statements);
            let result = work(&mut conn.client);
            conn.statements = statements::take_back();
            result
        })
        .await
        .map_err(|err| StoreError::Internal(format!("a database task failed: {err}")))?
    }

    /// Runs `work` in one read-only snapshot.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.with_client(move |client| {
            let mut tx = client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let value = work(&mut tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }

    /// Runs `work`, a read of one statement, outside an explicit transaction: the statement is
    /// its own snapshot, and the `BEGIN` and `COMMIT` round trips are saved.
    async fn read_one<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    {
        self.with_client(work).await
    }

    /// Runs `work` in one transaction and commits it. With a workspace, the transaction holds
    /// that workspace's write lock from its start to its commit.
    async fn write<T, F>(&self, workspace: Option<WorkspaceId>, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        self.with_client(move |client| {
            let mut tx = client.transaction()?;
            if let Some(workspace) = &workspace {
                lock_workspace(&mut tx, workspace)?;
            }
            let value = work(&mut tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }
}

/// Takes the workspace's write lock until the transaction ends.
///
/// The lock is a PostgreSQL advisory lock keyed by a 64-bit FNV-1a hash of the workspace id,
/// the same on every node. Two workspaces whose ids collide only share a lock (they wait for
/// each other), which costs time, never correctness.
fn lock_workspace(tx: &mut Transaction<'_>, workspace: &WorkspaceId) -> Result<(), StoreError> {
    tx.execute_c(
        "SELECT pg_advisory_xact_lock($1)",
        &[&workspace_lock_key(workspace)],
    )?;
    Ok(())
}

fn workspace_lock_key(workspace: &WorkspaceId) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in workspace.as_str().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Whether an error means "the database cannot serve now" rather than a bug: a closed or
/// failed connection, a server shutting down or starting, too many connections, a timeout, or
/// a lost serialization race.
pub(crate) fn is_unavailable(err: &postgres::Error) -> bool {
    if err.is_closed() {
        return true;
    }
    let Some(state) = err.code() else {
        // No SQLSTATE: trouble on the socket is an outage, anything else (a value that does
        // not convert, an unexpected message) is not.
        return std::error::Error::source(err).is_some_and(|source| source.is::<std::io::Error>());
    };
    let code = state.code();
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || [
            SqlState::T_R_SERIALIZATION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::LOCK_NOT_AVAILABLE,
            SqlState::QUERY_CANCELED,
            SqlState::READ_ONLY_SQL_TRANSACTION,
        ]
        .contains(state)
}

/// The name of the unique constraint (or index) a statement violated, if that is what failed.
pub(crate) fn unique_violation(err: &postgres::Error) -> Option<&str> {
    let db = err.as_db_error()?;
    (db.code() == &SqlState::UNIQUE_VIOLATION).then(|| db.constraint().unwrap_or(""))
}

/// Sends the pool's connection failures to the log instead of stderr.
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, error: postgres::Error) {
        tracing::warn!(error = %error, "cannot connect to PostgreSQL");
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn pool_stats(&self) -> Option<PoolStats> {
        let pool = self.pool.as_ref()?;
        let state = pool.state();
        Some(PoolStats {
            open: state.connections,
            idle: state.idle_connections,
            max: pool.max_size(),
        })
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.with_client(|client| {
            client.simple_query("SELECT 1")?;
            Ok(())
        })
        .await
    }

    async fn schema_version(&self) -> Result<i64, StoreError> {
        self.read(|tx| {
            Ok(tx
                .query_one("SELECT version FROM rollcall_schema", &[])?
                .try_get(0)?)
        })
        .await
    }

    async fn create_workspace(&self, workspace: Workspace) -> Result<(), StoreError> {
        self.write(None, move |tx| workspaces::insert(tx, &workspace))
            .await
    }

    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError> {
        let id = id.clone();
        self.read(move |tx| workspaces::get(tx, &id)).await
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
        self.write(Some(id.clone()), move |tx| {
            workspaces::update(tx, &id, change, at)
        })
        .await
    }

    async fn scim_session(
        &self,
        token: &TokenId,
        workspace: &WorkspaceId,
    ) -> Result<ScimSession, StoreError> {
        let (token, workspace) = (token.clone(), workspace.clone());
        self.read(move |tx| {
            Ok(ScimSession {
                token: tokens::get(tx, &token)?,
                workspace: workspaces::get(tx, &workspace)?,
                custom_attributes: custom::list(tx, &workspace)?,
            })
        })
        .await
    }

    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.write(None, move |tx| tokens::insert(tx, &token)).await
    }

    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError> {
        let id = id.clone();
        self.read(move |tx| tokens::get(tx, &id)).await
    }

    async fn list_tokens(&self, workspace: &WorkspaceId) -> Result<Vec<TokenRecord>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |tx| tokens::list(tx, &workspace)).await
    }

    async fn revoke_token(&self, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(None, move |tx| tokens::revoke(tx, &id, at))
            .await
    }

    async fn rotate_token(
        &self,
        old: &TokenId,
        new: TokenRecord,
        old_expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let old = old.clone();
        self.write(None, move |tx| {
            tokens::rotate(tx, &old, &new, old_expires_at)
        })
        .await
    }

    async fn touch_token(&self, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(None, move |tx| tokens::touch(tx, &id, at)).await
    }

    async fn create_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        user: UserWrite,
    ) -> Result<UserRecord, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(Some(workspace.clone()), move |tx| {
            users::insert(tx, &workspace, &id, &user)
        })
        .await
    }

    async fn get_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
    ) -> Result<Option<UserRecord>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read_one(move |client| users::get(client, &workspace, &id))
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
        self.write(Some(workspace.clone()), move |tx| {
            users::replace(tx, &workspace, &id, expected_version, &user)
        })
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
        self.write(Some(workspace.clone()), move |tx| {
            users::set_role(tx, &workspace, &id, role, at)
        })
        .await
    }

    async fn delete_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(Some(workspace.clone()), move |tx| {
            users::delete(tx, &workspace, &id, at)
        })
        .await
    }

    async fn user_workspace(&self, id: &ResourceId) -> Result<Option<WorkspaceId>, StoreError> {
        let id = id.clone();
        self.read(move |tx| users::workspace_of(tx, &id)).await
    }

    async fn list_users(
        &self,
        workspace: &WorkspaceId,
        query: &UserQuery,
    ) -> Result<ListPage<UserRecord>, StoreError> {
        let (workspace, query) = (workspace.clone(), query.clone());
        self.read(move |tx| users::list(tx, &workspace, &query))
            .await
    }

    async fn list_events(
        &self,
        workspace: &WorkspaceId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |tx| events::list(tx, &workspace, after, limit))
            .await
    }

    async fn add_custom_attribute(
        &self,
        workspace: &WorkspaceId,
        attribute: CustomAttribute,
    ) -> Result<(), StoreError> {
        let workspace = workspace.clone();
        self.write(Some(workspace.clone()), move |tx| {
            custom::add(tx, &workspace, &attribute)
        })
        .await
    }

    async fn list_custom_attributes(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<CustomAttribute>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |tx| custom::list(tx, &workspace)).await
    }

    async fn remove_custom_attribute(
        &self,
        workspace: &WorkspaceId,
        name: &str,
    ) -> Result<(), StoreError> {
        let (workspace, name) = (workspace.clone(), name.to_owned());
        self.write(Some(workspace.clone()), move |tx| {
            custom::remove(tx, &workspace, &name)
        })
        .await
    }

    async fn set_role_mapping(
        &self,
        workspace: &WorkspaceId,
        mapping: RoleMapping,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let workspace = workspace.clone();
        self.write(Some(workspace.clone()), move |tx| {
            roles::set_mapping(tx, &workspace, &mapping, at)
        })
        .await
    }

    async fn remove_role_mapping(
        &self,
        workspace: &WorkspaceId,
        group: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (workspace, group) = (workspace.clone(), group.to_owned());
        self.write(Some(workspace.clone()), move |tx| {
            roles::remove_mapping(tx, &workspace, &group, at)
        })
        .await
    }

    async fn list_role_mappings(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<RoleMapping>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |tx| roles::list_mappings(tx, &workspace))
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
        self.write(Some(workspace.clone()), move |tx| {
            groups::insert(tx, &workspace, &id, &group, &members, at)
        })
        .await
    }

    async fn get_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        with_members: bool,
    ) -> Result<Option<GroupRecord>, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.read(move |tx| groups::get(tx, &workspace, &id, with_members))
            .await
    }

    async fn update_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        update: GroupUpdate,
        with_members: bool,
    ) -> Result<GroupRecord, StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(Some(workspace.clone()), move |tx| {
            groups::update(tx, &workspace, &id, &update, with_members)
        })
        .await
    }

    async fn delete_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (workspace, id) = (workspace.clone(), id.clone());
        self.write(Some(workspace.clone()), move |tx| {
            groups::delete(tx, &workspace, &id, at)
        })
        .await
    }

    async fn list_groups(
        &self,
        workspace: &WorkspaceId,
        query: &GroupQuery,
    ) -> Result<ListPage<GroupRecord>, StoreError> {
        let (workspace, query) = (workspace.clone(), query.clone());
        self.read(move |tx| groups::list(tx, &workspace, &query))
            .await
    }

    async fn groups_of_users(
        &self,
        workspace: &WorkspaceId,
        users: &[ResourceId],
    ) -> Result<Vec<(ResourceId, GroupRef)>, StoreError> {
        let (workspace, users) = (workspace.clone(), users.to_vec());
        self.read_one(move |client| groups::groups_of_users(client, &workspace, &users))
            .await
    }

    async fn create_webhook(&self, webhook: WebhookRecord) -> Result<WebhookRecord, StoreError> {
        self.write(Some(webhook.workspace_id.clone()), move |tx| {
            webhooks::insert(tx, &webhook)
        })
        .await
    }

    async fn list_webhooks(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<WebhookRecord>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |tx| webhooks::list(tx, &workspace)).await
    }

    async fn remove_webhook(&self, workspace: &WorkspaceId, id: &str) -> Result<(), StoreError> {
        let (workspace, id) = (workspace.clone(), id.to_owned());
        self.write(None, move |tx| webhooks::remove(tx, &workspace, &id))
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
            .read(move |tx| webhooks::any_due(tx, &probe, now))
            .await?
        {
            return Ok(Vec::new());
        }
        self.write(None, move |tx| {
            webhooks::claim_due(tx, &owner, now, lease_until)
        })
        .await
    }

    async fn record_delivery(
        &self,
        attempt: DeliveryAttempt,
        retry_at: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write(None, move |tx| {
            webhooks::record(tx, &attempt, retry_at, lease_until)
        })
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
        self.read(move |tx| webhooks::deliveries(tx, &workspace, limit))
            .await
    }

    async fn append_request_log(&self, entries: Vec<RequestLogEntry>) -> Result<(), StoreError> {
        self.write(None, move |tx| request_log::append(tx, &entries))
            .await
    }

    async fn list_request_log(
        &self,
        workspace: &WorkspaceId,
        limit: usize,
        failed_only: bool,
    ) -> Result<Vec<RequestLogEntry>, StoreError> {
        let workspace = workspace.clone();
        self.read(move |tx| request_log::list(tx, &workspace, limit, failed_only))
            .await
    }

    async fn prune_request_log(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(None, move |tx| request_log::prune(tx, before))
            .await
    }

    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError> {
        self.write(None, move |tx| api_keys::insert(tx, &key)).await
    }

    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |tx| api_keys::get(tx, &id)).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.read(api_keys::list).await
    }

    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(None, move |tx| api_keys::revoke(tx, &id, at))
            .await
    }

    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write(None, move |tx| api_keys::touch(tx, &id, at))
            .await
    }

    async fn create_setup_link(&self, link: SetupLinkRecord) -> Result<(), StoreError> {
        self.write(None, move |tx| setup_links::insert(tx, &link))
            .await
    }

    async fn get_setup_link(&self, id: &str) -> Result<Option<SetupLinkRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |tx| setup_links::get(tx, &id)).await
    }

    async fn use_setup_link(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(None, move |tx| setup_links::use_link(tx, &id, at))
            .await
    }
}
