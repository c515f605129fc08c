#!/usr/bin/env python3
"""Live pcap throughput (issue 12): the same sender (bench/recv_bench.py, Python socket.sendfile) pushes BYTES of random
data into three receivers in turn, for ROUNDS rounds, medians compared:

  file       wirepad tcp-server 127.0.0.1:0 -q --recv-file F --quit-after-bytes N
  pcap       wirepad ... --pcap P ...                   (the issue's goal: at least 0.8x `file`)
  file+pcap  wirepad ... --recv-file F --pcap P ...     (both at once: every byte written twice)
  socat      socat -u -b 262144 TCP-LISTEN:P OPEN:F     (the usual real peer, for reference)

Every received file is checked against the source's sha256; the pcap must hold at least BYTES (payload plus headers).

  python3 bench/pcap.py [--wirepad PATH] [--bytes N] [--rounds R]
"""
import argparse
import os
import statistics
import tempfile

from common import DEFAULT_WIREPAD, Row, ratio_at_least, say, table
from throughput import SOCAT_BLOCK, receive, source_file


def measure(wirepad, quick=False, size=None, rounds=None):
    size = size or ((256 << 20) if quick else (1 << 30))
    rounds = rounds or (1 if quick else 3)
    with tempfile.TemporaryDirectory(prefix="wirepad-bench.") as directory:
        source = source_file(directory, size)
        dest, pcap = os.path.join(directory, "dest"), os.path.join(directory, "live.pcapng")
        base = [wirepad, "tcp-server", "127.0.0.1:0", "-q", "--quit-after-bytes", str(size)]
        server = base + ["--recv-file", "{dest}"]
        socat = ["socat", "-u", "-b", SOCAT_BLOCK, "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr",
                 "OPEN:{dest},creat,trunc"]
        def with_pcap(name, argv, to):
            rate = receive(name, source, to, argv)
            written = os.path.getsize(pcap)
            os.remove(pcap)
            if written < size:
                raise RuntimeError(f"pcap: the pcap holds {written} bytes, less than the {size} received")
            return rate

        plain, alone, both, theirs = [], [], [], []
        for _ in range(rounds):
            plain.append(receive("wirepad", source, dest, server))
            alone.append(with_pcap("wirepad --pcap", base + ["--pcap", pcap], os.devnull))
            both.append(with_pcap("wirepad --recv-file --pcap", server + ["--pcap", pcap], dest))
            theirs.append(receive("socat", source, dest, socat))
        say("pcap", f"to a file: {plain}, to a live pcap: {alone}, to both: {both}, socat: {theirs} MiB/s; "
                    f"load average {os.getloadavg()[0]:.2f}")
        plain, alone, both, theirs = (statistics.median(x) for x in (plain, alone, both, theirs))
        label = f"{size >> 20} MiB"
        return [
            ratio_at_least(f"TCP receive {label} to a live pcap", "MiB/s", alone,
                           "the same to a file (--recv-file)", plain, 0.8),
            Row(f"TCP receive {label} to a file + live pcap", "MiB/s", both, "the same to a file alone", plain),
            Row(f"TCP receive {label} to a live pcap", "MiB/s", alone, "socat -b 256K", theirs),
        ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--bytes", type=int, default=1 << 30)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print(table(measure(a.wirepad, size=a.bytes, rounds=a.rounds)))


if __name__ == "__main__":
    main()
