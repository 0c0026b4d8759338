//! The User resource: RFC 7643 §4.1 plus the seed's `email` and `role` attributes.
//!
//! Every stored user has `userName`, `email`, `displayName` and `role`. IdPs other than a
//! configured Okta app send no `role` and often no `email`, so [`prepare_user`] fills them:
//! `email` from the primary of `emails` (else the one sent, else `userName`), `displayName` from
//! `name` (else `userName`), and `role` from the workspace's default. An Owner's role is never
//! changed through SCIM; only the operator names an Owner.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::resource::{self, get_ci, parse_boolean};
use crate::schema::{ASSIGNABLE_ROLES, ResourceSchema, user_resource};

/// A member's role in the workspace, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Observer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
            Role::Observer => "Observer",
        }
    }

    /// Reads a role a SCIM client sent: Admin, Member or Observer in any case. Owner is refused
    /// with its own message because the seed promises it is not assignable through SCIM.
    pub fn parse_assignable(text: &str) -> Result<Role, Error> {
        match text.parse::<Role>() {
            Ok(Role::Owner) => Err(Error::invalid_value(
                "role",
                "Owner cannot be assigned through SCIM; the workspace's operator names the Owner",
            )),
            Ok(role) => Ok(role),
            Err(()) => Err(Error::invalid_value(
                "role",
                format!(
                    "{text:?} is not one of the allowed values: {}",
                    ASSIGNABLE_ROLES.join(", ")
                ),
            )),
        }
    }
}

impl FromStr for Role {
    type Err = ();

