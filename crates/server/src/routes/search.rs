//! `POST /.search` (RFC 7644 §3.4.3), on `/Users` and at the root. The root searches every
//! resource type the workspace offers, which today is Users only.

use axum::extract::State;

use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;
use crate::response::{ScimBody, ScimJson};
use crate::service::users::Users;

/// `POST /Users/.search` and `POST /.search`: the query of a list request, sent in a
/// `SearchRequest` body so that filters with personal data stay out of URLs and logs.
pub async fn search(
    State(state): State<AppState>,
    ctx: ScimContext,
    ScimBody(body): ScimBody,
) -> Result<ScimJson, ApiError> {
    let request = rollcall_scim::list::SearchRequest::from_body(&body)?;
    let users = Users {
        state: &state,
        ctx: &ctx,
    };
    Ok(ScimJson::ok(users.search(&request).await?))
}
