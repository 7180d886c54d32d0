"""Schemathesis hooks for `cargo xtask ci --only schemathesis`.

Loaded through `hooks = ...` in schemathesis.toml. Two adjustments, both
about how the tool reaches the API, neither relaxing a check:

1. `POST /users/authenticate/from_token` takes its credential in the body
   (`id_token`), which no generator can forge. Half of the generated bodies
   whose `id_token` is a string get the real development token (minted by
   xtask from the service's data directory, `USERS_CI_TOKEN`), so the
   operation is exercised past verification and its 200 responses feed the
   OpenAPI links (GetUser, DisconnectUser) in the stateful phase. The other
   half keep their random token and must get a documented 401. A body whose
   `id_token` is not a string (a negative case) is left alone.

2. `GET /openapi.yaml` is declared as `application/yaml` with schema
   `type: string`: the body is a YAML *document*. Schemathesis would parse
   it into an object first and then compare that object with `string`;
   here the body is handed to the schema check as the text it is.
"""

from __future__ import annotations

import os
import zlib

import schemathesis

AUTHENTICATE_PATH = "/users/authenticate/from_token"


def _valid_token() -> str:
    token = os.environ.get("USERS_CI_TOKEN", "")
    if not token:
        raise RuntimeError("USERS_CI_TOKEN is not set: run this through `cargo xtask ci`")
    return token


def _pick(body: dict) -> bool:
    """A stable coin flip per generated body (no randomness outside the seed)."""
    return zlib.crc32(repr(sorted(body.items(), key=str)).encode()) % 2 == 0


@schemathesis.hook
def map_case(context, case):
    if case.operation.path != AUTHENTICATE_PATH or case.method.upper() != "POST":
        return case
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("id_token"), str) and _pick(body):
        case.body = {**body, "id_token": _valid_token()}
    return case


# Every YAML media type Schemathesis knows is registered: the built-in YAML
# parser sits under `text/yaml` too, and the first matching family wins.
@schemathesis.deserializer(
    "text/yaml", "text/x-yaml", "application/x-yaml", "text/vnd.yaml", "application/yaml"
)
def yaml_document_as_text(context, response):
    return response.content.decode(response.encoding or "utf-8")
