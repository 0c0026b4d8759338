//! The CLI contract of the README, run as a user would: the real binary, a throwaway database,
//! `--json` output parsed and compared whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

#[path = "../../server/tests/common/audit.rs"]
mod audit;

struct Cli {
    /// Holds the SQLite file (and any other file a test writes) until the test ends.
    _dir: tempfile::TempDir,
    /// An empty database on the suite's backend (`ROLLCALL_TEST_BACKEND`).
    database: String,
}

impl Drop for Cli {
    /// In an audited run, keeps the database for `scripts/secret-audit`.
    fn drop(&mut self) {
        if audit::dir().is_some() {
            let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap());
            audit::keep(dir);
        }
    }
}

impl Cli {
    fn new() -> Cli {
        let dir = audit::tempdir();
        let database = rollcall_store::testing::fresh_database_url(dir.path()).unwrap();
        Cli {
            _dir: dir,
            database,
        }
    }

    fn database(&self) -> String {
        self.database.clone()
    }

    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
        command
            .env("ROLLCALL_DATABASE_URL", self.database())
            .env_remove("RUST_LOG");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command();
        if audit::dir().is_some() {
            command.env("RUST_LOG", "trace");
        }
        let output = command.args(args).output().unwrap();
        audit::record_issued(&output.stdout);
        audit::save("logs", "cli-stderr", &output.stderr);
        output
    }

    /// Runs a command that must succeed with `--json` and returns its one JSON object.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let output = self.run(&all);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            stdout.lines().count(),
            1,
            "one JSON object per command: {stdout}"
        );
        serde_json::from_str(&stdout).unwrap()
    }

    /// Runs a command that must be refused and returns its stderr.
    fn refused(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "{args:?} should have been refused"
        );
        assert!(output.stdout.is_empty());
        String::from_utf8(output.stderr).unwrap()
    }
}

