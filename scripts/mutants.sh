#!/bin/sh
# Mutation testing of the pure modules (codec, send, log, view, automation) with cargo-mutants: each mutant is a
# planted fault, and the score is the share their unit tests catch. Not part of the test command.
# Needs `cargo install cargo-mutants`. Extra arguments go to cargo-mutants, e.g. `--shard 1/4`, `-j 2` or
# `-F REGEX`. Results: target/mutants/mutants.out (outcomes.json, caught.txt, missed.txt, ...).
#
# Each mutant is one rebuild, and rebuilding the whole library (the window included) takes minutes. So the
# modules are copied into a crate of their own under target/mutants-crate, which builds in seconds with only
# their dependencies (versions from Cargo.lock), and mutated in copies of it (each with the dependencies
# already built): the working tree is never touched.
# Only these modules' own tests count; the net::platform module they call is copied along and not mutated.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
crate=target/mutants-crate
rm -rf "$crate/src"
mkdir -p "$crate/src/net"
cp -r src/automation src/codec src/send.rs src/log.rs src/view "$crate/src/"
cp src/net/platform.rs "$crate/src/net/"
cp Cargo.lock "$crate/"
cat >"$crate/src/lib.rs" <<'EOF'
//! The pure modules alone, for scripts/mutants.sh.
#![allow(dead_code)]
pub mod automation;
pub mod codec;
pub mod log;
pub mod send;
pub mod view;
pub mod net {
    pub mod platform;
}
EOF
# The dependencies as in ../Cargo.toml.
{
    echo '[package]
name = "wirepad"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]'
    grep -E '^(chrono|clap|crc|encoding_rs|mio|regex|serde|socket2|thiserror|toml) = ' Cargo.toml
    echo '
[target.'"'cfg(unix)'"'.dependencies]'
    grep -E '^libc = ' Cargo.toml
    echo '
[dev-dependencies]'
    grep -E '^proptest = ' Cargo.toml
    # Fast rebuilds: no optimisation or debug info for the crate itself; the dependencies (proptest) optimised
    # once, so the tests still run quickly.
    echo '
[profile.dev]
opt-level = 0
debug = 0

[profile.dev.package."*"]
opt-level = 2'
} >"$crate/Cargo.toml"
cd "$crate"
cargo build --tests --quiet
exec cargo mutants --copy-target=true --output "$root/target/mutants" -f 'src/codec/*.rs' -f 'src/codec/text/*.rs' \
    -f src/send.rs -f src/log.rs -f 'src/view/*.rs' -f 'src/automation/*.rs' "$@" -- --lib
