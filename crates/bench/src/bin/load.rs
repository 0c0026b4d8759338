//! The bulk loader of `scripts/bench`: creates a workspace with SCIM enabled, then users and
//! groups, straight through the store's public API, far faster than through HTTP.
//!
//! ```text
//! load --database sqlite://target/bench/work/depth.db --name depth --users 1000000 \
//!      --prefix depth- --ids depth-ids.txt
//! load --database postgres://... --name groups --users 100000 --movers 100 \
//!      --groups 10,10000,100000 --prefix member- --ids ids.txt --movers-file movers.txt
//! ```
//!
//! Users are what `../shared/tools/bench_load.py` sends: userName `PREFIX{n:05}@example.com`
//! and externalId `ext-{n}` for n from 1, so the same wrk scenarios serve both. Movers are
//! further users (`mover-{n}@example.com`) that belong to no group, for the membership
//! scenarios to add and remove. Group `i` of `--groups` holds the first `size` users.
//!
//! Each user is an ordinary `create_user`: prepared as a POST body would be, committed with
//! its event. Many tasks write at once so that SQLite's writer commits them in large batches
//! (group commit, one fsync per batch), and PostgreSQL's pool stays busy. It prints one JSON
//! object: the workspace, its token, the group ids and how long the users took.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use rollcall_scim::user::{Role, UserPolicy, UsernameFormat, prepare_user};
use rollcall_server::operator::{self, NewWorkspace};
use rollcall_store::sqlite::SqliteStore;
use rollcall_store::{DatabaseUrl, GroupWrite, Plan, ResourceId, Store, UserWrite, WorkspaceId};
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// `sqlite://PATH` or `postgres://...`, as `ROLLCALL_DATABASE_URL`.
    #[arg(long)]
    database: String,
    /// The new workspace's name.
    #[arg(long, default_value = "bench")]
    name: String,
    /// Users to create, named `PREFIX{n:05}@example.com`.
    #[arg(long)]
    users: usize,
    #[arg(long, default_value = "bench-")]
    prefix: String,
    /// Where to write the users' ids, in the order of n, one a line.
    #[arg(long)]
    ids: PathBuf,
    /// Further users that belong to no group.
    #[arg(long, default_value_t = 0)]
    movers: usize,
    #[arg(long)]
    movers_file: Option<PathBuf>,
    /// Group sizes, comma separated; each group holds the first SIZE users.
    #[arg(long, value_delimiter = ',')]
    groups: Vec<usize>,
    /// Writes in flight at once; by default 4096 on SQLite (its writer commits what is
    /// queued together, so more in flight means fewer commits) and 16 on PostgreSQL (writes to
    /// one workspace take turns on its advisory lock, and more only queue for the pool).
    #[arg(long)]
    concurrency: Option<usize>,
    /// The most writes SQLite commits together.
    #[arg(long, default_value_t = 4096)]
    batch: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let groups_fit = args.groups.iter().all(|&size| size <= args.users);
    anyhow::ensure!(groups_fit, "a group cannot have more members than --users");

    let (store, concurrency): (Arc<dyn Store>, usize) = match DatabaseUrl::parse(&args.database)? {
        DatabaseUrl::Sqlite(path) => (
            Arc::new(SqliteStore::open_with_batch(path, args.batch)?),
            args.concurrency.unwrap_or(4096),
        ),
        DatabaseUrl::Postgres(_) => (
            rollcall_store::open(&args.database)?,
            args.concurrency.unwrap_or(16),
        ),
    };
    let now = Utc::now();
    let new = NewWorkspace {
        name: args.name.clone(),
        plan: Plan::Enterprise,
        invitation_only: true,
        username_format: UsernameFormat::Email,
        default_role: Role::Member,
        role_discovery: false,
    };
    let workspace = operator::create_workspace(store.as_ref(), new, now).await?;
    let (workspace, token) = operator::enable_scim(store.as_ref(), &workspace.id, now).await?;

    // The users, then the movers, each written in n's order to their file.
    let started = Instant::now();
    let prefix = args.prefix.clone();
    let users = create_users(&store, &workspace.id, args.users, concurrency, move |n| {
        user_body(&format!("{prefix}{n:05}@example.com"), n)
    })
    .await?;
    let user_seconds = started.elapsed().as_secs_f64();
    write_ids(&args.ids, &users)?;
    let movers = create_users(&store, &workspace.id, args.movers, concurrency, |n| {
        user_body(&format!("mover-{n:05}@example.com"), 1_000_000_000 + n)
    })
    .await?;
    if let Some(path) = &args.movers_file {
        write_ids(path, &movers)?;
    }

    let mut groups = Vec::new();
    for &size in &args.groups {
        let started = Instant::now();
        let id = ResourceId::generate();
        let name = format!("bench group of {size}");
        let write = GroupWrite {
            body: json!({"displayName": name}),
            display_name: name,
            external_id: None,
        };
        let members = users[..size].iter().map(ToString::to_string).collect();
        store
            .create_group(&workspace.id, &id, write, members, Utc::now())
            .await
            .with_context(|| format!("creating the group of {size}"))?;
        groups.push(json!({"size": size, "id": id.to_string(),
                           "seconds": started.elapsed().as_secs_f64()}));
    }

    let report = json!({
        "workspace_id": workspace.id.to_string(),
        "base_path": operator::base_path(&workspace.id),
        "token": token.token.expose(),
        "users": users.len(),
        "movers": movers.len(),
        "user_seconds": user_seconds,
        "users_per_second": users.len() as f64 / user_seconds.max(1e-9),
        "groups": groups,
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{report}");
    Ok(())
}

/// Creates `count` users (`body(n)` for n in 1..=count) with `concurrency` writers, and
/// returns their ids in n's order.
async fn create_users(
    store: &Arc<dyn Store>,
    workspace: &WorkspaceId,
    count: usize,
    concurrency: usize,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> anyhow::Result<Vec<ResourceId>> {
    let next = Arc::new(AtomicUsize::new(1));
    let body = Arc::new(body);
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (store, workspace, next, body) =
            (store.clone(), workspace.clone(), next.clone(), body.clone());
        writers.spawn(async move {
            let policy = UserPolicy {
                username_format: UsernameFormat::Email,
                default_role: Role::Member,
            };
            let mut made = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n > count {
                    return anyhow::Ok(made);
                }
                let user = prepare_user(&body(n), &policy, None)?;
                let id = ResourceId::generate();
                store
                    .create_user(&workspace, &id, UserWrite::new(user, Utc::now()))
                    .await
                    .with_context(|| format!("creating user {n}"))?;
                made.push((n, id));
                if n % 100_000 == 0 {
                    eprintln!("load: {n} users");
                }
            }
        });
    }

    let mut all = Vec::with_capacity(count);
    while let Some(made) = writers.join_next().await {
        all.extend(made??);
    }
    all.sort_by_key(|(n, _)| *n);
    Ok(all.into_iter().map(|(_, id)| id).collect())
}

/// A user as `../shared/tools/bench_load.py` posts it.
fn user_body(user_name: &str, n: usize) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "externalId": format!("ext-{n}"),
        "name": {"givenName": "Bench", "familyName": format!("User{n}")},
        "displayName": format!("Bench User {n}"),
        "emails": [{"value": user_name, "type": "work", "primary": true}],
        "active": true,
    })
}

fn write_ids(path: &std::path::Path, ids: &[ResourceId]) -> anyhow::Result<()> {
    let lines: String = ids.iter().map(|id| format!("{id}\n")).collect();
    std::fs::write(path, lines).with_context(|| format!("writing {}", path.display()))
}
