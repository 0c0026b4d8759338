//! The PATCH engine (RFC 7644 §3.5.2).
//!
//! [`parse_patch_request`] reads a `PatchOp` message; [`apply`] applies its operations, in
//! order, to a resource in stored form. Types are not checked here: the caller validates the
//! result as a whole afterwards, so a request is either applied entirely or not at all.
//!
//! Beyond the RFC, operation names are case-insensitive (`Replace`, as Microsoft Entra ID sends
//! them), keys of a path-less value may be paths (`name.givenName` or URN-qualified), and an
//! add or replace through a value path that matches nothing creates the element when the filter
//! is a plain `eq` test (`emails[type eq "work"].value` on a user without emails).

use serde_json::{Map, Value};

use crate::error::Error;
use crate::filter::{self, CompValue, CompareOp, Filter};
use crate::limits::limits;
use crate::path::{PatchPath, parse_patch_path};
use crate::resource::{get_ci, parse_boolean};
use crate::schema::{Attribute, AttributeType, Mutability, PATCH_OP, ResourceSchema};

/// The three PATCH operations of RFC 7644 §3.5.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

/// One entry of `Operations`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

/// Reads a `PatchOp` message (RFC 7644 §3.5.2) into its operations.
pub fn parse_patch_request(body: &Value) -> Result<Vec<PatchOperation>, Error> {
    let Value::Object(fields) = body else {
        return Err(Error::InvalidSyntax(
            "the request body must be a JSON object".to_owned(),
        ));
    };
    if let Some(schemas) = get_ci(fields, "schemas") {
        let names_patch_op = schemas
            .as_array()
            .is_some_and(|uris| uris.iter().any(|uri| uri.as_str() == Some(PATCH_OP)));
        if !names_patch_op {
            return Err(Error::InvalidSyntax(format!(
                "schemas must be [\"{PATCH_OP}\"]"
            )));
        }
    }
    let Some(Value::Array(operations)) = get_ci(fields, "Operations") else {
        return Err(Error::InvalidSyntax(
            "a PatchOp message needs an \"Operations\" array".to_owned(),
        ));
    };
    let most = limits().max_patch_operations;
    if operations.len() > most {
        return Err(Error::TooMany(format!(
            "a PATCH may carry {most} operations; this one has {}",
            operations.len()
        )));
    }
    operations
        .iter()
        .enumerate()
        .map(|(index, operation)| parse_operation(index, operation))
        .collect()
}

fn parse_operation(index: usize, operation: &Value) -> Result<PatchOperation, Error> {
    let Value::Object(fields) = operation else {
        return Err(Error::InvalidSyntax(format!(
            "Operations[{index}] must be a JSON object"
        )));
    };
    let op = match get_ci(fields, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => PatchOpKind::Add,
        Some(op) if op.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
        Some(op) if op.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
        Some(op) => {
            return Err(Error::InvalidSyntax(format!(
                "Operations[{index}].op is {op:?}; it must be add, remove or replace"
            )));
        }
        None => {
            return Err(Error::InvalidSyntax(format!(
                "Operations[{index}] needs an \"op\" of add, remove or replace"
            )));
        }
    };
    let path = match get_ci(fields, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) if path.trim().is_empty() => None,
        Some(Value::String(path)) => Some(parse_patch_path(path)?),
        Some(_) => {
            return Err(Error::invalid_path(
                "",
                format!("Operations[{index}].path must be a string"),
            ));
        }
    };
    let value = get_ci(fields, "value").cloned();
    if op != PatchOpKind::Remove && value.is_none() {
        return Err(Error::InvalidSyntax(format!(
            "Operations[{index}] ({}) needs a \"value\"",
            op_name(op)
        )));
    }
    if op == PatchOpKind::Remove && path.is_none() {
        return Err(Error::NoTarget(format!(
            "Operations[{index}] (remove) needs a \"path\""
        )));
    }
    Ok(PatchOperation { op, path, value })
}

fn op_name(op: PatchOpKind) -> &'static str {
    match op {
        PatchOpKind::Add => "add",
        PatchOpKind::Remove => "remove",
        PatchOpKind::Replace => "replace",
    }
}

