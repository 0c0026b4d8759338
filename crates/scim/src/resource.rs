//! Schema-driven validation of a resource a client sends (RFC 7643 §2 and §7).
//!
//! [`normalize`] turns a client's JSON into the stored form: attribute names in their canonical
//! spelling and in schema order, values checked against their type, read-only attributes and
//! unknown attributes dropped, write-only attributes never kept. It knows nothing of a particular
//! resource type; [`crate::user`] adds the rules of the User resource on top.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::limits::limits;
use crate::schema::{Attribute, AttributeType, Mutability, ResourceSchema, Schema};

/// Validates a client's resource body against `schema` and returns it in stored form.
///
/// The result holds no `schemas`, `id` or `meta`: those belong to the service provider and are
/// added when the resource is rendered. Extension attributes are kept under their schema URN.
pub fn normalize(input: &Value, schema: &ResourceSchema) -> Result<Value, Error> {
    let Value::Object(fields) = input else {
        return Err(Error::InvalidSyntax(
            "the request body must be a JSON object".to_owned(),
        ));
    };
    check_schemas(fields, schema)?;

    let mut out = normalize_object(fields, &schema.core, "")?;
    for extension in &schema.extensions {
        let value = fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(&extension.id))
            .map(|(_, value)| value);
        match value {
            None | Some(Value::Null) => {}
            Some(Value::Object(ext_fields)) => {
                let ext = normalize_object(ext_fields, extension, &extension.id)?;
                if !ext.is_empty() {
                    out.insert(extension.id.clone(), Value::Object(ext));
                }
            }
            Some(_) => {
                return Err(Error::invalid_value(
                    extension.id.as_str(),
                    "an extension must be a JSON object",
                ));
            }
        }
    }
    Ok(Value::Object(out))
}

/// Refuses attributes the schema does not define, so that an IdP whose mapping sends one hears
/// about it instead of seeing it dropped. `schemas`, `id` and `meta` are the envelope and pass.
pub fn check_known(input: &Value, schema: &ResourceSchema) -> Result<(), Error> {
    let Value::Object(fields) = input else {
        return Ok(());
    };
    for (key, value) in fields {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|k| key.eq_ignore_ascii_case(k))
        {
            continue;
        }
        if let Some(extension) = schema.extension(key) {
            if let Value::Object(ext_fields) = value {
                for (name, ext_value) in ext_fields {
                    if name.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    let attribute = extension.attribute(name).ok_or_else(|| {
                        unknown(&format!("{}:{name}", extension.id), &extension.name)
                    })?;
                    check_known_subs(ext_value, attribute, &format!("{}:{name}", extension.id))?;
                }
            }
            continue;
        }
        if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            return Err(Error::InvalidSyntax(format!(
                "{key} is not a schema of the {} resource; /Schemas lists the ones it has",
                schema.name
            )));
        }
        let attribute = schema
            .core
            .attribute(key)
            .ok_or_else(|| unknown(key, &schema.core.name))?;
        check_known_subs(value, attribute, key)?;
    }
    Ok(())
}

fn check_known_subs(value: &Value, attribute: &Attribute, name: &str) -> Result<(), Error> {
    if attribute.kind != AttributeType::Complex || attribute.mutability == Mutability::ReadOnly {
        return Ok(());
    }
    let objects: Vec<&Map<String, Value>> = match value {
        Value::Object(fields) => vec![fields],
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        _ => Vec::new(),
    };
    for fields in objects {
        for key in fields.keys() {
            if attribute.sub_attribute(key).is_none() {
                return Err(unknown(&format!("{name}.{key}"), &attribute.name));
            }
        }
    }
    Ok(())
}

fn unknown(name: &str, schema: &str) -> Error {
    Error::InvalidSyntax(format!(
        "{name} is not an attribute of {schema}; /Schemas lists the attributes rollcall keeps"
    ))
}

