//! `POST /.search` (RFC 7644 §3.4.3): the query of a list request sent in a `SearchRequest`
//! body, so that filters holding personal data stay out of URLs and logs.

use axum::extract::State;
use rollcall_scim::list::{Page, SearchRequest, list_response};
use serde_json::Value;

use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::{ScimBody, ScimJson};
use crate::service::groups::Groups;
use crate::service::users::Users;

/// `POST /Users/.search`.
pub async fn search_users(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let request = SearchRequest::from_body(&body)?;
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    Ok(ScimJson::ok(users.search(&request).await?))
}

/// `POST /Groups/.search`.
pub async fn search_groups(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let request = SearchRequest::from_body(&body)?;
    let groups = Groups {
        state: &state,
        ctx: &ctx,
    };
    Ok(ScimJson::ok(groups.search(&request).await?))
}

/// `POST /.search` at the root: users, then groups, paged as one list.
pub async fn search_all(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let request = SearchRequest::from_body(&body)?;
    if request.cursor.is_some() || request.sort_by.is_some() {
        return Err(ApiError::Scim(rollcall_scim::Error::invalid_value(
            if request.cursor.is_some() {
                "cursor"
            } else {
                "sortBy"
            },
            "a search across resource types is paged by index in creation order; search \
             /Users/.search or /Groups/.search to sort or page by cursor",
        )));
    }
    let page = Page::new(request.start_index, request.count);
    let mut users = Users {
        state: &state,
        ctx: &ctx,
    }
    .search(&request)
    .await?;
    let user_total = total(&users);
    let mut resources = take_resources(&mut users);

    // The groups' part of the page starts where the users end.
    let wanted = page.count - resources.len();
    let group_offset = page.offset().saturating_sub(user_total);
    let rest = SearchRequest {
        start_index: Some(i64::try_from(group_offset + 1).unwrap_or(i64::MAX)),
        count: Some(i64::try_from(wanted).unwrap_or(0)),
        ..request
    };
    let mut groups = Groups {
        state: &state,
        ctx: &ctx,
    }
    .search(&rest)
    .await?;
    let group_total = total(&groups);
    resources.extend(take_resources(&mut groups));
    Ok(ScimJson::ok(list_response(
        user_total + group_total,
        page,
        resources,
    )))
}

fn total(list: &Value) -> usize {
    list["totalResults"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

fn take_resources(list: &mut Value) -> Vec<Value> {
    match list["Resources"].take() {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}
