#!/usr/bin/env bash
# README screenshots: the window under Xvfb in TCP server mode with two clients that have each sent GIB GiB
# (loopback only), at 800x560 and 1920x1080, in Chinese and English (`ONLY=zh`: the two Chinese ones); and two
# tabs side by side, a server and the client talking to it (`ONLY=tabs` makes just that one); the automation
# panels, the rules table with its hits counted and a script run with one failed step (`ONLY=automation`); the
# find bar with its matches marked (`ONLY=find`) and the throughput plot of a minute's traffic (`ONLY=plot`).
# Writes assets/screenshot-*.png.
# Needs: xvfb imagemagick xdotool python3 (Debian packages). BIN defaults to target/release/wirepad.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-target/release/wirepad}
gib=${GIB:-1.1}
out=${OUT:-assets}
work=$(mktemp -d)
xd=${XVFB_DISPLAY:-:77} # another free display lets two runs share the machine
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
Xvfb $xd -screen 0 1920x1080x24 -nolisten tcp -noreset >"$work/xvfb.log" 2>&1 &
# Up once its socket is there (a loaded machine takes more than a second).
for _ in $(seq 100); do [ -S "/tmp/.X11-unix/X${xd#:}" ] && break; sleep 0.1; done
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
# Starts `wirepad gui ARGS…` in English at WxH and sets $pid and $wid (the find and plot clicks are at 1280x800).
start_window() { # name WxH args...
  local name=$1 size=$2; shift 2
  local home="$work/home-$name"; mkdir -p "$home"
  env -u WAYLAND_DISPLAY LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8 HOME="$home" XDG_CONFIG_HOME="$home" XDG_DATA_HOME="$home" \
    DISPLAY=$xd "$bin" gui "$@" >"$work/out" 2>"$work/err-$name" &
  pid=$! wid=""
  for _ in $(seq 100); do wid=$(DISPLAY=$xd xdotool search --name '^Wirepad' 2>/dev/null | head -1 || true); [ -n "$wid" ] && break; sleep 0.1; done
  [ -n "$wid" ] || { echo "no window"; cat "$work/err-$name"; exit 1; }
  DISPLAY=$xd xdotool windowmove "$wid" 0 0 windowsize "$wid" "${size%x*}" "${size#*x}"
  sleep 2
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
  start_window rules 1600x900 tcp-server "127.0.0.1:$port" --log --frame gap:5 --rules "$rules"
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
  kill "$pid"; wait "$pid" 2>/dev/null || true
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
  start_window script 1600x900 tcp-client "127.0.0.1:$port" --log --script "$script"
  sleep 5
  DISPLAY=$xd import -window root -crop 1600x900+0+0 "$out/screenshot-script-1600x900.png"
  kill "$pid" "$server"; wait "$pid" 2>/dev/null || true
  echo "$out/screenshot-script-1600x900.png"
}
# A server tab that a client sent 600 GBK log lines in pieces, an alarm every 37 lines; Ctrl+F, "ALARM", Enter twice.
shoot_find() {
  local port; port=$(free_port)
  start_window find 1280x800 tcp-server "127.0.0.1:$port" --log -e gbk
  python3 - "$port" <<'PY'
import socket, sys, time
lines = [f"设备 A 温度=85.{n % 10}℃ ALARM 过热 序号={n:04d}\r\n" if n % 37 == 36 else
         f"设备 A 温度=23.{n % 10}℃ 湿度={40 + n % 7}% 序号={n:04d}\r\n" for n in range(600)]
data = "".join(lines).encode("gbk")
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
for at in range(0, len(data), 1000):
    s.sendall(data[at:at + 1000]); time.sleep(0.02)
time.sleep(1)
PY
  local x="env DISPLAY=$xd xdotool"
  $x windowfocus "$wid"; sleep 0.3
  $x key ctrl+f; sleep 0.5
  $x type --delay 50 'ALARM'; sleep 1
  $x key Return; sleep 0.5
  $x key Return; sleep 1
  DISPLAY=$xd import -window root -crop 1280x800+0+0 "$out/screenshot-find-1280x800.png"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$out/screenshot-find-1280x800.png"
}
# A client tab sending a line every 20 ms (periodic send) to a server whose sending rises and falls for 70 s, with a
# burst; the plot ticked. Clicks: Plot, then Periodic send.
shoot_plot() {
  local port; port=$(free_port)
  python3 - "$port" "$work/listening" <<'PY' &
import math, socket, sys, threading, time
listener = socket.socket(); listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1]))); listener.listen(1)
open(sys.argv[2], "w").close()
conn, _ = listener.accept()
threading.Thread(target=lambda: [None for _ in iter(lambda: conn.recv(65536), b"")], daemon=True).start()
line = "设备 A 温度=23.5℃ 湿度=41% 正常\r\n".encode("gbk")
start = time.monotonic()
while time.monotonic() - start < 80:
    t = time.monotonic() - start
    rate = 4000 + 3000 * math.sin(t / 6) + (12000 if 40 < t < 46 else 0)
    conn.sendall(line * max(1, int(rate / 10 / len(line))))
    time.sleep(0.1)
time.sleep(60)
PY
  local server=$!
  for _ in $(seq 100); do [ -e "$work/listening" ] && break; sleep 0.1; done
  start_window plot 1280x800 tcp-client "127.0.0.1:$port" --log -e gbk -s 'PING 设备 A\r\n' --repeat 0 --interval 20
  local x="env DISPLAY=$xd xdotool"
  $x windowfocus "$wid"
  $x mousemove 320 67 click 1; sleep 0.5
  $x mousemove 15 550 click 1
  sleep 70
  DISPLAY=$xd import -window root -crop 1280x800+0+0 "$out/screenshot-plot-1280x800.png"
  kill "$pid" "$server"; wait "$pid" 2>/dev/null || true
  echo "$out/screenshot-plot-1280x800.png"
}
case "${ONLY:-}" in
  zh) shoot zh zh_CN.UTF-8 800 560 zh-800x560; shoot zh zh_CN.UTF-8 1920 1080 zh-1920x1080; exit 0 ;;
  tabs) shoot_tabs; exit 0 ;;
  automation) shoot_rules; shoot_script; exit 0 ;;
  find) shoot_find; exit 0 ;;
  plot) shoot_plot; exit 0 ;;
esac
# Chinese systems default to GBK; the English window is told the peers' encoding with -e.
shoot zh zh_CN.UTF-8 800 560 zh-800x560
shoot en en_US.UTF-8 800 560 en-800x560 "-e gbk"
shoot zh zh_CN.UTF-8 1920 1080 zh-1920x1080
shoot en en_US.UTF-8 1920 1080 en-1920x1080 "-e gbk"
shoot_tabs
shoot_rules
shoot_script
shoot_find
shoot_plot