/// Applies `operations` in order to `resource` (stored form), or fails without a partial result
/// being visible to the caller (the caller keeps its original until this returns `Ok`).
pub fn apply(
    resource: &Value,
    operations: &[PatchOperation],
    schema: &ResourceSchema,
) -> Result<Value, Error> {
    let mut doc = match resource {
        Value::Object(fields) => fields.clone(),
        _ => Map::new(),
    };
    for operation in operations {
        match &operation.path {
            Some(path) => apply_at(
                &mut doc,
                operation.op,
                path,
                operation.value.as_ref(),
                schema,
            )?,
            None => apply_pathless(&mut doc, operation, schema)?,
        }
    }
    Ok(Value::Object(doc))
}

/// An add or replace without a path: each key of the value is a target of its own.
fn apply_pathless(
    doc: &mut Map<String, Value>,
    operation: &PatchOperation,
    schema: &ResourceSchema,
) -> Result<(), Error> {
    let Some(Value::Object(fields)) = &operation.value else {
        return Err(Error::invalid_value(
            "value",
            "an operation without a path needs an object value",
        ));
    };
    for (key, value) in fields {
        if let Some(extension) = schema.extension(key) {
            let Value::Object(ext_fields) = value else {
                return Err(Error::invalid_value(key.as_str(), "must be a JSON object"));
            };
            for (name, ext_value) in ext_fields.iter().filter(|(name, _)| !is_envelope_key(name)) {
                let path = parse_patch_path(&format!("{}:{name}", extension.id))?;
                apply_at(doc, operation.op, &path, Some(ext_value), schema)?;
            }
            continue;
        }
        let path = parse_patch_path(key)?;
        match resolve(&path, schema) {
            // Read-only keys in a path-less value (Okta sends `id` on a rename) are ignored, as
            // RFC 7644 §3.5.2 lets a service provider do for values it does not accept.
            Ok(target) if target.attribute.mutability == Mutability::ReadOnly => continue,
            Ok(_) => {}
            Err(_) if is_envelope_key(key) => continue,
            Err(err) => return Err(err),
        }
        apply_at(doc, operation.op, &path, Some(value), schema)?;
    }
    Ok(())
}

/// Keys of a resource that are not attributes a client writes.
fn is_envelope_key(key: &str) -> bool {
    ["schemas", "meta"]
        .iter()
        .any(|envelope| key.eq_ignore_ascii_case(envelope))
}

struct Target<'a> {
    extension: Option<&'a str>,
    attribute: &'a Attribute,
}

fn resolve<'a>(path: &PatchPath, schema: &'a ResourceSchema) -> Result<Target<'a>, Error> {
    let resolved = schema
        .resolve(path.attr.uri.as_deref(), &path.attr.name)
        .ok_or_else(|| {
            Error::invalid_path(
                path.to_string(),
                format!(
                    "the {} resource has no attribute {:?}",
                    schema.name, path.attr.name
                ),
            )
        })?;
    Ok(Target {
        extension: resolved.extension,
        attribute: resolved.attribute,
    })
}

