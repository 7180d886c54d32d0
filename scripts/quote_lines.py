#!/usr/bin/env python3
"""Counts the lines inside `quote!` bodies of Rust source files.

For every `quote! { ... }`, `quote!( ... )` or `quote![ ... ]` (brackets
matched, string and char literals and comments skipped) it reports the
body's non-blank lines, and how many of them contain no interpolation
(`#name` or `#(...)`; attributes such as `#[derive]` do not count):
those lines cannot depend on the spec. The third figure leaves out doc
comments, attributes and lines of brackets alone: spec-independent code. A one-line `quote!(...)` counts as one line.

    python3 scripts/quote_lines.py codegen/src/server.rs
    python3 scripts/quote_lines.py codegen/src/server/*.rs
    python3 scripts/quote_lines.py --list codegen/src/server.rs  # and print them

Only the standard library is used.
"""

import re
import sys

# `#name` or `#(...)`: an interpolation; `#[attr]` and `#![attr]` are not.
INTERPOLATION = re.compile(r"#[A-Za-z_(]")

OPEN = {"{": "}", "(": ")", "[": "]"}


def bodies(text):
    """Yields the text of each `quote!` body (macros nested inside included)."""
    i = 0
    while True:
        i = text.find("quote!", i)
        if i < 0:
            return
        j = i + len("quote!")
        while j < len(text) and text[j].isspace():
            j += 1
        if j >= len(text) or text[j] not in OPEN:
            i = j
            continue
        depth, k = 0, j
        while k < len(text):
            c = text[k]
            if c == '"':
                k += 1
                while k < len(text) and text[k] != '"':
                    k += 2 if text[k] == "\\" else 1
            elif c in OPEN:
                depth += 1
            elif c in OPEN.values():
                depth -= 1
                if depth == 0:
                    break
            k += 1
        yield text[j + 1 : k]
        i = k  # nested `quote!`s are counted once, inside their parent


def is_code(line):
    """Not a doc comment, an attribute, or brackets and punctuation alone."""
    s = line.strip()
    if s.startswith(("///", "//!", "#[", "#![")):
        return False
    return any(c.isalnum() for c in s)


def count(text, listing=None):
    total = static = static_code = 0
    for body in bodies(text):
        for line in body.splitlines() or [body]:
            if not line.strip() or line.strip().startswith("//"):
                continue
            total += 1
            if not INTERPOLATION.search(line):
                static += 1
                static_code += is_code(line)
                if listing is not None and is_code(line):
                    listing.append(line.strip())
    return total, static, static_code


def main(args):
    show = "--list" in args
    paths = [a for a in args if a != "--list"]
    sums = [0, 0, 0]
    for path in paths:
        listing = [] if show else None
        with open(path, encoding="utf-8") as f:
            counts = count(f.read(), listing)
        report(path, counts)
        for line in listing or []:
            print(f"    {line}")
        sums = [a + b for a, b in zip(sums, counts)]
    if len(paths) > 1:
        report("total", sums)


def report(what, counts):
    total, static, code = counts
    print(
        f"{what}: {total} lines in quote!, {static} without interpolation, "
        f"{code} of them code (not docs, attributes or lone brackets)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
