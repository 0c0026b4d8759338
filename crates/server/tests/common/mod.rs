//! A rollcall app on a throwaway database, a fixed clock, and helpers to send SCIM requests
//! and compare whole response bodies.
//!
//! The database is a SQLite file in a temporary directory, or, with
//! `ROLLCALL_TEST_BACKEND=postgres`, a fresh schema in the PostgreSQL database that
//! `ROLLCALL_TEST_POSTGRES_URL` names. `scripts/test` runs the suite both ways.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod audit;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use rollcall_scim::user::{Role, UsernameFormat};
use rollcall_server::clock::ManualClock;
use rollcall_server::operator::{self, NewWorkspace};
use rollcall_server::{AppState, app};
use rollcall_store::{Plan, Store, Workspace};
use serde_json::Value;
use tower::ServiceExt;

pub const ORIGIN: &str = "https://scim.example.com";

/// The instant every test starts at.
/// The router of a test app.
fn router_for(
    store: &Arc<dyn Store>,
    clock: &Arc<ManualClock>,
    request_log: &rollcall_server::request_log::RequestLog,
    rate: &Arc<rollcall_server::rate::RateLimiter>,
    limits: rollcall_server::guard::ServerLimits,
) -> rollcall_server::App {
    app(AppState {
        request_log: Some(request_log.clone()),
        guard: rollcall_server::guard::Guard::new(limits),
        throttle: Default::default(),
        webhooks: rollcall_server::webhooks::WebhookSettings {
            key: Some(rollcall_server::webhooks::ServerKey::from_hex(&"5a".repeat(32)).unwrap()),
            allow_private: true,
        },
        store: store.clone(),
        clock: clock.clone(),
        rate: rate.clone(),
        public_url: Some(Arc::from(ORIGIN)),
    })
}

pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub use rollcall_store::testing::Backend;

/// The backend `ROLLCALL_TEST_BACKEND` names (`sqlite`, the default, or `postgres`).
pub fn backend() -> Backend {
    rollcall_store::testing::backend().unwrap()
}

pub struct TestApp {
    pub dir: tempfile::TempDir,
    /// The URL the store was opened with, for opening it again (a restart, the CLI).
    pub database_url: String,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    /// The app's request log; `flush` it before reading the log from the store.
    pub request_log: rollcall_server::request_log::RequestLog,
    pub rate: Arc<rollcall_server::rate::RateLimiter>,
    pub limits: rollcall_server::guard::ServerLimits,
    pub router: rollcall_server::App,
    /// Set by [`TestApp::serving`]: requests then go over a real socket to this address.
    pub server: Option<std::net::SocketAddr>,
}

/// A workspace with SCIM enabled and its token.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub workspace: Workspace,
    pub token: String,
}

impl Tenant {
    /// The SCIM base path, `/integrations/scim/{id}`.
    pub fn base(&self) -> String {
        operator::base_path(&self.workspace.id)
    }

    /// The absolute base URL as it appears in `meta.location`.
    pub fn base_url(&self) -> String {
        format!("{ORIGIN}{}", self.base())
    }
}

