"""What the benchmarks share: rows of the result table, processes, ports and /proc readings.

A row holds one metric measured on Wirepad and, where there is one, on its peer in the same run, the goal and
whether it was met. Every benchmark module has `measure(wirepad, quick) -> list[Row]`; bench/run.py prints them
as one table.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_WIREPAD = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "wirepad")
TIMEOUT = 5.0


@dataclass
class Row:
    metric: str
    unit: str
    wirepad: float
    peer_name: str = ""
    peer: float | None = None
    goal: str = ""
    ok: bool = True

    @property
    def ratio(self):
        return self.wirepad / self.peer if self.peer else None


def at_most(metric, unit, value, limit, peer_name="", peer=None):
    return Row(metric, unit, value, peer_name, peer, f"<= {limit:g} {unit}", value <= limit)


def ratio_at_most(metric, unit, value, peer_name, peer, limit):
    ok = peer > 0 and value / peer <= limit
    return Row(metric, unit, value, peer_name, peer, f"ratio <= {limit:g}", ok)


def ratio_at_least(metric, unit, value, peer_name, peer, limit):
    ok = peer > 0 and value / peer >= limit
    return Row(metric, unit, value, peer_name, peer, f"ratio >= {limit:g}", ok)


def fmt(value):
    if value is None:
        return "-"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def table(rows, markdown=False):
    head = ["metric", "unit", "wirepad", "peer", "peer value", "ratio", "goal", "result"]
    body = [[r.metric, r.unit, fmt(r.wirepad), r.peer_name or "-", fmt(r.peer), fmt(r.ratio), r.goal,
             "pass" if r.ok else "FAIL"] for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [max(len(c[i]) for c in [head] + body) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip() for cells in [head] + body)


def run_part(measure):
    """A part's own command line (`--wirepad BIN`, `--quick`): runs `measure(wirepad, quick)` and prints its rows."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    print(table(measure(a.wirepad, a.quick)))


def say(name, message):
    print(f"{name}: {message}", file=sys.stderr, flush=True)


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready_addr(proc, name):
    """Wirepad's first stderr line names the address it listens on or is bound to (contract)."""
    line = proc.stderr.readline().decode(errors="replace")
    m = re.search(r"(?:listening on|bound to) (\S+):(\d+)", line)
    if not m:
        proc.kill()
        raise RuntimeError(f"{name}: unexpected first line: {line!r}")
    return m.group(1), int(m.group(2))


def wait_tcp_listening(addr):
    """socat prints nothing when ready: poll-connect until it answers (bounded)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(addr, timeout=TIMEOUT).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError(f"nothing listens on {addr}")


def listening_port(pid, proto="tcp"):
    """The port a process listens on (TCP) or is bound to (UDP), from its sockets in /proc; None if none yet."""
    ports = listening_ports(pid, proto)
    return ports[0] if ports else None


def listening_ports(pid, proto="tcp"):
    """Every port a process listens on (TCP) or is bound to (UDP), from its sockets in /proc."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            m = re.match(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    ports = []
    for line in open(f"/proc/net/{proto}").read().splitlines()[1:]:
        f = line.split()
        if f[9] in inodes and (proto == "udp" or f[3] == "0A"):
            ports.append(int(f[1].split(":")[1], 16))
    return ports


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def stop(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=TIMEOUT)


def spawn(argv, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(argv, **kw)
