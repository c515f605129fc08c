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
import re
import socket
import statistics
import struct
import subprocess

from common import DEFAULT_WIREPAD, Row, at_most, pct, table

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def measure(wirepad, quick=False, count=2000, interval=1):
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    # Kernel receive timestamps: a receiver descheduled for a while must not make the sender look bursty.
    rx.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(3.0)
    secs = count * interval / 1000 + 3
    proc = subprocess.Popen([wirepad, "udp", "--bind", "127.0.0.1:0", "--remote", "%s:%d" % rx.getsockname(),
                             "--send-hex", "00", "--repeat", str(count), "--interval", str(interval), "-q",
                             "--quit-after-secs", str(secs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stamps = []
    try:
        while len(stamps) < count:
            _, ancillary, _, _ = rx.recvmsg(64, 64)
            stamp = [struct.unpack("qq", d[:16]) for lvl, kind, d in ancillary if kind == SO_TIMESTAMPNS]
            if not stamp:
                raise RuntimeError("periodic: no kernel timestamp (SO_TIMESTAMPNS is Linux only)")
            stamps.append(stamp[0][0] * 1_000_000_000 + stamp[0][1])
    except socket.timeout:
        pass
    finally:
        rx.close()
    _, err = proc.communicate(timeout=secs + 10)
    gaps = [(b - c) / 1e6 for c, b in zip(stamps, stamps[1:])]
    if len(gaps) < 2:
        raise RuntimeError("periodic: too few datagrams received")
    span = (stamps[-1] - stamps[0]) / 1e6
    # A late sender skips ticks (and says how many): the schedule it keeps is count + skipped ticks long.
    m = re.search(r"(\d+) ticks skipped", err.decode(errors="replace"))
    skipped = int(m.group(1)) if m else 0
    ideal = (len(stamps) - 1 + skipped) * interval
    bursts = sum(g < 0.02 for g in gaps)
    return [
        at_most(f"periodic {count}x{interval} ms: total drift from the schedule", "ms", abs(span - ideal), 1.0),
        at_most(f"periodic {count}x{interval} ms: p99 interval error", "ms",
                pct([abs(g - interval) for g in gaps], 0.99), 0.5),
        Row(f"periodic {count}x{interval} ms: median interval", "ms", statistics.median(gaps), goal="-"),
        at_most(f"periodic {count}x{interval} ms: bursts (gap < 0.02 ms)", "", bursts, 0),
        Row(f"periodic {count}x{interval} ms: ticks skipped, as stderr counts them", "", skipped, goal="-"),
        at_most(f"periodic {count}x{interval} ms: datagrams lost", "", count - len(stamps), 0),
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--interval", type=int, default=1, help="milliseconds")
    a = ap.parse_args()
    print(table(measure(a.wirepad, count=a.count, interval=a.interval)))


if __name__ == "__main__":
    main()
