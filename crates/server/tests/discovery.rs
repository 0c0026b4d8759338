//! Discovery documents, compared whole with the committed copies in `tests/snapshots/`, so that
//! any change to what rollcall advertises shows up in review. Run with `UPDATE_SNAPSHOTS=1` to
//! rewrite the copies after a deliberate change.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body, redact};
use serde_json::Value;

/// Compares `actual` with the committed snapshot `name`, or rewrites it on request.
fn assert_snapshot(name: &str, actual: &Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
    let pretty = serde_json::to_string_pretty(actual).unwrap() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, pretty).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_SNAPSHOTS=1", path.display()));
    assert_eq!(pretty, expected, "{name} differs from {}", path.display());
}

#[tokio::test]
async fn discovery_documents_match_the_committed_copies() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let update = rollcall_server::operator::WorkspaceUpdate {
        role_discovery: Some(true),
        ..Default::default()
    };
    rollcall_server::operator::update_workspace(
        app.store.as_ref(),
        &tenant.workspace.id,
        update,
        common::start_time(),
    )
    .await
    .unwrap();
    let workspace = tenant.workspace.id.to_string();

    for (name, path) in [
        ("service_provider_config", "/ServiceProviderConfig"),
        ("resource_types", "/ResourceTypes"),
        ("resource_type_user", "/ResourceTypes/User"),
        ("resource_type_group", "/ResourceTypes/Group"),
        ("roles", "/Roles"),
        ("schemas", "/Schemas"),
        (
            "schema_user",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        ),
        (
            "schema_group",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
        ),
    ] {
        let reply = app.scim(&tenant, Method::GET, path, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), Some("application/scim+json"));
        assert_snapshot(name, &redact(&reply.body, &workspace, "{workspace}"));
    }
}

#[tokio::test]
async fn the_user_schema_describes_the_seed_attributes() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
            None,
        )
        .await;
    let attributes = reply.body["attributes"].as_array().unwrap();
    let find = |name: &str| {
        attributes
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()
            .clone()
    };
    for name in ["userName", "email", "displayName", "role"] {
        assert_eq!(find(name)["required"], true, "{name}");
    }
    assert_eq!(
        find("role")["canonicalValues"],
        serde_json::json!(["Admin", "Member", "Observer"])
    );
    assert_eq!(find("password")["returned"], "never");
}

#[tokio::test]
async fn discovery_refuses_other_methods_filters_and_unknown_names() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    for path in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"] {
        let reply = app
            .scim(&tenant, Method::POST, path, Some(serde_json::json!({})))
            .await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(
            reply.body,
            error_body(405, None, "POST is not allowed on this endpoint")
        );
    }
    let reply = app
        .scim(&tenant, Method::GET, "/Schemas?filter=id%20pr", None)
        .await;
    assert_eq!(
        reply.body,
        error_body(403, None, "discovery endpoints do not take a filter")
    );
    let reply = app
        .scim(&tenant, Method::GET, "/ResourceTypes/License", None)
        .await;
    assert_eq!(
        reply.body,
        error_body(404, None, "no resource type \"License\"")
    );
}

#[tokio::test]
async fn roles_are_published_only_when_the_workspace_says_so() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let reply = app.scim(&tenant, Method::GET, "/ResourceTypes", None).await;
    let names: Vec<&str> = reply.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["User", "Group"]);
    let reply = app.scim(&tenant, Method::GET, "/Roles", None).await;
    assert_eq!(
        reply.body,
        error_body(
            404,
            None,
            &format!(
                "this workspace does not publish its roles; the operator can with `rollcall \
                 workspace update {} --role-discovery true`",
                tenant.workspace.id
            )
        )
    );
}