fn apply_at(
    doc: &mut Map<String, Value>,
    op: PatchOpKind,
    path: &PatchPath,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), Error> {
    // A path that is exactly an extension's URN targets the whole extension object.
    if let Some(uri) = &path.attr.uri {
        let whole = format!("{uri}:{}", path.attr.name);
        if path.attr.sub_attr.is_none()
            && path.filter.is_none()
            && let Some(extension) = schema.extension(&whole)
        {
            return apply_to_extension(doc, op, &extension.id, value, schema);
        }
    }

    let target = resolve(path, schema)?;
    let attribute = target.attribute;
    if attribute.mutability == Mutability::ReadOnly {
        return Err(Error::Mutability {
            attribute: path.to_string(),
            mutability: "readOnly",
        });
    }
    let container = match target.extension {
        None => &mut *doc,
        Some(urn) => {
            let slot = doc
                .entry(urn.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            match slot {
                Value::Object(fields) => fields,
                _ => return Ok(()),
            }
        }
    };

    let sub = sub_attribute(path, attribute)?;
    let value = value.map(|v| canonical_keys(v, attribute));
    match &path.filter {
        None => apply_plain(container, op, attribute, sub, value, path),
        Some(filter) => apply_filtered(container, op, attribute, filter, sub, value, path),
    }?;

    if let Some(urn) = target.extension
        && doc
            .get(urn)
            .and_then(Value::as_object)
            .is_some_and(Map::is_empty)
    {
        doc.remove(urn);
    }
    Ok(())
}

fn apply_to_extension(
    doc: &mut Map<String, Value>,
    op: PatchOpKind,
    urn: &str,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), Error> {
    match (op, value) {
        (PatchOpKind::Remove, _) => {
            doc.remove(urn);
            Ok(())
        }
        (_, Some(Value::Object(fields))) => {
            // A whole extension object may carry its own `schemas`, as clients build it.
            for (name, ext_value) in fields.iter().filter(|(name, _)| !is_envelope_key(name)) {
                let path = parse_patch_path(&format!("{urn}:{name}"))?;
                apply_at(doc, op, &path, Some(ext_value), schema)?;
            }
            Ok(())
        }
        _ => Err(Error::invalid_value(urn, "must be a JSON object")),
    }
}

/// The sub-attribute a path ends in, checked against the schema.
fn sub_attribute<'a>(path: &PatchPath, attribute: &'a Attribute) -> Result<Option<&'a str>, Error> {
    let Some(sub) = path.attr.sub_attr.as_deref().or(path.sub_attr.as_deref()) else {
        return Ok(None);
    };
    let found = attribute.sub_attribute(sub).ok_or_else(|| {
        Error::invalid_path(
            path.to_string(),
            format!("{} has no sub-attribute {sub:?}", attribute.name),
        )
    })?;
    if found.mutability == Mutability::ReadOnly {
        return Err(Error::Mutability {
            attribute: path.to_string(),
            mutability: "readOnly",
        });
    }
    Ok(Some(found.name.as_str()))
}

/// Targets without a value filter: `name`, `name.givenName`, `emails`, `emails.type`.
fn apply_plain(
    container: &mut Map<String, Value>,
    op: PatchOpKind,
    attribute: &Attribute,
    sub: Option<&str>,
    value: Option<Value>,
    path: &PatchPath,
) -> Result<(), Error> {
    let name = attribute.name.as_str();
    match (op, sub, value) {
        (PatchOpKind::Remove, None, Some(value)) if attribute.multi_valued => {
            // Remove with a value list removes only the listed values (Entra's member removal).
            let listed = as_items(value);
            let mut items = take_items(container, name);
            items.retain(|item| !listed.iter().any(|gone| same_value(item, gone)));
            put_items(container, name, items);
        }
        (PatchOpKind::Remove, None, _) => {
            container.remove(name);
        }
        (PatchOpKind::Remove, Some(sub), _) if attribute.multi_valued => {
            let mut items = take_items(container, name);
            for item in &mut items {
                if let Value::Object(fields) = item {
                    fields.remove(sub);
                }
            }
            items.retain(|item| item.as_object().is_none_or(|fields| !fields.is_empty()));
            put_items(container, name, items);
        }
        (PatchOpKind::Remove, Some(sub), _) => {
            if let Some(Value::Object(fields)) = container.get_mut(name) {
                fields.remove(sub);
                if fields.is_empty() {
                    container.remove(name);
                }
            }
        }
        (_, Some(sub), Some(value)) => set_sub_everywhere(container, attribute, sub, value),
        (PatchOpKind::Add, None, Some(value)) if attribute.multi_valued => {
            let mut items = take_items(container, name);
            add_items(&mut items, as_items(value));
            put_items(container, name, items);
        }
        (PatchOpKind::Replace, None, Some(value)) if attribute.multi_valued => {
            let mut items = as_items(value);
            let primary = items.iter().rposition(is_primary);
            keep_one_primary(&mut items, primary);
            put_items(container, name, items);
        }
        (_, None, Some(Value::Object(fields))) if attribute.kind == AttributeType::Complex => {
            // RFC 7644 §3.5.2.1 and §3.5.2.3: sub-attributes not in the value stay as they are.
            let slot = container
                .entry(name.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            match slot {
                Value::Object(existing) => existing.extend(fields),
                other => *other = Value::Object(fields),
            }
        }
        (_, None, Some(value)) => {
            container.insert(name.to_owned(), value);
        }
        (_, _, None) => {
            return Err(Error::InvalidSyntax(format!(
                "the operation on {path} needs a \"value\""
            )));
        }
    }
    Ok(())
}

/// Targets with a value filter: `emails[type eq "work"]`, `emails[type eq "work"].value`.
fn apply_filtered(
    container: &mut Map<String, Value>,
    op: PatchOpKind,
    attribute: &Attribute,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Value>,
    path: &PatchPath,
) -> Result<(), Error> {
    if attribute.kind != AttributeType::Complex {
        return Err(Error::invalid_path(
            path.to_string(),
            format!(
                "{} is not complex, so it takes no value filter",
                attribute.name
            ),
        ));
    }
    let name = attribute.name.as_str();
    let mut items = take_items(container, name);
    let matching: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| filter::matches_element(filter, item, attribute))
        .map(|(index, _)| index)
        .collect();
    let result = update_matching(&mut items, &matching, op, filter, sub, value, path);
    if attribute.multi_valued {
        put_items(container, name, items);
    } else if let Some(single) = items.pop() {
        // A single-valued complex attribute (`manager[value eq "id"]`) stays single.
        container.insert(name.to_owned(), single);
    }
    result
}

