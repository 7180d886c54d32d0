#!/usr/bin/env python3
"""Counts the lines inside `quote!` bodies of Rust source files.

For every `quote! { ... }`, `quote!( ... )` or `quote![ ... ]` (brackets
matched, string and char literals and comments skipped) it reports the
body's non-blank lines, and how many of them contain no interpolation
(`#name` or `#(...)`; attributes such as `#[derive]` do not count):
those lines cannot depend on the spec. The third figure leaves out doc
comments, attributes and lines of brackets alone: spec-independent code
(the metric of earlier sessions). A one-line `quote!(...)` counts as one
line.

That code is split in two:
- fragments: a line that is one path, identifier or literal, alone or
  wrapped once in `Ok(..)`, `Some(..)` or `Err(..)`, with at most a leading
  `&` or `!` and a trailing `,` or `;` (`i64`, `FormCommas`,
  `stub_runtime::TextBody`, `Ok(())`, `None`, `&NAME`, `body`). The generator
  picks such a line by what the spec says (a type for a schema's type, a
  style for a parameter's, a binding for a body it has): it is a name,
  not runtime that could move to `stub-runtime`;
- runtime: every other spec-independent code line (statements, calls,
  signatures, `match self {`): the same in every generated crate, so code
  that could live in `stub-runtime` or is the shell around what cannot.
A third, small class is the inside of a multi-line attribute (a lint
`allow` with its `reason`), counted as code by the older figure but neither
a name nor runtime. The sum of the three is the older figure.

    python3 scripts/quote_lines.py codegen/src/server.rs
    python3 scripts/quote_lines.py codegen/src/server/*.rs
    python3 scripts/quote_lines.py --list codegen/src/server.rs  # and print them, R, F or A

Only the standard library is used.
"""

import re
import sys

# `#name` or `#(...)`: an interpolation; `#[attr]` and `#![attr]` are not.
INTERPOLATION = re.compile(r"#[A-Za-z_(]")

OPEN = {"{": "}", "(": ")", "[": "]"}

# One path, identifier or literal, alone or wrapped once in `Ok`/`Some`/`Err`.
_PATH = r"[A-Za-z_]\w*(?:::(?:<[\w:, ]+>|[A-Za-z_]\w*))*"
_LITERAL = r'"(?:[^"\\]|\\.)*"|\d[\w.]*|\(\)'
_ATOM = rf"(?:{_PATH}|{_LITERAL})"
FRAGMENT = re.compile(rf"[&!]?(?:{_ATOM}|(?:Ok|Some|Err)\({_ATOM}\))[,;]?")


def is_fragment(line):
    """A name the spec selects: see the module's doc."""
    return FRAGMENT.fullmatch(line.strip()) is not None


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
    """(lines, without interpolation, code, fragments, attribute lines)
    among the code."""
    total = static = static_code = fragments = attributes = 0
    for body in bodies(text):
        in_attribute = 0  # open brackets of a multi-line `#[...]`/`#![...]`
        for line in body.splitlines() or [body]:
            if not line.strip() or line.strip().startswith("//"):
                continue
            total += 1
            opened = in_attribute or line.strip().startswith(("#[", "#!["))
            continuing = in_attribute > 0
            if opened:
                in_attribute += line.count("[") + line.count("(")
                in_attribute -= line.count("]") + line.count(")")
                in_attribute = max(in_attribute, 0)
            if not INTERPOLATION.search(line):
                static += 1
                if is_code(line):
                    static_code += 1
                    if continuing:
                        kind = "A"
                        attributes += 1
                    elif is_fragment(line):
                        kind = "F"
                        fragments += 1
                    else:
                        kind = "R"
                    if listing is not None:
                        listing.append(f"{kind} {line.strip()}")
    return total, static, static_code, fragments, attributes


def main(args):
    show = "--list" in args
    paths = [a for a in args if a != "--list"]
    sums = [0, 0, 0, 0, 0]
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
    total, static, code, fragments, attributes = counts
    print(
        f"{what}: {total} lines in quote!, {static} without interpolation, "
        f"{code} of them code (not docs, attributes or lone brackets): "
        f"{code - fragments - attributes} runtime (R), {fragments} fragments (F), "
        f"{attributes} inside a multi-line attribute (A)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
