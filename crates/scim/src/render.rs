//! The resource as a client sees it (RFC 7643 §3.1, RFC 7644 §3.4.2.5 and §3.9).
//!
//! A stored document becomes a response by adding `schemas`, `id` and `meta`, dropping what is
//! never returned, and applying the client's `attributes` or `excludedAttributes`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::schema::{Attribute, ResourceSchema, Returned};

/// The service provider's metadata of one resource (RFC 7643 §3.1).
#[derive(Debug, Clone)]
pub struct Meta {
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// The absolute URL of the resource.
    pub location: String,
    /// The entity tag, a weak validator such as `W/"3"`.
    pub version: String,
}

/// Formats a timestamp the way `meta` carries it: RFC 3339, UTC, milliseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One entry of `attributes` or `excludedAttributes`, resolved to its canonical names.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Selected {
    /// The extension URN, or `None` for the core schema.
    extension: Option<String>,
    name: String,
    sub: Option<String>,
}

/// Which attributes a client asked for (RFC 7644 §3.4.2.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    attributes: Vec<Selected>,
    excluded: Vec<Selected>,
}

impl Projection {
    /// Reads the two comma-separated query parameters. Names the schema does not know are
    /// ignored, as RFC 7644 lets a service provider do for unknown attributes.
    pub fn parse(
        attributes: Option<&str>,
        excluded: Option<&str>,
        schema: &ResourceSchema,
    ) -> Projection {
        Projection {
            attributes: parse_list(attributes, schema),
            excluded: parse_list(excluded, schema),
        }
    }

    /// Whether a top-level core attribute returned by default appears in the response; lets a
    /// caller skip loading what will not be shown (`excludedAttributes=members`).
    pub fn includes(&self, name: &str) -> bool {
        included(name, None, None, Returned::Default, self)
    }

    fn is_default(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }
}

fn parse_list(list: Option<&str>, schema: &ResourceSchema) -> Vec<Selected> {
    let Some(list) = list else {
        return Vec::new();
    };
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .filter_map(|item| select(item, schema))
        .collect()
}

fn select(item: &str, schema: &ResourceSchema) -> Option<Selected> {
    // A bare extension URN selects the whole extension.
    if let Some(ext) = schema.extension(item) {
        return Some(Selected {
            extension: Some(ext.id.clone()),
            name: String::new(),
            sub: None,
        });
    }
    let (uri, rest) = match item.rfind(':') {
        Some(at)
            if item
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("urn:")) =>
        {
            (Some(&item[..at]), &item[at + 1..])
        }
        _ => (None, item),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    if uri.is_none() && name.eq_ignore_ascii_case("meta") {
        return Some(Selected {
            extension: None,
            name: "meta".to_owned(),
            sub: sub.map(str::to_owned),
        });
    }
    let resolved = schema.resolve(uri, name)?;
    let sub = match sub {
        Some(sub) => Some(resolved.attribute.sub_attribute(sub)?.name.clone()),
        None => None,
    };
    Some(Selected {
        extension: resolved.extension.map(str::to_owned),
        name: resolved.attribute.name.clone(),
        sub,
    })
}

/// Builds the response representation of a stored resource.
pub fn render(
    schema: &ResourceSchema,
    id: &str,
    body: &Value,
    meta: &Meta,
    projection: &Projection,
) -> Value {
    let empty = Map::new();
    let stored = body.as_object().unwrap_or(&empty);
    let mut out = Map::new();

    let mut schemas = vec![Value::String(schema.core.id.clone())];
    for extension in &schema.extensions {
        if stored.contains_key(&extension.id) {
            schemas.push(Value::String(extension.id.clone()));
        }
    }
    out.insert("schemas".to_owned(), Value::Array(schemas));
    out.insert("id".to_owned(), Value::String(id.to_owned()));

    for attribute in &schema.core.attributes {
        if let Some(value) = stored.get(&attribute.name)
            && let Some(value) = project(attribute, value, None, projection)
        {
            out.insert(attribute.name.clone(), value);
        }
    }
    for extension in &schema.extensions {
        let Some(Value::Object(ext_stored)) = stored.get(&extension.id) else {
            continue;
        };
        let mut ext_out = Map::new();
        for attribute in &extension.attributes {
            if let Some(value) = ext_stored.get(&attribute.name) {
                let urn = Some(extension.id.as_str());
                if let Some(value) = project(attribute, value, urn, projection) {
                    ext_out.insert(attribute.name.clone(), value);
                }
            }
        }
        if !ext_out.is_empty() {
            out.insert(extension.id.clone(), Value::Object(ext_out));
        }
    }

    if let Some(meta) = render_meta(schema, meta, projection) {
        out.insert("meta".to_owned(), meta);
    }
    Value::Object(out)
}