fn update_matching(
    items: &mut Vec<Value>,
    matching: &[usize],
    op: PatchOpKind,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Value>,
    path: &PatchPath,
) -> Result<(), Error> {
    if op == PatchOpKind::Remove {
        // Removing what is already gone is not an error: IdPs retry removals.
        remove_indexes(items, matching, sub);
        return Ok(());
    }
    let Some(value) = value else {
        return Err(Error::InvalidSyntax(format!(
            "the operation on {path} needs a \"value\""
        )));
    };

    if matching.is_empty() {
        let created = created_element(filter, sub, &value).ok_or_else(|| {
            Error::NoTarget(format!(
                "no value of {} matches the filter of {path}",
                path.attr.name
            ))
        })?;
        add_items(items, vec![created]);
        return Ok(());
    }
    for &index in matching {
        let Some(item) = items.get_mut(index) else {
            continue;
        };
        match (sub, &value, op) {
            (Some(sub), _, _) => set_field(item, sub, value.clone()),
            (None, Value::Object(fields), PatchOpKind::Add) => {
                if let Value::Object(existing) = item {
                    existing.extend(fields.clone());
                }
            }
            (None, Value::Object(_), _) => *item = value.clone(),
            (None, _, _) => {
                return Err(Error::invalid_value(
                    path.to_string(),
                    "a value filter without a sub-attribute needs an object value",
                ));
            }
        }
    }
    let primary = matching
        .iter()
        .rev()
        .find(|&&index| items.get(index).is_some_and(is_primary))
        .copied();
    keep_one_primary(items, primary);
    Ok(())
}

/// The element an `eq`-only filter describes, with the new sub-attribute value set.
fn created_element(filter: &Filter, sub: Option<&str>, value: &Value) -> Option<Value> {
    let sub = sub?;
    let mut fields = Map::new();
    collect_equalities(filter, &mut fields)?;
    fields.insert(sub.to_owned(), value.clone());
    Some(Value::Object(fields))
}

fn collect_equalities(filter: &Filter, fields: &mut Map<String, Value>) -> Option<()> {
    match filter {
        Filter::And(left, right) => {
            collect_equalities(left, fields)?;
            collect_equalities(right, fields)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.sub_attr.is_none() => {
            let value = match value {
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::String(s) => Value::String(s.clone()),
                CompValue::Null => return None,
            };
            fields.insert(path.name.clone(), value);
            Some(())
        }
        _ => None,
    }
}

/// Takes a multi-valued attribute out of its container as a list (a lone value becomes a list
/// of one); [`put_items`] puts it back.
fn take_items(container: &mut Map<String, Value>, name: &str) -> Vec<Value> {
    match container.remove(name) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(single) => vec![single],
    }
}

