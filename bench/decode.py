#!/usr/bin/env python3
"""Received data shown as text (issue 8 §4): the same sender (Python socket.sendfile) pushes SIZE bytes into
`wirepad tcp-server 127.0.0.1:0 --recv-file F -e ENC --quit-after-bytes N` (stdout, the text, to /dev/null) and
into socat writing a file with its default 8 KiB blocks, alternating for ROUNDS rounds; medians compared, every
received file checked against the source's sha256.

  python3 bench/decode.py [--wirepad PATH] [--bytes N] [--rounds R]

  random bytes as UTF-8 and as GBK: goal >= 0.5x socat;  UTF-8 text (ASCII and CJK lines), ASCII text: >= 0.9x
"""
import argparse
import os
import tempfile

from common import DEFAULT_WIREPAD, ratio_at_least, table
from throughput import pairs, sha256, source_file

LINE = "2024-05-06 12:00:00 sensor=42 temperature=21.5C humidity=40% 温度 正常\r\n"


def text_file(directory, name, size, line):
    """SIZE bytes of LINE repeated, and their sha256."""
    path = os.path.join(directory, name)
    unit = line.encode() * ((1 << 20) // len(line.encode()))
    with open(path, "wb") as f:
        left = size
        while left:
            piece = unit[:left]
            f.write(piece)
            left -= len(piece)
    return path, sha256(path)


def measure(wirepad, quick=False, size=None, rounds=None):
    size = size or ((64 << 20) if quick else (256 << 20))
    rounds = rounds or (1 if quick else 3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="wirepad-decode.") as directory:
        sources = {
            "random": source_file(directory, size),
            "utf8": text_file(directory, "utf8", size, LINE),
            "ascii": text_file(directory, "ascii", size, LINE.replace(" 温度 正常", "")),
        }
        dest = os.path.join(directory, "dest")
        socat = ["socat", "-u", "TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr", "OPEN:{dest},creat,trunc"]
        for label, source, encoding, goal in [
            ("random bytes shown as UTF-8", "random", "utf-8", 0.5),
            ("random bytes shown as GBK", "random", "gbk", 0.5),
            ("UTF-8 text (ASCII and CJK lines)", "utf8", "utf-8", 0.9),
            ("ASCII text", "ascii", "utf-8", 0.9),
        ]:
            server = [wirepad, "tcp-server", "127.0.0.1:0", "--recv-file", "{dest}", "-e", encoding,
                      "--quit-after-bytes", str(size)]
            w, s = pairs(label, server, socat, sources[source], dest, rounds)
            rows.append(ratio_at_least(f"{size >> 20} MiB {label}, printed and to a file", "MiB/s", w,
                                       "socat to a file", s, goal))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wirepad", default=DEFAULT_WIREPAD)
    ap.add_argument("--bytes", type=int, default=256 << 20)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    print(table(measure(a.wirepad, size=a.bytes, rounds=a.rounds)))


if __name__ == "__main__":
    main()
