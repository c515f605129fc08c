#!/usr/bin/env python3
"""The import graph between Wirepad's top-level modules, from the `use crate::…` and `crate::…::` paths in src/.

Prints one line per edge ("gui -> session") and then any cycle between two modules. Run from the repository root:
`python3 scripts/imports.py [SRC]` (SRC defaults to src). `--within gui` shows the edges between gui's own modules.
"""
import re
import sys
from pathlib import Path

args = sys.argv[1:]
within = None
if args[:1] == ["--within"]:
    within, args = args[1], args[2:]
src = Path(args[0] if args else "src")
PATH = re.compile(r"crate::((?:[a-z0-9_]+::)*[a-z0-9_]+)")


def module_of(file: Path) -> list:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    return parts or ["lib"]


def key(parts: list) -> str:
    if within:
        return parts[1] if len(parts) > 1 and parts[0] == within else ""
    return parts[0]


edges = set()
for file in sorted(src.rglob("*.rs")):
    text = file.read_text()
    # Tests may reach anywhere; the graph is about the code that ships.
    text = text.split("#[cfg(test)]")[0]
    me = module_of(file)
    if within and me[0] != within:
        continue
    for match in PATH.finditer(text):
        target = match.group(1).split("::")
        a, b = key(me), key(target)
        if a and b and a != b and a not in ("main", "lib"):
            edges.add((a, b))
for a, b in sorted(edges):
    print(f"{a} -> {b}")
loops = sorted((a, b) for a, b in edges if (b, a) in edges and a < b)
print("loops:", ", ".join(f"{a} <-> {b}" for a, b in loops) or "none")
