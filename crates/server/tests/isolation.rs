//! A workspace's token never reaches another workspace's users: not by id, not by filter, not
//! by PUT, PATCH or DELETE, and not on the other workspace's URL.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body};
use serde_json::json;

#[tokio::test]
async fn tokens_never_see_another_workspaces_users() {
    let app = TestApp::new().await;
    let a = app.tenant("a").await;
    let b = app.tenant("b").await;
    let b_user = app
        .create_user(
            &b,
            json!({"userName": "secret@b.com", "externalId": "b-ext"}),
        )
        .await;
    app.create_user(&a, json!({"userName": "mine@a.com"})).await;

    // By id: 404 for every verb, with the same answer as for an id that exists nowhere.
    let path = format!("/Users/{b_user}");
    let not_found = error_body(
        404,
        None,
        &format!("no user with id \"{b_user}\" in this workspace"),
    );
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    for (method, body) in [
        (Method::GET, None),
        (Method::PUT, Some(json!({"userName": "stolen@a.com"}))),
        (Method::PATCH, Some(patch)),
        (Method::DELETE, None),
    ] {
        let reply = app.scim(&a, method.clone(), &path, body).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(reply.body, not_found, "{method}");
    }

    // By filter: nothing of b's matches.
    for filter in [
        "userName%20eq%20%22secret%40b.com%22",
        "externalId%20eq%20%22b-ext%22",
        &format!("id%20eq%20%22{b_user}%22"),
        "userName%20co%20%22secret%22",
    ] {
        let reply = app
            .scim(&a, Method::GET, &format!("/Users?filter={filter}"), None)
            .await;
        assert_eq!(reply.body["totalResults"], 0, "{filter}");
    }
    assert_eq!(app.user_count(&a).await, 1);

    // a's token on b's URL: 401, exactly as an unknown token.
    let reply = app
        .send(
            Method::GET,
            &format!("{}/Users/{b_user}", b.base()),
            Some(&a.token),
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.body,
        error_body(
            401,
            None,
            "a valid bearer token for this workspace is required"
        )
    );

    // b's user is untouched.
    let reply = app.scim(&b, Method::GET, &path, None).await;
    assert_eq!(reply.body["userName"], "secret@b.com");
    assert_eq!(reply.body["active"], serde_json::Value::Null);
    assert_eq!(reply.body["meta"]["version"], "W/\"1\"");
}

#[tokio::test]
async fn revoked_expired_and_malformed_tokens_get_the_same_401() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let uri = format!("{}/Users", tenant.base());
    let store = app.store.as_ref();
    let now = common::start_time();

    let expiring = rollcall_server::operator::create_token(
        store,
        &tenant.workspace.id,
        None,
        Some(chrono::Duration::hours(1)),
        now,
    )
    .await
    .unwrap();
    let reply = app
        .send(Method::GET, &uri, Some(expiring.token.expose()), None, &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    app.clock.advance(chrono::Duration::hours(2));

    let revoked =
        rollcall_server::operator::create_token(store, &tenant.workspace.id, None, None, now)
            .await
            .unwrap();
    rollcall_server::operator::revoke_token(store, &revoked.id, now)
        .await
        .unwrap();

    let unknown = format!("rcs_{}_{}", "0".repeat(16), "0".repeat(64));
    let expected = error_body(
        401,
        None,
        "a valid bearer token for this workspace is required",
    );
    for token in [
        Some(expiring.token.expose()),
        Some(revoked.token.expose()),
        Some(unknown.as_str()),
        Some("garbage"),
        None,
    ] {
        let reply = app.send(Method::GET, &uri, token, None, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
        assert_eq!(reply.body, expected);
    }
    let reply = app
        .send(
            Method::GET,
            &uri,
            None,
            None,
            &[("authorization", "Basic dXNlcjpwYXNz")],
        )
        .await;
    assert_eq!(reply.body, expected);

    // The first token still works.
    let reply = app.scim(&tenant, Method::GET, "/Users", None).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_noisy_workspace_is_rate_limited_without_slowing_another() {
    let app = TestApp::with_rate(10, 3).await;
    let noisy = app.tenant("noisy").await;
    let quiet = app.tenant("quiet").await;
    for _ in 0..3 {
        let reply = app.scim(&noisy, Method::GET, "/Users", None).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let reply = app.scim(&noisy, Method::GET, "/Users", None).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(
        reply.body,
        error_body(
            429,
            None,
            "this workspace sent more requests than its rate allows; retry after 1 s (Retry-After)"
        )
    );
    let reply = app.scim(&quiet, Method::GET, "/Users", None).await;
    assert_eq!(reply.status, StatusCode::OK);

    // Bad tokens do not use up the workspace's allowance; time refills it.
    app.clock.advance(chrono::Duration::seconds(1));
    let uri = format!("{}/Users", noisy.base());
    for _ in 0..5 {
        let reply = app.send(Method::GET, &uri, Some("bad"), None, &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = app.scim(&noisy, Method::GET, "/Users", None).await;
    assert_eq!(reply.status, StatusCode::OK);
}
