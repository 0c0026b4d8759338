//! The property that the translation exists for: on random users and random filters, listing
//! users through SQL returns exactly the users on which the in-memory evaluator holds.
//!
//! The same property holds the PostgreSQL backend's filtering (key-column narrowing, then the
//! evaluator) to the evaluator: with `ROLLCALL_TEST_BACKEND=postgres` the test stores its users
//! in a fresh PostgreSQL schema instead (`scripts/test` runs it both ways), so both backends
//! answer every filter alike.
//!
//! Users go through `prepare_user` (so their bodies are in stored form) into a real SQLite
//! store, with varied timestamps and versions. Filters mix every operator, `and`, `or`,
//! `not`, value paths, URN-qualified and oddly cased names, and values of every kind; the
//! strings come from a small alphabet with case pairs and non-ASCII letters (É/é, ß/SS, İ), so
//! that filters often hit stored values, and filter values can name a stored user's id.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rollcall_scim::filter::{AttrPath, CompValue, CompareOp, Filter, matches};
use rollcall_scim::list::Page;
use rollcall_scim::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA, USER_SCHEMA_V1, user_resource};
use rollcall_scim::user::{Role, UserPolicy, UsernameFormat, prepare_user};
use serde_json::{Map, Number, Value, json};

use super::translate;
use crate::model::{Plan, UserQuery, UserRecord, UserWrite, Workspace};
use crate::sqlite::users::filterable;
use crate::{ResourceId, Store, StoreError, WorkspaceId};

const CASES: u32 = 100;
const FILTERS_PER_CASE: usize = 100;

/// 2026-01-02T03:04:05.000Z; every stored timestamp is this plus one of [`OFFSETS_MS`].
const BASE_MS: i64 = 1_767_323_045_000;
const OFFSETS_MS: [i64; 8] = [0, 1, 500, 999, 1000, 55_000, 59_999, 60_000];

/// Marks a filter value to be replaced by the id of the stored user at the index that follows.
const ID_MARK: &str = "\u{1}id:";

/// Marks a filter value to be replaced by a string stored in some user, whole or in part
/// (`{index}:{how}`), so that comparisons often hit.
const STRING_MARK: &str = "\u{1}string:";

const TOKENS: [&str; 18] = [
    "a", "A", "b", "é", "É", "ß", "SS", "ss", "İ", "i̇", "i", "@", ".", " ", "x@y.z", "true",
    "False", "5",
];

#[test]
fn sql_and_the_evaluator_agree() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::testing::fresh_database_url(dir.path()).unwrap();
    let store = crate::open(&url).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let workspaces = AtomicUsize::new(0);
    let tally = Tally::default();
    let started = Instant::now();

    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (vec(user_body(), 10..=30), vec(filter(), FILTERS_PER_CASE));
    let result = runner.run(&strategy, |(bodies, filters)| {
        let n = workspaces.fetch_add(1, Ordering::Relaxed);
        runtime.block_on(check_case(&store, n, &bodies, &filters, &tally))
    });
    if let Err(err) = result {
        panic!("{err}");
    }

    let (checked, discriminating) = tally.read();
    eprintln!(
        "checked {checked} filters in {:.1?}; {discriminating} matched some users but not all",
        started.elapsed()
    );
    assert!(checked >= 10_000, "only {checked} filters were checked");
    // A test whose filters match everyone or no one would prove little.
    assert!(
        discriminating * 4 >= checked,
        "{discriminating} of {checked}"
    );
}

#[derive(Default)]
struct Tally {
    checked: AtomicUsize,
    discriminating: AtomicUsize,
}

impl Tally {
    fn read(&self) -> (usize, usize) {
        (
            self.checked.load(Ordering::Relaxed),
            self.discriminating.load(Ordering::Relaxed),
        )
    }
}

