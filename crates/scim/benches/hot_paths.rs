//! Wall-clock times of the protocol core's hot pure functions: filter parsing and evaluation,
//! PATCH, and rendering a user for the wire, on the inputs of `cases/mod.rs`.
//!
//! Run with `cargo bench -p rollcall-scim --bench hot_paths`; add a case name (or part of one,
//! such as `filter_eval`) after `--` to run only those. Each case samples for about two
//! seconds, so the whole run takes well under two minutes. Started without `--bench` (as
//! `cargo test --all-targets` does), it measures nothing. For numbers that do not move with
//! the machine's load, count instructions instead with scripts/bench-instructions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{Criterion, criterion_group};

mod cases;

use cases::{CASES, Fixtures};

fn hot_paths(c: &mut Criterion) {
    let fixtures = Fixtures::new();
    for case in &CASES {
        let (group, name) = case
            .name
            .split_once('/')
            .expect("a case is named group/name");
        c.benchmark_group(group)
            .bench_function(name, |b| b.iter(|| (case.run)(&fixtures)));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = hot_paths
}

fn main() {
    // `cargo test --all-targets` starts this too, without `--bench`, and criterion would then
    // call every case once; measuring is for `cargo bench` alone.
    if !std::env::args().any(|arg| arg == "--bench") {
        println!("hot_paths: measures under `cargo bench -p rollcall-scim --bench hot_paths`");
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
