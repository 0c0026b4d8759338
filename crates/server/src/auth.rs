//! Authentication of SCIM requests: a bearer token of the workspace named in the path.
//!
//! Every failure (no header, another scheme, a token of the wrong shape, an unknown, revoked or
//! expired token, a token of another workspace) gets the same 401, so a caller learns nothing
//! about which tokens or workspaces exist. A valid token on a workspace whose SCIM is disabled
//! gets 403.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;
use chrono::Duration;
use rollcall_scim::schema::{ResourceSchema, user_resource, workspace_user_resource};
use rollcall_store::{TokenId, Workspace, WorkspaceId};

use crate::app::AppState;
use crate::error::ApiError;
use crate::secret::{parse_token, verify_secret};

/// `last_used_at` is written at most this often per token, so reads do not all become writes.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// An authenticated SCIM request: its workspace, the token used, and the base URL of the
/// workspace's SCIM endpoints.
#[derive(Debug, Clone)]
pub struct ScimContext {
    pub workspace: Workspace,
    pub token: TokenId,
    /// `https://host/integrations/scim/{workspace_id}`, the prefix of every `meta.location`.
    pub base_url: String,
    /// The workspace's User schema: the standard one, or with the workspace's own extension.
    pub user_schema: Arc<ResourceSchema>,
}

impl ScimContext {
    /// Whether the workspace's User schema differs from the standard one.
    pub fn has_custom_schema(&self) -> bool {
        !Arc::ptr_eq(&self.user_schema, standard_user_schema())
    }
}

/// The standard User schema, shared by every workspace without custom attributes.
fn standard_user_schema() -> &'static Arc<ResourceSchema> {
    static STANDARD: OnceLock<Arc<ResourceSchema>> = OnceLock::new();
    STANDARD.get_or_init(|| Arc::new(user_resource().clone()))
}

impl FromRequestParts<AppState> for ScimContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("no such endpoint".to_owned()))?;
        let workspace_id = params
            .get("workspace")
            .map(WorkspaceId::new)
            .ok_or_else(|| ApiError::NotFound("no such endpoint".to_owned()))?;
        tracing::Span::current().record("workspace", workspace_id.as_str());

        let presented = bearer_token(parts).ok_or(ApiError::Unauthorized)?;
        let (token_id, secret) = parse_token(presented).ok_or(ApiError::Unauthorized)?;
        let session = state.store.scim_session(&token_id, &workspace_id).await?;
        let token = session.token.ok_or(ApiError::Unauthorized)?;
        let now = state.clock.now();
        let valid = verify_secret(secret, &token.secret_hash)
            && token.revoked_at.is_none()
            && token.expires_at.is_none_or(|expires| expires > now)
            && token.workspace_id == workspace_id;
        if !valid {
            return Err(ApiError::Unauthorized);
        }

        let workspace = session.workspace.ok_or(ApiError::Unauthorized)?;
        // From here on the request is the workspace's: its request log keeps it.
        if let Some(audit) = parts.extensions.get::<crate::request_log::Audit>() {
            audit.authenticated(&workspace.id, &token.id);
        }
        // The rate applies to authenticated requests only, so bad tokens cannot use up a
        // workspace's allowance.
        state
            .rate
            .check(&workspace.id, state.clock.as_ref())
            .map_err(|retry_after| ApiError::TooManyRequests { retry_after })?;
        if !workspace.scim_enabled {
            return Err(ApiError::Forbidden(
                "SCIM provisioning is disabled for this workspace; ask the service's support to \
                 enable it"
                    .to_owned(),
            ));
        }

        if token
            .last_used_at
            .is_none_or(|used| now - used >= TOUCH_INTERVAL)
        {
            // A failure to record the use is logged, never the request's failure.
            if let Err(err) = state.store.touch_token(&token.id, now).await {
                tracing::warn!(error = %err, "could not record the token's last use");
            }
        }

        let base_url = format!(
            "{}/integrations/scim/{}",
            origin(parts, state),
            workspace.id
        );
        let custom = &session.custom_attributes;
        let user_schema = if custom.is_empty() {
            standard_user_schema().clone()
        } else {
            Arc::new(workspace_user_resource(custom))
        };
        Ok(ScimContext {
            workspace,
            token: token.id,
            base_url,
            user_schema,
        })
    }
}

/// The token of an `Authorization: Bearer ...` header (the scheme is case-insensitive).
fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn origin(parts: &Parts, state: &AppState) -> String {
    if let Some(url) = &state.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}