    /// Parses any role, Owner included, case-insensitively.
    fn from_str(text: &str) -> Result<Role, ()> {
        [Role::Owner, Role::Admin, Role::Member, Role::Observer]
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or(())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a workspace accepts as `userName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameFormat {
    /// The seed's rule: userName is the user's email address.
    Email,
    /// Any non-empty string, for IdPs and checkers that send other identifiers.
    Any,
}

impl UsernameFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            UsernameFormat::Email => "email",
            UsernameFormat::Any => "any",
        }
    }
}

impl FromStr for UsernameFormat {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text.to_ascii_lowercase().as_str() {
            "email" => Ok(UsernameFormat::Email),
            "any" => Ok(UsernameFormat::Any),
            _ => Err(()),
        }
    }
}

/// The workspace settings that shape how a user is validated.
#[derive(Debug, Clone, Copy)]
pub struct UserPolicy {
    pub username_format: UsernameFormat,
    pub default_role: Role,
}

/// A validated user, ready to store, with the values the store indexes pulled out.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedUser {
    /// The stored form of the resource (see [`crate::resource::normalize`]).
    pub body: Value,
    pub user_name: String,
    pub external_id: Option<String>,
    pub email: String,
    /// Every address in `emails`, for `emails.value` filters.
    pub emails: Vec<String>,
    pub display_name: String,
    /// `active` as sent; `None` when the client left it unassigned (the user counts as active).
    pub active: Option<bool>,
    pub role: Role,
    /// The role the client sent (`role`, or Entra's `roles` form), if any.
    pub sent_role: Option<Role>,
    /// True when the client sent a role that was not applied because the user is an Owner.
    pub owner_role_kept: bool,
}

/// Validates a User body for create (`current_role` is `None`) or replace and fills the seed's
/// attributes.
///
/// A body without `role` keeps `current_role` on replace, so that an IdP that never manages
/// roles does not demote an Admin with every PUT.
pub fn prepare_user(
    input: &Value,
    policy: &UserPolicy,
    current_role: Option<Role>,
) -> Result<PreparedUser, Error> {
    prepare_user_with(input, policy, current_role, user_resource())
}

/// [`prepare_user`] against a workspace's own User schema (with its custom extension).
pub fn prepare_user_with(
    input: &Value,
    policy: &UserPolicy,
    current_role: Option<Role>,
    schema: &ResourceSchema,
) -> Result<PreparedUser, Error> {
    let Value::Object(fields) = input else {
        return Err(Error::InvalidSyntax(
            "the request body must be a JSON object".to_owned(),
        ));
    };

    // The role is read apart from the generic walk: Owner gets its own answer, and an Owner's
    // stored role must pass through untouched.
    let sent_role = sent_role(fields)?;
    let mut without_role = fields.clone();
    without_role.retain(|key, _| !key.eq_ignore_ascii_case("role"));
    let Value::Object(mut body) = resource::normalize(&Value::Object(without_role), schema)? else {
        return Err(Error::InvalidSyntax(
            "the user must be a JSON object".to_owned(),
        ));
    };

    let user_name = read_user_name(&body, policy.username_format)?;
    // Stored as checked: a userName differing only in surrounding spaces is the same user.
    body.insert("userName".to_owned(), Value::String(user_name.clone()));
    let emails = email_values(&body);
    let email = primary_email(&body)
        .or_else(|| body.get("email").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| user_name.clone());
    let display_name = body
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| name_for_display(&body))
        .unwrap_or_else(|| user_name.clone());

    let (role, owner_role_kept) = match (current_role, sent_role) {
        (Some(Role::Owner), sent) => (Role::Owner, sent.is_some_and(|r| r != Role::Owner)),
        (_, Some(sent)) => (sent, false),
        (Some(current), None) => (current, false),
        (None, None) => (policy.default_role, false),
    };
    let active = body.get("active").and_then(Value::as_bool);
    let external_id = body
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);

    set_in_schema_order(&mut body, "email", Value::String(email.clone()));
    set_in_schema_order(
        &mut body,
        "displayName",
        Value::String(display_name.clone()),
    );
    set_in_schema_order(&mut body, "role", Value::String(role.as_str().to_owned()));
    let body = Value::Object(body);
    resource::check_required(&body, schema)?;

    Ok(PreparedUser {
        body,
        user_name,
        external_id,
        email,
        emails,
        display_name,
        active,
        role,
        sent_role,
        owner_role_kept,
    })
}

/// Removes the seed attributes that hold their derived value (an `email` equal to the primary
/// address or the userName, a `displayName` equal to the one built from `name` or the
/// userName), so that after a PATCH they are derived again from what changed. A value the IdP
/// set to something else stays.
pub fn strip_derived(body: &mut Value) {
    let Value::Object(fields) = body else {
        return;
    };
    let user_name = fields
        .get("userName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let email = primary_email(fields).or_else(|| user_name.clone());
    if email.is_some() && fields.get("email").and_then(Value::as_str) == email.as_deref() {
        fields.remove("email");
    }
    let display = name_for_display(fields).or(user_name);
    if display.is_some() && fields.get("displayName").and_then(Value::as_str) == display.as_deref()
    {
        fields.remove("displayName");
    }
}

/// Reads the role a client sent: the `role` attribute, else a recognisable entry of `roles`
/// (Microsoft Entra ID's app-role form), else nothing.
fn sent_role(fields: &Map<String, Value>) -> Result<Option<Role>, Error> {
    match get_ci(fields, "role") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) if text.trim().is_empty() => {}
        Some(Value::String(text)) => return Role::parse_assignable(text).map(Some),
        Some(other) => {
            return Err(Error::invalid_value(
                "role",
                format!("must be a string, not {other}"),
            ));
        }
    }
    Ok(role_from_roles(fields))
}

/// The primary entry of `roles` (or its only entry), when its value names an assignable role.
fn role_from_roles(fields: &Map<String, Value>) -> Option<Role> {
    let Some(Value::Array(entries)) = get_ci(fields, "roles") else {
        return None;
    };
    let is_primary = |entry: &&Value| {
        entry
            .get("primary")
            .and_then(parse_boolean)
            .unwrap_or(false)
    };
    let entry = entries
        .iter()
        .find(is_primary)
        .or(match entries.as_slice() {
            [only] => Some(only),
            _ => None,
        })?;
    let role = role_value(entry.get("value")?)?;
    (role != Role::Owner).then_some(role)
}

/// A role named by a `roles` value: a plain name, or the JSON text of an app-role assignment
/// (`{"value": "Admin", ...}` or a list of them) as Microsoft Entra ID can send it.
fn role_value(value: &Value) -> Option<Role> {
    match value {
        Value::String(text) => match text.parse::<Role>() {
            Ok(role) => Some(role),
            Err(()) => match serde_json::from_str::<Value>(text) {
                Ok(parsed @ (Value::Object(_) | Value::Array(_))) => role_value(&parsed),
                _ => None,
            },
        },
        Value::Object(fields) => role_value(get_ci(fields, "value")?),
        Value::Array(items) => items.iter().find_map(role_value),
        _ => None,
    }
}

fn read_user_name(body: &Map<String, Value>, format: UsernameFormat) -> Result<String, Error> {
    let user_name = body
        .get("userName")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if user_name.is_empty() {
        return Err(Error::invalid_value("userName", "is required"));
    }
    if format == UsernameFormat::Email && !is_email_address(user_name) {
        return Err(Error::invalid_value(
            "userName",
            format!(
                "{user_name:?} is not an email address; this workspace uses email addresses as \
                 userName"
            ),
        ));
    }
    Ok(user_name.to_owned())
}

/// A deliberately plain check: one `@`, something on each side, a dot in the domain, and no
/// whitespace. Deliverability is the IdP's concern; this catches a wrongly mapped attribute.
pub fn is_email_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

fn email_values(body: &Map<String, Value>) -> Vec<String> {
    let Some(Value::Array(emails)) = body.get("emails") else {
        return Vec::new();
    };
    emails
        .iter()
        .filter_map(|e| e.get("value").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

fn primary_email(body: &Map<String, Value>) -> Option<String> {
    let Some(Value::Array(emails)) = body.get("emails") else {
        return None;
    };
    let with_value = || emails.iter().filter(|e| e.get("value").is_some());
    let entry = with_value()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| with_value().next())?;
    entry.get("value")?.as_str().map(str::to_owned)
}

fn name_for_display(body: &Map<String, Value>) -> Option<String> {
    let name = body.get("name")?;
    if let Some(formatted) = name.get("formatted").and_then(Value::as_str)
        && !formatted.trim().is_empty()
    {
        return Some(formatted.trim().to_owned());
    }
    let parts: Vec<&str> = ["givenName", "familyName"]
        .iter()
        .filter_map(|part| name.get(*part).and_then(Value::as_str))
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Inserts or replaces `name` so that the stored document keeps the schema's attribute order.
fn set_in_schema_order(body: &mut Map<String, Value>, name: &str, value: Value) {
    if let Some(slot) = body.get_mut(name) {
        *slot = value;
        return;
    }
    let order = |key: &str| {
        user_resource()
            .core
            .attributes
            .iter()
            .position(|a| a.name == key)
            .unwrap_or(usize::MAX)
    };
    let position = order(name);
    let index = body
        .keys()
        .position(|key| order(key) > position)
        .unwrap_or(body.len());
    body.shift_insert(index, name.to_owned(), value);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    const POLICY: UserPolicy = UserPolicy {
        username_format: UsernameFormat::Email,
        default_role: Role::Member,
    };

    #[test]
    fn fills_the_seed_attributes_an_idp_did_not_send() {
        let input = json!({
            "userName": "ada@example.com",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@work.example.com", "type": "work", "primary": true}],
        });
        let user = prepare_user(&input, &POLICY, None).unwrap();
        assert_eq!(
            user.body,
            json!({
                "userName": "ada@example.com",
                "name": {"familyName": "Lovelace", "givenName": "Ada"},
                "displayName": "Ada Lovelace",
                "email": "ada@work.example.com",
                "role": "Member",
                "emails": [{"value": "ada@work.example.com", "type": "work", "primary": true}],
            })
        );
        assert_eq!(user.email, "ada@work.example.com");
        assert_eq!(user.emails, ["ada@work.example.com"]);
        assert_eq!(user.role, Role::Member);
    }

    #[test]
    fn email_and_display_name_fall_back_to_user_name() {
        let user = prepare_user(&json!({"userName": "bo@example.com"}), &POLICY, None).unwrap();
        assert_eq!(user.email, "bo@example.com");
        assert_eq!(user.display_name, "bo@example.com");
    }

    #[test]
    fn role_is_canonical_and_owner_is_refused() {
        let input = json!({"userName": "a@example.com", "role": "aDMIN"});
        assert_eq!(
            prepare_user(&input, &POLICY, None).unwrap().role,
            Role::Admin
        );

        let input = json!({"userName": "a@example.com", "role": "owner"});
        let err = prepare_user(&input, &POLICY, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "role: Owner cannot be assigned through SCIM; the workspace's operator names the Owner"
        );

        let input = json!({"userName": "a@example.com", "role": "Boss"});
        let err = prepare_user(&input, &POLICY, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "role: \"Boss\" is not one of the allowed values: Admin, Member, Observer"
        );
    }

    #[test]
    fn an_owner_keeps_the_role_and_a_replace_without_role_keeps_the_current_one() {
        let input = json!({"userName": "a@example.com", "role": "Observer"});
        let user = prepare_user(&input, &POLICY, Some(Role::Owner)).unwrap();
        assert_eq!((user.role, user.owner_role_kept), (Role::Owner, true));
        assert_eq!(user.body["role"], "Owner");

        let input = json!({"userName": "a@example.com"});
        let user = prepare_user(&input, &POLICY, Some(Role::Admin)).unwrap();
        assert_eq!(user.role, Role::Admin);
    }

    #[test]
    fn entra_app_role_entries_map_onto_role() {
        let input = json!({
            "userName": "a@example.com",
            "roles": [{"primary": "True", "value": "observer", "type": "WindowsAzureActiveDirectoryRole"}],
        });
        assert_eq!(
            prepare_user(&input, &POLICY, None).unwrap().role,
            Role::Observer
        );
    }

    #[test]
    fn user_name_must_be_an_email_unless_the_workspace_relaxes_it() {
        let input = json!({"userName": "jdoe"});
        let err = prepare_user(&input, &POLICY, None).unwrap_err();
        assert_eq!(err.scim_type(), crate::ScimType::InvalidValue);
        let any = UserPolicy {
            username_format: UsernameFormat::Any,
            ..POLICY
        };
        assert_eq!(prepare_user(&input, &any, None).unwrap().email, "jdoe");

        let err = prepare_user(&json!({"displayName": "x"}), &any, None).unwrap_err();
        assert_eq!(err.to_string(), "userName: is required");
    }

    #[test]
    fn checks_email_addresses_plainly() {
        for good in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(is_email_address(good), "{good}");
        }
        for bad in [
            "", "a", "@b.co", "a@", "a@b", "a@@b.co", "a b@c.co", "a@.co", "a@b.co.",
        ] {
            assert!(!is_email_address(bad), "{bad}");
        }
    }
}
