//! The operator API (`/api/v1`): operator keys only, the CLI's shapes, and the feed, request
//! log and webhooks of a workspace over HTTP.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, start_time};
use rollcall_server::operator;
use serde_json::{Value, json};

const REFUSED: &str = "an operator API key is required: Authorization: Bearer rok_... (from `rollcall apikey create`)";

async fn api_key(app: &TestApp) -> String {
    operator::create_api_key(app.store.as_ref(), Some("support".to_owned()), start_time())
        .await
        .unwrap()
        .key
        .expose()
        .to_owned()
}

async fn call(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> common::Reply {
    app.send(method, &format!("/api/v1{path}"), Some(key), body, &[])
        .await
}

#[tokio::test]
async fn only_a_valid_operator_key_opens_the_api_and_it_opens_no_scim_route() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let key = api_key(&app).await;
    let revoked = operator::create_api_key(app.store.as_ref(), None, start_time())
        .await
        .unwrap();
    operator::revoke_api_key(app.store.as_ref(), &revoked.record.id, start_time())
        .await
        .unwrap();

    // No key, a SCIM token, a revoked key, a key with a wrong secret: the same 401.
    let mut wrong = key.clone();
    wrong.replace_range(key.len() - 4.., "0000");
    for presented in [
        None,
        Some(tenant.token.as_str()),
        Some(revoked.key.expose()),
        Some(&wrong),
    ] {
        let reply = app
            .send(Method::GET, "/api/v1/workspaces", presented, None, &[])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert_eq!(reply.body, json!({"error": REFUSED}));
    }

    // The operator key is no SCIM token.
    let scim = app
        .send(
            Method::GET,
            &format!("{}/Users", tenant.base()),
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(scim.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        scim.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );

    let listed = call(&app, &key, Method::GET, "/workspaces", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(
        listed.body["workspaces"][0]["id"],
        tenant.workspace.id.as_str()
    );
    // Its use is recorded.
    let keys = operator::list_api_keys(app.store.as_ref()).await.unwrap();
    let used: Vec<bool> = keys
        .iter()
        .map(|k| key.starts_with(&k.id.replace("key_", "rok_")))
        .collect();
    let uses: Vec<bool> = keys
        .iter()
        .map(|k| k.last_used_at == Some(start_time()))
        .collect();
    assert_eq!(uses, used);
}

#[tokio::test]
async fn a_workspace_is_set_up_provisioned_and_watched_through_the_api() {
    let app = TestApp::new().await;
    let key = api_key(&app).await;

    let created = call(
        &app,
        &key,
        Method::POST,
        "/workspaces",
        Some(json!({"name": "Globex", "plan": "enterprise"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body,
        json!({
            "id": id,
            "name": "Globex",
            "plan": "enterprise",
            "invitation_only": false,
            "scim_enabled": false,
            "username_format": "email",
            "default_role": "Member",
            "role_discovery": false,
            "base_path": format!("/integrations/scim/{id}"),
            "created_at": "2026-01-02T03:04:05.678Z",
        })
    );

    // The seed's rule holds here too.
    let refused = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/scim/enable"),
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["error"]
            .as_str()
            .unwrap()
            .contains("SCIM needs an invitation-only workspace"),
        "{}",
        refused.body
    );
    let updated = call(
        &app,
        &key,
        Method::PATCH,
        &format!("/workspaces/{id}"),
        Some(json!({"invitation_only": true})),
    )
    .await;
    assert_eq!(updated.body["invitation_only"], true);
    let enabled = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/scim/enable"),
        None,
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK);
    let token = enabled.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        enabled.body,
        json!({
            "workspace_id": id,
            "base_path": format!("/integrations/scim/{id}"),
            "token_id": enabled.body["token_id"],
            "token": token,
        })
    );

    // A webhook, added and listed.
    let hook = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/webhooks"),
        Some(json!({"url": "http://127.0.0.1:9/hook"})),
    )
    .await;
    assert_eq!(hook.status, StatusCode::CREATED);
    let keys: Vec<&String> = hook.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "secret"]);

    // The IdP provisions a user with the token.
    let user = app
        .send(
            Method::POST,
            &format!("/integrations/scim/{id}/Users"),
            Some(&token),
            Some(json!({"userName": "hank@globex.com", "password": "Hunter-22"})),
            &[],
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED);
    let user_id = user.body["id"].as_str().unwrap();

    let feed = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/events?limit=10"),
        None,
    )
    .await;
    let event = &feed.body["events"][0];
    assert_eq!(
        feed.body,
        json!({
            "events": [{
                "id": event["id"],
                "cursor": event["cursor"],
                "type": "user.created",
                "occurred_at": "2026-01-02T03:04:05.678Z",
                "resource_id": user_id,
                "data": event["data"],
            }],
            "next_cursor": event["cursor"],
        })
    );
    assert_eq!(event["data"]["userName"], "hank@globex.com");
    let after = call(
        &app,
        &key,
        Method::GET,
        &format!(
            "/workspaces/{id}/events?after={}",
            event["cursor"].as_str().unwrap()
        ),
        None,
    )
    .await;
    assert_eq!(
        after.body,
        json!({"events": [], "next_cursor": event["cursor"]})
    );

    app.request_log.flush().await;
    let log = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/log"),
        None,
    )
    .await;
    let entry = &log.body["entries"][0];
    assert_eq!(entry["status"], 201);
    assert_eq!(entry["route"], "/integrations/scim/{workspace}/Users");
    assert_eq!(
        entry["body"],
        r#"{"userName":"hank@globex.com","password":"[redacted]"}"#
    );
    assert_eq!(entry["token_id"], enabled.body["token_id"]);

    let tokens = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/tokens"),
        None,
    )
    .await;
    assert_eq!(
        tokens.body["tokens"][0]["last_used_at"],
        "2026-01-02T03:04:05.678Z"
    );
    assert!(!tokens.body.to_string().contains(&token));

    // Revoked through its workspace, the token stops working.
    let token_id = enabled.body["token_id"].as_str().unwrap();
    let revoked = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/tokens/{token_id}/revoke"),
        None,
    )
    .await;
    assert_eq!(revoked.body, json!({"id": token_id, "revoked": true}));
    let after_revoke = app
        .send(
            Method::GET,
            &format!("/integrations/scim/{id}/Users"),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(after_revoke.status, StatusCode::UNAUTHORIZED);

    let hook_id = hook.body["id"].as_str().unwrap();
    let removed = call(
        &app,
        &key,
        Method::DELETE,
        &format!("/workspaces/{id}/webhooks/{hook_id}"),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let hooks = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/webhooks"),
        None,
    )
    .await;
    assert_eq!(hooks.body, json!({"webhooks": []}));
}