fn render_meta(schema: &ResourceSchema, meta: &Meta, projection: &Projection) -> Option<Value> {
    let fields = [
        ("resourceType", Value::String(schema.name.clone())),
        ("created", Value::String(timestamp(meta.created))),
        ("lastModified", Value::String(timestamp(meta.last_modified))),
        ("location", Value::String(meta.location.clone())),
        ("version", Value::String(meta.version.clone())),
    ];
    let mut out = Map::new();
    for (name, value) in fields {
        if included("meta", Some(name), None, Returned::Default, projection) {
            out.insert(name.to_owned(), value);
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

/// Applies `returned` and the projection to one top-level attribute.
fn project(
    attribute: &Attribute,
    value: &Value,
    extension: Option<&str>,
    projection: &Projection,
) -> Option<Value> {
    if attribute.returned == Returned::Never {
        return None;
    }
    let hides_subs = attribute
        .sub_attributes
        .iter()
        .any(|sub| matches!(sub.returned, Returned::Never | Returned::Request));
    if attribute.sub_attributes.is_empty() || projection.is_default() && !hides_subs {
        return included(
            &attribute.name,
            None,
            extension,
            attribute.returned,
            projection,
        )
        .then(|| value.clone());
    }

    // A complex attribute: the projection may pick or drop single sub-attributes.
    let keep_sub = |sub: &Attribute| {
        sub.returned != Returned::Never
            && included(
                &attribute.name,
                Some(&sub.name),
                extension,
                attribute.returned.max_with(sub.returned),
                projection,
            )
    };
    let filter_object = |object: &Map<String, Value>| -> Option<Value> {
        let kept: Map<String, Value> = object
            .iter()
            .filter(|(key, _)| attribute.sub_attribute(key).is_none_or(keep_sub))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Object(object) => filter_object(object),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|item| match item {
                    Value::Object(object) => filter_object(object),
                    other => Some(other.clone()),
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => Some(other.clone()),
    }
}

impl Returned {
    /// For a sub-attribute, `always` on either level wins; otherwise the sub-attribute's rule.
    fn max_with(self, sub: Returned) -> Returned {
        if self == Returned::Always || sub == Returned::Always {
            Returned::Always
        } else {
            sub
        }
    }
}

/// Decides whether `name` (or `name.sub`) appears under the RFC 7644 §3.4.2.5 rules.
fn included(
    name: &str,
    sub: Option<&str>,
    extension: Option<&str>,
    returned: Returned,
    projection: &Projection,
) -> bool {
    let names = |selected: &Selected| {
        let same_schema = match (&selected.extension, extension) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, None) => true,
            _ => false,
        };
        same_schema
            && (selected.name.is_empty()
                || selected.name == name
                    && (selected.sub.is_none() || sub.is_none() || selected.sub.as_deref() == sub))
    };
    match returned {
        Returned::Never => false,
        Returned::Always => true,
        Returned::Request => projection.attributes.iter().any(names),
        Returned::Default if !projection.attributes.is_empty() => {
            projection.attributes.iter().any(names)
        }
        Returned::Default => !projection.excluded.iter().any(|selected| {
            // Excluding `name.givenName` removes that sub-attribute only.
            names(selected) && (selected.sub.is_none() || sub.is_some())
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::user_resource;

    fn meta() -> Meta {
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.006Z")
            .unwrap()
            .with_timezone(&Utc);
        Meta {
            created: at,
            last_modified: at,
            location: "https://h/integrations/scim/w/Users/u1".to_owned(),
            version: "W/\"1\"".to_owned(),
        }
    }

    fn body() -> Value {
        json!({
            "userName": "a@example.com",
            "name": {"givenName": "A", "familyName": "B"},
            "active": true,
            "emails": [{"value": "a@example.com", "primary": true}],
        })
    }

    fn rendered(attributes: Option<&str>, excluded: Option<&str>) -> Value {
        let schema = user_resource();
        let projection = Projection::parse(attributes, excluded, schema);
        render(schema, "u1", &body(), &meta(), &projection)
    }

    #[test]
    fn renders_schemas_id_and_meta_around_the_stored_body() {
        assert_eq!(
            rendered(None, None),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "u1",
                "userName": "a@example.com",
                "name": {"givenName": "A", "familyName": "B"},
                "active": true,
                "emails": [{"value": "a@example.com", "primary": true}],
                "meta": {
                    "resourceType": "User",
                    "created": "2026-01-02T03:04:05.006Z",
                    "lastModified": "2026-01-02T03:04:05.006Z",
                    "location": "https://h/integrations/scim/w/Users/u1",
                    "version": "W/\"1\"",
                },
            })
        );
    }

    #[test]
    fn attributes_keeps_always_returned_ones_and_the_selected_sub_attributes() {
        assert_eq!(
            rendered(Some("name.givenName,EMAILS"), None),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "u1",
                "userName": "a@example.com",
                "name": {"givenName": "A"},
                "emails": [{"value": "a@example.com", "primary": true}],
            })
        );
    }

    #[test]
    fn excluded_attributes_drops_default_ones_but_never_always_ones() {
        assert_eq!(
            rendered(None, Some("userName,name.familyName,meta,emails")),
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "u1",
                "userName": "a@example.com",
                "name": {"givenName": "A"},
                "active": true,
            })
        );
    }
}
