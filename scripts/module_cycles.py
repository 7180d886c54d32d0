#!/usr/bin/env python3
"""Report pairs of top-level modules of a crate that import each other.

Usage: scripts/module_cycles.py [CRATE_SRC_DIR]   (default: service/src)

A top-level module `m` is `src/m.rs` plus everything under `src/m/`. It
depends on `n` when its text names `crate::n` (a `use` path, a `use
crate::{n, ..}` group, a qualified path, or an intra-doc link). Lines in
`//` comments other than doc comments are ignored. Prints every dependency
edge between modules (with the files behind an edge that is part of a
cycle, "(doc)" for doc comments), then each pair that points both ways;
exits 1 if there is one.
"""
import pathlib
import re
import sys

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def top_names(text, start):
    """Module names right after `crate::` at text[start:]."""
    if text.startswith("{", start):
        depth, i, names, expect = 0, start, [], True
        while i < len(text):
            c = text[i]
            if c == "{":
                depth += 1
                expect = depth == 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            elif c == "," and depth == 1:
                expect = True
            elif expect and depth == 1:
                m = IDENT.match(text, i)
                if m:
                    names.append(m.group(0))
                    expect = False
                    i = m.end()
                    continue
            i += 1
        return names
    m = IDENT.match(text, start)
    return [m.group(0)] if m else []


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "service/src")
    modules = {p.stem for p in src.glob("*.rs")} | {p.name for p in src.iterdir() if p.is_dir()}
    modules -= {"lib", "main"}
    edges = {}
    for path in sorted(src.rglob("*.rs")):
        rel = path.relative_to(src)
        owner = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        if owner not in modules:
            continue
        lines = [
            l for l in path.read_text().splitlines()
            if not (l.lstrip().startswith("//") and not l.lstrip().startswith(("///", "//!")))
        ]
        for doc in (False, True):
            text = "\n".join(l for l in lines if l.lstrip().startswith(("///", "//!")) == doc)
            for m in re.finditer(r"\bcrate::\s*", text):
                for name in top_names(text, m.end()):
                    if name in modules and name != owner:
                        edges.setdefault(owner, {}).setdefault(name, set()).add(
                            f"{rel}{' (doc)' if doc else ''}"
                        )
    for a in sorted(edges):
        print(f"{a} -> {', '.join(sorted(edges[a]))}")
        for b in sorted(edges[a]):
            if a in edges.get(b, ()):
                print(f"    {b}: {', '.join(sorted(edges[a][b]))}")
    pairs = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
    for a, b in pairs:
        print(f"CYCLE: {a} <-> {b}")
    print(f"{len(pairs)} pair(s) of modules import each other")
    return 1 if pairs else 0


if __name__ == "__main__":
    sys.exit(main())
