//! Limits that protect a node from its clients: a cap on requests in flight, a deadline on
//! each request's handling, and a deadline on receiving a request's body.
//!
//! - Above `max_in_flight` requests at once, a new one is answered at once with 503 and
//!   `Retry-After: 1` (a SCIM Error), never queued: a queue without bound only turns overload
//!   into timeouts and memory. `/healthz`, `/readyz` and `/metrics` are not counted, so that a
//!   busy node still answers its probes.
//! - A request whose handling takes longer than `request_timeout` is answered with 503 and
//!   `Retry-After`. Its work is abandoned where it stands; a write already handed to the
//!   database still commits or rolls back whole, so the IdP's retry finds either the change
//!   (and gets 409 for a create, or an idempotent answer) or nothing.
//! - A body not received within `body_timeout` (a client trickling it) is answered with 408.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::app::AppState;
use crate::error::ApiError;

/// The limits of one node; [`ServerLimits::default`] is what `rollcall serve` uses unless told
/// otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// The largest request body, in bytes (413 beyond; advertised as `bulk.maxPayloadSize`).
    pub max_body_bytes: usize,
    pub max_in_flight: usize,
    pub request_timeout: Duration,
    pub body_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_body_bytes: crate::app::MAX_BODY_BYTES,
            max_in_flight: 512,
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// The running state of the limits, shared by all requests of a node.
#[derive(Debug, Clone)]
pub struct Guard {
    pub limits: ServerLimits,
    in_flight: Arc<Semaphore>,
}

impl Guard {
    pub fn new(limits: ServerLimits) -> Guard {
        Guard {
            limits,
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
        }
    }

    /// Requests being handled now.
    pub fn in_flight(&self) -> usize {
        self.limits
            .max_in_flight
            .max(1)
            .saturating_sub(self.in_flight.available_permits())
    }
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new(ServerLimits::default())
    }
}

/// How long the body of this request may take to arrive, and how large it may be (read by the
/// body extractor).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration, pub usize);

/// The middleware: sheds load above the cap and bounds each request's time.
pub async fn guard(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        return next.run(request).await;
    }
    let guard = &state.guard;
    let Ok(_permit) = guard.in_flight.clone().try_acquire_owned() else {
        crate::metrics::count_shed();
        return ApiError::Busy(format!(
            "the server is handling {} requests, its most at once; retry shortly",
            guard.limits.max_in_flight
        ))
        .into_response();
    };
    request.extensions_mut().insert(BodyDeadline(
        guard.limits.body_timeout,
        guard.limits.max_body_bytes,
    ));
    let deadline = guard.limits.request_timeout;
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                timeout_ms = deadline.as_millis() as u64,
                "a request ran past its deadline"
            );
            ApiError::Busy(format!(
                "the request took longer than {} ms and was stopped; retry shortly",
                deadline.as_millis()
            ))
            .into_response()
        }
    }
}