#[test]
fn workspace_scim_and_token_commands_follow_the_contract() {
    let cli = Cli::new();

    let created = cli.json(&["workspace", "create", "Acme"]);
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        json!({
            "name": created["name"],
            "plan": created["plan"],
            "invitation_only": created["invitation_only"],
            "scim_enabled": created["scim_enabled"],
            "username_format": created["username_format"],
            "default_role": created["default_role"],
            "base_path": created["base_path"],
        }),
        json!({
            "name": "Acme",
            "plan": "free",
            "invitation_only": false,
            "scim_enabled": false,
            "username_format": "email",
            "default_role": "Member",
            "base_path": format!("/integrations/scim/{id}"),
        })
    );

    // SCIM needs the enterprise plan, then an invitation-only workspace.
    let stderr = cli.refused(&["scim", "enable", &id]);
    assert_eq!(
        stderr,
        format!(
            "rollcall: SCIM needs the enterprise plan, and workspace {id} is on the free plan; \
             run `rollcall workspace update {id} --plan enterprise` first\n"
        )
    );
    cli.json(&["workspace", "update", &id, "--plan", "enterprise"]);
    let stderr = cli.refused(&["scim", "enable", &id]);
    assert!(
        stderr.contains("SCIM needs an invitation-only workspace"),
        "{stderr}"
    );
    let updated = cli.json(&[
        "workspace",
        "update",
        &id,
        "--invitation-only",
        "true",
        "--username-format",
        "any",
        "--default-role",
        "observer",
    ]);
    assert_eq!(updated["invitation_only"], true);
    assert_eq!(updated["username_format"], "any");
    assert_eq!(updated["default_role"], "Observer");

    let enabled = cli.json(&["scim", "enable", &id]);
    assert_eq!(enabled["workspace_id"], json!(id));
    assert_eq!(
        enabled["base_path"],
        json!(format!("/integrations/scim/{id}"))
    );
    assert!(enabled["token"].as_str().unwrap().starts_with("rcs_"));

    // While SCIM is on, the workspace stays invitation-only and enterprise.
    let stderr = cli.refused(&["workspace", "update", &id, "--invitation-only", "false"]);
    assert_eq!(
        stderr,
        format!(
            "rollcall: workspace {id} has SCIM enabled, and SCIM needs an invitation-only \
             workspace; run `rollcall scim disable {id}` first\n"
        )
    );
    cli.refused(&["workspace", "update", &id, "--plan", "business"]);

    // Tokens: create, list without secrets, revoke.
    let token = cli.json(&[
        "token",
        "create",
        &id,
        "--label",
        "okta",
        "--expires-in",
        "90d",
    ]);
    let token_id = token["id"].as_str().unwrap().to_owned();
    let listed = cli.json(&["token", "list", &id]);
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[1]["id"], json!(token_id));
    assert_eq!(tokens[1]["label"], "okta");
    assert_eq!(tokens[1]["revoked"], false);
    assert_eq!(tokens[1]["last_used_at"], Value::Null);
    assert!(tokens[1]["expires_at"].is_string());
    assert!(
        !listed
            .to_string()
            .contains(token["token"].as_str().unwrap())
    );
    assert_eq!(
        cli.json(&["token", "revoke", &token_id]),
        json!({"id": token_id, "revoked": true})
    );
    assert_eq!(
        cli.json(&["token", "list", &id])["tokens"][1]["revoked"],
        true
    );

    // Mistakes are named in one sentence.
    assert_eq!(
        cli.refused(&["token", "revoke", "tok_0000000000000000"]),
        "rollcall: there is no token tok_0000000000000000; `rollcall token list WORKSPACE_ID` \
         shows a workspace's tokens\n"
    );
    assert_eq!(
        cli.refused(&["user", "set-role", &id, "nobody", "Owner"]),
        format!("rollcall: workspace {id} has no user nobody\n")
    );
    assert!(
        cli.refused(&["token", "create", &id, "--expires-in", "soon"])
            .contains("90d")
    );

    // The group-to-role map.
    assert_eq!(
        cli.json(&[
            "rolemap",
            "set",
            &id,
            "--group",
            "Okta Admins",
            "--role",
            "admin"
        ]),
        json!({"workspace_id": id, "group": "Okta Admins", "role": "Admin"})
    );
    assert_eq!(
        cli.json(&["rolemap", "list", &id]),
        json!({"mappings": [{"group": "Okta Admins", "role": "Admin"}]})
    );
    assert_eq!(
        cli.refused(&["rolemap", "set", &id, "--group", "x", "--role", "Owner"]),
        "rollcall: a group can map to Admin, Member or Observer; only `rollcall user set-role` \
         names an Owner\n"
    );
    assert_eq!(
        cli.json(&["rolemap", "remove", &id, "--group", "okta admins"]),
        json!({"workspace_id": id, "group": "okta admins", "removed": true})
    );
    assert!(
        cli.refused(&["rolemap", "remove", &id, "--group", "okta admins"])
            .contains("maps no group")
    );

    // The workspace's own User extension.
    let ext = "urn:rollcall:params:scim:schemas:extension:workspace:2.0:User";
    assert_eq!(
        cli.json(&[
            "extension",
            "add",
            &id,
            "--name",
            "clearance",
            "--canonical",
            "Public,Secret",
            "--required",
        ]),
        json!({
            "workspace_id": id,
            "schema": ext,
            "attribute": {
                "name": "clearance", "type": "string", "multi_valued": false, "required": true,
                "canonical_values": ["Public", "Secret"]
            }
        })
    );
    assert_eq!(
        cli.json(&["extension", "list", &id])["attributes"][0]["name"],
        "clearance"
    );
    assert!(
        cli.refused(&["extension", "add", &id, "--name", "x", "--type", "complex"])
            .contains("not complex ones")
    );
    assert_eq!(
        cli.json(&["extension", "remove", &id, "--name", "clearance"]),
        json!({"workspace_id": id, "name": "clearance", "removed": true})
    );

    let disabled = cli.json(&["scim", "disable", &id]);
    assert_eq!(disabled["scim_enabled"], false);
    cli.json(&["workspace", "update", &id, "--invitation-only", "false"]);
}

