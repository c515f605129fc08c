#!/usr/bin/env python3
"""Auto-reply rules under load (issue 11), each figure against its peer in the same run:

  python3 bench/automation.py [--wirepad PATH] [--rounds N] [--clients C] [--trips T] [--bytes B]

  reply    one connection, N request/reply round trips of a 64-byte line answered by a rule
           (wirepad tcp-server --frame line --rules: match_regex '^REQ (\\d+)' -> "ACK $1\\n")
           vs the same lines echoed by socat PIPE: median round trip, ratio (goal <= 1.5)
  many     C clients at once, T request/reply pairs each, every reply checked to be the answer to its own request
           (client and sequence number in it), vs socat PIPE echoing the same: wall time
  capture  B bytes of 100-byte lines into --frame line -q --recv-file, with 1,000 rules that match nothing (500
           `match` texts, 500 `match_hex` prefixes) vs none: MiB/s, ratio (goal >= 0.9), on a stream paced at
           1 Gbit/s (the issue's load) and, for what it shows, unpaced (as fast as loopback goes); the capture
           file is checked against the source's sha256 each time
Every loop is bounded in count and every wait in time.
"""
import argparse
import os
import random
import selectors
import socket
import statistics
import subprocess
import tempfile
import threading
import time

from common import (DEFAULT_WIREPAD, TIMEOUT, Row, free_port, ratio_at_least, ratio_at_most, ready_addr, say, spawn,
                    stop, table, wait_tcp_listening)
from throughput import sha256

REPLY_RULE = """[[rule]]
name = "request"
match_regex = '^REQ (\\d+) (\\d+)'
reply = "ACK $1 $2\\n"
"""


def request(client, seq):
    """A 64-byte line naming its client and sequence number."""
    head = f"REQ {client} {seq} ".encode()
    return head + b"x" * (63 - len(head)) + b"\n"


def answer(line, echo):
    """What the peer must send back for `line`: the rule's ACK, or the line itself from an echo."""
    if echo:
        return line
    _, client, seq, _ = line.split(b" ", 3)
    return b"ACK " + client + b" " + seq + b"\n"


def read_line(sock, buf):
    while b"\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
    line, _, rest = buf.partition(b"\n")
    return line + b"\n", rest


