//! The sizes a single request may reach, so that no body can make rollcall do unbounded work.
//!
//! Each limit is answered with 400 `tooMany` naming it (`count` is clamped instead). The
//! defaults are the constants below; a server sets its own once, at start-up, with
//! [`configure`], and every part of the protocol core reads them through [`limits`]. Bodies
//! are capped by the server, and filters by [`crate::filter::FilterLimits`], which are part of
//! [`Limits`].

use std::sync::OnceLock;

use crate::filter::FilterLimits;

/// Operations in one PATCH request.
pub const MAX_PATCH_OPERATIONS: usize = 1_000;

/// Member ids in one group write (one PATCH operation, or a POST or PUT body).
pub const MAX_MEMBERS_PER_OPERATION: usize = 100_000;

/// Values of one multi-valued attribute of a resource (emails, phoneNumbers, roles...).
pub const MAX_VALUES: usize = 1_000;

/// The protocol core's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_patch_operations: usize,
    pub max_members_per_operation: usize,
    pub max_values: usize,
    /// The largest `count` a list answers (a larger one is clamped).
    pub max_page_size: usize,
    pub filter: FilterLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_patch_operations: MAX_PATCH_OPERATIONS,
            max_members_per_operation: MAX_MEMBERS_PER_OPERATION,
            max_values: MAX_VALUES,
            max_page_size: crate::list::MAX_PAGE_SIZE,
            filter: FilterLimits::default(),
        }
    }
}

static LIMITS: OnceLock<Limits> = OnceLock::new();

/// Sets the limits of this process. Only the first call counts, and only before any request
/// has read them; a later call answers the limits already in force as its error.
pub fn configure(limits: Limits) -> Result<(), Limits> {
    LIMITS.set(limits).map_err(|_| *self::limits())
}

/// The limits in force: those given to [`configure`], or the defaults.
pub fn limits() -> &'static Limits {
    LIMITS.get_or_init(Limits::default)
}
