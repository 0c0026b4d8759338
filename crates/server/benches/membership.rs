//! How the cost of adding and removing one group member grows with the group's size.
//!
//! Run with `cargo bench -p rollcall-server --bench membership`. For each group size (10,
//! 10,000 and 100,000 members) it sends alternating PATCH add / remove of one user through the
//! whole HTTP stack (with `excludedAttributes=members`, as IdPs do) on a SQLite file with
//! `synchronous=FULL`, and prints the median and p99 latency and the ratio to the 10-member
//! group. It measures; it asserts nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use rollcall_scim::user::{PreparedUser, Role, UserPolicy, UsernameFormat, prepare_user};
use rollcall_server::clock::SystemClock;
use rollcall_server::operator::{self, NewWorkspace};
use rollcall_server::{AppState, app};
use rollcall_store::{GroupWrite, Plan, ResourceId, Store, UserWrite};
use serde_json::json;
use tower::ServiceExt;

const SIZES: [usize; 3] = [10, 10_000, 100_000];
const ROUNDS: usize = 300;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        rollcall_store::open(&format!("sqlite://{}/bench.db", dir.path().display())).unwrap();
    let now = chrono::Utc::now();
    let workspace = operator::create_workspace(
        store.as_ref(),
        NewWorkspace {
            name: "bench".to_owned(),
            plan: Plan::Enterprise,
            invitation_only: true,
            username_format: UsernameFormat::Email,
            default_role: Role::Member,
            role_discovery: false,
        },
        now,
    )
    .await
    .unwrap();
    let (workspace, token) = operator::enable_scim(store.as_ref(), &workspace.id, now)
        .await
        .unwrap();
    let router = app(AppState {
        // As `serve` runs it: every request is logged.
        request_log: Some(rollcall_server::request_log::RequestLog::start(
            store.clone(),
            Arc::new(SystemClock),
            rollcall_server::request_log::DEFAULT_RETENTION_DAYS,
        )),
        webhooks: Default::default(),
        guard: Default::default(),
        throttle: Default::default(),
        store: store.clone(),
        clock: Arc::new(SystemClock),
        rate: Arc::new(rollcall_server::rate::RateLimiter::new(u32::MAX, u32::MAX)),
        public_url: None,
    });

    let largest = SIZES.iter().max().copied().unwrap_or(0);
    eprintln!("creating {} users...", largest + 1);
    let users = create_users(store.as_ref(), &workspace.id, largest + 1).await;
    let (mover, members) = users.split_last().unwrap();

    let mut baseline = None;
    println!(
        "{:>10} {:>12} {:>12} {:>10}",
        "members", "median", "p99", "ratio"
    );
    for size in SIZES {
        let group = ResourceId::generate();
        let write = GroupWrite {
            body: json!({"displayName": format!("size {size}")}),
            display_name: format!("size {size}"),
            external_id: None,
        };
        let ids: Vec<String> = members[..size].iter().map(ToString::to_string).collect();
        store
            .create_group(&workspace.id, &group, write, ids, chrono::Utc::now())
            .await
            .unwrap();

        let uri = format!(
            "/integrations/scim/{}/Groups/{group}?excludedAttributes=members",
            workspace.id
        );
        let mut timings = Vec::with_capacity(ROUNDS);
        for round in 0..ROUNDS {
            let operation = if round % 2 == 0 {
                json!({"op": "add", "path": "members", "value": [{"value": mover.as_str()}]})
            } else {
                json!({"op": "remove", "path": format!("members[value eq \"{mover}\"]")})
            };
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [operation]
            });
            let request = Request::builder()
                .method(Method::PATCH)
                .uri(&uri)
                .header("authorization", format!("Bearer {}", token.token.expose()))
                .header("content-type", "application/scim+json")
                .body(Body::from(body.to_string()))
                .unwrap();
            let started = Instant::now();
            let response = router.clone().oneshot(request).await.unwrap();
            timings.push(started.elapsed());
            assert_eq!(response.status(), StatusCode::OK);
        }
        timings.sort();
        let median = timings[timings.len() / 2];
        let p99 = timings[timings.len() * 99 / 100];
        let base = *baseline.get_or_insert(median);
        println!(
            "{size:>10} {:>12} {:>12} {:>10.2}",
            format_duration(median),
            format_duration(p99),
            median.as_secs_f64() / base.as_secs_f64()
        );
    }
}

async fn create_users(
    store: &dyn Store,
    workspace: &rollcall_store::WorkspaceId,
    count: usize,
) -> Vec<ResourceId> {
    let policy = UserPolicy {
        username_format: UsernameFormat::Email,
        default_role: Role::Member,
    };
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let user: PreparedUser = prepare_user(
            &json!({"userName": format!("u{n}@bench.example")}),
            &policy,
            None,
        )
        .unwrap();
        let id = ResourceId::generate();
        store
            .create_user(workspace, &id, UserWrite::new(user, chrono::Utc::now()))
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

fn format_duration(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1000.0)
}
