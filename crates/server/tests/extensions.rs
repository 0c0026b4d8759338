//! A workspace's own User extension: attributes the operator registers, validated on write,
//! round-tripped, filterable, sortable, and described in `/Schemas` and `/ResourceTypes`.

#![allow(clippy::unwrap_used)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Tenant, TestApp, error_body, redact};
use rollcall_scim::schema::{AttributeType, CustomAttribute};
use rollcall_server::operator;
use serde_json::json;

const EXT: &str = "urn:rollcall:params:scim:schemas:extension:workspace:2.0:User";

async fn with_attributes(app: &TestApp) -> Tenant {
    let tenant = app.tenant("acme").await;
    let attributes = [
        ("costCode", AttributeType::String, false, true, vec![]),
        (
            "clearance",
            AttributeType::String,
            false,
            false,
            vec!["Public".to_owned(), "Secret".to_owned()],
        ),
        ("badges", AttributeType::String, true, false, vec![]),
        ("shoeSize", AttributeType::Integer, false, false, vec![]),
    ];
    for (name, kind, multi_valued, required, canonical_values) in attributes {
        let attribute = CustomAttribute {
            name: name.to_owned(),
            kind,
            multi_valued,
            required,
            canonical_values,
        };
        operator::add_custom_attribute(app.store.as_ref(), &tenant.workspace.id, attribute)
            .await
            .unwrap();
    }
    tenant
}

#[tokio::test]
async fn custom_attributes_are_validated_round_tripped_and_described() {
    let app = TestApp::new().await;
    let tenant = with_attributes(&app).await;

    let reply = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({
                "userName": "ada@acme.com",
                EXT: {"costCode": "CC-7", "clearance": "secret", "badges": ["a", "b"], "shoeSize": 38}
            })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        redact(&reply.body, &id, "{id}"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXT],
            "id": "{id}",
            "userName": "ada@acme.com",
            "displayName": "ada@acme.com",
            "email": "ada@acme.com",
            "role": "Member",
            EXT: {"costCode": "CC-7", "clearance": "Secret", "badges": ["a", "b"], "shoeSize": 38},
            "meta": {
                "resourceType": "User",
                "created": "2026-01-02T03:04:05.678Z",
                "lastModified": "2026-01-02T03:04:05.678Z",
                "location": format!("{}/Users/{{id}}", tenant.base_url()),
                "version": "W/\"1\""
            }
        })
    );

    let refused = [
        (
            json!({"userName": "b@acme.com"}),
            format!("{EXT}:costCode: is required"),
        ),
        (
            json!({"userName": "b@acme.com", EXT: {"costCode": "x", "shoeSize": "big"}}),
            format!("{EXT}:shoeSize: must be an integer"),
        ),
        (
            json!({"userName": "b@acme.com", EXT: {"costCode": "x", "clearance": "Top"}}),
            format!("{EXT}:clearance: \"Top\" is not one of the allowed values: Public, Secret"),
        ),
    ];
    for (body, detail) in refused {
        let reply = app.scim(&tenant, Method::POST, "/Users", Some(body)).await;
        assert_eq!(reply.body, error_body(400, Some("invalidValue"), &detail));
    }
    assert_eq!(app.user_count(&tenant).await, 1);

    // Filter and sort on a custom attribute; a URN-qualified PATCH path reaches it.
    app.create_user(
        &tenant,
        json!({"userName": "bo@acme.com", EXT: {"costCode": "CC-1", "shoeSize": 44}}),
    )
    .await;
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            &format!("/Users?filter={EXT}:clearance%20eq%20%22SECRET%22"),
            None,
        )
        .await;
    assert_eq!(reply.body["totalResults"], 1);
    let reply = app
        .scim(
            &tenant,
            Method::GET,
            &format!("/Users?sortBy={EXT}:shoeSize&sortOrder=descending"),
            None,
        )
        .await;
    let names: Vec<&str> = reply.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bo@acme.com", "ada@acme.com"]);
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": format!("{EXT}:badges"), "value": ["c"]}]
    });
    let reply = app
        .scim(&tenant, Method::PATCH, &format!("/Users/{id}"), Some(patch))
        .await;
    assert_eq!(reply.body[EXT]["badges"], json!(["a", "b", "c"]));

    // Discovery describes the extension of this workspace.
    let reply = app
        .scim(&tenant, Method::GET, &format!("/Schemas/{EXT}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let names: Vec<&str> = reply.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["costCode", "clearance", "badges", "shoeSize"]);
    assert_eq!(
        reply.body["attributes"][1],
        json!({
            "name": "clearance",
            "type": "string",
            "multiValued": false,
            "description": "An attribute of this workspace, registered by its operator",
            "required": false,
            "caseExact": false,
            "canonicalValues": ["Public", "Secret"],
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "none"
        })
    );
    let reply = app
        .scim(&tenant, Method::GET, "/ResourceTypes/User", None)
        .await;
    assert_eq!(
        reply.body["schemaExtensions"],
        json!([
            {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": false},
            {"schema": EXT, "required": true}
        ])
    );

    // Another workspace has none of it.
    let other = app.tenant("other").await;
    let reply = app
        .scim(&other, Method::GET, &format!("/Schemas/{EXT}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_custom_attributes_are_refused_by_the_operator() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let attribute = |name: &str, kind| CustomAttribute {
        name: name.to_owned(),
        kind,
        multi_valued: false,
        required: false,
        canonical_values: Vec::new(),
    };
    for (attribute, message) in [
        (
            attribute("2fast", AttributeType::String),
            "\"2fast\" is not an attribute name: start with a letter, then letters, digits, - or _",
        ),
        (
            attribute("address", AttributeType::Complex),
            "custom attributes are simple values, not complex ones",
        ),
    ] {
        let err =
            operator::add_custom_attribute(app.store.as_ref(), &tenant.workspace.id, attribute)
                .await
                .unwrap_err();
        assert_eq!(err.to_string(), message);
    }
    operator::add_custom_attribute(
        app.store.as_ref(),
        &tenant.workspace.id,
        attribute("tier", AttributeType::String),
    )
    .await
    .unwrap();
    let err = operator::add_custom_attribute(
        app.store.as_ref(),
        &tenant.workspace.id,
        attribute("TIER", AttributeType::String),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "workspace {} already has an attribute named \"TIER\"",
            tenant.workspace.id
        )
    );
}
