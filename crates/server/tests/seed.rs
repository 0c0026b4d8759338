//! The promises of the vendor page rollcall started from, each checked on the wire: the seed's
//! four attributes, roles, deactivation, deletion, and the response details IdPs rely on.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body, redact};
use rollcall_scim::user::{Role, UsernameFormat};
use rollcall_server::operator;
use rollcall_store::ResourceId;
use serde_json::json;

#[tokio::test]
async fn fills_email_display_name_and_role_when_the_idp_sends_none() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;

    // Entra's create body: no email, no role, displayName present.
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "externalId": "b8a1",
                "userName": "grace@contoso.com",
                "active": true,
                "emails": [
                    {"primary": false, "type": "home", "value": "g@home.example"},
                    {"primary": true, "type": "work", "value": "grace.hopper@contoso.com"}
                ],
                "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"}
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        redact(&reply.body, &id, "{id}"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "{id}",
            "externalId": "b8a1",
            "userName": "grace@contoso.com",
            "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
            "displayName": "Grace Hopper",
            "active": true,
            "email": "grace.hopper@contoso.com",
            "role": "Member",
            "emails": [
                {"primary": false, "type": "home", "value": "g@home.example"},
                {"primary": true, "type": "work", "value": "grace.hopper@contoso.com"}
            ],
            "meta": {
                "resourceType": "User",
                "created": "2026-01-02T03:04:05.678Z",
                "lastModified": "2026-01-02T03:04:05.678Z",
                "location": format!("{}/Users/{{id}}", tenant.base_url()),
                "version": "W/\"1\""
            }
        })
    );

    // Only userName: every seed attribute falls back to it or to the workspace default.
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "min@contoso.com"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["email"], "min@contoso.com");
    assert_eq!(reply.body["displayName"], "min@contoso.com");
    assert_eq!(reply.body["role"], "Member");

    // The email mirrors the primary address when emails change.
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "gh@contoso.com"}]
    });
    let reply = app
        .scim(&tenant, Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["email"], "gh@contoso.com");
}

#[tokio::test]
async fn role_is_canonical_owner_is_refused_and_others_list_the_allowed_values() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;

    let user = |role: &str| json!({"userName": "r@acme.com", "role": role});
    let reply = app
        .scim(&tenant, Method::POST, "/Users", Some(user("aDmIn")))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["role"], "Admin");
    let id = reply.body["id"].as_str().unwrap().to_owned();

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "o@acme.com", "role": "Owner"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            "role: Owner cannot be assigned through SCIM; the workspace's operator names the Owner"
        )
    );

    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "role", "value": "Superuser"}]
    });
    let reply = app
        .scim(&tenant, Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            "role: \"Superuser\" is not one of the allowed values: Admin, Member, Observer"
        )
    );
    assert_eq!(app.user_count(&tenant).await, 1);
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(reply.body["role"], "Admin");
    assert_eq!(reply.body["meta"]["version"], "W/\"1\"");
}

#[tokio::test]
async fn scim_never_changes_an_owner_but_applies_the_rest_of_the_update() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app
        .create_user(
            &tenant,
            json!({"userName": "boss@acme.com", "displayName": "Boss"}),
        )
        .await;
    operator::set_user_role(
        app.store.as_ref(),
        &tenant.workspace.id,
        &ResourceId::new(id.clone()),
        Role::Owner,
        common::start_time(),
    )
    .await
    .unwrap();

    let reply = app
        .scim(
            &tenant,
            Method::PUT,
            &format!("/Users/{id}"),
            Some(
                json!({"userName": "boss@acme.com", "displayName": "The Boss", "role": "Observer"}),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["role"], "Owner");
    assert_eq!(reply.body["displayName"], "The Boss");
}

