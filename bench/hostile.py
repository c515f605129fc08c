#!/usr/bin/env python3
"""Hostile peers against a wirepad server (issue 21: memory and churn), every scenario on 127.0.0.1, port 0.

  python3 bench/hostile.py [--wirepad PATH] [SCENARIO...]        scenarios: 1 2 2b 7a 7b 7c 7d 14 15 (default all)
  python3 bench/hostile.py [--wirepad PATH] --soak SECONDS        churning clients with rules, framing and pcap

Each scenario starts its own wirepad (the port read from the first stderr line), drives it for a bounded time and
prints one line: peak and final RSS (VmHWM and VmRSS from /proc/PID/status), and what it counts (lost replies,
CLOSE-WAIT sockets). The soak prints one sample every 10 s: RSS, open fds, CLOSE-WAIT. Needs Linux (/proc).
"""
import argparse
import os
import socket
import sys
import tempfile
import threading
import time

from common import ready_addr, spawn, stop

REPLY_64K = "R" * (64 << 10)


def status(pid, key):
    """A /proc/PID/status field in MiB (VmRSS, VmHWM); 0 once the process is gone."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def close_wait(port):
    """Sockets in CLOSE-WAIT (state 08) whose local port is `port`: the server's ends of connections closed by the
    client and not yet closed by the server."""
    n = 0
    for proto in ("tcp", "tcp6"):
        try:
            lines = open(f"/proc/net/{proto}").read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] == "08" and int(f[1].rsplit(":", 1)[1], 16) == port:
                n += 1
    return n


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def rule(match, reply, delay_ms=0, key="match"):
    delay = f"delay_ms = {delay_ms}\n" if delay_ms else ""
    return f"[[rule]]\n{key} = '{match}'\nreply = \"{reply}\"\n{delay}"


class Server:
    """A wirepad server for one scenario; its stderr is drained (and its lines counted) on a thread."""

    def __init__(self, wirepad, args, kind="tcp-server", quiet=True):
        listen = "127.0.0.1:0" if kind == "tcp-server" else "--bind=127.0.0.1:0"
        # Without -q the messages are printed (to /dev/null): only then does framing cut without rules.
        self.proc = spawn([wirepad, kind, listen, *(["-q"] if quiet else []), *args])
        self.addr = ready_addr(self.proc, "hostile")
        self.lines = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            if len(self.lines) < 100_000:
                self.lines.append(line.decode(errors="replace"))

    def count(self, text):
        return sum(text in line for line in self.lines)

    def rss(self):
        return status(self.proc.pid, "VmRSS")

    def peak(self):
        return status(self.proc.pid, "VmHWM")

    def stop(self):
        stop(self.proc)


def slow_socket(addr, rcvbuf=16 << 10):
    """A client with a small receive buffer (set before connecting) that will not read."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(addr)
    s.setblocking(False)
    return s


def push(socks, payload, total, seconds):
    """Sends `payload` repeatedly on every socket, without reading, up to `total` bytes each, until none makes
    progress for 2 s or `seconds` pass."""
    sent = {s: 0 for s in socks}
    end = time.monotonic() + seconds
    progress = time.monotonic()
    while time.monotonic() < end and time.monotonic() - progress < 2:
        moved = False
        for s in socks:
            if sent[s] >= total:
                continue
            try:
                sent[s] += s.send(payload)
                moved = True
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                sent[s] = total
        if moved:
            progress = time.monotonic()
        else:
            time.sleep(0.005)
    return sent


def report(name, server, extra=""):
    print(f"{name:4} peak {server.peak():8.1f} MiB  rss {server.rss():8.1f} MiB  {extra}", flush=True)


def lines(n, text=b"x\n"):
    return text * n


def s1(wirepad, tmp):
    """A rule answers every line with 64 KiB; one client sends 20,000 lines and never reads."""
    rules = write(tmp, "r1.toml", rule("x", REPLY_64K))
    server = Server(wirepad, ["--rules", rules, "--frame", "line"])
    s = slow_socket(server.addr)
    sent = push([s], lines(20_000), 40_000, 20)
    time.sleep(1)
    report("1", server, f"lines sent {sent[s] // 2}")
    s.close()
    server.stop()


