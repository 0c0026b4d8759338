//! The JSON shapes of the operator's objects, one function per shape, shared by the CLI's
//! `--json` output and the operator API so that the two never differ.

use chrono::{DateTime, Utc};
use rollcall_store::{
    ApiKeyRecord, DeliveryAttempt, Event, RequestLogEntry, TokenRecord, WebhookRecord, Workspace,
    WorkspaceId,
};
use serde_json::{Value, json};

use crate::operator::{IssuedToken, base_path};

/// RFC 3339 with milliseconds, as everywhere in rollcall.
pub fn timestamp(at: DateTime<Utc>) -> String {
    rollcall_scim::render::timestamp(at)
}

pub fn workspace(workspace: &Workspace) -> Value {
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

pub fn workspaces(workspaces: &[Workspace]) -> Value {
    json!({"workspaces": workspaces.iter().map(workspace).collect::<Vec<_>>()})
}

/// SCIM just enabled, with the first token (shown once).
pub fn scim_enabled(workspace: &Workspace, token: &IssuedToken) -> Value {
    json!({
        "workspace_id": workspace.id.as_str(),
        "base_path": base_path(&workspace.id),
        "token_id": token.id.as_str(),
        "token": token.token.expose(),
    })
}

/// A token just issued (shown once).
pub fn token_issued(workspace: &WorkspaceId, token: &IssuedToken) -> Value {
    json!({
        "id": token.id.as_str(),
        "workspace_id": workspace.as_str(),
        "token": token.token.expose(),
    })
}

/// A token just rotated: the new one (shown once) and the old one's end.
pub fn token_rotated(rotated: &crate::operator::RotatedToken, old: &str) -> Value {
    json!({
        "id": rotated.issued.id.as_str(),
        "workspace_id": rotated.workspace.as_str(),
        "token": rotated.issued.token.expose(),
        "replaces": old,
        "replaced_expires_at": timestamp(rotated.old_expires_at),
    })
}

pub fn tokens(tokens: &[TokenRecord]) -> Value {
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
    json!({"tokens": list})
}

/// A page of the feed; `next_cursor` is where the next read starts (the last event's cursor,
/// or the cursor read from when nothing new happened).
pub fn events(events: &[Event], after: Option<&str>) -> Value {
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
    json!({"events": list, "next_cursor": next})
}

pub fn webhooks(webhooks: &[WebhookRecord]) -> Value {
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
    json!({"webhooks": list})
}

pub fn deliveries(attempts: &[DeliveryAttempt]) -> Value {
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
    json!({"deliveries": list})
}

/// A page of users as support reads them: who, in which state, with which role.
pub fn users(users: &[rollcall_store::UserRecord], total: usize, start_index: usize) -> Value {
    let list: Vec<Value> = users
        .iter()
        .map(|u| {
            json!({
                "id": u.id.as_str(),
                "userName": u.body["userName"],
                "displayName": u.body["displayName"],
                "externalId": u.body.get("externalId").cloned().unwrap_or(Value::Null),
                "active": u.active,
                "role": u.role.as_str(),
                "created_at": timestamp(u.created_at),
                "updated_at": timestamp(u.updated_at),
            })
        })
        .collect();
    json!({"users": list, "total": total, "start_index": start_index})
}

/// A page of groups with their member counts.
pub fn groups(groups: &[rollcall_store::GroupRecord], total: usize, start_index: usize) -> Value {
    let list: Vec<Value> = groups
        .iter()
        .map(|g| {
            json!({
                "id": g.id.as_str(),
                "displayName": g.body["displayName"],
                "externalId": g.body.get("externalId").cloned().unwrap_or(Value::Null),
                "members": g.members.as_ref().map_or(0, Vec::len),
                "created_at": timestamp(g.created_at),
                "updated_at": timestamp(g.updated_at),
            })
        })
        .collect();
    json!({"groups": list, "total": total, "start_index": start_index})
}

/// The group-to-role map.
pub fn role_map(mappings: &[rollcall_store::RoleMapping]) -> Value {
    let list: Vec<Value> = mappings
        .iter()
        .map(|m| json!({"group": m.group, "role": m.role.as_str()}))
        .collect();
    json!({"mappings": list})
}

/// An operator API key just issued (shown once).
pub fn api_key_issued(key: &ApiKeyRecord, secret: &crate::secret::Secret) -> Value {
    json!({"id": key.id, "label": key.label, "key": secret.expose()})
}

pub fn api_keys(keys: &[ApiKeyRecord]) -> Value {
    let list: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "label": k.label,
                "created_at": timestamp(k.created_at),
                "last_used_at": k.last_used_at.map(timestamp),
                "revoked": k.revoked_at.is_some(),
            })
        })
        .collect();
    json!({"api_keys": list})
}

pub fn request_log(entries: &[RequestLogEntry]) -> Value {
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
    json!({"entries": list})
}
