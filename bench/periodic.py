#!/usr/bin/env python3
"""Periodic send timing: `wirepad udp --repeat N --interval MS` into a Python receiver that reads the kernel's arrival
timestamp of each datagram (SO_TIMESTAMPNS, Linux).

  python3 bench/periodic.py [--wirepad PATH] [--count 2000] [--interval 1]

Prints: datagrams received, total span vs the ideal (count-1)*interval, median / p99 / max gap, p99 |gap - interval|,
catch-up bursts (gaps under 0.02 ms), and wirepad's stderr summary (skipped ticks). Goal (issue 8 §5): drift <= 1 ms
over 2,000 sends, p99 interval error <= 0.5 ms, no bursts. Bounded: the receiver stops 3 s after the last datagram
or at count, the sender has --quit-after-secs.
"""
import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=os.path.join(root, "target", "release", "wirepad"))
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--interval", type=int, default=1, help="milliseconds")
    a = ap.parse_args()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    # Kernel receive timestamps: a receiver descheduled for a while must not make the sender look bursty.
    rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(3.0)
    secs = a.count * a.interval / 1000 + 3
    proc = subprocess.Popen([a.wirepad, "udp", "--bind", "127.0.0.1:0", "--remote", "%s:%d" % rx.getsockname(),
                             "--send-hex", "00", "--repeat", str(a.count), "--interval", str(a.interval), "-q",
                             "--quit-after-secs", str(secs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stamps = []
    try:
        while len(stamps) < a.count:
            _, ancillary, _, _ = rx.recvmsg(64, 64)
            stamp = [struct.unpack("qq", d[:16]) for lvl, kind, d in ancillary if kind == SO_TIMESTAMPNS]
            if not stamp:
                sys.exit("periodic: no kernel timestamp (SO_TIMESTAMPNS is Linux only)")
            stamps.append(stamp[0][0] * 1_000_000_000 + stamp[0][1])
    except socket.timeout:
        pass
    _, err = proc.communicate(timeout=secs + 10)
    gaps = [(b - c) / 1e6 for c, b in zip(stamps, stamps[1:])]
    if len(gaps) < 2:
        sys.exit("periodic: too few datagrams received")
    span = (stamps[-1] - stamps[0]) / 1e6
    ideal = (len(stamps) - 1) * a.interval
    errors = sorted(abs(g - a.interval) for g in gaps)
    print(f"received {len(stamps)}/{a.count}; span {span:.3f} ms vs ideal {ideal} ms (drift {span - ideal:+.3f} ms)")
    print(f"gap median {statistics.median(gaps):.3f} ms, p99 {sorted(gaps)[int(len(gaps) * 0.99)]:.3f}, "
          f"max {max(gaps):.3f}; p99 |gap-interval| {errors[int(len(errors) * 0.99)]:.3f} ms; "
          f"bursts (<0.02 ms) {sum(g < 0.02 for g in gaps)}")
    for line in err.decode().splitlines()[1:]:
        print("wirepad stderr:", line)


if __name__ == "__main__":
    main()
