//! The SCIM 2.0 protocol core of rollcall (RFC 7643 and RFC 7644), with no I/O.
//!
//! Layout:
//! - [`schema`]: attribute characteristics and the resource schemas; everything else reads them.
//! - [`filter`]: the filter grammar of RFC 7644 §3.4.2.2, parsed into a [`filter::Filter`] and
//!   evaluated against a resource in memory.
//! - [`path`]: PATCH paths (RFC 7644 §3.5.2), which reuse the filter grammar for value paths.
//! - [`patch`]: the PATCH engine that applies a `PatchOp` message to a resource.
//! - [`group`]: the Group resource and the membership changes a write makes.
//! - [`user`]: validation and normalization of User resources, including the seed's `email` and
//!   `role` attributes.
//! - [`render`]: the resource as the client sees it: `meta`, `returned` rules, `attributes`
//!   and `excludedAttributes`.
//! - [`list`]: query parameters, `SearchRequest` and the `ListResponse` message.
//! - [`bulk`]: the `BulkRequest` message and `bulkId` references (RFC 7644 §3.7).
//! - [`resource`]: schema-driven validation of any resource body.
//! - [`limits`]: the sizes one request may reach.
//! - [`error`]: the core's error type and the SCIM Error message.
//!
//! Functions here take and return `serde_json::Value` documents in their stored form (canonical
//! attribute names, no `id` or `meta`) so that the store can keep the document as it is.

pub mod bulk;
pub mod error;
pub mod filter;
pub mod group;
pub mod limits;
pub mod list;
pub mod patch;
pub mod path;
pub mod render;
pub mod resource;
pub mod schema;
pub mod user;

pub use error::{Error, ErrorResponse, ScimType};
