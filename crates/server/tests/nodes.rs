//! Several rollcall nodes on one database, as behind a load balancer: each node has its own
//! store and connections, and requests alternate between them. On SQLite the nodes share one
//! file; on PostgreSQL (`scripts/test`'s second half) one database, which is the deployment
//! these tests are for.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use common::{Tenant, TestApp, patch, send_http};
use serde_json::{Value, json};

/// Sends a SCIM request for `tenant` to the node at `address`.
async fn scim(
    address: std::net::SocketAddr,
    tenant: &Tenant,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> common::Reply {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let uri = format!("{}{path}", tenant.base());
    send_http(address, method, &uri, Some(&tenant.token), bytes, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_name_in_fifty_cases_over_two_nodes_is_created_once() {
    let first = TestApp::serving().await;
    let second = first.another_node().await;
    let tenant = first.tenant("acme").await;
    let nodes = [first.server.unwrap(), second.server.unwrap()];

    let mut tasks = tokio::task::JoinSet::new();
    for attempt in 0..50usize {
        // Each attempt spells the name in its own mix of cases.
        let name: String = "dup.user@example.com"
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if (attempt >> (i % 6)) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        let (address, tenant) = (nodes[attempt % 2], tenant.clone());
        tasks.spawn(async move {
            let body = json!({"userName": name, "active": true});
            scim(address, &tenant, Method::POST, "/Users", Some(body)).await
        });
    }
    let mut created = 0;
    let mut conflicts = 0;
    while let Some(reply) = tasks.join_next().await {
        let reply = reply.unwrap();
        match reply.status {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_eq!(reply.body["scimType"], "uniqueness", "{}", reply.body);
                conflicts += 1;
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    assert_eq!((created, conflicts), (1, 49));
    for node in nodes {
        let list = scim(node, &tenant, Method::GET, "/Users", None).await;
        assert_eq!(list.body["totalResults"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_patches_over_two_nodes_lose_nothing() {
    let first = TestApp::serving().await;
    let second = first.another_node().await;
    let tenant = first.tenant("acme").await;
    let nodes = [first.server.unwrap(), second.server.unwrap()];

    let mut users = Vec::new();
    for i in 0..40 {
        users.push(
            first
                .create_user(&tenant, json!({"userName": format!("u{i}@example.com")}))
                .await,
        );
    }
    let group = first
        .create_group(&tenant, json!({"displayName": "Engineering"}))
        .await;

    // Every user joins in a request of its own; half of them leave again right after, through
    // the other node.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, user) in users.iter().enumerate() {
        let (tenant, group, user) = (tenant.clone(), group.clone(), user.clone());
        let (here, there) = (nodes[i % 2], nodes[(i + 1) % 2]);
        tasks.spawn(async move {
            let path = format!("/Groups/{group}");
            let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
            let reply = scim(here, &tenant, Method::PATCH, &path, Some(add)).await;
            assert!(
                reply.status.is_success(),
                "{}: {}",
                reply.status,
                reply.body
            );
            if i % 2 == 1 {
                let remove = patch(json!([
                    {"op": "remove", "path": format!("members[value eq \"{user}\"]")}
                ]));
                let reply = scim(there, &tenant, Method::PATCH, &path, Some(remove)).await;
                assert!(
                    reply.status.is_success(),
                    "{}: {}",
                    reply.status,
                    reply.body
                );
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }

    let expected: HashSet<String> = users.iter().step_by(2).cloned().collect();
    for node in nodes {
        let group = scim(
            node,
            &tenant,
            Method::GET,
            &format!("/Groups/{group}"),
            None,
        )
        .await;
        let members: HashSet<String> = group.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(members, expected);
    }
    // The feed holds exactly one event per change.
    let events = first
        .store
        .list_events(&tenant.workspace.id, 0, 10_000)
        .await
        .unwrap();
    let count = |kind: &str| events.iter().filter(|e| e.kind == kind).count();
    assert_eq!(count("group.member_added"), 40);
    assert_eq!(count("group.member_removed"), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_through_one_node_is_refused_by_the_other_at_once() {
    let first = TestApp::serving().await;
    let second = first.another_node().await;
    let tenant = first.tenant("acme").await;
    let (a, b) = (first.server.unwrap(), second.server.unwrap());

    assert_eq!(
        scim(b, &tenant, Method::GET, "/Users", None).await.status,
        StatusCode::OK
    );
    let (id, _) = rollcall_server::secret::parse_token(&tenant.token).unwrap();
    first
        .store
        .revoke_token(&id, common::start_time())
        .await
        .unwrap();
    // No node caches a token: the very next request on either node is refused.
    for node in [b, a] {
        let reply = scim(node, &tenant, Method::GET, "/Users", None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_paging_the_feed_during_writes_on_two_nodes_sees_each_event_once() {
    let first = TestApp::serving().await;
    let second = first.another_node().await;
    let tenant = first.tenant("acme").await;
    let nodes = [first.server.unwrap(), second.server.unwrap()];

    let mut writers = tokio::task::JoinSet::new();
    for worker in 0..4usize {
        let (address, tenant) = (nodes[worker % 2], tenant.clone());
        writers.spawn(async move {
            for i in 0..15 {
                let body = json!({"userName": format!("w{worker}-{i}@example.com")});
                let reply = scim(address, &tenant, Method::POST, "/Users", Some(body)).await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
            }
        });
    }

    // Page the feed while the writers run, then until it is drained.
    let store = second.store.clone();
    let workspace = tenant.workspace.id.clone();
    let mut seen = Vec::new();
    let mut cursor = 0;
    loop {
        let writing = !writers.is_empty();
        let page = store.list_events(&workspace, cursor, 7).await.unwrap();
        for event in &page {
            assert!(event.cursor > cursor, "the feed went backwards");
            cursor = event.cursor;
            seen.push(event.id.clone());
        }
        if page.is_empty() && !writing {
            break;
        }
        while let Some(done) = writers.try_join_next() {
            done.unwrap();
        }
        tokio::task::yield_now().await;
    }

    let all: Vec<String> = store
        .list_events(&workspace, 0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.id)
        .collect();
    assert_eq!(all.len(), 60);
    assert_eq!(seen, all, "the pages missed or repeated an event");
}
