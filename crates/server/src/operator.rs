//! The operator's actions: workspaces, SCIM enablement, tokens and roles.
//!
//! The CLI calls these today; an operator API will call the same functions. The rules the seed
//! sets (SCIM needs the enterprise plan and an invitation-only workspace) live here, checked
//! inside the store's write transaction so that two operators acting at once cannot slip past
//! them. Refusals are one sentence a support engineer can act on.

use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rollcall_scim::schema::CustomAttribute;
use rollcall_scim::user::{Role, UsernameFormat};
use rollcall_store::{
    ApiKeyRecord, DeliveryAttempt, Event, Plan, RequestLogEntry, ResourceId, RoleMapping,
    SetupLinkRecord, Store, StoreError, TokenId, TokenRecord, UserRecord, WebhookRecord, Workspace,
    WorkspaceId,
};

use crate::secret::{Secret, generate_api_key, generate_token};
use crate::webhooks::ServerKey;

/// Why an operator action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    /// A rule refused it; the message says why and what to do.
    #[error("{0}")]
    Refused(String),

    #[error("{0}")]
    NotFound(String),

    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for OperatorError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Refused(reason) => OperatorError::Refused(reason),
            other => OperatorError::Store(other),
        }
    }
}

/// The settings of a new workspace.
#[derive(Debug, Clone)]
pub struct NewWorkspace {
    pub name: String,
    pub plan: Plan,
    pub invitation_only: bool,
    pub username_format: UsernameFormat,
    pub default_role: Role,
    pub role_discovery: bool,
}

/// The settings `workspace update` may change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceUpdate {
    pub plan: Option<Plan>,
    pub invitation_only: Option<bool>,
    pub username_format: Option<UsernameFormat>,
    pub default_role: Option<Role>,
    pub role_discovery: Option<bool>,
}

/// A token as issued: shown once, never again.
#[derive(Debug)]
pub struct IssuedToken {
    pub id: TokenId,
    pub token: Secret,
}

/// The path of a workspace's SCIM base URL.
pub fn base_path(id: &WorkspaceId) -> String {
    format!("/integrations/scim/{id}")
}

pub async fn create_workspace(
    store: &dyn Store,
    new: NewWorkspace,
    now: DateTime<Utc>,
) -> Result<Workspace, OperatorError> {
    if new.name.trim().is_empty() {
        return Err(OperatorError::Refused(
            "a workspace needs a name that is not empty".to_owned(),
        ));
    }
    if new.default_role == Role::Owner {
        return Err(owner_not_default());
    }
    let workspace = Workspace {
        id: WorkspaceId::generate(),
        name: new.name.trim().to_owned(),
        plan: new.plan,
        invitation_only: new.invitation_only,
        scim_enabled: false,
        username_format: new.username_format,
        default_role: new.default_role,
        role_discovery: new.role_discovery,
        created_at: now,
    };
    store.create_workspace(workspace.clone()).await?;
    tracing::info!(workspace = %workspace.id, plan = %workspace.plan, "workspace created");
    Ok(workspace)
}

pub async fn update_workspace(
    store: &dyn Store,
    id: &WorkspaceId,
    update: WorkspaceUpdate,
    now: DateTime<Utc>,
) -> Result<Workspace, OperatorError> {
    if update.default_role == Some(Role::Owner) {
        return Err(owner_not_default());
    }
    let workspace = store
        .update_workspace(
            id,
            Box::new(move |workspace| {
                if workspace.scim_enabled && update.invitation_only == Some(false) {
                    return Err(format!(
                        "workspace {} has SCIM enabled, and SCIM needs an invitation-only \
                         workspace; run `rollcall scim disable {}` first",
                        workspace.id, workspace.id
                    ));
                }
                if workspace.scim_enabled && update.plan.is_some_and(|p| p != Plan::Enterprise) {
                    return Err(format!(
                        "workspace {} has SCIM enabled, and SCIM needs the enterprise plan; run \
                         `rollcall scim disable {}` first",
                        workspace.id, workspace.id
                    ));
                }
                apply_update(workspace, &update);
                Ok(())
            }),
            now,
        )
        .await
        .map_err(|err| not_found_workspace(err, id))?;
    tracing::info!(workspace = %workspace.id, "workspace updated");
    Ok(workspace)
}

