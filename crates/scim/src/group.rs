//! The Group resource (RFC 7643 §4.2) and the membership changes a request makes.
//!
//! A group's members are not part of its stored document: the store keeps them as rows, so that
//! adding one member to a group of 100,000 costs what it costs for a group of ten. This module
//! therefore splits every write into the document change (validated like any resource) and a
//! list of [`MemberChange`]s, in the order the request makes them.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::error::Error;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::limits::limits;
use crate::patch::{PatchOpKind, PatchOperation};
use crate::path::PatchPath;
use crate::resource::{self, get_ci};
use crate::schema::group_resource;

/// A validated group document and the values the store indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedGroup {
    /// The stored form, without `members`.
    pub body: Value,
    pub display_name: String,
    pub external_id: Option<String>,
}

/// One change to a group's membership.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// Add these user ids; ids already in the group stay once.
    Add(Vec<String>),
    /// Remove these user ids; ids not in the group are ignored.
    Remove(Vec<String>),
    /// Remove the members a value filter selects (`members[display eq "x"]`), for filters that
    /// are not a plain list of ids.
    RemoveMatching(Filter),
    /// Replace the whole membership with these user ids.
    Replace(Vec<String>),
}

/// Validates a Group body (POST or PUT). Returns the document and, when the body has a
/// `members` attribute, the full member list it sets.
pub fn prepare_group(input: &Value) -> Result<(PreparedGroup, Option<Vec<String>>), Error> {
    let Value::Object(fields) = input else {
        return Err(Error::InvalidSyntax(
            "the request body must be a JSON object".to_owned(),
        ));
    };
    let members = match get_ci(fields, "members") {
        None => None,
        Some(value) => Some(member_ids(value)?),
    };
    let mut without_members = fields.clone();
    without_members.retain(|key, _| !key.eq_ignore_ascii_case("members"));
    let group = validate(&Value::Object(without_members))?;
    Ok((group, members))
}

/// Validates a group document in stored form (after a PATCH of its non-member attributes).
pub fn validate(body: &Value) -> Result<PreparedGroup, Error> {
    let body = resource::normalize(body, group_resource())?;
    let display_name = body
        .get("displayName")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if display_name.is_empty() {
        return Err(Error::invalid_value("displayName", "is required"));
    }
    resource::check_required(&body, group_resource())?;
    let external_id = body
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(PreparedGroup {
        body,
        display_name,
        external_id,
    })
}

/// Splits PATCH operations into those on the group document and the membership changes,
/// keeping the order of each.
pub fn split_patch(
    operations: Vec<PatchOperation>,
) -> Result<(Vec<PatchOperation>, Vec<MemberChange>), Error> {
    let mut document = Vec::new();
    let mut members = Vec::new();
    for operation in operations {
        match &operation.path {
            Some(path) if names_members(path) => members.push(member_change(&operation, path)?),
            Some(_) => document.push(operation),
            None => {
                // A path-less value may carry `members` beside other attributes (Okta's rename
                // sends `id` and `displayName`; some IdPs send `members` too).
                let (rest, change) = take_members(&operation)?;
                if let Some(change) = change {
                    members.push(change);
                }
                if let Some(rest) = rest {
                    document.push(rest);
                }
            }
        }
    }
    Ok((document, members))
}

fn names_members(path: &PatchPath) -> bool {
    path.attr.name.eq_ignore_ascii_case("members")
}

fn member_change(operation: &PatchOperation, path: &PatchPath) -> Result<MemberChange, Error> {
    if path.attr.sub_attr.is_some() || path.sub_attr.is_some() {
        return Err(Error::Mutability {
            attribute: path.to_string(),
            mutability: "immutable",
        });
    }
    let values = || {
        operation
            .value
            .as_ref()
            .map(member_ids)
            .transpose()
            .map(Option::unwrap_or_default)
    };
    match (operation.op, &path.filter) {
        (PatchOpKind::Add, None) => Ok(MemberChange::Add(values()?)),
        (PatchOpKind::Replace, None) => Ok(MemberChange::Replace(values()?)),
        // Remove with a value list removes only the listed members (Microsoft Entra ID).
        (PatchOpKind::Remove, None) if operation.value.is_some() => {
            Ok(MemberChange::Remove(values()?))
        }
        (PatchOpKind::Remove, None) => Ok(MemberChange::Replace(Vec::new())),
        (PatchOpKind::Remove, Some(filter)) => Ok(match ids_in(filter) {
            Some(ids) => MemberChange::Remove(ids),
            None => MemberChange::RemoveMatching(filter.clone()),
        }),
        (_, Some(_)) => Err(Error::invalid_path(
            path.to_string(),
            "members are added or replaced as a list, not through a value filter",
        )),
    }
}

