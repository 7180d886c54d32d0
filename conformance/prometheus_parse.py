"""Parses the Prometheus text format on stdin with the official Python client's
parser (prometheus_client.parser, pinned in requirements.txt) and prints the
families as JSON: {name: {"type": TYPE, "samples": [[NAME, LABELS, VALUE], ...]}}.
Used by the metrics test (tests/tests/operating.rs); a malformed exposition
makes the parser raise, and this script exit non-zero."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    families[family.name] = {
        "type": family.type,
        "samples": [[s.name, s.labels, s.value] for s in family.samples],
    }
json.dump(families, sys.stdout)
