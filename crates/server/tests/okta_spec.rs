//! Okta's SCIM 2.0 spec-test sequence, replayed against rollcall with whole response bodies.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body, redact};
use serde_json::json;

/// The create body of Okta's spec test and of an OIN app (with `password` and `groups: []`).
fn okta_user() -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Runscope.Tester@atko.com",
        "name": {"givenName": "Runscope", "familyName": "Tester"},
        "emails": [{"primary": true, "value": "Runscope.Tester@atko.com", "type": "work"}],
        "displayName": "Runscope Tester",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[tokio::test]
async fn okta_spec_sequence() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let base_url = tenant.base_url();

    // An empty directory lists as zero results.
    let reply = app
        .scim(&tenant, Method::GET, "/Users?count=1&startIndex=1", None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        reply.body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 0,
            "startIndex": 1,
            "itemsPerPage": 0,
            "Resources": []
        })
    );

    // Create: 201, the resource without the password, Location and ETag from meta.
    let reply = app
        .scim(&tenant, Method::POST, "/Users", Some(okta_user()))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    let expected_user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "{id}",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "Runscope.Tester@atko.com",
        "name": {"givenName": "Runscope", "familyName": "Tester"},
        "displayName": "Runscope Tester",
        "locale": "en-US",
        "active": true,
        "email": "Runscope.Tester@atko.com",
        "role": "Member",
        "emails": [{"primary": true, "value": "Runscope.Tester@atko.com", "type": "work"}],
        "meta": {
            "resourceType": "User",
            "created": "2026-01-02T03:04:05.678Z",
            "lastModified": "2026-01-02T03:04:05.678Z",
            "location": format!("{base_url}/Users/{{id}}"),
            "version": "W/\"1\""
        }
    });
    assert_eq!(redact(&reply.body, &id, "{id}"), expected_user);
    let location = format!("{base_url}/Users/{id}");
    assert_eq!(reply.header("location"), Some(location.as_str()));
    assert_eq!(reply.header("etag"), Some("W/\"1\""));

    // The list now holds one user, in list form.
    let reply = app
        .scim(&tenant, Method::GET, "/Users?count=1&startIndex=1", None)
        .await;
    assert_eq!(
        redact(&reply.body, &id, "{id}"),
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 1,
            "startIndex": 1,
            "itemsPerPage": 1,
            "Resources": [expected_user.clone()]
        })
    );

    // Get by id.
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(redact(&reply.body, &id, "{id}"), expected_user);
    assert_eq!(reply.header("etag"), Some("W/\"1\""));

    // A filter that matches nobody.
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Users?filter=userName%20eq%20%22nobody%40atko.com%22",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["totalResults"], 0);
    assert_eq!(reply.body["Resources"], json!([]));

    // An unknown id.
    let reply = app
        .scim(&tenant, Method::GET, "/Users/010101010101010", None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        error_body(
            404,
            None,
            "no user with id \"010101010101010\" in this workspace"
        )
    );

    // The same userName again, in another case, is a uniqueness conflict.
    let mut duplicate = okta_user();
    duplicate["userName"] = json!("RUNSCOPE.TESTER@ATKO.COM");
    let reply = app
        .scim(&tenant, Method::POST, "/Users", Some(duplicate))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(
        reply.body,
        error_body(
            409,
            Some("uniqueness"),
            "userName is already taken in this workspace"
        )
    );
    assert_eq!(app.user_count(&tenant).await, 1);

    // The upper-cased userName finds the user: userName is not case-exact.
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Users?filter=userName%20eq%20%22RUNSCOPE.TESTER%40ATKO.COM%22",
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["totalResults"], 1);
    assert_eq!(reply.body["Resources"][0]["id"], json!(id));

    // A bad token gets 401, a SCIM Error and a Bearer challenge.
    let reply = app
        .send(
            Method::GET,
            &format!("{}/Users", tenant.base()),
            Some("not-a-token"),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        reply.body,
        error_body(
            401,
            None,
            "a valid bearer token for this workspace is required"
        )
    );
}

/// Okta deactivates an OIN app's user with a path-less replace, and a wizard app's user with a
/// full PUT of what it read.
#[tokio::test]
async fn okta_deactivates_by_patch_and_by_put() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app.create_user(&tenant, okta_user()).await;
    let path = format!("/Users/{id}");

    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(patch)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["active"], false);
    assert_eq!(reply.body["meta"]["version"], "W/\"2\"");
    assert_eq!(reply.header("etag"), Some("W/\"2\""));

    // Wizard apps GET, flip active, and PUT the whole thing back with id, meta and groups.
    let mut read = app.scim(&tenant, Method::GET, &path, None).await.body;
    assert_eq!(read["active"], false);
    read["active"] = json!(true);
    read["groups"] = json!([]);
    let reply = app
        .scim(&tenant, Method::PUT, &path, Some(read.clone()))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    read["meta"]["version"] = json!("W/\"3\"");
    read.as_object_mut().unwrap().remove("groups");
    assert_eq!(reply.body, read);

    // Deactivated users stay listed.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}]
    });
    app.scim(&tenant, Method::PATCH, &path, Some(patch)).await;
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Users?filter=active%20eq%20false",
            None,
        )
        .await;
    assert_eq!(reply.body["totalResults"], 1);
    assert_eq!(reply.body["Resources"][0]["active"], false);
}
