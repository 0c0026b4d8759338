//! Tenant isolation under random traffic: three workspaces, 10,000 random operations on users
//! and groups with every verb, where paths, filters and member values often name another
//! workspace's resources.
//!
//! Every value a workspace stores carries the workspace's tag (`userName`, `externalId`,
//! `displayName`), and every id is known to the test, so a leak is visible as text: no answer
//! to a workspace may hold another workspace's tag or id unless the request itself held it
//! (an error may name the id it was sent). A model of each workspace's users, groups and
//! memberships predicts every status, and after the run each workspace's counts must be its
//! own. The operations come from a seeded generator; the seed is printed, and
//! `ISOLATION_SEED=N` replays a run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use common::{Tenant, TestApp, patch};
use serde_json::{Value, json};

const OPERATIONS: usize = 10_000;

/// A small, seeded generator (xorshift64*), so that a failing run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

/// What an answer does to the model, or checks against it.
type Effect = Box<dyn FnOnce(&mut Model, &Value)>;

#[derive(Default)]
struct Model {
    /// id → (userName, active)
    users: BTreeMap<String, (String, bool)>,
    /// id → (displayName, members)
    groups: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Every id this workspace ever had, deleted ones too.
    ever: BTreeSet<String>,
    next: usize,
}

struct Workspace {
    tenant: Tenant,
    /// In every value this workspace stores.
    tag: String,
    model: Model,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_ever_carries_another_workspaces_data() {
    let seed = std::env::var("ISOLATION_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("isolation: seed {seed} (ISOLATION_SEED={seed} replays this run)");
    let mut rng = Rng(seed);
    let app = TestApp::new().await;
    let mut spaces = Vec::new();
    for name in ["alpha", "bravo", "charlie"] {
        spaces.push(Workspace {
            tenant: app.tenant(name).await,
            tag: format!("tag{name}x"),
            model: Model::default(),
        });
    }
    let mut checked = BTreeMap::<String, usize>::new();
    // Every resource id, and the workspace it belongs to.
    let mut owners = std::collections::HashMap::<String, usize>::new();

    for step in 0..OPERATIONS {
        let here = rng.below(spaces.len());
        let there = (here + 1 + rng.below(spaces.len() - 1)) % spaces.len();
        // An id of another workspace (any it ever had), or of this one.
        let foreign_user = rng
            .pick(&spaces[there].model.ever.iter().cloned().collect::<Vec<_>>())
            .cloned();
        let own_users: Vec<String> = spaces[here].model.users.keys().cloned().collect();
        let own_groups: Vec<String> = spaces[here].model.groups.keys().cloned().collect();
        let foreign_groups: Vec<String> = spaces[there].model.groups.keys().cloned().collect();
        let foreign_group = rng.pick(&foreign_groups).cloned();
        let tag = spaces[here].tag.clone();
        let n = spaces[here].model.next;
        spaces[here].model.next += 1;

        let kind = rng.below(12);
        let (method, path, body, expected): (Method, String, Option<Value>, StatusCode);
        let mut effect: Option<Effect> = None;
        match kind {
            // Create a user.
            0 | 1 => {
                let name = format!("u{n}.{tag}@example.com");
                method = Method::POST;
                path = "/Users".to_owned();
                body = Some(json!({
                    "userName": name,
                    "externalId": format!("ext-{tag}-{n}"),
                    "displayName": format!("Name {tag} {n}"),
                    "active": true,
                }));
                expected = StatusCode::CREATED;
                effect = Some(Box::new(move |model, reply| {
                    let id = reply["id"].as_str().unwrap().to_owned();
                    model.ever.insert(id.clone());
                    model.users.insert(id, (name, true));
                }));
            }
            // Read a user, own or foreign.
            2 => {
                let (id, own) = choose(&mut rng, &own_users, foreign_user.as_ref());
                method = Method::GET;
                path = format!("/Users/{id}");
                body = None;
                expected = if own {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
            }
            // Deactivate or rename a user, own or foreign.
            3 => {
                let (id, own) = choose(&mut rng, &own_users, foreign_user.as_ref());
                method = Method::PATCH;
                path = format!("/Users/{id}");
                body = Some(patch(json!([
                    {"op": "replace", "path": "active", "value": false},
                    {"op": "replace", "path": "displayName", "value": format!("Renamed {tag} {n}")},
                ])));
                expected = if own {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                if own {
                    effect = Some(Box::new(move |model, _| {
                        if let Some(user) = model.users.get_mut(&id) {
                            user.1 = false;
                        }
                    }));
                }
            }
            // Replace a user, own or foreign.
            4 => {
                let (id, own) = choose(&mut rng, &own_users, foreign_user.as_ref());
                let name = own.then(|| spaces[here].model.users[&id].0.clone());
                method = Method::PUT;
                path = format!("/Users/{id}");
                body = Some(json!({
                    "userName": name.clone().unwrap_or_else(|| format!("put{n}.{tag}@example.com")),
                    "externalId": format!("ext-{tag}-{n}"),
                    "active": true,
                }));
                expected = if own {
                    StatusCode::OK
                } else {
                    StatusCode::NOT_FOUND
                };
                if own {
                    effect = Some(Box::new(move |model, _| {
                        if let Some(user) = model.users.get_mut(&id) {
                            user.1 = true;
                        }
                    }));
                }
            }
            // Delete a user, own or foreign.
            5 => {
                let (id, own) = choose(&mut rng, &own_users, foreign_user.as_ref());
                let own = own && rng.chance(40);
                let id = if own {
                    id
                } else {
                    foreign_user.clone().unwrap_or(id)
                };
                let own = spaces[here].model.users.contains_key(&id);
                method = Method::DELETE;
                path = format!("/Users/{id}");
                body = None;
                expected = if own {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::NOT_FOUND
                };
                if own {
                    effect = Some(Box::new(move |model, _| {
                        model.users.remove(&id);
                        for group in model.groups.values_mut() {
                            group.1.remove(&id);
                        }
                    }));
                }
            }
            // Filter users by a value of this workspace or another.
            6 => {
                let (value, matches) = match rng.below(4) {
                    0 => match rng.pick(&own_users) {
                        Some(id) => (spaces[here].model.users[id].0.clone(), 1),
                        None => (format!("none.{tag}@example.com"), 0),
                    },
                    1 => {
                        let other: Vec<String> = spaces[there]
                            .model
                            .users
                            .values()
                            .map(|u| u.0.clone())
                            .collect();
                        (
                            rng.pick(&other)
                                .cloned()
                                .unwrap_or_else(|| format!("x.{}@example.com", spaces[there].tag)),
                            0,
                        )
                    }
                    2 => (spaces[there].tag.clone(), usize::MAX),
                    _ => (tag.clone(), usize::MAX),
                };
                let filter = if matches == usize::MAX {
                    format!("userName co \"{value}\" or displayName co \"{value}\"")
                } else {
                    format!("userName eq \"{value}\"")
                };
                method = Method::GET;
                path = format!("/Users?count=1000&filter={}", encode(&filter));
                body = None;
                expected = StatusCode::OK;
                let own_tag = value == tag;
                let count = if matches != usize::MAX {
                    matches
                } else if own_tag {
                    spaces[here].model.users.len()
                } else {
                    0
                };
                effect = Some(Box::new(move |_, reply| {
                    assert_eq!(
                        reply["totalResults"].as_u64().unwrap(),
                        u64::try_from(count).unwrap(),
                        "filter {filter}: {reply}"
                    );
                }));
            }
            // Create a group, sometimes naming another workspace's user as a member.
            7 => {
                let mut members: Vec<String> = (0..rng.below(4))
                    .filter_map(|_| rng.pick(&own_users).cloned())
                    .collect();
                let poisoned = rng.chance(30) && foreign_user.is_some();
                if poisoned {
                    members.push(foreign_user.clone().unwrap());
                }
                let name = format!("Group {tag} {n}");
                method = Method::POST;
                path = "/Groups".to_owned();
                body = Some(json!({
                    "displayName": name,
                    "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>(),
                }));
                expected = if poisoned {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::CREATED
                };
                if !poisoned {
                    effect = Some(Box::new(move |model, reply| {
                        let id = reply["id"].as_str().unwrap().to_owned();
                        model.ever.insert(id.clone());
                        model
                            .groups
                            .insert(id, (name, members.into_iter().collect()));
                    }));
                }
            }
            // Add or remove a member, own or foreign group, own or foreign user.
            8 | 9 => {
                let (group, own_group) = choose(&mut rng, &own_groups, foreign_group.as_ref());
                let (user, own_user) = choose(&mut rng, &own_users, foreign_user.as_ref());
                let add = kind == 8;
                method = Method::PATCH;
                path = format!("/Groups/{group}");
                body = Some(if add {
                    patch(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]))
                } else {
                    patch(
                        json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]),
                    )
                });
                expected = if !own_group {
                    StatusCode::NOT_FOUND
                } else if add && !own_user {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                };
                if expected == StatusCode::OK {
                    effect = Some(Box::new(move |model, reply| {
                        let group = model.groups.get_mut(&group).unwrap();
                        if add {
                            group.1.insert(user);
                        } else {
                            group.1.remove(&user);
                        }
                        let _ = reply;
                    }));
                }
            }
            // Read or delete a group, own or foreign.
            10 => {
                let (group, own) = choose(&mut rng, &own_groups, foreign_group.as_ref());
                let delete = rng.chance(25);
                method = if delete { Method::DELETE } else { Method::GET };
                path = format!("/Groups/{group}");
                body = None;
                expected = match (own, delete) {
                    (false, _) => StatusCode::NOT_FOUND,
                    (true, true) => StatusCode::NO_CONTENT,
                    (true, false) => StatusCode::OK,
                };
                if own {
                    effect = Some(Box::new(move |model, reply| {
                        if delete {
                            model.groups.remove(&group);
                        } else {
                            let members: BTreeSet<String> = reply["members"]
                                .as_array()
                                .map(|m| {
                                    m.iter()
                                        .map(|m| m["value"].as_str().unwrap().to_owned())
                                        .collect()
                                })
                                .unwrap_or_default();
                            assert_eq!(members, model.groups[&group].1, "members of {group}");
                        }
                    }));
                }
            }
            // Filter groups by a member, own or foreign.
            _ => {
                let (user, own) = choose(&mut rng, &own_users, foreign_user.as_ref());
                let filter = format!("members.value eq \"{user}\"");
                method = Method::GET;
                path = format!(
                    "/Groups?count=1000&excludedAttributes=members&filter={}",
                    encode(&filter)
                );
                body = None;
                expected = StatusCode::OK;
                let count = if own {
                    spaces[here]
                        .model
                        .groups
                        .values()
                        .filter(|g| g.1.contains(&user))
                        .count()
                } else {
                    0
                };
                effect = Some(Box::new(move |_, reply| {
                    assert_eq!(
                        reply["totalResults"].as_u64().unwrap(),
                        u64::try_from(count).unwrap(),
                        "filter {filter}: {reply}"
                    );
                }));
            }
        }

        let request_text = format!(
            "{path} {}",
            body.as_ref().map(Value::to_string).unwrap_or_default()
        );
        let reply = app
            .scim(&spaces[here].tenant, method.clone(), &path, body)
            .await;
        assert_eq!(
            reply.status, expected,
            "step {step} (seed {seed}): {method} {path} in {}: {}",
            spaces[here].tag, reply.body
        );
        // Nothing of another workspace, unless the request named it.
        let text = reply.body.to_string();
        for (index, other) in spaces.iter().enumerate() {
            if index != here {
                assert!(
                    !text.contains(&other.tag) || request_text.contains(&other.tag),
                    "step {step} (seed {seed}): {method} {path} answered another workspace's \
                     value: {text}"
                );
            }
        }
        for id in uuids(&text) {
            let owner = owners.get(id).copied();
            assert!(
                owner.is_none_or(|owner| owner == here) || request_text.contains(id),
                "step {step} (seed {seed}): {method} {path} answered another workspace's id {id}: \
                 {text}"
            );
        }
        if let Some(effect) = effect {
            effect(&mut spaces[here].model, &reply.body);
            for id in &spaces[here].model.ever {
                owners.entry(id.clone()).or_insert(here);
            }
        }
        *checked.entry(method.to_string()).or_default() += 1;
    }

