//! The operations on a workspace's users: create, read, replace, patch, delete and list.
//!
//! Each reads as the same steps: validate with the protocol core, load and write through the
//! store, and hand back the stored record. Rendering is separate ([`Users::render`]) because
//! the callers shape responses differently (a resource, a list, a bulk result).

use rollcall_scim::list::SearchRequest;
use rollcall_scim::patch::{apply, parse_patch_request};
use rollcall_scim::render::{Meta, Projection, render};
use rollcall_scim::resource::check_known;
use rollcall_scim::schema::{ENTERPRISE_USER_SCHEMA, ResourceSchema};
use rollcall_scim::user::{PreparedUser, UserPolicy, prepare_user_with, strip_derived};
use rollcall_store::{ResourceId, StoreError, UserQuery, UserRecord, UserWrite};
use serde_json::Value;

use super::list_body;
use crate::app::AppState;
use crate::auth::ScimContext;
use crate::error::ApiError;

/// How often a PUT or PATCH is retried when another request changed the user in between.
const MAX_ATTEMPTS: usize = 5;

/// The users of the authenticated workspace.
pub struct Users<'a> {
    pub state: &'a AppState,
    pub ctx: &'a ScimContext,
}

impl Users<'_> {
    /// RFC 7644 §3.3.
    pub async fn create(&self, body: &Value) -> Result<UserRecord, ApiError> {
        check_known(body, self.schema())?;
        let mut user = prepare_user_with(body, &self.policy(), None, self.schema())?;
        self.resolve_manager(&mut user).await?;
        let id = ResourceId::generate();
        let write = UserWrite::new(user, self.state.clock.now());
        let record = self
            .state
            .store
            .create_user(&self.ctx.workspace.id, &id, write)
            .await?;
        tracing::info!(user = %record.id, "user created");
        Ok(record)
    }

    /// RFC 7644 §3.4.1.
    pub async fn get(&self, id: &str) -> Result<UserRecord, ApiError> {
        self.state
            .store
            .get_user(&self.ctx.workspace.id, &ResourceId::new(id))
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// RFC 7644 §3.5.1: replaces the user with `body`.
    pub async fn replace(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<UserRecord, ApiError> {
        check_known(body, self.schema())?;
        let policy = self.policy();
        let schema = self.schema();
        self.update(id, if_match, |current| {
            Ok(prepare_user_with(
                body,
                &policy,
                Some(current.role),
                schema,
            )?)
        })
        .await
    }

    /// RFC 7644 §3.5.2: applies a `PatchOp` message, all operations or none.
    pub async fn patch(
        &self,
        id: &str,
        body: &Value,
        if_match: Option<&str>,
    ) -> Result<UserRecord, ApiError> {
        let operations = parse_patch_request(body)?;
        let policy = self.policy();
        let schema = self.schema();
        self.update(id, if_match, |current| {
            // The stored role is the effective one; leaving it out of the document means only
            // an operation that sets `role` counts as the IdP sending one.
            let mut document = current.body.clone();
            if let Value::Object(fields) = &mut document {
                fields.remove("role");
            }
            // Derived seed attributes are derived again from what the operations change.
            strip_derived(&mut document);
            let patched = apply(&document, &operations, schema)?;
            Ok(prepare_user_with(
                &patched,
                &policy,
                Some(current.role),
                schema,
            )?)
        })
        .await
    }

    /// RFC 7644 §3.6.
    pub async fn delete(&self, id: &str, if_match: Option<&str>) -> Result<(), ApiError> {
        let record = self.get(id).await?;
        check_if_match(if_match, &record)?;
        match self
            .state
            .store
            .delete_user(&self.ctx.workspace.id, &record.id, self.state.clock.now())
            .await
        {
            Ok(()) => {
                tracing::info!(user = %record.id, "user deleted");
                Ok(())
            }
            Err(StoreError::NotFound) => Err(not_found(id)),
            Err(err) => Err(err.into()),
        }
    }

    /// RFC 7644 §3.4.2 and §3.4.3: a filtered, sorted, paged list as a `ListResponse`.
    pub async fn search(&self, request: &SearchRequest) -> Result<Value, ApiError> {
        let plan = request.plan(self.schema())?;
        if let Some(filter) = &plan.filter {
            tracing::debug!(%filter, "list users");
        }
        let query = UserQuery {
            schema: self
                .ctx
                .has_custom_schema()
                .then(|| self.ctx.user_schema.clone()),
            filter: plan.filter,
            sort: plan.sort,
            paging: plan.paging,
        };
        let found = self
            .state
            .store
            .list_users(&self.ctx.workspace.id, &query)
            .await?;

        let projection = request.projection(self.schema());
        let mut items = found.items;
        self.load_groups(&mut items, &projection).await?;
        let resources = items
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

    /// Fills each user's read-only `groups` attribute (RFC 7643 §4.1.2) from the membership
    /// rows, when the response shows it.
    pub async fn load_groups(
        &self,
        records: &mut [UserRecord],
        projection: &Projection,
    ) -> Result<(), ApiError> {
        if records.is_empty() || !projection.includes("groups") {
            return Ok(());
        }
        let ids: Vec<ResourceId> = records.iter().map(|r| r.id.clone()).collect();
        let memberships = self
            .state
            .store
            .groups_of_users(&self.ctx.workspace.id, &ids)
            .await?;
        for record in records.iter_mut() {
            let groups: Vec<Value> = memberships
                .iter()
                .filter(|(user, _)| *user == record.id)
                .map(|(_, group)| {
                    serde_json::json!({
                        "value": group.id.as_str(),
                        "$ref": format!("{}/Groups/{}", self.ctx.base_url, group.id),
                        "display": group.display,
                        "type": "direct",
                    })
                })
                .collect();
            if let (false, Value::Object(fields)) = (groups.is_empty(), &mut record.body) {
                fields.insert("groups".to_owned(), Value::Array(groups));
            }
        }
        Ok(())
    }

    /// The response representation of a user.
    pub fn render(&self, record: &UserRecord, projection: &Projection) -> Value {
        render(
            self.schema(),
            record.id.as_str(),
            &record.body,
            &self.meta(record),
            projection,
        )
    }

    pub fn meta(&self, record: &UserRecord) -> Meta {
        Meta {
            created: record.created_at,
            last_modified: record.updated_at,
            location: self.location(&record.id),
            version: etag(record),
        }
    }

    pub fn location(&self, id: &ResourceId) -> String {
        format!("{}/Users/{id}", self.ctx.base_url)
    }

    /// Reads the user, builds its new version with `build`, and writes it if it is still the
    /// version that was read; retries when another request won the race. A result equal to the
    /// stored user writes nothing and keeps `meta.version`.
    async fn update(
        &self,
        id: &str,
        if_match: Option<&str>,
        build: impl Fn(&UserRecord) -> Result<PreparedUser, ApiError>,
    ) -> Result<UserRecord, ApiError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let current = self.get(id).await?;
            check_if_match(if_match, &current)?;
            let mut user = build(&current)?;
            self.resolve_manager(&mut user).await?;
            rollcall_scim::resource::check_immutable(&current.body, &user.body, self.schema())?;
            if user.owner_role_kept {
                tracing::info!(user = %current.id, "kept the Owner role; SCIM cannot change it");
            }
            if user.body == current.body {
                return Ok(current);
            }

            let mut write = UserWrite::new(user, self.state.clock.now());
            // Without a role in the request, the IdP's earlier one stays the fallback.
            write.idp_role = write.idp_role.or(current.idp_role);
            let replaced = self
                .state
                .store
                .replace_user(&self.ctx.workspace.id, &current.id, current.version, write)
                .await;
            match replaced {
                Err(StoreError::VersionConflict) if attempt < MAX_ATTEMPTS => continue,
                Err(StoreError::NotFound) => return Err(not_found(id)),
                Ok(record) => {
                    tracing::info!(user = %record.id, "user updated");
                    return Ok(record);
                }
                Err(err) => return Err(err.into()),
            }
        }
    }

    /// The Enterprise User `manager` (RFC 7643 §4.3): a manager of this workspace gets its
    /// `$ref` and `displayName`; a manager of another workspace is refused; an id that names no
    /// user yet is kept as sent, because IdPs may provision a manager after its reports.
    async fn resolve_manager(&self, user: &mut PreparedUser) -> Result<(), ApiError> {
        let Some(Value::Object(manager)) = user
            .body
            .get_mut(ENTERPRISE_USER_SCHEMA)
            .and_then(|ext| ext.get_mut("manager"))
        else {
            return Ok(());
        };
        manager.remove("$ref");
        manager.remove("displayName");
        let Some(id) = manager
            .get("value")
            .and_then(Value::as_str)
            .map(ResourceId::new)
        else {
            return Ok(());
        };
        let store = &self.state.store;
        let workspace = &self.ctx.workspace.id;
        if let Some(found) = store.get_user(workspace, &id).await? {
            let name = found
                .body
                .get("displayName")
                .cloned()
                .unwrap_or(Value::Null);
            manager.insert("$ref".to_owned(), Value::String(self.location(&found.id)));
            manager.insert("displayName".to_owned(), name);
        } else if store.user_workspace(&id).await?.is_some() {
            return Err(ApiError::Scim(rollcall_scim::Error::invalid_value(
                format!("{ENTERPRISE_USER_SCHEMA}:manager.value"),
                format!("{id} is not a user of this workspace"),
            )));
        }
        Ok(())
    }

    /// The workspace's User schema.
    pub fn schema(&self) -> &ResourceSchema {
        &self.ctx.user_schema
    }

    fn policy(&self) -> UserPolicy {
        UserPolicy {
            username_format: self.ctx.workspace.username_format,
            default_role: self.ctx.workspace.default_role,
        }
    }
}

/// The entity tag of a user's current version.
pub fn etag(record: &UserRecord) -> String {
    super::etag(record.version)
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("no user with id {id:?} in this workspace"))
}

fn check_if_match(if_match: Option<&str>, record: &UserRecord) -> Result<(), ApiError> {
    super::check_if_match(if_match, record.version, "user")
}
