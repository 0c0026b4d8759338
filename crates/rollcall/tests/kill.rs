//! Crash safety: the server is killed with SIGKILL at a random moment of a write load, 20
//! times, and restarted each time on the same database.
//!
//! After every kill, every write that was answered 2xx must be there, and nothing may be half
//! there: on SQLite the file passes `PRAGMA integrity_check` and `foreign_key_check`; on either
//! backend every user has its `user.created` event, every `user.created` event has its user (or
//! a `user.deleted` after it), and every membership agrees with the last member event of its
//! group and user. A write that was in flight when the server died may have committed or not;
//! the test accepts either for that write, and only for it.
//!
//! Four client threads each work on users and groups of their own, so the expected state of
//! every resource is the order of its own thread's acknowledged writes. The kill moments come
//! from a seeded generator: the seed is printed, and `KILL_SEED=N` replays it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ROUNDS: usize = 20;
const THREADS: usize = 4;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One request; `None` when the connection failed (the server died).
fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Option<(u16, Value)> {
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, payload) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let value = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(payload).ok()?
    };
    Some((status, value))
}

/// What one thread knows of its resources: the acknowledged state, and which resources had a
/// write in flight when the server died (their state may be either).
#[derive(Default)]
struct Known {
    /// user id → active
    users: BTreeMap<String, bool>,
    /// group id → members
    groups: BTreeMap<String, BTreeSet<String>>,
    /// Users (by id) and memberships (`group/user`) whose last write was in flight when the
    /// server died: either state is right for them.
    doubt: BTreeSet<String>,
    /// Writes answered 2xx, in all rounds.
    acknowledged: usize,
}

fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

fn start(database: &str, address: SocketAddr, bootstrap: bool) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    command
        .env("ROLLCALL_DATABASE_URL", database)
        .env("RUST_LOG", "warn")
        .args(["serve", "--listen", &address.to_string()])
        .args(["--rate-per-second", "1000000", "--rate-burst", "1000000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if !bootstrap {
        command.arg("--no-bootstrap");
    }
    command.spawn().unwrap()
}

fn wait_ready(address: SocketAddr) {
    let started = Instant::now();
    loop {
        if let Some((200, _)) = http(address, "GET", "/readyz", "", None) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What an acknowledged write changes in what its thread knows.
type OnAnswer = Box<dyn FnOnce(&mut Known, &Value)>;

/// One thread's writes until the server dies.
fn load(
    address: SocketAddr,
    base: &str,
    token: &str,
    thread: usize,
    seed: u64,
    known: &Mutex<Known>,
) {
    let mut rng = Rng(seed ^ (thread as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut n = 0u64;
    loop {
        n += 1;
        let state = known.lock().unwrap();
        let users: Vec<String> = state.users.keys().cloned().collect();
        let groups: Vec<String> = state.groups.keys().cloned().collect();
        drop(state);
        let pick = |rng: &mut Rng, items: &[String]| {
            items.get(rng.below(items.len() as u64) as usize).cloned()
        };
        let choice = rng.below(10);
        let (outcome, doubt, on_ok): (Option<(u16, Value)>, Vec<String>, OnAnswer) = if choice < 4
            || users.len() < 2
        {
            let body =
                json!({"userName": format!("t{thread}-{seed}-{n}@example.com"), "active": true});
            let reply = http(
                address,
                "POST",
                &format!("{base}/Users"),
                token,
                Some(&body),
            );
            (
                reply,
                vec![],
                Box::new(|known, body| {
                    known
                        .users
                        .insert(body["id"].as_str().unwrap().to_owned(), true);
                }),
            )
        } else if choice < 6 {
            let user = pick(&mut rng, &users).unwrap();
            let active = rng.below(2) == 0;
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "active", "value": active}]});
            let reply = http(
                address,
                "PATCH",
                &format!("{base}/Users/{user}"),
                token,
                Some(&body),
            );
            let key = user.clone();
            (
                reply,
                vec![key],
                Box::new(move |known, _| {
                    known.users.insert(user, active);
                }),
            )
        } else if choice < 7 || groups.is_empty() {
            let members: BTreeSet<String> = (0..2).filter_map(|_| pick(&mut rng, &users)).collect();
            let body = json!({"displayName": format!("g{thread}-{seed}-{n}"),
                    "members": members.iter().map(|m| json!({"value": m})).collect::<Vec<_>>()});
            let reply = http(
                address,
                "POST",
                &format!("{base}/Groups"),
                token,
                Some(&body),
            );
            (
                reply,
                vec![],
                Box::new(move |known, body| {
                    known
                        .groups
                        .insert(body["id"].as_str().unwrap().to_owned(), members);
                }),
            )
        } else {
            let group = pick(&mut rng, &groups).unwrap();
            let user = pick(&mut rng, &users).unwrap();
            let add = rng.below(2) == 0;
            let operation = if add {
                json!({"op": "add", "path": "members", "value": [{"value": user}]})
            } else {
                json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")})
            };
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]});
            let reply = http(
                address,
                "PATCH",
                &format!("{base}/Groups/{group}"),
                token,
                Some(&body),
            );
            let key = format!("{group}/{user}");
            (
                reply,
                vec![key],
                Box::new(move |known, _| {
                    let members = known.groups.get_mut(&group).unwrap();
                    if add {
                        members.insert(user);
                    } else {
                        members.remove(&user);
                    }
                }),
            )
        };
        let mut state = known.lock().unwrap();
        match outcome {
            Some((status, body)) if (200..300).contains(&status) => {
                on_ok(&mut state, &body);
                state.acknowledged += 1;
                for key in doubt {
                    state.doubt.remove(&key);
                }
            }
            Some((status, body)) => panic!("thread {thread}: unexpected {status}: {body}"),
            None => {
                // The server died during this write: it may or may not have committed.
                state.doubt.extend(doubt);
                return;
            }
        }
    }
}