def read_all(s, want, seconds):
    s.setblocking(True)
    s.settimeout(2)
    got = 0
    end = time.monotonic() + seconds
    while got < want and time.monotonic() < end:
        try:
            data = s.recv(1 << 20)
        except socket.timeout:
            break
        if not data:
            break
        got += len(data)
    return got


def s2(wirepad, tmp):
    """200 lines answered with 64 KiB after 1 s; the client reads only 3 s later."""
    rules = write(tmp, "r2.toml", rule("x", REPLY_64K, 1000))
    server = Server(wirepad, ["--rules", rules, "--frame", "line"])
    s = slow_socket(server.addr)
    push([s], lines(200), 400, 5)
    time.sleep(3)
    got = read_all(s, 200 * len(REPLY_64K), 30)
    lost = 200 - got // len(REPLY_64K)
    report("2", server, f"replies lost {lost} of 200, 'nothing ... queued' lines {server.count('was queued')}")
    s.close()
    server.stop()


def s2b(wirepad, tmp):
    """An empty reply after 2 s to each of 1,000,000 lines."""
    rules = write(tmp, "r2b.toml", rule("x", "", 2000))
    server = Server(wirepad, ["--rules", rules, "--frame", "line"])
    s = slow_socket(server.addr)
    push([s], lines(50_000), 2_000_000, 20)
    report("2b", server, "1,000,000 lines, reply '' after 2 s")
    s.close()
    server.stop()


def s7a(wirepad, _tmp):
    """Tiny framed echoes to 3 clients that never read."""
    server = Server(wirepad, ["--echo", "--frame", "line"])
    socks = [slow_socket(server.addr) for _ in range(3)]
    push(socks, lines(50_000, b"a\n"), 16 << 20, 25)
    report("7a", server, "3 clients, 2-byte echoes")
    for s in socks:
        s.close()
    server.stop()


def s7b(wirepad, tmp):
    """A send-loop script on a server with 5 clients that never read."""
    script = write(tmp, "s7b.toml", "repeat = 0\n[[step]]\nsend = \"a\"\n")
    server = Server(wirepad, ["--script", script])
    socks = [slow_socket(server.addr) for _ in range(5)]
    time.sleep(10)
    report("7b", server, "5 clients, script sends 'a' in a loop")
    for s in socks:
        s.close()
    server.stop()


def s7c(wirepad, _tmp):
    """25 clients each send 16 MiB with no line ending."""
    server = Server(wirepad, ["--frame", "line"], quiet=False)
    socks = [slow_socket(server.addr) for _ in range(25)]
    push(socks, b"z" * (256 << 10), 16 << 20, 40)
    time.sleep(0.5)
    report("7c", server, "25 clients x 16 MiB unfinished lines")
    for s in socks:
        s.close()
    server.stop()


def s7d(wirepad, _tmp):
    """10,000 UDP source ports each send 60 KB without a line ending."""
    server = Server(wirepad, ["--frame", "line"], kind="udp", quiet=False)
    data = b"u" * 60_000
    for _ in range(10_000):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(data, server.addr)
        if server.rss() == 0:
            break
    time.sleep(1)
    at_end = server.rss()
    time.sleep(10)
    report("7d", server, f"10,000 ports; rss 1 s after {at_end:.1f} MiB, 11 s after (rss) as shown")
    server.stop()


def converse(addr, n, line=b"x\n"):
    """One client: connects, sends n lines, reads the replies (at least one byte per line), closes with a FIN."""
    with socket.create_connection(addr, timeout=5) as s:
        s.sendall(line * n)
        got = 0
        while got < n:
            data = s.recv(1 << 16)
            if not data:
                break
            got += len(data)
        s.shutdown(socket.SHUT_WR)