fn apply_update(workspace: &mut Workspace, update: &WorkspaceUpdate) {
    if let Some(plan) = update.plan {
        workspace.plan = plan;
    }
    if let Some(invitation_only) = update.invitation_only {
        workspace.invitation_only = invitation_only;
    }
    if let Some(format) = update.username_format {
        workspace.username_format = format;
    }
    if let Some(role) = update.default_role {
        workspace.default_role = role;
    }
    if let Some(publish) = update.role_discovery {
        workspace.role_discovery = publish;
    }
}

/// Enables SCIM and issues the workspace's first token.
pub async fn enable_scim(
    store: &dyn Store,
    id: &WorkspaceId,
    now: DateTime<Utc>,
) -> Result<(Workspace, IssuedToken), OperatorError> {
    let workspace = store
        .update_workspace(
            id,
            Box::new(|workspace| {
                if workspace.scim_enabled {
                    return Err(format!(
                        "SCIM is already enabled on workspace {}; issue another token with \
                         `rollcall token create {}`",
                        workspace.id, workspace.id
                    ));
                }
                if workspace.plan != Plan::Enterprise {
                    return Err(format!(
                        "SCIM needs the enterprise plan, and workspace {} is on the {} plan; run \
                         `rollcall workspace update {} --plan enterprise` first",
                        workspace.id, workspace.plan, workspace.id
                    ));
                }
                if !workspace.invitation_only {
                    return Err(format!(
                        "SCIM needs an invitation-only workspace, and workspace {} is open to \
                         anyone; run `rollcall workspace update {} --invitation-only true` first",
                        workspace.id, workspace.id
                    ));
                }
                workspace.scim_enabled = true;
                Ok(())
            }),
            now,
        )
        .await
        .map_err(|err| not_found_workspace(err, id))?;
    let token = create_token(store, id, Some("first token".to_owned()), None, now).await?;
    tracing::info!(workspace = %workspace.id, "scim enabled");
    Ok((workspace, token))
}

/// Disables SCIM; the workspace's tokens stay, and work again if SCIM is enabled again.
pub async fn disable_scim(
    store: &dyn Store,
    id: &WorkspaceId,
    now: DateTime<Utc>,
) -> Result<Workspace, OperatorError> {
    let workspace = store
        .update_workspace(
            id,
            Box::new(|workspace| {
                workspace.scim_enabled = false;
                Ok(())
            }),
            now,
        )
        .await
        .map_err(|err| not_found_workspace(err, id))?;
    tracing::info!(workspace = %workspace.id, "scim disabled");
    Ok(workspace)
}

pub async fn create_token(
    store: &dyn Store,
    workspace: &WorkspaceId,
    label: Option<String>,
    expires_in: Option<Duration>,
    now: DateTime<Utc>,
) -> Result<IssuedToken, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    let new = generate_token();
    let record = TokenRecord {
        id: new.id.clone(),
        workspace_id: workspace.clone(),
        label,
        secret_hash: new.secret_hash,
        created_at: now,
        last_used_at: None,
        expires_at: expires_in.map(|d| now + d),
        revoked_at: None,
    };
    store.create_token(record).await?;
    tracing::info!(workspace = %workspace, token = %new.id, "token issued");
    Ok(IssuedToken {
        id: new.id,
        token: new.token,
    })
}

pub async fn list_tokens(
    store: &dyn Store,
    workspace: &WorkspaceId,
) -> Result<Vec<TokenRecord>, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    Ok(store.list_tokens(workspace).await?)
}

