#!/usr/bin/env python3
"""TLS (issue 24) against OpenSSL, the same certificate (ECDSA P-256, `wirepad cert new`) on both sides:

  receive     BYTES from a Python ssl client into `wirepad tcp-server --tls -q --quit-after-bytes BYTES` vs
              `openssl s_server -quiet` (its stdout to /dev/null; it reads a 16 KiB record at a time, so it is slow)
              and vs `socat -u -b 262144 OPENSSL-LISTEN:P,verify=0 OPEN:/dev/null`; MiB/s from the first byte sent to the
              server's exit (each exits once it has it all), the median of ROUNDS rounds
  echo        a 32-byte request over TLS and its echo, COUNT round trips in turn: `wirepad tcp-server --tls --echo`
              vs `socat OPENSSL-LISTEN:P,fork,verify=0 PIPE`; p50 and p99
  handshakes  TLS handshakes per second against `wirepad tcp-server --tls -q` vs `openssl s_server -quiet`, from
              CLIENTS Python processes each connecting, handshaking (TLS 1.3) and closing in a loop for SECONDS (and
              at most 100,000 each). The client's half of a handshake costs about what the server's does, so one
              Python process would measure itself: CLIENTS defaults to the number of CPUs. Beside the rate, the
              server's own CPU time per handshake (/proc/PID/stat, all its threads) and so the handshakes it makes
              per CPU-second: what one core of its own would do, whatever the clients take.

  python3 bench/tls.py [--wirepad PATH] [--quick]
"""
import multiprocessing
import os
import shutil
import socket
import ssl
import statistics
import subprocess
import tempfile
import threading
import time

from common import TIMEOUT, Row, cpu_seconds, pct, ratio_at_least, ratio_at_most, ready_addr, run_part, say, spawn, stop, \
    wait_tcp_listening, free_port

BLOCK = 1 << 20


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def make_cert(wirepad, folder):
    prefix = os.path.join(folder, "server")
    subprocess.run([wirepad, "cert", "new", "--cn", "localhost", "--san", "localhost", "--san", "127.0.0.1",
                    "--days", "2", "--out", prefix], check=True, timeout=60, stderr=subprocess.DEVNULL)
    return prefix + ".crt", prefix + ".key"


def drain(proc):
    """Its later stderr lines (one per handshake) must not fill the pipe."""
    threading.Thread(target=proc.stderr.read, daemon=True).start()


def wirepad_server(wirepad, cert, extra):
    proc = spawn([wirepad, "tcp-server", "127.0.0.1:0", "--tls", "--cert", cert[0], "--key", cert[1]] + extra)
    _, port = ready_addr(proc, "wirepad tcp-server --tls")
    drain(proc)
    return proc, port


def openssl_server(cert, extra):
    port = free_port()
    proc = spawn(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert[0], "-key", cert[1],
                  "-quiet"] + extra)
    drain(proc)
    wait_until_accepting(port)
    return proc, port


def wait_until_accepting(port):
    """s_server says nothing useful when ready: poll with a TLS handshake (a plain connect would be its client)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
                client_context().wrap_socket(raw).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"no TLS server on port {port}")


def wait_for_port(port):
    """A server that takes one connection only: wait (bounded) until its port listens, without connecting."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for line in open("/proc/net/tcp").read().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
                return
        time.sleep(0.01)
    raise RuntimeError(f"nothing listens on port {port}")


def receive(kind, wirepad, cert, size):
    """MiB/s of `size` bytes sent over TLS until the server has them all (and exits)."""
    if kind == "wirepad":
        proc, port = wirepad_server(wirepad, cert, ["-q", "--quit-after-bytes", str(size)])
    elif kind == "socat":
        port = free_port()
        proc = spawn(["socat", "-u", "-b", "262144", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,cert={cert[0]},"
                      f"key={cert[1]},verify=0", "OPEN:/dev/null"])
        wait_for_port(port)
    else:
        # -naccept 1 counts the readiness probe's connection: one more for the measured one.
        proc, port = openssl_server(cert, ["-naccept", "2"])
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=300)
        conn = client_context().wrap_socket(raw)
        block, left = memoryview(os.urandom(BLOCK)), size
        start = time.perf_counter()
        while left > 0:
            n = min(left, BLOCK)
            conn.sendall(block[:n])
            left -= n
        if kind != "wirepad":
            # Their end: our close_notify, after which they have read everything before it and exit.
            try:
                conn.unwrap()
            except (ssl.SSLError, OSError):
                pass
        proc.wait(timeout=300)
        elapsed = time.perf_counter() - start
        conn.close()
    finally:
        stop(proc)
    if proc.returncode not in (0, None):
        raise RuntimeError(f"{kind} exited {proc.returncode}")
    return size / elapsed / (1 << 20)