/// Every resource of a list, by id, read page by page.
fn list_all(address: SocketAddr, path: &str, token: &str) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    let mut start = 1;
    loop {
        let url = format!("{path}?startIndex={start}&count=500");
        let (status, page) = http(address, "GET", &url, token, None).unwrap();
        assert_eq!(status, 200, "{page}");
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        for resource in &resources {
            all.insert(
                resource["id"].as_str().unwrap().to_owned(),
                resource.clone(),
            );
        }
        start += 500;
        if resources.is_empty() || start > page["totalResults"].as_u64().unwrap() as usize {
            return all;
        }
    }
}

/// The whole event feed, read with the CLI.
fn feed(database: &str, workspace: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after = "0".to_owned();
    loop {
        let output = Command::new(env!("CARGO_BIN_EXE_rollcall"))
            .env("ROLLCALL_DATABASE_URL", database)
            .args([
                "events", "list", workspace, "--after", &after, "--limit", "1000", "--json",
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let page: Value = serde_json::from_slice(&output.stdout).unwrap();
        let batch = page["events"].as_array().unwrap().clone();
        if batch.is_empty() {
            return events;
        }
        after = page["next_cursor"].as_str().unwrap().to_owned();
        events.extend(batch);
    }
}

#[test]
fn every_acknowledged_write_survives_kill_9_and_nothing_is_half_written() {
    let seed: u64 = std::env::var("KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    eprintln!("kill: seed {seed} (KILL_SEED={seed} replays the kill moments)");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let database = rollcall_store::testing::fresh_database_url(dir.path()).unwrap();
    let sqlite_path = database.strip_prefix("sqlite://").map(str::to_owned);

    // The first start creates the workspace and prints its base URL and token.
    let address = free_address();
    let mut server = start(&database, address, true);
    let mut printed = String::new();
    let stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    for line in std::io::BufRead::lines(stdout) {
        let line = line.unwrap();
        let done = line.contains("Bearer token:");
        printed.push_str(&line);
        printed.push('\n');
        if done {
            break;
        }
    }
    let line = |prefix: &str| {
        printed
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
            .unwrap()
    };
    let base_url = line("SCIM base URL:");
    let token = line("Bearer token:");
    let workspace = base_url.rsplit('/').next().unwrap().to_owned();
    let base = format!("/integrations/scim/{workspace}");
    wait_ready(address);

    let known: Vec<Arc<Mutex<Known>>> = (0..THREADS).map(|_| Arc::default()).collect();
    let mut address = address;
    for round in 0..ROUNDS {
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (known, token, base) = (known[thread].clone(), token.clone(), base.clone());
                let round_seed = seed.wrapping_add(round as u64 * 1000);
                std::thread::spawn(move || load(address, &base, &token, thread, round_seed, &known))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50 + rng.below(450)));
        server.kill().unwrap();
        server.wait().unwrap();
        for thread in threads {
            thread.join().unwrap();
        }

        if let Some(path) = &sqlite_path {
            let conn = rusqlite::Connection::open(path).unwrap();
            let integrity: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(integrity, "ok", "round {round} (seed {seed})");
            let broken: i64 = conn
                .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(
                broken, 0,
                "round {round} (seed {seed}): foreign keys broken"
            );
        }
        // On PostgreSQL there is no file to check: the database keeps its own consistency, and
        // the checks below hold on both.

        address = free_address();
        server = start(&database, address, false);
        wait_ready(address);
        check(
            address, &base, &token, &database, &workspace, &known, round, seed,
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let acknowledged: usize = known.iter().map(|k| k.lock().unwrap().acknowledged).sum();
    let users: usize = known.iter().map(|k| k.lock().unwrap().users.len()).sum();
    let groups: usize = known.iter().map(|k| k.lock().unwrap().groups.len()).sum();
    eprintln!(
        "kill: {ROUNDS} kills, {acknowledged} acknowledged writes checked ({users} users, {groups} groups)"
    );
    assert!(
        acknowledged > ROUNDS * 5,
        "too little load to prove anything: {acknowledged}"
    );
}

#[allow(clippy::too_many_arguments)]
fn check(
    address: SocketAddr,
    base: &str,
    token: &str,
    database: &str,
    workspace: &str,
    known: &[Arc<Mutex<Known>>],
    round: usize,
    seed: u64,
) {
    let context = format!("round {round} (seed {seed})");
    let users: BTreeMap<String, Value> = list_all(address, &format!("{base}/Users"), token);
    let groups: BTreeMap<String, Value> = list_all(address, &format!("{base}/Groups"), token);
    let members_of = |group: &Value| -> BTreeSet<String> {
        group["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| m["value"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for known in known {
        let known = known.lock().unwrap();
        for (user, active) in &known.users {
            let stored = users
                .get(user)
                .unwrap_or_else(|| panic!("{context}: acknowledged user {user} is gone"));
            if !known.doubt.contains(user) {
                assert_eq!(stored["active"], *active, "{context}: user {user}");
            }
        }
        for (group, members) in &known.groups {
            let stored = groups
                .get(group)
                .map(members_of)
                .unwrap_or_else(|| panic!("{context}: acknowledged group {group} is gone"));
            let all: BTreeSet<&String> = stored.iter().chain(members.iter()).collect();
            for user in all {
                if known.doubt.contains(&format!("{group}/{user}")) {
                    continue;
                }
                assert_eq!(
                    stored.contains(user),
                    members.contains(user),
                    "{context}: membership of {user} in {group}"
                );
            }
        }
    }

    // Nothing half written: the feed and the directory agree.
    let events = feed(database, workspace);
    let mut created = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    let mut last_member: BTreeMap<(String, String), bool> = BTreeMap::new();
    for event in &events {
        let id = event["resource_id"].as_str().unwrap().to_owned();
        match event["type"].as_str().unwrap() {
            "user.created" => {
                created.insert(id);
            }
            "user.deleted" => {
                deleted.insert(id);
            }
            kind @ ("group.member_added" | "group.member_removed") => {
                let user = event["data"]["user"].as_str().unwrap().to_owned();
                last_member.insert((id, user), kind == "group.member_added");
            }
            _ => {}
        }
    }
    let existing: BTreeSet<String> = users.keys().cloned().collect();
    for user in &existing {
        assert!(
            created.contains(user),
            "{context}: user {user} has no user.created event"
        );
    }
    for user in &created {
        assert!(
            existing.contains(user) || deleted.contains(user),
            "{context}: user.created for {user}, no user"
        );
    }
    for (id, group) in &groups {
        let id = id.clone();
        let members = members_of(group);
        for member in &members {
            assert!(
                existing.contains(member),
                "{context}: member {member} of {id} is no user"
            );
            assert_eq!(
                last_member.get(&(id.clone(), member.clone())),
                Some(&true),
                "{context}: {member} is in {id} without a member_added event as its last"
            );
        }
        for ((group, user), added) in &last_member {
            if *group == id && *added {
                assert!(
                    members.contains(user),
                    "{context}: member_added for {user} in {id}, not a member"
                );
            }
        }
    }
}
