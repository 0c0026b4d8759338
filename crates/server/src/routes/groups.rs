//! `/Groups` and `/Groups/{id}` (RFC 7644 §3.3 to §3.6): HTTP in and out around
//! [`crate::service::groups::Groups`].

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rollcall_scim::schema::group_resource;
use rollcall_store::GroupRecord;

use super::{Params, header_text};
use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::{ScimBody, ScimJson};
use crate::service::groups::Groups;
use crate::service::{etag, lists_tag};

type QueryPairs = Query<Vec<(String, String)>>;

/// RFC 7644 §3.3: POST /Groups.
pub async fn create_group(
    State(state): State<AppState>,
    ctx: ScimContext,
    query: QueryPairs,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let groups = Groups {
        state: &state,
        ctx: &ctx,
    };
    let record = groups.create(&body).await?;
    Ok(respond(
        &groups,
        &record,
        &Params::from_query(query),
        StatusCode::CREATED,
    ))
}

/// RFC 7644 §3.4.1: GET /Groups/{id}; `excludedAttributes=members` never loads members.
pub async fn get_group(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let groups = Groups {
        state: &state,
        ctx: &ctx,
    };
    let params = Params::from_query(query);
    let record = groups.get(&id, with_members(&params)).await?;
    let version = etag(record.version);
    if header_text(&headers, header::IF_NONE_MATCH).is_some_and(|tags| lists_tag(tags, &version)) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, version)]).into_response());
    }
    Ok(respond(&groups, &record, &params, StatusCode::OK).into_response())
}

/// RFC 7644 §3.4.2: GET /Groups.
pub async fn list_groups(
    State(state): State<AppState>,
    ctx: ScimContext,
    query: QueryPairs,
) -> Result<ScimJson, ApiError> {
    let groups = Groups {
        state: &state,
        ctx: &ctx,
    };
    let request = Params::from_query(query).search_request()?;
    Ok(ScimJson::ok(groups.search(&request).await?))
}

/// RFC 7644 §3.5.1: PUT /Groups/{id}.
pub async fn replace_group(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: QueryPairs,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let groups = Groups {
        state: &state,
        ctx: &ctx,
    };
    let params = Params::from_query(query);
    let if_match = header_text(&headers, header::IF_MATCH);
    let record = groups
        .replace(&id, &body, if_match, with_members(&params))
        .await?;
    Ok(respond(&groups, &record, &params, StatusCode::OK))
}

/// RFC 7644 §3.5.2: PATCH /Groups/{id}. Answers 200 with the group (members included unless
/// `excludedAttributes=members`).
pub async fn patch_group(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    query: QueryPairs,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let groups = Groups {
        state: &state,
        ctx: &ctx,
    };
    let params = Params::from_query(query);
    let if_match = header_text(&headers, header::IF_MATCH);
    let record = groups
        .patch(&id, &body, if_match, with_members(&params))
        .await?;
    Ok(respond(&groups, &record, &params, StatusCode::OK))
}

/// RFC 7644 §3.6: DELETE /Groups/{id}.
pub async fn delete_group(
    State(state): State<AppState>,
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let groups = Groups {
        state: &state,
        ctx: &ctx,
    };
    groups
        .delete(&id, header_text(&headers, header::IF_MATCH))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn with_members(params: &Params) -> bool {
    params.projection(group_resource()).includes("members")
}

fn respond(
    groups: &Groups<'_>,
    record: &GroupRecord,
    params: &Params,
    status: StatusCode,
) -> ScimJson {
    let body = groups.render(record, &params.projection(group_resource()));
    let meta = groups.meta(record);
    ScimJson::resource(status, body, &meta.version, &meta.location)
}
