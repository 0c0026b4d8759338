//! Runs one case of `cases/mod.rs` a given number of times, for counting its instructions
//! under callgrind: `instructions CASE N`, or `instructions --list` for the case names.
//!
//! scripts/bench-instructions builds this with
//! `cargo bench -p rollcall-scim --bench instructions --no-run`, runs each case with N=0 and
//! N=1000 and divides the difference by 1000, so that building the inputs drops out. The case
//! runs once more before the N counted calls whatever N is, so that one-time work (the schemas
//! and limits built on first use) falls on both runs alike and drops out too. Without a case
//! (as `cargo test --all-targets` and `cargo bench` start it), it does nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::ExitCode;

mod cases;

use cases::{CASES, Fixtures};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` starts this with `--bench`, and `cargo test --all-targets` with nothing.
    if args.is_empty() || args.iter().any(|arg| arg == "--bench") {
        println!("instructions: runs under scripts/bench-instructions");
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("--list") {
        for case in &CASES {
            println!("{}", case.name);
        }
        return ExitCode::SUCCESS;
    }
    let (Some(name), Some(count), 2) = (args.first(), args.get(1), args.len()) else {
        return usage("expected a case and a count");
    };
    let Some(case) = CASES.iter().find(|case| case.name == name) else {
        return usage(&format!("no case is named {name:?}"));
    };
    let Ok(count) = count.parse::<u64>() else {
        return usage(&format!("{count:?} is not a count"));
    };

    let fixtures = Fixtures::new();
    (case.run)(&fixtures);
    for _ in 0..count {
        (case.run)(&fixtures);
    }
    ExitCode::SUCCESS
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("instructions: {problem}");
    eprintln!("usage: instructions CASE N | instructions --list");
    eprintln!("cases: {}", CASES.map(|case| case.name).join(", "));
    ExitCode::from(2)
}
