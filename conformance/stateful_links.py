"""Report which OpenAPI links the Schemathesis stateful phase followed.

Usage: stateful_links.py SPEC NDJSON_REPORT

Reads the NDJSON event stream of a `schemathesis run --report ndjson`, prints
one line per link (declared or inferred) with how often it was followed and
the statuses the target operation answered, and exits non-zero when a link
declared in SPEC was never followed with a 2xx answer: a declared link the
stateful phase cannot use means the spec's links or the service are broken.
"""

from __future__ import annotations

import collections
import json
import sys

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def declared_links(spec_path: str) -> list[str]:
    """`METHOD /path -> [status] LinkName` for every link in the spec."""
    with open(spec_path, encoding="utf-8") as fd:
        spec = yaml.safe_load(fd)
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not operation:
                continue
            for status, response in operation.get("responses", {}).items():
                for name in (response or {}).get("links", {}) or {}:
                    found.append(f"{method.upper()} {path} -> [{status}] {name}")
    return sorted(found)


def followed_links(report_path: str) -> dict[str, collections.Counter]:
    """Transition id -> Counter of the target's response statuses."""
    followed: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    with open(report_path, encoding="utf-8") as fd:
        for line in fd:
            event = json.loads(line).get("ScenarioFinished")
            if not event or event.get("phase") != "stateful":
                continue
            recorder = event.get("recorder") or {}
            interactions = recorder.get("interactions") or {}
            for case_id, case in (recorder.get("cases") or {}).items():
                transition = case.get("transition")
                if not transition or not case.get("is_transition_applied"):
                    continue
                response = (interactions.get(case_id) or {}).get("response") or {}
                status = response.get("status_code", "no response")
                followed[transition["id"]][status] += 1
    return followed


def main() -> int:
    spec_path, report_path = sys.argv[1], sys.argv[2]
    followed = followed_links(report_path)
    for link_id in sorted(followed):
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(followed[link_id].items(), key=str))
        print(f"link followed: {link_id}  ({statuses})")
    missing = []
    for declared in declared_links(spec_path):
        ok = any(
            link_id.startswith(declared + " ->") and any(str(s).startswith("2") for s in counts)
            for link_id, counts in followed.items()
        )
        print(f"declared link {'covered' if ok else 'NOT COVERED'}: {declared}")
        if not ok:
            missing.append(declared)
    if missing:
        print(f"{len(missing)} declared link(s) never followed to a 2xx answer", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
