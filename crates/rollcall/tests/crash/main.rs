//! Durability under SIGKILL: every write is durable once its 2xx is sent, and no partial state
//! exists.
//!
//! The real binary serves one database for 20 rounds. In each round four client threads send
//! writes (users created, deactivated, reactivated and deleted; groups created with members;
//! members added and removed) until the server is killed with SIGKILL 50 to 500 ms in, then it
//! is started again on the same database. The kill moments and the choice of writes come from
//! a seeded xorshift generator: the seed is printed, and `CRASH_SEED=N` draws the same kill
//! moments and random streams again (how far each thread gets before a kill still depends on
//! timing).
//!
//! Each thread owns its users and groups, so the state its acknowledged writes promise is the
//! order in which it sent them. A thread stops at its first failed request, so at most one
//! write per thread is in doubt when the server dies; after the restart the test reads whether
//! that write took effect and holds the directory to it from then on. A 2xx whose body was cut
//! off still counts as acknowledged.
//!
//! After each kill, on SQLite, the file passes `PRAGMA integrity_check` and has no
//! `foreign_key_check` rows. After each restart, through the SCIM API and `rollcall events
//! list`: every acknowledged write holds (GET /Users/{id} answers 200 with the `active` last
//! acknowledged, or 404 after an acknowledged DELETE, and every group has the members its
//! acknowledged writes left); the feed never loses an event it showed before, and holds exactly
//! one event per change that took effect and none other; every user has its `user.created`,
//! every `user.created` has its user or a later `user.deleted`; every member is an existing
//! user; and the last member event of each (group, user), or the user's deletion after it,
//! agrees with whether the user is a member now.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client;
mod rng;
mod server;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use client::{Api, Outcome, http};
use rng::{Rng, mix};
use server::{start_again, start_first};

const ROUNDS: u64 = 20;
const THREADS: usize = 4;
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

#[test]
fn every_acknowledged_write_survives_sigkill_and_nothing_is_half_written() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .map(|s| s.parse::<u64>().expect("CRASH_SEED is a number"))
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            now.unwrap().as_nanos() as u64
        });
    eprintln!("crash: seed {seed} (CRASH_SEED={seed} replays its kill moments)");
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let database = rollcall_store::testing::fresh_database_url(dir.path()).unwrap();
    let sqlite_file = database.strip_prefix("sqlite://").map(PathBuf::from);
    let log = dir.path().join("serve.log");

    let (mut server, workspace, token) = start_first(&database, &log);
    let base = format!("/integrations/scim/{workspace}");
    let mut ledgers: Vec<Ledger> = (0..THREADS).map(|_| Ledger::default()).collect();
    let mut feed_seen = Vec::new();

    for round in 0..ROUNDS {
        let round_seed = mix(seed.wrapping_add(round));
        let kill_after = Duration::from_millis(50 + Rng::new(round_seed).below(451) as u64);
        let context = format!("round {round} of seed {seed}");
        let address = server.address;
        std::thread::scope(|scope| {
            for (thread, ledger) in ledgers.iter_mut().enumerate() {
                let (base, token) = (&base, &token);
                let thread_seed = mix(round_seed ^ thread as u64);
                scope.spawn(move || {
                    load(address, base, token, round, thread, thread_seed, ledger);
                });
            }
            std::thread::sleep(kill_after);
            server.kill();
        });

        // Before the restart, the file as the dead server left it. PostgreSQL has no file to
        // open, and keeps its own consistency: on it only the checks through the API run.
        if let Some(file) = &sqlite_file {
            check_sqlite_file(file, &context);
        }

        let in_doubt = ledgers.iter().filter(|l| l.in_doubt.is_some()).count();
        server = start_again(&database, &log);
        let api = Api {
            address: server.address,
            base: base.clone(),
            token: token.clone(),
        };
        check_round(
            &api,
            &database,
            &workspace,
            &mut ledgers,
            &mut feed_seen,
            &context,
        );
        eprintln!(
            "crash: round {round}: killed after {} ms, {} events in the feed, {in_doubt} writes \
             were in flight",
            kill_after.as_millis(),
            feed_seen.len()
        );
    }
    drop(server);

    // The totals, and a floor that keeps the test from passing on no load at all.
    let mut acknowledged: BTreeMap<&str, usize> = BTreeMap::new();
    for ledger in &ledgers {
        for (kind, count) in &ledger.acknowledged {
            *acknowledged.entry(kind).or_default() += count;
        }
    }
    let took_effect: usize = ledgers.iter().map(|l| l.in_flight_took_effect).sum();
    let did_not: usize = ledgers.iter().map(|l| l.in_flight_did_not).sum();
    eprintln!(
        "crash: {ROUNDS} kills in {:.1} s; acknowledged writes checked: {acknowledged:?}; \
         writes in flight at a kill: {took_effect} took effect, {did_not} did not",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        acknowledged.len(),
        7,
        "seed {seed}: some kind of write was never acknowledged"
    );
    let total: usize = acknowledged.values().sum();
    assert!(
        total >= ROUNDS as usize * THREADS,
        "seed {seed}: too little load to prove anything: {total} acknowledged writes"
    );
}

