//! Records the store returns and the inputs of its writes.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use std::sync::Arc;

use rollcall_scim::filter::Filter;
use rollcall_scim::group::MemberChange;
use rollcall_scim::list::{CursorPosition, Page, Paging, SortSpec};
use rollcall_scim::schema::ResourceSchema;
use rollcall_scim::user::{Role, UsernameFormat};
use serde_json::Value;

use crate::ids::{ResourceId, TokenId, WorkspaceId};

/// A workspace's plan. SCIM needs the enterprise plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Free,
    Business,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Business => "business",
            Plan::Enterprise => "enterprise",
        }
    }
}

impl FromStr for Plan {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text.to_ascii_lowercase().as_str() {
            "free" => Ok(Plan::Free),
            "business" => Ok(Plan::Business),
            "enterprise" => Ok(Plan::Enterprise),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A workspace: one directory, one SCIM base URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub plan: Plan,
    pub invitation_only: bool,
    pub scim_enabled: bool,
    pub username_format: UsernameFormat,
    pub default_role: Role,
    /// Whether `/Roles` and the Role resource type are published, for IdPs that discover
    /// assignable roles (Okta's entitlement management).
    pub role_discovery: bool,
    pub created_at: DateTime<Utc>,
}

/// A SCIM token as stored: never the secret, only its SHA-256.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub workspace_id: WorkspaceId,
    pub label: Option<String>,
    /// Hex SHA-256 of the token's secret part.
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: ResourceId,
    pub workspace_id: WorkspaceId,
    /// The resource in stored form (no `id`, no `meta`).
    pub body: Value,
    /// The effective role: Owner when the operator named one, else the highest role mapped
    /// from the user's groups, else `idp_role`, else the workspace's default.
    pub role: Role,
    /// The role the IdP sent (or the operator set), when there is one.
    pub idp_role: Option<Role>,
    /// False only when the IdP deactivated the user; a user without `active` counts as active.
    pub active: bool,
    /// Grows by one with every change; the ETag is derived from it.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The values of a user write: the stored document and what the store indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct UserWrite {
    pub body: Value,
    pub user_name: String,
    pub external_id: Option<String>,
    pub email: String,
    /// Every address in `emails`, for `emails.value` filters.
    pub emails: Vec<String>,
    pub display_name: String,
    /// `active` as sent; `None` when unassigned.
    pub active: Option<bool>,
    /// The role as validated; the store replaces it with the effective role.
    pub role: Role,
    /// The role the IdP sent, kept as the fallback under group-mapped roles.
    pub idp_role: Option<Role>,
    pub at: DateTime<Utc>,
}

impl UserWrite {
    /// The write for a validated user, stamped `at`.
    pub fn new(user: rollcall_scim::user::PreparedUser, at: DateTime<Utc>) -> Self {
        UserWrite {
            body: user.body,
            user_name: user.user_name,
            external_id: user.external_id,
            email: user.email,
            emails: user.emails,
            display_name: user.display_name,
            active: user.active,
            role: user.role,
            idp_role: user.sent_role,
            at,
        }
    }
}

/// A group as stored. `members` is loaded only when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRecord {
    pub id: ResourceId,
    pub workspace_id: WorkspaceId,
    /// The resource in stored form, without `members`.
    pub body: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub members: Option<Vec<Member>>,
}

/// One member of a group, with the user's displayName for `members.display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: ResourceId,
    pub display: String,
}

/// A group a user belongs to, for the user's `groups` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: ResourceId,
    pub display: String,
}

/// The document values of a group write.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupWrite {
    pub body: Value,
    pub display_name: String,
    pub external_id: Option<String>,
}

impl GroupWrite {
    pub fn new(group: rollcall_scim::group::PreparedGroup) -> Self {
        GroupWrite {
            body: group.body,
            display_name: group.display_name,
            external_id: group.external_id,
        }
    }
}

/// A change to an existing group: its document, its membership, or both, in one transaction.
#[derive(Debug, Clone)]
pub struct GroupUpdate {
    /// Apply only if the group is still at this version (`If-Match`, or a document change that
    /// was computed from what was read).
    pub expected_version: Option<i64>,
    pub document: Option<GroupWrite>,
    pub members: Vec<MemberChange>,
    pub at: DateTime<Utc>,
}

