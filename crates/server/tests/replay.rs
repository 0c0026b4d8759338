//! Recorded IdP request sequences, replayed against a rollcall server listening on a socket
//! on 127.0.0.1, so each request crosses HTTP as the IdP's would.
//!
//! Each file of `tests/replays/` is one scenario of one identity provider: the workspace it
//! needs and the requests the IdP sends, in order, each with the answer it expects. A step
//! that writes must read the resource back, so that a replay checks what the IdP would see
//! next time, not only the status of the write. `docs/idps/README.md` describes the format.
//!
//! Every file gets its own test, named after it, and `every_replay_file_has_a_test` fails when
//! a file is added without one. A failure names the file and the step; the steps of a file run
//! on after a failed one (their results are all reported), unless a variable could not be
//! captured, because the later steps would only fail for that reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use axum::http::Method;
use common::{Reply, Tenant, TestApp};
use rollcall_scim::user::UsernameFormat;
use serde::Deserialize;
use serde_json::Value;

macro_rules! replays {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[tokio::test]
            async fn $test() {
                run($file).await;
            }
        )*

        const FILES: &[&str] = &[$($file),*];
    };
}

replays! {
    entra_default_user_lifecycle => "entra-default-user-lifecycle.json",
    entra_default_groups => "entra-default-groups.json",
    entra_aadoptscim062020 => "entra-aadoptscim062020.json",
    okta_oin_users => "okta-oin-users.json",
    okta_wizard_put => "okta-wizard-put.json",
    okta_group_push => "okta-group-push.json",
    onelogin_users => "onelogin-users.json",
    jumpcloud_activation_and_groups => "jumpcloud-activation-and-groups.json",
    ping_users_and_groups => "ping-users-and-groups.json",
    google_workspace_users => "google-workspace-users.json",
    roles_okta_app_attribute => "roles-okta-app-attribute.json",
    roles_entra_app_role => "roles-entra-app-role.json",
}

#[test]
fn every_replay_file_has_a_test() {
    let mut on_disk: Vec<String> = std::fs::read_dir(replay_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FILES.iter().map(|name| (*name).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "add a line to `replays!` for each file");
}

/// One scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Replay {
    idp: String,
    description: String,
    workspace: WorkspaceSetup,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkspaceSetup {
    username_format: Format,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Format {
    Email,
    Any,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    name: String,
    request: ScimRequest,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScimRequest {
    method: String,
    /// Relative to the SCIM base; characters a URI cannot hold (spaces, quotes) are
    /// percent-encoded before sending, everything else (`+`, `%2B`) goes as written.
    path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<Value>,
}

/// What the answer must be. `body` and `at` are subset matches (see [`subset`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<Value>,
    /// JSON pointer into the answer → expected value, for parts of lists.
    #[serde(default)]
    at: BTreeMap<String, Value>,
    /// Variable name → JSON pointer into the answer whose value later steps use as `{name}`.
    #[serde(default)]
    capture: BTreeMap<String, String>,
    read_back: Option<ReadBack>,
}

/// A GET after the step, checking its effect as the IdP would read it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadBack {
    path: String,
    #[serde(default = "status_ok")]
    status: u16,
    body: Option<Value>,
    #[serde(default)]
    at: BTreeMap<String, Value>,
}

fn status_ok() -> u16 {
    200
}

fn replay_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/replays")
}

