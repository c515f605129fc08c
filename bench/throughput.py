#!/usr/bin/env python3
"""Raw TCP receive throughput on loopback (issue 8 §7): the same sender (Python socket.sendfile) pushes BYTES of
random data into wirepad and into socat with 256 KiB blocks, alternating for ROUNDS rounds, medians compared.

  python3 bench/throughput.py [--wirepad PATH] [--bytes N] [--rounds R]

  discard  wirepad tcp-server 127.0.0.1:0 -q --quit-after-bytes N   vs  socat -u -b 262144 TCP-LISTEN:P OPEN:/dev/null
  to file  wirepad ... --recv-file F -q --quit-after-bytes N        vs  socat -u -b 262144 TCP-LISTEN:P OPEN:F
Every received file is checked against the source's sha256. Needs about 2 x BYTES free in the scratch dir.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

from common import DEFAULT_WIREPAD, ROOT, ratio_at_least, say, table

SOCAT_BLOCK = "262144"


def source_file(directory, size):
    """SIZE bytes of random data in DIRECTORY, and their sha256 (which reads them once, so neither receiver pays
    for the disk)."""
    path = os.path.join(directory, "random")
    with open(path, "wb") as f:
        left = size
        block = os.urandom(1 << 20)
        while left > 0:
            # A fresh random block now and then: no receiver may gain from a short repeating pattern.
            if left % (64 << 20) < (1 << 20):
                block = os.urandom(1 << 20)
            f.write(block[:left])
            left -= len(block)
    return path, sha256(path)


def sha256(path):
    return subprocess.run(["sha256sum", path], stdout=subprocess.PIPE, check=True, text=True).stdout.split()[0]


def receive(name, source, dest, argv, timeout=300):
    """One timed transfer by bench/recv_bench.py; returns MiB/s. `source` is (path, sha256)."""
    path, digest = source
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "recv_bench.py"), name, path, dest,
                          str(timeout), "--", *argv], stdout=subprocess.PIPE, timeout=timeout + 60, check=True,
                         env=dict(os.environ, BENCH_SHA256=digest))
    if dest != os.devnull and os.path.exists(dest):
        os.remove(dest)
    return json.loads(out.stdout)["mib_per_s"]


def pairs(label, wirepad, socat, source, dest, rounds):
    """Alternating runs of the two receivers; the medians in MiB/s."""
    mine, theirs = [], []
    for _ in range(rounds):
        mine.append(receive("wirepad", source, dest, wirepad))
        theirs.append(receive("socat", source, dest, socat))
    say("throughput", f"{label}: wirepad {mine} socat {theirs} MiB/s")
    return statistics.median(mine), statistics.median(theirs)


def measure(wirepad, quick=False, size=None, rounds=None):
    size = size or ((256 << 20) if quick else (1 << 30))
    rounds = rounds or (1 if quick else 3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="wirepad-bench.") as directory:
        source = source_file(directory, size)
        server = [wirepad, "tcp-server", "127.0.0.1:0", "-q", "--quit-after-bytes", str(size)]
        socat = ["socat", "-u", "-b", SOCAT_BLOCK, "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"]
        label = f"{size >> 20} MiB"
        w, s = pairs("discarding", server, socat + ["OPEN:/dev/null"], source, os.devnull, rounds)
        rows.append(ratio_at_least(f"TCP receive {label}, discarding", "MiB/s", w, "socat -b 256K", s, 0.9))
        dest = os.path.join(directory, "dest")
        w, s = pairs("to a file", server + ["--recv-file", "{dest}"], socat + ["OPEN:{dest},creat,trunc"], source, dest,
                     rounds)
        rows.append(ratio_at_least(f"TCP receive {label}, to a file", "MiB/s", w, "socat -b 256K", s, 0.9))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--bytes", type=int, default=1 << 30)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print(table(measure(a.wirepad, size=a.bytes, rounds=a.rounds)))


if __name__ == "__main__":
    main()