/// One write a client thread sends.
#[derive(Clone, Debug)]
enum Write {
    CreateUser {
        user_name: String,
    },
    SetActive {
        user: String,
        active: bool,
    },
    CreateGroup {
        display_name: String,
        members: BTreeSet<String>,
    },
    SetMember {
        group: String,
        user: String,
        member: bool,
    },
    DeleteUser {
        user: String,
    },
}

impl Write {
    fn kind(&self) -> &'static str {
        match self {
            Write::CreateUser { .. } => "user create",
            Write::SetActive { active: false, .. } => "deactivation",
            Write::SetActive { active: true, .. } => "reactivation",
            Write::CreateGroup { .. } => "group create",
            Write::SetMember { member: true, .. } => "member add",
            Write::SetMember { member: false, .. } => "member remove",
            Write::DeleteUser { .. } => "user delete",
        }
    }

    /// The method, path under the SCIM base and body of the request.
    fn request(&self) -> (&'static str, String, Option<Value>) {
        let patch = |operation: Value| json!({"schemas": [PATCH_OP], "Operations": [operation]});
        match self {
            Write::CreateUser { user_name } => (
                "POST",
                "/Users".to_owned(),
                Some(json!({"userName": user_name, "active": true})),
            ),
            Write::SetActive { user, active } => (
                "PATCH",
                format!("/Users/{user}"),
                Some(patch(
                    json!({"op": "replace", "path": "active", "value": active}),
                )),
            ),
            Write::CreateGroup {
                display_name,
                members,
            } => {
                let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
                let body = json!({"displayName": display_name, "members": members});
                ("POST", "/Groups".to_owned(), Some(body))
            }
            Write::SetMember {
                group,
                user,
                member,
            } => {
                let operation = if *member {
                    json!({"op": "add", "path": "members", "value": [{"value": user}]})
                } else {
                    json!({"op": "remove", "path": format!("members[value eq \"{user}\"]")})
                };
                ("PATCH", format!("/Groups/{group}"), Some(patch(operation)))
            }
            Write::DeleteUser { user } => ("DELETE", format!("/Users/{user}"), None),
        }
    }
}

/// What one thread's writes have made of its users and groups.
#[derive(Default)]
struct Ledger {
    /// Existing users, by id, with `active` as the last write that took effect left it.
    users: BTreeMap<String, bool>,
    /// Users whose DELETE took effect.
    deleted: BTreeSet<String>,
    /// Groups, by id, with their members.
    groups: BTreeMap<String, BTreeSet<String>>,
    /// How many events of each (type, resource id, `data.user` or "") the writes that took
    /// effect recorded.
    events: BTreeMap<(String, String, String), usize>,
    /// The write in doubt when the server died, and whether it was answered 2xx (a create whose
    /// body, and so its id, was cut off).
    in_doubt: Option<(Write, bool)>,
    /// Acknowledged writes by kind, over all rounds.
    acknowledged: BTreeMap<&'static str, usize>,
    in_flight_took_effect: usize,
    in_flight_did_not: usize,
}

impl Ledger {
    /// Records a write that took effect; `id` is the created resource's for a create.
    fn apply(&mut self, write: &Write, id: Option<&str>) {
        let mut event = |kind: &str, resource: &str, user: &str| {
            let key = (kind.to_owned(), resource.to_owned(), user.to_owned());
            *self.events.entry(key).or_default() += 1;
        };
        match write {
            Write::CreateUser { .. } => {
                let id = id.expect("a created user's id");
                event("user.created", id, "");
                self.users.insert(id.to_owned(), true);
            }
            Write::SetActive { user, active } => {
                let kind = if *active {
                    "user.reactivated"
                } else {
                    "user.deactivated"
                };
                event(kind, user, "");
                self.users.insert(user.clone(), *active);
            }
            Write::CreateGroup { members, .. } => {
                let id = id.expect("a created group's id");
                event("group.created", id, "");
                for member in members {
                    event("group.member_added", id, member);
                }
                self.groups.insert(id.to_owned(), members.clone());
            }
            Write::SetMember {
                group,
                user,
                member,
            } => {
                let kind = if *member {
                    "group.member_added"
                } else {
                    "group.member_removed"
                };
                event(kind, group, user);
                let members = self.groups.get_mut(group).unwrap();
                if *member {
                    members.insert(user.clone());
                } else {
                    members.remove(user);
                }
            }
            // `user.deleted` stands for the memberships that go with the user.
            Write::DeleteUser { user } => {
                event("user.deleted", user, "");
                self.users.remove(user);
                self.deleted.insert(user.clone());
                for members in self.groups.values_mut() {
                    members.remove(user);
                }
            }
        }
    }

