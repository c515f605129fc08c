#!/usr/bin/env bash
# Build Wirepad for Windows (x86_64-pc-windows-gnu) and smoke-test the .exe under Wine, on Linux, over loopback only.
#   1. ../shared/tools/windows setup        (mingw-w64, wine64, the Rust target; apt-get needs root)
#   2. ../shared/tools/windows build --profile $WIREPAD_WINDOWS_PROFILE (default release; CI uses `smoke`, which builds
#      in a third of the time: what is smoke-tested here is the cross-build and the program, not the optimiser)
#   3. wirepad.exe tcp-server 127.0.0.1:0 --quit-after-bytes 5   ← a Linux peer sends "hello"
#      wirepad.exe udp --bind 127.0.0.1:0 --quit-after-bytes 3   ← a Linux peer sends "abc"
#      each must print its first stderr line (listening on / bound to ADDR), echo the bytes on stdout, and exit 0.
#   4. the window: wirepad.exe gui tcp-server 127.0.0.1:0 -e gbk --recv-file F under Xvfb; its port is read from
#      `ss -ltnp` (the new listener that Wine's server holds for it); a Linux peer sends GBK text, which F must hold; a
#      screenshot (its path is printed; WIREPAD_SCREENSHOT_DIR, default target/smoke) and the window must still run.
#      Needs Xvfb, xdotool, ImageMagick's import and ss (iproute2).
# Exit codes: 0 all passed; 1 the build or a smoke test failed; 3 the Windows toolchain is unavailable here
# (no ../shared/tools/windows, or apt/rustup could not install mingw-w64/wine/the target) — callers may skip on 3.
set -euo pipefail

