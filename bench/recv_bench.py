#!/usr/bin/env python3
"""Time one receiver: start it, connect over loopback, sendfile() the source, wait for the receiver to exit.

usage: recv_bench.py NAME SOURCE DEST TIMEOUT -- COMMAND...
DEST may be /dev/null for a receiver that discards (its exit after N bytes is the check).
COMMAND may contain {port} (a free port chosen here, for receivers that cannot report one) and {dest}.
If COMMAND does not contain {port}, the receiver must print "listening on ADDR" on stderr (Wirepad's contract).
Prints one JSON line: {"name", "bytes", "seconds", "mib_per_s", "sha256_ok"} and exits non-zero on any failure.
"""
import hashlib, json, os, socket, subprocess, sys, threading, time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fail(msg, proc=None, errlines=()):
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    print(f"recv_bench: {msg}", file=sys.stderr)
    for line in errlines:
        print(f"    {line}", file=sys.stderr)
    sys.exit(1)


def main():
    name, source, dest, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    assert sys.argv[5] == "--"
    template = sys.argv[6:]
    port = free_port() if any("{port}" in a for a in template) else None
    cmd = [a.format(port=port, dest=dest) for a in template]
    size = os.path.getsize(source)
    want = os.environ.get("BENCH_SHA256") or sha256(source)
    deadline = time.monotonic() + timeout

    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, errors="replace")
    errlines = []
    ready = threading.Event()
    addr = []

    def read_stderr():
        for line in proc.stderr:
            line = line.rstrip("\r\n")
            errlines.append(line)
            if not ready.is_set() and line.startswith("listening on "):
                addr.append(line[len("listening on "):])
                ready.set()
        ready.set()

    threading.Thread(target=read_stderr, daemon=True).start()

    if port is None:
        if not ready.wait(max(0.0, deadline - time.monotonic())) or not addr:
            fail(f"{name}: no 'listening on ADDR' line on stderr", proc, errlines)
        if errlines[0] != f"listening on {addr[0]}":
            print(f"recv_bench: warning: {name}'s first stderr line was {errlines[0]!r}", file=sys.stderr)
        host, _, p = addr[0].rpartition(":")
        port = int(p)

    # Connect; retry while the receiver is still starting (refused). The first successful connect is the real one.
    while True:
        if proc.poll() is not None:
            fail(f"{name} exited early with code {proc.returncode}", proc, errlines)
        if time.monotonic() > deadline:
            fail(f"{name}: could not connect to 127.0.0.1:{port}", proc, errlines)
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            break
        except ConnectionRefusedError:
            time.sleep(0.01)

    t0 = time.monotonic()
    sock.settimeout(max(1.0, deadline - t0))
    with open(source, "rb") as f:
        sent = sock.sendfile(f)
    sock.shutdown(socket.SHUT_WR)
    try:
        code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        fail(f"{name} did not exit within {timeout:.0f}s of starting", proc, errlines[-10:])
    t1 = time.monotonic()
    sock.close()
    if sent != size:
        fail(f"{name}: sent {sent} of {size} bytes")
    if code != 0:
        fail(f"{name} exited with code {code}", None, errlines[-10:])
    if dest == os.devnull:  # a receiver that discards: only its own exit says it got every byte
        got, ok = size, True
    else:
        got = os.path.getsize(dest) if os.path.exists(dest) else -1
        ok = got == size and sha256(dest) == want
    secs = t1 - t0
    print(json.dumps({"name": name, "bytes": got, "seconds": round(secs, 3),
                      "mib_per_s": round(size / secs / 2**20, 1), "sha256_ok": ok}))
    if not ok:
        fail(f"{name}: {dest} differs from the source ({got} bytes of {size}, or a different sha256)")


main()
