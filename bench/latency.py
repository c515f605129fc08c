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
import selectors
import socket
import statistics
import time

from common import (DEFAULT_WIREPAD, TIMEOUT, at_most, free_port, pct, ratio_at_most, ready_addr, spawn, stop,
                    table, wait_tcp_listening)

PAYLOAD = bytes(range(64))


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
            raise RuntimeError("latency: tcp echo differs")
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
        raise RuntimeError("latency: no udp echo")
    sock.settimeout(TIMEOUT)
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        sock.sendto(PAYLOAD, addr)
        data, _ = sock.recvfrom(65536)
        if data != PAYLOAD:
            raise RuntimeError("latency: udp echo differs")
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
            raise RuntimeError(f"latency: {len(left)} clients still waiting after 60 s")
        for key, _ in sel.select(timeout=TIMEOUT):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                raise RuntimeError("latency: a client was closed")
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


def echo_peer(argv, kind, port=None):
    """An echo server process and where it listens: wirepad says so on stderr, socat on the port given to it."""
    proc = spawn(argv)
    if port is None:
        return proc, ready_addr(proc, argv[0])
    addr = ("127.0.0.1", port)
    if kind == socket.SOCK_STREAM:
        wait_tcp_listening(addr)
    return proc, addr


def measure(wirepad, quick=False, rounds=None, clients=None, trips=None):
    rounds = rounds or (2000 if quick else 10000)
    clients = clients or (200 if quick else 1000)
    trips = trips or (20 if quick else 100)
    res = {}
    for who in ("wirepad", "socat"):
        if who == "wirepad":
            tcp, addr = echo_peer([wirepad, "tcp-server", "127.0.0.1:0", "--echo"], socket.SOCK_STREAM)
        else:
            port = free_port(socket.SOCK_STREAM)
            tcp, addr = echo_peer(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024", "PIPE"],
                                  socket.SOCK_STREAM, port)
        try:
            r = tcp_rtts(addr, rounds)
            res[(who, "tcp")] = (statistics.median(r) / 1e6, pct(r, 0.99) / 1e6)
            res[(who, "many")] = many(addr, clients, trips)
        finally:
            stop(tcp)
        if who == "wirepad":
            udp, addr = echo_peer([wirepad, "udp", "--bind", "127.0.0.1:0", "--echo"], socket.SOCK_DGRAM)
        else:
            port = free_port(socket.SOCK_DGRAM)
            udp, addr = echo_peer(["socat", f"UDP-LISTEN:{port},bind=127.0.0.1", "PIPE"], socket.SOCK_DGRAM, port)
        try:
            r = udp_rtts(addr, rounds)
            res[(who, "udp")] = (statistics.median(r) / 1e6, pct(r, 0.99) / 1e6)
        finally:
            stop(udp)
    rows = []
    for proto in ("tcp", "udp"):
        (w_med, w_p99), (s_med, s_p99) = res[("wirepad", proto)], res[("socat", proto)]
        rows.append(ratio_at_most(f"{proto} echo round trip median ({rounds}x64 B)", "ms", w_med, "socat PIPE", s_med,
                                  1.5))
        rows.append(at_most(f"{proto} echo round trip p99", "ms", w_p99, 1.0, "socat PIPE", s_p99))
    rows.append(at_most(f"{clients} clients x {trips} round trips", "s", res[("wirepad", "many")], 3.0, "socat PIPE",
                        res[("socat", "many")]))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--rounds", type=int, default=10000)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--trips", type=int, default=100)
    a = ap.parse_args()
    print(table(measure(a.wirepad, rounds=a.rounds, clients=a.clients, trips=a.trips)))


if __name__ == "__main__":
    main()
