//! The operations on a workspace's groups: create, read, replace, patch, delete and list.
//!
//! Members travel apart from the group's document: a write becomes a document change plus
//! membership changes (see `rollcall_scim::group`), which the store applies as row changes in
//! one transaction. Members are loaded only when the response shows them.

use rollcall_scim::group::{MemberChange, prepare_group, split_patch, validate};
use rollcall_scim::list::SearchRequest;
use rollcall_scim::patch::{apply, parse_patch_request};
use rollcall_scim::render::{Meta, Projection, render};
use rollcall_scim::resource::check_known;
use rollcall_scim::schema::group_resource;
use rollcall_store::{GroupQuery, GroupRecord, GroupUpdate, GroupWrite, ResourceId, StoreError};
use serde_json::{Value, json};

use super::list_body;
use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;

/// How often a PATCH of a group's document is retried when another request changed it.
const MAX_ATTEMPTS: usize = 5;

/// The groups of the authenticated workspace.
pub struct Groups<'a> {
    pub state: &'a AppState,
    pub ctx: &'a ScimContext,
}

impl Groups<'_> {
    /// RFC 7644 §3.3.
    pub async fn create(&self, body: &Value) -> Result<GroupRecord, ApiError> {
        check_known(body, group_resource())?;
        let (group, members) = prepare_group(body)?;
        let id = ResourceId::generate();
        let record = self
            .state
            .store
            .create_group(
                &self.ctx.workspace.id,
                &id,
                GroupWrite::new(group),
                members.unwrap_or_default(),
                self.state.clock.now(),
            )
            .await?;
        tracing::info!(group = %record.id, "group created");
        Ok(record)
    }

    /// RFC 7644 §3.4.1.
    pub async fn get(&self, id: &str, with_members: bool) -> Result<GroupRecord, ApiError> {
        self.state
            .store
            .get_group(&self.ctx.workspace.id, &ResourceId::new(id), with_members)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// RFC 7644 §3.5.1: the body replaces the document and the whole membership (a body
    /// without `members` leaves the group empty).
    pub async fn replace(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        with_members: bool,
    ) -> Result<GroupRecord, ApiError> {
        check_known(body, group_resource())?;
        let (group, members) = prepare_group(body)?;
        let current = self.get(id, false).await?;
        super::check_if_match(if_match, current.version, "group")?;
        let document = (group.body != current.body).then(|| GroupWrite::new(group));
        let update = GroupUpdate {
            expected_version: Some(current.version),
            document,
            members: vec![MemberChange::Replace(members.unwrap_or_default())],
            at: self.state.clock.now(),
        };
        self.write(id, update, with_members).await
    }

    /// RFC 7644 §3.5.2: document operations are applied to the stored document, membership
    /// operations become row changes; all of them in one transaction.
    pub async fn patch(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
        with_members: bool,
    ) -> Result<GroupRecord, ApiError> {
        let (document_ops, members) = split_patch(parse_patch_request(body)?)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = self.get(id, false).await?;
            super::check_if_match(if_match, current.version, "group")?;
            let document = if document_ops.is_empty() {
                None
            } else {
                let patched = apply(&current.body, &document_ops, group_resource())?;
                let group = validate(&patched)?;
                (group.body != current.body).then(|| GroupWrite::new(group))
            };
            // Only a document change depends on what was read; membership changes are set
            // operations that hold whatever other requests did in between.
            let expected_version =
                (document.is_some() || if_match.is_some()).then_some(current.version);
            let update = GroupUpdate {
                expected_version,
                document,
                members: members.clone(),
                at: self.state.clock.now(),
            };
            match self.write(id, update, with_members).await {
                Err(ApiError::Store(StoreError::VersionConflict))
                    if attempt < MAX_ATTEMPTS && if_match.is_none() =>
                {
                    continue;
                }
                result => return result,
            }
        }
    }

    /// RFC 7644 §3.6. The group's users stay.
    pub async fn delete(&self, id: &str, if_match: Option<&str>) -> Result<(), ApiError> {
        let current = self.get(id, false).await?;
        super::check_if_match(if_match, current.version, "group")?;
        match self
            .state
            .store
            .delete_group(&self.ctx.workspace.id, &current.id, self.state.clock.now())
            .await
        {
            Ok(()) => {
                tracing::info!(group = %current.id, "group deleted");
                Ok(())
            }
            Err(StoreError::NotFound) => Err(not_found(id)),
            Err(err) => Err(err.into()),
        }
    }

    /// RFC 7644 §3.4.2 and §3.4.3.
    pub async fn search(&self, request: &SearchRequest) -> Result<Value, ApiError> {
        let plan = request.plan(group_resource())?;
        let projection = request.projection(group_resource());
        let query = GroupQuery {
            filter: plan.filter,
            sort: plan.sort,
            paging: plan.paging,
            with_members: projection.includes("members"),
        };
        let found = self
            .state
            .store
            .list_groups(&self.ctx.workspace.id, &query)
            .await?;
        let resources = found
            .items
            .iter()
            .map(|record| self.render(record, &projection))
            .collect();
        Ok(list_body(
            found.total,
            &query.paging,
            query.sort.as_ref(),
            found.next.as_ref(),
            resources,
        ))
    }

    /// The response representation of a group, with its members when they were loaded.
    pub fn render(&self, record: &GroupRecord, projection: &Projection) -> Value {
        let mut body = record.body.clone();
        if let (Some(members), Value::Object(fields)) = (&record.members, &mut body) {
            let members: Vec<Value> = members
                .iter()
                .map(|member| {
                    json!({
                        "value": member.id.as_str(),
                        "$ref": format!("{}/Users/{}", self.ctx.base_url, member.id),
                        "display": member.display,
                        "type": "User",
                    })
                })
                .collect();
            if !members.is_empty() {
                fields.insert("members".to_owned(), Value::Array(members));
            }
        }
        render(
            group_resource(),
            record.id.as_str(),
            &body,
            &self.meta(record),
            projection,
        )
    }

    pub fn meta(&self, record: &GroupRecord) -> Meta {
        Meta {
            created: record.created_at,
            last_modified: record.updated_at,
            location: format!("{}/Groups/{}", self.ctx.base_url, record.id),
            version: super::etag(record.version),
        }
    }

    async fn write(
        &self,
        id: &str,
        update: GroupUpdate,
        with_members: bool,
    ) -> Result<GroupRecord, ApiError> {
        let result = self
            .state
            .store
            .update_group(
                &self.ctx.workspace.id,
                &ResourceId::new(id),
                update,
                with_members,
            )
            .await;
        match result {
            Ok(record) => {
                tracing::info!(group = %record.id, "group updated");
                Ok(record)
            }
            Err(StoreError::NotFound) => Err(not_found(id)),
            Err(err) => Err(err.into()),
        }
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no group with id {id:?} in this workspace"))
}