#[tokio::test]
async fn user_name_must_be_an_email_unless_the_workspace_says_any() {
    let app = TestApp::new().await;
    let strict = app.tenant("strict").await;
    let relaxed = app.tenant_with("relaxed", UsernameFormat::Any).await;

    let reply = app
        .scim(
            &strict,
            Method::POST,
            "/Users",
            Some(json!({"userName": "jdoe"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            "userName: \"jdoe\" is not an email address; this workspace uses email addresses as userName"
        )
    );
    let reply = app
        .scim(
            &strict,
            Method::POST,
            "/Users",
            Some(json!({"displayName": "x"})),
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(400, Some("invalidValue"), "userName: is required")
    );
    assert_eq!(app.user_count(&strict).await, 0);

    let reply = app
        .scim(
            &relaxed,
            Method::POST,
            "/Users",
            Some(json!({"userName": "jdoe"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test]
async fn the_same_user_name_may_exist_in_two_workspaces() {
    let app = TestApp::new().await;
    let a = app.tenant("a").await;
    let b = app.tenant("b").await;
    app.create_user(&a, json!({"userName": "same@x.com"})).await;
    app.create_user(&b, json!({"userName": "SAME@x.com"})).await;
    assert_eq!(app.user_count(&a).await, 1);
    assert_eq!(app.user_count(&b).await, 1);
}

#[tokio::test]
async fn deactivation_keeps_the_user_and_delete_removes_it() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app
        .create_user(
            &tenant,
            json!({"userName": "leaver@acme.com", "active": true}),
        )
        .await;
    let path = format!("/Users/{id}");

    let put = json!({"userName": "leaver@acme.com", "active": false, "password": "s3cret!"});
    let reply = app.scim(&tenant, Method::PUT, &path, Some(put)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["active"], false);
    assert!(reply.body.get("password").is_none());
    assert_eq!(app.user_count(&tenant).await, 1);

    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": true}]
    });
    let reply = app.scim(&tenant, Method::PATCH, &path, Some(patch)).await;
    assert_eq!(reply.body["active"], true);

    let reply = app.scim(&tenant, Method::DELETE, &path, None).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.body, serde_json::Value::Null);
    let reply = app.scim(&tenant, Method::GET, &path, None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let reply = app.scim(&tenant, Method::DELETE, &path, None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.body,
        error_body(
            404,
            None,
            &format!("no user with id \"{id}\" in this workspace")
        )
    );
}

#[tokio::test]
async fn a_write_that_changes_nothing_keeps_the_version() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app
        .create_user(
            &tenant,
            json!({"userName": "same@acme.com", "active": true}),
        )
        .await;
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": true}}]
    });
    let reply = app
        .scim(&tenant, Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["meta"]["version"], "W/\"1\"");
}

#[tokio::test]
async fn if_match_and_if_none_match_follow_the_version() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app
        .create_user(&tenant, json!({"userName": "e@acme.com"}))
        .await;
    let uri = format!("{}/Users/{id}", tenant.base());

    let reply = app
        .send(
            Method::GET,
            &uri,
            Some(&tenant.token),
            None,
            &[("if-none-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_MODIFIED);

    let body = json!({"userName": "e@acme.com", "title": "Engineer"});
    let reply = app
        .send(
            Method::PUT,
            &uri,
            Some(&tenant.token),
            Some(body.clone()),
            &[("if-match", "W/\"7\"")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        reply.body,
        error_body(
            412,
            None,
            "the user is at version W/\"1\", not the one If-Match names"
        )
    );
    let reply = app
        .send(
            Method::PUT,
            &uri,
            Some(&tenant.token),
            Some(body),
            &[("if-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["title"], "Engineer");
}

#[tokio::test]
async fn a_workspace_with_scim_disabled_answers_403() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    operator::disable_scim(
        app.store.as_ref(),
        &tenant.workspace.id,
        common::start_time(),
    )
    .await
    .unwrap();
    let reply = app.scim(&tenant, Method::GET, "/Users", None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.body,
        error_body(
            403,
            None,
            "SCIM provisioning is disabled for this workspace; ask the service's support to enable it"
        )
    );
}

#[tokio::test]
async fn every_error_is_a_scim_error_and_writes_nothing() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let base = tenant.base();
    let token = Some(tenant.token.as_str());

    let reply = app
        .send(Method::GET, &format!("{base}/Nope"), token, None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body, error_body(404, None, "no such endpoint"));

    let reply = app
        .send(Method::DELETE, &format!("{base}/Users"), token, None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        reply.body,
        error_body(405, None, "DELETE is not allowed on this endpoint")
    );

    let reply = app
        .send_raw(
            Method::POST,
            &format!("{base}/Users"),
            token,
            b"{\"userName\":".to_vec(),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidSyntax"),
            "the request body is not valid JSON: EOF while parsing a value at line 1 column 12"
        )
    );

    let huge = format!(
        "{{\"userName\":\"a@b.co\",\"title\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let reply = app
        .send_raw(
            Method::POST,
            &format!("{base}/Users"),
            token,
            huge.into_bytes(),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.body,
        error_body(413, None, "the request body is larger than 1048576 bytes")
    );

    // Neither backend keeps text with a NUL character the same way, so none is accepted.
    let reply = app
        .send(
            Method::POST,
            &format!("{base}/Users"),
            token,
            Some(json!({"userName": "t@acme.com", "emails": [{"value": "t\u{0}@acme.com"}]})),
            &[],
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidSyntax"),
            "the request body holds a NUL character (\\u0000) at /emails/0/value; rollcall \
             stores no text with NUL characters"
        )
    );

    let reply = app
        .send(
            Method::GET,
            &format!("{base}/Users?filter=userName%20equals%20%22a%22"),
            token,
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["scimType"], "invalidFilter");
    assert_eq!(reply.body["status"], "400");
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .ends_with("at position 9 of the filter")
    );

    let reply = app
        .send(
            Method::GET,
            &format!("{base}/Users?startIndex=first"),
            token,
            None,
            &[],
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            "startIndex: must be an integer, not \"first\""
        )
    );

    let reply = app
        .send(
            Method::POST,
            &format!("{base}/Users"),
            token,
            Some(json!({"userName": "t@acme.com", "active": "maybe"})),
            &[],
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            "active: must be true or false, not \"maybe\""
        )
    );

    assert_eq!(app.user_count(&tenant).await, 0);
}

