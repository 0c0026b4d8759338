//! Schemas and attribute characteristics (RFC 7643 §2 and §7).
//!
//! Every other part of the protocol core reads these definitions instead of knowing attribute
//! names by heart: validation walks them, the filter evaluator takes `caseExact` and types from
//! them, PATCH resolves paths against them, and `/Schemas` is rendered from them.

use std::sync::OnceLock;

use serde_json::{Value, json};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The SCIM 1.0 core URN that some IdPs (OneLogin) still put in `schemas` of a 2.0 request.
pub const USER_SCHEMA_V1: &str = "urn:scim:schemas:core:1.0";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// RFC 7643 §2.3: the data type of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

/// RFC 7643 §7: when a client may write an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// RFC 7643 §7: when the attribute appears in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

/// RFC 7643 §7: how the service provider enforces uniqueness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

/// One attribute definition (RFC 7643 §7), possibly with sub-attributes.
#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub kind: AttributeType,
    pub multi_valued: bool,
    pub description: String,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: Vec<String>,
    /// When true, only `canonical_values` are accepted (compared case-insensitively and stored
    /// in their canonical spelling). RFC 7643 leaves canonical values open by default.
    pub closed_values: bool,
    pub reference_types: Vec<String>,
    pub sub_attributes: Vec<Attribute>,
}

impl Attribute {
    fn new(name: &str, kind: AttributeType, description: &str) -> Self {
        Attribute {
            name: name.to_owned(),
            kind,
            multi_valued: false,
            description: description.to_owned(),
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: Vec::new(),
            closed_values: false,
            reference_types: Vec::new(),
            sub_attributes: Vec::new(),
        }
    }

    fn string(name: &str, description: &str) -> Self {
        Attribute::new(name, AttributeType::String, description)
    }

    fn boolean(name: &str, description: &str) -> Self {
        Attribute::new(name, AttributeType::Boolean, description)
    }

    fn complex(name: &str, description: &str, sub_attributes: Vec<Attribute>) -> Self {
        Attribute {
            sub_attributes,
            ..Attribute::new(name, AttributeType::Complex, description)
        }
    }

    fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }

    fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }

    fn canonical(mut self, values: &[&str]) -> Self {
        self.canonical_values = values.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    fn closed(mut self) -> Self {
        self.closed_values = true;
        self
    }

    fn references(mut self, types: &[&str]) -> Self {
        self.reference_types = types.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// Finds a sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 representation used by `/Schemas`.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "name": self.name,
            "type": type_name(self.kind),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
        });
        if self.kind != AttributeType::Complex && self.kind != AttributeType::Boolean {
            out["caseExact"] = json!(self.case_exact);
        }
        if !self.canonical_values.is_empty() {
            out["canonicalValues"] = json!(self.canonical_values);
        }
        if !self.reference_types.is_empty() {
            out["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub_attributes.is_empty() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Attribute::to_json).collect();
            out["subAttributes"] = Value::Array(subs);
        }
        out["mutability"] = json!(mutability_name(self.mutability));
        out["returned"] = json!(returned_name(self.returned));
        out["uniqueness"] = json!(uniqueness_name(self.uniqueness));
        out
    }
}

/// A schema (RFC 7643 §7): an id and its top-level attributes.
#[derive(Debug, Clone)]
pub struct Schema {
    pub id: String,
    pub name: String,
    pub description: String,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// Finds a top-level attribute by name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The RFC 7643 §7 representation served at `/Schemas/{id}`.
    pub fn to_json(&self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self.attributes.iter().map(Attribute::to_json).collect();
        json!({
            "schemas": [SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            },
        })
    }
}

/// A resource type's core schema together with its extensions (RFC 7643 §6).
#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub name: String,
    pub endpoint: String,
    pub description: String,
    pub core: Schema,
    pub extensions: Vec<Schema>,
    /// The URNs of the extensions every resource of the type has (RFC 7643 §6,
    /// `schemaExtensions.required`); their required attributes bind even when a body leaves the
    /// extension out.
    pub required_extensions: Vec<String>,
}

/// Where an attribute path points, once resolved against a [`ResourceSchema`].
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// `Some(urn)` when the attribute lives in an extension, stored under that URN key.
    pub extension: Option<&'a str>,
    pub attribute: &'a Attribute,
}