async fn check_case(
    store: &Arc<dyn Store>,
    n: usize,
    bodies: &[(Value, usize, bool)],
    filters: &[Filter],
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let workspace = WorkspaceId::new(format!("ws-{n}"));
    store
        .create_workspace(Workspace {
            id: workspace.clone(),
            name: format!("agreement {n}"),
            plan: Plan::Enterprise,
            invitation_only: false,
            scim_enabled: true,
            username_format: UsernameFormat::Any,
            default_role: Role::Member,
            role_discovery: false,
            created_at: at(0),
        })
        .await
        .unwrap();
    let records = insert_users(store, &workspace, bodies).await;
    let docs: Vec<(String, Value)> = records
        .iter()
        .map(|record| (record.id.to_string(), filterable(record)))
        .collect();

    for filter in filters {
        let filter = resolve_marks(filter.clone(), &docs);
        let expected: BTreeSet<&str> = docs
            .iter()
            .filter(|(_, doc)| matches(&filter, doc, user_resource()))
            .map(|(id, _)| id.as_str())
            .collect();
        let query = UserQuery::page(Some(filter.clone()), Page::new(None, Some(1000)));
        let found = store.list_users(&workspace, &query).await;
        let found = found.map_err(|err| fail(&filter, format!("list failed: {err}")))?;
        let actual: BTreeSet<&str> = found.items.iter().map(|r| r.id.as_str()).collect();
        if actual != expected || found.total != expected.len() {
            let differing: Vec<&Value> = docs
                .iter()
                .filter(|(id, _)| expected.contains(id.as_str()) != actual.contains(id.as_str()))
                .map(|(_, doc)| doc)
                .collect();
            let detail = format!(
                "the evaluator matched {} users, SQL {} (total {}); differing: {}",
                expected.len(),
                actual.len(),
                found.total,
                serde_json::to_string_pretty(&differing).unwrap_or_default()
            );
            return Err(fail(&filter, detail));
        }
        tally.checked.fetch_add(1, Ordering::Relaxed);
        if !expected.is_empty() && expected.len() < docs.len() {
            tally.discriminating.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

fn fail(filter: &Filter, detail: String) -> TestCaseError {
    let sql = match crate::testing::backend() {
        Ok(crate::testing::Backend::Sqlite) => {
            let sql = translate(filter, 2);
            format!("sql {}\nparams {:?}", sql.sql, sql.params)
        }
        _ => "on PostgreSQL".to_owned(),
    };
    TestCaseError::fail(format!("filter {filter}\n{filter:?}\n{sql}\n{detail}"))
}

/// Stores each body that `prepare_user` accepts, created at one time and, for some, replaced
/// at another so that `lastModified` and `version` differ from creation.
async fn insert_users(
    store: &Arc<dyn Store>,
    workspace: &WorkspaceId,
    bodies: &[(Value, usize, bool)],
) -> Vec<UserRecord> {
    let policy = UserPolicy {
        username_format: UsernameFormat::Any,
        default_role: Role::Member,
    };
    let mut records = Vec::new();
    for (index, (body, offset, replace)) in bodies.iter().enumerate() {
        let Ok(prepared) = prepare_user(body, &policy, None) else {
            continue;
        };
        let id = ResourceId::new(format!("U{index}-{}", uuid::Uuid::new_v4()));
        let created = store
            .create_user(
                workspace,
                &id,
                UserWrite::new(prepared.clone(), at(*offset)),
            )
            .await;
        let record = match created {
            Ok(record) => record,
            // Names from a small alphabet collide; the first one keeps it.
            Err(StoreError::Uniqueness { .. }) => continue,
            Err(err) => panic!("cannot store {body}: {err}"),
        };
        let record = if *replace {
            let later = at((offset + 3) % OFFSETS_MS.len());
            let write = UserWrite::new(prepared, later);
            store.replace_user(workspace, &id, 1, write).await.unwrap()
        } else {
            record
        };
        records.push(record);
    }
    records
}

fn at(offset: usize) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(BASE_MS + OFFSETS_MS[offset % OFFSETS_MS.len()])
        .expect("a valid timestamp")
}

/// Replaces the marks in a filter's values by stored ids and strings.
fn resolve_marks(filter: Filter, docs: &[(String, Value)]) -> Filter {
    let recurse = |inner: Box<Filter>| Box::new(resolve_marks(*inner, docs));
    match filter {
        Filter::And(left, right) => Filter::And(recurse(left), recurse(right)),
        Filter::Or(left, right) => Filter::Or(recurse(left), recurse(right)),
        Filter::Not(inner) => Filter::Not(recurse(inner)),
        Filter::ValuePath { path, filter } => Filter::ValuePath {
            path,
            filter: recurse(filter),
        },
        Filter::Compare {
            path,
            op,
            value: CompValue::String(text),
        } => {
            // Strings stored under the attribute's name (or its sub-attribute's), else any.
            let mut strings = Vec::new();
            let name = path.sub_attr.as_deref().unwrap_or(&path.name);
            for (_, doc) in docs {
                collect_strings(doc, Some(name), &mut strings);
            }
            if strings.is_empty() {
                for (_, doc) in docs {
                    collect_strings(doc, None, &mut strings);
                }
            }
            let value = CompValue::String(resolve_mark(text, docs, &strings));
            Filter::Compare { path, op, value }
        }
        other => other,
    }
}

fn resolve_mark(text: String, docs: &[(String, Value)], strings: &[&str]) -> String {
    if let Some(index) = text.strip_prefix(ID_MARK)
        && !docs.is_empty()
    {
        let index: usize = index.parse().unwrap_or(0);
        return docs[index % docs.len()].0.clone();
    }
    let Some(mark) = text.strip_prefix(STRING_MARK) else {
        return text;
    };
    let (index, how) = mark.split_once(':').unwrap_or((mark, "0"));
    let index: usize = index.parse().unwrap_or(0);
    let Some(stored) = strings.get(index % strings.len().max(1)) else {
        return String::new();
    };
    let chars: Vec<char> = stored.chars().collect();
    let half = chars.len() / 2;
    match how {
        "1" => stored.to_uppercase(),
        "2" => stored.to_lowercase(),
        "3" => chars[..half.max(1).min(chars.len())].iter().collect(),
        "4" => chars[half..].iter().collect(),
        _ => (*stored).to_owned(),
    }
}

/// The strings in `value`; with `under`, only those below a member of that name.
fn collect_strings<'a>(value: &'a Value, under: Option<&str>, out: &mut Vec<&'a str>) {
    match value {
        Value::String(text) if under.is_none() => out.push(text),
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_strings(item, under, out)),
        Value::Object(members) => {
            for (key, member) in members {
                let inside = under.filter(|name| !key.eq_ignore_ascii_case(name));
                collect_strings(member, inside, out);
            }
        }
        _ => {}
    }
}

