//! Secrets never reach the database file in clear: neither the tokens rollcall issues nor the
//! passwords IdPs send, in users or in the request log.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Backend, TestApp};
use serde_json::json;

#[tokio::test]
async fn no_token_or_password_is_stored_in_clear() {
    let app = TestApp::new().await;
    let mut tokens = Vec::new();
    for name in ["a", "b", "c"] {
        let tenant = app.tenant(name).await;
        let password = format!("Pa55-{name}-{}", "z".repeat(12));
        let reply = app
            .scim(
                &tenant,
                Method::POST,
                "/Users",
                Some(json!({"userName": format!("{name}@x.com"), "password": password})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        assert!(!reply.body.to_string().contains(&password));
        tokens.push(tenant.token.clone());
        tokens.push(password);
    }

    // The request log has kept these requests (and their bodies, redacted).
    app.request_log.flush().await;
    let text = stored_text(&app);
    assert!(
        text.contains("[redacted]"),
        "the request log was not written"
    );
    for secret in &tokens {
        assert!(
            !text.contains(secret.as_str()),
            "found a secret in the database"
        );
        // The secret half of a token on its own must not be there either.
        if let Some((_, secret_part)) = secret.rsplit_once('_') {
            assert!(
                !text.contains(secret_part),
                "found a token secret in the database"
            );
        }
    }
}

/// Everything the database holds, as text: on SQLite every page of the main file and the
/// write-ahead log, on PostgreSQL every row of every table.
fn stored_text(app: &TestApp) -> String {
    match common::backend() {
        Backend::Sqlite => {
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let path = format!("{}{suffix}", app.db_path().display());
                if let Ok(content) = std::fs::read(&path) {
                    bytes.extend(content);
                }
            }
            assert!(bytes.len() > 4096, "the database was not written");
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres => {
            let text = rollcall_store::testing::dump_postgres(&app.database_url).unwrap();
            assert!(text.contains("a@x.com"), "the database was not written");
            text
        }
    }
}
