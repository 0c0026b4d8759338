//! The cases both benches measure, with their inputs: `hot_paths.rs` times them with criterion
//! and `instructions.rs` runs one of them under callgrind (see scripts/bench-instructions).
//!
//! Each case is the protocol core's share of one request: parsing a filter, evaluating it
//! against one user, applying a PATCH, rendering a user for the wire. The inputs are built once
//! by [`Fixtures::new`], which also checks that every case succeeds and gives the answer it
//! should, so that no case measures an error path by accident. A case's name is
//! `group/name`, the same in criterion's report and in the instruction table.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use rollcall_scim::filter::{Filter, matches, parse_filter};
use rollcall_scim::group::split_patch;
use rollcall_scim::patch::{apply, parse_patch_request};
use rollcall_scim::render::{Meta, Projection, render};
use rollcall_scim::schema::{ENTERPRISE_USER_SCHEMA, PATCH_OP, USER_SCHEMA, user_resource};
use rollcall_scim::user::{Role, UserPolicy, UsernameFormat, prepare_user, strip_derived};
use serde_json::{Value, json};

/// One measured operation.
pub struct Case {
    /// `group/name`, as criterion and the instruction table show it.
    pub name: &'static str,
    pub run: fn(&Fixtures),
}

/// Every case, in the order the reports list them.
pub const CASES: [Case; 12] = [
    Case {
        name: "filter_parse/user_name_eq",
        run: |f| parse(&f.user_name_eq.text),
    },
    Case {
        name: "filter_parse/mid_size",
        run: |f| parse(&f.mid_size.text),
    },
    Case {
        name: "filter_parse/near_limits",
        run: |f| parse(&f.near_limits.text),
    },
    Case {
        name: "filter_eval/user_name_eq",
        run: |f| evaluate(&f.user_name_eq.tree, &f.filterable_user),
    },
    Case {
        name: "filter_eval/mid_size",
        run: |f| evaluate(&f.mid_size.tree, &f.filterable_user),
    },
    Case {
        name: "filter_eval/near_limits",
        run: |f| evaluate(&f.near_limits.tree, &f.filterable_user),
    },
    Case {
        name: "patch/okta_deactivate",
        run: |f| patch_user(&f.okta_deactivate, &f.patchable_user),
    },
    Case {
        name: "patch/entra_multi_op",
        run: |f| patch_user(&f.entra_multi_op, &f.patchable_user),
    },
    Case {
        name: "patch/group_add_member",
        run: |f| patch_group(&f.group_add_member),
    },
    Case {
        name: "render/user",
        run: |f| render_user(f, &f.no_projection),
    },
    Case {
        name: "render/user_attributes",
        run: |f| render_user(f, &f.attributes),
    },
    Case {
        name: "render/user_excluded_attributes",
        run: |f| render_user(f, &f.excluded_attributes),
    },
];

/// A filter's text and the tree it parses to.
pub struct FilterInput {
    pub text: String,
    pub tree: Filter,
}

/// The inputs of every case, built outside the measured code.
pub struct Fixtures {
    pub user_name_eq: FilterInput,
    pub mid_size: FilterInput,
    pub near_limits: FilterInput,
    /// The user as the store evaluates filters against it (stored form plus `id` and `meta`),
    /// with its `groups` too.
    pub filterable_user: Value,
    /// The user as the PATCH handler starts from: stored form without `role` and without the
    /// derived seed attributes.
    pub patchable_user: Value,
    pub okta_deactivate: Value,
    pub entra_multi_op: Value,
    pub group_add_member: Value,
    /// The stored user with its `groups` filled, as a GET renders it.
    pub rendered_user: Value,
    pub meta: Meta,
    pub no_projection: Projection,
    pub attributes: Projection,
    pub excluded_attributes: Projection,
}