def churn(addr, seconds, clients=40, per_conn=lambda i: 1 + (i * 37) % 200, on_tick=None):
    """`clients` threads each connect, exchange lines and close, over and over, for `seconds`; returns how many
    connections were made."""
    done = [0]
    end = time.monotonic() + seconds
    lock = threading.Lock()

    def worker(k):
        i = k
        while time.monotonic() < end:
            try:
                converse(addr, per_conn(i))
            except OSError:
                time.sleep(0.01)
            i += clients
            with lock:
                done[0] += 1

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if on_tick:
            on_tick()
        time.sleep(0.5)
    return done[0]


def s14(wirepad, tmp):
    """40 clients exchange 1-200 lines and close, over and over, for 20 s: server sockets in CLOSE-WAIT."""
    rules = write(tmp, "r14.toml", rule("x", "y\\n"))
    server = Server(wirepad, ["--rules", rules, "--frame", "line"])
    port = server.addr[1]
    samples = []
    made = churn(server.addr, 20, on_tick=lambda: samples.append(close_wait(port)))
    report("14", server, f"{made} connections; CLOSE-WAIT max {max(samples)} mean {sum(samples) / len(samples):.0f}")
    server.stop()


def s15(wirepad, tmp):
    """Connections served with rules, one line each: RSS after warm-up and after all have left."""
    cases = [("echo", ["--echo"]), ("match", ["--rules", write(tmp, "m.toml", rule("x", "y\\n"))]),
             ("regex", ["--rules", write(tmp, "re.toml", rule("^x", "y\\n", key="match_regex"))])]
    for name, args in cases:
        server = Server(wirepad, args)
        churn(server.addr, 3, clients=8, per_conn=lambda i: 1)
        time.sleep(0.5)
        warm = server.rss()
        made = churn(server.addr, 20, clients=8, per_conn=lambda i: 1)
        time.sleep(1)
        report("15", server, f"{name:5}: {made} connections, rss after warm-up {warm:.1f} MiB")
        server.stop()


def soak(wirepad, seconds, tmp):
    rules = write(tmp, "soak.toml", rule("x", "y\\n") + rule("^z", "w", key="match_regex"))
    pcap = os.path.join(tmp, "soak.pcapng")
    server = Server(wirepad, ["--rules", rules, "--frame", "line", "--pcap", pcap])
    port = server.addr[1]
    start = time.monotonic()
    next_sample = [start]
    print("t_s    rss_mib  hwm_mib  fds  close_wait  connections", flush=True)
    made = [0]

    def sample():
        now = time.monotonic()
        if now >= next_sample[0]:
            next_sample[0] += 10
            print(f"{now - start:5.0f}  {server.rss():7.1f}  {server.peak():7.1f}  {fds(server.proc.pid):4}  "
                  f"{close_wait(port):10}  {made[0]}", flush=True)

    # In rounds of 60 s so the connection count shows as it goes; the pcap grows on disk, not in memory.
    while time.monotonic() - start < seconds:
        made[0] += churn(server.addr, min(60, seconds - (time.monotonic() - start)), clients=20, on_tick=sample)
        try:
            os.truncate(pcap, 0)
        except OSError:
            pass
    sample()
    server.stop()


SCENARIOS = {"1": s1, "2": s2, "2b": s2b, "7a": s7a, "7b": s7b, "7c": s7c, "7d": s7d, "14": s14, "15": s15}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wirepad", default=os.path.join(os.path.dirname(__file__), "..", "target", "debug", "wirepad"))
    ap.add_argument("--soak", type=int, metavar="SECONDS")
    ap.add_argument("scenarios", nargs="*")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.soak:
            return soak(args.wirepad, args.soak, tmp)
        for name in args.scenarios or SCENARIOS:
            if name not in SCENARIOS:
                sys.exit(f"unknown scenario {name}: one of {' '.join(SCENARIOS)}")
            SCENARIOS[name](args.wirepad, tmp)


if __name__ == "__main__":
    main()
