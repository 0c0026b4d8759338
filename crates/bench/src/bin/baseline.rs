//! The "bare axum" ceiling of `scripts/bench`: `GET /Users/{id}` answered from a `HashMap` of
//! small, fixed user documents, with nothing else in the way (no auth, no store, no logging).
//!
//! ```text
//! baseline --listen 127.0.0.1:18400 --users 10000 --ids target/bench/work/baseline-ids.txt
//! ```
//!
//! It writes the ids it serves to `--ids`, one a line, for the wrk script, then prints
//! `listening on ADDR` and serves until it is killed. Whatever rollcall does per request beyond
//! this (auth, the store, SCIM rendering, the request log) shows up as the ratio to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Parser;
use serde_json::{Value, json};

#[derive(Parser)]
struct Args {
    /// The address to serve on.
    #[arg(long, default_value = "127.0.0.1:18400")]
    listen: String,
    /// How many users to serve.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Where to write the ids, one a line.
    #[arg(long)]
    ids: std::path::PathBuf,
}

type Users = Arc<HashMap<String, Value>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();

    // Ids shaped like rollcall's (UUIDs), so that requests have the same length.
    let users: HashMap<String, Value> = (1..=args.users)
        .map(|n| {
            let id = format!("{n:08x}-0000-4000-8000-{:012x}", n * 7919);
            let user = user_document(&id, n);
            (id, user)
        })
        .collect();
    let mut ids: Vec<&String> = users.keys().collect();
    ids.sort();
    let lines: String = ids.iter().map(|id| format!("{id}\n")).collect();
    std::fs::write(&args.ids, lines)?;

    let app = Router::new()
        .route("/Users/{id}", get(get_user))
        .with_state(Arc::new(users));
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn get_user(State(users): State<Users>, Path(id): Path<String>) -> Response {
    match users.get(&id) {
        Some(user) => (
            [(header::CONTENT_TYPE, "application/scim+json")],
            serde_json::to_vec(user).unwrap_or_default(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A user about the size of the ones the loader gives rollcall.
fn user_document(id: &str, n: usize) -> Value {
    let name = format!("bench-{n:05}@example.com");
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": id,
        "externalId": format!("ext-{n}"),
        "userName": name,
        "name": {"givenName": "Bench", "familyName": format!("User{n}")},
        "displayName": format!("Bench User {n}"),
        "emails": [{"value": name, "type": "work", "primary": true}],
        "active": true,
        "meta": {
            "resourceType": "User",
            "created": "2024-01-01T00:00:00Z",
            "lastModified": "2024-01-01T00:00:00Z",
            "location": format!("/Users/{id}"),
            "version": "W/\"1\""
        }
    })
}
