#!/bin/sh
# Mutation testing of the pure modules (codec, payload, history, view, render, automation) with cargo-mutants: each
# mutant is a planted fault, and the score is the share their unit tests catch. Not part of the test command.
# Needs `cargo install --locked cargo-mutants`. Extra arguments go to cargo-mutants, e.g. `--list`, `--shard 1/4`,
# `-j 2` or `-F REGEX`. Results: target/mutants/mutants.out (outcomes.json, caught.txt, missed.txt, ...).
#
# Each mutant is one rebuild of the library. Built without the `gui` feature the library is the window-free core (no
# egui, eframe or wgpu in it), so a rebuild takes seconds; cargo-mutants mutates copies of the tree, never the
# working tree. The tests still build the dev-dependencies (egui_kittest among them) once per copy.
# Only these modules' own tests (`--lib`) count; what they call elsewhere (the memory module, net) is not mutated.
set -eu
cd "$(dirname "$0")/.."
# Fast rebuilds: no optimisation or debug info for the crate itself (its dependencies stay optimised, as
# Cargo.toml's dev profile has them, so the tests still run quickly).
export CARGO_PROFILE_DEV_OPT_LEVEL=0 CARGO_PROFILE_DEV_DEBUG=false
exec cargo mutants --no-default-features --output target/mutants -f 'src/codec/**/*.rs' -f src/payload.rs \
    -f src/history.rs -f 'src/view/*.rs' -f src/render.rs -f 'src/automation/*.rs' "$@" -- --lib