impl ResourceSchema {
    /// Resolves an attribute name, optionally qualified by a schema URN, case-insensitively.
    ///
    /// An unqualified name is looked up in the core schema first, then in the extensions, the
    /// way clients that leave out the URN of an extension attribute mean it.
    pub fn resolve(&self, uri: Option<&str>, name: &str) -> Option<Resolved<'_>> {
        match uri {
            Some(uri) if is_core_uri(uri, &self.core.id) => self.core_attribute(name),
            Some(uri) => {
                let schema = self.extension(uri)?;
                let attribute = schema.attribute(name)?;
                Some(Resolved {
                    extension: Some(schema.id.as_str()),
                    attribute,
                })
            }
            None => self.core_attribute(name).or_else(|| {
                self.extensions.iter().find_map(|schema| {
                    let attribute = schema.attribute(name)?;
                    Some(Resolved {
                        extension: Some(schema.id.as_str()),
                        attribute,
                    })
                })
            }),
        }
    }

    /// Finds an extension schema by its URN, case-insensitively.
    pub fn extension(&self, uri: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(uri))
    }

    fn core_attribute(&self, name: &str) -> Option<Resolved<'_>> {
        let attribute = self.core.attribute(name)?;
        Some(Resolved {
            extension: None,
            attribute,
        })
    }

    /// The RFC 7643 §6 representation served at `/ResourceTypes/{name}`.
    pub fn resource_type_json(&self, base_url: &str) -> Value {
        let extensions: Vec<Value> = self
            .extensions
            .iter()
            .map(|s| {
                let required = self.required_extensions.contains(&s.id);
                json!({"schema": s.id, "required": required})
            })
            .collect();
        let mut out = json!({
            "schemas": [RESOURCE_TYPE],
            "id": self.name,
            "name": self.name,
            "endpoint": format!("/{}", self.endpoint),
            "description": self.description,
            "schema": self.core.id,
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base_url}/ResourceTypes/{}", self.name),
            },
        });
        if !extensions.is_empty() {
            out["schemaExtensions"] = Value::Array(extensions);
        }
        out
    }
}

/// True when `uri` names the core schema, including the SCIM 1.0 core URN some IdPs send.
fn is_core_uri(uri: &str, core_id: &str) -> bool {
    uri.eq_ignore_ascii_case(core_id) || uri.eq_ignore_ascii_case(USER_SCHEMA_V1)
}

fn type_name(kind: AttributeType) -> &'static str {
    match kind {
        AttributeType::String => "string",
        AttributeType::Boolean => "boolean",
        AttributeType::Decimal => "decimal",
        AttributeType::Integer => "integer",
        AttributeType::DateTime => "dateTime",
        AttributeType::Binary => "binary",
        AttributeType::Reference => "reference",
        AttributeType::Complex => "complex",
    }
}

fn mutability_name(mutability: Mutability) -> &'static str {
    match mutability {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    }
}

fn returned_name(returned: Returned) -> &'static str {
    match returned {
        Returned::Always => "always",
        Returned::Never => "never",
        Returned::Default => "default",
        Returned::Request => "request",
    }
}

fn uniqueness_name(uniqueness: Uniqueness) -> &'static str {
    match uniqueness {
        Uniqueness::None => "none",
        Uniqueness::Server => "server",
        Uniqueness::Global => "global",
    }
}

/// The roles a member can hold, highest first. `Owner` exists only when the operator sets it.
pub const ASSIGNABLE_ROLES: [&str; 3] = ["Admin", "Member", "Observer"];

/// The User resource type: RFC 7643 §4.1 plus the seed's `email` and `role` attributes.
pub fn user_resource() -> &'static ResourceSchema {
    static USER: OnceLock<ResourceSchema> = OnceLock::new();
    USER.get_or_init(|| ResourceSchema {
        name: "User".to_owned(),
        endpoint: "Users".to_owned(),
        description: "A member of the workspace".to_owned(),
        core: user_schema(),
        extensions: vec![enterprise_user_schema()],
        required_extensions: Vec::new(),
    })
}

/// The URN of a workspace's own User extension, whose attributes the operator registers.
pub const WORKSPACE_USER_SCHEMA: &str =
    "urn:rollcall:params:scim:schemas:extension:workspace:2.0:User";

/// An attribute an operator adds to a workspace's User extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAttribute {
    pub name: String,
    pub kind: AttributeType,
    pub multi_valued: bool,
    pub required: bool,
    /// When not empty, the only values accepted (compared case-insensitively).
    pub canonical_values: Vec<String>,
}

