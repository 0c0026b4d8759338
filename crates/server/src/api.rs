//! The operator API under `/api/v1`: what the CLI does, over HTTP, for the host product and
//! support tools.
//!
//! Every request needs an operator API key (`Authorization: Bearer rok_...`, from
//! `rollcall apikey create`); a workspace's SCIM token is refused here, as an operator key is
//! refused on SCIM routes. Bodies and answers are JSON; the answers have the shapes of the
//! CLI's `--json` output ([`crate::views`]). An error answers `{"error": MESSAGE}` with its
//! status: 400 for a refused or malformed request, 401 without a valid key, 404 for an unknown
//! workspace, token or webhook, 503 while the database is unavailable. The OpenAPI document is
//! served at `/api/v1/openapi.json` ([`OPENAPI`]).

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Duration;
use rollcall_scim::user::{Role, UsernameFormat};
use rollcall_store::{Plan, StoreError, TokenId, WorkspaceId};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::operator::{self, NewWorkspace, OperatorError, WorkspaceUpdate};
use crate::secret::{parse_api_key, verify_secret};
use crate::views;

/// `last_used_at` of a key is written at most this often.
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// The routes, to be nested under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/workspaces", get(list_workspaces).post(create_workspace))
        .route(
            "/workspaces/{workspace}",
            get(get_workspace).patch(update_workspace),
        )
        .route("/workspaces/{workspace}/scim/enable", post(enable_scim))
        .route("/workspaces/{workspace}/scim/disable", post(disable_scim))
        .route(
            "/workspaces/{workspace}/tokens",
            get(list_tokens).post(create_token),
        )
        .route(
            "/workspaces/{workspace}/tokens/{token}/revoke",
            post(revoke_token),
        )
        .route(
            "/workspaces/{workspace}/tokens/{token}/rotate",
            post(rotate_token),
        )
        .route(
            "/workspaces/{workspace}/setup-links",
            post(create_setup_link),
        )
        .route("/workspaces/{workspace}/users", get(list_users))
        .route("/workspaces/{workspace}/groups", get(list_groups))
        .route(
            "/workspaces/{workspace}/rolemap",
            get(list_role_map).post(set_role_map),
        )
        .route(
            "/workspaces/{workspace}/rolemap/{group}",
            delete(remove_role_map),
        )
        .route("/workspaces/{workspace}/events", get(list_events))
        .route("/workspaces/{workspace}/log", get(request_log))
        .route(
            "/workspaces/{workspace}/webhooks",
            get(list_webhooks).post(add_webhook),
        )
        .route(
            "/workspaces/{workspace}/webhooks/deliveries",
            get(list_deliveries),
        )
        .route(
            "/workspaces/{workspace}/webhooks/{webhook}",
            delete(remove_webhook),
        )
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this method is not allowed on this endpoint",
            )
        })
}

