#!/usr/bin/env bash
# Received data shown as text: the same sender (Python socket.sendfile) pushes BENCH_BYTES (default 256 MiB) over loopback
#   (a) into  wirepad tcp-server 127.0.0.1:0 --recv-file A --quit-after-bytes N [-e ENC]   stdout to /dev/null (release)
#   (b) into  socat -u TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr OPEN:B,creat,trunc         (socat's defaults)
# for each metric below, the two alternating for BENCH_ROUNDS rounds (default 3); each received file's sha256 is checked.
#   text_random_utf8   random bytes, printed as UTF-8 (the default)   goal ratio >= 0.5
#   text_random_gbk    random bytes, printed as GBK (-e gbk)          goal ratio >= 0.5
#   text_utf8          UTF-8 text (ASCII and CJK lines)               goal ratio >= 0.9
#   text_ascii         ASCII text lines                               goal ratio >= 0.9
# Prints a table (metric, wirepad, peer, ratio, goal, pass; medians in MiB/s), then one JSON line per metric:
#   {"metric", "wirepad", "peer", "peer_name", "unit", "ratio", "goal", "pass", "runs_wirepad", "runs_peer", "sha256_ok"}
# Env: BENCH_BYTES (default 268435456), BENCH_ROUNDS, BENCH_TIMEOUT seconds per receiver (default 300), BENCH_DIR scratch
# parent (needs about 4 × BENCH_BYTES free), BENCH_NO_BUILD=1 to skip `cargo build --release`, BENCH_METRICS to run only
# some (space-separated names), WIREPAD_BIN=PATH to measure another build (implies BENCH_NO_BUILD).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bytes=${BENCH_BYTES:-268435456}
tmo=${BENCH_TIMEOUT:-300}
rounds=${BENCH_ROUNDS:-3}
metrics=${BENCH_METRICS:-text_random_utf8 text_random_gbk text_utf8 text_ascii}
wirepad=${WIREPAD_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/wirepad}
say() { printf 'bench: %s\n' "$*" >&2; }

[[ $bytes =~ ^[1-9][0-9]*$ ]] || { say "BENCH_BYTES must be a positive integer, got '$bytes'"; exit 2; }
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { say "BENCH_ROUNDS must be a positive integer, got '$rounds'"; exit 2; }
for m in $metrics; do
  case $m in text_random_utf8|text_random_gbk|text_utf8|text_ascii) ;; *) say "unknown metric '$m'"; exit 2 ;; esac
done
for t in socat python3 sha256sum; do command -v "$t" >/dev/null || { say "needs $t"; exit 1; }; done

if [ -z "${BENCH_NO_BUILD:-}${WIREPAD_BIN:-}" ]; then
  say "cargo build --release"
  (cd "$root" && timeout 1800 cargo build --release --bin wirepad)
fi
[ -x "$wirepad" ] || { say "$wirepad not found (cargo build --release)"; exit 1; }

dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/wirepad-decode.XXXXXX")
trap 'rm -rf "$dir"' EXIT
avail=$(( $(df -Pk "$dir" | awk 'NR==2{print $4}') * 1024 ))
(( avail > 4 * bytes + (64 << 20) )) || { say "not enough space in $dir: need ~$((4 * bytes >> 20)) MiB"; exit 1; }

# Inputs, made once: random bytes, and a log line (with and without CJK) repeated to the size.
say "generating inputs of $bytes bytes in $dir"
timeout "$tmo" head -c "$bytes" /dev/urandom >"$dir/random"
timeout "$tmo" python3 - "$bytes" "$dir" <<'PY'
import sys
n, d = int(sys.argv[1]), sys.argv[2]
line = "2024-05-06 12:00:00 sensor=42 temperature=21.5C humidity=40% 温度 正常\r\n"
for name, text in (("utf8", line), ("ascii", line.replace(" 温度 正常", ""))):
    unit = text.encode() * ((1 << 20) // len(text.encode()))
    with open(f"{d}/{name}", "wb") as f:
        left = n
        while left:
            piece = unit[:left]
            f.write(piece)
            left -= len(piece)
PY

source_of() { case $1 in text_random_*) echo random ;; text_utf8) echo utf8 ;; text_ascii) echo ascii ;; esac; }
encoding_of() { case $1 in text_random_gbk) echo gbk ;; *) echo utf-8 ;; esac; }