/// RFC 7643 §7: every attribute the schema marks `required` has a value.
///
/// Runs on the stored form, after a resource type has filled what it derives, so that an
/// attribute the service provider fills is not demanded of the client.
pub fn check_required(body: &Value, schema: &ResourceSchema) -> Result<(), Error> {
    let check = |fields: Option<&Map<String, Value>>, attributes: &[Attribute], prefix: &str| {
        for attribute in attributes.iter().filter(|a| a.required) {
            if attribute.mutability == Mutability::ReadOnly {
                continue;
            }
            let present = fields
                .and_then(|f| f.get(&attribute.name))
                .is_some_and(|v| !is_empty(v));
            if !present {
                return Err(Error::invalid_value(
                    qualified(prefix, &attribute.name),
                    "is required",
                ));
            }
        }
        Ok(())
    };
    check(body.as_object(), &schema.core.attributes, "")?;
    for extension in &schema.extensions {
        // An optional extension's required attributes bind only when the extension is used.
        let fields = body.get(&extension.id).and_then(Value::as_object);
        if fields.is_some() || schema.required_extensions.contains(&extension.id) {
            check(fields, &extension.attributes, &extension.id)?;
        }
    }
    Ok(())
}

/// RFC 7643 §7: an `immutable` attribute, once it has a value, keeps it.
pub fn check_immutable(old: &Value, new: &Value, schema: &ResourceSchema) -> Result<(), Error> {
    let check =
        |old: Option<&Value>, new: Option<&Value>, attributes: &[Attribute], prefix: &str| {
            for attribute in attributes
                .iter()
                .filter(|a| a.mutability == Mutability::Immutable)
            {
                let before = old.and_then(|o| o.get(&attribute.name));
                let after = new.and_then(|n| n.get(&attribute.name));
                if before.is_some_and(|b| !is_empty(b)) && before != after {
                    return Err(Error::Mutability {
                        attribute: qualified(prefix, &attribute.name),
                        mutability: "immutable",
                    });
                }
            }
            Ok(())
        };
    check(Some(old), Some(new), &schema.core.attributes, "")?;
    for extension in &schema.extensions {
        check(
            old.get(&extension.id),
            new.get(&extension.id),
            &extension.attributes,
            &extension.id,
        )?;
    }
    Ok(())
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// RFC 7643 §3: `schemas`, when sent, must name the resource's core schema.
///
/// A body without `schemas` is accepted: several IdPs leave it out of PUT bodies, and the
/// endpoint already says which resource type is meant.
fn check_schemas(fields: &Map<String, Value>, schema: &ResourceSchema) -> Result<(), Error> {
    let Some(schemas) = get_ci(fields, "schemas") else {
        return Ok(());
    };
    let Value::Array(uris) = schemas else {
        return Err(Error::invalid_value(
            "schemas",
            "must be an array of schema URIs",
        ));
    };
    let names_core = uris.iter().any(|uri| {
        uri.as_str().is_some_and(|uri| {
            uri.eq_ignore_ascii_case(&schema.core.id)
                || uri.eq_ignore_ascii_case(crate::schema::USER_SCHEMA_V1)
        })
    });
    if names_core {
        Ok(())
    } else {
        Err(Error::invalid_value(
            "schemas",
            format!("must include {:?}", schema.core.id),
        ))
    }
}

/// Looks a key up in a JSON object, case-insensitively (RFC 7643 §2.1).
pub fn get_ci<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).or_else(|| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    })
}

fn normalize_object(
    fields: &Map<String, Value>,
    schema: &Schema,
    prefix: &str,
) -> Result<Map<String, Value>, Error> {
    let mut out = Map::new();
    for attribute in &schema.attributes {
        if matches!(
            attribute.mutability,
            Mutability::ReadOnly | Mutability::WriteOnly
        ) {
            // RFC 7644 §3.3: read-only values sent by a client are ignored. Write-only values
            // (the password) are accepted and never kept.
            continue;
        }
        let Some(value) = get_ci(fields, &attribute.name) else {
            continue;
        };
        let name = qualified(prefix, &attribute.name);
        if let Some(value) = normalize_value(value, attribute, &name)? {
            out.insert(attribute.name.clone(), value);
        }
    }
    Ok(out)
}

