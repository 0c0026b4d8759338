//! Id newtypes, so that a workspace id is never passed where a user id belongs.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A workspace's id, as it appears in `/integrations/scim/{workspace_id}`.
    WorkspaceId
);
id_type!(
    /// The `id` of a SCIM resource (RFC 7643 §3.1), issued by rollcall.
    ResourceId
);
id_type!(
    /// The public id of a SCIM token: the part of the token that is stored in clear for lookup.
    TokenId
);

impl ResourceId {
    /// A fresh random id (UUID v4).
    pub fn generate() -> Self {
        ResourceId(uuid::Uuid::new_v4().to_string())
    }
}

impl WorkspaceId {
    /// A fresh random id (UUID v4).
    pub fn generate() -> Self {
        WorkspaceId(uuid::Uuid::new_v4().to_string())
    }
}
