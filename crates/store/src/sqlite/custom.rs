//! The attributes of a workspace's own User extension.

use rollcall_scim::schema::{AttributeType, CustomAttribute};
use rusqlite::{Connection, ErrorCode, params};

use super::ExecuteCached;
use crate::error::StoreError;
use crate::fold_case;
use crate::ids::WorkspaceId;

pub fn add(
    conn: &Connection,
    workspace: &WorkspaceId,
    attribute: &CustomAttribute,
) -> Result<(), StoreError> {
    let inserted = conn.execute_cached(
        "INSERT INTO custom_attributes
             (workspace_id, name, name_key, kind, multi_valued, required, canonical)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            workspace.as_str(),
            attribute.name,
            fold_case(&attribute.name),
            attribute.kind.name(),
            attribute.multi_valued,
            attribute.required,
            serde_json::to_string(&attribute.canonical_values)?,
        ],
    );
    match inserted {
        Ok(_) => Ok(()),
        Err(err) if err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
            Err(StoreError::Uniqueness { attribute: "name" })
        }
        Err(err) => Err(err.into()),
    }
}

pub fn list(
    conn: &Connection,
    workspace: &WorkspaceId,
) -> Result<Vec<CustomAttribute>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT name, kind, multi_valued, required, canonical FROM custom_attributes
         WHERE workspace_id = ?1 ORDER BY seq",
    )?;
    let rows = statement.query_map([workspace.as_str()], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, bool>(2)?,
            row.get::<_, bool>(3)?,
            row.get::<_, String>(4)?,
        ))
    })?;
    let mut attributes = Vec::new();
    for row in rows {
        let (name, kind, multi_valued, required, canonical) = row?;
        let kind = AttributeType::from_name(&kind)
            .ok_or_else(|| StoreError::Internal(format!("stored attribute type {kind:?}")))?;
        attributes.push(CustomAttribute {
            name,
            kind,
            multi_valued,
            required,
            canonical_values: serde_json::from_str(&canonical)?,
        });
    }
    Ok(attributes)
}

pub fn remove(conn: &Connection, workspace: &WorkspaceId, name: &str) -> Result<(), StoreError> {
    let removed = conn.execute_cached(
        "DELETE FROM custom_attributes WHERE workspace_id = ?1 AND name_key = ?2",
        params![workspace.as_str(), fold_case(name)],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
