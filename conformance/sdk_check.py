"""Drive the running users-service with the official Python SDK.

Usage: sdk_check.py --url http://127.0.0.1:PORT --token ID_TOKEN

Uses `pieces_os_client` (pinned in requirements.txt) exactly as an SDK user
would: `Configuration(host=..., access_token=...)`, `UsersApi`, its pydantic
models and its exceptions. Prints one line per check and exits non-zero when
any check fails.

SDK 5.0.1 attaches `access_token` (security scheme `auth0`) only to
`authenticate_from_oauth_token`; its other three Users operations list only
the `application` API-key scheme, so with `access_token` alone they go out
without `Authorization` and this service answers 401. The first check
records that (`sdk-auth-gap`, informational); the rest send the token as a
default header, which is what an SDK user has to do against this service.
"""

from __future__ import annotations

import argparse
import sys
import uuid

from pieces_os_client.api.users_api import UsersApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.exceptions import ApiException, NotFoundException, UnauthorizedException
from pieces_os_client.models.o_auth_token import OAuthToken
from pieces_os_client.models.user_profile import UserProfile
from pieces_os_client.models.users import Users

# Fields of UserProfile that the service fills from the token and must come
# back unchanged from every operation.
COMPARED_FIELDS = ("id", "email", "name", "username", "picture", "created", "aesthetics")


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def record(self, name: str, ok: bool, detail: str) -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        if not ok:
            self.failed.append(name)
        return ok

    def info(self, name: str, detail: str) -> None:
        print(f"INFO {name}: {detail}", flush=True)


def ids(users: Users) -> list[str]:
    return [u.id for u in (users.iterable or [])]


def differing_fields(a: UserProfile, b: UserProfile) -> list[str]:
    return [f for f in COMPARED_FIELDS if getattr(a, f) != getattr(b, f)]


def probe_auth_gap(api: UsersApi, checks: Checks) -> None:
    """How SDK 5.0.1 behaves with `access_token` alone on a bearer-protected operation."""
    try:
        api.users_snapshot()
        checks.info("sdk-auth-gap", "users_snapshot with access_token only succeeded (gap closed)")
    except UnauthorizedException:
        checks.info(
            "sdk-auth-gap",
            "users_snapshot with access_token only -> 401: the SDK sends no Authorization "
            "for users_snapshot/users_specific_user_snapshot/users_disconnect_user; "
            "sending it as a default header from here on",
        )


def authenticate(api: UsersApi, token: str, checks: Checks) -> UserProfile | None:
    body = OAuthToken(access_token="ci-access-token", token_type="Bearer", expires_in=3600, id_token=token)
    profile = api.authenticate_from_oauth_token(o_auth_token=body)
    ok = isinstance(profile, UserProfile) and bool(profile.id)
    checks.record("authenticate", ok, f"UserProfile id={profile.id} username={profile.username!r}")
    return profile if ok else None


def snapshot_contains(api: UsersApi, user_id: str, checks: Checks) -> None:
    users = api.users_snapshot()
    checks.record("users_snapshot", user_id in ids(users), f"{len(ids(users))} user(s), created user listed")


def specific_matches(api: UsersApi, created: UserProfile, checks: Checks) -> None:
    fetched = api.users_specific_user_snapshot(user=created.id)
    diff = differing_fields(created, fetched) if isinstance(fetched, UserProfile) else ["<type>"]
    detail = "UserProfile parsed, fields match" if not diff else f"fields differ: {', '.join(diff)}"
    checks.record("users_specific_user_snapshot", not diff, detail)


def unknown_is_not_found(api: UsersApi, checks: Checks) -> None:
    unknown = str(uuid.uuid4())
    try:
        api.users_specific_user_snapshot(user=unknown)
        checks.record("unknown-user-404", False, f"{unknown} returned a profile")
    except NotFoundException as e:
        checks.record("unknown-user-404", e.status == 404, f"NotFoundException (status {e.status})")
    except ApiException as e:
        checks.record("unknown-user-404", e.status == 404, f"{type(e).__name__} status {e.status}")


def disconnect_removes(api: UsersApi, user_id: str, checks: Checks) -> None:
    remaining = api.users_disconnect_user(user=user_id)
    checks.record("users_disconnect_user", user_id not in ids(remaining), "user absent from the returned Users")
    after = api.users_snapshot()
    checks.record("users_snapshot-after-disconnect", user_id not in ids(after), "user gone from snapshot")


def run(url: str, token: str) -> int:
    checks = Checks()
    client = ApiClient(Configuration(host=url, access_token=token))
    api = UsersApi(client)
    probe_auth_gap(api, checks)
    client.set_default_header("Authorization", f"Bearer {token}")
    steps = [
        lambda p: snapshot_contains(api, p.id, checks),
        lambda p: specific_matches(api, p, checks),
        lambda p: unknown_is_not_found(api, checks),
        lambda p: disconnect_removes(api, p.id, checks),
    ]
    try:
        profile = authenticate(api, token, checks)
        for step in steps if profile else []:
            step(profile)
    except ApiException as e:
        checks.record("sdk-call", False, f"unexpected {type(e).__name__} {e.status}: {e.body}")
    except Exception as e:  # a pydantic error means the SDK could not parse a response
        checks.record("sdk-call", False, f"{type(e).__name__}: {e}")
    if checks.failed:
        print(f"{len(checks.failed)} check(s) failed: {', '.join(checks.failed)}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL of the running service")
    parser.add_argument("--token", required=True, help="ID token minted from the service's data dir")
    args = parser.parse_args()
    return run(args.url.rstrip("/"), args.token)


if __name__ == "__main__":
    sys.exit(main())