run() {   # run NAME SOURCE COMMAND... → the JSON result line; the received file is deleted afterwards
  local name=$1 src=$2; shift 2
  local out rc=0
  out=$(BENCH_SHA256=${sums[$src]} timeout $((tmo + 30)) \
    python3 "$root/bench/recv_bench.py" "$name" "$dir/$src" "$dir/$name.out" "$tmo" -- "$@") || rc=$?
  rm -f "$dir/$name.out"
  [ -n "$out" ] && echo "$out" >&2
  [ "$rc" -eq 0 ] || { say "FAIL: $name (exit $rc)"; return 1; }
  echo "$out"
}

declare -A sums
for src in random utf8 ascii; do
  sums[$src]=$(timeout "$tmo" sha256sum "$dir/$src" | cut -d' ' -f1)
  cat "$dir/$src" >/dev/null   # warm the page cache
done

results=()
for ((round = 1; round <= rounds; round++)); do
  for m in $metrics; do
    src=$(source_of "$m")
    say "round $round/$rounds: $m: wirepad"
    results+=("$(run "$m.wirepad" "$src" "$wirepad" tcp-server 127.0.0.1:0 --recv-file '{dest}' \
      -e "$(encoding_of "$m")" --quit-after-bytes "$bytes")") || exit 1
    say "round $round/$rounds: $m: socat"
    results+=("$(run "$m.socat" "$src" socat -u 'TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr' 'OPEN:{dest},creat,trunc')") \
      || exit 1
  done
done

python3 - "$bytes" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$metrics" "${results[@]}" <<'PY'
import json, statistics, sys
n, cpus, load, metrics = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].split()
rs = [json.loads(a) for a in sys.argv[5:]]
goals = {"text_random_utf8": 0.5, "text_random_gbk": 0.5, "text_utf8": 0.9, "text_ascii": 0.9}
print(f"bytes: {n} ({n / 2**20:.0f} MiB) per transfer, loopback TCP, sender: python socket.sendfile; wirepad prints text "
      f"to /dev/null and writes --recv-file, socat writes the file; {cpus} CPUs, load average {load}")
print(f"{'metric':<18} {'wirepad':>9} {'peer':>9} {'ratio':>6} {'goal':>6}  pass   (medians, MiB/s; peer: socat)")
lines = []
for m in metrics:
    runs = {who: [r for r in rs if r["name"] == f"{m}.{who}"] for who in ("wirepad", "socat")}
    med = {who: statistics.median(r["mib_per_s"] for r in rr) for who, rr in runs.items()}
    ratio = med["wirepad"] / med["socat"]
    ok = all(r["sha256_ok"] for rr in runs.values() for r in rr)
    passed = ok and ratio >= goals[m]
    print(f"{m:<18} {med['wirepad']:>9.1f} {med['socat']:>9.1f} {ratio:>6.2f} {goals[m]:>6.2f}  "
          f"{'pass' if passed else 'FAIL'}{'' if ok else '  (sha256 MISMATCH)'}")
    lines.append(json.dumps({"metric": m, "wirepad": med["wirepad"], "peer": med["socat"], "peer_name": "socat",
                             "unit": "MiB/s", "ratio": round(ratio, 3), "goal": goals[m], "pass": passed,
                             "runs_wirepad": [r["mib_per_s"] for r in runs["wirepad"]],
                             "runs_peer": [r["mib_per_s"] for r in runs["socat"]], "sha256_ok": ok}))
print("\n".join(lines))
PY
