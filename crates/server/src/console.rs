//! The admin console at `/console`: server-rendered pages for support staff, signed in with an
//! operator API key.
//!
//! - Signing in checks the key once and sets a session cookie: the key's id and an expiry,
//!   signed with the server key (HMAC-SHA256), `HttpOnly`, `SameSite=Strict`, and `Secure`
//!   when the public URL is https. The key itself is never stored in the cookie. Every page
//!   checks the signature, the expiry, and that the key is still valid, so revoking the key
//!   ends its sessions on every node.
//! - Every form that changes something carries a token derived from the session (HMAC of the
//!   session with the server key); a request without the right one, or whose `Origin` is not
//!   this server, is refused with 403. With `SameSite=Strict` that makes cross-site requests
//!   fail twice over.
//! - Pages are plain HTML with a little CSS and no JavaScript. Every value is HTML-escaped.
//!
//! Without a server key (PostgreSQL without `ROLLCALL_SECRET_KEY`) sessions cannot be signed,
//! and the console says so instead of signing anyone in.

use std::collections::HashMap;
use std::fmt::Write;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use hmac::{KeyInit, Mac};
use rollcall_scim::list::{Page, Paging};
use rollcall_store::{GroupQuery, TokenId, UserQuery, WorkspaceId};
use serde::Deserialize;
use sha2::Sha256;

use crate::app::AppState;
use crate::operator::{self, OperatorError};
use crate::secret::{parse_api_key, verify_secret};
use crate::views::timestamp;

/// How long a console session lasts.
pub const SESSION_HOURS: i64 = 8;

const COOKIE: &str = "rollcall_console";

type HmacSha256 = hmac::Hmac<Sha256>;

/// The console's routes, nested under `/console`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(workspaces))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/workspaces", post(create_workspace))
        .route("/workspaces/{workspace}", get(workspace_page))
        .route("/workspaces/{workspace}/settings", post(update_settings))
        .route("/workspaces/{workspace}/scim", post(set_scim))
        .route("/workspaces/{workspace}/tokens", post(issue_token))
        .route(
            "/workspaces/{workspace}/tokens/{token}/rotate",
            post(rotate_token),
        )
        .route(
            "/workspaces/{workspace}/tokens/{token}/revoke",
            post(revoke_token),
        )
        .route("/setup/{link}", get(setup_page).post(setup_token))
}

/// The setup guide of each IdP, as the docs have them: (key, name, guide).
const GUIDES: [(&str, &str, &str); 7] = [
    ("okta", "Okta", include_str!("../../../docs/idps/okta.md")),
    (
        "entra-id",
        "Microsoft Entra ID",
        include_str!("../../../docs/idps/entra-id.md"),
    ),
    (
        "onelogin",
        "OneLogin",
        include_str!("../../../docs/idps/onelogin.md"),
    ),
    (
        "jumpcloud",
        "JumpCloud",
        include_str!("../../../docs/idps/jumpcloud.md"),
    ),
    (
        "google-workspace",
        "Google Workspace",
        include_str!("../../../docs/idps/google-workspace.md"),
    ),
    (
        "ping",
        "Ping Identity",
        include_str!("../../../docs/idps/ping.md"),
    ),
    (
        "rippling",
        "Rippling",
        include_str!("../../../docs/idps/rippling.md"),
    ),
];

/// Every IdP's guide, each folded under its name.
fn guides() -> String {
    GUIDES
        .iter()
        .map(|(key, name, text)| {
            format!(
                "<details id=\"guide-{key}\"><summary>{name}</summary>\
                 <pre style=\"white-space:pre-wrap\">{}</pre></details>",
                escape(text)
            )
        })
        .collect()
}

/// The base URL an IdP is given for a workspace.
fn scim_base_url(state: &AppState, headers: &HeaderMap, workspace: &WorkspaceId) -> String {
    let origin = match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!(
            "http://{}",
            headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost")
        ),
    };
    format!("{origin}{}", operator::base_path(workspace))
}

fn setup_refused(err: OperatorError) -> Response {
    let (status, message) = match err {
        OperatorError::NotFound(message) => (StatusCode::NOT_FOUND, message),
        OperatorError::Refused(message) => (StatusCode::BAD_REQUEST, message),
        OperatorError::Store(err) => {
            tracing::warn!(error = %err, "setup link failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the directory could not be read or written; try again shortly".to_owned(),
            )
        }
    };
    let body = format!(
        "<main><h1>Connect your identity provider</h1><p class=\"box\">{}</p></main>",
        escape(&message)
    );
    (status, page_html("Setup", &body)).into_response()
}