impl CustomAttribute {
    /// Checks the name against RFC 7643 §2.1 (`ALPHA *(nameChar)`) and the type against the
    /// simple types a custom attribute may have.
    pub fn validate(&self) -> Result<(), String> {
        let mut chars = self.name.chars();
        let valid_name = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid_name {
            return Err(format!(
                "{:?} is not an attribute name: start with a letter, then letters, digits, - or _",
                self.name
            ));
        }
        if self.kind == AttributeType::Complex {
            return Err("custom attributes are simple values, not complex ones".to_owned());
        }
        if !self.canonical_values.is_empty() && self.kind != AttributeType::String {
            return Err("canonical values apply to string attributes only".to_owned());
        }
        Ok(())
    }
}

impl AttributeType {
    /// The RFC 7643 §2.3 name of the type.
    pub fn name(self) -> &'static str {
        type_name(self)
    }

    /// Reads an RFC 7643 §2.3 type name, case-insensitively.
    pub fn from_name(name: &str) -> Option<AttributeType> {
        use AttributeType::*;
        [
            String, Boolean, Decimal, Integer, DateTime, Binary, Reference, Complex,
        ]
        .into_iter()
        .find(|kind| type_name(*kind).eq_ignore_ascii_case(name))
    }
}

/// The User resource type of a workspace: the standard one, plus the workspace's own extension
/// when the operator registered attributes.
pub fn workspace_user_resource(custom: &[CustomAttribute]) -> ResourceSchema {
    let mut resource = user_resource().clone();
    if custom.is_empty() {
        return resource;
    }
    let attributes = custom
        .iter()
        .map(|custom| {
            let mut attribute = Attribute::new(
                &custom.name,
                custom.kind,
                "An attribute of this workspace, registered by its operator",
            );
            attribute.multi_valued = custom.multi_valued;
            attribute.required = custom.required;
            attribute.case_exact = matches!(
                custom.kind,
                AttributeType::Reference | AttributeType::Binary
            );
            if !custom.canonical_values.is_empty() {
                attribute.canonical_values = custom.canonical_values.clone();
                attribute.closed_values = true;
            }
            attribute
        })
        .collect();
    // The workspace's extension is required when one of its attributes is.
    if custom.iter().any(|attribute| attribute.required) {
        resource
            .required_extensions
            .push(WORKSPACE_USER_SCHEMA.to_owned());
    }
    resource.extensions.push(Schema {
        id: WORKSPACE_USER_SCHEMA.to_owned(),
        name: "WorkspaceUser".to_owned(),
        description: "The attributes this workspace adds to its users".to_owned(),
        attributes,
    });
    resource
}

/// The Group resource type (RFC 7643 §4.2). `displayName` is unique per workspace.
pub fn group_resource() -> &'static ResourceSchema {
    static GROUP: OnceLock<ResourceSchema> = OnceLock::new();
    GROUP.get_or_init(|| ResourceSchema {
        name: "Group".to_owned(),
        endpoint: "Groups".to_owned(),
        description: "A group of the workspace's members".to_owned(),
        core: group_schema(),
        extensions: Vec::new(),
        required_extensions: Vec::new(),
    })
}

/// `id` (RFC 7643 §3.1): issued by the service provider, case-exact, always returned.
fn id_attribute(resource: &str) -> Attribute {
    Attribute::string(
        "id",
        &format!("Identifier of the {resource}, issued by the service provider"),
    )
    .case_exact()
    .mutability(Mutability::ReadOnly)
    .returned(Returned::Always)
    .unique()
}

/// `externalId` (RFC 7643 §3.1): the client's own identifier, case-exact.
fn external_id_attribute(resource: &str) -> Attribute {
    Attribute::string(
        "externalId",
        &format!("Identifier of the {resource} in the identity provider"),
    )
    .case_exact()
}

fn group_schema() -> Schema {
    let attributes = vec![
        id_attribute("group"),
        external_id_attribute("group"),
        Attribute::string(
            "displayName",
            "The group's name, unique in the workspace, case-insensitively",
        )
        .required()
        .unique(),
        Attribute::complex(
            "members",
            "The users in the group",
            vec![
                Attribute::string("value", "The id of the member")
                    .case_exact()
                    .mutability(Mutability::Immutable),
                Attribute::new("$ref", AttributeType::Reference, "The URI of the member")
                    .references(&["User"])
                    .mutability(Mutability::Immutable),
                Attribute::string(
                    "display",
                    "The member's displayName, returned when asked for with attributes",
                )
                .mutability(Mutability::ReadOnly)
                .returned(Returned::Request),
                Attribute::string("type", "The kind of member")
                    .canonical(&["User"])
                    .mutability(Mutability::Immutable),
            ],
        )
        .multi(),
    ];
    Schema {
        id: GROUP_SCHEMA.to_owned(),
        name: "Group".to_owned(),
        description: "A group of the workspace's members".to_owned(),
        attributes,
    }
}

