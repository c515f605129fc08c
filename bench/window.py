#!/usr/bin/env python3
"""The window under load (issue 8 §2–3), under Xvfb: first paint, idle memory and CPU, frame times and memory
while 1 GiB of random bytes floods a TCP server session (text view, then hex), memory after Clear (Ctrl+L), and
memory while 1,000,000 UDP datagrams of 64 bytes arrive. With --relay instead (issue 23): a relay tab between a
Python upstream that sends 1 GiB of random bytes and a client that reads and discards them.

  python3 bench/window.py [--wirepad PATH] [--quick] [--relay]

Frame times come from WIREPAD_FRAME_LOG (contract: "UNIX_MS UI_MS" per frame). RSS is sampled every 20 ms from
/proc. Needs Xvfb and xdotool (Debian: xvfb xdotool). Every wait is bounded.
"""
import argparse
import os
import socket
import subprocess
import tempfile
import threading
import time

from common import DEFAULT_WIREPAD, Row, at_most, cpu_seconds, listening_port, pct, rss_mib, say, spawn, stop, table

SIZE = (1280, 800)
# settings::DEFAULT_HISTORY_MIB, the one history budget the window's tabs share.
HISTORY_BUDGET_MIB = 256


class Display:
    """A private Xvfb server (the first free display from :90, or NUMBER)."""

    def __init__(self, number=None):
        self.number = number or next(n for n in range(90, 200) if not os.path.exists(f"/tmp/.X11-unix/X{n}"))
        self.proc = subprocess.Popen(["Xvfb", f":{self.number}", "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24",
                                      "-nolisten", "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{self.number}"):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("window: Xvfb did not start")
            time.sleep(0.05)

    def close(self):
        stop(self.proc)
        # A killed Xvfb leaves its socket and lock behind, and the next display would skip the number: after some
        # hundred runs there was none left.
        for leftover in (f"/tmp/.X11-unix/X{self.number}", f"/tmp/.X{self.number}-lock"):
            try:
                os.remove(leftover)
            except FileNotFoundError:
                pass


class Window:
    """`wirepad gui SESSION...` on the display, with a fresh home (default settings) and a frame log; waits for the
    first frame and, when it `listens`, for the session's port."""

    def __init__(self, wirepad, display, home, session, listens=True):
        self.frames = os.path.join(home, "frames.log")
        self.cpu_frames = os.path.join(home, "frames-cpu.log")
        env = dict(os.environ, DISPLAY=f":{display.number}", HOME=home, XDG_CONFIG_HOME=home, XDG_DATA_HOME=home,
                   LANG="en_US.UTF-8", LC_ALL="en_US.UTF-8", WIREPAD_FRAME_LOG=self.frames,
                   WIREPAD_FRAME_CPU_LOG=self.cpu_frames)
        env.pop("WAYLAND_DISPLAY", None)
        self.display = f":{display.number}"
        self.started = time.time()
        self.proc = spawn([wirepad, "gui", *session], env=env, stderr=subprocess.DEVNULL)
        self.first_paint_ms = None
        deadline = time.monotonic() + 20
        while self.first_paint_ms is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("window: no frame within 20 s")
            lines = self.frame_lines()
            if lines:
                self.first_paint_ms = lines[0][0] - self.started * 1000
            time.sleep(0.005)
        proto = "udp" if session[0] == "udp" else "tcp"
        self.port = None
        # A load test tab (`gui load …`) listens on nothing.
        while listens and self.port is None:
            if time.monotonic() > deadline:
                raise RuntimeError("window: the session did not open")
            self.port = listening_port(self.proc.pid, proto)
            time.sleep(0.02)

    def frame_lines(self, path=None):
        try:
            with open(path or self.frames) as f:
                return [(int(a), float(b)) for a, b in (line.split() for line in f if line.count(" ") == 1)]
        except FileNotFoundError:
            return []

    def cpu_lines(self):
        """WIREPAD_FRAME_CPU_LOG: the UI thread's own CPU time per frame, without waiting for a core or the
        renderer (llvmpipe here) that eframe's figure counts."""
        return self.frame_lines(self.cpu_frames)

    def cpu_summary(self, start_ms, end_ms):
        times = [ms for t, ms in self.cpu_lines() if start_ms <= t <= end_ms]
        return (f"UI thread CPU per frame: p50 {pct(times, 0.5):.1f}  p99 {pct(times, 0.99):.1f}  "
                f"max {max(times, default=0.0):.1f} ms")

    def key(self, keys):
        """Keys to the window: focus it (no window manager here), then type."""
        env = dict(os.environ, DISPLAY=self.display)
        wid = subprocess.run(["xdotool", "search", "--pid", str(self.proc.pid)], env=env, stdout=subprocess.PIPE,
                             text=True, timeout=5).stdout.split()
        for w in wid:
            subprocess.run(["xdotool", "windowfocus", "--sync", w, "key", keys], env=env, timeout=5,
                           stderr=subprocess.DEVNULL)

    def settle(self, seconds):
        """Waits until the window has drawn nothing new for a second (or SECONDS pass)."""
        deadline = time.monotonic() + seconds
        count = -1
        while time.monotonic() < deadline:
            now = len(self.frame_lines())
            if now == count:
                return
            count = now
            time.sleep(1)

    def close(self):
        stop(self.proc)


class Sampler:
    """Peak RSS of a process, sampled every 20 ms on a thread of its own."""

    def __init__(self, pid):
        self.pid, self.peak, self.running = pid, 0.0, True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while self.running:
            try:
                self.peak = max(self.peak, rss_mib(self.pid))
            except OSError:
                return
            time.sleep(0.02)

    def close(self):
        self.running = False
        self.thread.join()
        return self.peak


def send_random(s, size):
    """SIZE bytes of random data in 16 MiB blocks (fresh every 64 MiB)."""
    block = os.urandom(16 << 20)
    left = size
    while left > 0:
        if left % (64 << 20) == 0:
            block = os.urandom(16 << 20)
        n = min(left, len(block))
        s.sendall(block[:n])
        left -= n


def flood_tcp(port, size):
    """SIZE random bytes to a TCP server, then close."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        send_random(s, size)


class FloodingUpstream:
    """A relay's upstream on 127.0.0.1: sends SIZE random bytes to the first connection, then closes it."""

    def __init__(self, size):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(60)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self.run, args=(size,), daemon=True)
        self.thread.start()

    def run(self, size):
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(60)
                send_random(conn, size)
        except OSError as e:
            say("window", f"relay upstream: {e}")

    def close(self):
        self.listener.close()
        self.thread.join(5)


