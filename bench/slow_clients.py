#!/usr/bin/env python3
"""Echo clients that send and do not read (issue 9 §1): is echo data lost, and how big does wirepad get?

  python3 bench/slow_clients.py [--wirepad PATH] [--clients 8] [--mib 100]

Starts `wirepad tcp-server 127.0.0.1:0 --echo -q`; each client (64 KiB receive buffer) sends up to MIB MiB without
reading, until no client makes progress for 2 s (or 8 s in all); then every client reads its echo back (10 s
timeout each) and closes. Prints what was sent, what came back (the difference must be 0), and wirepad's RSS at its
peak, while stalled, and 1.5 s after every client left. Needs Linux (/proc).
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import time


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=os.path.join(root, "target", "release", "wirepad"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--mib", type=int, default=100)
    a = ap.parse_args()
    per = a.mib << 20
    proc = subprocess.Popen([a.wirepad, "tcp-server", "127.0.0.1:0", "--echo", "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    m = re.search(r"listening on (\S+):(\d+)", proc.stderr.readline().decode())
    if not m:
        proc.kill()
        sys.exit("slow_clients: wirepad did not start")
    addr = (m.group(1), int(m.group(2)))

    def rss_mib():
        with open(f"/proc/{proc.pid}/status") as status:
            return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))

    socks = []
    for _ in range(a.clients):
        s = socket.create_connection(addr, timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
        s.setblocking(False)
        socks.append(s)
    sent = {s: 0 for s in socks}
    chunk = b"z" * (64 << 10)
    deadline = time.monotonic() + 8
    progress = time.monotonic()
    peak = 0
    while time.monotonic() < deadline and time.monotonic() - progress < 2:
        for s in socks:
            if sent[s] < per:
                try:
                    sent[s] += s.send(chunk)
                    progress = time.monotonic()
                except BlockingIOError:
                    pass
        peak = max(peak, rss_mib())
    stalled = rss_mib()
    got = {s: 0 for s in socks}
    for s in socks:
        s.setblocking(True)
        s.settimeout(10)
        try:
            while got[s] < sent[s]:
                data = s.recv(1 << 20)
                if not data:
                    break
                got[s] += len(data)
        except socket.timeout:
            pass
        s.close()
    time.sleep(1.5)
    after = rss_mib()
    proc.kill()
    total_sent, total_got = sum(sent.values()), sum(got.values())
    print(f"{a.clients} clients: sent {total_sent >> 20} MiB (of {a.clients * a.mib}) before stalling, echoed back "
          f"{total_got >> 20} MiB (difference {total_got - total_sent:+d} bytes); wirepad RSS peak {peak} MiB, "
          f"stalled {stalled} MiB, 1.5 s after all left {after} MiB")


if __name__ == "__main__":
    main()
