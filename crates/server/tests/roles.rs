//! Group-to-role mapping: a user's role is the highest role its mapped groups give, else the
//! role the IdP sent, else the workspace's default, and an Owner stays an Owner.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Tenant, TestApp, patch, start_time};
use rollcall_scim::user::Role;
use rollcall_server::operator::{self, WorkspaceUpdate};
use rollcall_store::ResourceId;
use serde_json::json;

async fn role_of(app: &TestApp, tenant: &Tenant, user: &str) -> (String, String) {
    let reply = app
        .scim(tenant, Method::GET, &format!("/Users/{user}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    (
        reply.body["role"].as_str().unwrap().to_owned(),
        reply.body["meta"]["version"].as_str().unwrap().to_owned(),
    )
}

async fn join(app: &TestApp, tenant: &Tenant, group: &str, user: &str) {
    let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
    let reply = app
        .scim(
            tenant,
            Method::PATCH,
            &format!("/Groups/{group}"),
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn leave(app: &TestApp, tenant: &Tenant, group: &str, user: &str) {
    let body = patch(json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]));
    let reply = app
        .scim(
            tenant,
            Method::PATCH,
            &format!("/Groups/{group}"),
            Some(body),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn map(app: &TestApp, tenant: &Tenant, group: &str, role: Role) {
    operator::set_role_mapping(
        app.store.as_ref(),
        &tenant.workspace.id,
        group,
        role,
        start_time(),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn joining_a_mapped_group_sets_the_role_and_leaving_falls_back() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    map(&app, &tenant, "okta-admins", Role::Admin).await;
    map(&app, &tenant, "Readers", Role::Observer).await;
    let sent = app
        .create_user(
            &tenant,
            json!({"userName": "sent@acme.com", "role": "Observer"}),
        )
        .await;
    let plain = app
        .create_user(&tenant, json!({"userName": "plain@acme.com"}))
        .await;
    let admins = app
        .create_group(&tenant, json!({"displayName": "OKTA-Admins"}))
        .await;
    let readers = app
        .create_group(&tenant, json!({"displayName": "readers"}))
        .await;

    join(&app, &tenant, &admins, &sent).await;
    assert_eq!(
        role_of(&app, &tenant, &sent).await,
        ("Admin".into(), "W/\"2\"".into())
    );

    // A PATCH of another attribute does not turn the mapped role into the IdP's own.
    let body = patch(json!([{"op": "replace", "path": "title", "value": "Lead"}]));
    app.scim(
        &tenant,
        Method::PATCH,
        &format!("/Users/{sent}"),
        Some(body),
    )
    .await;
    leave(&app, &tenant, &admins, &sent).await;
    assert_eq!(role_of(&app, &tenant, &sent).await.0, "Observer");

    // The highest mapped role wins, even over the default; the default comes back after.
    join(&app, &tenant, &readers, &plain).await;
    assert_eq!(role_of(&app, &tenant, &plain).await.0, "Observer");
    join(&app, &tenant, &admins, &plain).await;
    assert_eq!(role_of(&app, &tenant, &plain).await.0, "Admin");
    let reply = app
        .scim(&tenant, Method::DELETE, &format!("/Groups/{admins}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(role_of(&app, &tenant, &plain).await.0, "Observer");
    leave(&app, &tenant, &readers, &plain).await;
    assert_eq!(role_of(&app, &tenant, &plain).await.0, "Member");
}

#[tokio::test]
async fn map_changes_renames_and_default_changes_apply_at_once() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let user = app
        .create_user(&tenant, json!({"userName": "u@acme.com"}))
        .await;
    let group = app
        .create_group(
            &tenant,
            json!({"displayName": "Engineering", "members": [{"value": user}]}),
        )
        .await;
    assert_eq!(
        role_of(&app, &tenant, &user).await,
        ("Member".into(), "W/\"1\"".into())
    );

    map(&app, &tenant, "engineering", Role::Admin).await;
    assert_eq!(
        role_of(&app, &tenant, &user).await,
        ("Admin".into(), "W/\"2\"".into())
    );

    // Renaming the group away from the mapped name drops the mapped role.
    let body = patch(json!([{"op": "replace", "value": {"id": group, "displayName": "Eng"}}]));
    app.scim(
        &tenant,
        Method::PATCH,
        &format!("/Groups/{group}"),
        Some(body),
    )
    .await;
    assert_eq!(role_of(&app, &tenant, &user).await.0, "Member");
    map(&app, &tenant, "Eng", Role::Observer).await;
    assert_eq!(role_of(&app, &tenant, &user).await.0, "Observer");
    operator::remove_role_mapping(
        app.store.as_ref(),
        &tenant.workspace.id,
        "ENG",
        start_time(),
    )
    .await
    .unwrap();
    assert_eq!(role_of(&app, &tenant, &user).await.0, "Member");

    // A new default reaches users whose role came from the default.
    let update = WorkspaceUpdate {
        default_role: Some(Role::Observer),
        ..WorkspaceUpdate::default()
    };
    operator::update_workspace(
        app.store.as_ref(),
        &tenant.workspace.id,
        update,
        start_time(),
    )
    .await
    .unwrap();
    assert_eq!(role_of(&app, &tenant, &user).await.0, "Observer");

    let listed = operator::list_role_mappings(app.store.as_ref(), &tenant.workspace.id)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].group.as_str(), listed[0].role),
        ("engineering", Role::Admin)
    );
}

#[tokio::test]
async fn an_owner_keeps_the_owner_role_whatever_its_groups_map_to() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    map(&app, &tenant, "Everyone", Role::Observer).await;
    let owner = app
        .create_user(&tenant, json!({"userName": "o@acme.com"}))
        .await;
    operator::set_user_role(
        app.store.as_ref(),
        &tenant.workspace.id,
        &ResourceId::new(owner.clone()),
        Role::Owner,
        start_time(),
    )
    .await
    .unwrap();
    app.create_group(
        &tenant,
        json!({"displayName": "Everyone", "members": [{"value": owner}]}),
    )
    .await;
    assert_eq!(role_of(&app, &tenant, &owner).await.0, "Owner");

    // The operator demotes the Owner: the map applies again.
    operator::set_user_role(
        app.store.as_ref(),
        &tenant.workspace.id,
        &ResourceId::new(owner.clone()),
        Role::Admin,
        start_time(),
    )
    .await
    .unwrap();
    assert_eq!(role_of(&app, &tenant, &owner).await.0, "Observer");
}
