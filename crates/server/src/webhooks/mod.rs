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
