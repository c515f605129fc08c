#!/usr/bin/env python3
"""The relay (issue 23) against `socat TCP-LISTEN,fork TCP:…`, the usual TCP relay:

  both ways   BYTES through the relay in each direction at once (a client and the upstream each send and read);
              MiB/s of the two together, the median of ROUNDS rounds
  latency     a 32-byte request answered by an echoing upstream, COUNT round trips one after the other; the
              time added to the direct round trip (no relay), p50 and p99

  wirepad relay 127.0.0.1:0 127.0.0.1:UP -q
  socat TCP-LISTEN:P,bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:UP

  python3 bench/relay.py [--wirepad PATH] [--bytes N] [--rounds R] [--count N]
"""
import argparse
import os
import socket
import statistics
import threading
import time

from common import DEFAULT_WIREPAD, TIMEOUT, Row, free_port, pct, ratio_at_least, ratio_at_most, say, spawn, stop, \
    table, wait_tcp_listening

BLOCK = 1 << 20


def pump(sock, size, errors):
    """Sends `size` bytes and reads `size` bytes on `sock` at once (a thread for the sending); returns how many
    it read."""
    def send():
        try:
            block, left = memoryview(os.urandom(BLOCK)), size
            while left > 0:
                n = min(left, BLOCK)
                sock.sendall(block[:n])
                left -= n
        except OSError as error:
            errors.append(error)
    sender = threading.Thread(target=send)
    sender.start()
    buf, got = bytearray(BLOCK), 0
    while got < size:
        n = sock.recv_into(buf)
        if n == 0:
            errors.append(RuntimeError(f"closed after {got} of {size} bytes"))
            break
        got += n
    sender.join()
    return got


def serve(listener, handle):
    """Runs `handle(conn)` for each connection `listener` accepts, on a thread each, until the listener closes."""
    def loop():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()


def upstream(handle):
    listener = socket.create_server(("127.0.0.1", 0))
    serve(listener, handle)
    return listener, listener.getsockname()[1]


def start_relay(kind, wirepad, up_port):
    """The relay under test, and the port it listens on."""
    if kind == "socat":
        port = free_port()
        proc = spawn(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"TCP:127.0.0.1:{up_port}"])
        wait_tcp_listening(("127.0.0.1", port))
        return proc, port
    proc = spawn([wirepad, "relay", "127.0.0.1:0", f"127.0.0.1:{up_port}", "-q"])
    line = proc.stderr.readline().decode(errors="replace")
    if not line.startswith("relaying "):
        stop(proc)
        raise RuntimeError(f"relay: unexpected first line: {line!r}")
    # Its later stderr lines (pairs joining) must not fill the pipe.
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, int(line.split()[1].rsplit(":", 1)[1])


def both_ways(kind, wirepad, size):
    """MiB/s through the relay, both directions together."""
    errors, upstream_done = [], threading.Event()

    def handle(conn):
        mine = []
        # socat is seen ready by a connection that sends nothing, which it relays too: not the one measured.
        if pump(conn, size, mine) > 0:
            errors.extend(mine)
            upstream_done.set()
    listener, up_port = upstream(handle)
    proc, port = start_relay(kind, wirepad, up_port)
    try:
        client = socket.create_connection(("127.0.0.1", port), timeout=300)
        start = time.perf_counter()
        pump(client, size, errors)
        # Done when both ends have everything: the other way may still be in flight.
        if not upstream_done.wait(300):
            errors.append(RuntimeError("the upstream did not get everything in time"))
        elapsed = time.perf_counter() - start
        client.close()
    finally:
        stop(proc)
        listener.close()
    if errors:
        raise RuntimeError(f"{kind}: {errors[0]}")
    return 2 * size / elapsed / (1 << 20)


def echo(conn):
    try:
        while data := conn.recv(65536):
            conn.sendall(data)
    except OSError:
        pass


def round_trips(port, count):
    """Microseconds per 32-byte request and its echo, `count` in turn (after a few to warm up)."""
    client = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    request, times = b"x" * 32, []
    for i in range(count + 50):
        start = time.perf_counter()
        client.sendall(request)
        got = 0
        while got < len(request):
            got += len(client.recv(64))
        if i >= 50:
            times.append((time.perf_counter() - start) * 1e6)
    client.close()
    return times


def latency(kind, wirepad, up_port, count):
    proc, port = start_relay(kind, wirepad, up_port)
    try:
        return round_trips(port, count)
    finally:
        stop(proc)


def measure(wirepad, quick=False, size=None, rounds=None, count=None):
    size = size or ((128 << 20) if quick else (1 << 30))
    rounds = rounds or (1 if quick else 3)
    count = count or (500 if quick else 5000)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(both_ways("wirepad", wirepad, size))
        theirs.append(both_ways("socat", wirepad, size))
    say("relay", f"both ways: wirepad {ours}, socat {theirs} MiB/s; load average {os.getloadavg()[0]:.2f}")
    listener, up_port = upstream(echo)
    try:
        direct = round_trips(up_port, count)
        via_ours = latency("wirepad", wirepad, up_port, count)
        via_socat = latency("socat", wirepad, up_port, count)
    finally:
        listener.close()
    added = {name: [pct(times, p) - pct(direct, p) for p in (0.5, 0.99)]
             for name, times in (("wirepad", via_ours), ("socat", via_socat))}
    say("relay", f"round trip direct p50 {pct(direct, 0.5):.0f} p99 {pct(direct, 0.99):.0f} us; added {added}")
    label = f"{size >> 20} MiB each way"
    return [
        ratio_at_least(f"relay {label} at once", "MiB/s", statistics.median(ours), "socat fork", statistics.median(theirs),
                       0.8),
        ratio_at_most("relay added latency p50", "us", added["wirepad"][0], "socat fork", added["socat"][0], 1.5),
        Row("relay added latency p99", "us", added["wirepad"][1], "socat fork", added["socat"][1]),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--bytes", type=int, default=1 << 30)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--count", type=int, default=5000)
    a = ap.parse_args()
    print(table(measure(a.wirepad, size=a.bytes, rounds=a.rounds, count=a.count)))


if __name__ == "__main__":
    main()