/// Replays one file on a fresh app and panics with every failed step.
async fn run(file: &str) {
    let text = std::fs::read_to_string(replay_dir().join(file)).unwrap();
    let replay: Replay =
        serde_json::from_str(&text).unwrap_or_else(|err| panic!("{file}: not a replay: {err}"));
    assert!(
        !replay.idp.is_empty() && !replay.description.is_empty(),
        "{file}: idp and description must not be empty"
    );

    // A real server on a socket: the requests cross HTTP as the IdP's do.
    let app = TestApp::serving().await;
    let format = match replay.workspace.username_format {
        Format::Email => UsernameFormat::Email,
        Format::Any => UsernameFormat::Any,
    };
    let tenant = app.tenant_with("replay", format).await;
    let mut vars = HashMap::from([("base_url".to_owned(), tenant.base_url())]);

    let mut failures = Vec::new();
    for step in &replay.steps {
        match run_step(&app, &tenant, step, &mut vars).await {
            Ok(()) => {}
            Err(Failure::Check(message)) => {
                failures.push(format!("{file}, step {:?}: {message}", step.name));
            }
            Err(Failure::Fatal(message)) => {
                failures.push(format!(
                    "{file}, step {:?}: {message} (replay stopped)",
                    step.name
                ));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n\n"));
}

enum Failure {
    /// The answer differs from the expected one; later steps can still run.
    Check(String),
    /// The replay cannot go on: a malformed step or a variable that could not be captured.
    Fatal(String),
}

async fn run_step(
    app: &TestApp,
    tenant: &Tenant,
    step: &Step,
    vars: &mut HashMap<String, String>,
) -> Result<(), Failure> {
    let expect = &step.expect;
    let writes = !step.request.method.eq_ignore_ascii_case("GET");
    if writes && (200..300).contains(&expect.status) && expect.read_back.is_none() {
        return Err(Failure::Fatal(
            "a step that writes must have a read_back".into(),
        ));
    }
    let reply = send(app, tenant, &step.request, vars).await?;

    // Captures come first: the expected body may name what this very step created.
    for (name, pointer) in &expect.capture {
        let value = match reply.body.pointer(pointer) {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => {
                return Err(Failure::Fatal(format!(
                    "nothing at {pointer} to capture as {{{name}}} in the answer {} {}",
                    reply.status.as_u16(),
                    reply.body
                )));
            }
        };
        vars.insert(name.clone(), value);
    }

    // Every check is reported, not only the first.
    let mut problems = Vec::new();
    let body = expect.body.as_ref();
    if let Err(message) = check(&reply, expect.status, body, &expect.at, vars) {
        problems.push(message);
    }
    for (name, value) in &expect.headers {
        let value = substitute_text(value, vars).map_err(Failure::Fatal)?;
        if reply.header(name) != Some(value.as_str()) {
            let found = reply.header(name);
            problems.push(format!("header {name}: expected {value:?}, got {found:?}"));
        }
    }

    if let Some(read_back) = &expect.read_back {
        let request = ScimRequest {
            method: "GET".to_owned(),
            path: read_back.path.clone(),
            headers: BTreeMap::new(),
            body: None,
        };
        let reply = send(app, tenant, &request, vars).await?;
        let body = read_back.body.as_ref();
        if let Err(message) = check(&reply, read_back.status, body, &read_back.at, vars) {
            problems.push(format!("read back {}: {message}", read_back.path));
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::Check(problems.join("\n")))
    }
}

/// Sends a step's request under the tenant's SCIM base, with its variables filled in. The
/// IdP's own `Authorization` header, when the step has one, replaces the tenant's token.
async fn send(
    app: &TestApp,
    tenant: &Tenant,
    request: &ScimRequest,
    vars: &HashMap<String, String>,
) -> Result<Reply, Failure> {
    let method = Method::from_bytes(request.method.as_bytes())
        .map_err(|_| Failure::Fatal(format!("unknown method {:?}", request.method)))?;
    let path = substitute_text(&request.path, vars).map_err(Failure::Fatal)?;
    let uri = encode_uri(&format!("{}{path}", tenant.base()));
    let body = match &request.body {
        Some(body) => Some(substitute(body, vars).map_err(Failure::Fatal)?),
        None => None,
    };

    let own_auth = request
        .headers
        .keys()
        .any(|name| name.eq_ignore_ascii_case("authorization"));
    let token = (!own_auth).then_some(tenant.token.as_str());
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| Ok((name.as_str(), substitute_text(value, vars)?)))
        .collect::<Result<Vec<_>, String>>()
        .map_err(Failure::Fatal)?;
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    Ok(app.send(method, &uri, token, body, &headers).await)
}

/// Checks the status, the body and the `at` pointers of an answer.
fn check(
    reply: &Reply,
    status: u16,
    body: Option<&Value>,
    at: &BTreeMap<String, Value>,
    vars: &HashMap<String, String>,
) -> Result<(), String> {
    if reply.status.as_u16() != status {
        return Err(format!(
            "expected status {status}, got {} with {}",
            reply.status.as_u16(),
            reply.body
        ));
    }
    if let Some(expected) = body {
        let expected = substitute(expected, vars)?;
        subset(&expected, &reply.body, "")
            .map_err(|message| format!("{message}\n  in the body {}", reply.body))?;
    }
    for (pointer, expected) in at {
        let expected = substitute(expected, vars)?;
        let actual = reply.body.pointer(pointer).unwrap_or(&Value::Null);
        subset(&expected, actual, pointer)
            .map_err(|message| format!("{message}\n  in the body {}", reply.body))?;
    }
    Ok(())
}

/// Whether `actual` holds `expected`: every key of an expected object must be present with a
/// matching value, an expected `null` means absent (SCIM's unassigned), and arrays and other
/// values must be equal as a whole.
fn subset(expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Null, Value::Null) => Ok(()),
        (Value::Null, _) => Err(format!("{at}: expected absent, got {actual}")),
        (Value::Object(expected), Value::Object(actual)) => {
            for (key, value) in expected {
                let here = format!("{at}/{key}");
                match actual.get(key) {
                    Some(found) => subset(value, found, &here)?,
                    None if value.is_null() => {}
                    None => return Err(format!("{here}: expected {value}, but it is absent")),
                }
            }
            Ok(())
        }
        _ if expected == actual => Ok(()),
        _ => Err(format!("{at}: expected {expected}, got {actual}")),
    }
}