/// The schema Okta reads for the roles an IdP may assign (its entitlement discovery).
pub const ROLE_SCHEMA: &str = "urn:okta:scim:schemas:core:1.0:Role";

/// The read-only Role resource type: the roles a workspace's users can hold through SCIM, so
/// that an IdP can offer them for assignment.
pub fn role_resource() -> &'static ResourceSchema {
    static ROLE: OnceLock<ResourceSchema> = OnceLock::new();
    ROLE.get_or_init(|| ResourceSchema {
        name: "Role".to_owned(),
        endpoint: "Roles".to_owned(),
        description: "The roles a member can be given through SCIM".to_owned(),
        core: Schema {
            id: ROLE_SCHEMA.to_owned(),
            name: "Role".to_owned(),
            description: "A role of the workspace".to_owned(),
            attributes: vec![
                Attribute::string("id", "The role's name, as `role` takes it")
                    .case_exact()
                    .mutability(Mutability::ReadOnly)
                    .returned(Returned::Always)
                    .unique(),
                Attribute::string("displayName", "The role's name for display")
                    .mutability(Mutability::ReadOnly),
                Attribute::string("description", "What the role may do")
                    .mutability(Mutability::ReadOnly),
            ],
        },
        extensions: Vec::new(),
        required_extensions: Vec::new(),
    })
}

/// The Enterprise User extension (RFC 7643 §4.3).
fn enterprise_user_schema() -> Schema {
    let attributes = vec![
        Attribute::string("employeeNumber", "The user's number in the organization"),
        Attribute::string("costCenter", "The user's cost center"),
        Attribute::string("organization", "The user's organization"),
        Attribute::string("division", "The user's division"),
        Attribute::string("department", "The user's department"),
        Attribute::complex(
            "manager",
            "The user's manager",
            vec![
                Attribute::string("value", "The id of the manager's user").case_exact(),
                Attribute::new(
                    "$ref",
                    AttributeType::Reference,
                    "The URI of the manager's user",
                )
                .references(&["User"])
                .mutability(Mutability::ReadOnly),
                Attribute::string("displayName", "The manager's displayName")
                    .mutability(Mutability::ReadOnly),
            ],
        ),
    ];
    Schema {
        id: ENTERPRISE_USER_SCHEMA.to_owned(),
        name: "EnterpriseUser".to_owned(),
        description: "Enterprise User".to_owned(),
        attributes,
    }
}

