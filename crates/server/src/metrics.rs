//! Prometheus metrics at `GET /metrics`, in the text exposition format.
//!
//! Counters are process-wide (one node, one set), kept in memory and reset when the process
//! restarts, as Prometheus expects. Labels hold only matched routes, methods, statuses and
//! outcomes, never a path with ids, a query string, a token or a body. The endpoint needs no
//! token: serve it to the monitoring network only (a load balancer rule, or a listen address
//! that is not public).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct Registry {
    /// (route, method, status) → answers.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    durations: Mutex<BTreeMap<String, Histogram>>,
    shed: AtomicU64,
    rate_limited: AtomicU64,
    auth_failures: AtomicU64,
    webhook_delivered: AtomicU64,
    webhook_failed: AtomicU64,
    request_log_dropped: AtomicU64,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// Counts one answered request and its latency.
pub fn record_request(route: &str, method: &str, status: u16, latency: Duration) {
    let registry = registry();
    if let Ok(mut requests) = registry.requests.lock() {
        *requests
            .entry((route.to_owned(), method.to_owned(), status))
            .or_default() += 1;
    }
    if let Ok(mut durations) = registry.durations.lock() {
        let histogram = durations.entry(route.to_owned()).or_default();
        let seconds = latency.as_secs_f64();
        for (count, bound) in histogram.counts.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }
}

/// Counts a request shed because too many were in flight.
pub fn count_shed() {
    registry().shed.fetch_add(1, Ordering::Relaxed);
}

/// Counts a request refused by a workspace's rate limit.
pub fn count_rate_limited() {
    registry().rate_limited.fetch_add(1, Ordering::Relaxed);
}

/// Counts a request refused for want of a valid token or key.
pub fn count_auth_failure() {
    registry().auth_failures.fetch_add(1, Ordering::Relaxed);
}

/// Counts one webhook delivery attempt.
pub fn count_webhook_attempt(delivered: bool) {
    let counter = if delivered {
        &registry().webhook_delivered
    } else {
        &registry().webhook_failed
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Counts a request log entry dropped because the log's queue was full.
pub fn count_request_log_dropped() {
    registry()
        .request_log_dropped
        .fetch_add(1, Ordering::Relaxed);
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let registry = registry();
    let mut out = String::new();
    header_lines(
        &mut out,
        "rollcall_http_requests_total",
        "counter",
        "HTTP requests answered, by matched route, method and status.",
    );
    if let Ok(requests) = registry.requests.lock() {
        for ((route, method, status), count) in requests.iter() {
            let _ = writeln!(
                out,
                "rollcall_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{status}\"}} {count}",
                escape(route),
                escape(method)
            );
        }
    }
    header_lines(
        &mut out,
        "rollcall_http_request_duration_seconds",
        "histogram",
        "Time from a request's arrival to its answer, by matched route.",
    );
    if let Ok(durations) = registry.durations.lock() {
        for (route, histogram) in durations.iter() {
            let route = escape(route);
            for (count, bound) in histogram.counts.iter().zip(BUCKETS) {
                let _ = writeln!(
                    out,
                    "rollcall_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "rollcall_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "rollcall_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "rollcall_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count
            );
        }
    }
    let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
        header_lines(out, name, "gauge", help);
        let _ = writeln!(out, "{name} {value}");
    };
    let counter = |out: &mut String, name: &str, help: &str, value: u64| {
        header_lines(out, name, "counter", help);
        let _ = writeln!(out, "{name} {value}");
    };
    gauge(
        &mut out,
        "rollcall_http_requests_in_flight",
        "Requests being handled now (probes not counted).",
        state.guard.in_flight() as u64,
    );
    counter(
        &mut out,
        "rollcall_http_requests_shed_total",
        "Requests answered 503 because too many were in flight.",
        registry.shed.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "rollcall_rate_limited_total",
        "Requests answered 429 by a workspace's rate limit.",
        registry.rate_limited.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "rollcall_auth_failures_total",
        "Requests answered 401.",
        registry.auth_failures.load(Ordering::Relaxed),
    );
    header_lines(
        &mut out,
        "rollcall_webhook_attempts_total",
        "counter",
        "Webhook delivery attempts made by this node, by outcome.",
    );
    let _ = writeln!(
        out,
        "rollcall_webhook_attempts_total{{outcome=\"delivered\"}} {}",
        registry.webhook_delivered.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "rollcall_webhook_attempts_total{{outcome=\"failed\"}} {}",
        registry.webhook_failed.load(Ordering::Relaxed)
    );
    if let Ok((webhooks, deliveries)) = state.store.webhooks_pending().await {
        gauge(
            &mut out,
            "rollcall_webhooks_pending",
            "Webhooks with events not yet delivered (all nodes).",
            webhooks,
        );
        gauge(
            &mut out,
            "rollcall_webhook_queue_depth",
            "Deliveries not yet made: each pending event once per webhook (all nodes).",
            deliveries,
        );
    }
    counter(
        &mut out,
        "rollcall_request_log_dropped_total",
        "Request log entries dropped because the log's queue was full.",
        registry.request_log_dropped.load(Ordering::Relaxed),
    );
    if let Some(pool) = state.store.pool_stats() {
        header_lines(
            &mut out,
            "rollcall_db_connections",
            "gauge",
            "Database connections of this node, by state.",
        );
        let _ = writeln!(
            out,
            "rollcall_db_connections{{state=\"idle\"}} {}",
            pool.idle
        );
        let _ = writeln!(
            out,
            "rollcall_db_connections{{state=\"busy\"}} {}",
            pool.open.saturating_sub(pool.idle)
        );
        gauge(
            &mut out,
            "rollcall_db_connections_max",
            "The most database connections this node opens.",
            u64::from(pool.max),
        );
    }
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

fn header_lines(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the exposition format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
