#!/usr/bin/env python3
"""Echo clients that send and do not read (issue 9 §1): is echo data lost, and how big does wirepad get?

  python3 bench/slow_clients.py [--wirepad PATH] [--clients 8] [--mib 100]

Starts `wirepad tcp-server 127.0.0.1:0 --echo -q`; each client (64 KiB receive buffer) sends up to MIB MiB without
reading, until no client makes progress for 2 s (or 8 s in all); then every client reads its echo back (10 s
timeout each) and closes. Prints what was sent, what came back (the difference must be 0), and wirepad's RSS at its
peak and 1.5 s after every client left. Needs Linux (/proc).

Mind the kernel's own limit: every connection holds megabytes in socket buffers before Wirepad's queues see any
of it, and past net.ipv4.tcp_mem's pressure mark (~1.5 GB here: 400 clients x 4 MiB) the kernel itself stalls
connections for seconds (zero-window probes), which this script would report as lost echoes.
"""
import argparse
import socket
import time

from common import DEFAULT_WIREPAD, at_most, ready_addr, rss_mib, spawn, stop, table


def measure(wirepad, quick=False, clients=None, mib=None):
    clients = clients or (8 if quick else 32)
    mib = mib or 100
    per = mib << 20
    proc = spawn([wirepad, "tcp-server", "127.0.0.1:0", "--echo", "-q"])
    try:
        addr = ready_addr(proc, "slow_clients")
        socks = []
        for _ in range(clients):
            # A small receive buffer, set before connecting: set after, it shrinks the window already offered and
            # the kernel then leaves the sender to its zero-window probes, seconds apart.
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
            s.settimeout(10)
            s.connect(addr)
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
            peak = max(peak, rss_mib(proc.pid))
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
        after = rss_mib(proc.pid)
    finally:
        stop(proc)
    total_sent, total_got = sum(sent.values()), sum(got.values())
    return [
        at_most(f"echo to {clients} clients that stop reading: bytes lost", "B", total_sent - total_got, 0),
        at_most(f"  peak RSS ({total_sent >> 20} MiB sent before stalling)", "MiB", peak, 200),
        at_most("  RSS 1.5 s after all left", "MiB", after, 200),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--mib", type=int, default=100)
    a = ap.parse_args()
    print(table(measure(a.wirepad, clients=a.clients, mib=a.mib)))


if __name__ == "__main__":
    main()