fn user_schema() -> Schema {
    let multi_value = |name: &str, description: &str, types: &[&str]| {
        Attribute::complex(
            name,
            description,
            vec![
                Attribute::string("value", "The value"),
                Attribute::string("display", "A human-readable name, for display only"),
                Attribute::string("type", "A label for the value's function").canonical(types),
                Attribute::boolean("primary", "Whether this is the primary value"),
            ],
        )
        .multi()
    };

    let attributes = vec![
        id_attribute("user"),
        external_id_attribute("user"),
        Attribute::string(
            "userName",
            "Unique in the workspace, case-insensitively; an email address unless the \
             workspace accepts any string",
        )
        .required()
        .returned(Returned::Always)
        .unique(),
        Attribute::complex(
            "name",
            "The components of the user's name",
            vec![
                Attribute::string("formatted", "The full name, formatted for display"),
                Attribute::string("familyName", "The family name"),
                Attribute::string("givenName", "The given name"),
                Attribute::string("middleName", "The middle name"),
                Attribute::string("honorificPrefix", "The honorific prefix"),
                Attribute::string("honorificSuffix", "The honorific suffix"),
            ],
        ),
        Attribute::string(
            "displayName",
            "The user's name in the workspace; from name, else userName, when not sent",
        )
        .required(),
        Attribute::string("nickName", "The casual name of the user"),
        Attribute::new(
            "profileUrl",
            AttributeType::Reference,
            "A URL of the user's profile",
        )
        .references(&["external"]),
        Attribute::string("title", "The user's title"),
        Attribute::string(
            "userType",
            "The relationship between the organization and the user",
        ),
        Attribute::string("preferredLanguage", "The user's preferred language"),
        Attribute::string("locale", "The user's locale"),
        Attribute::string("timezone", "The user's time zone, in IANA format"),
        Attribute::boolean("active", "Whether the user can use the workspace"),
        Attribute::string("password", "Accepted on write and discarded, never stored")
            .mutability(Mutability::WriteOnly)
            .returned(Returned::Never),
        Attribute::string(
            "email",
            "The user's email address: the primary of emails, else the one sent, else userName",
        )
        .required(),
        Attribute::string(
            "role",
            "The user's role in the workspace; the workspace's default role when not sent",
        )
        .canonical(&ASSIGNABLE_ROLES)
        .closed()
        .required(),
        multi_value("emails", "Email addresses", &["work", "home", "other"]),
        multi_value(
            "phoneNumbers",
            "Phone numbers",
            &["work", "home", "mobile", "fax", "pager", "other"],
        ),
        multi_value(
            "ims",
            "Instant messaging addresses",
            &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
        ),
        multi_value("photos", "URLs of photos", &["photo", "thumbnail"]),
        Attribute::complex(
            "addresses",
            "Physical mailing addresses",
            vec![
                Attribute::string("formatted", "The full address, formatted for display"),
                Attribute::string("streetAddress", "The street address"),
                Attribute::string("locality", "The city or locality"),
                Attribute::string("region", "The state or region"),
                Attribute::string("postalCode", "The postal code"),
                Attribute::string("country", "The country, as an ISO 3166-1 alpha-2 code"),
                Attribute::string("type", "A label for the address's function")
                    .canonical(&["work", "home", "other"]),
                Attribute::boolean("primary", "Whether this is the primary address"),
            ],
        )
        .multi(),
        Attribute::complex(
            "groups",
            "The groups the user belongs to, computed by the service provider",
            vec![
                Attribute::string("value", "The id of the group").mutability(Mutability::ReadOnly),
                Attribute::new("$ref", AttributeType::Reference, "The URI of the group")
                    .references(&["Group"])
                    .mutability(Mutability::ReadOnly),
                Attribute::string("display", "The group's displayName")
                    .mutability(Mutability::ReadOnly),
                Attribute::string("type", "How the membership was made")
                    .canonical(&["direct", "indirect"])
                    .mutability(Mutability::ReadOnly),
            ],
        )
        .multi()
        .mutability(Mutability::ReadOnly),
        multi_value("entitlements", "Entitlements of the user", &[]),
        multi_value(
            "roles",
            "Roles of the user, as identity providers send them",
            &[],
        ),
        Attribute::complex(
            "x509Certificates",
            "Certificates of the user",
            vec![
                Attribute::new(
                    "value",
                    AttributeType::Binary,
                    "The DER certificate, base64",
                ),
                Attribute::string("display", "A human-readable name, for display only"),
                Attribute::string("type", "A label for the certificate's function"),
                Attribute::boolean("primary", "Whether this is the primary certificate"),
            ],
        )
        .multi(),
    ];
    Schema {
        id: USER_SCHEMA.to_owned(),
        name: "User".to_owned(),
        description: "A member of a workspace".to_owned(),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_case_insensitively_and_by_urn() {
        let user = user_resource();
        let found = user
            .resolve(None, "USERNAME")
            .map(|r| r.attribute.name.as_str());
        assert_eq!(found, Some("userName"));
        let found = user
            .resolve(Some(USER_SCHEMA), "name")
            .map(|r| r.attribute.name.as_str());
        assert_eq!(found, Some("name"));
        let found = user
            .resolve(Some("urn:scim:schemas:core:1.0"), "emails")
            .map(|r| r.attribute.name.as_str());
        assert_eq!(found, Some("emails"));
        assert!(user.resolve(None, "nope").is_none());
        assert!(
            user.resolve(Some("urn:example:other"), "userName")
                .is_none()
        );
    }

    #[test]
    fn role_lists_the_assignable_roles_as_canonical_values() {
        let role = user_resource()
            .core
            .attribute("role")
            .map(Attribute::to_json);
        assert_eq!(
            role,
            Some(json!({
                "name": "role",
                "type": "string",
                "multiValued": false,
                "description": "The user's role in the workspace; the workspace's default role when not sent",
                "required": true,
                "caseExact": false,
                "canonicalValues": ["Admin", "Member", "Observer"],
                "mutability": "readWrite",
                "returned": "default",
                "uniqueness": "none",
            }))
        );
    }
}