    // Each workspace's counts are its own.
    for space in &spaces {
        let users = app
            .scim(&space.tenant, Method::GET, "/Users?count=0", None)
            .await;
        assert_eq!(
            users.body["totalResults"].as_u64().unwrap(),
            space.model.users.len() as u64
        );
        let groups = app
            .scim(&space.tenant, Method::GET, "/Groups?count=0", None)
            .await;
        assert_eq!(
            groups.body["totalResults"].as_u64().unwrap(),
            space.model.groups.len() as u64
        );
        let active = app
            .scim(
                &space.tenant,
                Method::GET,
                "/Users?count=0&filter=active%20eq%20true",
                None,
            )
            .await;
        let expected = space.model.users.values().filter(|u| u.1).count();
        assert_eq!(
            active.body["totalResults"].as_u64().unwrap(),
            expected as u64
        );
    }
    eprintln!("isolation: {OPERATIONS} operations by method: {checked:?}");
}

/// An id of this workspace (`true`) or the foreign one (`false`), about half and half.
fn choose(rng: &mut Rng, own: &[String], foreign: Option<&String>) -> (String, bool) {
    match (rng.pick(own), foreign) {
        (Some(own), Some(foreign)) => {
            if rng.chance(50) {
                (own.clone(), true)
            } else {
                (foreign.clone(), false)
            }
        }
        (Some(own), None) => (own.clone(), true),
        (None, Some(foreign)) => (foreign.clone(), false),
        (None, None) => ("00000000-0000-4000-8000-000000000000".to_owned(), false),
    }
}

/// The UUIDs in a text (every resource id rollcall issues is one).
fn uuids(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|word| {
            word.len() == 36
                && word
                    .char_indices()
                    .all(|(i, c)| (c == '-') == matches!(i, 8 | 13 | 18 | 23))
        })
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
