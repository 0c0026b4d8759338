//! Sorting (RFC 7644 §3.4.2.3), index paging (§3.4.2.4) and cursor paging (RFC 9865).

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Tenant, TestApp, error_body};
use serde_json::{Value, json};

fn names(body: &Value, attribute: &str) -> Vec<String> {
    body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[attribute].as_str().unwrap().to_owned())
        .collect()
}

async fn seeded() -> (TestApp, Tenant) {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let users = [
        json!({"userName": "carol@acme.com", "title": "b-title",
               "emails": [{"value": "z@acme.com"}, {"value": "c@acme.com", "primary": true}]}),
        json!({"userName": "Alice@acme.com", "emails": [{"value": "a@acme.com"}]}),
        json!({"userName": "bob@acme.com", "title": "A-title"}),
        json!({"userName": "dave@acme.com", "title": "c-title"}),
        json!({"userName": "erin@acme.com"}),
    ];
    for user in users {
        app.create_user(&tenant, user).await;
        app.clock.advance(chrono::Duration::seconds(1));
    }
    (app, tenant)
}

#[tokio::test]
async fn sort_by_orders_case_insensitively_with_missing_values_last() {
    let (app, tenant) = seeded().await;
    let cases = [
        (
            "sortBy=userName",
            vec![
                "Alice@acme.com",
                "bob@acme.com",
                "carol@acme.com",
                "dave@acme.com",
                "erin@acme.com",
            ],
        ),
        (
            "sortBy=userName&sortOrder=descending",
            vec![
                "erin@acme.com",
                "dave@acme.com",
                "carol@acme.com",
                "bob@acme.com",
                "Alice@acme.com",
            ],
        ),
        (
            "sortBy=title",
            vec![
                "bob@acme.com",
                "carol@acme.com",
                "dave@acme.com",
                "Alice@acme.com",
                "erin@acme.com",
            ],
        ),
        (
            "sortBy=title&sortOrder=descending",
            vec![
                "Alice@acme.com",
                "erin@acme.com",
                "dave@acme.com",
                "carol@acme.com",
                "bob@acme.com",
            ],
        ),
        (
            "sortBy=emails",
            vec![
                "Alice@acme.com",
                "carol@acme.com",
                "bob@acme.com",
                "dave@acme.com",
                "erin@acme.com",
            ],
        ),
        (
            "sortBy=meta.created&sortOrder=descending",
            vec![
                "erin@acme.com",
                "dave@acme.com",
                "bob@acme.com",
                "Alice@acme.com",
                "carol@acme.com",
            ],
        ),
        (
            "sortBy=title&startIndex=2&count=2",
            vec!["carol@acme.com", "dave@acme.com"],
        ),
    ];
    for (query, expected) in cases {
        let reply = app
            .scim(&tenant, Method::GET, &format!("/Users?{query}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
        assert_eq!(names(&reply.body, "userName"), expected, "{query}");
    }

    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Users?sortBy=title&sortOrder=up",
            None,
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            "sortOrder: \"up\" is neither ascending nor descending"
        )
    );
    let reply = app
        .scim(&tenant, Method::GET, "/Users?sortBy=shoeSize", None)
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidPath"),
            "invalid path \"shoeSize\": the User resource has no such attribute"
        )
    );
}

/// Follows `nextCursor` to the end and returns every page's names.
async fn walk(app: &TestApp, tenant: &Tenant, path: &str, attribute: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let separator = if path.contains('?') { '&' } else { '?' };
        let reply = app
            .scim(
                tenant,
                Method::GET,
                &format!("{path}{separator}count=2&cursor={cursor}"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body.get("startIndex"), None);
        pages.push(names(&reply.body, attribute));
        match reply.body.get("nextCursor").and_then(Value::as_str) {
            Some(next) => cursor = next.to_owned(),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn cursor_paging_visits_every_user_once_in_order() {
    let (app, tenant) = seeded().await;
    let first = app
        .scim(&tenant, Method::GET, "/Users?count=2&cursor=", None)
        .await;
    let next = first.body["nextCursor"].as_str().unwrap().to_owned();
    assert_eq!(
        json!({
            "schemas": first.body["schemas"],
            "totalResults": first.body["totalResults"],
            "itemsPerPage": first.body["itemsPerPage"],
            "names": names(&first.body, "userName"),
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": 5,
            "itemsPerPage": 2,
            "names": ["carol@acme.com", "Alice@acme.com"],
        })
    );
    assert!(!next.is_empty());

    assert_eq!(
        walk(&app, &tenant, "/Users", "userName").await,
        vec![
            vec!["carol@acme.com", "Alice@acme.com"],
            vec!["bob@acme.com", "dave@acme.com"],
            vec!["erin@acme.com"],
        ]
    );
    assert_eq!(
        walk(
            &app,
            &tenant,
            "/Users?sortBy=title&sortOrder=descending",
            "userName"
        )
        .await,
        vec![
            vec!["Alice@acme.com", "erin@acme.com"],
            vec!["dave@acme.com", "carol@acme.com"],
            vec!["bob@acme.com"],
        ]
    );

    // A user created mid-walk after the cursor's position shows up; none is repeated.
    let reply = app
        .scim(&tenant, Method::GET, "/Users?count=4&cursor=", None)
        .await;
    let cursor = reply.body["nextCursor"].as_str().unwrap().to_owned();
    app.create_user(&tenant, json!({"userName": "fred@acme.com"}))
        .await;
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            &format!("/Users?count=4&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        names(&reply.body, "userName"),
        ["erin@acme.com", "fred@acme.com"]
    );
    assert_eq!(reply.body.get("nextCursor"), None);
}

#[tokio::test]
async fn a_foreign_or_mismatched_cursor_is_an_invalid_cursor() {
    let (app, tenant) = seeded().await;
    let reply = app
        .scim(&tenant, Method::GET, "/Users?count=2&cursor=", None)
        .await;
    let cursor = reply.body["nextCursor"].as_str().unwrap().to_owned();

    for query in [
        "cursor=not-ours".to_owned(),
        format!("cursor={cursor}&sortBy=userName"),
    ] {
        let reply = app
            .scim(&tenant, Method::GET, &format!("/Users?{query}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(reply.body["scimType"], "invalidCursor", "{query}");
    }
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            &format!("/Users?cursor={cursor}&startIndex=3"),
            None,
        )
        .await;
    assert_eq!(
        reply.body,
        error_body(
            400,
            Some("invalidValue"),
            "cursor: startIndex and cursor cannot be used together"
        )
    );
}

#[tokio::test]
async fn groups_sort_and_page_by_cursor_too() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    for name in ["delta", "Alpha", "charlie", "Bravo", "echo"] {
        app.create_group(&tenant, json!({"displayName": name}))
            .await;
    }
    assert_eq!(
        walk(&app, &tenant, "/Groups?sortBy=displayName", "displayName").await,
        vec![
            vec!["Alpha", "Bravo"],
            vec!["charlie", "delta"],
            vec!["echo"]
        ]
    );
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            "/Groups?sortBy=displayName&sortOrder=descending&count=2",
            None,
        )
        .await;
    assert_eq!(names(&reply.body, "displayName"), ["echo", "delta"]);
    assert_eq!(reply.body["startIndex"], 1);
}
