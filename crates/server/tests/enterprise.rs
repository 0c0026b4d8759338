//! The Enterprise User extension (RFC 7643 §4.3), including how `manager` is resolved.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body, redact};
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[tokio::test]
async fn enterprise_attributes_round_trip_and_the_manager_is_resolved() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let boss = app
        .create_user(
            &tenant,
            json!({"userName": "boss@acme.com", "displayName": "The Boss"}),
        )
        .await;

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
                "userName": "worker@acme.com",
                ENTERPRISE: {
                    "employeeNumber": "701984",
                    "costCenter": "4130",
                    "organization": "Universal Studios",
                    "division": "Theme Park",
                    "department": "Tour Operations",
                    "manager": {"value": boss, "displayName": "ignored: read-only"}
                }
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    let body = redact(&redact(&reply.body, &id, "{id}"), &boss, "{boss}");
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "id": "{id}",
            "userName": "worker@acme.com",
            "displayName": "worker@acme.com",
            "email": "worker@acme.com",
            "role": "Member",
            ENTERPRISE: {
                "employeeNumber": "701984",
                "costCenter": "4130",
                "organization": "Universal Studios",
                "division": "Theme Park",
                "department": "Tour Operations",
                "manager": {
                    "value": "{boss}",
                    "$ref": format!("{}/Users/{{boss}}", tenant.base_url()),
                    "displayName": "The Boss"
                }
            },
            "meta": {
                "resourceType": "User",
                "created": "2026-01-02T03:04:05.678Z",
                "lastModified": "2026-01-02T03:04:05.678Z",
                "location": format!("{}/Users/{{id}}", tenant.base_url()),
                "version": "W/\"1\""
            }
        })
    );

    // A URN-qualified PATCH path reaches an extension attribute.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Rides"}]
    });
    let reply = app
        .scim(&tenant, Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(reply.body[ENTERPRISE]["department"], "Rides");
    assert_eq!(reply.body[ENTERPRISE]["employeeNumber"], "701984");
}

#[tokio::test]
async fn a_manager_of_another_workspace_is_refused_and_an_unknown_one_is_kept() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let stranger = app
        .create_user(&other, json!({"userName": "s@other.com"}))
        .await;

    let with_manager = |manager: &str| json!({"userName": "w@acme.com", ENTERPRISE: {"manager": {"value": manager}}});
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(with_manager(&stranger)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            &format!("{ENTERPRISE}:manager.value: {stranger} is not a user of this workspace")
        )
    );
    assert_eq!(app.user_count(&tenant).await, 0);

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(with_manager("not-provisioned-yet")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        reply.body[ENTERPRISE],
        json!({"manager": {"value": "not-provisioned-yet"}})
    );
}

#[tokio::test]
async fn entra_manager_and_app_role_forms_are_understood() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let boss = app
        .create_user(&tenant, json!({"userName": "boss@acme.com"}))
        .await;
    let other_boss = app
        .create_user(&tenant, json!({"userName": "boss2@acme.com"}))
        .await;
    let id = app
        .create_user(&tenant, json!({"userName": "w@acme.com"}))
        .await;
    let path = format!("/Users/{id}");
    let manager_path = format!("{ENTERPRISE}:manager");
    let patch = |operations: serde_json::Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});

    // Entra sets the manager with the bare id, then replaces it with a list of one.
    let body = patch(json!([{"op": "Add", "path": manager_path, "value": boss}]));
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body[ENTERPRISE]["manager"]["value"], json!(boss));
    let body =
        patch(json!([{"op": "Replace", "path": manager_path, "value": [{"value": other_boss}]}]));
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(
        reply.body[ENTERPRISE]["manager"]["value"],
        json!(other_boss)
    );

    // Removal by a value filter on the single-valued manager.
    let body = patch(
        json!([{"op": "Remove", "path": format!("{manager_path}[value eq \"{other_boss}\"]")}]),
    );
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body.get(ENTERPRISE), None);

    // App-role assignments: a primary entry by value path, and a value that is JSON text.
    let body = patch(
        json!([{"op": "replace", "path": "roles[primary eq \"True\"].value", "value": "Admin"}]),
    );
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(reply.body["role"], "Admin");
    assert_eq!(
        reply.body["roles"],
        json!([{"value": "Admin", "primary": true}])
    );
    let body = patch(json!([{"op": "Replace", "path": "roles", "value": [{
        "primary": "True",
        "type": "WindowsAzureActiveDirectoryRole",
        "value": "{\"id\":\"8c3c2a5d\",\"value\":\"Observer\",\"displayName\":\"Observer\"}"
    }]}]));
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(reply.body["role"], "Observer");
}