// ---- users ----

pub(super) fn text() -> impl Strategy<Value = String> {
    vec(select(TOKENS.to_vec()), 0..=3).prop_map(|tokens| tokens.concat())
}

/// A raw body as an IdP might send it, its creation offset, and whether it is replaced later.
fn user_body() -> impl Strategy<Value = (Value, usize, bool)> {
    let names = (
        (text(), text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
        option::of(text()),
    );
    let others = (
        option::of(select(vec!["Admin", "member", "OBSERVER"])),
        option::of(select(vec![
            json!(true),
            json!(false),
            json!("True"),
            json!("false"),
        ])),
        option::of((option::of(text()), option::of(text()))),
        option::of(vec(multi_value(), 0..=3)),
        option::of(vec(multi_value(), 0..=2)),
        option::of(enterprise()),
    );
    (names, others, 0..OFFSETS_MS.len(), any::<bool>()).prop_map(
        |((user_name, external_id, display, nick, title, email), others, offset, replace)| {
            let (role, active, name, emails, phones, extension) = others;
            let mut body = Map::new();
            // Never empty, and sometimes padded: the key column holds the trimmed name.
            let (before, after) = user_name;
            body.insert("userName".to_owned(), json!(format!("{before}u{after}")));
            let mut put = |key: &str, value: Option<Value>| {
                if let Some(value) = value {
                    body.insert(key.to_owned(), value);
                }
            };
            put("externalId", external_id.map(Value::String));
            put("displayName", display.map(Value::String));
            put("nickName", nick.map(Value::String));
            put("title", title.map(Value::String));
            put("email", email.map(Value::String));
            put("role", role.map(|r| json!(r)));
            put("active", active);
            put(
                "name",
                name.map(|(given, family)| json!({"givenName": given, "familyName": family})),
            );
            put("emails", emails.map(Value::Array));
            put("phoneNumbers", phones.map(Value::Array));
            put(ENTERPRISE_USER_SCHEMA, extension);
            (Value::Object(body), offset, replace)
        },
    )
}

fn multi_value() -> impl Strategy<Value = Value> {
    (
        option::of(text()),
        option::of(select(vec!["work", "Work", "home", "other"])),
        option::of(prop_oneof![3 => Just(false), 1 => Just(true)]),
        option::of(text()),
    )
        .prop_map(|(value, kind, primary, display)| {
            json!({"value": value, "type": kind, "primary": primary, "display": display})
        })
}

fn enterprise() -> impl Strategy<Value = Value> {
    (option::of(text()), option::of(text()), option::of(text())).prop_map(
        |(number, department, manager)| {
            json!({
                "employeeNumber": number,
                "department": department,
                "manager": manager.map(|value| json!({"value": value})),
            })
        },
    )
}

// ---- filters ----

/// Attribute paths the generated users have values for (or `meta` has).
const STORED_PATHS: [(&str, Option<&str>); 26] = [
    ("userName", None),
    ("externalId", None),
    ("displayName", None),
    ("nickName", None),
    ("title", None),
    ("email", None),
    ("role", None),
    ("active", None),
    ("id", None),
    ("name", None),
    ("name", Some("givenName")),
    ("name", Some("familyName")),
    ("emails", None),
    ("emails", Some("value")),
    ("emails", Some("type")),
    ("emails", Some("primary")),
    ("emails", Some("display")),
    ("phoneNumbers", None),
    ("phoneNumbers", Some("value")),
    ("phoneNumbers", Some("primary")),
    ("meta", Some("created")),
    ("meta", Some("lastModified")),
    ("meta", Some("version")),
    ("employeeNumber", None),
    ("department", None),
    ("manager", Some("value")),
];

/// Paths no user has a value for, and names the schema does not know.
const OTHER_PATHS: [(&str, Option<&str>); 13] = [
    ("name", Some("formatted")),
    ("ims", None),
    ("addresses", None),
    ("meta", None),
    ("meta", Some("resourceType")),
    ("meta", Some("location")),
    ("schemas", None),
    ("manager", None),
    ("manager", Some("displayName")),
    ("userName", Some("value")),
    ("favouriteColour", None),
    ("password", None),
    ("groups", None),
];

const URNS: [&str; 4] = [
    USER_SCHEMA,
    USER_SCHEMA_V1,
    ENTERPRISE_USER_SCHEMA,
    "urn:example:other:2.0:User",
];

/// The name with some letters' ASCII case flipped, as clients are free to write it.
pub(super) fn mangle(name: &str, seed: u32) -> String {
    if seed.is_multiple_of(3) {
        return name.to_owned();
    }
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if (seed >> (i % 32)) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let names = prop_oneof![
        4 => select(STORED_PATHS.to_vec()),
        1 => select(OTHER_PATHS.to_vec()),
    ];
    (
        names,
        any::<u32>(),
        option::weighted(0.2, select(URNS.to_vec())),
    )
        .prop_map(|((name, sub), seed, urn)| AttrPath {
            uri: urn.map(|urn| mangle(urn, seed >> 7)),
            name: mangle(name, seed),
            sub_attr: sub.map(|sub| mangle(sub, seed >> 3)),
        })
}

/// Paths inside a value filter: sub-attribute names, with a parent's name or a wrong one.
fn element_path() -> impl Strategy<Value = AttrPath> {
    let names = vec![
        ("value", None),
        ("type", None),
        ("primary", None),
        ("display", None),
        ("givenName", None),
        ("familyName", None),
        ("emails", Some("type")),
        ("phoneNumbers", Some("value")),
        ("nope", None),
    ];
    (select(names), any::<u32>()).prop_map(|((name, sub), seed)| AttrPath {
        uri: None,
        name: mangle(name, seed),
        sub_attr: sub.map(|sub: &str| sub.to_owned()),
    })
}

pub(super) fn op() -> impl Strategy<Value = CompareOp> {
    select(vec![
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ])
}

fn value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        1 => Just(CompValue::Null),
        1 => any::<bool>().prop_map(CompValue::Bool),
        1 => select(vec![0.0, 1.0, 5.0, 1.5, -1.0, 2026.0]).prop_map(|n| {
            let number = if n == f64::trunc(n) {
                // Integral values as JSON integers, the way a client writes `eq 5`.
                Number::from(n as i64)
            } else {
                Number::from_f64(n).unwrap_or_else(|| Number::from(0))
            };
            CompValue::Number(number)
        }),
        3 => text().prop_map(CompValue::String),
        6 => (0..1000usize, 0..5usize)
            .prop_map(|(i, how)| CompValue::String(format!("{STRING_MARK}{i}:{how}"))),
        2 => select(vec![
            "W/\"1\"", "W/\"2\"", "w/\"1\"", "User", "user", "Admin", "admin", "Member",
            "work", "WORK", "home", "True", "FALSE", "2026", "2026-01-02", "2026-01-02t03",
        ])
        .prop_map(|s| CompValue::String(s.to_owned())),
        2 => instant_text().prop_map(CompValue::String),
        1 => (0..40usize).prop_map(|i| CompValue::String(format!("{ID_MARK}{i}"))),
    ]
}