impl Fixtures {
    /// Builds the inputs and checks that each case gives its expected answer.
    pub fn new() -> Fixtures {
        let schema = user_resource();
        let policy = UserPolicy {
            username_format: UsernameFormat::Email,
            default_role: Role::Member,
        };
        let stored = prepare_user(&enterprise_user(), &policy, None)
            .expect("the enterprise user is valid")
            .body;

        let mut filterable_user = stored.clone();
        fields(&mut filterable_user).insert("id".to_owned(), json!(USER_ID));
        fields(&mut filterable_user).insert(
            "meta".to_owned(),
            json!({
                "resourceType": "User",
                "created": "2024-03-01T09:30:00.000Z",
                "lastModified": "2025-01-15T17:05:42.318Z",
                "version": "W/\"7\"",
            }),
        );
        fields(&mut filterable_user).insert("groups".to_owned(), groups());

        let mut patchable_user = stored.clone();
        fields(&mut patchable_user).remove("role");
        strip_derived(&mut patchable_user);

        let mut rendered_user = stored;
        fields(&mut rendered_user).insert("groups".to_owned(), groups());

        let fixtures = Fixtures {
            user_name_eq: filter_input(r#"userName eq "ada@example.com""#),
            mid_size: filter_input(concat!(
                r#"emails[type eq "work" and value co "@example.com"] and "#,
                r#"(active eq true or title sw "Eng")"#
            )),
            near_limits: filter_input(&near_limits_filter()),
            filterable_user,
            patchable_user,
            okta_deactivate: json!({
                "schemas": [PATCH_OP],
                "Operations": [{ "op": "replace", "value": { "active": false } }],
            }),
            entra_multi_op: entra_multi_op(),
            group_add_member: json!({
                "schemas": [PATCH_OP],
                "Operations": [{
                    "op": "Add",
                    "path": "members",
                    "value": [{ "value": "6c5bb468-14b2-4183-baf2-06d523e03bd3" }],
                }],
            }),
            rendered_user,
            meta: Meta {
                created: at("2024-03-01T09:30:00Z"),
                last_modified: at("2025-01-15T17:05:42.318Z"),
                location: format!("https://rollcall.example.com/scim/v2/Users/{USER_ID}"),
                version: "W/\"7\"".to_owned(),
            },
            no_projection: Projection::default(),
            attributes: Projection::parse(
                Some("userName,name.givenName,name.familyName,emails.value,active"),
                None,
                schema,
            ),
            excluded_attributes: Projection::parse(
                None,
                Some(&format!(
                    "groups,phoneNumbers,addresses,{ENTERPRISE_USER_SCHEMA}"
                )),
                schema,
            ),
        };
        fixtures.check();
        fixtures
    }

    /// Panics unless every case does what its name says.
    fn check(&self) {
        let schema = user_resource();
        for filter in [&self.user_name_eq, &self.mid_size, &self.near_limits] {
            assert!(
                matches(&filter.tree, &self.filterable_user, schema),
                "{} should match the user",
                filter.text
            );
        }
        let limits = rollcall_scim::limits::limits().filter;
        let length = self.near_limits.text.chars().count();
        assert!(
            (limits.max_length - 400..=limits.max_length).contains(&length),
            "the near-limits filter is {length} characters"
        );

        let patched = |body: &Value| {
            let operations = parse_patch_request(body).expect("the PATCH parses");
            apply(&self.patchable_user, &operations, schema).expect("the PATCH applies")
        };
        assert_eq!(patched(&self.okta_deactivate)["active"], json!(false));
        let entra = patched(&self.entra_multi_op);
        assert_eq!(entra["name"]["givenName"], json!("Augusta"));
        assert_eq!(entra["emails"][0]["value"], json!("ada.king@example.com"));
        // The bare id becomes `{"value": id}` when the server validates the result.
        assert_eq!(entra[ENTERPRISE_USER_SCHEMA]["manager"], json!(MANAGER_ID));

        let operations = parse_patch_request(&self.group_add_member).expect("the PATCH parses");
        let (document, members) = split_patch(operations).expect("the PATCH splits");
        assert!(document.is_empty() && members.len() == 1);

        let full = render(
            schema,
            USER_ID,
            &self.rendered_user,
            &self.meta,
            &self.no_projection,
        );
        assert!(full.get("groups").is_some() && full.get(ENTERPRISE_USER_SCHEMA).is_some());
        let picked = render(
            schema,
            USER_ID,
            &self.rendered_user,
            &self.meta,
            &self.attributes,
        );
        assert!(picked.get("emails").is_some() && picked.get("groups").is_none());
        let trimmed = render(
            schema,
            USER_ID,
            &self.rendered_user,
            &self.meta,
            &self.excluded_attributes,
        );
        assert!(trimmed.get("emails").is_some() && trimmed.get("groups").is_none());
        assert!(trimmed.get(ENTERPRISE_USER_SCHEMA).is_none());
    }
}

fn parse(text: &str) {
    black_box(parse_filter(black_box(text)).ok());
}

fn evaluate(filter: &Filter, user: &Value) {
    black_box(matches(black_box(filter), black_box(user), user_resource()));
}

/// The core's whole share of a user PATCH: read the message, then apply it to the document.
fn patch_user(body: &Value, user: &Value) {
    let operations = parse_patch_request(black_box(body)).ok();
    let patched = operations.and_then(|ops| apply(black_box(user), &ops, user_resource()).ok());
    black_box(patched);
}

/// A group PATCH that only changes members never touches the document: the server reads the
/// message and turns it into membership rows.
fn patch_group(body: &Value) {
    let operations = parse_patch_request(black_box(body)).ok();
    black_box(operations.and_then(|ops| split_patch(ops).ok()));
}

/// A GET's response body: the rendered resource as the text the server sends.
fn render_user(fixtures: &Fixtures, projection: &Projection) {
    let rendered = render(
        user_resource(),
        USER_ID,
        black_box(&fixtures.rendered_user),
        &fixtures.meta,
        black_box(projection),
    );
    black_box(rendered.to_string());
}

const USER_ID: &str = "2819c223-7f76-453a-919d-413861904646";
const MANAGER_ID: &str = "5d48a0a8-e74e-4fbc-b6bb-0c2c1dd2c5b1";

/// An employee as an enterprise IdP creates one: names, two emails, two phones, an address and
/// the enterprise extension with a manager.
fn enterprise_user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
        "externalId": "00u1f9x7kqWb3nQ2r5d7",
        "userName": "ada@example.com",
        "name": {
            "formatted": "Ada Lovelace",
            "familyName": "Lovelace",
            "givenName": "Ada",
            "middleName": "Augusta",
            "honorificPrefix": "Ms.",
        },
        "displayName": "Ada Lovelace",
        "nickName": "Ada",
        "title": "Engineering Manager",
        "userType": "Employee",
        "preferredLanguage": "en-GB",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "active": true,
        "emails": [
            { "value": "ada@example.com", "type": "work", "primary": true },
            { "value": "ada.lovelace@home.example.org", "type": "home" },
        ],
        "phoneNumbers": [
            { "value": "+44 20 7946 0018", "type": "work" },
            { "value": "+44 7700 900123", "type": "mobile" },
        ],
        "addresses": [{
            "type": "work",
            "streetAddress": "12 St James's Square",
            "locality": "London",
            "postalCode": "SW1Y 4LB",
            "country": "GB",
            "primary": true,
        }],
        ENTERPRISE_USER_SCHEMA: {
            "employeeNumber": "1815",
            "costCenter": "R&D-42",
            "organization": "Example Ltd",
            "division": "Engineering",
            "department": "Analytical Engines",
            "manager": { "value": "a1b2c3d4-0000-4000-8000-00000000babb" },
        },
    })
}

