//! Fuzzes the filter parser of RFC 7644 §3.4.2.2 (`rollcall_scim::filter::parse_filter`).
//!
//! The input is the filter's text, as a client puts it in `?filter=`. Parsing must never panic,
//! and whatever parses must print (`Display`, documented as canonical) as text that parses back
//! to an equal `Filter`. Each accepted filter is also evaluated against a realistic user, since
//! a list request evaluates whatever the parser accepts.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rollcall_scim::filter::{FilterLimits, matches, parse_filter, parse_filter_with};
use rollcall_scim::schema::user_resource;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = parse_filter(text) else {
        return;
    };

    // The canonical text may be longer than the input (a bare `5a2b` gains quotes, `NOT(` gains
    // a space), so only the length limit is lifted here; depth and node limits still apply,
    // because printing must not add nesting or expressions.
    let printed = filter.to_string();
    let round_trip = FilterLimits {
        max_length: usize::MAX,
        ..FilterLimits::default()
    };
    match parse_filter_with(&printed, &round_trip) {
        Ok(again) => assert_eq!(again, filter, "{text:?} printed as {printed:?}"),
        Err(error) => panic!("{text:?} printed as {printed:?}, which fails: {error}"),
    }

    static USER: OnceLock<Value> = OnceLock::new();
    let user = USER.get_or_init(rollcall_fuzz::listed_user);
    matches(&filter, user, user_resource());
});
