#!/bin/sh
# Runs the text codec's unit tests under Miri, which checks every `unsafe` fast path of src/codec/text/fast.rs for
# undefined behaviour (out-of-bounds or misaligned reads, reads of uninitialised bytes) as the tests drive them.
# Not part of the tests or CI: it interprets the code, so it is slow (minutes). Needs the nightly toolchain; the
# miri component is installed when missing. Extra arguments go to the test binary (e.g. a narrower filter).
set -eu
cd "$(dirname "$0")/.."
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup component add --toolchain nightly miri rust-src
fi
# The window-free core: no egui in the library (its dev-dependencies are still built, once, for Miri).
# Strict provenance makes integer-to-pointer casts an error rather than a guess. Isolation is off because proptest
# looks for its regressions file (getcwd, which isolation refuses); it also passes PROPTEST_CASES through, kept low:
# every case is interpreted, and the first test alone builds five encoding tables (~50 min on a loaded machine).
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance -Zmiri-disable-isolation}"
export PROPTEST_CASES="${PROPTEST_CASES:-16}"
exec cargo +nightly miri test --no-default-features --lib codec::text -- "$@"