#[tokio::test]
async fn a_failed_patch_changes_nothing_even_when_earlier_operations_succeeded() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app
        .create_user(
            &tenant,
            json!({"userName": "p@acme.com", "title": "Before"}),
        )
        .await;
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "title", "value": "After"},
            {"op": "replace", "path": "noSuchAttribute", "value": "x"}
        ]
    });
    let reply = app
        .scim(&tenant, Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidPath"),
            "invalid path \"noSuchAttribute\": the User resource has no attribute \"noSuchAttribute\""
        )
    );
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Users/{id}"), None)
        .await;
    assert_eq!(reply.body["title"], "Before");
}

#[tokio::test]
async fn attributes_and_excluded_attributes_shape_the_response() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app
        .create_user(
            &tenant,
            json!({"userName": "a@acme.com", "name": {"givenName": "A", "familyName": "B"}}),
        )
        .await;
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            &format!("/Users/{id}?attributes=name.givenName"),
            None,
        )
        .await;
    assert_eq!(
        redact(&reply.body, &id, "{id}"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "{id}",
            "userName": "a@acme.com",
            "name": {"givenName": "A"}
        })
    );
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Users?excludedAttributes=meta,name,emails,email,role",
            None,
        )
        .await;
    assert_eq!(
        redact(&reply.body["Resources"][0], &id, "{id}"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "{id}",
            "userName": "a@acme.com",
            "displayName": "A B"
        })
    );
}

#[tokio::test]
async fn paging_follows_start_index_and_count_in_creation_order() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    for n in 0..5 {
        app.create_user(&tenant, json!({"userName": format!("u{n}@acme.com")}))
            .await;
    }
    let reply = app
        .scim(&tenant, Method::GET, "/Users?startIndex=2&count=2", None)
        .await;
    assert_eq!(reply.body["totalResults"], 5);
    assert_eq!(reply.body["startIndex"], 2);
    assert_eq!(reply.body["itemsPerPage"], 2);
    let names: Vec<&str> = reply.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["u1@acme.com", "u2@acme.com"]);

    // A filter the indexes cannot answer is evaluated in memory, with the same paging.
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Users?filter=userName%20sw%20%22u%22&startIndex=4",
            None,
        )
        .await;
    assert_eq!(reply.body["totalResults"], 5);
    assert_eq!(reply.body["itemsPerPage"], 2);
    assert_eq!(reply.body["Resources"][0]["userName"], "u3@acme.com");
}

#[tokio::test]
async fn a_base_url_pasted_with_a_trailing_slash_still_works() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let token = Some(tenant.token.as_str());
    let body = json!({"userName": "slash@acme.com"});
    let reply = app
        .send(
            Method::POST,
            &format!("{}//Users", tenant.base()),
            token,
            Some(body),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let reply = app
        .send(
            Method::GET,
            &format!(
                "{}/Users/?filter=userName%20eq%20%22slash%40acme.com%22",
                tenant.base()
            ),
            token,
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["totalResults"], 1);
}