/// A response: status, headers, and the body parsed as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        // Tests that are not about rates must never meet one.
        TestApp::with_rate(u32::MAX, u32::MAX).await
    }

    /// An app whose workspaces may send `per_second` requests, `burst` at once.
    pub async fn with_rate(per_second: u32, burst: u32) -> TestApp {
        let dir = audit::tempdir();
        let database_url = rollcall_store::testing::fresh_database_url(dir.path()).unwrap();
        let clock = Arc::new(ManualClock::new(start_time()));
        TestApp::on(dir, database_url, clock, per_second, burst)
    }

    /// An app on the database `database_url` names (already empty or prepared by the test).
    pub async fn with_database(database_url: String) -> TestApp {
        let dir = audit::tempdir();
        let clock = Arc::new(ManualClock::new(start_time()));
        TestApp::on(dir, database_url, clock, u32::MAX, u32::MAX)
    }

    /// An app with the given in-flight cap and deadlines.
    pub async fn with_limits(limits: rollcall_server::guard::ServerLimits) -> TestApp {
        let dir = audit::tempdir();
        let database_url = rollcall_store::testing::fresh_database_url(dir.path()).unwrap();
        let clock = Arc::new(ManualClock::new(start_time()));
        let mut app = TestApp::on(dir, database_url, clock, u32::MAX, u32::MAX);
        app.limits = limits;
        app.router = app.build_router();
        app
    }

    fn on(
        dir: tempfile::TempDir,
        database_url: String,
        clock: Arc<ManualClock>,
        per_second: u32,
        burst: u32,
    ) -> TestApp {
        audit::trace_to_file();
        let store = rollcall_store::open(&database_url).unwrap();
        let request_log = rollcall_server::request_log::RequestLog::start(
            store.clone(),
            clock.clone(),
            rollcall_server::request_log::DEFAULT_RETENTION_DAYS,
        );
        let rate = Arc::new(rollcall_server::rate::RateLimiter::new(per_second, burst));
        let limits = rollcall_server::guard::ServerLimits::default();
        let router = router_for(&store, &clock, &request_log, &rate, limits);
        TestApp {
            dir,
            database_url,
            store,
            clock,
            request_log,
            rate,
            limits,
            router,
            server: None,
        }
    }

    /// The router over this app's store, clock, rate and limits.
    fn build_router(&self) -> rollcall_server::App {
        router_for(
            &self.store,
            &self.clock,
            &self.request_log,
            &self.rate,
            self.limits,
        )
    }

    /// An app served on a real socket on 127.0.0.1, so that requests cross HTTP as an IdP's do.
    pub async fn serving() -> TestApp {
        TestApp::new().await.served().await
    }

    /// Another rollcall node on the same database, as a second machine behind a load balancer
    /// runs one: its own store (its own connections), router and socket. It shares only the
    /// database (and, so that timestamps agree, the test's clock). Keep `self` alive as long.
    pub async fn another_node(&self) -> TestApp {
        let dir = audit::tempdir();
        TestApp::on(
            dir,
            self.database_url.clone(),
            self.clock.clone(),
            u32::MAX,
            u32::MAX,
        )
        .served()
        .await
    }

    /// This app served on a real socket on 127.0.0.1.
    pub async fn served(mut self) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.server = Some(listener.local_addr().unwrap());
        let service =
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                std::net::SocketAddr,
            >(self.router.clone());
        tokio::spawn(async move {
            axum::serve(listener, service).await.unwrap();
        });
        self
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("rollcall.db")
    }

    /// An enterprise, invitation-only workspace with SCIM enabled.
    pub async fn tenant(&self, name: &str) -> Tenant {
        self.tenant_with(name, UsernameFormat::Email).await
    }

    pub async fn tenant_with(&self, name: &str, username_format: UsernameFormat) -> Tenant {
        let new = NewWorkspace {
            name: name.to_owned(),
            plan: Plan::Enterprise,
            invitation_only: true,
            username_format,
            default_role: Role::Member,
            role_discovery: false,
        };
        let now = start_time();
        let workspace = operator::create_workspace(self.store.as_ref(), new, now)
            .await
            .unwrap();
        let (workspace, token) = operator::enable_scim(self.store.as_ref(), &workspace.id, now)
            .await
            .unwrap();
        let token = token.token.expose().to_owned();
        audit::record_issued(token.as_bytes());
        Tenant { workspace, token }
    }

    /// Sends a request with the tenant's token to a path under its SCIM base.
    pub async fn scim(
        &self,
        tenant: &Tenant,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let uri = format!("{}{path}", tenant.base());
        self.send(method, &uri, Some(&tenant.token), body, &[])
            .await
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        self.send_raw(method, uri, token, bytes, headers).await
    }

    pub async fn send_raw(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        audit::record_passwords(&body);
        if let Some(token) = token {
            audit::record_issued(token.as_bytes());
        }
        if let Some(address) = self.server {
            let reply = send_http(address, method, uri, token, body, headers).await;
            audit::record_issued(reply.body.to_string().as_bytes());
            return reply;
        }
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "scim.example.com");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if !body.is_empty() {
            request = request.header("content-type", "application/scim+json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        audit::record_issued(&bytes);
        let text = headers
            .get("content-type")
            .is_some_and(|t| t.as_bytes().starts_with(b"text/plain"));
        let body = if bytes.is_empty() {
            Value::Null
        } else if text {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|err| {
                panic!("not JSON ({err}): {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Creates a user and returns its id.
    pub async fn create_user(&self, tenant: &Tenant, body: Value) -> String {
        let reply = self.scim(tenant, Method::POST, "/Users", Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a group and returns its id.
    pub async fn create_group(&self, tenant: &Tenant, body: Value) -> String {
        let reply = self.scim(tenant, Method::POST, "/Groups", Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// The number of users the tenant can list.
    pub async fn user_count(&self, tenant: &Tenant) -> u64 {
        let reply = self.scim(tenant, Method::GET, "/Users?count=0", None).await;
        reply.body["totalResults"].as_u64().unwrap()
    }
}

impl Drop for TestApp {
    /// In an audited run (see [`audit`]), keeps the database directory and `/metrics` as the
    /// test left them.
    fn drop(&mut self) {
        if audit::dir().is_none() {
            return;
        }
        let router = self.router.clone();
        // The test's runtime may be a current-thread one that is busy dropping this app: read
        // `/metrics` on a runtime of its own.
        let metrics = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let request = Request::get("/metrics").body(Body::empty()).unwrap();
                let read = async move {
                    let response = router.oneshot(request).await.unwrap();
                    response.into_body().collect().await.unwrap().to_bytes()
                };
                tokio::time::timeout(std::time::Duration::from_secs(10), read).await
            })
        })
        .join();
        if let Ok(Ok(text)) = metrics {
            audit::save("metrics", "metrics", &text);
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        audit::keep(dir);
    }
}

/// Replaces every occurrence of `id` in the JSON with `placeholder`, so that a whole body can be
/// compared with an expected literal.
pub fn redact(value: &Value, id: &str, placeholder: &str) -> Value {
    let text = value.to_string().replace(id, placeholder);
    serde_json::from_str(&text).unwrap()
}

/// A `PatchOp` message with these operations.
pub fn patch(operations: Value) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations
    })
}

/// The SCIM Error body for `status`.
pub fn error_body(status: u16, scim_type: Option<&str>, detail: &str) -> Value {
    let mut body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": detail,
        "status": status.to_string(),
    });
    if let Some(scim_type) = scim_type {
        body["scimType"] = Value::String(scim_type.to_owned());
    }
    body
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`), read to its end.
pub async fn send_http(
    address: std::net::SocketAddr,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut head =
        format!("{method} {uri} HTTP/1.1\r\nHost: scim.example.com\r\nConnection: close\r\n");
    if let Some(token) = token {
        head.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    if !body.is_empty() {
        head.push_str("Content-Type: application/scim+json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // A server that refuses a body early may close before it is all sent; its answer still
    // arrives.
    let _ = stream.write_all(&body).await;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();

    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let payload = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut header_map = HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            header_map.append(
                axum::http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                value.trim().parse().unwrap(),
            );
        }
    }
    let body = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(payload)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {}", String::from_utf8_lossy(payload)))
    };
    Reply {
        status: StatusCode::from_u16(status).unwrap(),
        headers: header_map,
        body,
    }
}