/// `GET /console/setup/{link}`: what the customer's IT admin sees, with no sign-in.
async fn setup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(link): Path<String>,
) -> Response {
    let (_, workspace) =
        match operator::open_setup_link(state.store.as_ref(), &link, state.clock.now()).await {
            Ok(opened) => opened,
            Err(err) => return setup_refused(err),
        };
    let body = format!(
        "<main><h1>Connect your identity provider to {name}</h1>\
         <p>Your identity provider will create, update and deactivate the members of \
         <strong>{name}</strong> over SCIM 2.0. It needs two things: the base URL below, and a \
         token, which this page gives you once.</p>\
         <div class=\"box\">SCIM base URL: <code id=\"base-url\">{base}</code></div>\
         <form method=\"post\" action=\"/console/setup/{link}\">\
         <button>Generate my token</button></form>\
         <p>This link works once: generating the token uses it up.</p>\
         <h2>Setup guides</h2>{guides}</main>",
        name = escape(&workspace.name),
        base = escape(&scim_base_url(&state, &headers, &workspace.id)),
        link = escape(&link),
        guides = guides(),
    );
    page_html("Connect your identity provider", &body).into_response()
}

/// `POST /console/setup/{link}`: uses the link and shows the new token once.
async fn setup_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(link): Path<String>,
) -> Response {
    let (workspace, token) =
        match operator::redeem_setup_link(state.store.as_ref(), &link, state.clock.now()).await {
            Ok(issued) => issued,
            Err(err) => return setup_refused(err),
        };
    let body = format!(
        "<main><h1>Your SCIM connection to {name}</h1>\
         <div class=\"box\">SCIM base URL: <code id=\"base-url\">{base}</code></div>\
         <div class=\"secret\"><strong>Bearer token</strong> (shown once; paste it into your \
         identity provider now):<br><code id=\"new-token\">{token}</code></div>\
         <h2>Setup guides</h2>{guides}</main>",
        name = escape(&workspace.name),
        base = escape(&scim_base_url(&state, &headers, &workspace.id)),
        token = escape(token.token.expose()),
        guides = guides(),
    );
    page_html("Your SCIM connection", &body).into_response()
}

/// A signed-in console session.
struct Session {
    key_id: String,
    /// The form token of this session.
    csrf: String,
}

fn sign(state: &AppState, message: &str) -> Option<String> {
    let key = state.webhooks.key.as_ref()?;
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key.console_key().as_slice()).ok()?;
    mac.update(message.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()))
}

fn cookie_value(state: &AppState, key_id: &str, expires: DateTime<Utc>) -> Option<String> {
    let body = format!("{key_id}.{}", expires.timestamp());
    let signature = sign(state, &format!("session\0{body}"))?;
    Some(format!("{body}.{signature}"))
}

async fn session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let raw = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(&format!("{COOKIE}=")))?
        .to_owned();
    let (body, signature) = raw.rsplit_once('.')?;
    let expected = sign(state, &format!("session\0{body}"))?;
    let matches: bool =
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), signature.as_bytes()).into();
    if !matches {
        return None;
    }
    let (key_id, expires) = body.split_once('.')?;
    let expires = DateTime::from_timestamp(expires.parse().ok()?, 0)?;
    if expires <= state.clock.now() {
        return None;
    }
    let key = state.store.get_api_key(key_id).await.ok()??;
    if key.revoked_at.is_some() {
        return None;
    }
    let csrf = sign(state, &format!("csrf\0{raw}"))?;
    Some(Session {
        key_id: key.id,
        csrf,
    })
}

/// The answer to a form post that is not from this server's own pages.
fn refused() -> Response {
    (
        StatusCode::FORBIDDEN,
        page_html(
            "Refused",
            "<p>This form did not come from this console (or its page is too old). Go back, \
             reload the page, and try again.</p>",
        ),
    )
        .into_response()
}

