//! The router: SCIM routes under `/integrations/scim/{workspace_id}`, health checks, fallbacks
//! that answer in SCIM's error format, the body limit, and one log line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rollcall_store::Store;
use tower::ServiceExt;
use tower::util::MapRequest;
use tracing::Instrument;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::routes::{bulk, discovery, groups, health, roles, search, users};

/// The largest request body accepted unless the server is told otherwise, in bytes (see
/// `guard::ServerLimits`; advertised in `/ServiceProviderConfig`).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Per-workspace request rates, checked after authentication.
    pub rate: Arc<crate::rate::RateLimiter>,
    /// The public origin (`https://rollcall.example.com`) used in `meta.location`; when unset,
    /// the request's `Host` header is used with `http`.
    pub public_url: Option<Arc<str>>,
    /// Where authenticated SCIM requests are logged for their workspace; `None` logs nothing.
    pub request_log: Option<crate::request_log::RequestLog>,
    /// How the operator API adds webhooks.
    pub webhooks: crate::webhooks::WebhookSettings,
    /// The in-flight cap and deadlines of this node.
    pub guard: crate::guard::Guard,
    /// Failed authentication by client address.
    pub throttle: crate::throttle::AuthThrottle,
}

/// The whole HTTP service: the router behind path normalization.
pub type App = MapRequest<Router, fn(Request) -> Request>;

/// Builds the whole HTTP service.
pub fn app(state: AppState) -> App {
    let normalize: fn(Request) -> Request = normalize_path;
    router(state).map_request(normalize)
}

/// IdP admins paste base URLs with a trailing slash, so requests arrive as `.../WS//Users` or
/// `.../Users/`. Empty path segments are dropped before routing, so both reach `/Users`.
fn normalize_path(mut request: Request) -> Request {
    let path = request.uri().path();
    if !path.contains("//") && (path.len() <= 1 || !path.ends_with('/')) {
        return request;
    }
    let mut normalized: String = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .flat_map(|segment| ["/", segment])
        .collect();
    if normalized.is_empty() {
        normalized.push('/');
    }
    if let Some(query) = request.uri().query() {
        normalized = format!("{normalized}?{query}");
    }
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = normalized.parse() {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// The routes, fallbacks and middleware.
fn router(state: AppState) -> Router {
    let scim = Router::new()
        .route("/Users", get(users::list_users).post(users::create_user))
        .route("/Users/.search", post(search::search_users))
        .route(
            "/Users/{id}",
            get(users::get_user)
                .put(users::replace_user)
                .patch(users::patch_user)
                .delete(users::delete_user),
        )
        .route(
            "/Groups",
            get(groups::list_groups).post(groups::create_group),
        )
        .route("/Groups/.search", post(search::search_groups))
        .route(
            "/Groups/{id}",
            get(groups::get_group)
                .put(groups::replace_group)
                .patch(groups::patch_group)
                .delete(groups::delete_group),
        )
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/Roles", get(roles::list_roles))
        .route("/Roles/{id}", get(roles::get_role))
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/Bulk", post(bulk::bulk))
        .route("/.search", post(search::search_all))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::request_log::audit,
        ))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::throttle::throttle,
        ));

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::metrics))
        .nest("/console", crate::console::routes())
        .nest("/integrations/scim/{workspace}", scim)
        .nest(
            "/api/v1",
            crate::api::routes().route_layer(middleware::from_fn_with_state(
                state.clone(),
                crate::throttle::throttle,
            )),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.guard.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::guard::guard,
        ))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn unknown_route() -> ApiError {
    ApiError::NotFound("no such endpoint".to_owned())
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} is not allowed on this endpoint",
        request.method()
    ))
}

/// One span per request, with the matched route rather than the raw URI (its query string can
/// hold email addresses), and one line when the request finishes.
async fn log_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %uuid::Uuid::new_v4(),
        method = %method,
        route = %route,
        workspace = tracing::field::Empty,
        operator = tracing::field::Empty,
    );
    let started = Instant::now();
    async move {
        let response = next.run(request).await;
        let status = response.status().as_u16();
        crate::metrics::record_request(&route, &method, status, started.elapsed());
        match status {
            401 => crate::metrics::count_auth_failure(),
            429 => crate::metrics::count_rate_limited(),
            _ => {}
        }
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(status, latency_ms, "request finished");
        response.into_response()
    }
    .instrument(span)
    .await
}
