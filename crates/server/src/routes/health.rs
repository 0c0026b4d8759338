//! `/healthz` (the process answers) and `/readyz` (the database answers too).

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;

use crate::app::AppState;
use crate::response::ScimJson;

pub async fn healthz() -> ScimJson {
    ScimJson::ok(json!({"status": "ok"}))
}

pub async fn readyz(State(state): State<AppState>) -> ScimJson {
    match state.store.check().await {
        Ok(()) => ScimJson::ok(json!({"status": "ready"})),
        Err(err) => {
            tracing::warn!(error = %err, "not ready");
            ScimJson {
                status: StatusCode::SERVICE_UNAVAILABLE,
                ..ScimJson::ok(json!({"status": "unavailable"}))
            }
        }
    }
}
