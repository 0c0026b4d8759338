//! `POST /Bulk` (RFC 7644 §3.7): many operations in one request, each applied on its own (a
//! bulk request is not one transaction), in order, with `bulkId` references to resources
//! created earlier in the same request.

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

    let target = users_path(&path)?;
    let (record, status) = match (operation.method, target) {
        (BulkMethod::Post, None) => (users.create(&data).await?, "201"),
        (BulkMethod::Put, Some(id)) => (users.replace(id, &data, version).await?, "200"),
        (BulkMethod::Patch, Some(id)) => (users.patch(id, &data, version).await?, "200"),
        (BulkMethod::Delete, Some(id)) => {
            users.delete(id, version).await?;
            let mut result = describe(operation, "204");
            result["location"] = json!(format!("{}/Users/{id}", users.ctx.base_url));
            return Ok(result);
        }
        (method, _) => {
            return Err(ApiError::MethodNotAllowed(format!(
                "{} is not allowed on {path}",
                method.as_str()
            )));
        }
    };
    if let Some(bulk_id) = &operation.bulk_id {
        created.insert(bulk_id.clone(), record.id.to_string());
    }
    let meta = users.meta(&record);
    let mut result = describe(operation, status);
    result["location"] = json!(meta.location);
    result["version"] = json!(meta.version);
    Ok(result)
}

/// `/Users` gives `None`, `/Users/{id}` gives the id; any other path is an unknown endpoint.
fn users_path(path: &str) -> Result<Option<&str>, ApiError> {
    let path = path.trim_end_matches('/');
    match path.strip_prefix("/Users") {
        Some("") => Ok(None),
        Some(rest) => match rest.strip_prefix('/') {
            Some(id) if !id.is_empty() && !id.contains('/') => Ok(Some(id)),
            _ => Err(no_endpoint(path)),
        },
        None => Err(no_endpoint(path)),
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
