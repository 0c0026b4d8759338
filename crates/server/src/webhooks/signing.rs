//! The server key, the webhook secrets it gives, and the signature on each delivery.
//!
//! A webhook's signing secret is never stored. The store keeps a random salt per webhook; the
//! secret is HMAC-SHA256 of the webhook's id and salt under the server key, 32 random bytes
//! that live outside the database: in `ROLLCALL_SECRET_KEY` (64 hex digits, the same on every
//! node), or, for a SQLite database when that variable is not set, in a file beside the
//! database (`rollcall.db.key`, created on first use, readable by its owner only). Someone who
//! holds a copy of the database alone cannot sign a delivery. Losing or changing the key
//! changes every webhook's secret: receivers must then be given the new ones
//! (`rollcall webhook add` again).
//!
//! A delivery carries `Rollcall-Signature: t=UNIX_SECONDS,v1=HEX`, where HEX is the
//! HMAC-SHA256, keyed with the secret exactly as it was shown (`whsec_...`, as UTF-8 bytes), of
//! `UNIX_SECONDS`, a dot, and the request body as sent.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{KeyInit, Mac};
use rand::RngExt;
use rollcall_store::DatabaseUrl;
use sha2::Sha256;

use crate::secret::Secret;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The variable that holds the server key.
pub const KEY_VARIABLE: &str = "ROLLCALL_SECRET_KEY";

const SECRET_PREFIX: &str = "whsec_";

/// The key from which webhook secrets are derived.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey([redacted])")
    }
}

impl ServerKey {
    /// A key from 64 hex digits.
    pub fn from_hex(text: &str) -> Result<ServerKey, String> {
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| format!("{KEY_VARIABLE} must be 64 hex digits (32 random bytes)"))?;
        Ok(ServerKey(bytes))
    }

    /// A fresh random key.
    pub fn generate() -> ServerKey {
        ServerKey(rand::rng().random())
    }

    /// The key for the database `database_url` names: `ROLLCALL_SECRET_KEY` when set, else,
    /// for SQLite, the key file beside the database (created when missing). PostgreSQL nodes
    /// must share one key, so they need the variable.
    pub fn load(database_url: &str) -> Result<ServerKey, String> {
        if let Ok(text) = std::env::var(KEY_VARIABLE) {
            return ServerKey::from_hex(&text);
        }
        match DatabaseUrl::parse(database_url).map_err(|err| err.to_string())? {
            DatabaseUrl::Sqlite(path) => ServerKey::from_file(&key_path(Path::new(path))),
            DatabaseUrl::Postgres(_) => Err(format!(
                "webhooks on PostgreSQL need {KEY_VARIABLE}: 64 hex digits, the same on every \
                 node (for example from `openssl rand -hex 32`)"
            )),
        }
    }

    /// Reads the key file at `path`, or creates it with a fresh key. Two processes creating it
    /// at once agree: the file appears whole (a link to a finished temporary file) or not at
    /// all, and the loser reads the winner's key.
    pub fn from_file(path: &Path) -> Result<ServerKey, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => return ServerKey::from_hex(&text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(format!("cannot read {}: {err}", path.display())),
        }
        let key = ServerKey::generate();
        let temporary = path.with_extension(format!("key.{}", uuid::Uuid::new_v4().simple()));
        let written = write_private(&temporary, &hex::encode(key.0));
        let linked = written.and_then(|()| std::fs::hard_link(&temporary, path));
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => Ok(key),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path)
                    .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
                ServerKey::from_hex(&text)
            }
            Err(err) => Err(format!("cannot write {}: {err}", path.display())),
        }
    }

    /// The key that signs console sessions, derived from the server key so that it is never the
    /// key of anything else.
    pub fn console_key(&self) -> Vec<u8> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"rollcall console sessions");
        mac.finalize().into_bytes().to_vec()
    }

    /// The signing secret of a webhook.
    pub fn webhook_secret(&self, webhook_id: &str, salt: &str) -> Secret {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"rollcall webhook secret\0");
        mac.update(webhook_id.as_bytes());
        mac.update(b"\0");
        mac.update(salt.as_bytes());
        Secret::new(format!(
            "{SECRET_PREFIX}{}",
            hex::encode(mac.finalize().into_bytes())
        ))
    }
}

