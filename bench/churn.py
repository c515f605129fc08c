#!/usr/bin/env python3
"""A storm of short connections at the window (issue 22 §12), under Xvfb: THREADS threads each connect, send one
32-byte line and close, again and again for SECONDS (and at most MAX_CLIENTS in all), into `wirepad gui
tcp-server`. Reports the frames' UI time during the storm (p50, p99, max) and RSS before, at the end, and after
the window settled, and every 10 s of the storm.

  python3 bench/churn.py [--wirepad PATH] [--seconds 40] [--threads 10]

Frame times come from WIREPAD_FRAME_LOG ("UNIX_MS UI_MS" per frame). Every wait is bounded.
"""
import argparse
import socket
import tempfile
import threading
import time

from common import DEFAULT_WIREPAD, pct, rss_mib, say
from window import Display, Window

LINE = b"churn storm, one short line 0123\n"[:31] + b"\n"
MAX_CLIENTS = 2_000_000


def storm(port, seconds, threads):
    """Connect, send LINE, close, in THREADS threads until SECONDS pass; returns how many connections were made."""
    deadline = time.monotonic() + seconds
    counts = [0] * threads
    lock = threading.Lock()
    total = [0]

    def run(index):
        while time.monotonic() < deadline:
            with lock:
                if total[0] >= MAX_CLIENTS:
                    return
                total[0] += 1
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(LINE)
                counts[index] += 1
            except OSError:
                time.sleep(0.01)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    [w.start() for w in workers]
    [w.join(seconds + 30) for w in workers]
    return sum(counts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--threads", type=int, default=10)
    args = parser.parse_args()
    display = Display()
    try:
        with tempfile.TemporaryDirectory() as home:
            window = Window(args.wirepad, display, home, ["tcp-server", "127.0.0.1:0"])
            try:
                window.settle(5)
                before = rss_mib(window.proc.pid)
                start = time.time() * 1000
                # RSS every 10 s of the storm: bounded memory levels off once the history's budget is full.
                samples, storming = [], threading.Event()
                storming.set()

                def sample():
                    while storming.is_set():
                        samples.append(rss_mib(window.proc.pid))
                        time.sleep(10)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                clients = storm(window.port, args.seconds, args.threads)
                storming.clear()
                end = time.time() * 1000
                at_end = rss_mib(window.proc.pid)
                window.settle(20)
                settled = rss_mib(window.proc.pid)
                times = [ms for t, ms in window.frame_lines() if start <= t <= end]
                say("churn", f"{clients} clients in {(end - start) / 1000:.1f} s, {len(times)} frames")
                print(f"frame UI ms: p50 {pct(times, 0.5):.1f}  p99 {pct(times, 0.99):.1f}  "
                      f"max {max(times, default=0.0):.1f}")
                print(window.cpu_summary(start, end))
                print(f"RSS MiB: before {before:.0f}  at the end {at_end:.0f}  settled {settled:.0f}")
                print("RSS MiB every 10 s: " + " ".join(f"{mib:.0f}" for mib in samples))
            finally:
                window.close()
    finally:
        display.close()


if __name__ == "__main__":
    main()