/// Whether a form post comes from this server's own pages: it carries the session's form
/// token, and its `Origin`, when the browser sends one, is this server.
fn form_ok(session: &Session, headers: &HeaderMap, token: Option<&str>) -> bool {
    let token_ok = token.is_some_and(|token| {
        subtle::ConstantTimeEq::ct_eq(token.as_bytes(), session.csrf.as_bytes()).into()
    });
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            origin.split_once("://").map_or(origin, |(_, rest)| rest) == host
        }
    };
    token_ok && origin_ok
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330}\
header{background:#1d2330;color:#fff;padding:.7em 1.5em;display:flex;gap:1.5em;align-items:center}\
header a{color:#fff}main{padding:1em 1.5em;max-width:1100px}\
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}\
td,th{border-bottom:1px solid #dde;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f4f5f8}tr.failed td{background:#fdecec}\
code,.mono{font-family:ui-monospace,monospace;font-size:13px}\
.box{background:#f4f5f8;border:1px solid #dde;padding:.8em 1em;margin:.5em 0 1em}\
.secret{background:#fff6d6;border:1px solid #e8c547;padding:.8em 1em;word-break:break-all}\
form.inline{display:inline}button{cursor:pointer}h2{margin-top:1.6em}";

fn page_html(title: &str, body: &str) -> axum::response::Html<String> {
    axum::response::Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">\
         <title>{} · rollcall</title><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    ))
}

fn signed_in_page(session: &Session, title: &str, body: &str) -> Response {
    let header = format!(
        "<header><strong>rollcall</strong><a href=\"/console\">Workspaces</a>\
         <span style=\"flex:1\"></span><span class=\"mono\">{}</span>\
         <form class=\"inline\" method=\"post\" action=\"/console/logout\">{}\
         <button>Sign out</button></form></header>",
        escape(&session.key_id),
        csrf_field(session)
    );
    page_html(title, &format!("{header}<main>{body}</main>")).into_response()
}

fn csrf_field(session: &Session) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(&session.csrf)
    )
}

fn to_login() -> Response {
    Redirect::to("/console/login").into_response()
}

fn error_page(session: &Session, err: OperatorError) -> Response {
    let (status, message) = match &err {
        OperatorError::Refused(message) => (StatusCode::BAD_REQUEST, message.clone()),
        OperatorError::NotFound(message) => (StatusCode::NOT_FOUND, message.clone()),
        OperatorError::Store(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the directory could not be read or written; try again shortly".to_owned(),
        ),
    };
    if let OperatorError::Store(err) = &err {
        tracing::warn!(error = %err, "console action failed");
    }
    let body = format!(
        "<h1>Not done</h1><p>{}</p><p><a href=\"javascript:history.back()\">Back</a></p>",
        escape(&message)
    );
    (status, signed_in_page(session, "Not done", &body)).into_response()
}

#[derive(Deserialize)]
struct LoginQuery {
    failed: Option<String>,
}

async fn login_form(State(state): State<AppState>, Query(query): Query<LoginQuery>) -> Response {
    let notice = if state.webhooks.key.is_none() {
        "<p class=\"box\">The console is off on this server: it has no key to sign sessions with. \
         Set ROLLCALL_SECRET_KEY (64 hex digits, the same on every node) and restart.</p>"
    } else if query.failed.is_some() {
        "<p class=\"box\">That is not a valid operator API key.</p>"
    } else {
        ""
    };
    let body = format!(
        "<main><h1>rollcall console</h1>{notice}\
         <form method=\"post\" action=\"/console/login\">\
         <p><label>Operator API key<br><input name=\"key\" type=\"password\" size=\"60\" \
         autocomplete=\"off\" autofocus></label></p><p><button>Sign in</button></p></form>\
         <p>An operator creates keys with <code>rollcall apikey create</code>.</p></main>"
    );
    page_html("Sign in", &body).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    key: String,
}

async fn login(State(state): State<AppState>, Form(form): Form<LoginForm>) -> Response {
    let failed = || Redirect::to("/console/login?failed=1").into_response();
    let Some((id, secret)) = parse_api_key(form.key.trim()) else {
        return failed();
    };
    let Ok(Some(key)) = state.store.get_api_key(&id).await else {
        return failed();
    };
    if key.revoked_at.is_some() || !verify_secret(secret, &key.secret_hash) {
        return failed();
    }
    let expires = state.clock.now() + Duration::hours(SESSION_HOURS);
    let Some(value) = cookie_value(&state, &key.id, expires) else {
        return failed();
    };
    let secure = state
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    let cookie = format!(
        "{COOKIE}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{}",
        SESSION_HOURS * 3600,
        if secure { "; Secure" } else { "" }
    );
    tracing::info!(key = %key.id, "console sign-in");
    let mut response = Redirect::to("/console").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Some(session) = session(&state, &headers).await
        && !form_ok(&session, &headers, form.csrf.as_deref())
    {
        return refused();
    }
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "rollcall_console=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

async fn workspaces(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    let workspaces = match state.store.list_workspaces().await {
        Ok(list) => list,
        Err(err) => return error_page(&session, OperatorError::Store(err)),
    };
    let mut rows = String::new();
    for w in &workspaces {
        let _ = write!(
            rows,
            "<tr><td><a href=\"/console/workspaces/{id}\">{name}</a></td><td class=\"mono\">{id}</td>\
             <td>{plan}</td><td>{scim}</td><td>{created}</td></tr>",
            id = escape(w.id.as_str()),
            name = escape(&w.name),
            plan = w.plan.as_str(),
            scim = if w.scim_enabled { "enabled" } else { "off" },
            created = timestamp(w.created_at),
        );
    }
    let body = format!(
        "<h1>Workspaces</h1><table><tr><th>Name</th><th>Id</th><th>Plan</th><th>SCIM</th>\
         <th>Created</th></tr>{rows}</table>\
         <h2>New workspace</h2><form method=\"post\" action=\"/console/workspaces\">{csrf}\
         <label>Name <input name=\"name\" required></label> \
         <label>Plan <select name=\"plan\"><option>free</option><option>business</option>\
         <option selected>enterprise</option></select></label> \
         <label><input type=\"checkbox\" name=\"invitation_only\" value=\"true\" checked> \
         invitation-only</label> <button>Create</button></form>",
        csrf = csrf_field(&session)
    );
    signed_in_page(&session, "Workspaces", &body)
}

#[derive(Deserialize)]
struct NewWorkspaceForm {
    csrf: Option<String>,
    name: String,
    plan: String,
    invitation_only: Option<String>,
}

async fn create_workspace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<NewWorkspaceForm>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    if !form_ok(&session, &headers, form.csrf.as_deref()) {
        return refused();
    }
    let Ok(plan) = form.plan.parse() else {
        return error_page(
            &session,
            OperatorError::Refused(format!("{:?} is not a plan", form.plan)),
        );
    };
    let new = operator::NewWorkspace {
        name: form.name,
        plan,
        invitation_only: form.invitation_only.is_some(),
        username_format: rollcall_scim::user::UsernameFormat::Email,
        default_role: rollcall_scim::user::Role::Member,
        role_discovery: false,
    };
    match operator::create_workspace(state.store.as_ref(), new, state.clock.now()).await {
        Ok(workspace) => {
            Redirect::to(&format!("/console/workspaces/{}", workspace.id)).into_response()
        }
        Err(err) => error_page(&session, err),
    }
}

/// What a workspace page shows once, right after an action (a new token).
#[derive(Deserialize, Default)]
struct WorkspaceQuery {
    failed: Option<String>,
}

async fn workspace_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<WorkspaceQuery>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    render_workspace(
        &state,
        &session,
        &WorkspaceId::new(id),
        None,
        query.failed.is_some(),
    )
    .await
}

/// The workspace page; `shown_once` is a secret to show at the top (a token just issued).
async fn render_workspace(
    state: &AppState,
    session: &Session,
    id: &WorkspaceId,
    shown_once: Option<(&str, &str)>,
    failed_only: bool,
) -> Response {
    let store = state.store.as_ref();
    let workspace = match store.get_workspace(id).await {
        Ok(Some(workspace)) => workspace,
        Ok(None) => {
            return error_page(
                session,
                OperatorError::NotFound(format!("there is no workspace {id}")),
            );
        }
        Err(err) => return error_page(session, OperatorError::Store(err)),
    };
    let loaded = async {
        let tokens = store.list_tokens(id).await?;
        let users = store
            .list_users(id, &UserQuery::page(None, Page::new(None, Some(100))))
            .await?;
        let groups = store
            .list_groups(
                id,
                &GroupQuery {
                    filter: None,
                    sort: None,
                    paging: Paging::Index(Page::new(None, Some(100))),
                    with_members: false,
                },
            )
            .await?;
        let log = store.list_request_log(id, 50, failed_only).await?;
        let webhooks = store.list_webhooks(id).await?;
        let deliveries = store.list_deliveries(id, 20).await?;
        let events = store.list_events(id, 0, 1000).await?;
        Ok::<_, rollcall_store::StoreError>((
            tokens, users, groups, log, webhooks, deliveries, events,
        ))
    };
    let (tokens, users, groups, log, webhooks, deliveries, events) = match loaded.await {
        Ok(all) => all,
        Err(err) => return error_page(session, OperatorError::Store(err)),
    };
    let origin = state
        .public_url
        .as_deref()
        .unwrap_or("http://HOST")
        .trim_end_matches('/');
    let base_url = format!("{origin}{}", operator::base_path(id));
    let csrf = csrf_field(session);
    let wid = escape(id.as_str());
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1><p class=\"mono\">{wid}</p>",
        escape(&workspace.name)
    );
    if let Some((label, secret)) = shown_once {
        let _ = write!(
            body,
            "<div class=\"secret\"><strong>{}</strong> (shown once; copy it now):<br>\
             <code id=\"new-token\">{}</code></div>",
            escape(label),
            escape(secret)
        );
    }
    let _ = write!(
        body,
        "<h2>SCIM</h2><div class=\"box\">SCIM is <strong id=\"scim-status\">{status}</strong>.<br>\
         Base URL for the identity provider: <code id=\"base-url\">{base}</code></div>\
         <form method=\"post\" action=\"/console/workspaces/{wid}/scim\">{csrf}\
         <input type=\"hidden\" name=\"enabled\" value=\"{toggle}\"><button>{action}</button></form>",
        status = if workspace.scim_enabled {
            "enabled"
        } else {
            "off"
        },
        base = escape(&base_url),
        toggle = !workspace.scim_enabled,
        action = if workspace.scim_enabled {
            "Disable SCIM"
        } else {
            "Enable SCIM and issue a token"
        },
    );
    let _ = write!(
        body,
        "<h2>Settings</h2><form method=\"post\" action=\"/console/workspaces/{wid}/settings\">{csrf}\
         <label>Plan <select name=\"plan\">{plans}</select></label> \
         <label><input type=\"checkbox\" name=\"invitation_only\" value=\"true\"{invitation}> \
         invitation-only</label> <label>Default role <select name=\"default_role\">{roles}</select>\
         </label> <button>Save</button></form>",
        plans = options(&["free", "business", "enterprise"], workspace.plan.as_str()),
        invitation = if workspace.invitation_only {
            " checked"
        } else {
            ""
        },
        roles = options(
            &["Admin", "Member", "Observer"],
            workspace.default_role.as_str()
        ),
    );

    let mut rows = String::new();
    for t in &tokens {
        let tid = escape(t.id.as_str());
        let actions = if t.revoked_at.is_some() {
            "revoked".to_owned()
        } else {
            format!(
                "<form class=\"inline\" method=\"post\" action=\"/console/workspaces/{wid}/tokens/{tid}/rotate\">\
                 {csrf}<button>Rotate (24 h overlap)</button></form> \
                 <form class=\"inline\" method=\"post\" action=\"/console/workspaces/{wid}/tokens/{tid}/revoke\">\
                 {csrf}<button>Revoke</button></form>"
            )
        };
        let _ = write!(
            rows,
            "<tr><td class=\"mono\">{tid}</td><td>{label}</td><td>{created}</td><td>{used}</td>\
             <td>{expires}</td><td>{actions}</td></tr>",
            label = escape(t.label.as_deref().unwrap_or("")),
            created = timestamp(t.created_at),
            used = t.last_used_at.map_or("never".to_owned(), timestamp),
            expires = t.expires_at.map_or("never".to_owned(), timestamp),
        );
    }
    let _ = write!(
        body,
        "<h2>Tokens</h2><table><tr><th>Id</th><th>Label</th><th>Created</th><th>Last used</th>\
         <th>Expires</th><th></th></tr>{rows}</table>\
         <form method=\"post\" action=\"/console/workspaces/{wid}/tokens\">{csrf}\
         <label>Label <input name=\"label\"></label> <button>Issue a token</button></form>"
    );

    let mut rows = String::new();
    for u in &users.items {
        let _ = write!(
            rows,
            "<tr><td>{name}</td><td>{role}</td><td>{active}</td><td class=\"mono\">{id}</td></tr>",
            name = escape(u.body["userName"].as_str().unwrap_or("")),
            role = u.role.as_str(),
            active = if u.active { "active" } else { "inactive" },
            id = escape(u.id.as_str()),
        );
    }
    let _ = write!(
        body,
        "<h2>Members ({total})</h2><table id=\"members\"><tr><th>userName</th><th>Role</th>\
         <th>State</th><th>Id</th></tr>{rows}</table>",
        total = users.total
    );
    let mut rows = String::new();
    for g in &groups.items {
        let _ = write!(
            rows,
            "<tr><td>{name}</td><td class=\"mono\">{id}</td></tr>",
            name = escape(g.body["displayName"].as_str().unwrap_or("")),
            id = escape(g.id.as_str()),
        );
    }
    let _ = write!(
        body,
        "<h2>Groups ({total})</h2><table><tr><th>displayName</th><th>Id</th></tr>{rows}</table>",
        total = groups.total
    );

    let mut rows = String::new();
    for e in &log {
        let _ = write!(
            rows,
            "<tr class=\"{class}\"><td>{at}</td><td>{method} {route}</td><td>{status}</td>\
             <td>{detail}</td><td class=\"mono\">{body}</td></tr>",
            class = if e.status >= 400 { "failed" } else { "ok" },
            at = timestamp(e.at),
            method = escape(&e.method),
            route = escape(&e.route),
            status = e.status,
            detail = escape(&format!(
                "{} {}",
                e.scim_type.as_deref().unwrap_or(""),
                e.detail.as_deref().unwrap_or("")
            )),
            body = escape(e.body.as_deref().unwrap_or("")),
        );
    }
    let _ = write!(
        body,
        "<h2>Request log</h2><p>{filter}</p><table id=\"request-log\"><tr><th>At</th>\
         <th>Request</th><th>Status</th><th>Why</th><th>Body (secrets redacted)</th></tr>{rows}</table>",
        filter = if failed_only {
            format!(
                "Showing failed requests only. <a href=\"/console/workspaces/{wid}\">Show all</a>"
            )
        } else {
            format!("<a href=\"/console/workspaces/{wid}?failed=1\">Show failed requests only</a>")
        }
    );

    let mut rows = String::new();
    for w in &webhooks {
        let _ = write!(
            rows,
            "<tr><td class=\"mono\">{id}</td><td>{url}</td><td>{through}</td><td>{failures}</td></tr>",
            id = escape(&w.id),
            url = escape(&w.url),
            through = w.delivered_through,
            failures = w.failures,
        );
    }
    let mut attempts = String::new();
    for a in &deliveries {
        let _ = write!(
            attempts,
            "<tr class=\"{class}\"><td>{at}</td><td class=\"mono\">{event}</td><td>{attempt}</td>\
             <td>{outcome}</td></tr>",
            class = if a.delivered { "ok" } else { "failed" },
            at = timestamp(a.at),
            event = escape(&a.event_id),
            attempt = a.attempt,
            outcome = escape(
                &a.error
                    .clone()
                    .unwrap_or_else(|| format!("delivered ({})", a.status.unwrap_or(0)))
            ),
        );
    }
    let _ = write!(
        body,
        "<h2>Webhooks</h2><table><tr><th>Id</th><th>URL</th><th>Delivered through</th>\
         <th>Failures</th></tr>{rows}</table><h3>Latest deliveries</h3><table><tr><th>At</th>\
         <th>Event</th><th>Attempt</th><th>Outcome</th></tr>{attempts}</table>"
    );

    let mut rows = String::new();
    for e in events.iter().rev().take(50) {
        let _ = write!(
            rows,
            "<tr><td>{at}</td><td>{kind}</td><td class=\"mono\">{resource}</td><td>{cursor}</td></tr>",
            at = timestamp(e.occurred_at),
            kind = escape(&e.kind),
            resource = escape(&e.resource_id),
            cursor = e.cursor,
        );
    }
    let _ = write!(
        body,
        "<h2>Events (latest first)</h2><table id=\"events\"><tr><th>At</th><th>Type</th>\
         <th>Resource</th><th>Cursor</th></tr>{rows}</table>"
    );
    signed_in_page(session, &workspace.name, &body)
}

