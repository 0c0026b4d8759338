//! The delivery loop: each node polls for webhooks with undelivered events, leases them, and
//! sends their events one at a time, in feed order.
//!
//! Delivery is at least once. A webhook's cursor moves past an event only after the receiver
//! answered 2xx, in a write of its own, so a node that dies between the answer and that write
//! sends the event again after restart (receivers de-duplicate by event id). A failed attempt
//! (no answer within the timeout, a non-2xx status, a redirect) is logged and retried after an
//! exponential backoff: `retry_base × 2^(failures − 1)`, at most `retry_max`. Later events of
//! the same webhook wait, so a receiver sees events in order.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rollcall_store::{DeliveryAttempt, Event, Store, StoreError, WebhookRecord};
use serde_json::json;
use tokio::sync::{Notify, watch};

use super::signing::{ServerKey, signature_header};
use super::target::{literal_reason, resolver};
use crate::clock::Clock;

/// How the loop behaves; [`DispatchOptions::default`] is what `rollcall serve` uses.
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// How often to look for due webhooks when nothing wakes the loop sooner.
    pub poll: Duration,
    /// The wait after a first failure; it doubles with each further failure.
    pub retry_base: Duration,
    /// The longest wait between attempts.
    pub retry_max: Duration,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
    /// How long a claimed webhook stays this node's; each attempt renews it. When a node dies,
    /// another (or the restarted one) takes its webhooks over once their leases run out. It
    /// must be longer than one attempt (`timeout`).
    pub lease: Duration,
    /// The most events sent to one webhook per claim.
    pub batch: usize,
    /// Whether receivers on private and loopback addresses may be reached.
    pub allow_private: bool,
}

impl Default for DispatchOptions {
    fn default() -> Self {
        DispatchOptions {
            poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(600),
            timeout: Duration::from_secs(10),
            lease: Duration::from_secs(30),
            batch: 100,
            allow_private: false,
        }
    }
}