/// Puts a list back; an empty list leaves the attribute unassigned (RFC 7644 §3.5.2.2).
fn put_items(container: &mut Map<String, Value>, name: &str, items: Vec<Value>) {
    if !items.is_empty() {
        container.insert(name.to_owned(), Value::Array(items));
    }
}

fn as_items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.into_iter().filter(|v| !v.is_null()).collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    }
}

/// RFC 7644 §3.5.2.1: adding a value that is already there changes nothing; a value with the
/// same `value` and `type` as an existing one is merged into it.
fn add_items(items: &mut Vec<Value>, added: Vec<Value>) {
    let mut primary = None;
    for item in added {
        let index = match items.iter().position(|old| same_value(old, &item)) {
            Some(index) => {
                match (&mut items[index], item) {
                    (Value::Object(old), Value::Object(new)) => old.extend(new),
                    (old, new) => *old = new,
                }
                index
            }
            None => {
                items.push(item);
                items.len() - 1
            }
        };
        if items.get(index).is_some_and(is_primary) {
            primary = Some(index);
        }
    }
    keep_one_primary(items, primary);
}

/// Two values are the same when their `value` (and `type`, when either has one) are equal.
fn same_value(old: &Value, new: &Value) -> bool {
    match (old.get("value"), new.get("value")) {
        (Some(a), Some(b)) => {
            a == b && (new.get("type").is_none() || old.get("type") == new.get("type"))
        }
        _ => old == new,
    }
}

fn remove_indexes(items: &mut Vec<Value>, indexes: &[usize], sub: Option<&str>) {
    // Removing a sub-attribute leaves the element, unless it was the element's `value` (the
    // other sub-attributes only describe it) or nothing is left.
    let mut gone = Vec::new();
    for &index in indexes {
        match (sub, items.get_mut(index)) {
            (Some(sub), Some(Value::Object(fields))) => {
                fields.remove(sub);
                if sub == "value" || fields.is_empty() {
                    gone.push(index);
                }
            }
            (None, Some(_)) => gone.push(index),
            _ => {}
        }
    }
    let mut index = 0;
    items.retain(|_| {
        let keep = !gone.contains(&index);
        index += 1;
        keep
    });
}

