//! Operations on SCIM resources, independent of how the request arrived: `/Users` routes,
//! `POST /.search` and `/Bulk` all call these.

pub mod users;
