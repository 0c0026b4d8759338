//! Fixtures shared by the fuzz targets in `fuzz_targets/`.
//!
//! The targets need a user that looks like one an IdP provisioned, so that filters and PATCH
//! operations have real values to match, merge and remove. Keeping it here means the filter and
//! PATCH targets exercise the same document.

use serde_json::{Value, json};

/// The Enterprise User extension's URN, the key its attributes are stored under.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A user in stored form (canonical attribute names, no `id` or `meta`), as `prepare_user` leaves
/// it after an Entra or Okta create: several multi-valued attributes with one primary each, a
/// complex `name` and an Enterprise extension with a manager.
pub fn stored_user() -> Value {
    json!({
        "externalId": "5a2b-77c0",
        "userName": "ada.lovelace@example.com",
        "name": {
            "formatted": "Ada Lovelace",
            "familyName": "Lovelace",
            "givenName": "Ada",
            "honorificPrefix": "Countess"
        },
        "displayName": "Ada Lovelace",
        "nickName": "Ada",
        "title": "Analyst",
        "userType": "Employee",
        "preferredLanguage": "en-GB",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "active": true,
        "email": "ada@work.example.com",
        "role": "Admin",
        "emails": [
            {"value": "ada@work.example.com", "type": "work", "primary": true},
            {"value": "ada@home.example.org", "type": "home"}
        ],
        "phoneNumbers": [
            {"value": "+44 20 7946 0000", "type": "work", "primary": true},
            {"value": "+44 7700 900000", "type": "mobile"}
        ],
        "addresses": [{
            "streetAddress": "12 St James's Square",
            "locality": "London",
            "postalCode": "SW1Y 4JH",
            "country": "GB",
            "type": "work",
            "primary": true
        }],
        "roles": [
            {"value": "Admin", "type": "WindowsAzureActiveDirectoryRole", "primary": true}
        ],
        "entitlements": [{"value": "analytical-engine"}],
        ENTERPRISE: {
            "employeeNumber": "1815",
            "costCenter": "CC-42",
            "organization": "Example Ltd",
            "department": "Research",
            "manager": {"value": "2819c223-7f76-453a-919d-413861904646"}
        }
    })
}

/// The same user as a list or filter sees it, with the `id` and `meta` the server adds.
pub fn listed_user() -> Value {
    let mut user = stored_user();
    if let Value::Object(fields) = &mut user {
        fields.insert(
            "id".to_owned(),
            json!("8f0c1e5d-3b1a-4f0e-9a57-0b6f2d1c9e44"),
        );
        fields.insert(
            "meta".to_owned(),
            json!({
                "resourceType": "User",
                "created": "2024-03-01T09:30:00Z",
                "lastModified": "2024-05-13T04:42:34Z",
                "version": "W/\"3\""
            }),
        );
    }
    user
}
