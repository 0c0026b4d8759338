//! SCIM tokens and operator API keys: generation, parsing, hashing and constant-time
//! verification.
//!
//! A token reads `rcs_<id>_<secret>`: 16 hex digits of public id, which the store keeps in clear
//! for lookup (as `tok_<id>`), and 64 hex digits (256 bits) of secret, of which the store keeps
//! only the SHA-256. The whole token is shown once, when it is issued. An operator API key has
//! the same shape with the prefix `rok_` (stored as `key_<id>`), so neither is ever mistaken for
//! the other: a SCIM route refuses a key and the operator API refuses a token.

use std::fmt;

use rand::RngExt;
use rollcall_store::TokenId;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const TOKEN_PREFIX: &str = "rcs_";
const ID_PREFIX: &str = "tok_";
const KEY_PREFIX: &str = "rok_";
const KEY_ID_PREFIX: &str = "key_";
const LINK_PREFIX: &str = "rsl_";
const LINK_ID_PREFIX: &str = "sl_";

/// A secret value whose `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself, for the one place that shows it (the response that issues it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A freshly generated token: the id to store, the hash to store, and the token to show once.
#[derive(Debug)]
pub struct NewToken {
    pub id: TokenId,
    pub secret_hash: String,
    pub token: Secret,
}

/// Generates a token with 256 bits of secret from the thread-local CSPRNG (ChaCha, seeded and
/// reseeded by the operating system).
pub fn generate_token() -> NewToken {
    let mut rng = rand::rng();
    let id: [u8; 8] = rng.random();
    let secret: [u8; 32] = rng.random();
    let id = hex::encode(id);
    let secret = hex::encode(secret);
    NewToken {
        id: TokenId::new(format!("{ID_PREFIX}{id}")),
        secret_hash: hash_secret(&secret),
        token: Secret::new(format!("{TOKEN_PREFIX}{id}_{secret}")),
    }
}

/// Splits a presented token into its id and secret; `None` when it is not of our shape.
pub fn parse_token(token: &str) -> Option<(TokenId, &str)> {
    let (id, secret) = split_secret(token, TOKEN_PREFIX)?;
    Some((TokenId::new(format!("{ID_PREFIX}{id}")), secret))
}

/// A freshly generated operator API key: the id and hash to store, the key to show once.
#[derive(Debug)]
pub struct NewApiKey {
    pub id: String,
    pub secret_hash: String,
    pub key: Secret,
}

/// Generates an operator API key with 256 bits of secret.
pub fn generate_api_key() -> NewApiKey {
    let mut rng = rand::rng();
    let id = hex::encode(rng.random::<[u8; 8]>());
    let secret = hex::encode(rng.random::<[u8; 32]>());
    NewApiKey {
        id: format!("{KEY_ID_PREFIX}{id}"),
        secret_hash: hash_secret(&secret),
        key: Secret::new(format!("{KEY_PREFIX}{id}_{secret}")),
    }
}

/// Splits a presented operator API key into its stored id and secret.
pub fn parse_api_key(key: &str) -> Option<(String, &str)> {
    let (id, secret) = split_secret(key, KEY_PREFIX)?;
    Some((format!("{KEY_ID_PREFIX}{id}"), secret))
}

/// Generates a setup link's secret: `rsl_<id>_<secret>`, stored as `sl_<id>` and a hash.
pub fn generate_setup_link() -> NewApiKey {
    let mut rng = rand::rng();
    let id = hex::encode(rng.random::<[u8; 8]>());
    let secret = hex::encode(rng.random::<[u8; 32]>());
    NewApiKey {
        id: format!("{LINK_ID_PREFIX}{id}"),
        secret_hash: hash_secret(&secret),
        key: Secret::new(format!("{LINK_PREFIX}{id}_{secret}")),
    }
}

/// Splits a presented setup link secret into its stored id and secret.
pub fn parse_setup_link(link: &str) -> Option<(String, &str)> {
    let (id, secret) = split_secret(link, LINK_PREFIX)?;
    Some((format!("{LINK_ID_PREFIX}{id}"), secret))
}

/// `PREFIX<16 hex>_<64 hex>` into its two hex parts.
fn split_secret<'a>(text: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let rest = text.strip_prefix(prefix)?;
    let (id, secret) = rest.split_once('_')?;
    let is_hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    (is_hex(id, 16) && is_hex(secret, 64)).then_some((id, secret))
}

/// Hex SHA-256 of a token's secret part, the only form the store keeps.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares a presented secret with a stored hash in constant time.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    let presented = Sha256::digest(secret.as_bytes());
    let Ok(stored) = hex::decode(stored_hash) else {
        return false;
    };
    presented.as_slice().ct_eq(stored.as_slice()).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_parses_back_and_verifies_against_its_hash() {
        let new = generate_token();
        let (id, secret) = parse_token(new.token.expose()).unwrap();
        assert_eq!(id, new.id);
        assert!(verify_secret(secret, &new.secret_hash));
        assert!(!verify_secret(&"0".repeat(64), &new.secret_hash));
        assert_eq!(new.token.expose().len(), 4 + 16 + 1 + 64);
    }

    #[test]
    fn tokens_of_other_shapes_are_refused() {
        for bad in [
            "",
            "rcs_",
            "rcs_abc_def",
            "Bearer x",
            &format!("rcs_{}_{}", "g".repeat(16), "0".repeat(64)),
        ] {
            assert!(parse_token(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn keys_and_tokens_are_never_taken_for_each_other() {
        let key = generate_api_key();
        let (id, secret) = parse_api_key(key.key.expose()).unwrap();
        assert_eq!(id, key.id);
        assert!(verify_secret(secret, &key.secret_hash));
        assert!(parse_token(key.key.expose()).is_none());
        let token = generate_token();
        assert!(parse_api_key(token.token.expose()).is_none());
        assert!(!format!("{key:?}").contains(key.key.expose()));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let new = generate_token();
        assert!(!format!("{new:?}").contains(new.token.expose()));
    }
}
