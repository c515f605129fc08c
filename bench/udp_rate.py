#!/usr/bin/env python3
"""UDP receive rate (issue 8 §6): COUNT datagrams of 64 bytes offered at RATE per second over loopback, into
`wirepad udp --bind 127.0.0.1:0 --recv-file F -q` and into `socat -u UDP-RECV:P OPEN:F` in the same run; the share
each one received (file size / 64). Wirepad's stderr line with the kernel's drop count is shown as it printed it.

  python3 bench/udp_rate.py [--wirepad PATH] [--count 1000000] [--rate 80000]
"""
import argparse
import os
import re
import socket
import tempfile
import time

from common import DEFAULT_WIREPAD, ready_addr, ratio_at_least, say, spawn, stop, table

PAYLOAD = bytes(range(64))


def offer(addr, count, rate):
    """COUNT datagrams at RATE per second, paced every millisecond so no burst overruns a fair receiver."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    sent = 0
    while sent < count:
        due = min(count, int((time.monotonic() - start) * rate) + 1)
        while sent < due:
            s.sendto(PAYLOAD, addr)
            sent += 1
        time.sleep(0.001)
    s.close()
    return time.monotonic() - start


def received(proc, path, count, seconds, stops_by_itself):
    """Waits until the receiver is done (wirepad quits when idle; socat is stopped once its file stops growing,
    bounded), returns the datagrams its file holds."""
    last, still = -1, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None and (still < 5 or stops_by_itself):
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if size >= count * len(PAYLOAD) and not stops_by_itself:
            break
        still = still + 1 if size == last else 0
        last = size
        time.sleep(0.1)
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except Exception:
        stop(proc)
    return os.path.getsize(path) // len(PAYLOAD) if os.path.exists(path) else 0


def measure(wirepad, quick=False, count=None, rate=80000):
    count = count or (200000 if quick else 1000000)
    with tempfile.TemporaryDirectory(prefix="wirepad-udp.") as directory:
        path = os.path.join(directory, "wirepad")
        # It quits by itself so that it finishes its file and prints what the kernel dropped.
        proc = spawn([wirepad, "udp", "--bind", "127.0.0.1:0", "--recv-file", path, "-q", "--quit-when-idle", "1000"])
        try:
            addr = ready_addr(proc, "udp_rate")
            secs = offer(addr, count, rate)
            mine = received(proc, path, count, 10, True)
            tail = proc.stderr.read().decode(errors="replace").strip()
        finally:
            stop(proc)
        say("udp_rate", f"wirepad got {mine}/{count} in {secs:.1f} s; stderr: {tail or '(nothing)'}")
        path = os.path.join(directory, "socat")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = spawn(["socat", "-u", f"UDP-RECV:{port},bind=127.0.0.1", f"OPEN:{path},creat,trunc"])
        try:
            time.sleep(0.3)  # socat says nothing when bound; datagrams before that would count as its losses
            secs = offer(("127.0.0.1", port), count, rate)
            theirs = received(proc, path, count, 10, False)
        finally:
            stop(proc)
        say("udp_rate", f"socat got {theirs}/{count} in {secs:.1f} s")
    m = re.search(r"dropped (\d+) datagrams", tail)
    dropped = int(m.group(1)) if m else 0
    rows = [ratio_at_least(f"UDP 64 B x {count} at {rate // 1000}k/s: share received", "%", 100 * mine / count,
                           "socat", 100 * theirs / count, 0.8)]
    if mine + dropped != count:
        say("udp_rate", f"received {mine} + kernel dropped {dropped} = {mine + dropped} of {count}")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--rate", type=int, default=80000)
    a = ap.parse_args()
    print(table(measure(a.wirepad, count=a.count, rate=a.rate)))


if __name__ == "__main__":
    main()
