#!/usr/bin/env bash
# Runs every fuzz target in turn for SECONDS_PER_TARGET (default 60) and fails if any crashes.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). libFuzzer needs nightly compiler
# flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them. Inputs the fuzzer finds go to
# target/corpus/<target> (ignored by git); the committed seeds in corpus/<target> are only read.
# A crash is saved under artifacts/<target>/ and the script goes on to the next target.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$fuzz_dir"
export RUSTC_BOOTSTRAP=1

# The code under test forbids unsafe, so AddressSanitizer would find nothing a panic does not,
# at about half the speed; debug assertions and overflow checks stay on (cargo fuzz's default).
fuzz_args=(--sanitizer none)

# target:dictionary pairs; the filter and path targets share the grammar's dictionary.
targets=(filter_parse:filter.dict patch_path:filter.dict patch_apply:patch.dict)

failed=()
for entry in "${targets[@]}"; do
    target="${entry%%:*}"
    dict="${entry#*:}"
    work="$fuzz_dir/target/corpus/$target"
    mkdir -p "$work"
    echo "== $target for ${seconds}s"
    # The first corpus directory receives new inputs, so the committed seeds come second.
    if ! cargo fuzz run "${fuzz_args[@]}" "$target" "$work" "$fuzz_dir/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -dict="$fuzz_dir/dict/$dict"; then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "crashed: ${failed[*]} (inputs under $fuzz_dir/artifacts/)" >&2
    exit 1
fi
echo "no crashes in ${#targets[@]} targets"