/// The OpenAPI 3.0 document of these routes. A test holds it to the router, so that neither
/// changes without the other.
pub const OPENAPI: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`: needs no key.
async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}

/// An error answer: `{"error": MESSAGE}`.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    message: String,
}

impl Problem {
    fn new(status: StatusCode, message: impl Into<String>) -> Problem {
        Problem {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({"error": self.message}))).into_response();
        match self.status {
            StatusCode::UNAUTHORIZED => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(1));
            }
            _ => {}
        }
        response
    }
}

impl From<OperatorError> for Problem {
    fn from(err: OperatorError) -> Problem {
        match err {
            OperatorError::Refused(message) => Problem::bad_request(message),
            OperatorError::NotFound(message) => Problem::new(StatusCode::NOT_FOUND, message),
            OperatorError::Store(err) => err.into(),
        }
    }
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Problem {
        match err {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the directory is briefly unavailable; retry shortly",
                )
            }
            StoreError::NotFound => Problem::new(StatusCode::NOT_FOUND, "not found"),
            other => {
                tracing::error!(error = %other, "operator API failure");
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        }
    }
}

type Answer = Result<Response, Problem>;

fn ok(value: Value) -> Answer {
    Ok(Json(value).into_response())
}

fn created(value: Value) -> Answer {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// A request made with a valid operator API key.
pub struct Operator {
    pub key_id: String,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let refused = || {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                "an operator API key is required: Authorization: Bearer rok_... (from \
                 `rollcall apikey create`)",
            )
        };
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, key)| key.trim())
            .ok_or_else(refused)?;
        let (id, secret) = parse_api_key(presented).ok_or_else(refused)?;
        let key = state.store.get_api_key(&id).await?.ok_or_else(refused)?;
        if key.revoked_at.is_some() || !verify_secret(secret, &key.secret_hash) {
            return Err(refused());
        }
        let now = state.clock.now();
        if key
            .last_used_at
            .is_none_or(|used| now - used >= TOUCH_INTERVAL)
            && let Err(err) = state.store.touch_api_key(&key.id, now).await
        {
            tracing::warn!(error = %err, "could not record the API key's last use");
        }
        tracing::Span::current().record("operator", key.id.as_str());
        Ok(Operator { key_id: key.id })
    }
}

/// A JSON body, whatever its declared media type; an empty body is `{}`. A malformed one is a
/// 400 that says what is wrong.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
        let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(&bytes).map_err(|err| {
                Problem::bad_request(format!("the request body is not valid JSON: {err}"))
            })?
        };
        let value = if value.is_null() { json!({}) } else { value };
        serde_json::from_value(value)
            .map(Body)
            .map_err(|err| Problem::bad_request(format!("the request body is not valid: {err}")))
    }
}

fn parse<T: std::str::FromStr>(text: &str, what: &str, choices: &str) -> Result<T, Problem> {
    text.parse()
        .map_err(|_| Problem::bad_request(format!("{text:?} is not a {what}; use {choices}")))
}

fn plan(text: &str) -> Result<Plan, Problem> {
    parse(text, "plan", "free, business or enterprise")
}

fn username_format(text: &str) -> Result<UsernameFormat, Problem> {
    parse(text, "username format", "email or any")
}

fn role(text: &str) -> Result<Role, Problem> {
    parse(text, "role", "Admin, Member or Observer")
}

async fn list_workspaces(_: Operator, State(state): State<AppState>) -> Answer {
    ok(views::workspaces(&state.store.list_workspaces().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateWorkspace {
    name: String,
    plan: Option<String>,
    invitation_only: Option<bool>,
    username_format: Option<String>,
    default_role: Option<String>,
    role_discovery: Option<bool>,
}

async fn create_workspace(
    _: Operator,
    State(state): State<AppState>,
    Body(body): Body<CreateWorkspace>,
) -> Answer {
    let new = NewWorkspace {
        name: body.name,
        plan: body
            .plan
            .as_deref()
            .map(plan)
            .transpose()?
            .unwrap_or(Plan::Free),
        invitation_only: body.invitation_only.unwrap_or(false),
        username_format: body
            .username_format
            .as_deref()
            .map(username_format)
            .transpose()?
            .unwrap_or(UsernameFormat::Email),
        default_role: body
            .default_role
            .as_deref()
            .map(role)
            .transpose()?
            .unwrap_or(Role::Member),
        role_discovery: body.role_discovery.unwrap_or(false),
    };
    let workspace =
        operator::create_workspace(state.store.as_ref(), new, state.clock.now()).await?;
    created(views::workspace(&workspace))
}

async fn get_workspace(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer {
    let id = WorkspaceId::new(id);
    let workspace = state.store.get_workspace(&id).await?.ok_or_else(|| {
        Problem::new(StatusCode::NOT_FOUND, format!("there is no workspace {id}"))
    })?;
    ok(views::workspace(&workspace))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeWorkspace {
    plan: Option<String>,
    invitation_only: Option<bool>,
    username_format: Option<String>,
    default_role: Option<String>,
    role_discovery: Option<bool>,
}

async fn update_workspace(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<ChangeWorkspace>,
) -> Answer {
    let update = WorkspaceUpdate {
        plan: body.plan.as_deref().map(plan).transpose()?,
        invitation_only: body.invitation_only,
        username_format: body
            .username_format
            .as_deref()
            .map(username_format)
            .transpose()?,
        default_role: body.default_role.as_deref().map(role).transpose()?,
        role_discovery: body.role_discovery,
    };
    let id = WorkspaceId::new(id);
    let workspace =
        operator::update_workspace(state.store.as_ref(), &id, update, state.clock.now()).await?;
    ok(views::workspace(&workspace))
}

async fn enable_scim(_: Operator, State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = WorkspaceId::new(id);
    let (workspace, token) =
        operator::enable_scim(state.store.as_ref(), &id, state.clock.now()).await?;
    ok(views::scim_enabled(&workspace, &token))
}

async fn disable_scim(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer {
    let id = WorkspaceId::new(id);
    let workspace = operator::disable_scim(state.store.as_ref(), &id, state.clock.now()).await?;
    ok(views::workspace(&workspace))
}

async fn list_tokens(_: Operator, State(state): State<AppState>, Path(id): Path<String>) -> Answer {
    let id = WorkspaceId::new(id);
    ok(views::tokens(
        &operator::list_tokens(state.store.as_ref(), &id).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    label: Option<String>,
    /// `90d`, `12h`, `30m`.
    expires_in: Option<String>,
}

async fn create_token(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<CreateToken>,
) -> Answer {
    let expires_in = body
        .expires_in
        .as_deref()
        .map(|text| {
            operator::parse_duration(text).ok_or_else(|| {
                Problem::bad_request(format!(
                    "{text:?} is not a duration; use a number and d, h or m (90d, 12h, 30m)"
                ))
            })
        })
        .transpose()?;
    let id = WorkspaceId::new(id);
    let token = operator::create_token(
        state.store.as_ref(),
        &id,
        body.label,
        expires_in,
        state.clock.now(),
    )
    .await?;
    created(views::token_issued(&id, &token))
}

async fn revoke_token(
    _: Operator,
    State(state): State<AppState>,
    Path((workspace, token)): Path<(String, String)>,
) -> Answer {
    let (workspace, token) = (WorkspaceId::new(workspace), TokenId::new(token));
    // A token is revoked through its own workspace only.
    let belongs = state
        .store
        .get_token(&token)
        .await?
        .is_some_and(|record| record.workspace_id == workspace);
    if !belongs {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("workspace {workspace} has no token {token}"),
        ));
    }
    operator::revoke_token(state.store.as_ref(), &token, state.clock.now()).await?;
    ok(json!({"id": token.as_str(), "revoked": true}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateToken {
    /// How long the old token keeps working: `24h` (the default), `7d`, `30m`.
    overlap: Option<String>,
}

async fn rotate_token(
    _: Operator,
    State(state): State<AppState>,
    Path((workspace, token)): Path<(String, String)>,
    Body(body): Body<RotateToken>,
) -> Answer {
    let (workspace, token) = (WorkspaceId::new(workspace), TokenId::new(token));
    let overlap = body.overlap.as_deref().unwrap_or("24h");
    let overlap = operator::parse_duration(overlap).ok_or_else(|| {
        Problem::bad_request(format!(
            "{overlap:?} is not a duration; use a number and d, h or m (24h, 7d, 30m)"
        ))
    })?;
    let belongs = state
        .store
        .get_token(&token)
        .await?
        .is_some_and(|record| record.workspace_id == workspace);
    if !belongs {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("workspace {workspace} has no token {token}"),
        ));
    }
    let rotated =
        operator::rotate_token(state.store.as_ref(), &token, overlap, state.clock.now()).await?;
    created(views::token_rotated(&rotated, token.as_str()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSetupLink {
    /// How long the link works: `7d` (the default), `48h`.
    expires_in: Option<String>,
}

async fn create_setup_link(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Body(body): Body<CreateSetupLink>,
) -> Answer {
    let valid_for = match body.expires_in.as_deref() {
        None => Duration::days(operator::SETUP_LINK_DAYS),
        Some(text) => operator::parse_duration(text).ok_or_else(|| {
            Problem::bad_request(format!(
                "{text:?} is not a duration; use a number and d, h or m (7d, 48h)"
            ))
        })?,
    };
    let id = WorkspaceId::new(id);
    let link = operator::create_setup_link(state.store.as_ref(), &id, valid_for, state.clock.now())
        .await?;
    let origin = match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!(
            "http://{}",
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
        ),
    };
    created(json!({
        "id": link.record.id,
        "url": format!("{origin}{}", link.path()),
        "expires_at": views::timestamp(link.record.expires_at),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    #[serde(rename = "startIndex")]
    start_index: Option<i64>,
    count: Option<i64>,
}

async fn workspace_exists(state: &AppState, id: &WorkspaceId) -> Result<(), Problem> {
    match state.store.get_workspace(id).await? {
        Some(_) => Ok(()),
        None => Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("there is no workspace {id}"),
        )),
    }
}

/// A page of the workspace's users, in creation order, as support reads them.
async fn list_users(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(query) = query.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let id = WorkspaceId::new(id);
    workspace_exists(&state, &id).await?;
    let page = rollcall_scim::list::Page::new(query.start_index, query.count);
    let start = page.start_index;
    let users = state
        .store
        .list_users(&id, &rollcall_store::UserQuery::page(None, page))
        .await?;
    ok(views::users(&users.items, users.total, start))
}

/// A page of the workspace's groups, in creation order, with their member counts.
async fn list_groups(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(query) = query.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let id = WorkspaceId::new(id);
    workspace_exists(&state, &id).await?;
    let page = rollcall_scim::list::Page::new(query.start_index, query.count);
    let start = page.start_index;
    let groups = state
        .store
        .list_groups(
            &id,
            &rollcall_store::GroupQuery {
                filter: None,
                sort: None,
                paging: rollcall_scim::list::Paging::Index(page),
                with_members: true,
            },
        )
        .await?;
    ok(views::groups(&groups.items, groups.total, start))
}

async fn list_role_map(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer {
    let id = WorkspaceId::new(id);
    let mappings = operator::list_role_mappings(state.store.as_ref(), &id).await?;
    ok(views::role_map(&mappings))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetRoleMap {
    group: String,
    role: String,
}

async fn set_role_map(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<SetRoleMap>,
) -> Answer {
    let id = WorkspaceId::new(id);
    let role = role(&body.role)?;
    let mapping = operator::set_role_mapping(
        state.store.as_ref(),
        &id,
        &body.group,
        role,
        state.clock.now(),
    )
    .await?;
    ok(json!({"group": mapping.group, "role": mapping.role.as_str()}))
}

async fn remove_role_map(
    _: Operator,
    State(state): State<AppState>,
    Path((id, group)): Path<(String, String)>,
) -> Answer {
    let id = WorkspaceId::new(id);
    operator::remove_role_mapping(state.store.as_ref(), &id, &group, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    after: Option<String>,
    limit: Option<usize>,
}

async fn list_events(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(query) = query.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let id = WorkspaceId::new(id);
    let events = operator::list_events(
        state.store.as_ref(),
        &id,
        query.after.as_deref(),
        query.limit.unwrap_or(100),
    )
    .await?;
    ok(views::events(&events, query.after.as_deref()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    limit: Option<usize>,
    failed: Option<bool>,
}

async fn request_log(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<LogQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(query) = query.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let id = WorkspaceId::new(id);
    let entries = operator::list_request_log(
        state.store.as_ref(),
        &id,
        query.limit.unwrap_or(50),
        query.failed.unwrap_or(false),
    )
    .await?;
    ok(views::request_log(&entries))
}

async fn list_webhooks(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Answer {
    let id = WorkspaceId::new(id);
    ok(views::webhooks(
        &operator::list_webhooks(state.store.as_ref(), &id).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddWebhook {
    url: String,
}

async fn add_webhook(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Body(body): Body<AddWebhook>,
) -> Answer {
    let key = state.webhooks.key.as_ref().ok_or_else(|| {
        Problem::bad_request(
            "webhooks are off on this server: it has no key to sign them with (set \
             ROLLCALL_SECRET_KEY)",
        )
    })?;
    let id = WorkspaceId::new(id);
    let added = operator::add_webhook(
        state.store.as_ref(),
        key,
        &id,
        &body.url,
        state.webhooks.allow_private,
        state.clock.now(),
    )
    .await?;
    created(json!({"id": added.webhook.id, "secret": added.secret.expose()}))
}

async fn remove_webhook(
    _: Operator,
    State(state): State<AppState>,
    Path((workspace, webhook)): Path<(String, String)>,
) -> Answer {
    let workspace = WorkspaceId::new(workspace);
    operator::remove_webhook(state.store.as_ref(), &workspace, &webhook).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveriesQuery {
    limit: Option<usize>,
}

async fn list_deliveries(
    _: Operator,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<DeliveriesQuery>, axum::extract::rejection::QueryRejection>,
) -> Answer {
    let Query(query) = query.map_err(|rejection| Problem::bad_request(rejection.body_text()))?;
    let id = WorkspaceId::new(id);
    let attempts =
        operator::list_deliveries(state.store.as_ref(), &id, query.limit.unwrap_or(50)).await?;
    ok(views::deliveries(&attempts))
}
