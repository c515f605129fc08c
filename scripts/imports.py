#!/usr/bin/env python3
"""Import cycles inside each of Wirepad's folders, from every path in src/ that names a module of the crate.

Run from the repository root: `python3 scripts/imports.py [SRC]` (SRC defaults to src). For every folder (the crate
root, net, gui, gui/ui, …) it builds the graph between the folder's direct children (files and sub-folders) and prints
each cycle: the children that depend on one another (a strongly connected component) and concrete loops through them
(one through the first, then one through each child no loop shown passes through yet), each step with the line that
makes it. The last line is `cycles: none` (exit status 0) or the folders that have one (exit status 1). `--graph`
prints the edges first ("net: capture -> spool"); `--within FOLDER` (`gui/ui`, `net`, `crate` for the top level)
looks at that folder only.

Every form of path counts: `use` declarations (brace groups, nested, `self` in them, `as`), `crate::`, `super::`
(`super::super::`), `self::`, a child module's name, and paths outside `use` lines (`super::max_datagram(..)` in an
attribute, `worker::spawn(..)`). A path goes to the deepest module it names, and a name a module imports (`pub use`
or not) is followed to where it comes from: `super::Bytes` is an edge to `message` since net/mod.rs has
`pub use message::Bytes` (a re-export cannot hide a cycle), and to the parent, no edge inside the folder, were Bytes
defined in net/mod.rs. `mod x;` is not an edge. Items under `#[cfg(test)]` (and files declared there) are left out:
tests may reach anywhere, the graph is about the code that ships. Comments and string literals are not read.
"""
import sys
from pathlib import Path

ITEM_KEYWORDS = {"fn", "struct", "enum", "trait", "type", "const", "static", "union", "mod"}
ITEM_STARTS = ITEM_KEYWORDS | {"pub", "impl", "use", "unsafe", "async", "extern", "macro_rules", "let"}


def tokens(text: str) -> list:
    """(token, line) pairs: identifiers, `::` and single punctuation; comments, literals and lifetimes dropped."""
    out, i, n, line = [], 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    line += text[i] == "\n"
                    i += 1
        elif c in "rbc" and (raw := _raw_string(text, i)):
            line += text.count("\n", i, raw)
            i = raw
        elif c == '"' or (c in "bc" and text.startswith('"', i + 1)):
            i = text.index('"', i) + 1
            while text[i] != '"':
                line += text[i] == "\n"
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif c == "'" or (c == "b" and text.startswith("'", i + 1)):
            i = text.index("'", i) + 1
            if text[i] == "\\":  # an escaped char literal: '\n', '\u{..}', '\''
                i = text.index("'", i + 2) + 1
            elif i + 1 < n and text[i + 1] == "'":  # 'x'
                i += 2
            # otherwise a lifetime or a label: its name follows as an identifier, which names no module
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if word == "r" and text.startswith("#", j) and j + 1 < n and (text[j + 1].isalpha() or text[j + 1] == "_"):
                i = j + 1  # a raw identifier r#name: the name is the token
                continue
            out.append((word, line))
            i = j
        elif c.isdigit():
            while i < n and (text[i].isalnum() or text[i] == "_"):
                i += 1
        elif text.startswith("::", i):
            out.append(("::", line))
            i += 2
        else:
            out.append((c, line))
            i += 1
    return out


def _raw_string(text: str, i: int) -> int:
    """The index after the raw string literal (r"..", r#".."#, br".." or cr"..") starting at i, or 0."""
    j = i + 1 if text[i] in "bc" else i
    if not text.startswith("r", j):
        return 0
    k = j + 1
    while text.startswith("#", k):
        k += 1
    if not text.startswith('"', k):
        return 0
    end = text.index('"' + "#" * (k - j - 1), k + 1)
    return end + k - j


class Module:
    def __init__(self):
        self.names = {}  # name -> (module it was imported in, path): what `use` lines bring into this module
        self.globs = []  # (module, path) of `use path::*`
        self.items = set()  # names this module defines


