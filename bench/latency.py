#!/usr/bin/env python3
"""Echo latency on loopback: wirepad --echo against socat PIPE, in one run.

  python3 bench/latency.py [--wirepad PATH] [--rounds N] [--clients C] [--trips T]

Measures, for each peer (wirepad, then socat):
  tcp  one connection, N ping-pongs of 64 bytes (TCP_NODELAY): median and p99 round trip
  udp  one socket, N ping-pongs of 64-byte datagrams: median and p99 round trip
  many C clients at once, T round trips each (selectors loop): wall time
and prints one table with the ratio wirepad/socat (lower is better; goal: median <= 1.5x, p99 <= 1 ms, many <= 3 s).
Every loop is bounded in count and each wait in time (a lost reply fails the run, it does not hang it).
Wirepad runs with stdout to /dev/null (printing on, as a user would run it); socat as `TCP-LISTEN:P,fork PIPE` and
`UDP-LISTEN:P PIPE`.
"""
import argparse
import os
import re
import selectors
import socket
import statistics
import subprocess
import sys
import time

TIMEOUT = 5.0
PAYLOAD = bytes(range(64))


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Peer:
    """An echo server process; `addr` is where it listens."""

    def __init__(self, argv, addr=None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        if addr is None:
            # Wirepad's first stderr line names the real address (contract).
            line = self.proc.stderr.readline().decode()
            m = re.search(r"(?:listening on|bound to) (\S+):(\d+)", line)
            if not m:
                self.close()
                sys.exit(f"latency: unexpected first line from {argv[0]}: {line!r}")
            addr = (m.group(1), int(m.group(2)))
        self.addr = addr

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=TIMEOUT)


def wait_listening(addr, kind):
    """socat prints nothing when ready: poll-connect until it answers (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if kind == socket.SOCK_DGRAM:
            return  # a datagram sent before the bind is lost and retried by the warm-up below
        try:
            socket.create_connection(addr, timeout=TIMEOUT).close()
            return
        except OSError:
            time.sleep(0.01)
    sys.exit(f"latency: nothing listens on {addr}")


def recv_exact(sock, n):
    got = b""
    while len(got) < n:
        chunk = sock.recv(n - len(got))
        if not chunk:
            raise ConnectionError("peer closed")
        got += chunk
    return got


def tcp_rtts(addr, rounds):
    sock = socket.create_connection(addr, timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        sock.sendall(PAYLOAD)
        if recv_exact(sock, len(PAYLOAD)) != PAYLOAD:
            sys.exit("latency: tcp echo differs")
        out.append(time.perf_counter_ns() - t0)
    sock.close()
    return out


def udp_rtts(addr, rounds):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(0.2)
    # Warm-up: the first datagram may race the peer's bind.
    for _ in range(int(TIMEOUT / 0.2)):
        sock.sendto(PAYLOAD, addr)
        try:
            sock.recvfrom(65536)
            break
        except socket.timeout:
            continue
    else:
        sys.exit("latency: no udp echo")
    sock.settimeout(TIMEOUT)
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        sock.sendto(PAYLOAD, addr)
        data, _ = sock.recvfrom(65536)
        if data != PAYLOAD:
            sys.exit("latency: udp echo differs")
        out.append(time.perf_counter_ns() - t0)
    sock.close()
    return out


def many(addr, clients, trips):
    """`clients` connections, each doing `trips` round trips; returns wall seconds."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(clients):
        s = socket.create_connection(addr, timeout=TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        socks.append(s)
    left = {s: trips for s in socks}
    got = {s: 0 for s in socks}
    t0 = time.monotonic()
    for s in socks:
        s.send(PAYLOAD)
        sel.register(s, selectors.EVENT_READ)
    deadline = t0 + 60
    while left:
        if time.monotonic() > deadline:
            sys.exit(f"latency: {len(left)} clients still waiting after 60 s")
        for key, _ in sel.select(timeout=TIMEOUT):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                sys.exit("latency: a client was closed")
            got[s] += len(data)
            while got[s] >= len(PAYLOAD):
                got[s] -= len(PAYLOAD)
                left[s] -= 1
                if left[s] == 0:
                    sel.unregister(s)
                    del left[s]
                    break
                s.send(PAYLOAD)
    wall = time.monotonic() - t0
    for s in socks:
        s.close()
    return wall


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=os.path.join(root, "target", "release", "wirepad"))
    ap.add_argument("--rounds", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--trips", type=int, default=100)
    a = ap.parse_args()
    if not os.access(a.wirepad, os.X_OK):
        sys.exit(f"latency: {a.wirepad} not found (cargo build --release, or --wirepad PATH)")
    res = {}
    for who in ("wirepad", "socat"):
        if who == "wirepad":
            tcp = Peer([a.wirepad, "tcp-server", "127.0.0.1:0", "--echo"])
        else:
            port = free_port(socket.SOCK_STREAM)
            tcp = Peer(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024", "PIPE"],
                       ("127.0.0.1", port))
            wait_listening(tcp.addr, socket.SOCK_STREAM)
        try:
            r = tcp_rtts(tcp.addr, a.rounds)
            res[(who, "tcp median ms")] = statistics.median(r) / 1e6
            res[(who, "tcp p99 ms")] = pct(r, 0.99) / 1e6
            res[(who, f"{a.clients}x{a.trips} tcp s")] = many(tcp.addr, a.clients, a.trips)
        finally:
            tcp.close()
        if who == "wirepad":
            udp = Peer([a.wirepad, "udp", "--bind", "127.0.0.1:0", "--echo"])
        else:
            port = free_port(socket.SOCK_DGRAM)
            udp = Peer(["socat", f"UDP-LISTEN:{port},bind=127.0.0.1", "PIPE"], ("127.0.0.1", port))
        try:
            r = udp_rtts(udp.addr, a.rounds)
            res[(who, "udp median ms")] = statistics.median(r) / 1e6
            res[(who, "udp p99 ms")] = pct(r, 0.99) / 1e6
        finally:
            udp.close()
    goals = {
        "tcp median ms": "<=1.5x",
        "tcp p99 ms": "<=1 ms",
        "udp median ms": "<=1.5x",
        "udp p99 ms": "<=1 ms",
        f"{a.clients}x{a.trips} tcp s": "<=3 s",
    }
    print(f"{'metric':<22}{'wirepad':>10}{'socat':>10}{'ratio':>8}  goal")
    for metric, goal in goals.items():
        w, s = res[("wirepad", metric)], res[("socat", metric)]
        ok = (w / s <= 1.5) if goal.endswith("x") else (w <= float(goal.split("=")[1].split()[0]))
        print(f"{metric:<22}{w:>10.3f}{s:>10.3f}{w / s:>8.2f}  {goal} {'pass' if ok else 'FAIL'}")


if __name__ == "__main__":
    main()