/// Sends the events of every workspace's webhooks.
#[derive(Clone)]
pub struct Dispatcher {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    key: ServerKey,
    client: reqwest::Client,
    options: DispatchOptions,
    /// This process's name in webhook leases.
    owner: String,
    wake: Arc<Notify>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        key: ServerKey,
        options: DispatchOptions,
    ) -> Result<Dispatcher, String> {
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .user_agent(concat!("rollcall-webhooks/", env!("CARGO_PKG_VERSION")));
        if let Some(guard) = resolver(options.allow_private) {
            client = client.dns_resolver(guard);
        }
        let client = client
            .build()
            .map_err(|err| format!("cannot build the webhook client: {err}"))?;
        Ok(Dispatcher {
            store,
            clock,
            key,
            client,
            options,
            owner: format!("node-{}", uuid::Uuid::new_v4().simple()),
            wake: Arc::new(Notify::new()),
        })
    }

    /// A handle that makes the loop look for work now instead of at its next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `stop` turns true. Deliveries in flight are abandoned, not finished: their
    /// webhooks' cursors have not moved, so they are sent again after the restart.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            tokio::select! {
                _ = stop.changed() => return,
                worked = self.tick() => {
                    if let Err(err) = worked {
                        tracing::warn!(error = %err, "webhook delivery: cannot read the store");
                    }
                }
            }
            tokio::select! {
                _ = stop.changed() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.options.poll) => {}
            }
        }
    }

    /// Claims the due webhooks and delivers what each has pending, all webhooks at once.
    /// Returns the number of attempts made.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let due = self
            .store
            .claim_due_webhooks(&self.owner, now, now + self.lease())
            .await?;
        let mut work = tokio::task::JoinSet::new();
        for webhook in due {
            let dispatcher = self.clone();
            work.spawn(async move { dispatcher.drain(webhook).await });
        }
        let mut attempts = 0;
        while let Some(done) = work.join_next().await {
            match done {
                Ok(Ok(count)) => attempts += count,
                Ok(Err(err)) => {
                    tracing::warn!(error = %err, "webhook delivery: cannot record an attempt");
                }
                Err(err) => tracing::error!(error = %err, "webhook delivery task failed"),
            }
        }
        Ok(attempts)
    }

    /// Sends one webhook's pending events in order, stopping at the first failure.
    async fn drain(&self, webhook: WebhookRecord) -> Result<usize, StoreError> {
        let events = self
            .store
            .list_events(
                &webhook.workspace_id,
                webhook.delivered_through,
                self.options.batch,
            )
            .await?;
        let secret = self.key.webhook_secret(&webhook.id, &webhook.secret_salt);
        let mut failures = webhook.failures;
        let mut attempts = 0;
        for event in events {
            let started = Instant::now();
            let at = self.clock.now();
            let outcome = self.send(&webhook, &secret, &event, at).await;
            attempts += 1;
            let delivered = outcome.is_ok();
            crate::metrics::count_webhook_attempt(delivered);
            let (status, error) = match outcome {
                Ok(status) => (Some(status), None),
                Err((status, error)) => (status, Some(error)),
            };
            let attempt = DeliveryAttempt {
                webhook_id: webhook.id.clone(),
                workspace_id: webhook.workspace_id.clone(),
                event_id: event.id.clone(),
                event_cursor: event.cursor,
                attempt: failures + 1,
                at,
                status,
                error: error.clone(),
                delivered,
                duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            };
            let retry_at = at + self.backoff(failures + 1);
            let lease_until = self.clock.now() + self.lease();
            self.store
                .record_delivery(attempt, retry_at, lease_until)
                .await?;
            if !delivered {
                tracing::info!(
                    webhook = %webhook.id,
                    workspace = %webhook.workspace_id,
                    event = %event.id,
                    attempt = failures + 1,
                    error = error.as_deref().unwrap_or(""),
                    "webhook delivery failed; will retry"
                );
                break;
            }
            failures = 0;
        }
        Ok(attempts)
    }

    fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.options.lease)
            .unwrap_or_else(|_| chrono::Duration::seconds(30))
    }

    /// The wait after the `failures`-th failure in a row.
    fn backoff(&self, failures: u32) -> chrono::Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(30));
        let wait = self
            .options
            .retry_base
            .saturating_mul(factor)
            .min(self.options.retry_max);
        chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(600))
    }

    /// One attempt: `Ok(status)` on 2xx, else the status (if any) and why it failed.
    async fn send(
        &self,
        webhook: &WebhookRecord,
        secret: &crate::secret::Secret,
        event: &Event,
        at: DateTime<Utc>,
    ) -> Result<u16, (Option<u16>, String)> {
        let url = reqwest::Url::parse(&webhook.url)
            .map_err(|err| (None, format!("the stored URL is not valid: {err}")))?;
        if !self.options.allow_private
            && let Some(reason) = literal_reason(&url)
        {
            return Err((None, format!("the host is {reason}; not sent")));
        }
        let body = delivery_body(webhook, event);
        let signature = signature_header(secret, at.timestamp(), &body);
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("rollcall-signature", signature)
            .header("rollcall-event-id", &event.id)
            .header("rollcall-webhook-id", &webhook.id)
            .body(body)
            .send()
            .await
            .map_err(|err| (None, describe(&err)))?;
        let status = response.status();
        if status.is_success() {
            Ok(status.as_u16())
        } else if status.is_redirection() {
            Err((
                Some(status.as_u16()),
                format!("the receiver answered {status}; redirects are not followed"),
            ))
        } else {
            Err((
                Some(status.as_u16()),
                format!("the receiver answered {status}"),
            ))
        }
    }
}

/// The JSON a receiver gets for one event.
pub fn delivery_body(webhook: &WebhookRecord, event: &Event) -> Vec<u8> {
    json!({
        "id": event.id,
        "type": event.kind,
        "workspace_id": webhook.workspace_id.as_str(),
        "resource_id": event.resource_id,
        "occurred_at": rollcall_scim::render::timestamp(event.occurred_at),
        "cursor": event.cursor.to_string(),
        "data": event.data,
    })
    .to_string()
    .into_bytes()
}

/// A transport error in one line, with its cause (a refused address, a timeout).
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "no answer in time".to_owned()
    } else if err.is_connect() {
        "cannot connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
