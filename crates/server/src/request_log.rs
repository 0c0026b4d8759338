//! The per-workspace request log: what each authenticated SCIM request was, and how it was
//! answered, for the workspace's admin and support ("why did my user not appear?").
//!
//! How an entry comes together:
//! - the `audit` middleware puts an empty [`Audit`] into the request's extensions;
//! - authentication fills in the workspace and token id ([`Audit::authenticated`]); a request
//!   that never authenticates is never logged;
//! - the JSON body extractor hands over the body, which is redacted at once
//!   ([`redact_body`]): the values of `password` and of any key that names a secret or token,
//!   and the `value` of a PATCH operation whose `path` names one, become `"[redacted]"`;
//! - an error answer carries its `scimType` and `detail` ([`ErrorSummary`]);
//! - when the answer is ready, the middleware queues the entry.
//!
//! Entries are written by a background task in batches (one transaction per batch, at least
//! every [`FLUSH_INTERVAL`]), so logging adds no commit to a request. The price: entries still
//! queued when the process dies are lost, and when the queue is full (the database is slower
//! than the traffic) new entries are dropped and counted in the server log rather than slowing
//! requests. Entries older than the retention are pruned hourly.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use rollcall_store::{RequestLogEntry, Store, TokenId, WorkspaceId};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::app::AppState;
use crate::clock::Clock;

/// The longest body kept, in characters; a longer one is cut and says so.
pub const MAX_LOGGED_BODY: usize = 4096;

/// The longest `User-Agent` kept.
const MAX_USER_AGENT: usize = 256;

/// How often queued entries are written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(200);

/// The most entries queued before new ones are dropped.
const QUEUE: usize = 10_000;

/// The most entries written in one transaction.
const BATCH: usize = 1_000;

/// Entries older than this are deleted unless the server is told otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;

const REDACTED: &str = "[redacted]";

/// What the request log needs to learn while a request is handled.
#[derive(Debug, Default)]
struct Pending {
    workspace: Option<WorkspaceId>,
    token: Option<TokenId>,
    body: Option<String>,
}

/// The part of an entry that handlers fill in, shared through the request's extensions.
#[derive(Debug, Clone, Default)]
pub struct Audit(Arc<Mutex<Pending>>);

impl Audit {
    /// Records that the request authenticated with `token` on `workspace`.
    pub fn authenticated(&self, workspace: &WorkspaceId, token: &TokenId) {
        if let Ok(mut pending) = self.0.lock() {
            pending.workspace = Some(workspace.clone());
            pending.token = Some(token.clone());
        }
    }

    /// Records the request's JSON body, redacted and cut.
    pub fn body(&self, body: &Value) {
        if let Ok(mut pending) = self.0.lock() {
            pending.body = Some(redact_body(body));
        }
    }

    /// Records a body that is not JSON, by its size only.
    pub fn unreadable_body(&self, bytes: usize) {
        if let Ok(mut pending) = self.0.lock() {
            pending.body = Some(format!("[{bytes} bytes, not JSON; not kept]"));
        }
    }
}

/// The `scimType` and `detail` of an error answer, carried in the response's extensions.
#[derive(Debug, Clone)]
pub struct ErrorSummary {
    pub scim_type: Option<String>,
    pub detail: String,
}

/// The body as it may be kept: secrets replaced, then cut to [`MAX_LOGGED_BODY`] characters.
pub fn redact_body(body: &Value) -> String {
    let mut copy = body.clone();
    redact(&mut copy);
    let text = copy.to_string();
    if text.chars().count() <= MAX_LOGGED_BODY {
        return text;
    }
    let cut: String = text.chars().take(MAX_LOGGED_BODY).collect();
    format!("{cut}... [cut: {} characters in all]", text.chars().count())
}

/// Whether a key or a PATCH path names something secret.
fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "authorization",
        "apikey",
        "api_key",
    ]
    .iter()
    .any(|word| name.contains(word))
}

