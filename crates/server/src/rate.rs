//! Per-workspace rate limits: a token bucket per workspace, checked after authentication, so
//! one noisy workspace cannot take a node's capacity from the others.
//!
//! Buckets live in the node's memory: with several nodes behind a load balancer, each node
//! allows the rate on its own. Time comes from the injected [`Clock`], so tests need no sleep.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rollcall_store::WorkspaceId;

use crate::clock::Clock;

/// The default sustained rate per workspace: far above what an IdP's initial sync sends.
pub const DEFAULT_PER_SECOND: u32 = 200;
/// The default burst per workspace.
pub const DEFAULT_BURST: u32 = 1_000;

/// Token buckets, one per workspace.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<WorkspaceId, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: DateTime<Utc>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(DEFAULT_PER_SECOND, DEFAULT_BURST)
    }
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the workspace's bucket. `Err(seconds)` says how long to wait
    /// before the next request would pass (at least 1, for `Retry-After`).
    pub fn check(&self, workspace: &WorkspaceId, clock: &dyn Clock) -> Result<(), u64> {
        let now = clock.now();
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock means a panic elsewhere; letting requests through is safer
            // than refusing every one.
            return Ok(());
        };
        let bucket = buckets.entry(workspace.clone()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = (now - bucket.updated).num_milliseconds().max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - bucket.tokens) / self.per_second).ceil().max(1.0);
        Err(wait as u64)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_bucket_allows_the_burst_then_refills_at_the_rate() {
        let clock = ManualClock::new(Utc::now());
        let limiter = RateLimiter::new(2, 3);
        let acme = WorkspaceId::new("acme");
        let other = WorkspaceId::new("other");
        for _ in 0..3 {
            assert_eq!(limiter.check(&acme, &clock), Ok(()));
        }
        assert_eq!(limiter.check(&acme, &clock), Err(1));
        assert_eq!(limiter.check(&other, &clock), Ok(()));
        clock.advance(Duration::milliseconds(500));
        assert_eq!(limiter.check(&acme, &clock), Ok(()));
        assert_eq!(limiter.check(&acme, &clock), Err(1));
    }
}