/// A running server, its base URL and token from the first-start message.
struct Server {
    child: Child,
    base_url: String,
    token: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(cli: &Cli) -> Server {
    start_server_with(cli, &[])
}

/// Starts `serve` on an empty database with extra environment variables.
fn start_server_with(cli: &Cli, env: &[(&str, &str)]) -> Server {
    let mut command = cli.command();
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // An audited run keeps the server's trace log.
    if let Some(dir) = audit::dir() {
        let log = std::fs::File::create(dir.join("logs").join(audit::unique("serve") + ".log"));
        command.env("RUST_LOG", "trace").stderr(log.unwrap());
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut base_url = None;
    let mut token = None;
    while base_url.is_none() || token.is_none() {
        let line = lines.next().expect("the server stopped early").unwrap();
        if let Some(url) = line.trim().strip_prefix("SCIM base URL:") {
            base_url = Some(url.trim().to_owned());
        }
        if let Some(value) = line.trim().strip_prefix("Bearer token:") {
            audit::record_issued(value.as_bytes());
            token = Some(value.trim().to_owned());
        }
    }
    Server {
        child,
        base_url: base_url.unwrap(),
        token: token.unwrap(),
    }
}

/// A minimal HTTP/1.1 client: one request, `Connection: close`, status and JSON body back.
fn http(method: &str, url: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    audit::record_passwords(body.as_bytes());
    let mut stream = None;
    for _ in 0..100 {
        match TcpStream::connect(host) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
    let mut stream = stream.expect("the server never listened");
    write!(
        stream,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    audit::record_issued(response.as_bytes());
    let (head, payload) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let payload = if payload.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(payload).unwrap()
    };
    (status, payload)
}

#[test]
fn serve_creates_a_first_workspace_and_the_cli_works_beside_it() {
    let cli = Cli::new();
    let server = start_server(&cli);
    let users = format!("{}/Users", server.base_url);

    let (status, created) = http(
        "POST",
        &users,
        &server.token,
        Some(&json!({"userName": "first@example.com"})),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["role"], "Member");

    // While the server runs, the CLI issues a token and names an Owner on the same database.
    let workspace = server.base_url.rsplit('/').next().unwrap().to_owned();
    let token = cli.json(&["token", "create", &workspace]);
    let user_id = created["id"].as_str().unwrap();
    let set = cli.json(&["user", "set-role", &workspace, user_id, "owner"]);
    assert_eq!(
        set,
        json!({"workspace_id": workspace, "user_id": user_id, "role": "Owner"})
    );

    let (status, read) = http(
        "GET",
        &format!("{users}/{user_id}"),
        token["token"].as_str().unwrap(),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(read["role"], "Owner");

    // The event feed, read with the CLI while the server runs.
    let feed = cli.json(&["events", "list", &workspace, "--limit", "1"]);
    assert_eq!(feed["events"][0]["type"], "user.created");
    assert_eq!(feed["events"][0]["resource_id"], json!(user_id));
    assert_eq!(feed["events"][0]["data"]["userName"], "first@example.com");
    let cursor = feed["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(feed["events"][0]["cursor"], json!(cursor));
    let rest = cli.json(&["events", "list", &workspace, "--after", &cursor]);
    let kinds: Vec<&str> = rest["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["user.role_changed"]);

    // The first token was recorded as used, and its secret is not in the listing.
    let listed = cli.json(&["token", "list", &workspace]);
    assert!(listed["tokens"][0]["last_used_at"].is_string(), "{listed}");
    assert!(!listed.to_string().contains(&server.token));

    // The request log, read with the CLI: the GET, then the POST (its entries are written
    // within a fraction of a second).
    let log = || cli.json(&["log", &workspace, "--limit", "2"]);
    wait_for("the request log", || {
        log()["entries"].as_array().unwrap().len() == 2
    });
    let entries = log()["entries"].clone();
    let first_token = listed["tokens"][0]["id"].as_str().unwrap();
    let second_token = token["id"].as_str().unwrap();
    let route = "/integrations/scim/{workspace}/Users";
    let summary: Vec<Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            json!([
                e["method"],
                e["route"],
                e["resource_id"],
                e["status"],
                e["token_id"],
                e["body"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        [
            json!([
                "GET",
                format!("{route}/{{id}}"),
                user_id,
                200,
                second_token,
                null
            ]),
            json!([
                "POST",
                route,
                null,
                201,
                first_token,
                "{\"userName\":\"first@example.com\"}"
            ]),
        ]
    );
    let failed = cli.json(&["log", &workspace, "--failed"]);
    assert_eq!(failed, json!({"entries": []}));

    // A second start finds the workspace and prints no new token.
    drop(server);
    let mut second = cli
        .command()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(second.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("rollcall listening") {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the server stopped early"
        );
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let mut printed = String::new();
    second
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    assert_eq!(printed, "");
}

#[test]
fn sigterm_finishes_the_request_in_flight_then_stops() {
    let cli = Cli::new();
    let mut server = start_server(&cli);
    let workspace = server.base_url.rsplit('/').next().unwrap().to_owned();
    let rest = server.base_url.strip_prefix("http://").unwrap();
    let (host, base_path) = rest.split_once('/').unwrap();

    // A create whose body is half sent when SIGTERM arrives: the request is in flight.
    let body = json!({"userName": "in-flight@example.com"}).to_string();
    let (first, second) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "POST /{base_path}/Users HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{first}",
        server.token,
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    // The listener closes at once: a new connection is refused.
    wait_for("the listener to close", || {
        TcpStream::connect(host).is_err()
    });
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );

    // The request in flight still completes, and the server then exits cleanly.
    stream.write_all(second.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201 "), "{response}");
    let started = std::time::Instant::now();
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            assert!(exit.success(), "exit status {exit}");
            break;
        }
        assert!(
            started.elapsed().as_secs() < 15,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // What it answered 201 for is committed, with its event, and its request log entry was
    // written before the process exited.
    let events = cli.json(&["events", "list", &workspace]);
    let types: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["user.created"]);
    let log = cli.json(&["log", &workspace]);
    let entries = log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["method"], "POST");
    assert_eq!(entries[0]["status"], 201);
}

#[test]
fn migrate_run_by_several_nodes_at_once_applies_the_schema_once() {
    let cli = Cli::new();
    let backend = match rollcall_store::testing::backend().unwrap() {
        rollcall_store::testing::Backend::Sqlite => "sqlite",
        rollcall_store::testing::Backend::Postgres => "postgres",
    };
    // Four processes start on an empty database together, as nodes of one deployment do.
    let children: Vec<Child> = (0..4)
        .map(|_| {
            cli.command()
                .args(["migrate", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(printed, json!({"backend": backend, "schema_version": 6}));
    }
    // The schema works: a workspace can be created and listed.
    cli.json(&["workspace", "create", "Acme"]);
    assert_eq!(
        cli.json(&["workspace", "list"])["workspaces"][0]["name"],
        "Acme"
    );
}

/// The environment of the webhook tests: a fixed server key (PostgreSQL needs one), private
/// receivers allowed (the receiver is on 127.0.0.1), retries after 100 to 300 ms, and a lease
/// of one second, so that a restarted server takes over a killed one's webhooks soon.
const WEBHOOK_ENV: [(&str, &str); 5] = [
    (
        "ROLLCALL_SECRET_KEY",
        "0101010101010101010101010101010101010101010101010101010101010101",
    ),
    ("ROLLCALL_WEBHOOK_ALLOW_PRIVATE", "1"),
    ("ROLLCALL_WEBHOOK_RETRY_BASE_MS", "100"),
    ("ROLLCALL_WEBHOOK_RETRY_MAX_MS", "300"),
    ("ROLLCALL_WEBHOOK_LEASE_MS", "1000"),
];

/// What the receiver keeps of each request: its `Rollcall-Signature`, the status it answered,
/// and the body.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, u16, Vec<u8>)>>>;

/// A webhook receiver on 127.0.0.1: it answers 503 until `accepting` is set, then 204, and
/// keeps every request's `Rollcall-Signature` header, status given, and body.
struct Receiver {
    url: String,
    accepting: std::sync::Arc<std::sync::atomic::AtomicBool>,
    seen: Seen,
}

impl Receiver {
    fn start() -> Receiver {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let accepting = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (flag, log) = (accepting.clone(), seen.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (flag, log) = (flag.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve_one(stream, &flag, &log);
                });
            }
        });
        fn serve_one(
            stream: TcpStream,
            accepting: &AtomicBool,
            log: &Mutex<Vec<(String, u16, Vec<u8>)>>,
        ) -> std::io::Result<()> {
            let mut reader = BufReader::new(stream.try_clone()?);
            let mut writer = stream;
            loop {
                let mut signature = String::new();
                let mut length = 0;
                let mut line = String::new();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                loop {
                    line.clear();
                    reader.read_line(&mut line)?;
                    let header = line.trim_end();
                    if header.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "rollcall-signature" => signature = value.trim().to_owned(),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body)?;
                let status = if accepting.load(Ordering::SeqCst) {
                    204
                } else {
                    503
                };
                log.lock().unwrap().push((signature, status, body));
                let reason = if status == 204 {
                    "No Content"
                } else {
                    "Service Unavailable"
                };
                write!(
                    writer,
                    "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n"
                )?;
            }
        }
        Receiver {
            url,
            accepting,
            seen,
        }
    }

    fn requests(&self) -> Vec<(String, u16, Vec<u8>)> {
        self.seen.lock().unwrap().clone()
    }
}

/// Waits up to 30 seconds for `done`.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed().as_secs() < 30,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn deliveries_pending_when_the_server_is_killed_complete_after_restart() {
    let cli = Cli::new();
    let receiver = Receiver::start();
    let mut server = start_server_with(&cli, &WEBHOOK_ENV);
    let workspace = cli.json(&["workspace", "list"])["workspaces"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut add = cli.command();
    add.envs(WEBHOOK_ENV)
        .args(["webhook", "add", &workspace, &receiver.url, "--json"]);
    let output = add.output().unwrap();
    audit::record_issued(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let added: Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys: Vec<&String> = added.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["id", "secret"]);
    let secret = added["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");

    let users = format!("{}/Users", server.base_url);
    for i in 0..5 {
        let body = json!({"userName": format!("u{i}@example.com")});
        let (status, reply) = http("POST", &users, &server.token, Some(&body));
        assert_eq!(status, 201, "{reply}");
    }
    // The receiver refuses; wait until rollcall has tried (and is backing off), then kill it
    // without warning.
    wait_for("a refused attempt", || receiver.requests().len() >= 2);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let log = cli.json(&["webhook", "deliveries", &workspace]);
    let failed = log["deliveries"].as_array().unwrap();
    assert!(!failed.is_empty());
    assert!(failed.iter().all(|a| a["delivered"] == false
        && a["status"] == 503
        && a["error"] == "the receiver answered 503 Service Unavailable"));

    // Back up: the receiver accepts, and a new rollcall process picks up where the dead one
    // stopped.
    receiver
        .accepting
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut restarted = cli.command();
    restarted
        .envs(WEBHOOK_ENV)
        .args(["serve", "--listen", "127.0.0.1:0", "--no-bootstrap"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _restarted = Server {
        child: restarted.spawn().unwrap(),
        base_url: String::new(),
        token: String::new(),
    };
    let feed: Vec<String> = cli.json(&["events", "list", &workspace])["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(feed.len(), 5);
    let accepted = || -> Vec<String> {
        let mut ids = Vec::new();
        for (_, status, body) in receiver.requests() {
            let event: Value = serde_json::from_slice(&body).unwrap();
            let id = event["id"].as_str().unwrap().to_owned();
            if status == 204 && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    };
    wait_for("every event", || accepted().len() == feed.len());
    // Every event, once after de-duplication, in feed order, each signed with the secret.
    assert_eq!(accepted(), feed);
    for (signature, _, body) in receiver.requests() {
        let (t, v1) = signature.split_once(',').unwrap();
        let t = t.strip_prefix("t=").unwrap();
        let mut signed = format!("{t}.").into_bytes();
        signed.extend(&body);
        assert_eq!(
            v1,
            format!("v1={}", hmac_sha256_hex(secret.as_bytes(), &signed))
        );
    }
}

#[test]
fn webhook_add_refuses_private_targets_and_bad_urls() {
    let cli = Cli::new();
    let id = cli.json(&["workspace", "create", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refuse = |url: &str| {
        let output = cli
            .command()
            .env("ROLLCALL_SECRET_KEY", WEBHOOK_ENV[0].1)
            .env_remove("ROLLCALL_WEBHOOK_ALLOW_PRIVATE")
            .args(["webhook", "add", &id, url])
            .output()
            .unwrap();
        assert!(!output.status.success());
        String::from_utf8(output.stderr).unwrap()
    };
    assert_eq!(
        refuse("http://169.254.169.254/latest/meta-data"),
        "rollcall: the webhook host 169.254.169.254 is a link-local address; webhooks may only \
         reach public addresses (set ROLLCALL_WEBHOOK_ALLOW_PRIVATE=1 for development)\n"
    );
    assert!(refuse("http://localhost:8080/x").contains("is a loopback address"));
    assert_eq!(
        refuse("ftp://example.com/"),
        "rollcall: a webhook URL must start with https:// (or http://), not ftp://\n"
    );
    assert_eq!(cli.json(&["webhook", "list", &id]), json!({"webhooks": []}));
}

/// HMAC-SHA256, computed from its definition (RFC 2104) over SHA-256 from the `sha2` crate, so
/// the test checks the server's signatures without the server's code.
fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner_key: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer_key: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&inner_key)
        .chain_update(message)
        .finalize();
    let outer = Sha256::new()
        .chain_update(&outer_key)
        .chain_update(inner)
        .finalize();
    outer.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn apikey_commands_issue_list_and_revoke_operator_keys() {
    let cli = Cli::new();
    let issued = cli.json(&["apikey", "create", "--label", "support"]);
    let id = issued["id"].as_str().unwrap().to_owned();
    let key = issued["key"].as_str().unwrap().to_owned();
    assert_eq!(issued, json!({"id": id, "label": "support", "key": key}));
    assert!(
        key.starts_with("rok_") && id.starts_with("key_"),
        "{issued}"
    );

    let listed = cli.json(&["apikey", "list"]);
    assert_eq!(
        listed,
        json!({"api_keys": [{
            "id": id,
            "label": "support",
            "created_at": listed["api_keys"][0]["created_at"],
            "last_used_at": null,
            "revoked": false,
        }]})
    );
    assert_eq!(
        cli.json(&["apikey", "revoke", &id]),
        json!({"id": id, "revoked": true})
    );
    assert_eq!(
        cli.json(&["apikey", "list"])["api_keys"][0]["revoked"],
        true
    );
    assert_eq!(
        cli.refused(&["apikey", "revoke", "key_0000000000000000"]),
        "rollcall: there is no API key key_0000000000000000; `rollcall apikey list` shows them\n"
    );
}

#[test]
fn setup_link_create_prints_a_one_time_link() {
    let cli = Cli::new();
    let id = cli.json(&[
        "workspace",
        "create",
        "Acme",
        "--plan",
        "enterprise",
        "--invitation-only",
    ])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = cli.json(&[
        "setup-link",
        "create",
        &id,
        "--public-url",
        "https://rollcall.example.com/",
    ]);
    let path = link["path"].as_str().unwrap().to_owned();
    assert!(path.starts_with("/console/setup/rsl_"), "{link}");
    assert_eq!(
        link,
        json!({
            "id": link["id"],
            "path": path,
            "url": format!("https://rollcall.example.com{path}"),
            "expires_at": link["expires_at"],
        })
    );
    let free = cli.json(&["workspace", "create", "Free"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = cli.refused(&["setup-link", "create", &free]);
    assert!(refused.contains("cannot have SCIM"), "{refused}");
}

#[test]
fn serve_takes_its_limits_from_the_environment_and_advertises_them() {
    let cli = Cli::new();
    let server = start_server_with(
        &cli,
        &[
            ("ROLLCALL_MAX_BODY_BYTES", "2000"),
            ("ROLLCALL_MAX_PATCH_OPERATIONS", "2"),
            ("ROLLCALL_MAX_FILTER_LENGTH", "20"),
            ("ROLLCALL_MAX_PAGE_SIZE", "50"),
        ],
    );
    let base = &server.base_url;
    let (status, config) = http(
        "GET",
        &format!("{base}/ServiceProviderConfig"),
        &server.token,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(config["bulk"]["maxPayloadSize"], 2000);
    assert_eq!(config["filter"]["maxResults"], 50);

    let (status, user) = http(
        "POST",
        &format!("{base}/Users"),
        &server.token,
        Some(&json!({"userName": "a@example.com"})),
    );
    assert_eq!(status, 201);
    let id = user["id"].as_str().unwrap();
    let operation = json!({"op": "replace", "path": "active", "value": false});
    let (status, refused) = http(
        "PATCH",
        &format!("{base}/Users/{id}"),
        &server.token,
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [operation, operation, operation],
        })),
    );
    assert_eq!(status, 400);
    assert_eq!(refused["scimType"], "tooMany");
    assert_eq!(
        refused["detail"],
        "a PATCH may carry 2 operations; this one has 3"
    );

    let (status, refused) = http(
        "POST",
        &format!("{base}/Users"),
        &server.token,
        Some(&json!({"userName": "b@example.com", "title": "x".repeat(3000)})),
    );
    assert_eq!(status, 413);
    assert_eq!(
        refused["detail"],
        "the request body is larger than 2000 bytes"
    );

    let filter = "userName%20eq%20%22someone.long@example.com%22";
    let (status, refused) = http(
        "GET",
        &format!("{base}/Users?filter={filter}"),
        &server.token,
        None,
    );
    assert_eq!(status, 400);
    assert_eq!(refused["scimType"], "invalidFilter");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .starts_with("filter is longer than 20 characters"),
        "{refused}"
    );
}
