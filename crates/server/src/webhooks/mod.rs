//! Webhooks: each workspace's events, sent to the URLs its operator registered, signed.
//!
//! - [`signing`]: the server key, the webhook secrets derived from it, and the
//!   `Rollcall-Signature` header (with the check a receiver runs).
//! - [`target`]: which URLs and addresses a webhook may reach.
//! - [`dispatch`]: the delivery loop with its retries and delivery log.

pub mod dispatch;
pub mod signing;
pub mod target;

pub use dispatch::{DispatchOptions, Dispatcher};
pub use signing::ServerKey;

/// What the operator API needs to add webhooks.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// The key secrets are derived from; `None` when the server has none (webhooks are off).
    pub key: Option<ServerKey>,
    /// Whether webhook URLs may reach private and loopback addresses.
    pub allow_private: bool,
}