fn redact(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            let secret_path = fields.iter().any(|(key, v)| {
                key.eq_ignore_ascii_case("path") && v.as_str().is_some_and(is_secret)
            });
            for (key, field) in fields.iter_mut() {
                if is_secret(key) || (secret_path && key.eq_ignore_ascii_case("value")) {
                    *field = Value::String(REDACTED.to_owned());
                } else {
                    redact(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// The sending side of the log; cheap to clone.
#[derive(Clone)]
pub struct RequestLog {
    queue: mpsc::Sender<Message>,
}

enum Message {
    Entry(Box<RequestLogEntry>),
    /// Write everything queued so far, then answer.
    Flush(oneshot::Sender<()>),
}

impl RequestLog {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, retention_days: u32) -> RequestLog {
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, clock, receiver, retention_days));
        RequestLog { queue }
    }

    fn push(&self, entry: RequestLogEntry) {
        if let Err(mpsc::error::TrySendError::Full(_)) =
            self.queue.try_send(Message::Entry(Box::new(entry)))
        {
            crate::metrics::count_request_log_dropped();
            tracing::warn!("the request log queue is full; an entry was dropped");
        }
    }

    /// Waits until every entry queued before the call is written (for tests and shutdown).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_batches(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    mut receiver: mpsc::Receiver<Message>,
    retention_days: u32,
) {
    let retention = chrono::Duration::days(i64::from(retention_days));
    let mut pruned_at: Option<DateTime<Utc>> = None;
    let mut batch = Vec::new();
    let mut waiting = Vec::new();
    let mut open = true;
    while open {
        // The first message opens a batch; it closes after FLUSH_INTERVAL, when full, or when
        // someone waits for it.
        let first = tokio::select! {
            message = receiver.recv() => message,
            () = tokio::time::sleep(Duration::from_secs(3600)) => None,
        };
        match first {
            Some(message) => take(message, &mut batch, &mut waiting),
            None if receiver.is_closed() => open = false,
            None => {}
        }
        let deadline = tokio::time::Instant::now() + FLUSH_INTERVAL;
        while open && !batch.is_empty() && batch.len() < BATCH && waiting.is_empty() {
            tokio::select! {
                message = receiver.recv() => match message {
                    Some(message) => take(message, &mut batch, &mut waiting),
                    None => open = false,
                },
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        if !batch.is_empty() {
            let entries = std::mem::take(&mut batch);
            let count = entries.len();
            if let Err(err) = store.append_request_log(entries).await {
                tracing::warn!(error = %err, count, "cannot write request log entries; dropped");
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
        let now = clock.now();
        if pruned_at.is_none_or(|at| now - at > chrono::Duration::hours(1)) {
            pruned_at = Some(now);
            match store.prune_request_log(now - retention).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "pruned the request log"),
                Err(err) => tracing::warn!(error = %err, "cannot prune the request log"),
            }
        }
    }
}

fn take(
    message: Message,
    batch: &mut Vec<RequestLogEntry>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) {
    match message {
        Message::Entry(entry) => batch.push(*entry),
        Message::Flush(done) => waiting.push(done),
    }
}

/// The middleware of the SCIM routes: sets up the [`Audit`], and queues the entry when the
/// request authenticated.
pub async fn audit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let audit = Audit::default();
    request.extensions_mut().insert(audit.clone());
    let started = Instant::now();
    let at = state.clock.now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let resource_id = route
        .ends_with("/{id}")
        .then(|| request.uri().path().rsplit('/').next().map(str::to_owned))
        .flatten();
    let user_agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(MAX_USER_AGENT).collect());

    let response = next.run(request).await;

    let Some(log) = &state.request_log else {
        return response;
    };
    let Ok(pending) = audit.0.lock().map(|mut p| std::mem::take(&mut *p)) else {
        return response;
    };
    let (Some(workspace), Some(token)) = (pending.workspace, pending.token) else {
        return response;
    };
    let error = response.extensions().get::<ErrorSummary>();
    log.push(RequestLogEntry {
        workspace_id: workspace,
        at,
        method,
        route,
        resource_id,
        status: response.status().as_u16(),
        scim_type: error.and_then(|e| e.scim_type.clone()),
        detail: error.map(|e| e.detail.clone()),
        latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        token_id: token.to_string(),
        user_agent,
        body: pending.body,
    });
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn passwords_tokens_and_secret_patch_values_are_redacted() {
        let body = json!({
            "userName": "a@example.com",
            "password": "hunter2",
            "urn:example:ext": {"apiToken": "t0k", "Client_Secret": "s"},
            "Operations": [
                {"op": "replace", "path": "password", "value": "hunter3"},
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "value": {"PASSWORD": "hunter4", "displayName": "A"}},
            ],
        });
        assert_eq!(
            serde_json::from_str::<Value>(&redact_body(&body)).unwrap(),
            json!({
                "userName": "a@example.com",
                "password": "[redacted]",
                "urn:example:ext": {"apiToken": "[redacted]", "Client_Secret": "[redacted]"},
                "Operations": [
                    {"op": "replace", "path": "password", "value": "[redacted]"},
                    {"op": "replace", "path": "active", "value": false},
                    {"op": "replace", "value": {"PASSWORD": "[redacted]", "displayName": "A"}},
                ],
            })
        );
    }

    #[test]
    fn a_long_body_is_cut_and_says_so() {
        let body = json!({"title": "é".repeat(5000)});
        let kept = redact_body(&body);
        assert_eq!(
            kept.chars().count(),
            MAX_LOGGED_BODY + "... [cut: 5012 characters in all]".len()
        );
        assert!(
            kept.ends_with("... [cut: 5012 characters in all]"),
            "{}",
            &kept[kept.len() - 60..]
        );
    }
}
