//! `/Roles`: the roles a member can be given through SCIM, as a read-only resource type, for
//! IdPs that discover assignable roles (Okta's entitlement management).

use axum::extract::{Path, Query};
use rollcall_scim::list::{Page, list_response};
use rollcall_scim::schema::{ROLE_SCHEMA, role_resource};
use serde_json::{Value, json};

use super::Params;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::ScimJson;

/// The assignable roles, highest first, with what each may do in the workspace.
const ROLES: [(&str, &str); 3] = [
    ("Admin", "Manages the workspace and its members"),
    ("Member", "Uses the workspace"),
    ("Observer", "Reads the workspace without changing it"),
];

/// GET /Roles.
pub async fn list_roles(
    ctx: ScimContext,
    query: Query<Vec<(String, String)>>,
) -> Result<ScimJson, ApiError> {
    published(&ctx)?;
    let params = Params::from_query(query);
    if params.get("filter").is_some() {
        return Err(ApiError::Forbidden(
            "/Roles lists every role and takes no filter".to_owned(),
        ));
    }
    let roles: Vec<Value> = ROLES.iter().map(|role| render(&ctx, *role)).collect();
    let page = Page::new(None, Some(i64::try_from(roles.len()).unwrap_or(0)));
    Ok(ScimJson::ok(list_response(roles.len(), page, roles)))
}

/// GET /Roles/{id}.
pub async fn get_role(
    ctx: ScimContext,
    Path((_, id)): Path<(String, String)>,
) -> Result<ScimJson, ApiError> {
    published(&ctx)?;
    ROLES
        .iter()
        .find(|(name, _)| *name == id)
        .map(|role| ScimJson::ok(render(&ctx, *role)))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no role {id:?}; the roles are Admin, Member and Observer"
            ))
        })
}

/// `/Roles` exists for a workspace only when its operator publishes it.
fn published(ctx: &ScimContext) -> Result<(), ApiError> {
    if ctx.workspace.role_discovery {
        return Ok(());
    }
    Err(ApiError::NotFound(format!(
        "this workspace does not publish its roles; the operator can with `rollcall workspace \
         update {} --role-discovery true`",
        ctx.workspace.id
    )))
}

fn render(ctx: &ScimContext, (name, description): (&str, &str)) -> Value {
    json!({
        "schemas": [ROLE_SCHEMA],
        "id": name,
        "displayName": name,
        "description": description,
        "meta": {
            "resourceType": role_resource().name,
            "location": format!("{}/Roles/{name}", ctx.base_url),
        },
    })
}
