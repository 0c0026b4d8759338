//! Discovery (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`, rendered
//! from the same schema definitions that validate requests, so they cannot tell a different
//! story. Features rollcall does not offer are advertised as `supported: false`.

use axum::extract::{Path, Query};
use rollcall_scim::list::{Page, list_response};
use rollcall_scim::schema::{
    ResourceSchema, SERVICE_PROVIDER_CONFIG, Schema, group_resource, role_resource,
};
use serde_json::{Value, json};

use super::Params;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::ScimJson;

/// RFC 7643 §5.
pub async fn service_provider_config(
    ctx: ScimContext,
    axum::extract::State(state): axum::extract::State<crate::app::AppState>,
) -> ScimJson {
    ScimJson::ok(json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": crate::routes::bulk::MAX_OPERATIONS,
            "maxPayloadSize": state.guard.limits.max_body_bytes,
        },
        "filter": {"supported": true, "maxResults": rollcall_scim::limits::limits().max_page_size},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": rollcall_scim::list::DEFAULT_PAGE_SIZE,
            "maxPageSize": rollcall_scim::limits::limits().max_page_size,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A workspace's SCIM token in the Authorization header",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", ctx.base_url),
        },
    }))
}

/// RFC 7644 §4: the resource types, as a list response.
pub async fn resource_types(
    ctx: ScimContext,
    query: Query<Vec<(String, String)>>,
) -> Result<ScimJson, ApiError> {
    refuse_filter(&Params::from_query(query))?;
    let types = resources(&ctx)
        .map(|resource| resource.resource_type_json(&ctx.base_url))
        .collect();
    Ok(ScimJson::ok(list_of(types)))
}

pub async fn resource_type(
    ctx: ScimContext,
    Path((_, name)): Path<(String, String)>,
) -> Result<ScimJson, ApiError> {
    resources(&ctx)
        .find(|resource| resource.name == name)
        .map(|resource| ScimJson::ok(resource.resource_type_json(&ctx.base_url)))
        .ok_or_else(|| ApiError::NotFound(format!("no resource type {name:?}")))
}

/// RFC 7644 §4: the schemas, as a list response.
pub async fn schemas(
    ctx: ScimContext,
    query: Query<Vec<(String, String)>>,
) -> Result<ScimJson, ApiError> {
    refuse_filter(&Params::from_query(query))?;
    let schemas = all_schemas(&ctx)
        .map(|s| s.to_json(&ctx.base_url))
        .collect();
    Ok(ScimJson::ok(list_of(schemas)))
}

pub async fn schema(
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<ScimJson, ApiError> {
    all_schemas(&ctx)
        .find(|schema| schema.id == id)
        .map(|schema| ScimJson::ok(schema.to_json(&ctx.base_url)))
        .ok_or_else(|| ApiError::NotFound(format!("no schema {id:?}")))
}

/// The resource types the workspace is served: Users and Groups, and Roles when the workspace
/// publishes them.
fn resources(ctx: &ScimContext) -> impl Iterator<Item = &ResourceSchema> + Clone {
    let roles = ctx.workspace.role_discovery.then(role_resource);
    [ctx.user_schema.as_ref(), group_resource()]
        .into_iter()
        .chain(roles)
}

/// Every schema of every resource type: the core schemas, then the extensions.
fn all_schemas(ctx: &ScimContext) -> impl Iterator<Item = &Schema> {
    let resources = resources(ctx);
    resources
        .clone()
        .map(|resource| &resource.core)
        .chain(resources.flat_map(|resource| resource.extensions.iter()))
}

/// RFC 7644 §4: a filter on a discovery endpoint SHOULD be answered with 403.
fn refuse_filter(params: &Params) -> Result<(), ApiError> {
    if params.get("filter").is_some() {
        return Err(ApiError::Forbidden(
            "discovery endpoints do not take a filter".to_owned(),
        ));
    }
    Ok(())
}

fn list_of(resources: Vec<Value>) -> Value {
    let page = Page::new(
        None,
        Some(i64::try_from(resources.len()).unwrap_or(i64::MAX)),
    );
    list_response(resources.len(), page, resources)
}
