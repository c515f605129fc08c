#!/bin/sh
# Mutation testing of the pure modules (codec, send) with cargo-mutants: each mutant is a planted fault, and
# the score is the share the unit tests catch. Not part of the test command; slow (one build per mutant).
# Needs `cargo install cargo-mutants`. Extra arguments go to cargo-mutants, e.g. `--in-place` (mutates the
# working tree instead of building a copy from scratch; build nothing else from it meanwhile, fuzz/ included,
# which compiles the same files) or `--shard 1/4`. Results: target/mutants/mutants.out.
set -eu
cd "$(dirname "$0")/.."
# --lib: these modules' own tests; the integration binary would rebuild the window for every mutant.
exec cargo mutants --output target/mutants -f 'src/codec/*.rs' -f src/send.rs "$@" -- --lib