/// The user's read-only `groups`, as the server fills them from the membership rows.
fn groups() -> Value {
    let group = |id: &str, display: &str| {
        json!({
            "value": id,
            "$ref": format!("https://rollcall.example.com/scim/v2/Groups/{id}"),
            "display": display,
            "type": "direct",
        })
    };
    json!([
        group("e9e30dba-f08f-4109-8486-d5c6a331660a", "Engineering"),
        group(
            "fc348aa8-3835-40eb-a20b-c726e15c55b5",
            "Engineering Managers"
        ),
        group("0d3e8f4b-1a2c-4e5f-9a7b-6c8d9e0f1a2b", "London Office"),
    ])
}

/// Entra ID's PATCH after a rename, a new address and a new manager: capitalized ops, one per
/// attribute, the manager as a bare id.
fn entra_multi_op() -> Value {
    let replace =
        |path: String, value: Value| json!({ "op": "Replace", "path": path, "value": value });
    json!({
        "schemas": [PATCH_OP],
        "Operations": [
            replace("name.givenName".to_owned(), json!("Augusta")),
            replace("name.familyName".to_owned(), json!("King")),
            replace("name.formatted".to_owned(), json!("Augusta King")),
            replace(r#"emails[type eq "work"].value"#.to_owned(), json!("ada.king@example.com")),
            replace("title".to_owned(), json!("Director of Engineering")),
            replace(format!("{ENTERPRISE_USER_SCHEMA}:department"), json!("Mathematics")),
            replace(format!("{ENTERPRISE_USER_SCHEMA}:manager"), json!(MANAGER_ID)),
        ],
    })
}

/// A filter just under the default limits (4096 characters, 32 levels of nesting, 256
/// expressions): 3979 characters, 25 nested groups whose innermost value path is 26 levels
/// deep, 176 expressions. Each group has two tests that fail before the next group, so
/// evaluation walks the whole tree before the innermost `userName` test matches.
fn near_limits_filter() -> String {
    let mut text = String::new();
    for level in 0..25 {
        text.push_str(&format!(
            concat!(
                r#"{}:department eq "Department {:02}" or "#,
                r#"emails[type eq "home" and value ew "@branch-{:02}.example.org"] or ("#,
            ),
            ENTERPRISE_USER_SCHEMA, level, level
        ));
    }
    text.push_str(r#"userName eq "ada@example.com""#);
    text.push_str(&")".repeat(25));
    text
}

fn filter_input(text: &str) -> FilterInput {
    FilterInput {
        text: text.to_owned(),
        tree: parse_filter(text).expect("the filter parses"),
    }
}

fn fields(value: &mut Value) -> &mut serde_json::Map<String, Value> {
    value.as_object_mut().expect("a user is a JSON object")
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a valid timestamp")
        .with_timezone(&Utc)
}