    fn acknowledge(&mut self, write: &Write, id: Option<&str>) {
        self.apply(write, id);
        *self.acknowledged.entry(write.kind()).or_default() += 1;
    }

    /// The next write: every one changes something, so that each leaves exactly one event
    /// per change and a lost one shows.
    fn choose(&self, rng: &mut Rng, round: u64, thread: usize, n: usize) -> Write {
        let users: Vec<&String> = self.users.keys().collect();
        let groups: Vec<&String> = self.groups.keys().collect();
        let roll = rng.below(100);
        if users.len() < 3 || roll < 35 {
            let user_name = format!("r{round}-t{thread}-{n}@example.com");
            return Write::CreateUser { user_name };
        }
        let user = users[rng.below(users.len())].clone();
        if roll < 55 {
            let active = !self.users[&user];
            Write::SetActive { user, active }
        } else if roll < 65 || groups.is_empty() {
            let count = rng.below(3);
            let members = (0..count)
                .map(|_| users[rng.below(users.len())].clone())
                .collect();
            let display_name = format!("r{round}-t{thread}-{n}");
            Write::CreateGroup {
                display_name,
                members,
            }
        } else if roll < 92 {
            // Half of these remove a member, when the group has one; the rest toggle a random
            // user, which is mostly an add.
            let group = groups[rng.below(groups.len())].clone();
            let members: Vec<&String> = self.groups[&group].iter().collect();
            let user = if !members.is_empty() && rng.below(2) == 0 {
                members[rng.below(members.len())].clone()
            } else {
                user
            };
            let member = !self.groups[&group].contains(&user);
            Write::SetMember {
                group,
                user,
                member,
            }
        } else {
            Write::DeleteUser { user }
        }
    }
}

/// One thread's writes, until one fails because the server died.
fn load(
    address: SocketAddr,
    base: &str,
    token: &str,
    round: u64,
    thread: usize,
    seed: u64,
    ledger: &mut Ledger,
) {
    let mut rng = Rng::new(seed);
    for n in 0.. {
        let write = ledger.choose(&mut rng, round, thread, n);
        let (method, path, body) = write.request();
        let outcome = http(
            address,
            method,
            &format!("{base}{path}"),
            token,
            body.as_ref(),
        );
        let is_create = matches!(write, Write::CreateUser { .. } | Write::CreateGroup { .. });
        match outcome {
            // Not connected: the server was already gone, and the write did nothing.
            Outcome::Refused => return,
            Outcome::Answered(200..=299, Some(body)) => {
                let id = is_create.then(|| body["id"].as_str().expect("an id").to_owned());
                ledger.acknowledge(&write, id.as_deref());
            }
            // A create whose body was cut off: acknowledged, its id unknown until the restart.
            Outcome::Answered(200..=299, None) if is_create => {
                ledger.in_doubt = Some((write, true));
                return;
            }
            Outcome::Answered(200..=299, None) => ledger.acknowledge(&write, None),
            // A 503 past the handling deadline may come after the write committed.
            Outcome::Lost | Outcome::Answered(500.., _) => {
                ledger.in_doubt = Some((write, false));
                return;
            }
            Outcome::Answered(status, body) => {
                panic!("round {round}, thread {thread}: {write:?} was answered {status}: {body:?}")
            }
        }
    }
}

/// The checks after a restart: the writes in doubt settled, then every acknowledged write, then
/// the event feed against the directory.
fn check_round(
    api: &Api,
    database: &str,
    workspace: &str,
    ledgers: &mut [Ledger],
    feed_seen: &mut Vec<String>,
    context: &str,
) {
    std::thread::scope(|scope| {
        for ledger in ledgers.iter_mut() {
            scope.spawn(|| settle(api, ledger, context));
        }
    });
    let users = api.list("/Users?attributes=active");
    let groups: BTreeMap<String, BTreeSet<String>> = api
        .list("/Groups")
        .into_iter()
        .map(|(id, group)| (id, members_of(&group)))
        .collect();
    std::thread::scope(|scope| {
        for ledger in ledgers.iter() {
            let groups = &groups;
            scope.spawn(move || check_ledger(api, ledger, groups, context));
        }
    });

    // The feed keeps every event it showed before, in the same order.
    let events = read_feed(database, workspace);
    let ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        ids.len() >= feed_seen.len() && ids[..feed_seen.len()] == feed_seen[..],
        "{context}: the feed lost or reordered events it showed before the kill"
    );
    *feed_seen = ids;

    check_event_counts(&events, ledgers, context);
    check_feed_against_directory(&events, &users, &groups, context);
}