/// Normalizes one attribute's value; `None` means the attribute is absent (null or empty).
pub fn normalize_value(
    value: &Value,
    attribute: &Attribute,
    name: &str,
) -> Result<Option<Value>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    if !attribute.multi_valued {
        let single_complex = attribute.kind == AttributeType::Complex
            && value.as_array().is_some_and(|items| items.len() == 1);
        if value.is_array() && !single_complex {
            return Err(Error::invalid_value(
                name,
                "must be a single value, not an array",
            ));
        }
        return normalize_single(value, attribute, name);
    }

    // A single value where an array belongs is taken as an array of one, as several IdPs send.
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let most = limits().max_values;
    if items.len() > most {
        return Err(Error::TooMany(format!(
            "{name} may hold {most} values; this one has {}",
            items.len()
        )));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        if let Some(item) = normalize_single(item, attribute, name)?
            && !out.contains(&item)
        {
            out.push(item);
        }
    }
    check_single_primary(&out, name)?;
    if out.is_empty() {
        Ok(None)
    } else {
        Ok(Some(Value::Array(out)))
    }
}

/// RFC 7643 §2.4: at most one value of a multi-valued attribute may be primary.
fn check_single_primary(values: &[Value], name: &str) -> Result<(), Error> {
    let primaries = values
        .iter()
        .filter(|v| v.get("primary") == Some(&Value::Bool(true)))
        .count();
    if primaries > 1 {
        return Err(Error::invalid_value(
            name,
            "only one value may have \"primary\": true",
        ));
    }
    Ok(())
}

fn normalize_single(
    value: &Value,
    attribute: &Attribute,
    name: &str,
) -> Result<Option<Value>, Error> {
    if value.is_null() {
        return Ok(None);
    }
    let normalized = match attribute.kind {
        AttributeType::Complex => {
            // A bare value where a complex one with a `value` belongs is that value, as IdPs
            // send a manager (`"manager": "id"`); a single-valued one sent as a list of one is
            // its element.
            let wrapped;
            let value = match value {
                Value::String(_) if attribute.sub_attribute("value").is_some() => {
                    wrapped = serde_json::json!({"value": value});
                    &wrapped
                }
                Value::Array(items) if !attribute.multi_valued && items.len() == 1 => &items[0],
                other => other,
            };
            let Value::Object(fields) = value else {
                return Err(Error::invalid_value(name, "must be a JSON object"));
            };
            let mut out = Map::new();
            for sub in &attribute.sub_attributes {
                if sub.mutability == Mutability::WriteOnly {
                    continue;
                }
                let Some(sub_value) = get_ci(fields, &sub.name) else {
                    continue;
                };
                let sub_name = format!("{name}.{}", sub.name);
                if let Some(sub_value) = normalize_value(sub_value, sub, &sub_name)? {
                    out.insert(sub.name.clone(), sub_value);
                }
            }
            if out.is_empty() {
                return Ok(None);
            }
            Value::Object(out)
        }
        AttributeType::Boolean => Value::Bool(parse_boolean(value).ok_or_else(|| {
            Error::invalid_value(name, format!("must be true or false, not {value}"))
        })?),
        AttributeType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => value.clone(),
            _ => return Err(Error::invalid_value(name, "must be an integer")),
        },
        AttributeType::Decimal => match value {
            Value::Number(_) => value.clone(),
            _ => return Err(Error::invalid_value(name, "must be a number")),
        },
        AttributeType::DateTime => {
            let text = expect_string(value, name)?;
            if chrono::DateTime::parse_from_rfc3339(text).is_err() {
                return Err(Error::invalid_value(
                    name,
                    "must be a date and time like 2024-05-01T12:00:00Z",
                ));
            }
            value.clone()
        }
        AttributeType::String | AttributeType::Reference | AttributeType::Binary => {
            let text = expect_string(value, name)?;
            Value::String(canonical_value(text, attribute, name)?)
        }
    };
    Ok(Some(normalized))
}