class Crate:
    def __init__(self, src: Path):
        self.files = {}  # module path (tuple) -> file
        for file in sorted(src.rglob("*.rs")):
            parts = file.relative_to(src).with_suffix("").parts
            if parts in (("main",), ("lib",)) or parts[0] == "bin":
                if parts == ("lib",):
                    self.files[()] = file
                continue  # main.rs and src/bin/ are other crates: they reach this one as `wirepad::`
            self.files[parts[:-1] if parts[-1] == "mod" else parts] = file
        self.modules = {m: Module() for m in self.files}
        self.uses = []  # (file's module, module of the scope, path, line)
        self.test_only = set()  # modules declared under #[cfg(test)] in a file of their own
        for module, file in self.files.items():
            self._scan(module, tokens(file.read_text()))

    def _scan(self, file_module: tuple, toks: list):
        scopes = [file_module]  # per open brace: the inline module it opens, or None for any other block
        i, n = 0, len(toks)

        def at(k):
            return toks[k][0] if 0 <= k < n else ""

        while i < n:
            tok, line = toks[i]
            module = next(m for m in reversed(scopes) if m is not None)
            at_module_level = scopes[-1] is not None
            if tok == "#" and at(i + 1) in ("[", "!"):
                inner = at(i + 1) == "!"
                start = i + 2 if inner else i + 1
                end = _close(toks, start)
                if _is_cfg_test([t for t, _ in toks[start + 1 : end]]):
                    if inner:  # #![cfg(test)]: the whole enclosing module is for tests
                        i = _close(toks, _open_of(toks, i)) if len(scopes) > 1 else n
                        continue
                    j = end + 1
                    while at(j) == "#":  # the item's other attributes
                        j = _close(toks, j + 1) + 1
                    if at(j) == "pub":
                        j = _close(toks, j + 1) + 1 if at(j + 1) == "(" else j + 1
                    if at(j) == "mod" and at(j + 2) == ";":
                        self.test_only.add(module + (at(j + 1),))
                    i = _skip_item(toks, end + 1)
                    continue
                i = start + 1  # other attributes: their paths count (thiserror's `#[error(.., super::f(..))]`)
            elif tok == "{":
                scopes.append(None)
                i += 1
            elif tok == "}":
                if len(scopes) > 1:
                    scopes.pop()
                i += 1
            elif tok == "mod" and at(i + 2) == "{":
                self.modules.setdefault(module + (at(i + 1),), Module())
                scopes.append(module + (at(i + 1),))
                i += 3
            elif tok == "mod" and at(i + 2) == ";":
                i += 3  # `mod x;` declares a child: not an edge
            elif tok in ITEM_KEYWORDS and at_module_level and i + 1 < n and toks[i + 1][0][0].isalpha():
                self.modules[module].items.add(at(i + 1))
                i += 1
            elif tok == "macro_rules" and at_module_level and at(i + 1) == "!":
                self.modules[module].items.add(at(i + 2))
                i += 1
            elif tok == "use":
                trees, i = _use_tree(toks, i + 1, [])
                for path, alias, glob in trees:
                    self.uses.append((file_module, module, path, line))
                    if not at_module_level:
                        continue
                    if glob:
                        self.modules[module].globs.append((module, path))
                    elif (alias or path[-1]) != "_":
                        self.modules[module].names[alias or path[-1]] = (module, path)
            elif (tok[0].isalpha() or tok[0] == "_") and at(i + 1) == "::" and at(i - 1) not in ("::", "$"):
                path = [tok]
                i += 1
                while at(i) == "::" and (at(i + 1)[:1].isalpha() or at(i + 1)[:1] == "_"):
                    path.append(at(i + 1))
                    i += 2
                self.uses.append((file_module, module, path, line))
            elif tok == "::":  # `::name::…` is another crate's; step over the whole path
                i += 1
                while at(i)[:1].isalpha() or at(i)[:1] == "_" or at(i) == "::":
                    i += 1
            else:
                i += 1

    def resolve(self, module: tuple, path: list, seen=frozenset()):
        """The deepest module of this crate that `path`, written in `module`, names; None for other crates."""
        if (module, tuple(path)) in seen:
            return None
        seen = seen | {(module, tuple(path))}
        first, rest = path[0], list(path[1:])
        if first == "crate":
            cur = ()
        elif first in ("self", "super"):
            cur, rest = module, list(path)  # the loop below takes each `self` and `super`
        elif module + (first,) in self.modules:
            cur = module + (first,)
        elif first in self.modules[module].names:
            where, target = self.modules[module].names[first]
            return self.resolve(where, target + rest, seen)
        else:
            return None  # another crate, the prelude, or an item or variable of this module
        for k, name in enumerate(rest):
            if name in ("self", "super"):
                cur = cur[:-1] if name == "super" else cur
                continue
            if cur + (name,) in self.modules:
                cur += (name,)
                continue
            if name in self.modules[cur].names:
                where, target = self.modules[cur].names[name]
                return self.resolve(where, target + rest[k + 1 :], seen)
            if name not in self.modules[cur].items:
                for where, target in self.modules[cur].globs:
                    source = self.resolve(where, target, seen)
                    if source is not None and self.defines(source, name):
                        return self.resolve(source, ["self"] + rest[k:], seen)
            return cur
        return cur

    def defines(self, module: tuple, name: str) -> bool:
        """Whether `module::name` exists: a child module, an item, or an imported name."""
        m = self.modules[module]
        return module + (name,) in self.modules or name in m.items or name in m.names

    def edges(self):
        """{(folder, from child, to child): (file, line, path)} for every folder of the crate."""
        out = {}
        for file_module, module, path, line in self.uses:
            target = self.resolve(module, path)
            if target is None or any(file_module[: len(test)] == test for test in self.test_only):
                continue
            for depth in range(len(file_module)):
                folder = file_module[:depth]
                if target[:depth] != folder or len(target) <= depth or target[depth] == file_module[depth]:
                    continue
                key = (folder, file_module[depth], target[depth])
                if key not in out:
                    out[key] = (self.files[file_module], line, "::".join(path))
        return out