#[tokio::test]
async fn derived_email_and_display_name_follow_a_patch_but_sent_ones_stay() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let patch = |operations: serde_json::Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});

    // Entra renames a user that has no emails: email and displayName follow userName.
    let bare = app
        .create_user(&tenant, json!({"userName": "a@contoso.com"}))
        .await;
    let body = patch(json!([{"op": "Replace", "path": "userName", "value": "b@contoso.com"}]));
    let reply = app
        .scim(
            &tenant,
            Method::PATCH,
            &format!("/Users/{bare}"),
            Some(body),
        )
        .await;
    assert_eq!(
        (
            &reply.body["userName"],
            &reply.body["email"],
            &reply.body["displayName"]
        ),
        (
            &json!("b@contoso.com"),
            &json!("b@contoso.com"),
            &json!("b@contoso.com")
        )
    );

    // A displayName built from name follows the name; removing the work email falls back.
    let named = app
        .create_user(
            &tenant,
            json!({
                "userName": "c@contoso.com",
                "name": {"givenName": "C", "familyName": "D"},
                "emails": [{"type": "work", "value": "cd@contoso.com", "primary": true}]
            }),
        )
        .await;
    let body = patch(json!([
        {"op": "Replace", "path": "name.familyName", "value": "E"},
        {"op": "Remove", "path": "emails[type eq \"work\"].value"}
    ]));
    let reply = app
        .scim(
            &tenant,
            Method::PATCH,
            &format!("/Users/{named}"),
            Some(body),
        )
        .await;
    assert_eq!(reply.body["displayName"], "C E");
    assert_eq!(reply.body.get("emails"), None);
    assert_eq!(reply.body["email"], "c@contoso.com");

    // A displayName the IdP chose stays when the name changes.
    let chosen = app
        .create_user(
            &tenant,
            json!({"userName": "f@contoso.com", "displayName": "Boss", "name": {"givenName": "F"}}),
        )
        .await;
    let body = patch(json!([{"op": "Replace", "path": "name.givenName", "value": "G"}]));
    let reply = app
        .scim(
            &tenant,
            Method::PATCH,
            &format!("/Users/{chosen}"),
            Some(body),
        )
        .await;
    assert_eq!(reply.body["displayName"], "Boss");
}

#[tokio::test]
async fn attributes_rollcall_does_not_keep_are_refused_not_dropped() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let cases = [
        (
            "/Users",
            json!({"userName": "u@acme.com", "shoeSize": 44}),
            "shoeSize is not an attribute of User; /Schemas lists the attributes rollcall keeps",
        ),
        (
            "/Users",
            json!({"userName": "u@acme.com", "name": {"givenName": "U", "nick": "x"}}),
            "name.nick is not an attribute of name; /Schemas lists the attributes rollcall keeps",
        ),
        (
            "/Users",
            json!({"userName": "u@acme.com", "urn:example:params:scim:schemas:extension:hr:2.0:User": {"level": 3}}),
            "urn:example:params:scim:schemas:extension:hr:2.0:User is not a schema of the User \
             resource; /Schemas lists the ones it has",
        ),
        (
            "/Groups",
            json!({"displayName": "G", "owner": "x"}),
            "owner is not an attribute of Group; /Schemas lists the attributes rollcall keeps",
        ),
    ];
    for (path, body, detail) in cases {
        let reply = app.scim(&tenant, Method::POST, path, Some(body)).await;
        assert_eq!(
            reply.body,
            error_body(400, Some("invalidSyntax"), detail),
            "{path}"
        );
    }
    assert_eq!(app.user_count(&tenant).await, 0);
}

#[tokio::test]
async fn requests_beyond_the_limits_are_too_many_and_change_nothing() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let id = app
        .create_user(&tenant, json!({"userName": "l@acme.com"}))
        .await;

    let operations: Vec<serde_json::Value> = (0..1001)
        .map(|_| json!({"op": "replace", "path": "title", "value": "x"}))
        .collect();
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations
    });
    let reply = app
        .scim(&tenant, Method::PATCH, &format!("/Users/{id}"), Some(body))
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("tooMany"),
            "a PATCH may carry 1000 operations; this one has 1001"
        )
    );

    let emails: Vec<serde_json::Value> = (0..1001)
        .map(|n| json!({"value": format!("{n}@acme.com")}))
        .collect();
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "m@acme.com", "emails": emails})),
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("tooMany"),
            "emails may hold 1000 values; this one has 1001"
        )
    );
    assert_eq!(app.user_count(&tenant).await, 1);
}