fn set_sub_everywhere(
    container: &mut Map<String, Value>,
    attribute: &Attribute,
    sub: &str,
    value: Value,
) {
    let name = attribute.name.as_str();
    if !attribute.multi_valued {
        let slot = container
            .entry(name.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        set_field(slot, sub, value);
        return;
    }
    let mut items = take_items(container, name);
    if items.is_empty() {
        items.push(Value::Object(Map::new()));
    }
    for item in &mut items {
        set_field(item, sub, value.clone());
    }
    put_items(container, name, items);
}

fn set_field(item: &mut Value, sub: &str, value: Value) {
    if !item.is_object() {
        *item = Value::Object(Map::new());
    }
    if let Value::Object(fields) = item {
        fields.insert(sub.to_owned(), value);
    }
}

fn is_primary(item: &Value) -> bool {
    item.get("primary").and_then(parse_boolean) == Some(true)
}

/// RFC 7643 §2.4: when a value becomes primary, the others stop being primary.
fn keep_one_primary(items: &mut [Value], primary: Option<usize>) {
    let Some(primary) = primary else {
        return;
    };
    for (index, item) in items.iter_mut().enumerate() {
        if index != primary && is_primary(item) {
            set_field(item, "primary", Value::Bool(false));
        }
    }
}

/// Renames keys of a complex value to the schema's spelling, so that a later merge finds them.
fn canonical_keys(value: &Value, attribute: &Attribute) -> Value {
    match value {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| canonical_keys(item, attribute))
                .collect(),
        ),
        Value::Object(fields) if attribute.kind == AttributeType::Complex => Value::Object(
            fields
                .iter()
                .map(|(key, v)| {
                    let key = attribute
                        .sub_attribute(key)
                        .map_or_else(|| key.clone(), |sub| sub.name.clone());
                    (key, v.clone())
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::user_resource;

    fn patched(resource: Value, operations: Value) -> Result<Value, Error> {
        let request = json!({"schemas": [PATCH_OP], "Operations": operations});
        let operations = parse_patch_request(&request)?;
        apply(&resource, &operations, user_resource())
    }

    #[test]
    fn pathless_replace_sets_each_key_and_ignores_read_only_ones() {
        let out = patched(
            json!({"userName": "a@x.com", "active": true}),
            json!([{"op": "Replace", "value": {"active": false, "id": "other", "name.givenName": "A"}}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"userName": "a@x.com", "active": false, "name": {"givenName": "A"}})
        );
    }

    #[test]
    fn replace_on_a_complex_attribute_keeps_unnamed_sub_attributes() {
        let out = patched(
            json!({"name": {"givenName": "A", "familyName": "B"}}),
            json!([{"op": "replace", "path": "name", "value": {"FAMILYNAME": "C"}}]),
        )
        .unwrap();
        assert_eq!(out, json!({"name": {"givenName": "A", "familyName": "C"}}));
    }

    #[test]
    fn value_path_replace_creates_the_element_when_none_matches() {
        let out = patched(
            json!({"userName": "a@x.com"}),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "w@x.com"}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"userName": "a@x.com", "emails": [{"type": "work", "value": "w@x.com"}]})
        );
    }

    #[test]
    fn value_path_targets_only_the_matching_elements() {
        let resource = json!({"emails": [
            {"type": "work", "value": "w@x.com", "primary": true},
            {"type": "home", "value": "h@x.com"}
        ]});
        let out = patched(
            resource.clone(),
            json!([{"op": "add", "path": "emails[type eq \"home\"].primary", "value": true}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"emails": [
                {"type": "work", "value": "w@x.com", "primary": false},
                {"type": "home", "value": "h@x.com", "primary": true}
            ]})
        );
        let out = patched(
            resource,
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"emails": [{"type": "home", "value": "h@x.com"}]})
        );
    }

    #[test]
    fn add_to_a_multi_valued_attribute_appends_and_merges_duplicates() {
        let out = patched(
            json!({"emails": [{"type": "work", "value": "w@x.com"}]}),
            json!([{"op": "add", "path": "emails", "value": [
                {"type": "work", "value": "w@x.com", "primary": true},
                {"type": "home", "value": "h@x.com"}
            ]}]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({"emails": [
                {"type": "work", "value": "w@x.com", "primary": true},
                {"type": "home", "value": "h@x.com"}
            ]})
        );
    }

    #[test]
    fn remove_with_a_value_list_removes_only_those_values() {
        let out = patched(
            json!({"emails": [{"value": "a@x.com"}, {"value": "b@x.com"}]}),
            json!([{"op": "Remove", "path": "emails", "value": [{"value": "a@x.com"}]}]),
        )
        .unwrap();
        assert_eq!(out, json!({"emails": [{"value": "b@x.com"}]}));
    }

    #[test]
    fn errors_name_the_path_and_use_the_rfc_keywords() {
        let err = patched(
            json!({}),
            json!([{"op": "replace", "path": "nickname2", "value": 1}]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            Error::invalid_path(
                "nickname2",
                "the User resource has no attribute \"nickname2\""
            )
        );
        let err = patched(
            json!({}),
            json!([{"op": "replace", "path": "id", "value": "x"}]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type(), crate::ScimType::Mutability);
        let err = patched(json!({}), json!([{"op": "remove"}])).unwrap_err();
        assert_eq!(
            err,
            Error::NoTarget("Operations[0] (remove) needs a \"path\"".to_owned())
        );
        let err = patched(
            json!({"emails": [{"type": "home", "value": "h@x.com"}]}),
            json!([{"op": "replace", "path": "emails[type eq \"work\" or primary eq true]", "value": {"value": "w@x.com"}}]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type(), crate::ScimType::NoTarget);
        let err = patched(json!({}), json!([{"op": "move", "path": "x"}])).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidSyntax(
                "Operations[0].op is \"move\"; it must be add, remove or replace".to_owned()
            )
        );
    }

    #[test]
    fn an_empty_operations_list_changes_nothing() {
        let resource = json!({"userName": "a@x.com"});
        assert_eq!(patched(resource.clone(), json!([])).unwrap(), resource);
    }
}
