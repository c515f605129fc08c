#!/usr/bin/env python3
"""The relay (issue 23) against `socat TCP-LISTEN,fork TCP:…`, the usual TCP relay:

  both ways   BYTES through the relay in each direction at once (a client and the upstream each send and read);
              MiB/s of the two together, the median of ROUNDS rounds
  latency     a 32-byte request answered by an echoing upstream, COUNT round trips one after the other; the
              time added to the direct round trip (no relay), p50 and p99
  pairs       PAIRS clients at once (each its own pair), each 100 round trips of 32 bytes with an echoing upstream
              (`wirepad tcp-server --echo`); the time for all of it, connections included, vs the same directly
  slow reader a client that stops reading while the upstream sends STALL bytes: the relay's peak RSS (VmHWM) once
              the upstream has stalled, then the client reads everything (count and CRC-32 checked)
  udp         1 KiB datagrams, 32 in flight, echoed by `wirepad udp --echo`: MiB/s of echoes for UDP_BYTES, vs
              `socat UDP-LISTEN:P,fork UDP:127.0.0.1:UP`

  wirepad relay 127.0.0.1:0 127.0.0.1:UP -q [--udp]
  socat TCP-LISTEN:P,bind=127.0.0.1,reuseaddr,fork TCP:127.0.0.1:UP

  python3 bench/relay.py [--wirepad PATH] [--bytes N] [--rounds R] [--count N] [--pairs N] [--stall BYTES]
                         [--udp-bytes N]
"""
import argparse
import os
import selectors
import socket
import statistics
import threading
import time
import zlib

from common import DEFAULT_WIREPAD, TIMEOUT, Row, at_most, free_port, pct, ratio_at_least, ratio_at_most, \
    ready_addr, say, spawn, stop, table, wait_tcp_listening

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