/// Reads a boolean, also in the string form Microsoft Entra ID sends (`"True"`, `"False"`).
pub fn parse_boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn expect_string<'a>(value: &'a Value, name: &str) -> Result<&'a str, Error> {
    value
        .as_str()
        .ok_or_else(|| Error::invalid_value(name, format!("must be a string, not {value}")))
}

/// Maps a value onto the canonical spelling when the attribute's values are closed.
fn canonical_value(text: &str, attribute: &Attribute, name: &str) -> Result<String, Error> {
    if !attribute.closed_values {
        return Ok(text.to_owned());
    }
    attribute
        .canonical_values
        .iter()
        .find(|v| v.eq_ignore_ascii_case(text))
        .cloned()
        .ok_or_else(|| {
            Error::invalid_value(
                name,
                format!(
                    "{text:?} is not one of the allowed values: {}",
                    attribute.canonical_values.join(", ")
                ),
            )
        })
}

fn qualified(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}:{name}")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::user_resource;

    #[test]
    fn canonicalizes_names_orders_by_schema_and_drops_read_only() {
        let input = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "ACTIVE": "False",
            "id": "client-chosen",
            "meta": {"version": "W/\"x\""},
            "password": "hunter2",
            "username": "a@example.com",
            "unknownThing": 1,
            "emails": {"value": "a@example.com", "Primary": "true"},
        });
        let out = normalize(&input, user_resource()).unwrap();
        assert_eq!(
            out,
            json!({
                "userName": "a@example.com",
                "active": false,
                "emails": [{"value": "a@example.com", "primary": true}],
            })
        );
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["userName", "active", "emails"]);
    }

    #[test]
    fn required_and_immutable_attributes_are_enforced_from_the_schema() {
        let mut schema = user_resource().clone();
        let title = schema
            .core
            .attributes
            .iter_mut()
            .find(|a| a.name == "title")
            .unwrap();
        title.mutability = Mutability::Immutable;
        title.required = true;

        let seeded = json!({"userName": "a", "displayName": "d", "email": "e", "role": "Member"});
        let err = check_required(&seeded, &schema).unwrap_err();
        assert_eq!(err, Error::invalid_value("title", "is required"));
        let mut complete = seeded.clone();
        complete["title"] = json!("t");
        assert!(check_required(&complete, &schema).is_ok());

        let old = json!({"title": "first"});
        assert!(check_immutable(&old, &json!({"title": "first"}), &schema).is_ok());
        assert!(check_immutable(&json!({}), &json!({"title": "set once"}), &schema).is_ok());
        assert_eq!(
            check_immutable(&old, &json!({"title": "second"}), &schema).unwrap_err(),
            Error::Mutability {
                attribute: "title".to_owned(),
                mutability: "immutable"
            }
        );
    }

    #[test]
    fn names_the_attribute_of_a_wrongly_typed_value() {
        let err = normalize(&json!({"name": {"givenName": 5}}), user_resource()).unwrap_err();
        assert_eq!(
            err,
            Error::invalid_value("name.givenName", "must be a string, not 5")
        );
        let err = normalize(&json!({"active": "yes"}), user_resource()).unwrap_err();
        assert_eq!(
            err,
            Error::invalid_value("active", "must be true or false, not \"yes\"")
        );
    }

    #[test]
    fn refuses_two_primary_values_and_foreign_schemas() {
        let input = json!({"emails": [
            {"value": "a@x.com", "primary": true},
            {"value": "b@x.com", "primary": true}
        ]});
        let err = normalize(&input, user_resource()).unwrap_err();
        assert_eq!(
            err,
            Error::invalid_value("emails", "only one value may have \"primary\": true")
        );
        let input = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"]});
        let err = normalize(&input, user_resource()).unwrap_err();
        assert_eq!(
            err,
            Error::invalid_value(
                "schemas",
                "must include \"urn:ietf:params:scim:schemas:core:2.0:User\""
            )
        );
    }
}
