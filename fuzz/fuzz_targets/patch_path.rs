//! Fuzzes the PATCH path parser of RFC 7644 §3.5.2 (`rollcall_scim::path::parse_patch_path`).
//!
//! The input is the text of an operation's `path`. Parsing must never panic, and whatever
//! parses must print (`Display`) as text that parses back to an equal `PatchPath`, so that error
//! messages and logs that quote a path name the same target.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rollcall_scim::path::parse_patch_path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = parse_patch_path(text) else {
        return;
    };

    let printed = path.to_string();
    match parse_patch_path(&printed) {
        Ok(again) => assert_eq!(again, path, "{text:?} printed as {printed:?}"),
        Err(error) => panic!("{text:?} printed as {printed:?}, which fails: {error}"),
    }
});
