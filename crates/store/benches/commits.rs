//! Durable writes per second on this disk, SQLite with `synchronous=FULL`:
//!
//! 1. the disk's single-commit rate: one connection, one row per `BEGIN IMMEDIATE` ... `COMMIT`;
//! 2. user creates through the store with every write committed on its own (batches of 1);
//! 3. the same with group commit (the default), from the same number of concurrent writers.
//!
//! Each runs for `SECONDS` (default 5) with `WRITERS` (default 32) concurrent tasks, and the
//! output gives the ratios of 2 and 3 to 1. Run it with
//! `cargo bench -p rollcall-store --bench commits`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use rollcall_scim::user::{Role, UserPolicy, UsernameFormat, prepare_user};
use rollcall_store::sqlite::SqliteStore;
use rollcall_store::{Plan, ResourceId, Store, UserWrite, Workspace, WorkspaceId};
use serde_json::json;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Single-row transactions per second on one connection.
fn disk_rate(dir: &std::path::Path, seconds: u64) -> f64 {
    let conn = rusqlite::Connection::open(dir.join("disk.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .unwrap();
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < Duration::from_secs(seconds) {
        conn.execute_batch("BEGIN IMMEDIATE; INSERT INTO t (v) VALUES ('x'); COMMIT;")
            .unwrap();
        commits += 1;
    }
    commits as f64 / started.elapsed().as_secs_f64()
}

/// User creates per second through the store, `writers` at a time.
async fn store_rate(store: Arc<dyn Store>, writers: u64, seconds: u64) -> f64 {
    let workspace = WorkspaceId::new("bench");
    store
        .create_workspace(Workspace {
            id: workspace.clone(),
            name: "bench".to_owned(),
            plan: Plan::Enterprise,
            invitation_only: true,
            scim_enabled: true,
            username_format: UsernameFormat::Any,
            default_role: Role::Member,
            role_discovery: false,
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let (store, workspace, done, stop) =
            (store.clone(), workspace.clone(), done.clone(), stop.clone());
        tasks.spawn(async move {
            let policy = UserPolicy {
                username_format: UsernameFormat::Any,
                default_role: Role::Member,
            };
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let body =
                    json!({"userName": format!("w{writer}-{n}@example.com"), "active": true});
                let user = prepare_user(&body, &policy, None).unwrap();
                store
                    .create_user(
                        &workspace,
                        &ResourceId::generate(),
                        UserWrite::new(user, Utc::now()),
                    )
                    .await
                    .unwrap();
                done.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let count = done.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    while tasks.join_next().await.is_some() {}
    count as f64 / elapsed
}

fn main() {
    let seconds = env_or("SECONDS", 5);
    let writers = env_or("WRITERS", 32);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    let disk = disk_rate(dir.path(), seconds);
    let one = runtime.block_on(store_rate(
        Arc::new(SqliteStore::open_with_batch(dir.path().join("one.db"), 1).unwrap()),
        writers,
        seconds,
    ));
    let grouped = runtime.block_on(store_rate(
        Arc::new(SqliteStore::open(dir.path().join("grouped.db")).unwrap()),
        writers,
        seconds,
    ));
    println!("durable writes per second, synchronous=FULL, {writers} writers, {seconds} s each");
    println!("disk, one row per commit      {disk:>9.0}  1.00x");
    println!(
        "user creates, one per commit  {one:>9.0}  {:.2}x",
        one / disk
    );
    println!(
        "user creates, group commit    {grouped:>9.0}  {:.2}x",
        grouped / disk
    );
}
