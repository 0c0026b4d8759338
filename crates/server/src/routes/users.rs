//! `/Users` and `/Users/{id}` (RFC 7644 §3.3 to §3.6): HTTP in and out around
//! [`crate::service::users::Users`].

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_store::UserRecord;

use super::{Params, header_text};
use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::{ScimBody, ScimJson};
use crate::service::lists_tag;
use crate::service::users::{Users, etag};

type QueryPairs = Query<Vec<(String, String)>>;

/// RFC 7644 §3.3: POST /Users.
pub async fn create_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    query: QueryPairs,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    let mut record = users.create(&body).await?;
    respond(
        &users,
        &mut record,
        &Params::from_query(query),
        StatusCode::CREATED,
    )
    .await
}

/// RFC 7644 §3.4.1: GET /Users/{id}, with `If-None-Match` answered by 304.
pub async fn get_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    let mut record = users.get(&id).await?;
    let version = etag(&record);
    let current =
        header_text(&headers, header::IF_NONE_MATCH).is_some_and(|tags| lists_tag(tags, &version));
    if current {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, version)]).into_response());
    }
    let params = Params::from_query(query);
    Ok(respond(&users, &mut record, &params, StatusCode::OK)
        .await?
        .into_response())
}

/// RFC 7644 §3.4.2: GET /Users with `filter`, `startIndex`, `count`, `attributes`.
pub async fn list_users(
    State(state): State<AppState>,
    ctx: ScimContext,
    query: QueryPairs,
) -> Result<ScimJson, ApiError> {
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    let request = Params::from_query(query).search_request()?;
    Ok(ScimJson::ok(users.search(&request).await?))
}

/// RFC 7644 §3.5.1: PUT /Users/{id} replaces the user.
pub async fn replace_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: QueryPairs,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    let if_match = header_text(&headers, header::IF_MATCH);
    let mut record = users.replace(&id, &body, if_match).await?;
    respond(
        &users,
        &mut record,
        &Params::from_query(query),
        StatusCode::OK,
    )
    .await
}

/// RFC 7644 §3.5.2: PATCH /Users/{id}. Answers 200 with the resource, as IdPs expect.
pub async fn patch_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: QueryPairs,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    let if_match = header_text(&headers, header::IF_MATCH);
    let mut record = users.patch(&id, &body, if_match).await?;
    respond(
        &users,
        &mut record,
        &Params::from_query(query),
        StatusCode::OK,
    )
    .await
}

/// RFC 7644 §3.6: DELETE /Users/{id}.
pub async fn delete_user(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    users
        .delete(&id, header_text(&headers, header::IF_MATCH))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn respond(
    users: &Users<'_>,
    record: &mut UserRecord,
    params: &Params,
    status: StatusCode,
) -> Result<ScimJson, ApiError> {
    let projection = params.projection(users.schema());
    users
        .load_groups(std::slice::from_mut(record), &projection)
        .await?;
    let body = users.render(record, &projection);
    let meta = users.meta(record);
    Ok(ScimJson::resource(
        status,
        body,
        &meta.version,
        &meta.location,
    ))
}
