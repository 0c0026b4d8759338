//! Webhook deliveries end to end: SCIM changes through the app, the delivery loop, and a
//! receiver on a real socket that refuses the first attempts at each event.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode};
use common::{TestApp, patch};
use rollcall_server::clock::SystemClock;
use rollcall_server::operator;
use rollcall_server::webhooks::signing::verify_signature;
use rollcall_server::webhooks::{DispatchOptions, Dispatcher, ServerKey};
use serde_json::{Value, json};

/// What a receiver saw: each request's headers and body, in arrival order.
#[derive(Default)]
struct Received {
    requests: Vec<(HeaderMap, Vec<u8>)>,
    attempts: HashMap<String, u32>,
}

/// A receiver on 127.0.0.1 that answers `refusal` to the first `refuse` attempts at each event
/// (by `Rollcall-Event-Id`) and 204 after.
async fn receiver(refuse: u32, refusal: StatusCode) -> (String, Arc<Mutex<Received>>) {
    let received = Arc::new(Mutex::new(Received::default()));
    let state = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                let id = headers
                    .get("rollcall-event-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                let mut seen = state.lock().unwrap();
                seen.requests.push((headers, body.to_vec()));
                let count = seen.attempts.entry(id).or_insert(0);
                *count += 1;
                if *count <= refuse {
                    (refusal, [("location", "http://169.254.169.254/")])
                } else {
                    (StatusCode::NO_CONTENT, [("location", "")])
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn metrics_text(app: &TestApp) -> String {
    let reply = app.send(Method::GET, "/metrics", None, None, &[]).await;
    reply.body.as_str().unwrap().to_owned()
}

fn fast_options(allow_private: bool) -> DispatchOptions {
    DispatchOptions {
        poll: Duration::from_millis(10),
        retry_base: Duration::from_millis(10),
        retry_max: Duration::from_millis(40),
        timeout: Duration::from_secs(5),
        // Short, so that another dispatcher may take a webhook over soon after.
        lease: Duration::from_millis(30),
        allow_private,
        ..DispatchOptions::default()
    }
}

/// Runs the loop's ticks until `done` holds, for at most 30 seconds.
async fn tick_until(dispatcher: &Dispatcher, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "deliveries did not finish in time"
        );
        dispatcher.tick().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_signed_in_order_despite_refused_attempts() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let workspace = tenant.workspace.id.clone();
    // An event from before the webhook existed is not sent to it.
    let before = app
        .create_user(&tenant, json!({"userName": "before@example.com"}))
        .await;

    let key = ServerKey::from_hex(&"5a".repeat(32)).unwrap();
    let (url, received) = receiver(2, StatusCode::INTERNAL_SERVER_ERROR).await;
    let added = operator::add_webhook(
        app.store.as_ref(),
        &key,
        &workspace,
        &url,
        true,
        common::start_time(),
    )
    .await
    .unwrap();
    let secret = added.secret.expose().to_owned();

    // Every kind of change.
    let ann = app
        .create_user(
            &tenant,
            json!({"userName": "ann@example.com", "active": true}),
        )
        .await;
    let bob = app
        .create_user(&tenant, json!({"userName": "bob@example.com"}))
        .await;
    let deactivate = patch(json!([{"op": "replace", "path": "active", "value": false}]));
    let reply = app
        .scim(
            &tenant,
            Method::PATCH,
            &format!("/Users/{ann}"),
            Some(deactivate),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let group = app
        .create_group(
            &tenant,
            json!({"displayName": "Eng", "members": [{"value": bob}]}),
        )
        .await;
    let reply = app
        .scim(&tenant, Method::DELETE, &format!("/Groups/{group}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = app
        .scim(&tenant, Method::DELETE, &format!("/Users/{before}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);

    let feed = app.store.list_events(&workspace, 0, 1000).await.unwrap();
    let expected: Vec<&rollcall_store::Event> = feed.iter().skip(1).collect();
    let expected_ids: Vec<String> = expected.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        expected.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        [
            "user.created",
            "user.created",
            "user.deactivated",
            "group.created",
            "group.member_added",
            "group.deleted",
            "user.deleted",
        ]
    );

    // The backlog shows in /metrics: one webhook, seven deliveries to make.
    let metrics = metrics_text(&app).await;
    assert!(
        metrics.contains("\nrollcall_webhooks_pending 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nrollcall_webhook_queue_depth 7\n"),
        "{metrics}"
    );

    let dispatcher = Dispatcher::new(
        app.store.clone(),
        Arc::new(SystemClock),
        key,
        fast_options(true),
    )
    .unwrap();
    let watched = received.clone();
    let total = expected_ids.len();
    tick_until(&dispatcher, || {
        let seen = watched.lock().unwrap();
        seen.attempts.len() == total && seen.attempts.values().all(|n| *n >= 3)
    })
    .await;

    let (requests, attempts) = {
        let seen = received.lock().unwrap();
        (seen.requests.clone(), seen.attempts.clone())
    };
    // Each event was tried three times: refused twice, then accepted; none was sent again after.
    assert!(attempts.values().all(|n| *n == 3), "{attempts:?}");
    let now = chrono::Utc::now().timestamp();
    let mut unique = Vec::new();
    for (headers, body) in &requests {
        let header = headers["rollcall-signature"].to_str().unwrap();
        assert!(
            verify_signature(&secret, header, body, now, 300),
            "{header}"
        );
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["rollcall-webhook-id"], added.webhook.id.as_str());
        let value: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(headers["rollcall-event-id"], value["id"].as_str().unwrap());
        // De-duplication by event id, as a receiver does it.
        let id = value["id"].as_str().unwrap().to_owned();
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    // Each event once after de-duplication, in feed order (later events wait for earlier ones).
    assert_eq!(unique, expected_ids);
    // A whole body, as a receiver gets it.
    let first: Value = serde_json::from_slice(&requests[0].1).unwrap();
    let event = expected[0];
    assert_eq!(
        first,
        json!({
            "id": event.id,
            "type": "user.created",
            "workspace_id": workspace.as_str(),
            "resource_id": ann,
            "occurred_at": rollcall_scim::render::timestamp(event.occurred_at),
            "cursor": event.cursor.to_string(),
            "data": event.data,
        })
    );

    // The delivery log, newest first: the last event's three attempts.
    let log = operator::list_deliveries(app.store.as_ref(), &workspace, 3)
        .await
        .unwrap();
    let summary: Vec<(u32, bool, Option<u16>, Option<&str>)> = log
        .iter()
        .map(|a| (a.attempt, a.delivered, a.status, a.error.as_deref()))
        .collect();
    let refused = Some("the receiver answered 500 Internal Server Error");
    assert_eq!(
        summary,
        [
            (3, true, Some(204), None),
            (2, false, Some(500), refused),
            (1, false, Some(500), refused),
        ]
    );
    assert!(
        log.iter()
            .all(|a| a.event_id == *expected_ids.last().unwrap())
    );
    let webhooks = operator::list_webhooks(app.store.as_ref(), &workspace)
        .await
        .unwrap();
    assert_eq!(
        webhooks[0].delivered_through,
        expected.last().unwrap().cursor
    );
    assert_eq!(webhooks[0].failures, 0);
    // Nothing is due any more.
    assert_eq!(dispatcher.tick().await.unwrap(), 0);
    let metrics = metrics_text(&app).await;
    assert!(
        metrics.contains("\nrollcall_webhook_queue_depth 0\n"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed_and_private_targets_are_not_reached() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let workspace = tenant.workspace.id.clone();
    let key = ServerKey::from_hex(&"5a".repeat(32)).unwrap();
    let (url, received) = receiver(u32::MAX, StatusCode::FOUND).await;

    // Refused when added, unless private targets are allowed.
    let refused = operator::add_webhook(
        app.store.as_ref(),
        &key,
        &workspace,
        &url,
        false,
        common::start_time(),
    )
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .starts_with("the webhook host 127.0.0.1 is a loopback address"),
        "{refused}"
    );
    operator::add_webhook(
        app.store.as_ref(),
        &key,
        &workspace,
        &url,
        true,
        common::start_time(),
    )
    .await
    .unwrap();
    app.create_user(&tenant, json!({"userName": "a@example.com"}))
        .await;

    // A redirect (here to the cloud metadata address) is a failed attempt, never followed.
    let following = Dispatcher::new(
        app.store.clone(),
        Arc::new(SystemClock),
        key.clone(),
        fast_options(true),
    )
    .unwrap();
    assert_eq!(following.tick().await.unwrap(), 1);
    let log = operator::list_deliveries(app.store.as_ref(), &workspace, 10)
        .await
        .unwrap();
    assert_eq!(
        log[0].error.as_deref(),
        Some("the receiver answered 302 Found; redirects are not followed")
    );
    assert_eq!(received.lock().unwrap().requests.len(), 1);

    // A node that does not allow private targets does not send to one, even one stored
    // earlier; it logs why.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let strict = Dispatcher::new(
        app.store.clone(),
        Arc::new(SystemClock),
        key,
        fast_options(false),
    )
    .unwrap();
    assert_eq!(strict.tick().await.unwrap(), 1);
    let log = operator::list_deliveries(app.store.as_ref(), &workspace, 1)
        .await
        .unwrap();
    assert_eq!(
        log[0].error.as_deref(),
        Some("the host is a loopback address; not sent")
    );
    assert_eq!(received.lock().unwrap().requests.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_listed_removed_and_limited_per_workspace() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let workspace = tenant.workspace.id.clone();
    let key = ServerKey::from_hex(&"5a".repeat(32)).unwrap();
    let mut ids = BTreeSet::new();
    for i in 0..operator::MAX_WEBHOOKS_PER_WORKSPACE {
        let added = operator::add_webhook(
            app.store.as_ref(),
            &key,
            &workspace,
            &format!("http://127.0.0.1:9/{i}"),
            true,
            common::start_time(),
        )
        .await
        .unwrap();
        ids.insert(added.webhook.id);
    }
    let refused = operator::add_webhook(
        app.store.as_ref(),
        &key,
        &workspace,
        "http://127.0.0.1:9/more",
        true,
        common::start_time(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "workspace {workspace} already has 10 webhooks, the most it may have; remove one first"
        )
    );
    let listed: BTreeSet<String> = operator::list_webhooks(app.store.as_ref(), &workspace)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.id)
        .collect();
    assert_eq!(listed, ids);

    // Another workspace can neither see nor remove them.
    let first = ids.first().unwrap().clone();
    assert!(
        operator::list_webhooks(app.store.as_ref(), &other.workspace.id)
            .await
            .unwrap()
            .is_empty()
    );
    let missing = operator::remove_webhook(app.store.as_ref(), &other.workspace.id, &first)
        .await
        .unwrap_err();
    assert_eq!(
        missing.to_string(),
        format!("workspace {} has no webhook {first}", other.workspace.id)
    );
    operator::remove_webhook(app.store.as_ref(), &workspace, &first)
        .await
        .unwrap();
    assert_eq!(
        operator::list_webhooks(app.store.as_ref(), &workspace)
            .await
            .unwrap()
            .len(),
        9
    );
}
