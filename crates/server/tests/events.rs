//! The event feed: every change emits exactly its events, in the transaction of the change; a
//! failed request or a write that changes nothing emits none.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Tenant, TestApp, patch, start_time};
use rollcall_scim::user::Role;
use rollcall_server::operator;
use serde_json::{Value, json};

/// The events after `after`, as (type, resource id) pairs, and the cursor to read on from.
async fn feed(app: &TestApp, tenant: &Tenant, after: &str) -> (Vec<(String, String)>, String) {
    let events = operator::list_events(app.store.as_ref(), &tenant.workspace.id, Some(after), 1000)
        .await
        .unwrap();
    let next = events
        .last()
        .map_or_else(|| after.to_owned(), |e| e.cursor.to_string());
    let pairs = events
        .into_iter()
        .map(|e| (e.kind, e.resource_id))
        .collect();
    (pairs, next)
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(kind, id)| ((*kind).to_owned(), (*id).to_owned()))
        .collect()
}

#[tokio::test]
async fn every_change_type_emits_exactly_its_event() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;

    let user = app
        .create_user(&tenant, json!({"userName": "u@acme.com", "active": true}))
        .await;
    let (events, cursor) = feed(&app, &tenant, "").await;
    assert_eq!(events, pairs(&[("user.created", &user)]));

    let path = format!("/Users/{user}");
    let steps: Vec<(Value, Vec<(&str, &str)>)> = vec![
        (
            patch(json!([{"op": "replace", "path": "title", "value": "Eng"}])),
            vec![("user.updated", &user)],
        ),
        (
            patch(json!([{"op": "replace", "value": {"active": false}}])),
            vec![("user.deactivated", &user)],
        ),
        (
            patch(json!([{"op": "replace", "value": {"active": true}}])),
            vec![("user.reactivated", &user)],
        ),
        (
            patch(json!([{"op": "replace", "path": "role", "value": "Admin"}])),
            vec![("user.role_changed", &user)],
        ),
        // Nothing changes: no event, and the version stays.
        (
            patch(json!([{"op": "replace", "path": "title", "value": "Eng"}])),
            vec![],
        ),
    ];
    let mut cursor = cursor;
    for (body, expected) in steps {
        let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
        assert_eq!(reply.status, StatusCode::OK);
        let (events, next) = feed(&app, &tenant, &cursor).await;
        assert_eq!(events, pairs(&expected));
        cursor = next;
    }

    // Group life: created with a member, renamed, a member leaves, deleted.
    let other = app
        .create_user(&tenant, json!({"userName": "o@acme.com"}))
        .await;
    let (_, cursor) = feed(&app, &tenant, &cursor).await;
    let group = app
        .create_group(
            &tenant,
            json!({"displayName": "G", "members": [{"value": user}]}),
        )
        .await;
    let (events, cursor) = feed(&app, &tenant, &cursor).await;
    assert_eq!(
        events,
        pairs(&[("group.created", &group), ("group.member_added", &group)])
    );

    let body = patch(json!([
        {"op": "replace", "path": "displayName", "value": "G2"},
        {"op": "add", "path": "members", "value": [{"value": other}]},
        {"op": "remove", "path": format!("members[value eq \"{user}\"]")}
    ]));
    app.scim(
        &tenant,
        Method::PATCH,
        &format!("/Groups/{group}"),
        Some(body),
    )
    .await;
    let (events, cursor) = feed(&app, &tenant, &cursor).await;
    assert_eq!(
        events,
        pairs(&[
            ("group.updated", &group),
            ("group.member_added", &group),
            ("group.member_removed", &group)
        ])
    );

    // A mapped group moves a member's role: the role change is in the feed too.
    operator::set_role_mapping(
        app.store.as_ref(),
        &tenant.workspace.id,
        "G2",
        Role::Observer,
        start_time(),
    )
    .await
    .unwrap();
    let (events, cursor) = feed(&app, &tenant, &cursor).await;
    assert_eq!(events, pairs(&[("user.role_changed", &other)]));

    app.scim(&tenant, Method::DELETE, &format!("/Groups/{group}"), None)
        .await;
    app.scim(&tenant, Method::DELETE, &path, None).await;
    let (events, _) = feed(&app, &tenant, &cursor).await;
    assert_eq!(
        events,
        pairs(&[
            ("group.deleted", &group),
            ("user.role_changed", &other),
            ("user.deleted", &user)
        ])
    );
}

#[tokio::test]
async fn a_failed_request_emits_nothing_and_the_event_carries_the_change() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let user = app
        .create_user(&tenant, json!({"userName": "u@acme.com"}))
        .await;
    let (_, cursor) = feed(&app, &tenant, "").await;

    // Refused: a duplicate, a bad value, an unknown member. Nothing reaches the feed.
    app.scim(
        &tenant,
        Method::POST,
        "/Users",
        Some(json!({"userName": "U@acme.com"})),
    )
    .await;
    let body = patch(json!([
        {"op": "replace", "path": "title", "value": "x"},
        {"op": "replace", "path": "active", "value": "maybe"}
    ]));
    app.scim(
        &tenant,
        Method::PATCH,
        &format!("/Users/{user}"),
        Some(body),
    )
    .await;
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Groups",
            Some(json!({"displayName": "G", "members": [{"value": "nobody"}]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let (events, _) = feed(&app, &tenant, &cursor).await;
    assert_eq!(events, vec![]);

    let events = operator::list_events(app.store.as_ref(), &tenant.workspace.id, None, 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data["userName"], "u@acme.com");
    assert_eq!(events[0].occurred_at, start_time());
    let err = operator::list_events(app.store.as_ref(), &tenant.workspace.id, Some("soon"), 10)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"soon\" is not a cursor of this feed; use a cursor an earlier read returned"
    );
}
