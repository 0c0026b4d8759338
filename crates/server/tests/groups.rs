//! Groups (RFC 7643 §4.2): CRUD, every membership shape the big IdPs send, members of other
//! workspaces, the users' `groups` attribute, and concurrent membership changes.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Tenant, TestApp, error_body, patch, redact};
use serde_json::{Value, json};

async fn members(app: &TestApp, tenant: &Tenant, group: &str) -> Vec<String> {
    let reply = app
        .scim(tenant, Method::GET, &format!("/Groups/{group}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut ids: Vec<String> = reply.body["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| (*id).clone()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_group_is_created_read_listed_and_deleted_with_its_members() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let ada = app
        .create_user(
            &tenant,
            json!({"userName": "ada@acme.com", "displayName": "Ada"}),
        )
        .await;
    let base_url = tenant.base_url();

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Groups",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Engineering",
                "externalId": "eng-1",
                "members": [{"value": ada, "display": "whatever the IdP says"}]
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    let expected = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "{id}",
        "externalId": "eng-1",
        "displayName": "Engineering",
        "members": [{
            "value": "{ada}",
            "$ref": format!("{base_url}/Users/{{ada}}"),
            "type": "User"
        }],
        "meta": {
            "resourceType": "Group",
            "created": "2026-01-02T03:04:05.678Z",
            "lastModified": "2026-01-02T03:04:05.678Z",
            "location": format!("{base_url}/Groups/{{id}}"),
            "version": "W/\"1\""
        }
    });
    let redacted = |body: &Value| redact(&redact(body, &id, "{id}"), &ada, "{ada}");
    assert_eq!(redacted(&reply.body), expected);
    assert_eq!(
        reply.header("location"),
        Some(format!("{base_url}/Groups/{id}").as_str())
    );

    let reply = app
        .scim(&tenant, Method::GET, &format!("/Groups/{id}"), None)
        .await;
    assert_eq!(redacted(&reply.body), expected);

    // members.display is returned on request only.
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            &format!("/Groups/{id}?attributes=members.display"),
            None,
        )
        .await;
    assert_eq!(
        redacted(&reply.body),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "{id}",
            "members": [{"display": "Ada"}]
        })
    );

    // The user's groups attribute is computed from the membership.
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Users/{ada}"), None)
        .await;
    assert_eq!(
        redact(&reply.body["groups"], &id, "{id}"),
        json!([{
            "value": "{id}",
            "$ref": format!("{base_url}/Groups/{{id}}"),
            "display": "Engineering",
            "type": "direct"
        }])
    );

    // excludedAttributes=members leaves members out; a filter finds the group by name.
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Groups?filter=displayName%20eq%20%22engineering%22&excludedAttributes=members",
            None,
        )
        .await;
    let mut without_members = expected.clone();
    without_members.as_object_mut().unwrap().remove("members");
    assert_eq!(
        redacted(&reply.body),
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 1,
            "startIndex": 1,
            "itemsPerPage": 1,
            "Resources": [without_members]
        })
    );

    // displayName is unique per workspace, case-insensitively.
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Groups",
            Some(json!({"displayName": "ENGINEERING"})),
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            409,
            Some("uniqueness"),
            "displayName is already taken in this workspace"
        )
    );

    // Deleting the group leaves its user; the user's groups attribute empties.
    let reply = app
        .scim(&tenant, Method::DELETE, &format!("/Groups/{id}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Users/{ada}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body.get("groups"), None);
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Groups/{id}"), None)
        .await;
    assert_eq!(
        reply.body,
        error_body(
            404,
            None,
            &format!("no group with id \"{id}\" in this workspace")
        )
    );
}

#[tokio::test]
async fn every_membership_shape_of_the_big_idps_works() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let mut users = Vec::new();
    for n in 0..4 {
        users.push(
            app.create_user(&tenant, json!({"userName": format!("u{n}@acme.com")}))
                .await,
        );
    }
    let [a, b, c, d] = [&users[0], &users[1], &users[2], &users[3]];
    let group = app
        .create_group(&tenant, json!({"displayName": "Sales", "members": []}))
        .await;
    let path = format!("/Groups/{group}");

    // Okta and Entra: add with a value list.
    let body = patch(
        json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}, {"value": c}]}]),
    );
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["meta"]["version"], "W/\"2\"");
    assert_eq!(members(&app, &tenant, &group).await, sorted(&[a, b, c]));

    // Okta: remove by value filter.
    let body = patch(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]));
    app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(members(&app, &tenant, &group).await, sorted(&[b, c]));

    // Entra: Remove with a value list removes only the listed members.
    let body = patch(json!([{"op": "Remove", "path": "members", "value": [{"value": b}]}]));
    app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(members(&app, &tenant, &group).await, sorted(&[c]));

    // Okta Group Push: a delta in one PATCH, then a full replace, then replace with [].
    let body = patch(json!([
        {"op": "add", "path": "members", "value": [{"value": d}]},
        {"op": "remove", "path": "members", "value": [{"value": c}]}
    ]));
    app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(members(&app, &tenant, &group).await, sorted(&[d]));
    let body =
        patch(json!([{"op": "replace", "path": "members", "value": [{"value": a}, {"value": b}]}]));
    app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(members(&app, &tenant, &group).await, sorted(&[a, b]));
    let body = patch(json!([{"op": "replace", "path": "members", "value": []}]));
    app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(members(&app, &tenant, &group).await, Vec::<String>::new());

    // Okta rename: a path-less replace carrying the read-only id.
    let body =
        patch(json!([{"op": "replace", "value": {"id": group, "displayName": "Sales EMEA"}}]));
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["displayName"], "Sales EMEA");

    // PUT with the full member list (Ping, Okta wizard apps).
    let put = json!({"displayName": "Sales EMEA", "members": [{"value": c}, {"value": d}]});
    let reply = app.scim(&tenant, Method::PUT, &path, Some(put)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(members(&app, &tenant, &group).await, sorted(&[c, d]));

    // Remove without a filter empties the group.
    let body = patch(json!([{"op": "remove", "path": "members"}]));
    app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    assert_eq!(members(&app, &tenant, &group).await, Vec::<String>::new());

    // Deleting a user removes its memberships.
    let body =
        patch(json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]));
    app.scim(&tenant, Method::PATCH, &path, Some(body)).await;
    app.scim(&tenant, Method::DELETE, &format!("/Users/{a}"), None)
        .await;
    assert_eq!(members(&app, &tenant, &group).await, sorted(&[b]));
}