/// Finds out whether a ledger's write in doubt took effect, and records it if it did.
fn settle(api: &Api, ledger: &mut Ledger, context: &str) {
    let Some((write, answered)) = ledger.in_doubt.take() else {
        return;
    };
    let found = |filter: String| -> Option<String> {
        let filter = filter.replace(' ', "%20").replace('"', "%22");
        let (_, page) = api.get(&filter);
        let resources = page["Resources"].as_array().cloned().unwrap_or_default();
        assert!(resources.len() <= 1, "{context}: {filter} matched twice");
        resources
            .first()
            .map(|r| r["id"].as_str().unwrap().to_owned())
    };
    let (took_effect, id) = match &write {
        Write::CreateUser { user_name } => {
            let id = found(format!(
                "/Users?filter=userName eq \"{}\"",
                user_name.replace('@', "%40")
            ));
            (id.is_some(), id)
        }
        Write::SetActive { user, active } => {
            let (status, body) = api.get(&format!("/Users/{user}"));
            assert_eq!(status, 200, "{context}: user {user} is gone: {body}");
            (body["active"] == *active, None)
        }
        Write::CreateGroup { display_name, .. } => {
            let id = found(format!("/Groups?filter=displayName eq \"{display_name}\""));
            (id.is_some(), id)
        }
        Write::SetMember {
            group,
            user,
            member,
        } => {
            let (status, body) = api.get(&format!("/Groups/{group}"));
            assert_eq!(status, 200, "{context}: group {group} is gone: {body}");
            (members_of(&body).contains(user) == *member, None)
        }
        Write::DeleteUser { user } => {
            let (status, body) = api.get(&format!("/Users/{user}"));
            assert!(
                status == 200 || status == 404,
                "{context}: {status}: {body}"
            );
            (status == 404, None)
        }
    };
    assert!(
        took_effect || !answered,
        "{context}: {write:?} was answered 2xx and did not take effect"
    );
    if took_effect {
        ledger.in_flight_took_effect += 1;
        if answered {
            ledger.acknowledge(&write, id.as_deref());
        } else {
            ledger.apply(&write, id.as_deref());
        }
    } else {
        ledger.in_flight_did_not += 1;
    }
}

/// Every write of the ledger holds: users read back with their last `active`, deleted users
/// are gone, and groups have exactly the members the writes left.
fn check_ledger(
    api: &Api,
    ledger: &Ledger,
    groups: &BTreeMap<String, BTreeSet<String>>,
    context: &str,
) {
    for (user, active) in &ledger.users {
        let (status, body) = api.get(&format!("/Users/{user}"));
        assert_eq!(status, 200, "{context}: acknowledged user {user} is gone");
        assert_eq!(
            body["active"], *active,
            "{context}: user {user} lost its last acknowledged active={active}"
        );
    }
    for user in &ledger.deleted {
        let (status, _) = api.get(&format!("/Users/{user}"));
        assert_eq!(status, 404, "{context}: deleted user {user} is back");
    }
    for (group, members) in &ledger.groups {
        let stored = groups
            .get(group)
            .unwrap_or_else(|| panic!("{context}: acknowledged group {group} is gone"));
        assert_eq!(
            stored, members,
            "{context}: the members of group {group} are not what its acknowledged writes left"
        );
    }
}