pub async fn revoke_token(
    store: &dyn Store,
    id: &TokenId,
    now: DateTime<Utc>,
) -> Result<(), OperatorError> {
    match store.revoke_token(id, now).await {
        Ok(()) => {
            tracing::info!(token = %id, "token revoked");
            Ok(())
        }
        Err(StoreError::NotFound) => Err(OperatorError::NotFound(format!(
            "there is no token {id}; `rollcall token list WORKSPACE_ID` shows a workspace's tokens"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// A token as rotated: the new one (shown once), and when the old one stops working.
#[derive(Debug)]
pub struct RotatedToken {
    pub workspace: WorkspaceId,
    pub issued: IssuedToken,
    pub old_expires_at: DateTime<Utc>,
}

/// Issues a new token in place of `old`, with its label and expiry period, and lets `old` work
/// for `overlap` more (or until its own expiry, if sooner), so that an IdP can be given the new
/// token without a moment when neither works.
pub async fn rotate_token(
    store: &dyn Store,
    old: &TokenId,
    overlap: Duration,
    now: DateTime<Utc>,
) -> Result<RotatedToken, OperatorError> {
    let no_token = || {
        OperatorError::NotFound(format!(
            "there is no token {old} that can be rotated (it does not exist or is revoked); \
             `rollcall token list WORKSPACE_ID` shows a workspace's tokens"
        ))
    };
    let current = store.get_token(old).await?.ok_or_else(no_token)?;
    if current.revoked_at.is_some() || current.expires_at.is_some_and(|at| at <= now) {
        return Err(no_token());
    }
    let new = generate_token();
    let record = TokenRecord {
        id: new.id.clone(),
        workspace_id: current.workspace_id.clone(),
        label: current.label.clone(),
        secret_hash: new.secret_hash,
        created_at: now,
        last_used_at: None,
        // The new token lives as long as the old one was given.
        expires_at: current.expires_at.map(|at| now + (at - current.created_at)),
        revoked_at: None,
    };
    let old_expires_at = current
        .expires_at
        .map_or(now + overlap, |at| at.min(now + overlap));
    match store.rotate_token(old, record, old_expires_at).await {
        Err(StoreError::NotFound) => return Err(no_token()),
        other => other?,
    }
    tracing::info!(workspace = %current.workspace_id, old = %old, new = %new.id, "token rotated");
    Ok(RotatedToken {
        workspace: current.workspace_id,
        issued: IssuedToken {
            id: new.id,
            token: new.token,
        },
        old_expires_at,
    })
}

/// The operator's way to name an Owner or correct a role.
pub async fn set_user_role(
    store: &dyn Store,
    workspace: &WorkspaceId,
    user: &ResourceId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<UserRecord, OperatorError> {
    match store.set_user_role(workspace, user, role, now).await {
        Ok(record) => {
            tracing::info!(workspace = %workspace, user = %user, role = %role, "role set");
            Ok(record)
        }
        Err(StoreError::NotFound) => Err(OperatorError::NotFound(format!(
            "workspace {workspace} has no user {user}"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// Maps a group (by displayName, case-insensitively) to Admin, Member or Observer; the roles
/// of the group's members follow at once.
pub async fn set_role_mapping(
    store: &dyn Store,
    workspace: &WorkspaceId,
    group: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<RoleMapping, OperatorError> {
    if role == Role::Owner {
        return Err(OperatorError::Refused(
            "a group can map to Admin, Member or Observer; only `rollcall user set-role` names \
             an Owner"
                .to_owned(),
        ));
    }
    if group.trim().is_empty() {
        return Err(OperatorError::Refused(
            "--group needs the group's displayName".to_owned(),
        ));
    }
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    let mapping = RoleMapping {
        group: group.trim().to_owned(),
        role,
    };
    store
        .set_role_mapping(workspace, mapping.clone(), now)
        .await?;
    tracing::info!(workspace = %workspace, group = %mapping.group, role = %role, "role mapped");
    Ok(mapping)
}

pub async fn remove_role_mapping(
    store: &dyn Store,
    workspace: &WorkspaceId,
    group: &str,
    now: DateTime<Utc>,
) -> Result<(), OperatorError> {
    match store.remove_role_mapping(workspace, group, now).await {
        Ok(()) => {
            tracing::info!(workspace = %workspace, group = %group, "role mapping removed");
            Ok(())
        }
        Err(StoreError::NotFound) => Err(OperatorError::NotFound(format!(
            "workspace {workspace} maps no group named {group:?}; `rollcall rolemap list \
             {workspace}` shows the map"
        ))),
        Err(err) => Err(err.into()),
    }
}

pub async fn list_role_mappings(
    store: &dyn Store,
    workspace: &WorkspaceId,
) -> Result<Vec<RoleMapping>, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    Ok(store.list_role_mappings(workspace).await?)
}

/// Adds an attribute to the workspace's own User extension
/// (`urn:rollcall:params:scim:schemas:extension:workspace:2.0:User`).
pub async fn add_custom_attribute(
    store: &dyn Store,
    workspace: &WorkspaceId,
    attribute: CustomAttribute,
) -> Result<CustomAttribute, OperatorError> {
    attribute.validate().map_err(OperatorError::Refused)?;
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    match store
        .add_custom_attribute(workspace, attribute.clone())
        .await
    {
        Ok(()) => {
            tracing::info!(workspace = %workspace, name = %attribute.name, "custom attribute added");
            Ok(attribute)
        }
        Err(StoreError::Uniqueness { .. }) => Err(OperatorError::Refused(format!(
            "workspace {workspace} already has an attribute named {:?}",
            attribute.name
        ))),
        Err(err) => Err(err.into()),
    }
}

pub async fn list_custom_attributes(
    store: &dyn Store,
    workspace: &WorkspaceId,
) -> Result<Vec<CustomAttribute>, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    Ok(store.list_custom_attributes(workspace).await?)
}

/// Removes an attribute from the schema. Values users hold stay stored, unseen, and come back
/// if an attribute of the same name is added again.
pub async fn remove_custom_attribute(
    store: &dyn Store,
    workspace: &WorkspaceId,
    name: &str,
) -> Result<(), OperatorError> {
    match store.remove_custom_attribute(workspace, name).await {
        Ok(()) => {
            tracing::info!(workspace = %workspace, name = %name, "custom attribute removed");
            Ok(())
        }
        Err(StoreError::NotFound) => Err(OperatorError::NotFound(format!(
            "workspace {workspace} has no custom attribute {name:?}"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// The most events one read of the feed returns.
pub const MAX_EVENTS_PER_READ: usize = 1000;

/// Reads the workspace's event feed after `after` (a cursor of an earlier read; empty or `None`
/// for the start).
pub async fn list_events(
    store: &dyn Store,
    workspace: &WorkspaceId,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Event>, OperatorError> {
    let after = match after.map(str::trim).filter(|a| !a.is_empty()) {
        None => 0,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                OperatorError::Refused(format!(
                    "{text:?} is not a cursor of this feed; use a cursor an earlier read returned"
                ))
            })?,
    };
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    let limit = limit.clamp(1, MAX_EVENTS_PER_READ);
    Ok(store.list_events(workspace, after, limit).await?)
}

/// A webhook as added: its id and its signing secret, shown once.
#[derive(Debug)]
pub struct AddedWebhook {
    pub webhook: WebhookRecord,
    pub secret: Secret,
}

/// The most webhooks one workspace may have.
pub const MAX_WEBHOOKS_PER_WORKSPACE: usize = 10;

/// Adds a webhook to the workspace. The URL must be http(s) and, unless `allow_private`,
/// reach only public addresses (see [`crate::webhooks::target`]). It receives the events that
/// follow its creation.
pub async fn add_webhook(
    store: &dyn Store,
    key: &ServerKey,
    workspace: &WorkspaceId,
    url: &str,
    allow_private: bool,
    now: DateTime<Utc>,
) -> Result<AddedWebhook, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    let url = crate::webhooks::target::check_url(url.trim(), allow_private)
        .await
        .map_err(OperatorError::Refused)?;
    if store.list_webhooks(workspace).await?.len() >= MAX_WEBHOOKS_PER_WORKSPACE {
        return Err(OperatorError::Refused(format!(
            "workspace {workspace} already has {MAX_WEBHOOKS_PER_WORKSPACE} webhooks, the most \
             it may have; remove one first"
        )));
    }
    let id: [u8; 8] = rand::rng().random();
    let webhook = WebhookRecord {
        id: format!("wh_{}", hex::encode(id)),
        workspace_id: workspace.clone(),
        url: url.to_string(),
        secret_salt: crate::webhooks::signing::new_salt(),
        created_at: now,
        delivered_through: 0,
        failures: 0,
        next_attempt_at: now,
    };
    let webhook = store.create_webhook(webhook).await?;
    let secret = key.webhook_secret(&webhook.id, &webhook.secret_salt);
    tracing::info!(workspace = %workspace, webhook = %webhook.id, "webhook added");
    Ok(AddedWebhook { webhook, secret })
}

pub async fn list_webhooks(
    store: &dyn Store,
    workspace: &WorkspaceId,
) -> Result<Vec<WebhookRecord>, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    Ok(store.list_webhooks(workspace).await?)
}

pub async fn remove_webhook(
    store: &dyn Store,
    workspace: &WorkspaceId,
    id: &str,
) -> Result<(), OperatorError> {
    match store.remove_webhook(workspace, id).await {
        Ok(()) => {
            tracing::info!(workspace = %workspace, webhook = %id, "webhook removed");
            Ok(())
        }
        Err(StoreError::NotFound) => Err(OperatorError::NotFound(format!(
            "workspace {workspace} has no webhook {id}"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// The workspace's latest delivery attempts, newest first.
pub async fn list_deliveries(
    store: &dyn Store,
    workspace: &WorkspaceId,
    limit: usize,
) -> Result<Vec<DeliveryAttempt>, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    Ok(store
        .list_deliveries(workspace, limit.clamp(1, MAX_EVENTS_PER_READ))
        .await?)
}

/// The workspace's request log, newest first; with `failed_only`, only requests answered with
/// a status of 400 or more.
pub async fn list_request_log(
    store: &dyn Store,
    workspace: &WorkspaceId,
    limit: usize,
    failed_only: bool,
) -> Result<Vec<RequestLogEntry>, OperatorError> {
    if store.get_workspace(workspace).await?.is_none() {
        return Err(no_workspace(workspace));
    }
    Ok(store
        .list_request_log(workspace, limit.clamp(1, MAX_EVENTS_PER_READ), failed_only)
        .await?)
}

/// An operator API key as issued: shown once, never again.
#[derive(Debug)]
pub struct IssuedApiKey {
    pub record: ApiKeyRecord,
    pub key: Secret,
}

/// Issues an operator API key: it opens the operator API for every workspace.
pub async fn create_api_key(
    store: &dyn Store,
    label: Option<String>,
    now: DateTime<Utc>,
) -> Result<IssuedApiKey, OperatorError> {
    let new = generate_api_key();
    let record = ApiKeyRecord {
        id: new.id,
        label,
        secret_hash: new.secret_hash,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    store.create_api_key(record.clone()).await?;
    tracing::info!(key = %record.id, "operator API key issued");
    Ok(IssuedApiKey {
        record,
        key: new.key,
    })
}

pub async fn list_api_keys(store: &dyn Store) -> Result<Vec<ApiKeyRecord>, OperatorError> {
    Ok(store.list_api_keys().await?)
}

pub async fn revoke_api_key(
    store: &dyn Store,
    id: &str,
    now: DateTime<Utc>,
) -> Result<(), OperatorError> {
    match store.revoke_api_key(id, now).await {
        Ok(()) => {
            tracing::info!(key = %id, "operator API key revoked");
            Ok(())
        }
        Err(StoreError::NotFound) => Err(OperatorError::NotFound(format!(
            "there is no API key {id}; `rollcall apikey list` shows them"
        ))),
        Err(err) => Err(err.into()),
    }
}

/// How long a setup link works unless the operator says otherwise.
pub const SETUP_LINK_DAYS: i64 = 7;

/// A setup link as created: its record and the secret part of its URL, shown once.
#[derive(Debug)]
pub struct IssuedSetupLink {
    pub record: SetupLinkRecord,
    pub secret: Secret,
}

impl IssuedSetupLink {
    /// The link's path on the server: `/console/setup/rsl_...`.
    pub fn path(&self) -> String {
        format!("/console/setup/{}", self.secret.expose())
    }
}

/// Creates a one-time link with which the workspace's IT admin takes a SCIM token (and
/// enables SCIM, if it is off) without an operator key. The workspace must be one that may
/// have SCIM.
pub async fn create_setup_link(
    store: &dyn Store,
    workspace: &WorkspaceId,
    valid_for: Duration,
    now: DateTime<Utc>,
) -> Result<IssuedSetupLink, OperatorError> {
    let current = store
        .get_workspace(workspace)
        .await?
        .ok_or_else(|| no_workspace(workspace))?;
    if current.plan != Plan::Enterprise || !current.invitation_only {
        return Err(OperatorError::Refused(format!(
            "workspace {workspace} cannot have SCIM (it needs the enterprise plan and \
             invitation-only membership), so a setup link for it would not work"
        )));
    }
    let new = crate::secret::generate_setup_link();
    let record = SetupLinkRecord {
        id: new.id,
        workspace_id: workspace.clone(),
        secret_hash: new.secret_hash,
        created_at: now,
        expires_at: now + valid_for,
        used_at: None,
    };
    store.create_setup_link(record.clone()).await?;
    tracing::info!(workspace = %workspace, link = %record.id, "setup link created");
    Ok(IssuedSetupLink {
        record,
        secret: new.key,
    })
}

/// The workspace a setup link opens, if the link is valid, unused and unexpired.
pub async fn open_setup_link(
    store: &dyn Store,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<(SetupLinkRecord, Workspace), OperatorError> {
    let invalid = || {
        OperatorError::NotFound(
            "this setup link is not valid, has expired, or was already used; ask the service's \
             support for a new one"
                .to_owned(),
        )
    };
    let (id, secret) = crate::secret::parse_setup_link(presented).ok_or_else(invalid)?;
    let link = store.get_setup_link(&id).await?.ok_or_else(invalid)?;
    if !crate::secret::verify_secret(secret, &link.secret_hash)
        || link.used_at.is_some()
        || link.expires_at <= now
    {
        return Err(invalid());
    }
    let workspace = store
        .get_workspace(&link.workspace_id)
        .await?
        .ok_or_else(invalid)?;
    Ok((link, workspace))
}

/// Uses a setup link: issues a token for its workspace (enabling SCIM first if it is off).
/// A link works once; of two uses at the same moment, one gets the token.
pub async fn redeem_setup_link(
    store: &dyn Store,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<(Workspace, IssuedToken), OperatorError> {
    let (link, workspace) = open_setup_link(store, presented, now).await?;
    if !store.use_setup_link(&link.id, now).await? {
        return Err(OperatorError::NotFound(
            "this setup link was just used; ask the service's support for a new one".to_owned(),
        ));
    }
    tracing::info!(workspace = %workspace.id, link = %link.id, "setup link used");
    if workspace.scim_enabled {
        let token = create_token(
            store,
            &workspace.id,
            Some("setup link".to_owned()),
            None,
            now,
        )
        .await?;
        Ok((workspace, token))
    } else {
        enable_scim(store, &workspace.id, now).await
    }
}

/// On an empty database, creates a workspace ready for an IdP: enterprise plan,
/// invitation-only, SCIM enabled, with a first token. Returns `None` when workspaces exist.
pub async fn bootstrap(
    store: &dyn Store,
    now: DateTime<Utc>,
) -> Result<Option<(Workspace, IssuedToken)>, OperatorError> {
    if !store.list_workspaces().await?.is_empty() {
        return Ok(None);
    }
    let new = NewWorkspace {
        name: "First workspace".to_owned(),
        plan: Plan::Enterprise,
        invitation_only: true,
        username_format: UsernameFormat::Email,
        default_role: Role::Member,
        role_discovery: false,
    };
    let workspace = create_workspace(store, new, now).await?;
    let (workspace, token) = enable_scim(store, &workspace.id, now).await?;
    Ok(Some((workspace, token)))
}

/// Reads a duration like `90d`, `12h`, `30m` or `45s`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let amount: i64 = text.get(..text.len() - unit.len_utf8())?.parse().ok()?;
    if amount <= 0 {
        return None;
    }
    match unit {
        'd' => Duration::try_days(amount),
        'h' => Duration::try_hours(amount),
        'm' => Duration::try_minutes(amount),
        's' => Duration::try_seconds(amount),
        _ => None,
    }
}

fn owner_not_default() -> OperatorError {
    OperatorError::Refused(
        "the default role must be Admin, Member or Observer; name an Owner with `rollcall user \
         set-role`"
            .to_owned(),
    )
}

fn no_workspace(id: &WorkspaceId) -> OperatorError {
    OperatorError::NotFound(format!(
        "there is no workspace {id}; `rollcall workspace create NAME` creates one"
    ))
}

fn not_found_workspace(err: StoreError, id: &WorkspaceId) -> OperatorError {
    match err {
        StoreError::NotFound => no_workspace(id),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_in_days_hours_minutes_and_seconds() {
        assert_eq!(parse_duration("90d"), Duration::try_days(90));
        assert_eq!(parse_duration("12h"), Duration::try_hours(12));
        assert_eq!(parse_duration("30m"), Duration::try_minutes(30));
        assert_eq!(parse_duration("45s"), Duration::try_seconds(45));
        for bad in ["", "d", "0d", "-1d", "12", "12w", "1.5h", "٣d"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