fn options(choices: &[&str], selected: &str) -> String {
    choices
        .iter()
        .map(|choice| {
            format!(
                "<option{}>{choice}</option>",
                if *choice == selected { " selected" } else { "" }
            )
        })
        .collect()
}

async fn update_settings(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    if !form_ok(&session, &headers, form.get("csrf").map(String::as_str)) {
        return refused();
    }
    let id = WorkspaceId::new(id);
    let update = operator::WorkspaceUpdate {
        plan: form.get("plan").and_then(|p| p.parse().ok()),
        invitation_only: Some(form.contains_key("invitation_only")),
        username_format: None,
        default_role: form.get("default_role").and_then(|r| r.parse().ok()),
        role_discovery: None,
    };
    match operator::update_workspace(state.store.as_ref(), &id, update, state.clock.now()).await {
        Ok(_) => Redirect::to(&format!("/console/workspaces/{id}")).into_response(),
        Err(err) => error_page(&session, err),
    }
}

async fn set_scim(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    if !form_ok(&session, &headers, form.get("csrf").map(String::as_str)) {
        return refused();
    }
    let id = WorkspaceId::new(id);
    let now = state.clock.now();
    if form.get("enabled").map(String::as_str) == Some("true") {
        match operator::enable_scim(state.store.as_ref(), &id, now).await {
            Ok((_, token)) => {
                let label = format!("SCIM enabled. New token {}", token.id);
                render_workspace(
                    &state,
                    &session,
                    &id,
                    Some((&label, token.token.expose())),
                    false,
                )
                .await
            }
            Err(err) => error_page(&session, err),
        }
    } else {
        match operator::disable_scim(state.store.as_ref(), &id, now).await {
            Ok(_) => Redirect::to(&format!("/console/workspaces/{id}")).into_response(),
            Err(err) => error_page(&session, err),
        }
    }
}