def round_trips(addr, rounds, echo):
    sock = socket.create_connection(addr, timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out, buf = [], b""
    for seq in range(rounds):
        line = request(0, seq)
        t0 = time.perf_counter_ns()
        sock.sendall(line)
        got, buf = read_line(sock, buf)
        out.append(time.perf_counter_ns() - t0)
        if got != answer(line, echo):
            raise RuntimeError(f"automation: reply {got!r} to {line!r}")
    sock.close()
    return out


def many(addr, clients, trips, echo):
    """`clients` connections, `trips` checked request/reply pairs each; returns (wall seconds, replies checked)."""
    sel = selectors.DefaultSelector()
    state = {}
    for c in range(clients):
        s = socket.create_connection(addr, timeout=TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        state[s] = {"client": c, "seq": 0, "buf": b""}
    checked = 0
    t0 = time.monotonic()
    for s, st in state.items():
        s.send(request(st["client"], 0))
        sel.register(s, selectors.EVENT_READ)
    left = set(state)
    deadline = t0 + 120
    while left:
        if time.monotonic() > deadline:
            raise RuntimeError(f"automation: {len(left)} clients still waiting after 120 s")
        for key, _ in sel.select(timeout=TIMEOUT):
            s = key.fileobj
            st = state[s]
            data = s.recv(65536)
            if not data:
                raise RuntimeError("automation: a client was closed")
            st["buf"] += data
            while b"\n" in st["buf"] and s in left:
                line, _, st["buf"] = st["buf"].partition(b"\n")
                want = answer(request(st["client"], st["seq"]), echo)
                if line + b"\n" != want:
                    raise RuntimeError(f"automation: client {st['client']} got {line!r}, wanted {want!r}")
                checked += 1
                st["seq"] += 1
                if st["seq"] == trips:
                    sel.unregister(s)
                    left.discard(s)
                else:
                    s.send(request(st["client"], st["seq"]))
    wall = time.monotonic() - t0
    for s in state:
        s.close()
    return wall, checked


def many_rules(path, count):
    """`count` rules that match none of the benchmark's lines: half text, half hex prefixes."""
    with open(path, "w") as f:
        for i in range(count):
            if i % 2 == 0:
                f.write(f'[[rule]]\nmatch = "NOMATCH-{i}"\nreply = "r{i}"\n')
            else:
                f.write(f'[[rule]]\nmatch_hex = "FF {i % 256:02X} {i // 256:02X}"\nreply = "r{i}"\n')


def line_file(directory, size):
    """`size` bytes of 100-byte lines of random letters (a fresh block now and then); and its sha256."""
    path = os.path.join(directory, "lines")
    rng = random.Random(11)
    letters = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
    with open(path, "wb") as f:
        left = size
        while left > 0:
            block = b"".join(bytes(rng.choices(letters, k=99)) + b"\n" for _ in range(10486))
            f.write(block[:left])
            left -= len(block)
    return path, sha256(path)


GBIT = 125_000_000  # bytes per second


def paced_capture(argv, source, dest, rate):
    """Sends the source file to a `listening on` receiver at `rate` bytes/s (None: as fast as it goes) in 256 KiB
    pieces, waits for it to exit, checks the capture; returns MiB/s from the first byte to the receiver's exit."""
    path, digest = source
    size = os.path.getsize(path)
    proc = spawn([a.format(dest=dest) for a in argv])
    try:
        addr = ready_addr(proc, "wirepad")
        # Drain stderr so the receiver never blocks on it.
        threading.Thread(target=proc.stderr.read, daemon=True).start()
        sock = socket.create_connection(addr, timeout=TIMEOUT)
        piece = 256 << 10
        t0 = time.monotonic()
        with open(path, "rb") as f:
            sent = 0
            while chunk := f.read(piece):
                sock.sendall(chunk)
                sent += len(chunk)
                if rate:
                    ahead = t0 + sent / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
        sock.shutdown(socket.SHUT_WR)
        code = proc.wait(timeout=300)
        secs = time.monotonic() - t0
        sock.close()
    finally:
        stop(proc)
    if code != 0 or sha256(dest) != digest:
        raise RuntimeError(f"automation: capture failed (exit {code}) or differs from the source")
    os.remove(dest)
    return size / secs / 2**20


def measure(wirepad, quick=False, rounds=None, clients=None, trips=None, size=None):
    rounds = rounds or (2000 if quick else 10000)
    clients = clients or (200 if quick else 1000)
    trips = trips or (20 if quick else 100)
    size = size or ((128 << 20) if quick else (512 << 20))
    rows = []
    with tempfile.TemporaryDirectory(prefix="wirepad-bench.") as directory:
        rules = os.path.join(directory, "reply.toml")
        with open(rules, "w") as f:
            f.write(REPLY_RULE)
        # Both peers run at once and take turns in five slices, so a burst of load on this shared machine falls on
        # both rather than on whichever ran then.
        wp = spawn([wirepad, "tcp-server", "127.0.0.1:0", "--frame", "line", "--rules", rules])
        port = free_port()
        so = spawn(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,backlog=1024", "PIPE"])
        try:
            peers = {"wirepad": (ready_addr(wp, "wirepad"), False), "socat": (("127.0.0.1", port), True)}
            wait_tcp_listening(peers["socat"][0])
            samples = {"wirepad": [], "socat": []}
            for _ in range(5):
                for who, (addr, echo) in peers.items():
                    samples[who] += round_trips(addr, rounds // 5, echo)
            res = {(who, "rtt"): statistics.median(s) / 1e6 for who, s in samples.items()}
            for who, (addr, echo) in peers.items():
                res[(who, "many")] = many(addr, clients, trips, echo)
        finally:
            stop(wp)
            stop(so)
        say("automation", f"round trips and clients: {res}")
        rows.append(ratio_at_most(f"rule reply round trip median ({rounds}x64 B lines)", "ms", res[("wirepad", "rtt")],
                                  "socat PIPE echo", res[("socat", "rtt")], 1.5))
        (w_wall, w_checked), (s_wall, _) = res[("wirepad", "many")], res[("socat", "many")]
        rows.append(Row(f"{clients} clients x {trips} rule replies, all checked", "s", w_wall, "socat PIPE echo",
                        s_wall, f"all {clients * trips} correct", w_checked == clients * trips))

        thousand = os.path.join(directory, "1000.toml")
        many_rules(thousand, 1000)
        source = line_file(directory, size)
        dest = os.path.join(directory, "dest")
        server = [wirepad, "tcp-server", "127.0.0.1:0", "--frame", "line", "-q", "--recv-file", "{dest}",
                  "--quit-after-bytes", str(size)]
        for label, rate in (("1 Gbit/s", GBIT), ("unpaced", None)):
            with_rules, without = [], []
            for _ in range(1 if quick else 3):
                without.append(paced_capture(server, source, dest, rate))
                with_rules.append(paced_capture(server + ["--rules", thousand], source, dest, rate))
            say("automation", f"capture {label} MiB/s: no rules {without}, 1000 rules {with_rules}")
            rows.append(ratio_at_least(f"capture {size >> 20} MiB of lines at {label}, 1000 rules", "MiB/s",
                                       statistics.median(with_rules), "no rules", statistics.median(without), 0.9))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--clients", type=int)
    ap.add_argument("--trips", type=int)
    ap.add_argument("--bytes", type=int)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    print(table(measure(a.wirepad, a.quick, a.rounds, a.clients, a.trips, a.bytes)))


if __name__ == "__main__":
    main()
