//! `POST /.search` (RFC 7644 §3.4.3) and `/Bulk` (§3.7), with whole response bodies.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body, redact};
use serde_json::{Value, json};

#[tokio::test]
async fn search_takes_the_query_in_the_body_on_users_and_at_the_root() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let ada = app
        .create_user(
            &tenant,
            json!({"userName": "ada@acme.com", "displayName": "Ada"}),
        )
        .await;
    app.create_user(&tenant, json!({"userName": "bob@acme.com"}))
        .await;

    let request = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["displayName"],
        "filter": "userName sw \"ADA\"",
        "startIndex": 1,
        "count": 10
    });
    let expected = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 1,
        "startIndex": 1,
        "itemsPerPage": 1,
        "Resources": [{
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "{ada}",
            "userName": "ada@acme.com",
            "displayName": "Ada"
        }]
    });
    for path in ["/Users/.search", "/.search"] {
        let reply = app
            .scim(&tenant, Method::POST, path, Some(request.clone()))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(redact(&reply.body, &ada, "{ada}"), expected, "{path}");
    }

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/.search",
            Some(json!({"filter": "userName eq"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["scimType"], "invalidFilter");
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/.search",
            Some(json!({"schemas": ["urn:x"]})),
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidSyntax"),
            "schemas must be [\"urn:ietf:params:scim:api:messages:2.0:SearchRequest\"]"
        )
    );
}

fn bulk(operations: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": operations
    })
}

#[tokio::test]
async fn bulk_runs_each_operation_in_order_and_resolves_bulk_ids() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let base_url = tenant.base_url();

    let request = bulk(json!([
        {"method": "POST", "path": "/Users", "bulkId": "ada", "data": {"userName": "ada@acme.com"}},
        {"method": "PATCH", "path": "/Users/bulkId:ada", "version": "W/\"1\"", "data": {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "title", "value": "Countess"}]
        }},
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "ADA@acme.com"}},
        {"method": "PUT", "path": "/Users/bulkId:nobody", "data": {"userName": "x@acme.com"}},
        {"method": "POST", "path": "/Users", "bulkId": "bob", "data": {"userName": "bob@acme.com"}},
        {"method": "DELETE", "path": "/Users/bulkId:bob"},
        {"method": "DELETE", "path": "/Roles/1"},
        {"method": "POST", "path": "/Groups", "bulkId": "team", "data": {
            "displayName": "Team", "members": [{"value": "bulkId:ada"}]
        }}
    ]));
    let reply = app
        .scim(&tenant, Method::POST, "/Bulk", Some(request))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let ops = reply.body["Operations"].as_array().unwrap();
    let ada = ops[0]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let bob = ops[4]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let team = ops[7]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let body = redact(&redact(&reply.body, &ada, "{ada}"), &bob, "{bob}");
    let body = redact(&body, &team, "{team}");
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],
            "Operations": [
                {"method": "POST", "status": "201", "bulkId": "ada",
                 "location": format!("{base_url}/Users/{{ada}}"), "version": "W/\"1\""},
                {"method": "PATCH", "status": "200",
                 "location": format!("{base_url}/Users/{{ada}}"), "version": "W/\"2\""},
                {"method": "POST", "status": "409", "bulkId": "dup",
                 "response": error_body(409, Some("uniqueness"), "userName is already taken in this workspace")},
                {"method": "PUT", "status": "400",
                 "response": error_body(400, Some("invalidValue"),
                    "bulkId: bulkId:nobody names no resource created earlier in this request")},
                {"method": "POST", "status": "201", "bulkId": "bob",
                 "location": format!("{base_url}/Users/{{bob}}"), "version": "W/\"1\""},
                {"method": "DELETE", "status": "204", "location": format!("{base_url}/Users/{{bob}}")},
                {"method": "DELETE", "status": "404",
                 "response": error_body(404, None, "no such endpoint \"/Roles/1\" in a bulk request")},
                {"method": "POST", "status": "201", "bulkId": "team",
                 "location": format!("{base_url}/Groups/{{team}}"), "version": "W/\"1\""}
            ]
        })
    );
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Users/{ada}"), None)
        .await;
    assert_eq!(reply.body["title"], "Countess");
    assert_eq!(reply.body["groups"][0]["value"], json!(team));
    assert_eq!(app.user_count(&tenant).await, 1);
}

#[tokio::test]
async fn bulk_stops_after_fail_on_errors_and_enforces_its_limits() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let mut request = bulk(json!([
        {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "not-an-email"}},
        {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"userName": "b@acme.com"}}
    ]));
    request["failOnErrors"] = json!(1);
    let reply = app
        .scim(&tenant, Method::POST, "/Bulk", Some(request))
        .await;
    assert_eq!(reply.body["Operations"].as_array().unwrap().len(), 1);
    assert_eq!(reply.body["Operations"][0]["status"], "400");
    assert_eq!(app.user_count(&tenant).await, 0);

    let too_many: Vec<Value> = (0..1001)
        .map(|n| json!({"method": "DELETE", "path": format!("/Users/{n}")}))
        .collect();
    let reply = app
        .scim(&tenant, Method::POST, "/Bulk", Some(bulk(json!(too_many))))
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.body,
        error_body(
            413,
            None,
            "the bulk request has 1001 operations; maxOperations is 1000"
        )
    );

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Bulk",
            Some(bulk(
                json!([{"method": "POST", "path": "/Users", "data": {}}]),
            )),
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidSyntax"),
            "Operations[0] (POST) needs a \"bulkId\""
        )
    );
}
