//! What the CLI prints: one JSON object with `--json`, a short human line otherwise.

use chrono::{DateTime, Utc};
use rollcall_scim::schema::CustomAttribute;
use rollcall_server::operator::{IssuedToken, base_path};
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

pub fn workspace_json(workspace: &Workspace) -> Value {
    json!({
        "id": workspace.id.as_str(),
        "name": workspace.name,
        "plan": workspace.plan.as_str(),
        "invitation_only": workspace.invitation_only,
        "scim_enabled": workspace.scim_enabled,
        "username_format": workspace.username_format.as_str(),
        "default_role": workspace.default_role.as_str(),
        "role_discovery": workspace.role_discovery,
        "base_path": base_path(&workspace.id),
        "created_at": timestamp(workspace.created_at),
    })
}

pub fn workspace(json: bool, workspace: &Workspace) {
    print(json, workspace_json(workspace), || {
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
    let value = json!({"workspaces": workspaces.iter().map(workspace_json).collect::<Vec<_>>()});
    print(json, value, || {
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
    let value = json!({
        "workspace_id": workspace.id.as_str(),
        "base_path": base_path(&workspace.id),
        "token_id": token.id.as_str(),
        "token": token.token.expose(),
    });
    print(json, value, || {
        format!(
            "SCIM enabled for workspace {}.\nSCIM base path: {}\nBearer token (shown once): {}",
            workspace.id,
            base_path(&workspace.id),
            token.token.expose()
        )
    });
}

pub fn token_issued(json: bool, workspace: &WorkspaceId, token: &IssuedToken) {
    let value = json!({
        "id": token.id.as_str(),
        "workspace_id": workspace.as_str(),
        "token": token.token.expose(),
    });
    print(json, value, || {
        format!(
            "token {} for workspace {} (shown once): {}",
            token.id,
            workspace,
            token.token.expose()
        )
    });
}

pub fn tokens(json: bool, tokens: &[TokenRecord]) {
    let list: Vec<Value> = tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.id.as_str(),
                "label": t.label,
                "created_at": timestamp(t.created_at),
                "last_used_at": t.last_used_at.map(timestamp),
                "expires_at": t.expires_at.map(timestamp),
                "revoked": t.revoked_at.is_some(),
            })
        })
        .collect();
    print(json, json!({"tokens": list}), || {
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
    let list: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "cursor": e.cursor.to_string(),
                "type": e.kind,
                "occurred_at": timestamp(e.occurred_at),
                "resource_id": e.resource_id,
                "data": e.data,
            })
        })
        .collect();
    let next = events
        .last()
        .map(|e| e.cursor.to_string())
        .or_else(|| after.map(str::to_owned))
        .unwrap_or_else(|| "0".to_owned());
    print(json, json!({"events": list, "next_cursor": next}), || {
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
    let list: Vec<Value> = webhooks
        .iter()
        .map(|w| {
            json!({
                "id": w.id,
                "url": w.url,
                "created_at": timestamp(w.created_at),
                "delivered_through": w.delivered_through.to_string(),
                "failures": w.failures,
                "next_attempt_at": timestamp(w.next_attempt_at),
            })
        })
        .collect();
    print(json, json!({"webhooks": list}), || {
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
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "at": timestamp(e.at),
                "method": e.method,
                "route": e.route,
                "resource_id": e.resource_id,
                "status": e.status,
                "scim_type": e.scim_type,
                "detail": e.detail,
                "latency_ms": e.latency_ms,
                "token_id": e.token_id,
                "user_agent": e.user_agent,
                "body": e.body,
            })
        })
        .collect();
    print(json, json!({"entries": list}), || {
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
    let list: Vec<Value> = attempts
        .iter()
        .map(|a| {
            json!({
                "webhook_id": a.webhook_id,
                "event_id": a.event_id,
                "event_cursor": a.event_cursor.to_string(),
                "attempt": a.attempt,
                "at": timestamp(a.at),
                "delivered": a.delivered,
                "status": a.status,
                "error": a.error,
                "duration_ms": a.duration_ms,
            })
        })
        .collect();
    print(json, json!({"deliveries": list}), || {
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

fn timestamp(at: DateTime<Utc>) -> String {
    rollcall_scim::render::timestamp(at)
}
