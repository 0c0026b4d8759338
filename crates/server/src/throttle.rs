//! Slowing down guessing: a client address whose requests keep failing authentication gets
//! its 401 answers later and later.
//!
//! Each address may fail [`FREE_FAILURES`] times in a [`WINDOW`]; each failure beyond that
//! delays its 401 by twice the previous delay, from 100 ms up to [`MAX_DELAY`]. Only failed
//! requests wait: a valid token from the same address (an office behind one NAT) is answered at
//! full speed. The table of addresses is bounded; when it is full, the addresses with the oldest
//! failures are forgotten first.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

use crate::app::AppState;

/// Failures an address may have in a window before its answers slow down.
pub const FREE_FAILURES: u32 = 10;

/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The longest a 401 is held back.
pub const MAX_DELAY: Duration = Duration::from_secs(2);

/// The most addresses remembered.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Default, Clone)]
pub struct AuthThrottle {
    failures: Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>,
}

impl AuthThrottle {
    /// Records a failure of `address` at `now` and returns how long its answer must wait.
    pub fn failed(&self, address: IpAddr, now: Instant) -> Duration {
        let Ok(mut failures) = self.failures.lock() else {
            return Duration::ZERO;
        };
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&address) {
            failures.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
            if failures.len() >= MAX_ADDRESSES
                && let Some(oldest) = failures
                    .iter()
                    .min_by_key(|(_, (since, _))| *since)
                    .map(|(address, _)| *address)
            {
                failures.remove(&oldest);
            }
        }
        let entry = failures.entry(address).or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        delay_after(entry.1)
    }
}

/// The wait of the `failures`-th failure in a window.
pub fn delay_after(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES - 1).min(16);
    Duration::from_millis(100)
        .saturating_mul(1 << doublings)
        .min(MAX_DELAY)
}

/// The middleware of the SCIM and operator routes: holds back 401 answers of addresses that
/// keep failing. Without a known address (a request that did not come over a socket) nothing
/// is held back.
pub async fn throttle(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let response = next.run(request).await;
    if response.status() == StatusCode::UNAUTHORIZED
        && let Some(address) = address
    {
        let wait = state.throttle.failed(address, Instant::now());
        if !wait.is_zero() {
            tracing::info!(%address, wait_ms = wait.as_millis() as u64, "repeated failed authentication; answer held back");
            tokio::time::sleep(wait).await;
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_beyond_the_free_ones_wait_longer_and_longer_up_to_the_cap() {
        let waits: Vec<u128> = (1..=20).map(|n| delay_after(n).as_millis()).collect();
        assert_eq!(
            waits,
            [
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000,
                2000
            ]
        );
    }

    #[test]
    fn a_window_later_an_address_starts_afresh_and_addresses_are_apart() {
        let throttle = AuthThrottle::default();
        let (a, b): (IpAddr, IpAddr) = (
            "10.0.0.1".parse().unwrap_or(IpAddr::from([0; 4])),
            IpAddr::from([10, 0, 0, 2]),
        );
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(throttle.failed(a, start), Duration::ZERO);
        }
        assert_eq!(throttle.failed(a, start), Duration::from_millis(100));
        assert_eq!(throttle.failed(b, start), Duration::ZERO);
        assert_eq!(throttle.failed(a, start + WINDOW), Duration::ZERO);
    }
}
