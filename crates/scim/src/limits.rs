//! The sizes a single request may reach, so that no body can make rollcall do unbounded work.
//!
//! Each limit is answered with 400 `tooMany` naming it. Bodies are also capped at 1 MiB by the
//! server, and filters by [`crate::filter::FilterLimits`].

/// Operations in one PATCH request.
pub const MAX_PATCH_OPERATIONS: usize = 1_000;

/// Member ids in one group write (one PATCH operation, or a POST or PUT body).
pub const MAX_MEMBERS_PER_OPERATION: usize = 100_000;

/// Values of one multi-valued attribute of a resource (emails, phoneNumbers, roles...).
pub const MAX_VALUES: usize = 1_000;