/// Instants near the stored timestamps, finer or coarser than milliseconds, in several offsets
/// and spellings; some are not RFC 3339 at all.
fn instant_text() -> impl Strategy<Value = String> {
    (
        0..OFFSETS_MS.len(),
        select(vec![0i64, 500_000, -1_000_000, 1_000_000]),
        0..7usize,
    )
        .prop_map(|(offset, nanos, format)| {
            let utc = at(offset) + Duration::nanoseconds(nanos);
            let plus_two = FixedOffset::east_opt(7200).expect("a valid offset");
            match format {
                0 => utc.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                1 => utc.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
                2 => utc
                    .with_timezone(&plus_two)
                    .format("%Y-%m-%dT%H:%M:%S%.9f%:z")
                    .to_string(),
                3 => utc.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                4 => utc.format("%Y-%m-%dt%H:%M:%S%.3fz").to_string(),
                5 => utc.format("%Y-%m-%dT%H:%M:60Z").to_string(),
                _ => utc.format("%Y-%m-%dT%H:%M:%S").to_string(),
            }
        })
}

fn compare(path: impl Strategy<Value = AttrPath>) -> impl Strategy<Value = Filter> {
    (path, op(), value(), option::weighted(0.7, instant_text())).prop_map(
        |(path, op, value, instant)| {
            // Instants hit timestamps mostly when they are compared with one.
            let timed = path.sub_attr.as_deref().is_some_and(|sub| {
                sub.eq_ignore_ascii_case("created") || sub.eq_ignore_ascii_case("lastModified")
            });
            let value = match instant {
                Some(instant) if timed => CompValue::String(instant),
                _ => value,
            };
            Filter::Compare { path, op, value }
        },
    )
}

fn element_filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        4 => compare(element_path()),
        1 => element_path().prop_map(Filter::Present),
    ];
    leaf.prop_recursive(2, 6, 2, logic)
}

fn filter() -> impl Strategy<Value = Filter> {
    let value_path = (
        select(vec![
            "emails",
            "phoneNumbers",
            "name",
            "manager",
            "userName",
            "id",
            "meta",
            "schemas",
            "nope",
        ]),
        any::<u32>(),
        element_filter(),
    )
        .prop_map(|(name, seed, filter)| Filter::ValuePath {
            path: AttrPath::new(mangle(name, seed)),
            filter: Box::new(filter),
        });
    let leaf = prop_oneof![
        6 => compare(attr_path()),
        2 => attr_path().prop_map(Filter::Present),
        2 => value_path,
    ];
    prop_oneof![
        3 => leaf.clone(),
        2 => leaf.prop_recursive(3, 6, 2, logic),
    ]
}

pub(super) fn logic(inner: BoxedStrategy<Filter>) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
        (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
        inner.prop_map(|f| Filter::Not(Box::new(f))),
    ]
}
