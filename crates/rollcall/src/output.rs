//! What the CLI prints: one JSON object with `--json`, a short human line otherwise.

use rollcall_scim::schema::CustomAttribute;
use rollcall_server::operator::{IssuedToken, base_path};
use rollcall_server::views::{self, timestamp};
use rollcall_store::{
    DeliveryAttempt, Event, RequestLogEntry, TokenRecord, WebhookRecord, Workspace, WorkspaceId,
};
use serde_json::{Value, json};

/// Prints `value` as JSON, or the text `human` builds.
pub fn print(json: bool, value: Value, human: impl FnOnce() -> String) {
    if json {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}

pub fn workspace(json: bool, workspace: &Workspace) {
    print(json, views::workspace(workspace), || {
        format!(
            "workspace {} ({}): plan {}, invitation-only {}, SCIM {}, userName {}, default role {}",
            workspace.id,
            workspace.name,
            workspace.plan,
            workspace.invitation_only,
            if workspace.scim_enabled {
                "enabled"
            } else {
                "disabled"
            },
            workspace.username_format.as_str(),
            workspace.default_role,
        )
    });
}

pub fn workspaces(json: bool, workspaces: &[Workspace]) {
    print(json, views::workspaces(workspaces), || {
        if workspaces.is_empty() {
            return "no workspaces".to_owned();
        }
        workspaces
            .iter()
            .map(|w| format!("{}  {}  {}", w.id, w.plan, w.name))
            .collect::<Vec<_>>()
            .join("\n")
    });
}

pub fn scim_enabled(json: bool, workspace: &Workspace, token: &IssuedToken) {
    print(json, views::scim_enabled(workspace, token), || {
        format!(
            "SCIM enabled for workspace {}.\nSCIM base path: {}\nBearer token (shown once): {}",
            workspace.id,
            base_path(&workspace.id),
            token.token.expose()
        )
    });
}

pub fn token_issued(json: bool, workspace: &WorkspaceId, token: &IssuedToken) {
    print(json, views::token_issued(workspace, token), || {
        format!(
            "token {} for workspace {} (shown once): {}",
            token.id,
            workspace,
            token.token.expose()
        )
    });
}

pub fn tokens(json: bool, tokens: &[TokenRecord]) {
    print(json, views::tokens(tokens), || {
        if tokens.is_empty() {
            return "no tokens".to_owned();
        }
        tokens
            .iter()
            .map(|t| {
                format!(
                    "{}  {}  created {}  last used {}{}",
                    t.id,
                    t.label.as_deref().unwrap_or("-"),
                    timestamp(t.created_at),
                    t.last_used_at.map_or("never".to_owned(), timestamp),
                    if t.revoked_at.is_some() {
                        "  revoked"
                    } else {
                        ""
                    },
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
}

/// The feed page; `next_cursor` is where the next read starts (the last event's cursor, or the
/// cursor read from when nothing new happened).
pub fn events(json: bool, events: &[Event], after: Option<&str>) {
    print(json, views::events(events, after), || {
        if events.is_empty() {
            return "no new events".to_owned();
        }
        events
            .iter()
            .map(|e| {
                format!(
                    "{}  {}  {}  {}",
                    e.cursor,
                    timestamp(e.occurred_at),
                    e.kind,
                    e.resource_id
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
}

pub fn webhooks(json: bool, webhooks: &[WebhookRecord]) {
    print(json, views::webhooks(webhooks), || {
        if webhooks.is_empty() {
            return "no webhooks".to_owned();
        }
        webhooks
            .iter()
            .map(|w| {
                format!(
                    "{}  {}  delivered through {}  {} failures",
                    w.id, w.url, w.delivered_through, w.failures
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
}

/// The request log, newest first.
pub fn request_log(json: bool, entries: &[RequestLogEntry]) {
    print(json, views::request_log(entries), || {
        if entries.is_empty() {
            return "no requests logged".to_owned();
        }
        entries
            .iter()
            .map(|e| {
                let mut line = format!(
                    "{}  {} {}  {}  {} ms",
                    timestamp(e.at),
                    e.method,
                    e.route,
                    e.status,
                    e.latency_ms
                );
                if let Some(detail) = &e.detail {
                    line.push_str("  ");
                    line.push_str(detail);
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
}

/// The delivery log, newest first.
pub fn deliveries(json: bool, attempts: &[DeliveryAttempt]) {
    print(json, views::deliveries(attempts), || {
        if attempts.is_empty() {
            return "no delivery attempts".to_owned();
        }
        attempts
            .iter()
            .map(|a| {
                let outcome = if a.delivered {
                    "delivered".to_owned()
                } else {
                    format!("failed: {}", a.error.as_deref().unwrap_or(""))
                };
                format!(
                    "{}  {}  event {}  attempt {}  {}",
                    timestamp(a.at),
                    a.webhook_id,
                    a.event_id,
                    a.attempt,
                    outcome
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
}

pub fn custom_attribute(attribute: &CustomAttribute) -> Value {
    json!({
        "name": attribute.name,
        "type": attribute.kind.name(),
        "multi_valued": attribute.multi_valued,
        "required": attribute.required,
        "canonical_values": attribute.canonical_values,
    })
}