def drain(port, size, seconds):
    """A relay's client: reads and discards until SIZE bytes, the end of the stream, or SECONDS pass."""
    deadline = time.monotonic() + seconds
    got = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        while got < size and time.monotonic() < deadline:
            data = s.recv(1 << 20)
            if not data:
                break
            got += len(data)
    return got


def flood_udp(port, count, rate=100000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = bytes(range(64))
    start, sent = time.monotonic(), 0
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            s.sendto(payload, ("127.0.0.1", port))
            sent += 1
        time.sleep(0.001)
    s.close()


def frame_rows(label, lines, start_ms, end_ms):
    during = [(t, ms) for t, ms in lines if start_ms <= t <= end_ms]
    times = [ms for _, ms in during]
    gaps = [b - a for (a, _), (b, _) in zip(during, during[1:])]
    return [
        Row(f"{label}: UI work per frame, p50", "ms", pct(times, 0.5), goal="-"),
        at_most(f"{label}: UI work per frame, p99 ({len(times)} frames)", "ms", pct(times, 0.99), 16),
        at_most(f"{label}: UI work per frame, max", "ms", max(times, default=0.0), 50),
        Row(f"{label}: longest time between frames", "ms", max(gaps, default=0.0), goal="-"),
    ]


def flooded(window, label, flood, peak_limit=200):
    """Runs `flood()` at the window, then waits for it to settle: the frame rows of the flood and its peak RSS
    (checked against `peak_limit` MiB; None: only shown)."""
    sampler = Sampler(window.proc.pid)
    start = time.time() * 1000
    flood()
    end = time.time() * 1000
    window.settle(30)
    peak = sampler.close()
    say("window", f"{label}: {(end - start) / 1000:.1f} s")
    peak_row = (Row(f"{label}: peak RSS", "MiB", peak, goal="-") if peak_limit is None
                else at_most(f"{label}: peak RSS", "MiB", peak, peak_limit))
    say("window", f"{label}: {window.cpu_summary(start, end)}")
    return frame_rows(label, window.frame_lines(), start, end) + [peak_row]


def measure(wirepad, quick=False):
    flood = (256 << 20) if quick else (1 << 30)
    datagrams = 200000 if quick else 1000000
    rows = []
    display = Display()
    try:
        for view in ("text", "hex"):
            with tempfile.TemporaryDirectory(prefix="wirepad-window.") as home:
                window = Window(wirepad, display, home, ["tcp-server", "127.0.0.1:0"] + (["--hex"] if view == "hex"
                                                                                          else []))
                try:
                    time.sleep(3)
                    idle = rss_mib(window.proc.pid)
                    if view == "text":
                        rows.append(at_most("window: first frame drawn after start", "ms", window.first_paint_ms,
                                            300))
                        rows.append(at_most("window: idle RSS, session open", "MiB", idle, 80))
                        cpu = cpu_seconds(window.proc.pid)
                        time.sleep(10)
                        rows.append(at_most("window: idle CPU over 10 s, session open", "%",
                                            10 * (cpu_seconds(window.proc.pid) - cpu), 1))
                    label = f"window, {flood >> 20} MiB random into a TCP server, {view} view"
                    rows += flooded(window, label, lambda: flood_tcp(window.port, flood))
                    window.key("ctrl+l")
                    window.settle(10)
                    time.sleep(2)
                    after = rss_mib(window.proc.pid)
                    rows.append(at_most(f"{label}: RSS after Clear minus idle RSS", "MiB", after - idle, 20))
                finally:
                    window.close()
        with tempfile.TemporaryDirectory(prefix="wirepad-window.") as home:
            window = Window(wirepad, display, home, ["udp", "--bind", "127.0.0.1:0"])
            try:
                time.sleep(2)
                label = f"window, {datagrams} UDP datagrams of 64 B at 100k/s"
                rows += flooded(window, label, lambda: flood_udp(window.port, datagrams))
            finally:
                window.close()
    finally:
        display.close()
    return rows


def measure_relay(wirepad, quick=False, display_number=None):
    """The window with a relay under a flood: frames, and peak RSS against idle + history budget + 80 MiB."""
    flood = (256 << 20) if quick else (1 << 30)
    display = Display(display_number)
    upstream = FloodingUpstream(flood)
    try:
        with tempfile.TemporaryDirectory(prefix="wirepad-window.") as home:
            window = Window(wirepad, display, home, ["relay", "127.0.0.1:0", f"127.0.0.1:{upstream.port}"])
            try:
                time.sleep(3)
                idle = rss_mib(window.proc.pid)
                rows = [Row("window: idle RSS, relay open", "MiB", idle, goal="-")]
                label = f"window, relay, {flood >> 20} MiB random upstream to client"
                got = []
                rows += flooded(window, label, lambda: got.append(drain(window.port, flood, 600)),
                                peak_limit=idle + HISTORY_BUDGET_MIB + 80)
                read = got[0] / (1 << 20)
                rows.append(Row(f"{label}: bytes the client read", "MiB", read, goal=f"= {flood >> 20} MiB",
                                ok=got[0] == flood))
            finally:
                window.close()
    finally:
        upstream.close()
        display.close()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--quick", action="store_true", help="256 MiB floods and 200,000 datagrams")
    ap.add_argument("--relay", action="store_true", help="only the relay tab under a flood")
    ap.add_argument("--display", type=int, help="the Xvfb display number for --relay (default: the first free)")
    a = ap.parse_args()
    print(table(measure_relay(a.wirepad, a.quick, a.display) if a.relay else measure(a.wirepad, a.quick)))


if __name__ == "__main__":
    main()