/// The feed holds exactly the events of the writes that took effect: none lost, none extra,
/// and none of another type.
fn check_event_counts(events: &[Value], ledgers: &[Ledger], context: &str) {
    let mut expected: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for ledger in ledgers {
        for (key, count) in &ledger.events {
            *expected.entry(key.clone()).or_default() += count;
        }
    }
    let mut actual: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for event in events {
        let kind = event["type"].as_str().unwrap();
        let resource = event["resource_id"].as_str().unwrap().to_owned();
        let user = event["data"]["user"].as_str().unwrap_or("").to_owned();
        *actual.entry((kind.to_owned(), resource, user)).or_default() += 1;
    }
    let keys: BTreeSet<_> = expected.keys().chain(actual.keys()).collect();
    let wrong: Vec<String> = keys
        .into_iter()
        .filter(|key| expected.get(*key) != actual.get(*key))
        .map(|key| {
            let (want, got) = (expected.get(key), actual.get(key));
            format!(
                "{key:?}: {} expected, {} in the feed",
                want.unwrap_or(&0),
                got.unwrap_or(&0)
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{context}: the feed does not match the writes that took effect:\n{}",
        wrong.join("\n")
    );
}

/// No partial state: the feed and the directory agree, whatever the writes were.
fn check_feed_against_directory(
    events: &[Value],
    users: &BTreeMap<String, Value>,
    groups: &BTreeMap<String, BTreeSet<String>>,
    context: &str,
) {
    let mut created = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    let mut groups_created = BTreeSet::new();
    // (group, user) → whether the last event made the user a member.
    let mut membership: BTreeMap<(String, String), bool> = BTreeMap::new();
    for event in events {
        let id = event["resource_id"].as_str().unwrap().to_owned();
        match event["type"].as_str().unwrap() {
            "user.created" => {
                assert!(
                    created.insert(id),
                    "{context}: a second user.created: {event}"
                );
            }
            "user.deleted" => {
                assert!(
                    created.contains(&id) && deleted.insert(id.clone()),
                    "{context}: user.deleted without a user.created before it: {event}"
                );
                for ((_, user), member) in membership.iter_mut() {
                    if *user == id {
                        *member = false;
                    }
                }
            }
            "group.created" => {
                groups_created.insert(id);
            }
            kind @ ("group.member_added" | "group.member_removed") => {
                let user = event["data"]["user"].as_str().unwrap().to_owned();
                membership.insert((id, user), kind == "group.member_added");
            }
            _ => {}
        }
    }

    for user in users.keys() {
        assert!(
            created.contains(user) && !deleted.contains(user),
            "{context}: user {user} exists, and the feed has no user.created for it, or a \
             user.deleted"
        );
    }
    for user in &created {
        assert!(
            users.contains_key(user) || deleted.contains(user),
            "{context}: user.created for {user}, and no user and no user.deleted after it"
        );
    }
    for (group, members) in groups {
        assert!(
            groups_created.contains(group),
            "{context}: group {group} exists without a group.created"
        );
        for member in members {
            assert!(
                users.contains_key(member),
                "{context}: member {member} of group {group} is no user"
            );
            assert_eq!(
                membership.get(&(group.clone(), member.clone())),
                Some(&true),
                "{context}: {member} is in group {group}, and its last member event says not"
            );
        }
    }
    for ((group, user), member) in &membership {
        let now = groups.get(group).is_some_and(|m| m.contains(user));
        assert_eq!(
            now, *member,
            "{context}: the last member event of {user} in group {group} disagrees with the group"
        );
    }
}

/// On SQLite, the file as the killed server left it: whole, and with no dangling reference.
/// It is opened read-only, so that closing it does not checkpoint the WAL: the restarted
/// server recovers the file itself, as it would after a real crash.
fn check_sqlite_file(file: &Path, context: &str) {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let conn = rusqlite::Connection::open_with_flags(file, flags).unwrap();
    let mut integrity = conn.prepare("PRAGMA integrity_check").unwrap();
    let problems: Vec<String> = integrity
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(problems, ["ok"], "{context}: PRAGMA integrity_check");
    let mut foreign = conn.prepare("PRAGMA foreign_key_check").unwrap();
    let dangling: Vec<String> = foreign
        .query_map([], |row| {
            let (table, rowid, parent) = (
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, String>(2)?,
            );
            Ok(format!(
                "{table} row {rowid:?} names a missing {parent} row"
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        dangling.is_empty(),
        "{context}: PRAGMA foreign_key_check: {dangling:?}"
    );
}

/// The whole event feed, read with the CLI a page at a time.
fn read_feed(database: &str, workspace: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
        command
            .env("ROLLCALL_DATABASE_URL", database)
            .env_remove("RUST_LOG")
            .args(["events", "list", workspace, "--limit", "1000", "--json"]);
        if let Some(cursor) = &after {
            command.args(["--after", cursor]);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "rollcall events list failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let page: Value = serde_json::from_slice(&output.stdout).unwrap();
        let batch = page["events"].as_array().unwrap();
        if batch.is_empty() {
            return events;
        }
        events.extend(batch.iter().cloned());
        after = Some(page["next_cursor"].as_str().unwrap().to_owned());
    }
}

fn members_of(group: &Value) -> BTreeSet<String> {
    let members = group["members"].as_array().cloned().unwrap_or_default();
    members
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect()
}
