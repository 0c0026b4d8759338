//! The per-workspace request log: what each authenticated request was and how it was answered,
//! with secrets redacted.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, patch, start_time};
use rollcall_server::operator;
use rollcall_store::RequestLogEntry;
use serde_json::{Value, json};

/// An entry as the log should hold it; latency is not compared.
fn entry(
    tenant: &common::Tenant,
    method: &str,
    route: &str,
    resource_id: Option<&str>,
    status: u16,
    error: Option<(&str, &str)>,
    body: Option<Value>,
) -> RequestLogEntry {
    let (id, _) = rollcall_server::secret::parse_token(&tenant.token).unwrap();
    RequestLogEntry {
        workspace_id: tenant.workspace.id.clone(),
        at: start_time(),
        method: method.to_owned(),
        route: format!("/integrations/scim/{{workspace}}{route}"),
        resource_id: resource_id.map(str::to_owned),
        status,
        scim_type: error.map(|(t, _)| t.to_owned()).filter(|t| !t.is_empty()),
        detail: error.map(|(_, d)| d.to_owned()),
        latency_ms: 0,
        token_id: id.to_string(),
        user_agent: Some("Okta SCIM Client 1.0".to_owned()),
        body: body.map(|b| b.to_string()),
    }
}

#[tokio::test]
async fn each_authenticated_request_is_logged_with_its_outcome_and_no_secret() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let base = tenant.base();
    let agent = [("user-agent", "Okta SCIM Client 1.0")];
    let send = |method: Method, path: &str, body: Option<Value>| {
        let uri = format!("{base}{path}");
        let token = tenant.token.clone();
        let app = &app;
        async move { app.send(method, &uri, Some(&token), body, &agent).await }
    };

    let created = send(
        Method::POST,
        "/Users",
        Some(json!({"userName": "ann@example.com", "password": "Sup3r-Secret-pw"})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let new_password = patch(json!([{"op": "replace", "path": "password", "value": "An0ther-pw"}]));
    let patched = send(Method::PATCH, &format!("/Users/{id}"), Some(new_password)).await;
    assert_eq!(patched.status, StatusCode::OK);
    let duplicate = send(
        Method::POST,
        "/Users",
        Some(json!({"userName": "ANN@example.com"})),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let filtered = send(Method::GET, "/Users?filter=userName%20xx%20%22a%22", None).await;
    assert_eq!(filtered.status, StatusCode::BAD_REQUEST);
    let garbled = app
        .send_raw(
            Method::POST,
            &format!("{base}/Users"),
            Some(&tenant.token),
            b"{\"password\": \"half".to_vec(),
            &agent,
        )
        .await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST);
    // Not logged: a bad token, another workspace's token, and another workspace's requests.
    let refused = app
        .send(
            Method::GET,
            &format!("{base}/Users"),
            Some("rcs_nope"),
            None,
            &agent,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let foreign = app
        .send(
            Method::GET,
            &format!("{base}/Users"),
            Some(&other.token),
            None,
            &agent,
        )
        .await;
    assert_eq!(foreign.status, StatusCode::UNAUTHORIZED);
    app.scim(&other, Method::GET, "/Users", None).await;

    app.request_log.flush().await;
    let logged = operator::list_request_log(app.store.as_ref(), &tenant.workspace.id, 100, false)
        .await
        .unwrap();
    let logged: Vec<RequestLogEntry> = logged
        .into_iter()
        .map(|e| RequestLogEntry { latency_ms: 0, ..e })
        .collect();
    let filter_detail = filtered.body["detail"].as_str().unwrap();
    let garbled_detail = garbled.body["detail"].as_str().unwrap();
    let expected = [
        entry(
            &tenant,
            "POST",
            "/Users",
            None,
            400,
            Some(("invalidSyntax", garbled_detail)),
            None,
        ),
        entry(
            &tenant,
            "GET",
            "/Users",
            None,
            400,
            Some(("invalidFilter", filter_detail)),
            None,
        ),
        entry(
            &tenant,
            "POST",
            "/Users",
            None,
            409,
            Some(("uniqueness", "userName is already taken in this workspace")),
            Some(json!({"userName": "ANN@example.com"})),
        ),
        entry(
            &tenant,
            "PATCH",
            "/Users/{id}",
            Some(&id),
            200,
            None,
            Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "password", "value": "[redacted]"}],
            })),
        ),
        entry(
            &tenant,
            "POST",
            "/Users",
            None,
            201,
            None,
            Some(json!({"userName": "ann@example.com", "password": "[redacted]"})),
        ),
    ];
    let mut garbled_entry = expected[0].clone();
    garbled_entry.body = Some("[18 bytes, not JSON; not kept]".to_owned());
    assert_eq!(logged[0], garbled_entry);
    assert_eq!(logged[1..], expected[1..]);

    // The failing requests, for "why did my user not appear?".
    let failed = operator::list_request_log(app.store.as_ref(), &tenant.workspace.id, 100, true)
        .await
        .unwrap();
    let statuses: Vec<u16> = failed.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [400, 400, 409]);

    // Nothing secret anywhere in the log.
    let text = format!("{logged:?}");
    for secret in [
        "Sup3r-Secret-pw",
        "An0ther-pw",
        "half",
        tenant.token.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }
}