#[tokio::test]
async fn mistakes_are_answered_with_what_is_wrong() {
    let app = TestApp::new().await;
    let key = api_key(&app).await;
    let other = app.tenant("other").await;
    let mine = app.tenant("mine").await;

    let cases = [
        (
            Method::GET,
            "/workspaces/nope".to_owned(),
            None,
            StatusCode::NOT_FOUND,
            "there is no workspace nope",
        ),
        (
            Method::GET,
            "/workspaces/nope/events".to_owned(),
            None,
            StatusCode::NOT_FOUND,
            "there is no workspace nope; `rollcall workspace create NAME` creates one",
        ),
        (
            Method::POST,
            "/workspaces".to_owned(),
            Some(json!({"name": "X", "plan": "gold"})),
            StatusCode::BAD_REQUEST,
            "\"gold\" is not a plan; use free, business or enterprise",
        ),
        (
            Method::POST,
            "/workspaces".to_owned(),
            Some(json!({"name": "X", "colour": "red"})),
            StatusCode::BAD_REQUEST,
            "the request body is not valid: unknown field `colour`, expected one of `name`, \
             `plan`, `invitation_only`, `username_format`, `default_role`, `role_discovery`",
        ),
        (
            Method::GET,
            format!("/workspaces/{}/events?after=x", mine.workspace.id),
            None,
            StatusCode::BAD_REQUEST,
            "\"x\" is not a cursor of this feed; use a cursor an earlier read returned",
        ),
        (
            Method::GET,
            "/nothing".to_owned(),
            None,
            StatusCode::NOT_FOUND,
            "no such endpoint",
        ),
    ];
    for (method, path, body, status, message) in cases {
        let reply = call(&app, &key, method, &path, body).await;
        assert_eq!(
            (reply.status, &reply.body),
            (status, &json!({"error": message})),
            "{path}"
        );
    }

    // A token of one workspace cannot be revoked through another.
    let (token_id, _) = rollcall_server::secret::parse_token(&other.token).unwrap();
    let reply = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{}/tokens/{token_id}/revoke", mine.workspace.id),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let still = app.scim(&other, Method::GET, "/Users", None).await;
    assert_eq!(still.status, StatusCode::OK);
}

