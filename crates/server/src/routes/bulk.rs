//! `POST /Bulk` (RFC 7644 §3.7): many operations on `/Users` and `/Groups` in one request, each
//! applied on its own (a bulk request is not one transaction), in order, with `bulkId`
//! references to resources created earlier in the same request.

use std::collections::HashMap;

use axum::extract::State;
use rollcall_scim::bulk::{
    BulkMethod, BulkOperation, parse_bulk_request, resolve_path, resolve_references,
};
use rollcall_scim::schema::BULK_RESPONSE;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::{ApiError, error_body};
use crate::response::{ScimBody, ScimJson};
use crate::service::etag;
use crate::service::groups::Groups;
use crate::service::users::Users;

/// The most operations one bulk request may carry (advertised as `bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;

pub async fn bulk(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let request = parse_bulk_request(&body)?;
    if request.operations.len() > MAX_OPERATIONS {
        return Err(ApiError::PayloadTooLarge(format!(
            "the bulk request has {} operations; maxOperations is {MAX_OPERATIONS}",
            request.operations.len()
        )));
    }

    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    let mut created = HashMap::new();
    let mut errors = 0;
    let mut results = Vec::with_capacity(request.operations.len());
    for operation in request.operations {
        if request.fail_on_errors.is_some_and(|limit| errors >= limit) {
            break;
        }
        let result = match run(&users, &operation, &mut created).await {
            Ok(result) => result,
            Err(err) => {
                errors += 1;
                failed(&operation, err)
            }
        };
        results.push(result);
    }
    Ok(ScimJson::ok(json!({
        "schemas": [BULK_RESPONSE],
        "Operations": results,
    })))
}

/// Runs one operation and describes its result (RFC 7644 §3.7.3).
async fn run(
    users: &Users<'_>,
    operation: &BulkOperation,
    created: &mut HashMap<String, String>,
) -> Result<Value, ApiError> {
    let path = resolve_path(&operation.path, created).map_err(unknown_reference)?;
    let mut data = operation.data.clone().unwrap_or(Value::Null);
    resolve_references(&mut data, created).map_err(unknown_reference)?;
    let version = operation.version.as_deref();

    let (kind, target) = resource_path(&path)?;
    let groups = Groups {
        state: users.state,
        ctx: users.ctx,
    };
    let (location, version, status) = match (kind, operation.method, target) {
        (Kind::Users, BulkMethod::Post, None) => {
            let record = users.create(&data).await?;
            (users.location(&record.id), Some(record.version), "201")
        }
        (Kind::Users, BulkMethod::Put, Some(id)) => {
            let record = users.replace(id, &data, version).await?;
            (users.location(&record.id), Some(record.version), "200")
        }
        (Kind::Users, BulkMethod::Patch, Some(id)) => {
            let record = users.patch(id, &data, version).await?;
            (users.location(&record.id), Some(record.version), "200")
        }
        (Kind::Users, BulkMethod::Delete, Some(id)) => {
            users.delete(id, version).await?;
            (format!("{}/Users/{id}", users.ctx.base_url), None, "204")
        }
        (Kind::Groups, BulkMethod::Post, None) => {
            let record = groups.create(&data).await?;
            (groups.meta(&record).location, Some(record.version), "201")
        }
        (Kind::Groups, BulkMethod::Put, Some(id)) => {
            let record = groups.replace(id, &data, version, false).await?;
            (groups.meta(&record).location, Some(record.version), "200")
        }
        (Kind::Groups, BulkMethod::Patch, Some(id)) => {
            let record = groups.patch(id, &data, version, false).await?;
            (groups.meta(&record).location, Some(record.version), "200")
        }
        (Kind::Groups, BulkMethod::Delete, Some(id)) => {
            groups.delete(id, version).await?;
            (format!("{}/Groups/{id}", users.ctx.base_url), None, "204")
        }
        (_, method, _) => {
            return Err(ApiError::MethodNotAllowed(format!(
                "{} is not allowed on {path}",
                method.as_str()
            )));
        }
    };
    if let (Some(bulk_id), "201") = (&operation.bulk_id, status) {
        let id = location.rsplit('/').next().unwrap_or_default().to_owned();
        created.insert(bulk_id.clone(), id);
    }
    let mut result = describe(operation, status);
    result["location"] = json!(location);
    if let Some(version) = version {
        result["version"] = json!(etag(version));
    }
    Ok(result)
}

/// The resource types a bulk operation can reach.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Users,
    Groups,
}

/// `/Users` or `/Groups` gives no id, `/Users/{id}` an id; any other path is unknown.
fn resource_path(path: &str) -> Result<(Kind, Option<&str>), ApiError> {
    let trimmed = path.trim_end_matches('/');
    let (kind, rest) = if let Some(rest) = trimmed.strip_prefix("/Users") {
        (Kind::Users, rest)
    } else if let Some(rest) = trimmed.strip_prefix("/Groups") {
        (Kind::Groups, rest)
    } else {
        return Err(no_endpoint(path));
    };
    match rest {
        "" => Ok((kind, None)),
        _ => match rest.strip_prefix('/') {
            Some(id) if !id.is_empty() && !id.contains('/') => Ok((kind, Some(id))),
            _ => Err(no_endpoint(path)),
        },
    }
}

fn no_endpoint(path: &str) -> ApiError {
    ApiError::NotFound(format!("no such endpoint {path:?} in a bulk request"))
}

fn unknown_reference(name: String) -> ApiError {
    ApiError::Scim(rollcall_scim::Error::invalid_value(
        "bulkId",
        format!("bulkId:{name} names no resource created earlier in this request"),
    ))
}

fn describe(operation: &BulkOperation, status: &str) -> Value {
    let mut result = json!({"method": operation.method.as_str(), "status": status});
    if let Some(bulk_id) = &operation.bulk_id {
        result["bulkId"] = json!(bulk_id);
    }
    result
}

fn failed(operation: &BulkOperation, err: ApiError) -> Value {
    let (status, scim_type, detail) = err.describe();
    let mut result = describe(operation, status.as_str());
    result["response"] = error_body(status, scim_type, detail);
    result
}
