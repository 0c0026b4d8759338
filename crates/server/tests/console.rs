//! The admin console over HTTP, page by page: sign-in with an operator key only, a session
//! cookie that holds no key, forms that refuse cross-site posts, escaped values, and the path
//! of a support engineer from a new workspace to a provisioned user in the request log.

#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{TestApp, start_time};
use http_body_util::BodyExt;
use rollcall_server::operator;
use serde_json::json;
use tower::ServiceExt;

struct Page {
    status: StatusCode,
    location: Option<String>,
    cookie: Option<String>,
    html: String,
}

/// A browser's request: the session cookie if any, a form body if any, and the headers given.
async fn browse(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
    extra: &[(&str, &str)],
) -> Page {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "scim.example.com");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let body = match form {
        Some(fields) => {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            fields
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        }
        None => String::new(),
    };
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let header_of = |name| {
        response
            .headers()
            .get(name)
            .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let (status, location, cookie) = (
        response.status(),
        header_of(header::LOCATION),
        header_of(header::SET_COOKIE),
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        location,
        cookie,
        html: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// The text of the element with the given id.
fn by_id(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..start + html[start..].find('<').unwrap()].to_owned()
}

async fn sign_in(app: &TestApp) -> (String, String) {
    let key = operator::create_api_key(app.store.as_ref(), None, start_time())
        .await
        .unwrap();
    let page = browse(
        app,
        Method::POST,
        "/console/login",
        None,
        Some(&[("key", key.key.expose())]),
        &[],
    )
    .await;
    assert_eq!(page.location.as_deref(), Some("/console"));
    let set = page.cookie.unwrap();
    (set.split(';').next().unwrap().to_owned(), key.record.id)
}

#[tokio::test]
async fn only_an_operator_key_signs_in_and_the_cookie_holds_no_key() {
    let app = TestApp::new().await;
    let tenant = app.tenant("acme").await;

    let page = browse(&app, Method::GET, "/console", None, None, &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), Some("/console/login"));
    let form = browse(&app, Method::GET, "/console/login", None, None, &[]).await;
    assert!(form.html.contains("<input name=\"key\" type=\"password\""));

    // A SCIM token is no operator key.
    let refused = browse(
        &app,
        Method::POST,
        "/console/login",
        None,
        Some(&[("key", &tenant.token)]),
        &[],
    )
    .await;
    assert_eq!(refused.location.as_deref(), Some("/console/login?failed=1"));
    assert_eq!(refused.cookie, None);

    let key = operator::create_api_key(app.store.as_ref(), None, start_time())
        .await
        .unwrap();
    let page = browse(
        &app,
        Method::POST,
        "/console/login",
        None,
        Some(&[("key", key.key.expose())]),
        &[],
    )
    .await;
    let cookie = page.cookie.unwrap();
    // The public URL is https, so the cookie is Secure too.
    assert!(
        cookie.ends_with("; Path=/console; HttpOnly; SameSite=Strict; Max-Age=28800; Secure"),
        "{cookie}"
    );
    let secret = key.key.expose().rsplit('_').next().unwrap();
    assert!(!cookie.contains(secret));
    let session = cookie.split(';').next().unwrap();

    let list = browse(&app, Method::GET, "/console", Some(session), None, &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains(">acme</a>"), "{}", list.html);

    // A tampered cookie, or one of a revoked key, is no session.
    let tampered = session.replacen(".", ".9", 1);
    let page = browse(&app, Method::GET, "/console", Some(&tampered), None, &[]).await;
    assert_eq!(page.location.as_deref(), Some("/console/login"));
    operator::revoke_api_key(app.store.as_ref(), &key.record.id, start_time())
        .await
        .unwrap();
    let page = browse(&app, Method::GET, "/console", Some(session), None, &[]).await;
    assert_eq!(page.location.as_deref(), Some("/console/login"));

    // The console's session is no operator key on the API either.
    let api = browse(
        &app,
        Method::GET,
        "/api/v1/workspaces",
        Some(session),
        None,
        &[],
    )
    .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_support_engineer_sets_up_a_workspace_and_sees_its_first_user_arrive() {
    let app = TestApp::new().await;
    let (session, _) = sign_in(&app).await;
    let home = browse(&app, Method::GET, "/console", Some(&session), None, &[]).await;

    // A form without its token, or from another site, changes nothing.
    let forged = browse(
        &app,
        Method::POST,
        "/console/workspaces",
        Some(&session),
        Some(&[("name", "Evil"), ("plan", "enterprise")]),
        &[],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let token = csrf(&home.html);
    let cross_site = browse(
        &app,
        Method::POST,
        "/console/workspaces",
        Some(&session),
        Some(&[("csrf", &token), ("name", "Evil"), ("plan", "enterprise")]),
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert!(
        app.store.list_workspaces().await.unwrap().is_empty(),
        "a refused form wrote something"
    );

    let created = browse(
        &app,
        Method::POST,
        "/console/workspaces",
        Some(&session),
        Some(&[
            ("csrf", &token),
            ("name", "Initech <script>alert(1)</script>"),
            ("plan", "enterprise"),
            ("invitation_only", "true"),
        ]),
        &[("origin", "https://scim.example.com")],
    )
    .await;
    let path = created.location.unwrap();
    let workspace = path.rsplit('/').next().unwrap().to_owned();
    let page = browse(&app, Method::GET, &path, Some(&session), None, &[]).await;
    // Every value is escaped.
    assert!(
        page.html
            .contains("<h1>Initech &lt;script&gt;alert(1)&lt;/script&gt;</h1>")
    );
    assert!(!page.html.contains("<script>"));
    assert_eq!(by_id(&page.html, "scim-status"), "off");

    // Enable SCIM: the token is shown once, beside the base URL to paste into the IdP.
    let enabled = browse(
        &app,
        Method::POST,
        &format!("{path}/scim"),
        Some(&session),
        Some(&[("csrf", &csrf(&page.html)), ("enabled", "true")]),
        &[],
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK);
    let scim_token = by_id(&enabled.html, "new-token");
    let base_url = by_id(&enabled.html, "base-url");
    assert_eq!(
        base_url,
        format!("https://scim.example.com/integrations/scim/{workspace}")
    );
    assert_eq!(by_id(&enabled.html, "scim-status"), "enabled");

    // The IdP provisions a user with that token; the console shows it, and the request.
    let scim_path = base_url.trim_start_matches("https://scim.example.com");
    let user = app
        .send(
            Method::POST,
            &format!("{scim_path}/Users"),
            Some(&scim_token),
            Some(json!({"userName": "peter@initech.com", "password": "TPS-report-1"})),
            &[],
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED);
    let refused = app
        .send(
            Method::POST,
            &format!("{scim_path}/Users"),
            Some(&scim_token),
            Some(json!({"userName": "not-an-email"})),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    app.request_log.flush().await;
    let page = browse(&app, Method::GET, &path, Some(&session), None, &[]).await;
    assert!(
        page.html
            .contains("<td>peter@initech.com</td><td>Member</td><td>active</td>")
    );
    assert!(page.html.contains("<tr class=\"ok\"><td>2026-01-02T03:04:05.678Z</td><td>POST /integrations/scim/{workspace}/Users</td><td>201</td>"));
    assert!(
        page.html.contains("<tr class=\"failed\">"),
        "the failed request is marked"
    );
    assert!(
        page.html
            .contains("&quot;password&quot;:&quot;[redacted]&quot;")
    );
    assert!(!page.html.contains("TPS-report-1"));
    assert!(page.html.contains("<td>user.created</td>"));
    // The token itself is never shown again.
    assert!(!page.html.contains(&scim_token));
    let failed_only = browse(
        &app,
        Method::GET,
        &format!("{path}?failed=1"),
        Some(&session),
        None,
        &[],
    )
    .await;
    assert_eq!(failed_only.html.matches("<tr class=\"ok\">").count(), 0);
    assert_eq!(failed_only.html.matches("<tr class=\"failed\">").count(), 1);
}

#[tokio::test]
async fn an_it_admin_takes_a_token_through_a_one_time_setup_link() {
    let app = TestApp::new().await;
    let key = operator::create_api_key(app.store.as_ref(), None, start_time())
        .await
        .unwrap();
    let created = operator::create_workspace(
        app.store.as_ref(),
        operator::NewWorkspace {
            name: "Hooli".to_owned(),
            plan: rollcall_store::Plan::Enterprise,
            invitation_only: true,
            username_format: rollcall_scim::user::UsernameFormat::Email,
            default_role: rollcall_scim::user::Role::Member,
            role_discovery: false,
        },
        start_time(),
    )
    .await
    .unwrap();
    let id = created.id.as_str();

    // The operator creates the link through the API.
    let made = app
        .send(
            Method::POST,
            &format!("/api/v1/workspaces/{id}/setup-links"),
            Some(key.key.expose()),
            Some(json!({"expires_in": "2d"})),
            &[],
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.body["expires_at"], "2026-01-04T03:04:05.678Z");
    let url = made.body["url"].as_str().unwrap();
    let path = url
        .strip_prefix("https://scim.example.com")
        .unwrap()
        .to_owned();
    assert!(path.starts_with("/console/setup/rsl_"), "{path}");

    // The IT admin opens it without any sign-in: base URL and guides, no token yet.
    let page = browse(&app, Method::GET, &path, None, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    let base_url = format!("https://scim.example.com/integrations/scim/{id}");
    assert_eq!(by_id(&page.html, "base-url"), base_url);
    assert!(
        page.html
            .contains("<details id=\"guide-okta\"><summary>Okta</summary>")
    );
    assert!(page.html.contains("SCIM connector base URL"));
    assert!(!page.html.contains("new-token"));

    // Generating the token enables SCIM and shows the token once; the token works.
    let taken = browse(&app, Method::POST, &path, None, Some(&[]), &[]).await;
    assert_eq!(taken.status, StatusCode::OK);
    let token = by_id(&taken.html, "new-token");
    let users = app
        .send(
            Method::GET,
            &format!("/integrations/scim/{id}/Users"),
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(users.status, StatusCode::OK);

    // The link works once.
    let used_message = "this setup link is not valid, has expired, or was already used; ask \
                        the service&#39;s support for a new one";
    for method in [Method::GET, Method::POST] {
        let again = browse(&app, method, &path, None, Some(&[]), &[]).await;
        assert_eq!(again.status, StatusCode::NOT_FOUND);
        assert!(again.html.contains(used_message), "{}", again.html);
    }

    // An expired link, and a link for a workspace that cannot have SCIM.
    let later = operator::create_setup_link(
        app.store.as_ref(),
        &created.id,
        chrono::Duration::hours(1),
        start_time(),
    )
    .await
    .unwrap();
    app.clock.advance(chrono::Duration::hours(2));
    let expired = browse(&app, Method::GET, &later.path(), None, None, &[]).await;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    let small = app
        .tenant_with("small", rollcall_scim::user::UsernameFormat::Email)
        .await;
    operator::disable_scim(app.store.as_ref(), &small.workspace.id, start_time())
        .await
        .unwrap();
    operator::update_workspace(
        app.store.as_ref(),
        &small.workspace.id,
        operator::WorkspaceUpdate {
            plan: Some(rollcall_store::Plan::Free),
            ..Default::default()
        },
        start_time(),
    )
    .await
    .unwrap();
    let refused = operator::create_setup_link(
        app.store.as_ref(),
        &small.workspace.id,
        chrono::Duration::days(1),
        start_time(),
    )
    .await
    .unwrap_err();
    assert!(
        refused.to_string().contains("cannot have SCIM"),
        "{refused}"
    );
}
