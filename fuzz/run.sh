#!/bin/sh
# Runs every fuzz target for SECONDS seconds each (default 60) and prints each one's executions.
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Not part of the tests.
# Each run starts from the named inputs kept in git, fuzz/seeds/TARGET and fuzz/regressions/TARGET, and writes what
# it finds to fuzz/corpus/TARGET (not committed: it grows with every run). A crash stops the script and is kept in
# fuzz/artifacts/TARGET; once fixed it goes to fuzz/regressions/TARGET under a name that says what it was.
set -eu
seconds=${1:-60}
cd "$(dirname "$0")/.."
fuzz=$PWD/fuzz
# No sanitizer, for speed. text_decoder does reach the text codec's unsafe fast paths (src/codec/text/fast.rs):
# for those, run it alone under AddressSanitizer (`cargo +nightly fuzz run text_decoder`, whose default is ASan).
cargo +nightly fuzz build --release --sanitizer none
for target in $(cargo +nightly fuzz list); do
    # The stream decoder's property needs only a few hundred bytes (a cut can fall anywhere in them); with
    # libFuzzer's default of 4 KiB inputs it ran half as fast and reached no more code (1,074 edges either way).
    case $target in
    text_decoder) max_len=512 ;;
    *) max_len=4096 ;;
    esac
    # libFuzzer writes new inputs to the first directory and reads them all; each must exist.
    mkdir -p "$fuzz/corpus/$target"
    set -- "$fuzz/corpus/$target"
    for kept in "$fuzz/seeds/$target" "$fuzz/regressions/$target"; do
        if [ -d "$kept" ]; then
            set -- "$@" "$kept"
        fi
    done
    log=$(mktemp)
    if ! cargo +nightly fuzz run --release --sanitizer none "$target" "$@" -- -max_total_time="$seconds" \
        -max_len="$max_len" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "$target: FAILED (see fuzz/artifacts/$target)"
        rm -f "$log"
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "$target: $execs executions in ${seconds} s, no crash"
    rm -f "$log"
done