#[tokio::test]
async fn members_of_another_workspace_or_unknown_ids_change_nothing() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let mine = app
        .create_user(&tenant, json!({"userName": "me@acme.com"}))
        .await;
    let theirs = app
        .create_user(&other, json!({"userName": "them@other.com"}))
        .await;
    let group = app
        .create_group(
            &tenant,
            json!({"displayName": "G", "members": [{"value": mine}]}),
        )
        .await;

    for stranger in [theirs.as_str(), "no-such-user"] {
        let body = patch(json!([
            {"op": "replace", "path": "displayName", "value": "Renamed"},
            {"op": "add", "path": "members", "value": [{"value": stranger}]}
        ]));
        let reply = app
            .scim(
                &tenant,
                Method::PATCH,
                &format!("/Groups/{group}"),
                Some(body),
            )
            .await;
        assert_eq!(
            reply.body,
            error_body(
                400,
                Some("invalidValue"),
                &format!("members: \"{stranger}\" is not a user of this workspace")
            )
        );
        let reply = app
            .scim(&tenant, Method::GET, &format!("/Groups/{group}"), None)
            .await;
        assert_eq!(reply.body["displayName"], "G");
        assert_eq!(reply.body["meta"]["version"], "W/\"1\"");
    }

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Groups",
            Some(json!({"displayName": "H", "members": [{"value": theirs}]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = app
        .scim(&tenant, Method::GET, "/Groups?count=0", None)
        .await;
    assert_eq!(reply.body["totalResults"], 1);

    // The other workspace's group is invisible here.
    let their_group = app
        .create_group(&other, json!({"displayName": "Theirs"}))
        .await;
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            &format!("/Groups/{their_group}"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn concurrent_membership_patches_lose_no_member() {
    let app = std::sync::Arc::new(TestApp::new().await);
    let tenant = app.tenant("acme").await;
    let mut users = Vec::new();
    for n in 0..40 {
        users.push(
            app.create_user(&tenant, json!({"userName": format!("c{n}@acme.com")}))
                .await,
        );
    }
    let group = app
        .create_group(&tenant, json!({"displayName": "Crowd"}))
        .await;

    let mut tasks = Vec::new();
    for user in users.clone() {
        let (app, tenant, group) = (app.clone(), tenant.clone(), group.clone());
        tasks.push(tokio::spawn(async move {
            let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
            let reply = app
                .scim(
                    &tenant,
                    Method::PATCH,
                    &format!("/Groups/{group}?excludedAttributes=members"),
                    Some(body),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut expected = users.clone();
    expected.sort();
    assert_eq!(members(&app, &tenant, &group).await, expected);
}
