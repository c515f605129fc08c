#!/usr/bin/env python3
"""Random bytes into a text view (issue 22.5), under Xvfb: SIZE MiB by TCP; frame p99/max from WIREPAD_FRAME_LOG,
idle RSS, peak, RSS after Clear. The goals: p99 <= 16 ms, after Clear <= idle + 20 MiB.

  python3 bench/random_flood.py WIREPAD SIZE_MIB
"""
import sys, tempfile, time
from common import pct, rss_mib
from window import Display, Window, flood_tcp, Sampler
wirepad, size = sys.argv[1], int(sys.argv[2]) << 20
display = Display()
try:
    with tempfile.TemporaryDirectory(prefix="pv-flood.") as home:
        w = Window(wirepad, display, home, ["tcp-server", "127.0.0.1:0"])
        try:
            time.sleep(3)
            idle = rss_mib(w.proc.pid)
            s = Sampler(w.proc.pid)
            start = time.time() * 1000
            flood_tcp(w.port, size)
            end = time.time() * 1000
            w.settle(30)
            peak = s.close()
            times = [ms for t, ms in w.frame_lines() if start <= t <= end]
            w.key("ctrl+l"); w.settle(10); time.sleep(2)
            after = rss_mib(w.proc.pid)
            print(f"frames={len(times)} p99={pct(times, 0.99):.1f} ms max={max(times):.1f} ms idle={idle:.0f} "
                  f"peak={peak:.0f} after_clear={after:.0f} after-idle={after-idle:.0f} MiB")
            print(w.cpu_summary(start, end))
        finally:
            w.close()
finally:
    display.close()
