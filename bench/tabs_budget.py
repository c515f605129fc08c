#!/usr/bin/env python3
"""One history budget for all tabs (issue 22.10), under Xvfb: 16 tabs (TCP servers) each fed 96 MiB of text lines
at once; idle RSS, peak RSS and RSS after. The goal: peak within idle + 256 MiB (the budget) + 80 MiB.

  python3 bench/tabs_budget.py WIREPAD
"""
import sys, tempfile, threading, time, socket
from common import listening_ports, rss_mib
from window import Display, Window, Sampler
TABS, SIZE = 16, 96 << 20
wirepad = sys.argv[1]
display = Display()
try:
    with tempfile.TemporaryDirectory(prefix="pv-tabs.") as home:
        sessions = ["tcp-server", "127.0.0.1:0"]
        for _ in range(TABS - 1):
            sessions += ["+", "tcp-server", "127.0.0.1:0"]
        w = Window(wirepad, display, home, sessions)
        try:
            deadline = time.monotonic() + 60
            while len(listening_ports(w.proc.pid)) < TABS and time.monotonic() < deadline:
                time.sleep(0.1)
            ports = listening_ports(w.proc.pid)
            time.sleep(3)
            idle = rss_mib(w.proc.pid)
            line = b"".join(b"line %08d temperature=23.5 humidity=41%%\r\n" % n for n in range(25000))
            def feed(port):
                with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
                    left = SIZE
                    while left > 0:
                        n = min(left, len(line)); s.sendall(line[:n]); left -= n
            sampler = Sampler(w.proc.pid)
            t0 = time.monotonic()
            threads = [threading.Thread(target=feed, args=(p,)) for p in ports]
            for t in threads: t.start()
            for t in threads: t.join(timeout=600)
            w.settle(60)
            peak = sampler.close()
            after = rss_mib(w.proc.pid)
            print(f"tabs={len(ports)} idle={idle:.0f} MiB peak={peak:.0f} MiB after={after:.0f} MiB "
                  f"peak-idle={peak-idle:.0f} MiB feed={time.monotonic()-t0:.0f}s")
        finally:
            w.close()
finally:
    display.close()