def start_relay(kind, wirepad, up_port, udp=False):
    """The relay under test, and the port it listens on."""
    if kind == "socat" and udp:
        port = free_port(socket.SOCK_DGRAM)
        return spawn(["socat", f"UDP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"UDP:127.0.0.1:{up_port}"]), port
    if kind == "socat":
        port = free_port()
        proc = spawn(["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"TCP:127.0.0.1:{up_port}"])
        wait_tcp_listening(("127.0.0.1", port))
        return proc, port
    proc = spawn([wirepad, "relay", "127.0.0.1:0", f"127.0.0.1:{up_port}", "-q"] + (["--udp"] if udp else []))
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


def echo_server(wirepad, kind):
    """`wirepad tcp-server --echo` or `wirepad udp --echo` on a port of its own: an upstream that is no bottleneck."""
    args = ["tcp-server", "127.0.0.1:0"] if kind == "tcp" else ["udp", "--bind", "127.0.0.1:0"]
    proc = spawn([wirepad] + args + ["--echo", "-q"])
    _, port = ready_addr(proc, f"{kind} echo")
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, port


def many_pairs(port, pairs, trips, limit=120):
    """Seconds for `pairs` connections to `port`, each `trips` round trips of 32 bytes, all at once (connecting
    included); one selector drives them all."""
    start = time.perf_counter()
    sel, request = selectors.DefaultSelector(), b"p" * 32
    socks = []
    for _ in range(pairs):
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        socks.append(sock)
        sel.register(sock, selectors.EVENT_READ, [trips, 0])
        sock.send(request)
    left, deadline = pairs, time.monotonic() + limit
    while left:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pairs} pairs: {left} not done within {limit} s")
        for key, _ in sel.select(timeout=1):
            state = key.data
            data = key.fileobj.recv(4096)
            if not data:
                raise RuntimeError("a pair closed early")
            state[1] += len(data)
            if state[1] < len(request):
                continue
            state[0], state[1] = state[0] - 1, state[1] - len(request)
            if state[0]:
                key.fileobj.send(request)
            else:
                sel.unregister(key.fileobj)
                left -= 1
    elapsed = time.perf_counter() - start
    for sock in socks:
        sock.close()
    return elapsed


def pairs_row(wirepad, pairs, trips=100):
    up, up_port = echo_server(wirepad, "tcp")
    try:
        direct = many_pairs(up_port, pairs, trips)
        times = {}
        for kind in ("wirepad", "socat"):
            proc, port = start_relay(kind, wirepad, up_port)
            try:
                times[kind] = many_pairs(port, pairs, trips)
            except (RuntimeError, OSError) as error:
                # socat forks a process per pair: it may not make it in time on a loaded machine.
                if kind == "wirepad":
                    raise
                say("relay", f"{pairs} pairs through socat: {error}")
                times[kind] = None
            finally:
                stop(proc)
    finally:
        stop(up)
    say("relay", f"{pairs} pairs x {trips} round trips: direct {direct:.2f} s, wirepad {times['wirepad']:.2f} s, "
                 f"socat {times['socat']} s")
    metric = f"relay {pairs} pairs x {trips} round trips"
    return [
        ratio_at_most(metric, "s", times["wirepad"], "direct", direct, 2),
        Row(metric, "s", times["wirepad"], "socat fork", times["socat"]),
    ]


def peak_rss_mb(pid):
    """The process's peak RSS so far (VmHWM, in KiB), in MB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def children(pid):
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def slow_reader(kind, wirepad, size):
    """The relay's peak RSS (MB) while its client does not read and the upstream sends `size` bytes; then the
    client reads them all, checked."""
    block = os.urandom(BLOCK)
    sent, crc_sent, done, errors = [0], [0], threading.Event(), []

    def handle(conn):
        # socat's readiness probe is relayed too, and says nothing: only the client that says "go" is served.
        if conn.recv(2) != b"go":
            return
        try:
            while sent[0] < size:
                chunk = block[:min(BLOCK, size - sent[0])]
                conn.sendall(chunk)
                crc_sent[0] = zlib.crc32(chunk, crc_sent[0])
                sent[0] += len(chunk)
            conn.close()
        except OSError as error:
            errors.append(error)
        done.set()
    listener, up_port = upstream(handle)
    proc, port = start_relay(kind, wirepad, up_port)
    try:
        client = socket.create_connection(("127.0.0.1", port), timeout=300)
        client.sendall(b"go")
        # Wait (bounded) until the upstream has stalled: no progress for a second.
        last, still, deadline = -1, time.monotonic(), time.monotonic() + 60
        while time.monotonic() < deadline and not done.is_set():
            if sent[0] != last:
                last, still = sent[0], time.monotonic()
            elif time.monotonic() - still > 1:
                break
            time.sleep(0.05)
        stalled_at = sent[0]
        pids = [proc.pid] + (children(proc.pid) if kind == "socat" else [])
        peak = max(peak_rss_mb(pid) for pid in pids)
        got, crc, buf = 0, 0, bytearray(BLOCK)
        while got < size:
            n = client.recv_into(buf)
            if n == 0:
                break
            crc = zlib.crc32(memoryview(buf)[:n], crc)
            got += n
        done.wait(60)
        peak = max([peak] + [peak_rss_mb(pid) for pid in pids if os.path.exists(f"/proc/{pid}")])
        client.close()
    finally:
        stop(proc)
        listener.close()
    if errors or got != size or crc != crc_sent[0]:
        raise RuntimeError(f"{kind}: got {got} of {size} bytes, crc {'ok' if crc == crc_sent[0] else 'differs'}, "
                           f"{errors[:1]}")
    say("relay", f"slow reader via {kind}: upstream stalled after {stalled_at >> 20} MiB; peak RSS {peak:.1f} MB; "
                 f"all {size >> 20} MiB arrived intact")
    return peak


def udp_throughput(port, total, size=1024, window=32, limit=60):
    """MiB/s of echoes, `window` datagrams of `size` bytes in flight at a time, until `total` bytes came back or
    `limit` seconds passed; and how many datagrams were lost."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(0.5)
    payload, got, lost = os.urandom(size), 0, 0
    # The first datagram opens the pair; wait (bounded) for its echo before timing (socat says nothing when it
    # is ready: until it is, the datagram is refused).
    for _ in range(20):
        try:
            sock.send(payload)
            sock.recv(65536)
            break
        except (socket.timeout, ConnectionRefusedError):
            time.sleep(0.05)
    else:
        raise RuntimeError("no echo through the relay")
    start = time.perf_counter()
    while got < total and time.perf_counter() - start < limit:
        for _ in range(window):
            sock.send(payload)
        for _ in range(window):
            try:
                got += len(sock.recv(65536))
            except socket.timeout:
                lost += 1
    elapsed = time.perf_counter() - start
    sock.close()
    return got / elapsed / (1 << 20), lost


def udp_row(wirepad, total):
    up, up_port = echo_server(wirepad, "udp")
    rates = {}
    try:
        for kind in ("wirepad", "socat"):
            proc, port = start_relay(kind, wirepad, up_port, udp=True)
            try:
                rates[kind] = udp_throughput(port, total)
            finally:
                stop(proc)
    finally:
        stop(up)
    say("relay", f"udp echoes: wirepad {rates['wirepad'][0]:.1f} MiB/s ({rates['wirepad'][1]} lost), socat "
                 f"{rates['socat'][0]:.1f} MiB/s ({rates['socat'][1]} lost)")
    return ratio_at_least(f"relay udp {total >> 20} MiB echoed, 32 in flight", "MiB/s", rates["wirepad"][0],
                          "socat fork", rates["socat"][0], 0.8)


def measure(wirepad, quick=False, size=None, rounds=None, count=None, pairs=None, stall=None, udp_bytes=None):
    size = size or ((128 << 20) if quick else (1 << 30))
    rounds = rounds or (1 if quick else 3)
    count = count or (500 if quick else 5000)
    pairs = pairs or (100 if quick else 1000)
    stall = stall or ((128 << 20) if quick else (1 << 30))
    udp_bytes = udp_bytes or ((8 << 20) if quick else (64 << 20))
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
    slow = {kind: slow_reader(kind, wirepad, stall) for kind in ("wirepad", "socat")}
    return pairs_row(wirepad, pairs) + [
        at_most(f"relay RSS, client not reading {stall >> 20} MiB", "MB", slow["wirepad"], 100, "socat fork",
                slow["socat"]),
        udp_row(wirepad, udp_bytes),
    ] + [
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
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--stall", type=int, default=1 << 30)
    ap.add_argument("--udp-bytes", type=int, default=64 << 20)
    a = ap.parse_args()
    print(table(measure(a.wirepad, size=a.bytes, rounds=a.rounds, count=a.count, pairs=a.pairs, stall=a.stall,
                        udp_bytes=a.udp_bytes)))


if __name__ == "__main__":
    main()
