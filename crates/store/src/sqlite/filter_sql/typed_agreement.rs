//! The agreement property for the attribute types the User schema does not use: integers,
//! decimals, date-times in the body, case-exact booleans' neighbours, multi-valued simple
//! attributes and complex sub-attributes of every type.
//!
//! A test extension declares them; bodies are normalized against it and stored through the
//! store, and the filters run through [`translate_with`] on a connection of their own, since the
//! store lists users with the User schema alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::Cell;
use std::collections::BTreeSet;

use chrono::DateTime;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rollcall_scim::filter::{AttrPath, CompValue, Filter, matches};
use rollcall_scim::resource::normalize;
use rollcall_scim::schema::{Attribute, AttributeType, ResourceSchema, Schema, user_resource};
use rollcall_scim::user::{Role, UserPolicy, UsernameFormat, prepare_user};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::{Map, Number, Value, json};

use super::agreement::{logic, mangle, op, text};
use super::translate_with;
use crate::model::{Plan, UserWrite, Workspace};
use crate::sqlite::functions;
use crate::sqlite::users::filterable;
use crate::{ResourceId, WorkspaceId};

const TEST: &str = "urn:example:params:scim:schemas:extension:test:2.0:User";
const CASES: u32 = 30;
const FILTERS_PER_CASE: usize = 100;