/// `members[value eq "a" or value eq "b"]` names ids directly; anything else needs the rows.
fn ids_in(filter: &Filter) -> Option<Vec<String>> {
    match filter {
        Filter::Or(left, right) => {
            let mut ids = ids_in(left)?;
            ids.extend(ids_in(right)?);
            Some(ids)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.name.eq_ignore_ascii_case("value") && path.sub_attr.is_none() => {
            Some(vec![id.clone()])
        }
        _ => None,
    }
}

fn take_members(
    operation: &PatchOperation,
) -> Result<(Option<PatchOperation>, Option<MemberChange>), Error> {
    let Some(Value::Object(fields)) = &operation.value else {
        return Ok((Some(operation.clone()), None));
    };
    let Some(members) = get_ci(fields, "members") else {
        return Ok((Some(operation.clone()), None));
    };
    let ids = member_ids(members)?;
    let change = match operation.op {
        PatchOpKind::Add => MemberChange::Add(ids),
        _ => MemberChange::Replace(ids),
    };
    let rest: Map<String, Value> = fields
        .iter()
        .filter(|(key, _)| !key.eq_ignore_ascii_case("members"))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let rest = (!rest.is_empty()).then(|| PatchOperation {
        value: Some(Value::Object(rest)),
        ..operation.clone()
    });
    Ok((rest, Some(change)))
}

/// Reads the ids of a `members` value: an array of `{"value": id}` objects (or one object).
pub fn member_ids(value: &Value) -> Result<Vec<String>, Error> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    let most = limits().max_members_per_operation;
    if items.len() > most {
        return Err(Error::TooMany(format!(
            "one operation may name {most} members; this one names {}",
            items.len()
        )));
    }
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    let mut seen = HashSet::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let id = match item {
            Value::Object(fields) => get_ci(fields, "value").and_then(Value::as_str),
            _ => None,
        };
        let Some(id) = id.map(str::trim).filter(|id| !id.is_empty()) else {
            return Err(Error::invalid_value(
                format!("members[{index}]"),
                "must be an object with the member's id in \"value\"",
            ));
        };
        if seen.insert(id) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::patch::parse_patch_request;

    fn split(operations: Value) -> (Vec<PatchOperation>, Vec<MemberChange>) {
        let request = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations
        });
        split_patch(parse_patch_request(&request).unwrap()).unwrap()
    }

    #[test]
    fn prepares_a_group_and_reads_its_members_apart() {
        let (group, members) = prepare_group(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "externalId": "eng",
            "members": [{"value": "u1", "display": "A"}, {"value": "u2"}, {"value": "u1"}]
        }))
        .unwrap();
        assert_eq!(
            group.body,
            json!({"externalId": "eng", "displayName": "Engineering"})
        );
        assert_eq!(members, Some(vec!["u1".to_owned(), "u2".to_owned()]));

        let err = prepare_group(&json!({"displayName": " "})).unwrap_err();
        assert_eq!(err, Error::invalid_value("displayName", "is required"));
        let err =
            prepare_group(&json!({"displayName": "x", "members": [{"display": "A"}]})).unwrap_err();
        assert_eq!(
            err,
            Error::invalid_value(
                "members[0]",
                "must be an object with the member's id in \"value\""
            )
        );
    }

    #[test]
    fn every_membership_shape_becomes_a_change() {
        let (document, members) = split(json!([
            {"op": "add", "path": "members", "value": [{"value": "a"}, {"value": "b"}]},
            {"op": "remove", "path": "members[value eq \"a\"]"},
            {"op": "Remove", "path": "members", "value": [{"value": "b"}]},
            {"op": "replace", "path": "members", "value": []},
            {"op": "remove", "path": "members[display eq \"Bo\"]"},
            {"op": "remove", "path": "members"},
            {"op": "replace", "value": {"id": "g1", "displayName": "New", "members": [{"value": "c"}]}}
        ]));
        assert_eq!(
            members,
            vec![
                MemberChange::Add(vec!["a".to_owned(), "b".to_owned()]),
                MemberChange::Remove(vec!["a".to_owned()]),
                MemberChange::Remove(vec!["b".to_owned()]),
                MemberChange::Replace(Vec::new()),
                MemberChange::RemoveMatching(
                    crate::filter::parse_filter("display eq \"Bo\"").unwrap()
                ),
                MemberChange::Replace(Vec::new()),
                MemberChange::Replace(vec!["c".to_owned()]),
            ]
        );
        assert_eq!(document.len(), 1);
        assert_eq!(
            document[0].value,
            Some(json!({"id": "g1", "displayName": "New"}))
        );
    }

    #[test]
    fn one_operation_names_at_most_the_member_limit() {
        let members: Vec<Value> = (0..=crate::limits::MAX_MEMBERS_PER_OPERATION)
            .map(|n| json!({"value": n.to_string()}))
            .collect();
        let err = member_ids(&Value::Array(members)).unwrap_err();
        assert_eq!(
            err,
            Error::TooMany(
                "one operation may name 100000 members; this one names 100001".to_owned()
            )
        );
    }

    #[test]
    fn member_sub_attributes_cannot_be_patched() {
        let request = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}]
        });
        let err = split_patch(parse_patch_request(&request).unwrap()).unwrap_err();
        assert_eq!(err.scim_type(), crate::ScimType::Mutability);
    }
}
