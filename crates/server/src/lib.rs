//! rollcall's HTTP service: SCIM routes, authentication, errors, and the operator actions the
//! CLI shares.
//!
//! A SCIM request goes through [`routes`] (one module per endpoint), is authenticated by
//! [`auth`] against the workspace in its path, runs the protocol core (`rollcall-scim`) and the
//! store (`rollcall-store`), and leaves through [`error`] or [`response`]. The server builds no
//! SQL and decides every HTTP status in [`error::ApiError`].
//!
//! Layout:
//! - [`app`]: the router, middleware and request logging.
//! - [`routes`]: `users` (`/Users`), `search` (`POST /.search`), `bulk` (`/Bulk`), `discovery`
//!   (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`), `health` (`/healthz`,
//!   `/readyz`).
//! - [`service`]: the operations on resources that those routes share.
//! - [`auth`]: bearer tokens of a workspace.
//! - [`api`]: the operator API (`/api/v1`), authenticated by operator API keys.
//! - [`console`]: the admin console (`/console`), server-rendered pages for support staff.
//! - [`operator`]: workspace, SCIM and token actions of the operator (CLI today).
//! - [`secret`]: token generation, hashing and constant-time checks.
//! - [`rate`]: per-workspace rate limits.
//! - [`guard`]: the in-flight cap and request and body deadlines of a node.
//! - [`throttle`]: slower 401 answers for addresses that keep failing authentication.
//! - [`metrics`]: Prometheus metrics at `/metrics`.
//! - [`request_log`]: the per-workspace log of authenticated SCIM requests.
//! - [`views`]: the JSON shapes of the operator's objects (CLI `--json` and operator API).
//! - [`clock`]: the injected clock.
//! - [`webhooks`]: signed deliveries of each workspace's events to its webhooks.

pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod console;
pub mod error;
pub mod guard;
pub mod metrics;
pub mod operator;
pub mod rate;
pub mod request_log;
pub mod response;
pub mod routes;
pub mod secret;
pub mod service;
pub mod throttle;
pub mod views;
pub mod webhooks;

pub use app::{App, AppState, app};