/// Where the key of a SQLite database at `database` is kept.
pub fn key_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".key");
    PathBuf::from(name)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// A fresh random salt for a webhook's secret.
pub fn new_salt() -> String {
    let salt: [u8; 16] = rand::rng().random();
    hex::encode(salt)
}

/// The `Rollcall-Signature` header of a delivery of `body` at `unix_seconds`.
pub fn signature_header(secret: &Secret, unix_seconds: i64, body: &[u8]) -> String {
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(signature(secret.expose(), unix_seconds, body))
    )
}

fn signature(secret: &str, unix_seconds: i64, body: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// What a receiver does: checks a `Rollcall-Signature` header against the body it received,
/// in constant time, and that its timestamp is within `tolerance_seconds` of `now_seconds`.
pub fn verify_signature(
    secret: &str,
    header: &str,
    body: &[u8],
    now_seconds: i64,
    tolerance_seconds: i64,
) -> bool {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => candidates.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    if (now_seconds - timestamp).abs() > tolerance_seconds {
        return false;
    }
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    candidates
        .iter()
        .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let key = ServerKey::from_hex(&"11".repeat(32)).unwrap();
        let secret = key.webhook_secret("wh_0123456789abcdef", "salt");
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(secret.expose().len(), 6 + 64);
        let body = br#"{"id":"e1"}"#;
        let header = signature_header(&secret, 1_800_000_000, body);
        assert!(verify_signature(
            secret.expose(),
            &header,
            body,
            1_800_000_100,
            300
        ));

        // Another body, another secret, another timestamp, or a stale one: refused.
        assert!(!verify_signature(
            secret.expose(),
            &header,
            b"{}",
            1_800_000_000,
            300
        ));
        let other = key.webhook_secret("wh_0123456789abcdef", "other salt");
        assert!(!verify_signature(
            other.expose(),
            &header,
            body,
            1_800_000_000,
            300
        ));
        let moved = header.replace("t=1800000000", "t=1800000001");
        assert!(!verify_signature(
            secret.expose(),
            &moved,
            body,
            1_800_000_000,
            300
        ));
        assert!(!verify_signature(
            secret.expose(),
            &header,
            body,
            1_800_000_301,
            300
        ));
        assert!(!verify_signature(
            secret.expose(),
            "v1=00",
            body,
            1_800_000_000,
            300
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_the_timestamp_a_dot_and_the_body() {
        // Computed apart from this code (Python's hmac module):
        // hmac.new(b"Jefe", b"0.what do ya want for nothing?", hashlib.sha256).hexdigest()
        let secret = Secret::new("Jefe".to_owned());
        let header = signature_header(&secret, 0, b"what do ya want for nothing?");
        assert_eq!(
            header,
            "t=0,v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
    }

    #[test]
    fn secrets_differ_by_key_webhook_and_salt_and_the_key_never_prints() {
        let one = ServerKey::from_hex(&"11".repeat(32)).unwrap();
        let two = ServerKey::from_hex(&"22".repeat(32)).unwrap();
        let a = one.webhook_secret("wh_a", "s");
        assert_ne!(a, two.webhook_secret("wh_a", "s"));
        assert_ne!(a, one.webhook_secret("wh_b", "s"));
        assert_ne!(a, one.webhook_secret("wh_a", "t"));
        assert_eq!(a, one.webhook_secret("wh_a", "s"));
        assert_eq!(format!("{one:?}"), "ServerKey([redacted])");
        assert!(ServerKey::from_hex("abc").is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = key_path(&dir.path().join("rollcall.db"));
        let first = ServerKey::from_file(&path).unwrap();
        let second = ServerKey::from_file(&path).unwrap();
        assert_eq!(first.0, second.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Only the key file is left: no temporary file.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