def _close(toks: list, open_at: int) -> int:
    """The index of the bracket closing the one at open_at."""
    depth = 0
    for k in range(open_at, len(toks)):
        if toks[k][0] in "([{":
            depth += 1
        elif toks[k][0] in ")]}":
            depth -= 1
            if depth == 0:
                return k
    return len(toks)


def _open_of(toks: list, i: int) -> int:
    """The index of the `{` of the block that encloses i."""
    depth = 0
    for k in range(i - 1, -1, -1):
        if toks[k][0] == "}":
            depth += 1
        elif toks[k][0] == "{":
            if depth == 0:
                return k
            depth -= 1
    return 0


def _is_cfg_test(attr: list) -> bool:
    """`cfg(test)`, or `cfg(all(test, ..))`: compiled for tests only."""
    return attr[:1] == ["cfg"] and (attr[1:] == ["(", "test", ")"] or attr[1:5] == ["(", "all", "(", "test"])


def _skip_item(toks: list, i: int) -> int:
    """The index after the item (or field, variant, statement) starting at i, its own attributes included."""
    n = len(toks)
    while i < n and toks[i][0] == "#":
        i = _close(toks, i + 1) + 1
    is_item = i < n and toks[i][0] in ITEM_STARTS
    depth = 0
    while i < n:
        tok = toks[i][0]
        if tok in "([":
            depth += 1
        elif tok in ")]":
            if depth == 0:
                return i
            depth -= 1
        elif tok == "}" and depth == 0:
            return i  # the end of the enclosing block: the skipped thing was its last field or statement
        elif tok == "{" and depth == 0:
            return _close(toks, i) + 1
        elif depth == 0 and (tok == ";" or (tok == "," and not is_item)):
            return i + 1
        i += 1
    return n


def _use_tree(toks: list, i: int, prefix: list):
    """Parse a use tree at i: ([(path, alias, is_glob)], index after the tree, or after `;` at the top)."""
    top, out, path = not prefix, [], list(prefix)
    if toks[i][0] == "::":
        path, i = path + ["::"], i + 1  # `use ::name`: another crate's, which `resolve` leaves out
    while True:
        tok = toks[i][0]
        if tok == "{":
            i += 1
            while toks[i][0] != "}":
                trees, i = _use_tree(toks, i, path)
                out += trees
                if toks[i][0] == ",":
                    i += 1
            i += 1
            break
        if tok == "*":
            out.append((path, None, True))
            i += 1
            break
        path.append(tok)
        i += 1
        if toks[i][0] == "::":
            i += 1
            continue
        alias = None
        if toks[i][0] == "as":
            alias, i = toks[i + 1][0], i + 2
        if path[-1] == "self" and len(path) > 1:  # `a::{self}` is `a`
            path = path[:-1]
        out.append((path, alias, False))
        break
    if top:
        while toks[i][0] != ";":
            i += 1
        i += 1
    return out, i


def cycles(nodes: set, edges: dict) -> list:
    """Strongly connected components of more than one node (Tarjan), each sorted."""
    succ = {v: sorted(b for a, b in edges if a == v) for v in nodes}
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return sorted(out)


def loop_through(start: str, component: list, edges: dict) -> list:
    """A shortest loop from start back to it, inside the component: [start, b, .., start]."""
    inside = set(component)
    previous, frontier = {}, [start]
    while frontier:
        following = []
        for v in frontier:
            for a, b in sorted(edges):
                if a != v or b not in inside:
                    continue
                if b == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return path[::-1] + [start]
                if b not in previous:
                    previous[b] = v
                    following.append(b)
        frontier = following
    return []


def main(argv: list) -> int:
    graph = "--graph" in argv
    argv = [a for a in argv if a != "--graph"]
    within = None
    if argv[:1] == ["--within"]:
        within, argv = argv[1], argv[2:]
    src = Path(argv[0] if argv else "src")
    crate = Crate(src)
    by_folder = {}
    for (folder, a, b), why in sorted(crate.edges().items()):
        by_folder.setdefault(folder, {})[(a, b)] = why

    def name(folder):
        return "/".join(folder) or "crate"

    folders = sorted(by_folder, key=name)
    if within is not None:
        folders = [f for f in folders if name(f) == within.strip("/").replace("::", "/")]
    if graph:
        for folder in folders:
            for a, b in by_folder[folder]:
                print(f"{name(folder)}: {a} -> {b}")
    found = []
    for folder in folders:
        edges = by_folder[folder]
        nodes = {v for edge in edges for v in edge}
        for component in cycles(nodes, edges):
            found.append(name(folder))
            print(f"cycle in {name(folder)} among {', '.join(component)}:")
            # One loop through the first of them, then through each one no loop shown passes through yet.
            shown = set()
            for start in component:
                if start in shown:
                    continue
                loop = loop_through(start, component, edges)
                shown.update(loop)
                print(f"  {name(folder)}: {' -> '.join(loop)}")
                for a, b in zip(loop, loop[1:]):
                    file, line, path = edges[(a, b)]
                    print(f"    {a} -> {b}: {file}:{line} {path}")
    print("cycles:", ", ".join(sorted(set(found))) if found else "none")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
