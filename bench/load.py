#!/usr/bin/env python3
"""The load generator (issue 25), each figure against its goal or its peer in the same run:

  unpaced udp  `wirepad load udp --rate 0` to a socket nobody reads, SECS seconds: datagrams/s sent, vs Packet
               Sender's CLI (`packetsender -u -A --rate 0 --usdelay 0`) where it is installed
  rate         UDP at 1,000/s for 10 s (and 10/s for 3 s) to a Python receiver that timestamps each datagram:
               the count within 1%, and no 10 ms window holding more than twice its share
  connections  10,000 TCP connections at --connect-rate 10000 against `wirepad tcp-server --echo`: connections
               opened per second (from the report's all_open_s) and the generator's peak RSS (VmHWM)
  honesty      a server that stalls 200 ms once a second, 100 messages/s for 5 s: the reported p99
  stop         Ctrl+C during an unpaced TCP run: time until the report is printed and the process has exited
  closed loop  C connections x T round trips of 64 B, one message in flight per connection (`--in-flight 1`),
               against `wirepad tcp-server --echo`: the run's duration (connects included) vs bench/latency.py's
               Python selectors driver doing the same round trips against the same server (connects excluded)
  repeatable   two identical unpaced TCP runs (10 connections, 3 s): messages/s and p50 within 10% of each other
  window       (needs Xvfb and ImageMagick's `import`) `wirepad gui load tcp|udp … --rate 0` against a wirepad echo
               server for SECS seconds: UI work per frame (WIREPAD_FRAME_LOG) p50/p99/max over the first half,
               and the plots live: their pixels, sampled once a second in the second half (a sample holds the X
               server), changed between (nearly) every two samples

  python3 bench/load.py [--wirepad PATH] [--quick] [--window]      (--window: only the window's rows)
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from common import Row, at_most, ratio_at_most, ready_addr, say, spawn, stop, run_part
from latency import PAYLOAD, many
from window import Display, Window, frame_rows

# Where the three live plots are on the screen: the window (1100x720) sits at the top left of the Xvfb screen, no
# window manager; the plots are the central panel's first row while a run is on (src/gui/ui/load.rs `plots`).
PLOTS = "800x150+290+150"


def run_load(wirepad, args, timeout=120):
    """Runs `wirepad load ARGS --report json`; returns (report, peak RSS in MB)."""
    proc = subprocess.Popen([wirepad, "load", *args, "--report", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    peak, deadline = 0.0, time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        peak = max(peak, hwm_mb(proc.pid))
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=timeout)
    return json.loads(out), peak


def hwm_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return 0.0


def sink():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def unpaced_udp(wirepad, secs):
    with sink() as s:
        port = s.getsockname()[1]
        report, _ = run_load(wirepad, ["udp", f"127.0.0.1:{port}", "--duration", str(secs), "-s", "x" * 32,
                                       "--timeout", "1"])
        ours = report["messages"]["sent"] / secs
        theirs = None
        if shutil.which("packetsender"):
            theirs = packetsender_rate(port, secs)
    say("load", f"unpaced UDP: wirepad {ours:.0f}/s, packetsender {theirs}")
    ok = theirs is None or ours >= 3 * theirs
    return Row("load unpaced UDP, 32 B", "datagrams/s", ours, "packetsender" if theirs else "", theirs,
               "ratio >= 3" if theirs else "", ok)


def packetsender_rate(port, secs):
    """Packet Sender's CLI at full speed: the kernel's UDP send counter over `secs`, counted from 1 s after it
    started (so Qt's start-up is not held against it); then stopped."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    try:
        proc = subprocess.Popen(["packetsender", "-q", "-u", "-A", "--rate", "0", "--usdelay", "0", "127.0.0.1",
                                 str(port), "x" * 32], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    except OSError:
        return None
    try:
        time.sleep(1)
        before, started = udp_out_datagrams(), time.monotonic()
        time.sleep(secs)
        sent = udp_out_datagrams() - before
        return sent / (time.monotonic() - started) if proc.poll() is None else None
    finally:
        stop(proc)


def udp_out_datagrams():
    lines = [line.split() for line in open("/proc/net/snmp") if line.startswith("Udp:")]
    return int(lines[1][lines[0].index("OutDatagrams")])


def paced_udp(wirepad, rate, secs):
    """Datagrams at `rate` for `secs`, timestamped as they arrive: (count, the busiest 10 ms window)."""
    arrivals = []
    with sink() as s:
        s.settimeout(2)
        port = s.getsockname()[1]

        def receive():
            while True:
                try:
                    s.recv(2048)
                except OSError:
                    return
                arrivals.append(time.monotonic())
        reader = threading.Thread(target=receive)
        reader.start()
        run_load(wirepad, ["udp", f"127.0.0.1:{port}", "--rate", str(rate), "--duration", str(secs), "-s", "n{seq}",
                           "--timeout", "1"])
        reader.join()
    windows = {}
    for at in arrivals:
        windows[int(at * 100)] = windows.get(int(at * 100), 0) + 1
    return len(arrivals), max(windows.values(), default=0)


def rate_rows(wirepad, quick):
    rows = []
    for rate, secs in ((1000, 3 if quick else 10), (10, 3)):
        count, busiest = paced_udp(wirepad, rate, secs)
        want = rate * secs
        share = max(1.0, rate / 100)
        say("load", f"UDP {rate}/s for {secs} s: {count} datagrams (want {want}), busiest 10 ms: {busiest}")
        rows.append(Row(f"load UDP {rate}/s for {secs} s", "datagrams", count, goal=f"{want} +-1%",
                        ok=abs(count - want) <= want * 0.01))
        rows.append(at_most(f"load UDP {rate}/s, busiest 10 ms", "datagrams", busiest, 2 * share))
    return rows


def connections(wirepad, n):
    server = spawn([wirepad, "tcp-server", "127.0.0.1:0", "--echo", "-q"])
    try:
        host, port = ready_addr(server, "echo server")
        report, peak = run_load(wirepad, ["tcp", f"{host}:{port}", "-c", str(n), "--connect-rate", str(2 * 5000),
                                          "--rate", "1", "--duration", "3", "-s", "m{seq}\\n", "--frame", "line"])
    finally:
        stop(server)
    c = report["connections"]
    per_s = c["established"] / c["all_open_s"] if c["all_open_s"] else 0.0
    say("load", f"{n} connections: {c}, peak RSS {peak:.1f} MB")
    return [Row(f"load {n} TCP connections opened", "per s", per_s, goal=">= 5000 and all open",
                ok=per_s >= 5000 and c["established"] == n),
            at_most(f"load {n} TCP connections, generator RSS", "MB", peak, 100)]


def stalling_server():
    """Echoes lines, but stalls 200 ms once a second."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve(conn):
        stall_at = time.monotonic() + 1
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                if time.monotonic() >= stall_at:
                    time.sleep(0.2)
                    stall_at += 1
                conn.sendall(line)

    def accept():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    threading.Thread(target=accept, daemon=True).start()
    return listener


def honesty(wirepad):
    listener = stalling_server()
    try:
        port = listener.getsockname()[1]
        report, _ = run_load(wirepad, ["tcp", f"127.0.0.1:{port}", "--rate", "100", "--duration", "5", "-s", "m\\n",
                                       "--frame", "line"])
    finally:
        listener.close()
    p99 = report["latency_ms"]["p99"]
    return Row("load p99 against a 200 ms stall a second", "ms", p99, goal=">= 150", ok=p99 >= 150)


def stop_time(wirepad):
    server = spawn([wirepad, "tcp-server", "127.0.0.1:0", "--echo", "-q"])
    try:
        host, port = ready_addr(server, "echo server")
        proc = subprocess.Popen([wirepad, "load", "tcp", f"{host}:{port}", "-c", "10", "-s", "m\\n", "--frame",
                                 "line"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        proc.stderr.readline()
        proc.stderr.readline()  # the first progress line: it is at full rate
        asked = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        took = (time.monotonic() - asked) * 1000
    finally:
        stop(server)
    return at_most("load stop at full rate (Ctrl+C to exit)", "ms", took, 100)


def closed_loop(wirepad, clients, trips):
    server = spawn([wirepad, "tcp-server", "127.0.0.1:0", "--echo", "-q"])
    try:
        host, port = ready_addr(server, "echo server")
        python = many((host, port), clients, trips)
        line = "x" * (len(PAYLOAD) - 1) + "\\n"
        report, _ = run_load(wirepad, ["tcp", f"{host}:{port}", "-c", str(clients), "--count", str(clients * trips),
                                       "--in-flight", "1", "-s", line, "--frame", "line"])
    finally:
        stop(server)
    replies, ours = report["messages"]["replies"], report["duration_s"]
    say("load", f"closed loop {clients}x{trips}: wirepad {ours:.2f} s ({replies} replies), Python driver {python:.2f} s")
    row = ratio_at_most(f"load closed loop, {clients} conns x {trips} round trips", "s", ours,
                        "latency.py driver", python, 1.0)
    row.ok = row.ok and replies == clients * trips
    return row


def repeatable(wirepad):
    """Two identical unpaced runs: how far apart their rates and medians are, the larger of the two."""
    server = spawn([wirepad, "tcp-server", "127.0.0.1:0", "--echo", "-q"])
    try:
        host, port = ready_addr(server, "echo server")
        args = ["tcp", f"{host}:{port}", "-c", "10", "--duration", "3", "-s", "m{seq}\\n", "--frame", "line"]
        a, b = (run_load(wirepad, args)[0] for _ in range(2))
    finally:
        stop(server)
    rate = [r["messages"]["sent"] / r["duration_s"] for r in (a, b)]
    p50 = [a["latency_ms"]["p50"], b["latency_ms"]["p50"]]
    apart = max(abs(x - y) / max(x, y) for x, y in (rate, p50)) * 100
    say("load", f"repeatability: {rate[0]:.0f} and {rate[1]:.0f} messages/s, p50 {p50[0]:.3f} and {p50[1]:.3f} ms")
    return at_most("load two identical runs: messages/s and p50 apart", "%", apart, 10)


def plot_pixels(display):
    """A digest of the plots' pixels now."""
    shot = subprocess.run(["import", "-display", f":{display.number}", "-window", "root", "-crop", PLOTS, "rgb:-"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10).stdout
    return hashlib.sha256(shot).hexdigest()


def window_run(wirepad, display, protocol, secs):
    """`wirepad gui load PROTOCOL … --rate 0` against a wirepad echo server: the frame rows over the run, and
    how many of the once-a-second samples of the plots differed from the one before."""
    echo = ["tcp-server", "127.0.0.1:0"] if protocol == "tcp" else ["udp", "--bind", "127.0.0.1:0"]
    server = spawn([wirepad, *echo, "--echo", "-q"])
    try:
        host, port = ready_addr(server, "echo server")
        frame = ["--frame", "line"] if protocol == "tcp" else []
        session = ["load", protocol, f"{host}:{port}", "-c", "10", "--rate", "0", "--duration", str(secs),
                   "-s", "m{seq}\\n", *frame]
        with tempfile.TemporaryDirectory(prefix="wirepad-load-window.") as home:
            window = Window(wirepad, display, home, session, listens=False)
            try:
                # After the first paint (window.py's own row: it builds the fonts), so from the second frame on.
                start = window.frame_lines()[0][0] + 1
                # Frames are timed in the run's first half and the plots sampled in its second: ImageMagick's
                # `import` holds the X server, and the frame after each sample waited 60 ms behind it.
                half = window.started * 1000 + secs * 500
                while time.time() * 1000 < half:
                    time.sleep(0.05)
                end = time.time() * 1000
                shots = []
                # The run started with the window: sample until its duration is over.
                while time.time() * 1000 < window.started * 1000 + secs * 1000:
                    shots.append(plot_pixels(display))
                    time.sleep(1)
                window.settle(10)
                lines = window.frame_lines()
                say("load", f"{protocol} window, first half: {window.cpu_summary(start, end)}")
            finally:
                window.close()
    finally:
        stop(server)
    label = f"window, load {protocol} --rate 0, 10 connections, {secs} s"
    timed = f"{label}, frames of the first half"
    moved = sum(1 for a, b in zip(shots, shots[1:]) if a != b)
    pairs = max(len(shots) - 1, 0)
    say("load", f"{label}: the plots changed between {moved} of {pairs} samples a second apart")
    return frame_rows(timed, lines, start, end) + [
        Row(f"{label}: plots changed between samples 1 s apart", "samples", moved, goal=f">= {pairs - 1} of {pairs}",
            ok=pairs > 0 and moved >= pairs - 1)]


def window_rows(wirepad, quick=False):
    secs = 5 if quick else 10
    display = Display()
    try:
        return window_run(wirepad, display, "tcp", secs) + window_run(wirepad, display, "udp", secs)
    finally:
        display.close()


def measure(wirepad, quick=False):
    rows = [unpaced_udp(wirepad, 2 if quick else 5)] + rate_rows(wirepad, quick) + \
        connections(wirepad, 1000 if quick else 10_000) + [honesty(wirepad), stop_time(wirepad)] + \
        [closed_loop(wirepad, 200 if quick else 1000, 20 if quick else 100), repeatable(wirepad)]
    if shutil.which("Xvfb") and shutil.which("import"):
        rows += window_rows(wirepad, quick)
    else:
        say("load", "no Xvfb or ImageMagick import: the window's rows are left out")
    return rows


if __name__ == "__main__":
    if "--window" in sys.argv:
        sys.argv.remove("--window")
        run_part(window_rows)
    else:
        run_part(measure)
