//! The attributes of a workspace's own User extension.

use postgres::Transaction;
use rollcall_scim::schema::{AttributeType, CustomAttribute};

use super::unique_violation;
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::WorkspaceId;
use crate::postgres::statements::Cached;

pub fn add(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    attribute: &CustomAttribute,
) -> Result<(), StoreError> {
    let inserted = tx.execute_c(
        "INSERT INTO custom_attributes
             (workspace_id, name, name_key, kind, multi_valued, required, canonical)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &workspace.as_str(),
            &attribute.name,
            &fold_case(&attribute.name),
            &attribute.kind.name(),
            &attribute.multi_valued,
            &attribute.required,
            &serde_json::to_string(&attribute.canonical_values)?,
        ],
    );
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if unique_violation(&err).is_some() => {
            Err(StoreError::Uniqueness { attribute: "name" })
        }
        Err(err) => Err(err.into()),
    }
}

pub fn list(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
) -> Result<Vec<CustomAttribute>, StoreError> {
    let rows = tx.query_c(
        "SELECT name, kind, multi_valued, required, canonical FROM custom_attributes
         WHERE workspace_id = $1 ORDER BY seq",
        &[&workspace.as_str()],
    )?;
    let mut attributes = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get(1)?;
        let kind = AttributeType::from_name(&kind)
            .ok_or_else(|| StoreError::Internal(format!("stored attribute type {kind:?}")))?;
        let canonical: String = row.try_get(4)?;
        attributes.push(CustomAttribute {
            name: row.try_get(0)?,
            kind,
            multi_valued: row.try_get(2)?,
            required: row.try_get(3)?,
            canonical_values: serde_json::from_str(&canonical)?,
        });
    }
    Ok(attributes)
}

pub fn remove(
    tx: &mut Transaction<'_>,
    workspace: &WorkspaceId,
    name: &str,
) -> Result<(), StoreError> {
    let removed = tx.execute_c(
        "DELETE FROM custom_attributes WHERE workspace_id = $1 AND name_key = $2",
        &[&workspace.as_str(), &fold_case(name)],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