def round_trips(port, count):
    """Microseconds per 32-byte request and its echo over TLS, `count` in turn (after 50 to warm up)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = client_context().wrap_socket(raw)
    request, times = b"x" * 32, []
    for i in range(count + 50):
        start = time.perf_counter()
        conn.sendall(request)
        got = 0
        while got < len(request):
            data = conn.recv(64)
            if not data:
                raise RuntimeError("the echo server closed")
            got += len(data)
        if i >= 50:
            times.append((time.perf_counter() - start) * 1e6)
    conn.close()
    return times


def echo(kind, wirepad, cert, count):
    if kind == "wirepad":
        proc, port = wirepad_server(wirepad, cert, ["--echo", "-q"])
    else:
        port = free_port()
        proc = spawn(["socat", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={cert[0]},key={cert[1]},"
                      "verify=0", "PIPE"])
        drain(proc)
        wait_tcp_listening(("127.0.0.1", port))
    try:
        return round_trips(port, count)
    finally:
        stop(proc)


def handshake_loop(port, seconds, limit, results):
    """One client process: handshakes until `seconds` passed or `limit` were made."""
    ctx, done = client_context(), 0
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    deadline = time.monotonic() + seconds
    while done < limit and time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
            ctx.wrap_socket(raw).close()
        done += 1
    results.put(done)


def handshakes(kind, wirepad, cert, clients, seconds, limit=100_000):
    """Handshakes per second, and the server's own CPU time per handshake in microseconds: the clients take part
    of the machine, so the second says what the server could do on a core of its own."""
    proc, port = (wirepad_server(wirepad, cert, ["-q"]) if kind == "wirepad" else openssl_server(cert, []))
    try:
        results = multiprocessing.Queue()
        workers = [multiprocessing.Process(target=handshake_loop, args=(port, seconds, limit, results))
                   for _ in range(clients)]
        cpu = cpu_seconds(proc.pid)
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        total = sum(results.get(timeout=seconds + 60) for _ in workers)
        elapsed = time.perf_counter() - start
        cpu = cpu_seconds(proc.pid) - cpu
        for worker in workers:
            worker.join(timeout=TIMEOUT)
    finally:
        stop(proc)
    return total / elapsed, cpu * 1e6 / max(total, 1)


def measure(wirepad, quick=False):
    for tool in ("openssl", "socat"):
        if not shutil.which(tool):
            raise RuntimeError(f"tls: {tool} is not installed")
    size = (32 << 20) if quick else (256 << 20)
    rounds = 1 if quick else 3
    count = 500 if quick else 5000
    seconds = 2 if quick else 10
    clients = max(2, os.cpu_count() or 2)
    with tempfile.TemporaryDirectory() as folder:
        cert = make_cert(wirepad, folder)
        got = {kind: [receive(kind, wirepad, cert, size) for _ in range(rounds)]
               for kind in ("wirepad", "openssl", "socat")}
        say("tls", f"receive {size >> 20} MiB (MiB/s): {got}")
        ours, theirs, socat = (statistics.median(got[kind]) for kind in ("wirepad", "openssl", "socat"))
        via = {kind: echo(kind, wirepad, cert, count) for kind in ("wirepad", "socat")}
        say("tls", "echo round trip p50/p99: " + ", ".join(
            f"{kind} {pct(times, 0.5):.0f}/{pct(times, 0.99):.0f} us" for kind, times in via.items()))
        shakes = {kind: handshakes(kind, wirepad, cert, clients, seconds) for kind in ("wirepad", "openssl")}
        rates = {kind: rate for kind, (rate, _) in shakes.items()}
        cpu = {kind: per for kind, (_, per) in shakes.items()}
        say("tls", f"handshakes/s from {clients} client processes: {rates}; server CPU us per handshake: {cpu}; "
                   f"load average {os.getloadavg()[0]:.2f}")
    return [
        ratio_at_least(f"tls receive {size >> 20} MiB", "MiB/s", ours, "openssl s_server", theirs, 0.8),
        ratio_at_least(f"tls receive {size >> 20} MiB", "MiB/s", ours, "socat -b 256K OPENSSL", socat, 0.8),
        ratio_at_most("tls echo round trip p50", "us", pct(via["wirepad"], 0.5), "socat OPENSSL PIPE",
                      pct(via["socat"], 0.5), 1.5),
        Row("tls echo round trip p99", "us", pct(via["wirepad"], 0.99), "socat OPENSSL PIPE", pct(via["socat"], 0.99)),
        ratio_at_least(f"tls handshakes/s ({clients} Python clients)", "1/s", rates["wirepad"], "openssl s_server",
                       rates["openssl"], 0.8),
        ratio_at_most("tls server CPU per handshake", "us", cpu["wirepad"], "openssl s_server", cpu["openssl"], 1.25),
        Row("tls handshakes per server CPU-second", "1/s", 1e6 / max(cpu["wirepad"], 1e-9), "openssl s_server",
            1e6 / max(cpu["openssl"], 1e-9)),
    ]


if __name__ == "__main__":
    run_part(measure)