/// Replaces `{name}` in every string and key of a JSON value.
fn substitute(value: &Value, vars: &HashMap<String, String>) -> Result<Value, String> {
    Ok(match value {
        Value::String(text) => Value::String(substitute_text(text, vars)?),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| substitute(item, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, value)| Ok((substitute_text(key, vars)?, substitute(value, vars)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Replaces `{name}` with the variable's value; a `{name}` with no value is an error, so a
/// misspelt variable cannot pass unnoticed.
fn substitute_text(text: &str, vars: &HashMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if name_len > 0 && after[name_len..].starts_with('}') {
            let value = vars
                .get(name)
                .ok_or_else(|| format!("no variable {{{name}}} captured yet"))?;
            out.push_str(value);
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Percent-encodes what a URI cannot hold as written, the way an HTTP client does with a
/// filter typed with spaces and quotes; `+`, `%` and the delimiters are left alone.
fn encode_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    for c in uri.chars() {
        let allowed = c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c);
        if allowed {
            out.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

#[test]
fn subset_treats_null_as_absent_and_compares_arrays_whole() {
    let actual = serde_json::json!({"a": {"b": 1, "c": 2}, "list": [1, 2]});
    assert!(subset(&serde_json::json!({"a": {"b": 1}}), &actual, "").is_ok());
    assert!(subset(&serde_json::json!({"a": {"b": 2}}), &actual, "").is_err());
    assert!(subset(&serde_json::json!({"gone": null}), &actual, "").is_ok());
    assert!(subset(&serde_json::json!({"a": null}), &actual, "").is_err());
    assert!(subset(&serde_json::json!({"list": [1]}), &actual, "").is_err());
    assert!(subset(&serde_json::json!({"list": [1, 2]}), &actual, "").is_ok());
}

#[test]
fn substitution_fills_known_variables_and_refuses_unknown_ones() {
    let vars = HashMap::from([("user".to_owned(), "42".to_owned())]);
    assert_eq!(
        substitute_text("/Users/{user}", &vars).unwrap(),
        "/Users/42"
    );
    assert_eq!(substitute_text("{\"id\":1}", &vars).unwrap(), "{\"id\":1}");
    assert!(substitute_text("/Groups/{group}", &vars).is_err());
}

#[test]
fn only_what_a_uri_cannot_hold_is_encoded() {
    assert_eq!(
        encode_uri("/Users?filter=userName eq \"a+b@x.org\"&count=1"),
        "/Users?filter=userName%20eq%20%22a+b@x.org%22&count=1"
    );
}