#[test]
fn sql_and_the_evaluator_agree_on_every_attribute_type() {
    let schema = schema();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.db");
    let store = crate::open(&format!("sqlite://{}", path.display())).unwrap();
    let conn = Connection::open(&path).unwrap();
    functions::register(&conn).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let workspace = WorkspaceId::new("typed");
    let created = runtime.block_on(store.create_workspace(Workspace {
        id: workspace.clone(),
        name: "typed".to_owned(),
        plan: Plan::Enterprise,
        invitation_only: false,
        scim_enabled: true,
        username_format: UsernameFormat::Any,
        default_role: Role::Member,
        role_discovery: false,
        created_at: DateTime::from_timestamp_millis(0).expect("the epoch"),
    }));
    created.unwrap();

    // One set of users for every case: the filters vary, the types do not.
    let mut runner = TestRunner::new(Config {
        cases: 1,
        failure_persistence: None,
        ..Config::default()
    });
    let users = vec(extension(), 40)
        .new_tree(&mut runner)
        .unwrap()
        .current();
    let mut docs = Vec::new();
    for (index, raw) in users.iter().enumerate() {
        let Ok(Value::Object(extension)) = normalize(&json!({ TEST: raw }), &schema) else {
            continue;
        };
        let policy = UserPolicy {
            username_format: UsernameFormat::Any,
            default_role: Role::Member,
        };
        let core = prepare_user(&json!({"userName": format!("u{index}")}), &policy, None);
        let mut write = UserWrite::new(core.unwrap(), DateTime::from_timestamp_millis(0).unwrap());
        if let Value::Object(body) = &mut write.body {
            body.extend(extension);
        }
        let id = ResourceId::new(format!("t{index}"));
        let record = runtime
            .block_on(store.create_user(&workspace, &id, write))
            .unwrap();
        docs.push((record.id.to_string(), filterable(&record)));
    }
    assert!(docs.len() > 20, "only {} users were valid", docs.len());

    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let discriminating = Cell::new(0);
    let result = runner.run(&vec(filter(), FILTERS_PER_CASE), |filters| {
        for filter in &filters {
            let matched = check(&conn, &schema, &docs, filter)?;
            if matched > 0 && matched < docs.len() {
                discriminating.set(discriminating.get() + 1);
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
    let discriminating = discriminating.get();
    let checked = CASES as usize * FILTERS_PER_CASE;
    eprintln!("{discriminating} of {checked} filters matched some users but not all");
    assert!(
        discriminating * 4 >= checked,
        "{discriminating} of {checked}"
    );
}

fn check(
    conn: &Connection,
    schema: &ResourceSchema,
    docs: &[(String, Value)],
    filter: &Filter,
) -> Result<usize, TestCaseError> {
    let expected: BTreeSet<&str> = docs
        .iter()
        .filter(|(_, doc)| matches(filter, doc, schema))
        .map(|(id, _)| id.as_str())
        .collect();
    let condition = translate_with(filter, schema, 2);
    let sql = format!(
        "SELECT u.id FROM users u WHERE u.workspace_id = ?1 AND ({})",
        condition.sql
    );
    let mut params = vec![SqlValue::Text("typed".to_owned())];
    params.extend(condition.params.iter().cloned());
    let mut statement = conn.prepare(&sql).unwrap();
    let actual: BTreeSet<String> = statement
        .query_map(rusqlite::params_from_iter(params), |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let actual: BTreeSet<&str> = actual.iter().map(String::as_str).collect();
    if actual == expected {
        return Ok(expected.len());
    }
    let differing: Vec<&Value> = docs
        .iter()
        .filter(|(id, _)| expected.contains(id.as_str()) != actual.contains(id.as_str()))
        .map(|(_, doc)| &doc[TEST])
        .collect();
    Err(TestCaseError::fail(format!(
        "filter {filter}\nsql {sql}\nparams {:?}\nthe evaluator matched {}, SQL {}; differing \
         extensions: {}",
        condition.params,
        expected.len(),
        actual.len(),
        serde_json::to_string(&differing).unwrap_or_default()
    )))
}

/// The User schema plus an extension with attributes of every type, made from clones of User
/// attributes so that the test does not depend on how definitions are built.
fn schema() -> ResourceSchema {
    let user = user_resource();
    let like = |name: &str, original: &str, kind: AttributeType| {
        let mut attribute = user.core.attribute(original).unwrap().clone();
        attribute.name = name.to_owned();
        attribute.kind = kind;
        attribute
    };
    let multi = |mut attribute: Attribute| {
        attribute.multi_valued = true;
        attribute
    };
    let complex = |name: &str, multi_valued: bool, subs: Vec<Attribute>| {
        let mut attribute = like(name, "emails", AttributeType::Complex);
        attribute.multi_valued = multi_valued;
        attribute.sub_attributes = subs;
        attribute
    };
    let subs = || {
        vec![
            like("value", "title", AttributeType::String),
            like("level", "title", AttributeType::Integer),
            like("since", "title", AttributeType::DateTime),
            like("on", "active", AttributeType::Boolean),
            like("rank", "externalId", AttributeType::Decimal),
        ]
    };
    let mut resource = user.clone();
    resource.extensions.push(Schema {
        id: TEST.to_owned(),
        name: "Test".to_owned(),
        description: String::new(),
        attributes: vec![
            like("age", "title", AttributeType::Integer),
            like("score", "externalId", AttributeType::Decimal),
            like("hired", "title", AttributeType::DateTime),
            like("stamp", "externalId", AttributeType::DateTime),
            like("remote", "active", AttributeType::Boolean),
            like("code", "externalId", AttributeType::String),
            multi(like("tags", "title", AttributeType::String)),
            multi(like("levels", "title", AttributeType::Integer)),
            multi(like("flags", "active", AttributeType::Boolean)),
            complex("badge", false, subs()),
            complex("certs", true, subs()),
        ],
    });
    resource
}

const NAMES: [(&str, Option<&str>); 22] = [
    ("age", None),
    ("score", None),
    ("hired", None),
    ("stamp", None),
    ("remote", None),
    ("code", None),
    ("tags", None),
    ("levels", None),
    ("flags", None),
    ("badge", None),
    ("badge", Some("value")),
    ("badge", Some("level")),
    ("badge", Some("since")),
    ("badge", Some("on")),
    ("badge", Some("rank")),
    ("certs", None),
    ("certs", Some("value")),
    ("certs", Some("level")),
    ("certs", Some("since")),
    ("certs", Some("on")),
    ("certs", Some("rank")),
    ("nope", None),
];

const SUBS: [&str; 6] = ["value", "level", "since", "on", "rank", "nope"];

fn integer() -> impl Strategy<Value = Value> {
    select(vec![
        json!(-1),
        json!(0),
        json!(5),
        json!(42),
        json!(2026),
        json!(9_007_199_254_740_993_i64),
    ])
}

fn decimal() -> impl Strategy<Value = Value> {
    prop_oneof![
        integer(),
        select(vec![0.1 + 0.2, 1.5, 7.0, 1e20, -0.0, 42.0, 0.5])
            .prop_map(|n| { Number::from_f64(n).map_or(Value::Null, Value::Number) }),
    ]
}

fn date_time() -> impl Strategy<Value = String> {
    select(vec![
        "2024-03-01T12:00:00+02:00",
        "2024-03-01T10:00:00Z",
        "2024-03-01T10:00:00.5Z",
        "2024-03-01T10:00:00.000000001Z",
        "2020-02-29T08:00:00Z",
        "2024-03-01t10:00:00z",
        "2024-03-01T09:59:60Z",
    ])
    .prop_map(str::to_owned)
}

fn boolean() -> impl Strategy<Value = Value> {
    select(vec![
        json!(true),
        json!(false),
        json!("True"),
        json!("false"),
    ])
}

fn element() -> impl Strategy<Value = Value> {
    (
        option::of(text()),
        option::of(integer()),
        option::of(date_time()),
        option::of(boolean()),
        option::of(decimal()),
    )
        .prop_map(|(value, level, since, on, rank)| {
            json!({"value": value, "level": level, "since": since, "on": on, "rank": rank})
        })
}

/// The test extension's part of a raw body.
fn extension() -> impl Strategy<Value = Value> {
    let simple = (
        option::of(integer()),
        option::of(decimal()),
        option::of(date_time()),
        option::of(date_time()),
        option::of(boolean()),
        option::of(text()),
    );
    let multi = (
        option::of(vec(text(), 0..3)),
        option::of(vec(integer(), 0..3)),
        option::of(vec(boolean(), 0..3)),
        option::of(element()),
        option::of(vec(element(), 0..3)),
    );
    (simple, multi).prop_map(|(simple, multi)| {
        let (age, score, hired, stamp, remote, code) = simple;
        let (tags, levels, flags, badge, certs) = multi;
        let mut out = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                out.insert(key.to_owned(), value);
            }
        };
        put("age", age);
        put("score", score);
        put("hired", hired.map(Value::String));
        put("stamp", stamp.map(Value::String));
        put("remote", remote);
        put("code", code.map(Value::String));
        put("tags", tags.map(|t| json!(t)));
        put("levels", levels.map(Value::Array));
        put("flags", flags.map(Value::Array));
        put("badge", badge);
        put("certs", certs.map(Value::Array));
        Value::Object(out)
    })
}

fn value() -> impl Strategy<Value = CompValue> {
    let number = |n: f64| {
        if n == f64::trunc(n) && n.abs() < 1e15 {
            Number::from(n as i64)
        } else {
            Number::from_f64(n).unwrap_or_else(|| Number::from(0))
        }
    };
    prop_oneof![
        1 => Just(CompValue::Null),
        1 => any::<bool>().prop_map(CompValue::Bool),
        3 => select(vec![-1.0, 0.0, 5.0, 42.0, 2026.0, 1.5, 0.30000000000000004, 1e20, 7.0])
            .prop_map(move |n| CompValue::Number(number(n))),
        3 => select(vec![
            " 42 ", "4.2e1", "inf", "-inf", "NaN", "abc", "1e400", "5", "0.5", "7.0", "True",
            "FALSE", "1.5", "-0", "9007199254740992",
        ])
        .prop_map(|s| CompValue::String(s.to_owned())),
        3 => date_time().prop_map(CompValue::String),
        1 => select(vec!["2024-03-01", "2024-03-01T10", "2024-03-01T10:00:00", "2024"])
            .prop_map(|s| CompValue::String(s.to_owned())),
        2 => text().prop_map(CompValue::String),
    ]
}

fn path() -> impl Strategy<Value = AttrPath> {
    (select(NAMES.to_vec()), any::<u32>(), any::<bool>()).prop_map(|((name, sub), seed, urn)| {
        AttrPath {
            uri: urn.then(|| TEST.to_owned()),
            name: mangle(name, seed),
            sub_attr: sub.map(|sub| mangle(sub, seed >> 5)),
        }
    })
}

fn compare(path: impl Strategy<Value = AttrPath>) -> impl Strategy<Value = Filter> {
    (path, op(), value()).prop_map(|(path, op, value)| Filter::Compare { path, op, value })
}

fn filter() -> impl Strategy<Value = Filter> {
    let element_path = (select(SUBS.to_vec()), any::<u32>())
        .prop_map(|(name, seed)| AttrPath::new(mangle(name, seed)));
    let element_leaf = prop_oneof![
        3 => compare(element_path.clone()),
        1 => element_path.prop_map(Filter::Present),
    ];
    let value_path = (
        select(vec!["badge", "certs", "tags", "age", "nope"]),
        element_leaf.prop_recursive(2, 4, 2, logic),
    )
        .prop_map(|(name, filter)| Filter::ValuePath {
            path: AttrPath::new(name),
            filter: Box::new(filter),
        });
    let leaf = prop_oneof![
        6 => compare(path()),
        2 => path().prop_map(Filter::Present),
        2 => value_path,
    ];
    prop_oneof![
        3 => leaf.clone(),
        1 => leaf.prop_recursive(2, 4, 2, logic),
    ]
}
