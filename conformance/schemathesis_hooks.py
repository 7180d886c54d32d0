"""Schemathesis hooks for `cargo xtask ci --only schemathesis`.

Loaded through `hooks = ...` in schemathesis.toml. Test setup only, no check
relaxed:

`POST /users/authenticate/from_token` takes its credential in the body
(`id_token`), which no generator can forge. Half of the generated bodies
whose `id_token` is a string get a real development ID token, so the
operation is exercised past verification and its 200 responses feed the
OpenAPI links (GetUser, DisconnectUser) in the stateful phase. The other
half keep their random token and must get a documented 401. A body whose
`id_token` is not a string (a negative case) is left alone.

Each real token is minted on the spot for a new identity, with the service's
own CLI from the service's data directory (`USERS_CI_SERVICE_BIN`,
`USERS_CI_DATA_DIR`, set by xtask): disconnecting a user revokes every token
issued for that identity before the disconnect, so one shared token would be
refused as soon as the stateful phase followed a DisconnectUser link once.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import zlib

import schemathesis

AUTHENTICATE_PATH = "/users/authenticate/from_token"

_identities = itertools.count(1)


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set: run this through `cargo xtask ci`")
    return value


def _fresh_token() -> str:
    """A development ID token for a user that never signed in before."""
    n = next(_identities)
    command = [
        _env("USERS_CI_SERVICE_BIN"),
        "--data-dir",
        _env("USERS_CI_DATA_DIR"),
        "mint-token",
        "--sub",
        f"github|schemathesis-{n}",
        "--email",
        f"schemathesis-{n}@example.com",
        "--name",
        f"Schemathesis {n}",
        "--nickname",
        f"schemathesis{n}",
        "--ttl",
        "3600",
    ]
    # Only the flags above decide, not USERS_* settings of the environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERS_")}
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False, env=env)
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        raise RuntimeError(f"mint-token failed ({done.returncode}): {done.stderr.strip()}")
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
        case.body = {**body, "id_token": _fresh_token()}
    return case