async fn issue_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    if !form_ok(&session, &headers, form.get("csrf").map(String::as_str)) {
        return refused();
    }
    let id = WorkspaceId::new(id);
    let label = form
        .get("label")
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty());
    match operator::create_token(state.store.as_ref(), &id, label, None, state.clock.now()).await {
        Ok(token) => {
            let label = format!("New token {}", token.id);
            render_workspace(
                &state,
                &session,
                &id,
                Some((&label, token.token.expose())),
                false,
            )
            .await
        }
        Err(err) => error_page(&session, err),
    }
}

/// The token of the path, if it belongs to the workspace of the path.
async fn own_token(
    state: &AppState,
    workspace: &WorkspaceId,
    token: &TokenId,
) -> Result<(), OperatorError> {
    let record = state
        .store
        .get_token(token)
        .await
        .map_err(OperatorError::Store)?;
    match record {
        Some(record) if record.workspace_id == *workspace => Ok(()),
        _ => Err(OperatorError::NotFound(format!(
            "workspace {workspace} has no token {token}"
        ))),
    }
}

async fn rotate_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, token)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    if !form_ok(&session, &headers, form.get("csrf").map(String::as_str)) {
        return refused();
    }
    let (id, token) = (WorkspaceId::new(id), TokenId::new(token));
    if let Err(err) = own_token(&state, &id, &token).await {
        return error_page(&session, err);
    }
    match operator::rotate_token(
        state.store.as_ref(),
        &token,
        Duration::hours(24),
        state.clock.now(),
    )
    .await
    {
        Ok(rotated) => {
            let label = format!(
                "New token {} in place of {token}, which works until {}",
                rotated.issued.id,
                timestamp(rotated.old_expires_at)
            );
            render_workspace(
                &state,
                &session,
                &id,
                Some((&label, rotated.issued.token.expose())),
                false,
            )
            .await
        }
        Err(err) => error_page(&session, err),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, token)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some(session) = session(&state, &headers).await else {
        return to_login();
    };
    if !form_ok(&session, &headers, form.get("csrf").map(String::as_str)) {
        return refused();
    }
    let (id, token) = (WorkspaceId::new(id), TokenId::new(token));
    if let Err(err) = own_token(&state, &id, &token).await {
        return error_page(&session, err);
    }
    match operator::revoke_token(state.store.as_ref(), &token, state.clock.now()).await {
        Ok(()) => Redirect::to(&format!("/console/workspaces/{id}")).into_response(),
        Err(err) => error_page(&session, err),
    }
}
