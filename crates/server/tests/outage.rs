//! PostgreSQL going away under a running node: requests end in bounded time with 503 and
//! `Retry-After` as SCIM errors, `/readyz` turns false, and traffic recovers by itself when the
//! database is back, without restarting the node.
//!
//! The node reaches PostgreSQL through a TCP relay that the test can cut, which stands for the
//! database stopping or restarting: every open connection drops, and new ones are closed as
//! soon as they open. It runs on PostgreSQL only (`scripts/test`'s second half); on SQLite,
//! whose database is a file in the process, there is no connection to lose.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use common::{Backend, TestApp};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A TCP relay to PostgreSQL that can be cut and restored.
struct Relay {
    address: SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped on every cut; each relayed connection ends when it changes.
    cuts: watch::Sender<u64>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0u64);
        let (flag, cut_signal) = (up.clone(), cuts.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !flag.load(Ordering::SeqCst) {
                    // Down: the connection closes before the server says anything.
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let mut cut = cut_signal.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Relay { address, up, cuts }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `host:port` of a `postgres://user@host:port/db?...` URL, and the URL with them replaced.
fn through(url: &str, relay: SocketAddr) -> (String, String) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = rest.split_once('@').unwrap();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let target = rest[..end].to_owned();
    (
        target,
        format!("{scheme}://{credentials}@{relay}{}", &rest[end..]),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_gives_503s_and_traffic_recovers_by_itself() {
    if common::backend() != Backend::Postgres {
        eprintln!("outage: runs on PostgreSQL only");
        return;
    }
    let scratch =
        rollcall_store::testing::fresh_database_url(std::env::temp_dir().as_path()).unwrap();
    // The relay needs the target before it starts, and the URL needs the relay's address.
    let (target, _) = through(&scratch, "127.0.0.1:1".parse().unwrap());
    let relay = Relay::start(target).await;
    let (_, relayed) = through(&scratch, relay.address);

    let app = TestApp::with_database(relayed).await.served().await;
    let tenant = app.tenant("acme").await;
    let created = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "a@example.com"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let ready = app.send(Method::GET, "/readyz", None, None, &[]).await;
    assert_eq!(ready.status, StatusCode::OK);

    relay.cut();

    // A read, a write and the readiness probe, at once, while the database is gone.
    let started = Instant::now();
    let (read, write, ready) = tokio::join!(
        app.scim(&tenant, Method::GET, "/Users", None),
        app.scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "b@example.com"}))
        ),
        app.send(Method::GET, "/readyz", None, None, &[]),
    );
    let waited = started.elapsed();
    for reply in [&read, &write] {
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.body
        );
        assert!(reply.header("retry-after").is_some());
        assert_eq!(
            reply.body,
            common::error_body(
                503,
                None,
                "the directory is briefly unavailable; retry shortly"
            )
        );
    }
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.body, json!({"status": "unavailable"}));
    // The pool gives up after ACQUIRE_TIMEOUT (5 s); allow for a loaded machine.
    assert!(waited < Duration::from_secs(15), "requests took {waited:?}");

    relay.restore();

    // Recovery needs no restart: the pool replaces its broken connections.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = app.send(Method::GET, "/readyz", None, None, &[]).await;
        if ready.status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "not ready again after 20 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let write = app
        .scim(
            &tenant,
            Method::POST,
            "/Users",
            Some(json!({"userName": "b@example.com"})),
        )
        .await;
    assert_eq!(write.status, StatusCode::CREATED, "{}", write.body);
    let list = app.scim(&tenant, Method::GET, "/Users", None).await;
    assert_eq!(list.body["totalResults"], 2);
}
