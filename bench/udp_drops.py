#!/usr/bin/env python3
"""UDP drops at the end of a burst (issue 21, finding 6): COUNT datagrams of 64 bytes sent as fast as Python can
into `wirepad udp --bind 127.0.0.1:0 --quit-when-idle 2000`, whose stdout is read only DELAY seconds later (so it
stalls and the kernel drops). Compares the drop count Wirepad prints at the end with the kernel's own count for its
socket (the drops column of /proc/net/udp, read until the socket is gone). Linux only.

  python3 bench/udp_drops.py [--wirepad PATH] [--count 400000] [--delay 3]
"""
import argparse
import re
import socket
import subprocess
import threading
import time

from common import DEFAULT_WIREPAD, ready_addr, say

PAYLOAD = bytes(range(64))


def kernel_drops(port, seen, done):
    """Keeps the last drop count /proc/net/udp shows for the socket bound to PORT, until DONE is set."""
    local = f":{port:04X}"
    while not done.is_set():
        for line in open("/proc/net/udp").read().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(local):
                seen[0] = int(fields[-1])
        time.sleep(0.02)


def measure(wirepad, count, delay):
    proc = subprocess.Popen([wirepad, "udp", "--bind", "127.0.0.1:0", "--quit-when-idle", "2000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    addr = ready_addr(proc, "udp_drops")
    seen, done = [0], threading.Event()
    watcher = threading.Thread(target=kernel_drops, args=(addr[1], seen, done))
    watcher.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _ in range(count):
            s.sendto(PAYLOAD, addr)
    time.sleep(delay)  # the reader that comes late: the measured condition, not a synchronisation
    out = proc.stdout.read()
    proc.wait(timeout=60)
    done.set()
    watcher.join()
    tail = proc.stderr.read().decode(errors="replace")
    m = re.search(r"dropped (\d+) datagrams", tail)
    reported = int(m.group(1)) if m else 0
    got = len(out) // len(PAYLOAD)
    say("udp_drops", f"sent {count}, printed {got}, kernel dropped {seen[0]} (/proc/net/udp), "
                     f"wirepad reported {reported}")
    return got, seen[0], reported


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--count", type=int, default=400000)
    ap.add_argument("--delay", type=float, default=3)
    a = ap.parse_args()
    measure(a.wirepad, a.count, a.delay)


if __name__ == "__main__":
    main()
