//! No secret leaves through a side door: after a server run that issues every kind of secret
//! (SCIM tokens by bootstrap, `token create`, `token rotate` and a setup link, the setup link
//! itself, an operator API key, a webhook secret) and receives passwords in every write verb, none of them is in the server's log at
//! the most verbose level (`RUST_LOG=trace`, every crate), in `/metrics`, or anywhere in the
//! database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const KEY: &str = "0202020202020202020202020202020202020202020202020202020202020202";

/// One HTTP/1.1 request with `Connection: close`; the status and the body as text.
fn http(method: &str, url: &str, auth: Option<&str>, body: Option<&Value>) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut stream = TcpStream::connect(host).unwrap();
    let auth = auth
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/scim+json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, payload) = response.split_once("\r\n\r\n").unwrap();
    (
        head.split(' ').nth(1).unwrap().parse().unwrap(),
        payload.to_owned(),
    )
}

/// A receiver that accepts every webhook delivery and counts them.
fn receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        break;
                    }
                    seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let _ =
                        writer.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
                    length = 0;
                    continue;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
    });
    (url, count)
}

#[test]
fn no_secret_reaches_the_log_the_metrics_or_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let database = rollcall_store::testing::fresh_database_url(dir.path()).unwrap();
    let command = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
        command
            .env("ROLLCALL_DATABASE_URL", &database)
            .env("ROLLCALL_SECRET_KEY", KEY)
            .env("ROLLCALL_WEBHOOK_ALLOW_PRIVATE", "1")
            .env("ROLLCALL_WEBHOOK_RETRY_BASE_MS", "100");
        command
    };
    let json_of = |args: &[&str]| -> Value {
        let output = command().args(args).arg("--json").output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    };

    let log_path = dir.path().join("server.log");
    let mut server = command()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let (mut base, mut token) = (String::new(), String::new());
    while base.is_empty() || token.is_empty() {
        let line = lines.next().expect("the server stopped early").unwrap();
        if let Some(url) = line.trim().strip_prefix("SCIM base URL:") {
            base = url.trim().to_owned();
        }
        if let Some(value) = line.trim().strip_prefix("Bearer token:") {
            token = value.trim().to_owned();
        }
    }
    let origin = base.split("/integrations").next().unwrap().to_owned();
    let workspace = base.rsplit('/').next().unwrap().to_owned();

    let mut secrets = vec![token.clone()];
    let created = json_of(&["token", "create", &workspace]);
    secrets.push(created["token"].as_str().unwrap().to_owned());
    let rotated = json_of(&["token", "rotate", created["id"].as_str().unwrap()]);
    let scim_token = rotated["token"].as_str().unwrap().to_owned();
    secrets.push(scim_token.clone());
    let api_key = json_of(&["apikey", "create"])["key"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(api_key.clone());
    // A setup link, opened and used as an IT admin does.
    let link = json_of(&["setup-link", "create", &workspace]);
    let link_path = link["path"].as_str().unwrap().to_owned();
    secrets.push(link_path.rsplit('/').next().unwrap().to_owned());
    let (status, _) = http("GET", &format!("{origin}{link_path}"), None, None);
    assert_eq!(status, 200);
    let (status, page) = http("POST", &format!("{origin}{link_path}"), None, None);
    assert_eq!(status, 200);
    let marker = "id=\"new-token\">";
    let start = page.find(marker).unwrap() + marker.len();
    secrets.push(page[start..start + page[start..].find('<').unwrap()].to_owned());
    let (hook, delivered) = receiver();
    let webhook = json_of(&["webhook", "add", &workspace, &hook]);
    secrets.push(webhook["secret"].as_str().unwrap().to_owned());

    // Passwords in every write verb, and a Bulk.
    let passwords: Vec<String> = (0..4)
        .map(|i| format!("Pw-{i}-{}", "q".repeat(14)))
        .collect();
    secrets.extend(passwords.iter().cloned());
    let users = format!("{base}/Users");
    let (status, body) = http(
        "POST",
        &users,
        Some(&token),
        Some(&json!({"userName": "s@example.com", "password": passwords[0]})),
    );
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = http(
        "PUT",
        &format!("{users}/{id}"),
        Some(&scim_token),
        Some(&json!({"userName": "s@example.com", "password": passwords[1]})),
    );
    assert_eq!(status, 200);
    let (status, _) = http(
        "PATCH",
        &format!("{users}/{id}"),
        Some(&token),
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "password", "value": passwords[2]}],
        })),
    );
    assert_eq!(status, 200);
    let (status, _) = http(
        "POST",
        &format!("{base}/Bulk"),
        Some(&token),
        Some(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [{"method": "POST", "path": "/Users", "bulkId": "b1",
                            "data": {"userName": "b@example.com", "password": passwords[3]}}],
        })),
    );
    assert_eq!(status, 200);
    // Failed authentication, with a token of the right shape and with an operator key.
    http("GET", &users, Some(&api_key), None);
    let (status, _) = http(
        "GET",
        &format!("{origin}/api/v1/workspaces"),
        Some(&api_key),
        None,
    );
    assert_eq!(status, 200);
    let (status, _) = http(
        "GET",
        &format!("{origin}/api/v1/workspaces/{workspace}/log"),
        Some(&api_key),
        None,
    );
    assert_eq!(status, 200);

    // Webhook deliveries are signed with the secret: wait until the two user.created events
    // went out (the PUT and the PATCH change nothing that is stored).
    let started = Instant::now();
    while delivered.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        if started.elapsed() > Duration::from_secs(30) {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            let lines: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("webhook") || l.contains("WARN") || l.contains("ERROR"))
                .take(40)
                .collect();
            panic!("no webhook delivery; the log says:\n{}", lines.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, metrics) = http("GET", &format!("{origin}/metrics"), None, None);
    assert!(metrics.contains("rollcall_http_requests_total"));

    // Stop the server the graceful way, so that its request log and its log are complete.
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(server.wait().unwrap().success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "the log is not verbose"
    );
    let stored = match rollcall_store::testing::backend().unwrap() {
        rollcall_store::testing::Backend::Sqlite => {
            let path = database.strip_prefix("sqlite://").unwrap();
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                if let Ok(content) = std::fs::read(format!("{path}{suffix}")) {
                    bytes.extend(content);
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        rollcall_store::testing::Backend::Postgres => {
            rollcall_store::testing::dump_postgres(&database).unwrap()
        }
    };
    assert!(
        stored.contains("[redacted]"),
        "the request log was not written"
    );
    for secret in &secrets {
        // The whole secret, and its random part on its own.
        let tail = secret.rsplit(['_', '-']).next().unwrap();
        for needle in [secret.as_str(), tail] {
            assert!(
                !log.contains(needle),
                "a secret is in the server log: {secret}"
            );
            assert!(
                !metrics.contains(needle),
                "a secret is in /metrics: {secret}"
            );
            assert!(
                !stored.contains(needle),
                "a secret is in the database: {secret}"
            );
        }
    }
    eprintln!(
        "checked {} secrets against {} KiB of trace log, {} KiB of database, and /metrics",
        secrets.len(),
        log.len() / 1024,
        stored.len() / 1024
    );
}
