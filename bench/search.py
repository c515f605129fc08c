#!/usr/bin/env python3
"""Find over a 64 MiB history (issue 12): `cargo bench --bench search` searches the window's snapshot of it as the
find bar does (reads of 1 to 16 KiB, so matches cross chunks) and reports the time to the first match and to all;
Python searches the same bytes, already in memory, as the peer: bytes.find / bytes.count for text and hex, re over
the decoded text for the regex (its decoding not timed). The counts must agree.

  python3 bench/search.py [--dev]     (--dev: the dev profile's build, opt-level 1, where a release build is
                                      too slow to make; its figures are upper bounds)

  goals: first match <= 100 ms, all matches <= 1000 ms (the ratio is wirepad's time over Python's)
"""
import json
import os
import re
import subprocess
import tempfile
import time

from common import ROOT, at_most, say, table


def peer(data, text, case):
    """(seconds to the first match, seconds to count them all, count) for Python."""
    if case["mode"] == "Regex":
        pattern = re.compile(case["pattern"])
        started = time.perf_counter()
        first = pattern.search(text)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        count = sum(1 for _ in pattern.finditer(text))
        return first_s, time.perf_counter() - started, count if first else 0
    needle = (bytes.fromhex(case["pattern"]) if case["mode"] == "Hex" else case["pattern"].encode())
    started = time.perf_counter()
    data.find(needle)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    count = data.count(needle)
    return first_s, time.perf_counter() - started, count


def measure(_wirepad=None, quick=False, profile="bench"):
    rows = []
    with tempfile.TemporaryDirectory(prefix="wirepad-search.") as directory:
        path = os.path.join(directory, "history")
        out = subprocess.run(["cargo", "bench", "--profile", profile, "--bench", "search"], cwd=ROOT, check=True, timeout=1800,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "WIREPAD_SEARCH_DATA": path})
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode()
        for line in out.stdout.splitlines():
            if not line.startswith("{"):
                continue
            case = json.loads(line)
            first_s, all_s, count = peer(data, text, case)
            if count != case["count"]:
                raise RuntimeError(f"{case['case']}: wirepad found {case['count']}, Python {count}")
            say("search", f"{case['case']}, reads of {case['reads']}: {count} matches in {case['chunks']} chunks, "
                          f"snapshot {case['snapshot_ms']:.1f} ms")
            what = f"find in {round(len(data) / 2**20)} MiB read {case['reads']}, {case['case']}"
            rows.append(at_most(f"{what}: first match", "ms", case["first_ms"], 100,
                                "Python find/search", first_s * 1000))
            rows.append(at_most(f"{what}: all {count}", "ms", case["all_ms"], 1000,
                                "Python count/finditer", all_s * 1000))
    return rows


def main():
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", action="store_true")
    a = ap.parse_args()
    print(table(measure(profile="dev" if a.dev else "bench")))


if __name__ == "__main__":
    main()