#[tokio::test]
async fn a_rotated_token_works_beside_the_new_one_until_the_overlap_ends() {
    let app = TestApp::new().await;
    let key = api_key(&app).await;
    let tenant = app.tenant("acme").await;
    let id = tenant.workspace.id.as_str();
    let (old_id, _) = rollcall_server::secret::parse_token(&tenant.token).unwrap();

    let rotated = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/tokens/{old_id}/rotate"),
        Some(json!({"overlap": "1h"})),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.body);
    let new_token = rotated.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        rotated.body,
        json!({
            "id": rotated.body["id"],
            "workspace_id": id,
            "token": new_token,
            "replaces": old_id.as_str(),
            "replaced_expires_at": "2026-01-02T04:04:05.678Z",
        })
    );
    let users = format!("{}/Users", tenant.base());
    let status = |token: String| {
        let (app, users) = (&app, &users);
        async move { app.send(Method::GET, users, Some(&token), None, &[]).await }
    };
    assert_eq!(status(tenant.token.clone()).await.status, StatusCode::OK);
    assert_eq!(status(new_token.clone()).await.status, StatusCode::OK);

    // After the overlap the old token gets the same 401 as a token that never existed.
    app.clock.advance(chrono::Duration::minutes(61));
    let old = status(tenant.token.clone()).await;
    let unknown = status(format!("rcs_{}_{}", "1".repeat(16), "2".repeat(64))).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    assert_eq!((old.status, old.body), (unknown.status, unknown.body));
    assert_eq!(status(new_token).await.status, StatusCode::OK);

    // An expired or revoked token cannot be rotated.
    let again = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/tokens/{old_id}/rotate"),
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.body);
}

