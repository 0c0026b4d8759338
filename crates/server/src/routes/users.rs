//! `/Users` and `/Users/{id}` (RFC 7644 §3.3 to §3.6).
//!
//! Each handler reads as the same steps: authenticate (the [`ScimContext`] extractor), read the
//! request, validate it with the protocol core, load and write through the store, render.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_scim::filter::parse_filter;
use rollcall_scim::list::{Page, list_response};
use rollcall_scim::patch::{apply, parse_patch_request};
use rollcall_scim::render::{Meta, Projection, render};
use rollcall_scim::schema::user_resource;
use rollcall_scim::user::{PreparedUser, UserPolicy, prepare_user};
use rollcall_store::{ResourceId, StoreError, UserQuery, UserRecord, UserWrite};

use super::Params;
use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::{ScimBody, ScimJson};

/// How often a PUT or PATCH is retried when another request changed the user in between.
const MAX_ATTEMPTS: usize = 5;

/// RFC 7644 §3.3: POST /Users.
pub async fn create_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    query: Query<Vec<(String, String)>>,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let params = Params::from_query(query);
    let user = prepare_user(&body, &policy(&ctx), None)?;
    let id = ResourceId::generate();
    let write = UserWrite::new(user, state.clock.now());
    let record = state
        .store
        .create_user(&ctx.workspace.id, &id, write)
        .await?;
    tracing::info!(user = %record.id, "user created");
    Ok(respond(&ctx, &record, &params, StatusCode::CREATED))
}

/// RFC 7644 §3.4.1: GET /Users/{id}, with `If-None-Match` answered by 304.
pub async fn get_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let params = Params::from_query(query);
    let record = load(&state, &ctx, &id).await?;
    let version = etag(&record);
    if header_lists(&headers, header::IF_NONE_MATCH, &version) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, version)]).into_response());
    }
    Ok(respond(&ctx, &record, &params, StatusCode::OK).into_response())
}

/// RFC 7644 §3.4.2: GET /Users with `filter`, `startIndex` and `count`.
///
/// `sortBy` is ignored (sorting is advertised as unsupported); results come in creation order.
pub async fn list_users(
    State(state): State<AppState>,
    ctx: ScimContext,
    query: Query<Vec<(String, String)>>,
) -> Result<ScimJson, ApiError> {
    let params = Params::from_query(query);
    let filter = params
        .get("filter")
        .filter(|f| !f.trim().is_empty())
        .map(parse_filter)
        .transpose()?;
    if let Some(filter) = &filter {
        tracing::debug!(%filter, "list users");
    }
    let page = Page::new(params.integer("startIndex")?, params.integer("count")?);
    let query = UserQuery { filter, page };
    let found = state.store.list_users(&ctx.workspace.id, &query).await?;

    let projection = projection(&params);
    let resources = found
        .items
        .iter()
        .map(|record| {
            render(
                user_resource(),
                record.id.as_str(),
                &record.body,
                &meta(&ctx, record),
                &projection,
            )
        })
        .collect();
    Ok(ScimJson::ok(list_response(found.total, page, resources)))
}

/// RFC 7644 §3.5.1: PUT /Users/{id} replaces the user.
pub async fn replace_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let params = Params::from_query(query);
    let policy = policy(&ctx);
    let record = update(&state, &ctx, &id, &headers, |current| {
        Ok(prepare_user(&body, &policy, Some(current.role))?)
    })
    .await?;
    Ok(respond(&ctx, &record, &params, StatusCode::OK))
}

/// RFC 7644 §3.5.2: PATCH /Users/{id}. Answers 200 with the resource, as IdPs expect.
pub async fn patch_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: Query<Vec<(String, String)>>,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let params = Params::from_query(query);
    let operations = parse_patch_request(&body)?;
    let policy = policy(&ctx);
    let record = update(&state, &ctx, &id, &headers, |current| {
        let patched = apply(&current.body, &operations, user_resource())?;
        Ok(prepare_user(&patched, &policy, Some(current.role))?)
    })
    .await?;
    Ok(respond(&ctx, &record, &params, StatusCode::OK))
}

/// RFC 7644 §3.6: DELETE /Users/{id}.
pub async fn delete_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let record = load(&state, &ctx, &id).await?;
    check_if_match(&headers, &record)?;
    match state.store.delete_user(&ctx.workspace.id, &record.id).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(not_found(&id)),
        Err(err) => return Err(err.into()),
    }
    tracing::info!(user = %record.id, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Reads the user, builds its new version with `build`, and writes it if it is still the
/// version that was read; retries when another request won the race. A result equal to the
/// stored user writes nothing and keeps `meta.version`.
async fn update(
    state: &AppState,
    ctx: &ScimContext,
    id: &str,
    headers: &HeaderMap,
    build: impl Fn(&UserRecord) -> Result<PreparedUser, ApiError>,
) -> Result<UserRecord, ApiError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = load(state, ctx, id).await?;
        check_if_match(headers, &current)?;
        let user = build(&current)?;
        if user.owner_role_kept {
            tracing::info!(user = %current.id, "kept the Owner role; SCIM cannot change it");
        }
        if user.body == current.body {
            return Ok(current);
        }

        let write = UserWrite::new(user, state.clock.now());
        let replaced = state
            .store
            .replace_user(&ctx.workspace.id, &current.id, current.version, write)
            .await;
        match replaced {
            Err(StoreError::VersionConflict) if attempt < MAX_ATTEMPTS => continue,
            Err(StoreError::NotFound) => return Err(not_found(id)),
            Ok(record) => {
                tracing::info!(user = %record.id, "user updated");
                return Ok(record);
            }
            Err(err) => return Err(err.into()),
        }
    }
}

async fn load(state: &AppState, ctx: &ScimContext, id: &str) -> Result<UserRecord, ApiError> {
    state
        .store
        .get_user(&ctx.workspace.id, &ResourceId::new(id))
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no user with id {id:?} in this workspace"))
}

fn policy(ctx: &ScimContext) -> UserPolicy {
    UserPolicy {
        username_format: ctx.workspace.username_format,
        default_role: ctx.workspace.default_role,
    }
}

fn projection(params: &Params) -> Projection {
    Projection::parse(
        params.get("attributes"),
        params.get("excludedAttributes"),
        user_resource(),
    )
}

fn etag(record: &UserRecord) -> String {
    format!("W/\"{}\"", record.version)
}

fn meta(ctx: &ScimContext, record: &UserRecord) -> Meta {
    Meta {
        created: record.created_at,
        last_modified: record.updated_at,
        location: format!("{}/Users/{}", ctx.base_url, record.id),
        version: etag(record),
    }
}

fn respond(
    ctx: &ScimContext,
    record: &UserRecord,
    params: &Params,
    status: StatusCode,
) -> ScimJson {
    let meta = meta(ctx, record);
    let body = render(
        user_resource(),
        record.id.as_str(),
        &record.body,
        &meta,
        &projection(params),
    );
    ScimJson::resource(status, body, &meta.version, &meta.location)
}

/// RFC 7644 §3.14: a write with `If-Match` applies only to the version it names.
fn check_if_match(headers: &HeaderMap, record: &UserRecord) -> Result<(), ApiError> {
    if headers.contains_key(header::IF_MATCH)
        && !header_lists(headers, header::IF_MATCH, &etag(record))
    {
        return Err(ApiError::PreconditionFailed(format!(
            "the user is at version {}, not the one If-Match names",
            etag(record)
        )));
    }
    Ok(())
}

/// True when the header lists `version` or `*`.
fn header_lists(headers: &HeaderMap, name: header::HeaderName, version: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag == version)
}