/// A list request for groups.
#[derive(Debug, Clone)]
pub struct GroupQuery {
    pub filter: Option<Filter>,
    pub sort: Option<SortSpec>,
    pub paging: Paging,
    pub with_members: bool,
}

/// What authenticating one SCIM request needs, read together: the presented token's record,
/// the workspace of the URL, and that workspace's custom User attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimSession {
    pub token: Option<TokenRecord>,
    pub workspace: Option<Workspace>,
    pub custom_attributes: Vec<rollcall_scim::schema::CustomAttribute>,
}

/// One change in a workspace's event feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Where the feed stands after this event; pass it back to read what follows.
    pub cursor: i64,
    pub id: String,
    /// `user.created`, `group.member_added`, ...
    pub kind: String,
    pub resource_id: String,
    pub data: Value,
    pub occurred_at: DateTime<Utc>,
}

/// A webhook: where a workspace's events are sent, and how far delivery has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// `wh_` and 16 hex digits.
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub url: String,
    /// Random; with the server's key it gives the signing secret. Not the secret itself.
    pub secret_salt: String,
    pub created_at: DateTime<Utc>,
    /// The feed cursor of the last event delivered. A new webhook starts at the end of the
    /// feed, so it gets the events that follow its creation.
    pub delivered_through: i64,
    /// Failed attempts at the next event since the last delivery.
    pub failures: u32,
    /// No attempt before this instant (the backoff after a failure).
    pub next_attempt_at: DateTime<Utc>,
}

/// One attempt to deliver one event to one webhook, for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub webhook_id: String,
    pub workspace_id: WorkspaceId,
    pub event_id: String,
    pub event_cursor: i64,
    /// 1 for the first attempt at this event.
    pub attempt: u32,
    pub at: DateTime<Utc>,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
    pub delivered: bool,
    pub duration_ms: i64,
}

/// An operator API key: it opens the operator API (`/api/v1`) for every workspace, and
/// nothing else. Only the SHA-256 of its secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// `key_` and 16 hex digits.
    pub id: String,
    pub label: Option<String>,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A one-time link that lets a workspace's IT admin take a SCIM token without an operator key.
/// Only the SHA-256 of its secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupLinkRecord {
    /// `sl_` and 16 hex digits.
    pub id: String,
    pub workspace_id: WorkspaceId,
    pub secret_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A backend's connections, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// One authenticated SCIM request, for the workspace's request log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLogEntry {
    pub workspace_id: WorkspaceId,
    pub at: DateTime<Utc>,
    pub method: String,
    /// The matched route (`/integrations/scim/{workspace}/Users/{id}`), never the raw URI.
    pub route: String,
    /// The resource id in the path, when there is one.
    pub resource_id: Option<String>,
    pub status: u16,
    pub scim_type: Option<String>,
    /// The error's `detail`, for a failed request.
    pub detail: Option<String>,
    pub latency_ms: i64,
    pub token_id: String,
    pub user_agent: Option<String>,
    /// The request body with secrets redacted, cut to a bounded size.
    pub body: Option<String>,
}

/// One entry of a workspace's group-to-role map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMapping {
    /// The group's displayName as the operator typed it; matched case-insensitively.
    pub group: String,
    pub role: Role,
}

/// A list request: the filter (already parsed), the order, and the page.
#[derive(Debug, Clone)]
pub struct UserQuery {
    /// The workspace's User schema when it has custom attributes; `None` for the standard one.
    pub schema: Option<Arc<ResourceSchema>>,
    pub filter: Option<Filter>,
    /// `None` lists in creation order.
    pub sort: Option<SortSpec>,
    pub paging: Paging,
}

impl UserQuery {
    /// The first `count` users matching `filter`, in creation order.
    pub fn page(filter: Option<Filter>, page: Page) -> UserQuery {
        UserQuery {
            schema: None,
            filter,
            sort: None,
            paging: Paging::Index(page),
        }
    }
}

/// One page of a list and the number of matches in all.
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    pub total: usize,
    pub items: Vec<T>,
    /// With cursor paging, where the next page starts; `None` on the last page.
    pub next: Option<CursorPosition>,
}