/// The routes `api.rs` declares, read from its source: `(path, methods)`.
fn declared_routes() -> Vec<(String, Vec<String>)> {
    let source = include_str!("../src/api.rs");
    let mut routes = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(".route(") {
        rest = &rest[start + ".route(".len()..];
        let open = rest.find('"').unwrap();
        let close = open + 1 + rest[open + 1..].find('"').unwrap();
        let path = rest[open + 1..close].to_owned();
        // The handlers up to the closing parenthesis of this `.route(`.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let handlers = &rest[..end];
        let methods = ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .filter(|m| handlers.contains(&format!("{m}(")) || handlers.contains(&format!(".{m}(")))
            .map(str::to_owned)
            .collect();
        routes.push((path, methods));
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_that_exist() {
    let app = TestApp::new().await;
    let key = api_key(&app).await;
    let reply = app
        .send(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.body;
    assert_eq!(document["openapi"], "3.0.3");
    let documented: std::collections::BTreeMap<String, Vec<String>> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| {
            let mut methods: Vec<String> = item
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .cloned()
                .collect();
            methods.sort();
            (path.clone(), methods)
        })
        .collect();
    let declared: std::collections::BTreeMap<String, Vec<String>> = declared_routes()
        .into_iter()
        .filter(|(path, _)| path != "/openapi.json")
        .map(|(path, mut methods)| {
            methods.sort();
            (path, methods)
        })
        .collect();
    assert_eq!(declared.len(), 17, "{declared:?}");
    assert_eq!(documented, declared);

    // And the router agrees: each documented method is served (never 405 or "no such
    // endpoint"), each other method is 405.
    for (path, methods) in &documented {
        let concrete = path
            .replace("{workspace}", "nope")
            .replace("{token}", "tok_0000000000000000")
            .replace("{webhook}", "wh_0000000000000000");
        for method in ["get", "post", "put", "patch", "delete"] {
            let verb: Method = method.to_uppercase().parse().unwrap();
            let reply = call(&app, &key, verb, &concrete, Some(json!({}))).await;
            let served = reply.status != StatusCode::METHOD_NOT_ALLOWED
                && reply.body != json!({"error": "no such endpoint"});
            assert_eq!(
                served,
                methods.iter().any(|m| m == method),
                "{method} {path}: {} {}",
                reply.status,
                reply.body
            );
        }
    }
}

#[tokio::test]
async fn support_reads_users_and_groups_and_manages_the_role_map() {
    let app = TestApp::new().await;
    let key = api_key(&app).await;
    let tenant = app.tenant("acme").await;
    let id = tenant.workspace.id.as_str();
    let ann = app
        .create_user(
            &tenant,
            json!({"userName": "ann@acme.com", "externalId": "e-1"}),
        )
        .await;
    let bob = app
        .create_user(
            &tenant,
            json!({"userName": "bob@acme.com", "active": false}),
        )
        .await;
    let group = app
        .create_group(
            &tenant,
            json!({"displayName": "Admins", "members": [{"value": ann}]}),
        )
        .await;

    let users = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/users?count=1&startIndex=2"),
        None,
    )
    .await;
    assert_eq!(
        users.body,
        json!({
            "users": [{
                "id": bob,
                "userName": "bob@acme.com",
                "displayName": "bob@acme.com",
                "externalId": null,
                "active": false,
                "role": "Member",
                "created_at": "2026-01-02T03:04:05.678Z",
                "updated_at": "2026-01-02T03:04:05.678Z",
            }],
            "total": 2,
            "start_index": 2,
        })
    );
    let groups = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/groups"),
        None,
    )
    .await;
    assert_eq!(groups.body["groups"][0]["id"], group.as_str());
    assert_eq!(groups.body["groups"][0]["members"], 1);

    // Mapping the group makes its member an Admin at once; removing it takes that back.
    let set = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/rolemap"),
        Some(json!({"group": "admins", "role": "Admin"})),
    )
    .await;
    assert_eq!(set.body, json!({"group": "admins", "role": "Admin"}));
    let users = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/users"),
        None,
    )
    .await;
    assert_eq!(users.body["users"][0]["role"], "Admin");
    let map = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/rolemap"),
        None,
    )
    .await;
    assert_eq!(
        map.body,
        json!({"mappings": [{"group": "admins", "role": "Admin"}]})
    );
    let owner = call(
        &app,
        &key,
        Method::POST,
        &format!("/workspaces/{id}/rolemap"),
        Some(json!({"group": "admins", "role": "Owner"})),
    )
    .await;
    assert_eq!(owner.status, StatusCode::BAD_REQUEST);
    let removed = call(
        &app,
        &key,
        Method::DELETE,
        &format!("/workspaces/{id}/rolemap/ADMINS"),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let users = call(
        &app,
        &key,
        Method::GET,
        &format!("/workspaces/{id}/users"),
        None,
    )
    .await;
    assert_eq!(users.body["users"][0]["role"], "Member");
}