root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null || (cd "$(dirname "$0")/.." && pwd))
tool=${WIREPAD_WINDOWS_TOOL:-$root/../shared/tools/windows}
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir = /* ]] || target_dir=$root/$target_dir
profile=${WIREPAD_WINDOWS_PROFILE:-release}
profile_dir=$profile; [ "$profile" = dev ] && profile_dir=debug
exe=$target_dir/x86_64-pc-windows-gnu/$profile_dir/wirepad.exe
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-60}   # seconds per smoke test; Wine's first start in a fresh prefix is slow

say() { printf 'windows.sh: %s\n' "$*" >&2; }
unavailable() { say "Windows toolchain unavailable: $*"; say "skipping the Windows build and smoke test (exit 3)"; exit 3; }

[ -x "$tool" ] || unavailable "$tool not found (the shared tools folder must sit beside the repository)"
command -v python3 >/dev/null || unavailable "python3 is needed for the Linux-side peer"

say "step 1/4: $tool setup"
if ! timeout 900 "$tool" setup </dev/null; then
  unavailable "'windows setup' failed (apt-get cannot install mingw-w64/wine64, or rustup cannot add the target)"
fi

say "step 2/4: $tool build --profile $profile"
cd "$root"
if ! timeout 1500 "$tool" build --profile "$profile" </dev/null; then
  say "FAIL: cargo build --target x86_64-pc-windows-gnu --profile $profile failed"; exit 1
fi
[ -f "$exe" ] || { say "FAIL: build succeeded but $exe is missing"; exit 1; }

tmp=$(mktemp -d)
bg="" xvfb=""
cleanup() { [ -n "$bg" ] && kill "$bg" 2>/dev/null; [ -n "$xvfb" ] && kill "$xvfb" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

# One X display (Xvfb) for every Wine run: the first program of a Wine session starts its desktop process
# (explorer.exe), which keeps that program's display; a window opened later in the same session needs it to be real.
unset DISPLAY
if command -v Xvfb >/dev/null; then
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$tmp/display" 2>"$tmp/xvfb.log" &
  xvfb=$!
  for ((i = 0; i < 100; i++)); do [ -s "$tmp/display" ] && break; sleep 0.1; done
  [ -s "$tmp/display" ] && export DISPLAY=":$(cat "$tmp/display")"
fi

# wait_ready ERRFILE PATTERN PID: wait (bounded) until ERRFILE has a line matching PATTERN; print the address it names.
wait_ready() {
  local errf=$1 pat=$2 pid=$3 i line first
  for ((i = 0; i < SMOKE_TIMEOUT * 10; i++)); do
    line=$(tr -d '\r' <"$errf" | grep -m1 -E "^$pat " || true)
    if [ -n "$line" ]; then
      first=$(head -n1 "$errf" | tr -d '\r')
      [ "$first" = "$line" ] || say "warning: the first stderr line was '$first', not the ready line '$line'"
      echo "${line#"$pat "}"; return 0
    fi
    kill -0 "$pid" 2>/dev/null || { say "the program exited before printing '$pat ADDR'"; return 1; }
    sleep 0.1
  done
  say "no '$pat ADDR' line on stderr within ${SMOKE_TIMEOUT}s"; return 1
}

# check NAME PID OUTFILE ERRFILE EXPECTED: wait for the program, then check its exit code and stdout.
check() {
  local name=$1 pid=$2 outf=$3 errf=$4 want=$5 rc=0
  wait "$pid" || rc=$?
  bg=""
  local got; got=$(tr -d '\r' <"$outf")
  if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then
    say "PASS: $name (exit 0, stdout '$got')"; return 0
  fi
  say "FAIL: $name: exit code $rc (want 0), stdout '$got' (want '$want')"
  [ "$rc" -eq 124 ] && say "  (killed by timeout after ${SMOKE_TIMEOUT}s)"
  say "  stderr was:"; sed 's/^/    /' "$errf" >&2
  return 1
}

# Linux peers: PEER PORT sends to wirepad.exe on 127.0.0.1:PORT.
tcp_peer() {
  timeout 20 python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(b"hello")
s.shutdown(socket.SHUT_WR)
while s.recv(4096):   # wait for the server to close after its 5 bytes
    pass
PY
}
udp_peer() {
  timeout 10 python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b"abc", ("127.0.0.1", int(sys.argv[1])))
PY
}

# smoke NAME READY WANT PEER ARGS...: runs wirepad.exe ARGS under Wine, waits for its "READY ADDR" line, runs
# PEER with the port, then checks that wirepad.exe printed WANT and exited 0.
smoke() {
  local name=$1 ready=$2 want=$3 peer=$4 addr; shift 4
  local outf="$tmp/$name.out" errf="$tmp/$name.err"
  : >"$outf"; : >"$errf"
  timeout "$SMOKE_TIMEOUT" "$tool" run "$exe" "$@" </dev/null >"$outf" 2>"$errf" &
  bg=$!
  if addr=$(wait_ready "$errf" "$ready" "$bg"); then
    say "$name is $ready $addr; sending '$want' from Linux"
    "$peer" "${addr##*:}" || say "the Linux peer of $name failed"
    check "$name receives '$want'" "$bg" "$outf" "$errf" "$want"
  else
    kill "$bg" 2>/dev/null || true; wait "$bg" 2>/dev/null || true; bg=""
    say "FAIL: $name never became ready"; sed 's/^/    /' "$errf" >&2; return 1
  fi
}

say "step 3/4: smoke tests under Wine ($exe)"
fail=0
smoke tcp-server "listening on" hello tcp_peer tcp-server 127.0.0.1:0 --quit-after-bytes 5 || fail=1
smoke udp "bound to" abc udp_peer udp --bind 127.0.0.1:0 --quit-after-bytes 3 || fail=1

# gbk_peer PORT: connects and sends GBK text (你好，Wirepad！ = C4 E3 BA C3 A3 AC ... A3 A1), then waits to be closed.
GBK_TEXT='你好，Wirepad！'
gbk_peer() {
  timeout 20 python3 - "$1" "$GBK_TEXT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
s.sendall(sys.argv[2].encode("gbk"))
s.settimeout(60)
try:
    s.recv(1)   # held open (the client shows in the window) until wirepad.exe is stopped
except OSError:
    pass
PY
}

# window_smoke: the window of the Windows build, under Wine and Xvfb, serving a GBK client.
window_smoke() {
  local tool_ok=1 t
  for t in xdotool import ss; do command -v "$t" >/dev/null || { say "FAIL: window: $t is needed"; tool_ok=0; }; done
  [ "$tool_ok" = 1 ] || return 1
  [ -n "${DISPLAY:-}" ] || { say "FAIL: window: Xvfb did not start"; cat "$tmp/xvfb.log" >&2; return 1; }
  local shots=${WIREPAD_SCREENSHOT_DIR:-$target_dir/smoke} i
  mkdir -p "$shots" "$tmp/run"; chmod 700 "$tmp/run"
  local display=$DISPLAY rx="$tmp/window-rx.bin" errf="$tmp/window.err" rc=1 before
  before=$(listeners)
  # Wine sees the Linux file system as drive Z:.
  local rx_win="Z:${rx//\//\\}"
  DISPLAY=$display XDG_RUNTIME_DIR="$tmp/run" timeout 300 "$tool" run "$exe" gui tcp-server 127.0.0.1:0 -e gbk \
    --recv-file "$rx_win" </dev/null >"$tmp/window.out" 2>"$errf" &
  bg=$!
  local port="" peer=""
  if ! window_ready "$display"; then
    say "FAIL: window: no window titled Wirepad within ${SMOKE_TIMEOUT}s"
  elif ! port=$(new_listener "$before"); then
    say "FAIL: window: no new listener on 127.0.0.1 held by Wine within ${SMOKE_TIMEOUT}s"
  else
    say "window: wirepad.exe listens on 127.0.0.1:$port; sending '$GBK_TEXT' as GBK from Linux"
    gbk_peer "$port" &
    peer=$!
    local want; want=$(printf '%s' "$GBK_TEXT" | iconv -t GBK | od -An -tx1 | tr -d ' \n')
    for ((i = 0; i < SMOKE_TIMEOUT * 10; i++)); do
      [ "$(od -An -tx1 "$rx" 2>/dev/null | tr -d ' \n')" = "$want" ] && break
      sleep 0.1
    done
    if [ "$(od -An -tx1 "$rx" 2>/dev/null | tr -d ' \n')" != "$want" ]; then
      say "FAIL: window: the receive file holds '$(od -An -tx1 "$rx" 2>/dev/null)', want the GBK bytes $want"
    elif ! kill -0 "$bg" 2>/dev/null; then
      say "FAIL: window: wirepad.exe exited after receiving"
    else
      # The bytes are in; a moment for the frame that shows them, then the picture.
      sleep 2
      local shot=$shots/wine-window.png
      if DISPLAY=$display timeout 20 import -window root "$shot" && kill -0 "$bg" 2>/dev/null; then
        say "PASS: window under Wine: alive, received the $((${#want} / 2)) bytes of GBK text; screenshot: $shot"
        rc=0
      else
        say "FAIL: window: no screenshot, or wirepad.exe exited"
      fi
    fi
  fi
  kill "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; bg=""
  [ -n "$peer" ] && { kill "$peer" 2>/dev/null; wait "$peer" 2>/dev/null; }
  say "window: what wirepad.exe printed on stderr:"; sed 's/^/    /' "$errf" >&2
  return "$rc"
}

# window_ready DISPLAY: a window titled Wirepad is mapped on DISPLAY (bounded by SMOKE_TIMEOUT).
window_ready() {
  DISPLAY=$1 timeout "$SMOKE_TIMEOUT" xdotool search --sync --onlyvisible --name '^Wirepad$' >/dev/null
}

# listeners: the TCP ports listening on 127.0.0.1, one a line.
listeners() { ss -Hltn 'src 127.0.0.1' | awk '{print $4}' | sed 's/.*://' | sort -u; }

# new_listener BEFORE: the port of a listener on 127.0.0.1 that Wine's server holds (under Wine, wineserver owns a
# program's sockets) and that was not in the list BEFORE (bounded wait).
new_listener() {
  local i port
  for ((i = 0; i < SMOKE_TIMEOUT * 10; i++)); do
    port=$(ss -Hltnp 'src 127.0.0.1' | grep -F '(("wineserver' | awk '{print $4}' | sed 's/.*://' | sort -u |
      comm -23 - <(printf '%s\n' "$1") | head -n1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    sleep 0.1
  done
  return 1
}

say "step 4/4: the window under Wine and Xvfb"
window_smoke || fail=1

if [ "$fail" -eq 0 ]; then say "all Windows smoke tests passed"; else say "Windows smoke tests FAILED"; fi
exit "$fail"
