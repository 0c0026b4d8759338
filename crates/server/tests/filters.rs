//! Filters over HTTP (RFC 7644 §3.4.2.2): the full grammar answered from the database, and the
//! filters the RFC says to refuse.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body};
use serde_json::json;

fn encode(filter: &str) -> String {
    filter
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn the_full_grammar_selects_the_right_users() {
    let app = TestApp::new().await;
    let tenant = app
        .tenant_with("acme", rollcall_scim::user::UsernameFormat::Any)
        .await;
    let users = [
        json!({"userName": "ada", "title": "Engineer", "active": true,
               "emails": [{"type": "work", "value": "ada@example.com", "primary": true}]}),
        json!({"userName": "bob", "title": "Sales", "active": false,
               "emails": [{"type": "home", "value": "bob@example.org"}]}),
        json!({"userName": "cyd", "userType": "Contractor",
               "emails": [{"type": "work", "value": "cyd@example.org"}]}),
    ];
    for user in users {
        app.create_user(&tenant, user).await;
    }

    let cases = [
        (r#"userName eq "ADA""#, vec!["ada"]),
        (r#"title pr and not (active eq false)"#, vec!["ada"]),
        (
            r#"emails[type eq "work" and value ew "example.org"]"#,
            vec!["cyd"],
        ),
        (
            r#"emails co "example.org" or userName sw "a""#,
            vec!["ada", "bob", "cyd"],
        ),
        (r#"active ne true"#, vec!["bob", "cyd"]),
        (
            r#"userType eq "Contractor" or title eq "sales""#,
            vec!["bob", "cyd"],
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName gt "b""#,
            vec!["bob", "cyd"],
        ),
        (
            r#"meta.created ge "2026-01-01T00:00:00Z""#,
            vec!["ada", "bob", "cyd"],
        ),
        (r#"emails.primary eq "True""#, vec!["ada"]),
        // Microsoft Entra ID's form for matching on the work email.
        (
            r#"emails[type eq "work"].value eq "ADA@example.com""#,
            vec!["ada"],
        ),
    ];
    for (filter, expected) in cases {
        let reply = app
            .scim(
                &tenant,
                Method::GET,
                &format!("/Users?filter={}", encode(filter)),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{filter}: {}", reply.body);
        let names: Vec<&str> = reply.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "{filter}");
        assert_eq!(reply.body["totalResults"], expected.len(), "{filter}");
    }
}

#[tokio::test]
async fn filters_the_rfc_forbids_are_invalid_filter_errors() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let cases = [
        (
            r#"active gt true"#,
            "gt cannot compare booleans at position 10 of the filter",
        ),
        (
            r#"active ge "a""#,
            "ge cannot order active, which is a boolean at position 0 of the filter",
        ),
        (
            r#"userName eq "a" and x509Certificates.value lt "b""#,
            "lt cannot order x509Certificates.value, which is binary at position 20 of the filter",
        ),
        (
            r#"userName[value eq "x"]"#,
            "userName is not complex, so it takes no value filter at position 0 of the filter",
        ),
    ];
    for (filter, detail) in cases {
        let reply = app
            .scim(
                &tenant,
                Method::GET,
                &format!("/Users?filter={}", encode(filter)),
                None,
            )
            .await;
        assert_eq!(
            reply.body,
            error_body(400, Some("invalidFilter"), detail),
            "{filter}"
        );
    }
}

#[tokio::test]
async fn a_user_name_is_stored_without_surrounding_spaces() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "  pad@acme.com "})),
        )
        .await;
    assert_eq!(reply.body["userName"], "pad@acme.com");
    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "pad@acme.com"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
}
