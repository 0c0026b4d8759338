//! Fuzzes the PATCH engine of RFC 7644 §3.5.2 end to end, the way `PATCH /Users/{id}` runs it.
//!
//! The input is the JSON text of a `PatchOp` body. It is read with `parse_patch_request`,
//! applied with `apply` to a realistic stored user, and a patched user goes through
//! `prepare_user` as the server validates it before storing. No step may panic; every step may
//! refuse the request, which is the expected answer to most inputs.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rollcall_scim::patch::{apply, parse_patch_request};
use rollcall_scim::schema::user_resource;
use rollcall_scim::user::{Role, UserPolicy, UsernameFormat, prepare_user};
use serde_json::Value;

/// `Any` rather than `Email`, so that a patched `userName` does not stop the input short of
/// the rest of `prepare_user`.
const POLICY: UserPolicy = UserPolicy {
    username_format: UsernameFormat::Any,
    default_role: Role::Member,
};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(operations) = parse_patch_request(&body) else {
        return;
    };

    static USER: OnceLock<Value> = OnceLock::new();
    let user = USER.get_or_init(rollcall_fuzz::stored_user);
    let Ok(patched) = apply(user, &operations, user_resource()) else {
        return;
    };
    let _ = prepare_user(&patched, &POLICY, Some(Role::Member));
});
