//! `/Users` and `/Users/{id}` (RFC 7644 §3.3 to §3.6): HTTP in and out around
//! [`crate::service::users::Users`].

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_scim::schema::user_resource;
use rollcall_store::UserRecord;

use super::Params;
use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::{ScimBody, ScimJson};
use crate::service::users::{Users, etag, lists_tag};

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
    let record = users.create(&body).await?;
    Ok(respond(
        &users,
        &record,
        &Params::from_query(query),
        StatusCode::CREATED,
    ))
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
    let record = users.get(&id).await?;
    let version = etag(&record);
    let current =
        header_text(&headers, header::IF_NONE_MATCH).is_some_and(|tags| lists_tag(tags, &version));
    if current {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, version)]).into_response());
    }
    let params = Params::from_query(query);
    Ok(respond(&users, &record, &params, StatusCode::OK).into_response())
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
    let record = users.replace(&id, &body, if_match).await?;
    Ok(respond(
        &users,
        &record,
        &Params::from_query(query),
        StatusCode::OK,
    ))
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
    let record = users.patch(&id, &body, if_match).await?;
    Ok(respond(
        &users,
        &record,
        &Params::from_query(query),
        StatusCode::OK,
    ))
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

fn respond(
    users: &Users<'_>,
    record: &UserRecord,
    params: &Params,
    status: StatusCode,
) -> ScimJson {
    let projection = params.projection(user_resource());
    let body = users.render(record, &projection);
    let meta = users.meta(record);
    ScimJson::resource(status, body, &meta.version, &meta.location)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}
