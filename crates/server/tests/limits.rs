//! The limits that protect a node, each over a real socket: the in-flight cap, the body and
//! handler deadlines, oversize bodies without memory growth, slower answers to repeated failed
//! authentication, per-workspace rate limits, and `/metrics`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{TestApp, error_body, send_http};
use rollcall_server::guard::ServerLimits;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens a request whose body never finishes: the head promises 100 bytes, 10 are sent.
async fn trickle(address: std::net::SocketAddr, uri: &str, token: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {uri} HTTP/1.1\r\nHost: scim.example.com\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n\
         {{\"userName"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// Reads a whole response and returns its status and JSON body.
async fn finish(mut stream: TcpStream) -> (u16, serde_json::Value) {
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_above_the_in_flight_cap_are_shed_at_once_and_probes_still_answer() {
    let limits = ServerLimits {
        max_in_flight: 2,
        ..ServerLimits::default()
    };
    let app = TestApp::with_limits(limits).await.served().await;
    let tenant = app.tenant("acme").await;
    let address = app.server.unwrap();
    let uri = format!("{}/Users", tenant.base());
    // Two requests wait for their bodies: the cap is reached.
    let first = trickle(address, &uri, &tenant.token).await;
    let second = trickle(address, &uri, &tenant.token).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let shed = app.scim(&tenant, Method::GET, "/Users", None).await;
    assert_eq!(shed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(
        shed.body,
        error_body(
            503,
            None,
            "the server is handling 2 requests, its most at once; retry shortly"
        )
    );
    // Shed at once, not after waiting for a place.
    assert!(started.elapsed() < Duration::from_secs(5));
    let health = app.send(Method::GET, "/healthz", None, None, &[]).await;
    assert_eq!(health.status, StatusCode::OK);

    drop(first);
    drop(second);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = app.scim(&tenant, Method::GET, "/Users", None).await;
    assert_eq!(after.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_body_is_cut_off_and_a_slow_request_ends_with_503() {
    let limits = ServerLimits {
        body_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    };
    let app = TestApp::with_limits(limits).await.served().await;
    let tenant = app.tenant("acme").await;
    let uri = format!("{}/Users", tenant.base());
    let stream = trickle(app.server.unwrap(), &uri, &tenant.token).await;
    assert_eq!(
        finish(stream).await,
        (
            408,
            error_body(408, None, "the request body did not arrive within 300 ms")
        )
    );

    // A handler deadline shorter than the body deadline: the whole request is stopped.
    let limits = ServerLimits {
        request_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_secs(30),
        ..ServerLimits::default()
    };
    let app = TestApp::with_limits(limits).await.served().await;
    let tenant = app.tenant("acme").await;
    let uri = format!("{}/Users", tenant.base());
    let stream = trickle(app.server.unwrap(), &uri, &tenant.token).await;
    assert_eq!(
        finish(stream).await,
        (
            503,
            error_body(
                503,
                None,
                "the request took longer than 300 ms and was stopped; retry shortly"
            )
        )
    );
    assert_eq!(app.user_count(&tenant).await, 0);
}

/// The resident memory of this process, in bytes (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_oversize_bodies_are_refused_without_memory_growth() {
    let app = TestApp::new().await.served().await;
    let tenant = app.tenant("acme").await;
    let uri = format!("{}/Users", tenant.base());
    let huge = format!(
        "{{\"userName\":\"a@b.co\",\"title\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    )
    .into_bytes();
    // Warm up, then measure over 100 more.
    for _ in 0..5 {
        send_http(
            app.server.unwrap(),
            Method::POST,
            &uri,
            Some(&tenant.token),
            huge.clone(),
            &[],
        )
        .await;
    }
    let before = resident_bytes();
    for _ in 0..100 {
        let reply = send_http(
            app.server.unwrap(),
            Method::POST,
            &uri,
            Some(&tenant.token),
            huge.clone(),
            &[],
        )
        .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
    let grown = resident_bytes().saturating_sub(before);
    // 100 bodies of 2 MiB are 200 MiB; a node that kept them would show it.
    assert!(
        grown < 32 * 1024 * 1024,
        "resident memory grew by {} MiB",
        grown / 1024 / 1024
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_bad_tokens_are_answered_slower_but_a_valid_token_is_not() {
    let app = TestApp::new().await.served().await;
    let tenant = app.tenant("acme").await;
    let address = app.server.unwrap();
    let uri = format!("{}/Users", tenant.base());
    let bad = "rcs_0000000000000000_".to_owned() + &"0".repeat(64);

    let mut waits = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let reply = send_http(address, Method::GET, &uri, Some(&bad), Vec::new(), &[]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        waits.push(started.elapsed());
    }
    // The 11th failure waits at least 100 ms, the 15th at least 1.6 s.
    assert!(waits[10] >= Duration::from_millis(100), "{waits:?}");
    assert!(waits[14] >= Duration::from_millis(1600), "{waits:?}");

    let started = Instant::now();
    let good = send_http(
        address,
        Method::GET,
        &uri,
        Some(&tenant.token),
        Vec::new(),
        &[],
    )
    .await;
    assert_eq!(good.status, StatusCode::OK);
    assert!(
        started.elapsed() < waits[14],
        "a valid token waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_noisy_workspace_hits_its_rate_limit_and_another_does_not_notice() {
    let app = TestApp::with_rate(5, 5).await;
    let noisy = app.tenant("noisy").await;
    let quiet = app.tenant("quiet").await;
    let mut limited = 0;
    for _ in 0..50 {
        let reply = app.scim(&noisy, Method::GET, "/Users", None).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
            let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
            assert!(retry >= 1);
            assert_eq!(reply.body["status"], "429");
        }
    }
    // The clock stands still: five pass, the rest are limited.
    assert_eq!(limited, 45);
    for _ in 0..5 {
        let reply = app.scim(&quiet, Method::GET, "/Users", None).await;
        assert_eq!(reply.status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_workspace_is_answered_while_a_noisy_one_floods_the_node() {
    let app = std::sync::Arc::new(TestApp::with_rate(50, 50).await.served().await);
    let noisy = app.tenant("noisy").await;
    let quiet = app.tenant("quiet").await;
    // Eight connections flood with the noisy workspace's token while the quiet one works.
    let mut flood = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (app, noisy) = (app.clone(), noisy.clone());
        flood.spawn(async move {
            let mut limited = 0;
            for _ in 0..60 {
                let reply = app.scim(&noisy, Method::GET, "/Users", None).await;
                if reply.status == StatusCode::TOO_MANY_REQUESTS {
                    limited += 1;
                }
            }
            limited
        });
    }
    for i in 0..40 {
        let body = json!({"userName": format!("q{i}@example.com")});
        let reply = app.scim(&quiet, Method::POST, "/Users", Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let mut limited = 0;
    while let Some(count) = flood.join_next().await {
        limited += count.unwrap();
    }
    // The noisy workspace met its limit (480 requests against 50 plus a burst of 50, and the
    // test clock stands still); none of the quiet one's 40 writes did.
    assert_eq!(limited, 480 - 50);
    assert_eq!(app.user_count(&quiet).await, 40);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_hold_no_secret() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;
    let password = "Metrics-Pa55word";
    app.scim(
        &tenant,
        Method::POST,
        "/Users",
        Some(json!({"userName": "m@example.com", "password": password})),
    )
    .await;
    app.send(
        Method::GET,
        &format!("{}/Users", tenant.base()),
        Some("rcs_bad"),
        None,
        &[],
    )
    .await;

    let reply = app
        .send_raw(Method::GET, "/metrics", None, Vec::new(), &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = reply.body.as_str().unwrap().to_owned();
    let line = |prefix: &str| {
        text.lines()
            .find(|line| line.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .to_owned()
    };
    let created = line(
        "rollcall_http_requests_total{route=\"/integrations/scim/{workspace}/Users\",method=\"POST\",status=\"201\"}",
    );
    assert!(created.rsplit(' ').next().unwrap().parse::<u64>().unwrap() >= 1);
    line(
        "rollcall_http_requests_total{route=\"/integrations/scim/{workspace}/Users\",method=\"GET\",status=\"401\"}",
    );
    line(
        "rollcall_http_request_duration_seconds_bucket{route=\"/integrations/scim/{workspace}/Users\",le=\"+Inf\"}",
    );
    line("rollcall_http_requests_in_flight ");
    line("rollcall_auth_failures_total ");
    line("rollcall_webhooks_pending 0");
    line("rollcall_db_connections{state=\"idle\"}");
    for secret in [
        password,
        tenant.token.as_str(),
        tenant.workspace.id.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} is in /metrics");
    }
}
