//! The secret audit of a whole suite run.
//!
//! With `ROLLCALL_TEST_SECRET_AUDIT=DIR` set, the test helpers keep what a run leaves behind
//! instead of throwing it away, and write down every secret the run handled, so that
//! `scripts/secret-audit DIR` can look for each secret in everything that was kept:
//!
//! - `DIR/data/`: every test's database directory (the SQLite file and its WAL), kept;
//! - `DIR/logs/`: the server's trace log (every crate, every level, span fields included);
//! - `DIR/metrics/`: `/metrics` as each test app leaves it;
//! - `DIR/secrets/`: the secrets, one per line as `KIND VALUE`: each token, operator key, setup
//!   link and webhook secret found in any answer or CLI output, and each password sent in any
//!   request body.
//!
//! Without the variable every function here does nothing.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

/// The audit directory, when the run is audited.
pub fn dir() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(std::env::var_os("ROLLCALL_TEST_SECRET_AUDIT")?);
        for sub in ["data", "logs", "metrics", "secrets"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        Some(dir)
    })
    .as_deref()
}

/// A name no other process or thread of this run uses.
pub fn unique(stem: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{stem}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A directory for a test's files: under `DIR/data` when audited (and then never removed),
/// a temporary one otherwise.
pub fn tempdir() -> tempfile::TempDir {
    match dir() {
        Some(dir) => tempfile::Builder::new()
            .prefix("test-")
            .tempdir_in(dir.join("data"))
            .unwrap(),
        None => tempfile::tempdir().unwrap(),
    }
}

/// Keeps `dir` when audited; removes it otherwise.
pub fn keep(dir: tempfile::TempDir) {
    if self::dir().is_some() {
        let _ = dir.keep();
    }
}

/// Sends the server's tracing, at the most verbose level, to a file under `DIR/logs`. Once per
/// process; a test that installed its own subscriber first keeps it.
pub fn trace_to_file() {
    static ONCE: OnceLock<()> = OnceLock::new();
    let Some(dir) = dir() else { return };
    ONCE.get_or_init(|| {
        let file = std::fs::File::create(dir.join("logs").join(unique("trace") + ".log")).unwrap();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
}

/// Writes a file under `DIR/<sub>`.
pub fn save(sub: &str, stem: &str, contents: &[u8]) {
    if let Some(dir) = dir() {
        std::fs::write(dir.join(sub).join(unique(stem)), contents).unwrap();
    }
}

fn record(kind: &str, value: &str) {
    let Some(dir) = dir() else { return };
    let path = dir
        .join("secrets")
        .join(format!("{}.txt", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    // One write per line, so lines from parallel tests never interleave.
    file.write_all(format!("{kind} {value}\n").as_bytes())
        .unwrap();
}

/// Records every issued secret in `text` (an answer, a CLI's output): SCIM tokens (`rcs_`),
/// operator keys (`rok_`), setup links (`rsl_`) and webhook secrets (`whsec_`).
pub fn record_issued(text: &[u8]) {
    if dir().is_none() {
        return;
    }
    let text = String::from_utf8_lossy(text);
    for prefix in ["rcs_", "rok_", "rsl_", "whsec_"] {
        let mut rest = text.as_ref();
        while let Some(at) = rest.find(prefix) {
            let candidate = &rest[at..];
            let end = candidate
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(candidate.len());
            let value = &candidate[..end];
            // Only a whole secret: a bare prefix in a message or a shortened one is not one.
            if value.len() >= prefix.len() + 32 {
                record(prefix.trim_end_matches('_'), value);
            }
            rest = &candidate[end..];
        }
    }
}

/// Records every password in a request body: `password` attributes at any depth (a resource,
/// a PATCH value object) and the values of PATCH operations whose path is `password`.
pub fn record_passwords(body: &[u8]) {
    if dir().is_none() {
        return;
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let mut found = Vec::new();
    passwords_in(&value, &mut found);
    for password in found {
        record("password", &password);
    }
}

fn passwords_in(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let path_is_password = map.iter().any(|(k, v)| {
                k.eq_ignore_ascii_case("path") && v.as_str().is_some_and(is_password)
            });
            for (key, item) in map {
                let password_slot =
                    is_password(key) || (path_is_password && key.eq_ignore_ascii_case("value"));
                match item {
                    Value::String(text) if password_slot => push_password(text, found),
                    _ => passwords_in(item, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| passwords_in(item, found)),
        _ => {}
    }
}

fn is_password(name: &str) -> bool {
    name.eq_ignore_ascii_case("password") || name.to_ascii_lowercase().ends_with(":password")
}

fn push_password(text: &str, found: &mut Vec<String>) {
    // A short string would match by chance in unrelated bytes; every password the tests send
    // is longer, and the placeholder is what the request log writes in its place.
    if text.chars().count() >= 6 && text != "[redacted]" {
        found.push(text.to_owned());
    }
}
