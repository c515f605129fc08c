#!/usr/bin/env bash
# Throughput over loopback: the same sender (Python socket.sendfile) pushes BENCH_BYTES (default 1 GiB) of random data
#   (a) into  wirepad tcp-server 127.0.0.1:0 --recv-file A -q --quit-after-bytes N   (release build)
#   (b) into  socat -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr OPEN:B,creat,trunc     (socat's defaults, 8 KiB blocks)
# timing each from connect to the receiver's exit, checking each received file's sha256 against the source, and
# prints both rates in MiB/s and the ratio wirepad/socat (> 1 means Wirepad is faster). The two alternate for
# BENCH_ROUNDS rounds (default 3) and the medians are compared, because one transfer on a busy machine is noise.
# Env: BENCH_BYTES (default 1073741824), BENCH_TIMEOUT seconds per receiver (default 300), BENCH_DIR scratch parent
# (default $TMPDIR or /tmp; needs about 2 × BENCH_BYTES free), BENCH_NO_BUILD=1 to skip `cargo build --release`,
# SOCAT_BLOCK=N to give socat a bigger buffer (-b N) than its default 8 KiB.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bytes=${BENCH_BYTES:-1073741824}
tmo=${BENCH_TIMEOUT:-300}
rounds=${BENCH_ROUNDS:-3}
wirepad=${CARGO_TARGET_DIR:-$root/target}/release/wirepad
say() { printf 'bench: %s\n' "$*" >&2; }

[[ $bytes =~ ^[1-9][0-9]*$ ]] || { say "BENCH_BYTES must be a positive integer, got '$bytes'"; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { say "BENCH_ROUNDS must be a positive integer, got '$rounds'"; exit 2; }
for t in socat python3 sha256sum; do command -v "$t" >/dev/null || { say "needs $t"; exit 1; }; done

if [ -z "${BENCH_NO_BUILD:-}" ]; then
  say "cargo build --release"
  (cd "$root" && timeout 1800 cargo build --release --bin wirepad)
fi
[ -x "$wirepad" ] || { say "$wirepad not found (cargo build --release)"; exit 1; }

dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/wirepad-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
avail=$(( $(df -Pk "$dir" | awk 'NR==2{print $4}') * 1024 ))
(( avail > 2 * bytes + (64 << 20) )) || { say "not enough space in $dir: need ~$((2 * bytes >> 20)) MiB"; exit 1; }

say "generating $bytes random bytes in $dir/src"
timeout "$tmo" head -c "$bytes" /dev/urandom >"$dir/src"
BENCH_SHA256=$(timeout "$tmo" sha256sum "$dir/src" | cut -d' ' -f1)
export BENCH_SHA256
cat "$dir/src" >/dev/null   # warm the page cache so neither run pays for reading the source from disk

run() {   # run NAME COMMAND... → prints the JSON result line; receiver output file is deleted afterwards
  local name=$1; shift
  local out rc=0
  out=$(timeout $((tmo + 30)) python3 "$root/bench/recv_bench.py" "$name" "$dir/src" "$dir/$name.out" "$tmo" -- "$@") || rc=$?
  rm -f "$dir/$name.out"
  [ -n "$out" ] && echo "$out" >&2
  [ "$rc" -eq 0 ] || { say "FAIL: $name (exit $rc)"; return 1; }
  echo "$out"
}

results=()
for ((round = 1; round <= rounds; round++)); do
  say "round $round/$rounds: (a) wirepad"
  results+=("$(run wirepad "$wirepad" tcp-server 127.0.0.1:0 --recv-file '{dest}' -q --quit-after-bytes "$bytes")") || exit 1
  say "round $round/$rounds: (b) socat"
  results+=("$(run socat socat ${SOCAT_BLOCK:+-b "$SOCAT_BLOCK"} -u 'TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr' 'OPEN:{dest},creat,trunc')") || exit 1
done

python3 - "$bytes" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "${results[@]}" <<'PY2'
import json, statistics, sys
n, cpus, load = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rs = [json.loads(a) for a in sys.argv[4:]]
print(f"bytes: {n} ({n / 2**20:.0f} MiB) per transfer, loopback TCP, sender: python socket.sendfile; "
      f"{cpus} CPUs, load average {load}")
med = {}
for name in ("wirepad", "socat"):
    mine = [r for r in rs if r["name"] == name]
    med[name] = statistics.median(r["mib_per_s"] for r in mine)
    ok = all(r["sha256_ok"] for r in mine)
    samples = "  ".join(f"{r['mib_per_s']:.1f}" for r in mine)
    print(f"{name:>8}: median {med[name]:7.1f} MiB/s   runs: {samples}   sha256 {'ok' if ok else 'MISMATCH'}")
print(f"ratio wirepad/socat (medians): {med['wirepad'] / med['socat']:.2f}")
PY2
