//! The [`Store`] trait: everything rollcall keeps, behind one interface per backend.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rollcall_scim::schema::CustomAttribute;
use rollcall_scim::user::Role;

use crate::error::StoreError;
use crate::ids::{ResourceId, TokenId, WorkspaceId};
use crate::model::{
    ApiKeyRecord, DeliveryAttempt, Event, GroupQuery, GroupRecord, GroupRef, GroupUpdate,
    GroupWrite, ListPage, PoolStats, RequestLogEntry, RoleMapping, ScimSession, SetupLinkRecord,
    TokenRecord, UserQuery, UserRecord, UserWrite, WebhookRecord, Workspace,
};

/// A change to a workspace, run inside the store's write transaction so that the rule it checks
/// and the change it makes see the same state. Returning `Err(reason)` refuses the change.
pub type WorkspaceChange = Box<dyn FnOnce(&mut Workspace) -> Result<(), String> + Send>;

/// What every backend provides. Every write is durable when its future resolves to `Ok`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers `Ok` when the database can serve requests (for `/readyz`).
    async fn check(&self) -> Result<(), StoreError>;

    /// The backend's connections now, for metrics; `None` when it has no pool to report.
    fn pool_stats(&self) -> Option<PoolStats> {
        None
    }

    /// The version of the schema the database is at (migrations ran when the store opened).
    async fn schema_version(&self) -> Result<i64, StoreError>;

    // Workspaces.
    async fn create_workspace(&self, workspace: Workspace) -> Result<(), StoreError>;
    async fn get_workspace(&self, id: &WorkspaceId) -> Result<Option<Workspace>, StoreError>;
    async fn list_workspaces(&self) -> Result<Vec<Workspace>, StoreError>;
    /// Reads the workspace, applies `change`, and writes it back, in one transaction. A new
    /// default role is applied to the users whose role comes from it.
    async fn update_workspace(
        &self,
        id: &WorkspaceId,
        change: WorkspaceChange,
        at: DateTime<Utc>,
    ) -> Result<Workspace, StoreError>;

    /// Reads the token, the workspace and its custom attributes in one go, for the
    /// authentication of a SCIM request.
    async fn scim_session(
        &self,
        token: &TokenId,
        workspace: &WorkspaceId,
    ) -> Result<ScimSession, StoreError>;

    // SCIM tokens.
    async fn create_token(&self, token: TokenRecord) -> Result<(), StoreError>;
    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>, StoreError>;
    async fn list_tokens(&self, workspace: &WorkspaceId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Marks the token revoked at `at`; `NotFound` when there is no such token.
    async fn revoke_token(&self, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn touch_token(&self, id: &TokenId, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// In one transaction: stores `new`, and makes the token `old` expire at `old_expires_at`
    /// (or its own earlier expiry). `NotFound` when `old` does not exist or is revoked.
    async fn rotate_token(
        &self,
        old: &TokenId,
        new: TokenRecord,
        old_expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    // Users.
    /// Inserts a user; `Uniqueness` when its userName is taken in the workspace.
    async fn create_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        user: UserWrite,
    ) -> Result<UserRecord, StoreError>;
    async fn get_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
    ) -> Result<Option<UserRecord>, StoreError>;
    /// Replaces a user if it is still at `expected_version`; `VersionConflict` otherwise.
    async fn replace_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        expected_version: i64,
        user: UserWrite,
    ) -> Result<UserRecord, StoreError>;
    /// Sets a user's role (the operator's command), in the body and the indexed column.
    async fn set_user_role(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        role: Role,
        at: DateTime<Utc>,
    ) -> Result<UserRecord, StoreError>;
    /// Deletes a user; `NotFound` when it does not exist in the workspace.
    async fn delete_user(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The workspace a user id belongs to, whichever it is. Used only to refuse references to
    /// another workspace's users; never to read them.
    async fn user_workspace(&self, id: &ResourceId) -> Result<Option<WorkspaceId>, StoreError>;
    /// Lists users in a stable order (creation order), filtered and paged.
    async fn list_users(
        &self,
        workspace: &WorkspaceId,
        query: &UserQuery,
    ) -> Result<ListPage<UserRecord>, StoreError>;

    // The group-to-role map. Every change recomputes the affected users' roles.
    async fn set_role_mapping(
        &self,
        workspace: &WorkspaceId,
        mapping: RoleMapping,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// `NotFound` when the group has no mapping.
    async fn remove_role_mapping(
        &self,
        workspace: &WorkspaceId,
        group: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn list_role_mappings(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<RoleMapping>, StoreError>;

    // Groups. Members are rows: changing one member never rewrites the others.
    /// Inserts a group with its members; `Uniqueness` when its displayName is taken,
    /// `UnknownMember` when a member is not a user of the workspace (nothing is written).
    async fn create_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        group: GroupWrite,
        members: Vec<String>,
        at: DateTime<Utc>,
    ) -> Result<GroupRecord, StoreError>;
    async fn get_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        with_members: bool,
    ) -> Result<Option<GroupRecord>, StoreError>;
    /// Applies a document change and membership changes in one transaction. A change that
    /// changes nothing keeps the version.
    async fn update_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        update: GroupUpdate,
        with_members: bool,
    ) -> Result<GroupRecord, StoreError>;
    /// Deletes a group; its users stay (and lose the role it mapped to).
    async fn delete_group(
        &self,
        workspace: &WorkspaceId,
        id: &ResourceId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn list_groups(
        &self,
        workspace: &WorkspaceId,
        query: &GroupQuery,
    ) -> Result<ListPage<GroupRecord>, StoreError>;
    /// The groups of each of `users`, for their `groups` attribute.
    async fn groups_of_users(
        &self,
        workspace: &WorkspaceId,
        users: &[ResourceId],
    ) -> Result<Vec<(ResourceId, GroupRef)>, StoreError>;

    // A workspace's own User extension.
    /// Adds an attribute; `Uniqueness` when the name is taken (case-insensitively).
    async fn add_custom_attribute(
        &self,
        workspace: &WorkspaceId,
        attribute: CustomAttribute,
    ) -> Result<(), StoreError>;
    async fn list_custom_attributes(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<CustomAttribute>, StoreError>;
    /// Removes an attribute from the schema; values users hold stay stored but are no longer
    /// shown. `NotFound` when there is none of that name.
    async fn remove_custom_attribute(
        &self,
        workspace: &WorkspaceId,
        name: &str,
    ) -> Result<(), StoreError>;

    // The event feed.
    /// Events after `after` (0 for the start), oldest first, at most `limit`.
    async fn list_events(
        &self,
        workspace: &WorkspaceId,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;

    // Webhooks.
    /// Adds a webhook; its `delivered_through` is set to the end of the workspace's feed.
    async fn create_webhook(&self, webhook: WebhookRecord) -> Result<WebhookRecord, StoreError>;
    async fn list_webhooks(
        &self,
        workspace: &WorkspaceId,
    ) -> Result<Vec<WebhookRecord>, StoreError>;
    /// Removes a webhook and its delivery log; `NotFound` when the workspace has no such one.
    async fn remove_webhook(&self, workspace: &WorkspaceId, id: &str) -> Result<(), StoreError>;
    /// Leases to `owner` until `lease_until` the webhooks that are due at `now` (events after
    /// their cursor, backoff over) and not leased to another owner, and returns them. A lease
    /// keeps two nodes from delivering to one webhook at once; it ends by itself when its
    /// holder dies.
    async fn claim_due_webhooks(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<WebhookRecord>, StoreError>;
    /// Logs one attempt and moves the webhook on: past the event when it was delivered, else
    /// one failure further with no attempt before `retry_at`. The lease is renewed until
    /// `lease_until`.
    async fn record_delivery(
        &self,
        attempt: DeliveryAttempt,
        retry_at: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The delivery backlog of all workspaces: how many webhooks have events not yet delivered,
    /// and how many deliveries that is in all (each pending event counts once per webhook).
    async fn webhooks_pending(&self) -> Result<(u64, u64), StoreError>;
    /// The workspace's latest delivery attempts, newest first.
    async fn list_deliveries(
        &self,
        workspace: &WorkspaceId,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError>;

    // The request log.
    /// Appends entries (of any workspaces) in one transaction.
    async fn append_request_log(&self, entries: Vec<RequestLogEntry>) -> Result<(), StoreError>;
    /// The workspace's latest entries, newest first; with `failed_only`, those with a status of
    /// 400 or more.
    async fn list_request_log(
        &self,
        workspace: &WorkspaceId,
        limit: usize,
        failed_only: bool,
    ) -> Result<Vec<RequestLogEntry>, StoreError>;
    /// Deletes entries older than `before`; returns how many.
    async fn prune_request_log(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    // Operator API keys.
    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError>;
    async fn get_api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// `NotFound` when there is no such key.
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;
    async fn touch_api_key(&self, id: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    // Setup links.
    async fn create_setup_link(&self, link: SetupLinkRecord) -> Result<(), StoreError>;
    async fn get_setup_link(&self, id: &str) -> Result<Option<SetupLinkRecord>, StoreError>;
    /// Marks the link used at `at` if it is unused and unexpired then; answers whether this
    /// call was the one that used it (two browsers racing get one `true`).
    async fn use_setup_link(&self, id: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;
}
