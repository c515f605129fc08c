#!/usr/bin/env python3
"""Every load figure of issue 8 (and issue 9's slow readers) against its peer, in one run, as one table:
metric, unit, Wirepad's figure, the peer and its figure in the same run, the ratio, the goal, pass or FAIL.

  bench/run [--quick] [--only NAME,...] [--markdown FILE] [--no-build]

Parts: latency (echo vs socat PIPE), periodic (Python receiver with kernel timestamps), udp (receive rate vs socat),
throughput (raw TCP receive vs socat -b 256K), decode (received data printed as text vs socat into a file), slow (echo to clients that stop reading), window (under Xvfb:
first frame, idle RSS and CPU, frame times and RSS in floods), tabs (20 tabs each receiving 1 MiB/s: frame
times), automation (a rule's reply round trip vs socat PIPE, 1,000 clients of rule replies, capture with 1,000
rules vs none), search (find in a 64 MiB history: first and all matches vs Python), pcap (1 GiB
to a file with and without --pcap, and socat), relay (1 GiB each way at once through `wirepad relay` vs socat fork,
added latency p50/p99 vs direct, 1,000 pairs x 100 round trips vs direct, RSS with a client not reading 1 GiB, UDP
echoes vs socat UDP-LISTEN fork), load (the load generator: unpaced UDP vs Packet Sender's CLI, rate accuracy,
10,000 TCP connections and the generator's RSS, p99 against a stalling server, stop time), tls (256 MiB received
over TLS vs openssl s_server and socat OPENSSL, TLS echo round trip vs socat OPENSSL PIPE, handshakes per second
vs openssl s_server). --quick runs smaller loads (a smoke test, not the
figures). Needs socat, python3, Xvfb and xdotool; builds the release binary first unless --no-build.
Exit status: 0 when it ran (whatever the results), 1 when a part could not run.
"""
import argparse
import datetime
import importlib
import os
import platform
import subprocess
import sys
import traceback

from common import DEFAULT_WIREPAD, ROOT, table

PARTS = ["latency", "periodic", "udp", "throughput", "decode", "slow", "window", "tabs", "automation", "search", "pcap",
         "relay", "load", "tls"]
MODULES = {"udp": "udp_rate", "slow": "slow_clients"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(PARTS))
    ap.add_argument("--markdown", metavar="FILE")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    parts = [p for p in a.only.split(",") if p]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        sys.exit(f"bench: unknown part {', '.join(unknown)} (parts: {', '.join(PARTS)})")
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--bin", "wirepad"], cwd=ROOT, check=True, timeout=3600)
    if not os.access(a.wirepad, os.X_OK):
        sys.exit(f"bench: {a.wirepad} not found (cargo build --release, or --wirepad PATH)")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    head = (f"commit {commit.stdout.strip()}{' (with local changes)' if dirty else ''}, "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, "
            f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}"
            f"{', QUICK (smaller loads)' if a.quick else ''}")
    print(f"bench: {head}", file=sys.stderr, flush=True)
    rows, failed = [], []
    for part in parts:
        print(f"bench: {part}", file=sys.stderr, flush=True)
        module = importlib.import_module(MODULES.get(part, part))
        try:
            rows += module.measure(a.wirepad, a.quick)
        except Exception:  # one part that cannot run must not cost the others' figures
            traceback.print_exc()
            failed.append(part)
    print(head)
    print(table(rows))
    if failed:
        print(f"could not run: {', '.join(failed)}")
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(f"{head}\n\n{table(rows, markdown=True)}\n")
            if failed:
                f.write(f"\nCould not run: {', '.join(failed)}\n")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
