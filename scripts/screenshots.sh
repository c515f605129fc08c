#!/usr/bin/env bash
# README screenshots: the window under Xvfb in TCP server mode with two clients that have each sent GIB GiB
# (loopback only), at 800x560 and 1920x1080, in Chinese and English; and two tabs side by side, a server and
# the client talking to it (`ONLY=tabs` makes just that one); and the automation panels, the rules table with its
# hits counted and a script run with one failed step (`ONLY=automation`). Writes assets/screenshot-*.png.
# Needs: xvfb imagemagick xdotool python3 (Debian packages). BIN defaults to target/release/wirepad.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release/wirepad}
gib=${GIB:-1.1}
out=${OUT:-assets}
work=$(mktemp -d)
xd=${XVFB_DISPLAY:-:77} # another free display lets two runs share the machine
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
Xvfb $xd -screen 0 1920x1080x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
sleep 1
shoot() { # lang locale width height name [extra gui args]
  local home="$work/home-$5"; mkdir -p "$home"
  env -u WAYLAND_DISPLAY LANG="$2" LC_ALL="$2" HOME="$home" XDG_CONFIG_HOME="$home" XDG_DATA_HOME="$home" DISPLAY=$xd \
    "$bin" gui tcp-server 127.0.0.1:0 --log ${6:-} >"$work/out" 2>"$work/err-$5" &
  local pid=$!
  local wid=""
  for _ in $(seq 100); do wid=$(DISPLAY=$xd xdotool search --name '^Wirepad' 2>/dev/null | head -1 || true); [ -n "$wid" ] && break; sleep 0.1; done
  [ -n "$wid" ] || { echo "no window"; cat "$work/err-$5"; exit 1; }
  DISPLAY=$xd xdotool windowmove "$wid" 0 0 windowsize "$wid" "$3" "$4"
  sleep 1
  # The window's session listens on a port it chose: find it from the process's sockets.
  local port
  port=$(PYTHONPATH=bench python3 -c 'import sys; from common import listening_port; print(listening_port(sys.argv[1]))' "$pid")
  # The clients stay connected until the screenshot is taken.
  python3 - "$port" "$gib" "$work/sent" <<'PY' &
import socket, sys, threading, time
port, gib, done = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
def block(name):
    lines = "".join(f"设备 {name} 温度=23.{n % 10}℃ 湿度={40 + n % 7}% 序号={n:06d}\r\n" for n in range(20000))
    data = lines.encode("gbk")
    return data * (2**20 // len(data) + 1)
def send(text):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(text.encode("gbk"))
    data = block(text.split()[-1])
    for _ in range(int(gib * 2**30) // len(data) + 1):
        s.sendall(data)
    s.sendall("\r\n你好，NetAssist\r\n".encode("gbk"))
    s.sendall(bytes([0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD]))
    held.append(s)
held = []
threads = [threading.Thread(target=send, args=(t,)) for t in ("设备 A\r\n", "设备 B\r\n")]
[t.start() for t in threads]; [t.join() for t in threads]
open(done, "w").close()
time.sleep(120)
PY
  local peers=$!
  rm -f "$work/sent"
  for _ in $(seq 1200); do [ -e "$work/sent" ] && break; sleep 0.1; done
  sleep 2.5
  DISPLAY=$xd import -window root -crop "${3}x${4}+0+0" "$out/screenshot-$5.png"
  kill "$peers" "$pid"; wait "$pid" 2>/dev/null || true
  echo "$out/screenshot-$5.png"
}
# `wirepad gui SERVER + CLIENT` at 1600x900: the two tabs open side by side; each side sends once (the clicks
# are at the Send buttons and the server's send box of that layout).
shoot_tabs() {
  local home="$work/home-tabs"; mkdir -p "$home"
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  env -u WAYLAND_DISPLAY LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8 HOME="$home" XDG_CONFIG_HOME="$home" XDG_DATA_HOME="$home" \
    DISPLAY=$xd "$bin" gui tcp-server "127.0.0.1:$port" --log -e gbk \
    + tcp-client "127.0.0.1:$port" --log -e gbk -s '你好，服务器！\r\n' >"$work/out" 2>"$work/err-tabs" &
  local pid=$! wid=""
  for _ in $(seq 100); do wid=$(DISPLAY=$xd xdotool search --name '^Wirepad' 2>/dev/null | head -1 || true); [ -n "$wid" ] && break; sleep 0.1; done
  [ -n "$wid" ] || { echo "no window"; cat "$work/err-tabs"; exit 1; }
  local x="env DISPLAY=$xd xdotool"
  $x windowmove "$wid" 0 0 windowsize "$wid" 1600 900
  sleep 2
  $x windowfocus "$wid"
  $x mousemove 1534 800 click 1; sleep 0.5
  $x mousemove 480 815 click 1; sleep 0.3
  $x type --delay 20 'Welcome! Your name?'; sleep 0.3
  $x mousemove 733 823 click 1; sleep 0.5
  $x mousemove 1534 800 click 1; sleep 1.5
  DISPLAY=$xd import -window root -crop 1600x900+0+0 "$out/screenshot-tabs-1600x900.png"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$out/screenshot-tabs-1600x900.png"
}
# Starts `wirepad gui ARGS...` at 1600x900 in English and prints its window id.
start_window() { # name args...
  local home="$work/home-$1"; mkdir -p "$home"
  local name=$1; shift
  env -u WAYLAND_DISPLAY LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8 HOME="$home" XDG_CONFIG_HOME="$home" XDG_DATA_HOME="$home" \
    DISPLAY=$xd "$bin" gui "$@" >"$work/out" 2>"$work/err-$name" &
  echo $! >"$work/pid-$name"
  local wid=""
  for _ in $(seq 100); do wid=$(DISPLAY=$xd xdotool search --name '^Wirepad' 2>/dev/null | head -1 || true); [ -n "$wid" ] && break; sleep 0.1; done
  [ -n "$wid" ] || { echo "no window" >&2; cat "$work/err-$name" >&2; exit 1; }
  DISPLAY=$xd xdotool windowmove "$wid" 0 0 windowsize "$wid" 1600 900
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# A server answering with the Modbus example's rules and three text rules; a client asks each a few times.
shoot_rules() {
  local port rules="$work/rules.toml"
  port=$(free_port)
  cat - examples/modbus-rules.toml >"$rules" <<'TOML'
[[rule]]
name = "ping"
match = "PING"
reply = "PONG {count}\r\n"

[[rule]]
name = "get"
match_regex = '^GET (\S+)'
reply = "200 OK $1 from {peer}\r\n"
delay_ms = 20

[[rule]]
name = "quit"
enabled = false
match = "QUIT"
reply = "BYE\r\n"

TOML
  start_window rules tcp-server "127.0.0.1:$port" --log --frame gap:5 --rules "$rules"
  sleep 2
  python3 - "$port" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
asks = [b"PING\r\n"] * 3 + [b"GET /status\r\n", b"GET /index.html\r\n"] + [bytes.fromhex("01 03 00 00 00 02 C4 0B")] * 2
asks += [bytes.fromhex("01 06 00 01 00 03 98 0B"), bytes.fromhex("01 03 00 10 00 01 85 CF")]
for ask in asks:
    s.sendall(ask)
    time.sleep(0.15)
time.sleep(1)
PY
  sleep 1
  DISPLAY=$xd import -window root -crop 1600x900+0+0 "$out/screenshot-rules-1600x900.png"
  kill "$(cat "$work/pid-rules")"; wait "$(cat "$work/pid-rules")" 2>/dev/null || true
  echo "$out/screenshot-rules-1600x900.png"
}
# A client running the login script against examples/login-server.py, its last expect wrong: that step fails.
shoot_script() {
  local port script="$work/script.toml"
  port=$(free_port)
  python3 examples/login-server.py "$port" &
  local server=$!
  sed 's/expect = "Hello,Michael!"/expect = "Hello,Bob!"/' examples/login-script.toml >"$script"
  sleep 0.5
  start_window script tcp-client "127.0.0.1:$port" --log --script "$script"
  sleep 5
  DISPLAY=$xd import -window root -crop 1600x900+0+0 "$out/screenshot-script-1600x900.png"
  kill "$(cat "$work/pid-script")" "$server"; wait "$(cat "$work/pid-script")" 2>/dev/null || true
  echo "$out/screenshot-script-1600x900.png"
}
if [ "${ONLY:-}" = tabs ]; then shoot_tabs; exit 0; fi
if [ "${ONLY:-}" = automation ]; then shoot_rules; shoot_script; exit 0; fi
# Chinese systems default to GBK; the English window is told the peers' encoding with -e.
shoot zh zh_CN.UTF-8 800 560 zh-800x560
shoot en en_US.UTF-8 800 560 en-800x560 "-e gbk"
shoot zh zh_CN.UTF-8 1920 1080 zh-1920x1080
shoot en en_US.UTF-8 1920 1080 en-1920x1080 "-e gbk"
shoot_tabs
