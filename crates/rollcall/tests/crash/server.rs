//! Starting and stopping the real `rollcall serve` on the test's database.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::{Outcome, http};

/// A running `rollcall serve`, killed when dropped so that a failed check leaves no process.
pub struct Server {
    pub child: Child,
    pub address: SocketAddr,
}

impl Server {
    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `rollcall serve` on the database, its log appended to `log`. The rate limit is lifted: the
/// checks read every user each round, and a 429 is no answer to check.
pub fn serve(database: &str, log: &Path, listen: &str) -> Command {
    let log = File::options().create(true).append(true).open(log).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_rollcall"));
    command
        .env("ROLLCALL_DATABASE_URL", database)
        .env("RUST_LOG", "warn")
        .args(["serve", "--listen", listen])
        .args(["--rate-per-second", "1000000", "--rate-burst", "1000000"])
        .stderr(log);
    command
}

/// The first start, on port 0: it creates the workspace and prints the SCIM base URL (with the
/// port it bound) and a bearer token. Returns the server, the workspace id and the token.
pub fn start_first(database: &str, log: &Path) -> (Server, String, String) {
    let mut child = serve(database, log, "127.0.0.1:0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base_url = None;
    let mut token = None;
    while base_url.is_none() || token.is_none() {
        let line = lines.next().expect("the server stopped early").unwrap();
        if let Some(url) = line.trim().strip_prefix("SCIM base URL:") {
            base_url = Some(url.trim().to_owned());
        }
        if let Some(value) = line.trim().strip_prefix("Bearer token:") {
            token = Some(value.trim().to_owned());
        }
    }
    // Keep reading, so the server never writes into a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));

    let base_url = base_url.unwrap();
    let rest = base_url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let workspace = path.rsplit('/').next().unwrap().to_owned();
    let mut server = Server {
        child,
        address: authority.parse().unwrap(),
    };
    assert!(wait_ready(&mut server), "{}", tail(log));
    (server, workspace, token.unwrap())
}

/// A later start, with `--no-bootstrap`, on a free port picked here (a later start prints
/// nothing to find its port in). Another process may take the port first; then it tries again.
pub fn start_again(database: &str, log: &Path) -> Server {
    for _ in 0..5 {
        let address = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .unwrap();
        let child = serve(database, log, &address.to_string())
            .arg("--no-bootstrap")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server { child, address };
        if wait_ready(&mut server) {
            return server;
        }
    }
    panic!("the server did not start again: {}", tail(log));
}

/// Waits until /readyz answers 200; false when the process exits first.
pub fn wait_ready(server: &mut Server) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if server.child.try_wait().unwrap().is_some() {
            return false;
        }
        if let Outcome::Answered(200, _) = http(server.address, "GET", "/readyz", "", None) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the server at {} was not ready in 30 s", server.address);
}

/// The end of the servers' log, for a failure message.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
