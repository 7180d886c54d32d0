"""Drive the running users-service with the official Python SDK.

Usage:
  sdk_check.py --url URL --token ID_TOKEN --mode local
  sdk_check.py --url URL --token ID_TOKEN --mode applications \
      --application-id ID [--refused-application-id ID ...]

Uses `pieces_os_client` (pinned in requirements.txt) configured exactly as
its documentation shows and nothing more: `Configuration(host=...)`,
optionally `configuration.api_key["application"] = ...` (sent as
`X-Application-ID`), `ApiClient`, `UsersApi`. No access token, no default
headers: the SDK never sends `Authorization` on list, get and disconnect.
The ID token is only the body of `authenticate_from_oauth_token`, which is
where the API takes it.

- `--mode local` (the service's default): every operation works with no
  application key and with an arbitrary one; an unknown user id (get and
  disconnect) is an `ApiException` with status 404.
- `--mode applications`: without a key, with a random key and with every
  `--refused-application-id`, list, get (known and unknown user) and
  disconnect are an `ApiException` with status 401 and an `ApiError` body;
  the same operations with the registered `--application-id` all work
  (unknown user 404), and the refused attempts changed nothing.

Prints one line per check and exits non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable

from pieces_os_client.api.users_api import UsersApi
from pieces_os_client.api_client import ApiClient
from pieces_os_client.configuration import Configuration
from pieces_os_client.exceptions import ApiException
from pieces_os_client.models.o_auth_token import OAuthToken
from pieces_os_client.models.user_profile import UserProfile
from pieces_os_client.models.users import Users

# Fields of UserProfile that the service fills from the token and must come
# back unchanged from every operation.
COMPARED_FIELDS = ("id", "email", "name", "username", "picture", "created", "aesthetics")


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []
        self.passed = 0

    def record(self, name: str, ok: bool, detail: str) -> bool:
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed.append(name)
        return ok

    def run(self, name: str, check: Callable[[], tuple[bool, str]]) -> bool:
        """Runs one check; an exception the check did not expect is its failure."""
        try:
            ok, detail = check()
        except ApiException as e:
            ok, detail = False, f"unexpected {type(e).__name__} (status {e.status}): {e.body}"
        except Exception as e:  # a pydantic error means the SDK could not parse a response
            ok, detail = False, f"{type(e).__name__}: {e}"
        return self.record(name, ok, detail)


def users_api(url: str, application_id: str | None) -> UsersApi:
    """The documented configuration: the host, optionally the application key."""
    configuration = Configuration(host=url)
    if application_id is not None:
        configuration.api_key["application"] = application_id
    return UsersApi(ApiClient(configuration))


def ids(users: Users) -> list[str]:
    return [u.id for u in (users.iterable or [])]


def differing_fields(a: UserProfile, b: UserProfile) -> list[str]:
    return [f for f in COMPARED_FIELDS if getattr(a, f) != getattr(b, f)]


def raises_status(call: Callable[[], object], status: int) -> tuple[bool, str]:
    """`call` must raise an ApiException with `status` and an ApiError body saying so."""
    try:
        result = call()
    except ApiException as e:
        if e.status != status:
            return False, f"{type(e).__name__} status {e.status}, expected {status}: {e.body}"
        try:
            body = json.loads(e.body or "")
        except ValueError:
            return False, f"status {status} but the body is not JSON: {e.body!r}"
        if not (isinstance(body, dict) and body.get("status") == status and body.get("code")):
            return False, f"status {status} but the body is not an ApiError with status {status}: {e.body}"
        return True, f"{type(e).__name__} status {e.status}, ApiError code={body['code']!r}"
    return False, f"succeeded with {type(result).__name__}, expected status {status}"


# ------------------------------------------------------------------ checks --


def authenticate(api: UsersApi, token: str, checks: Checks) -> UserProfile | None:
    created: list[UserProfile] = []

    def check() -> tuple[bool, str]:
        body = OAuthToken(access_token="ci-access-token", token_type="Bearer", expires_in=3600, id_token=token)
        profile = api.authenticate_from_oauth_token(o_auth_token=body)
        if not isinstance(profile, UserProfile) or not profile.id:
            return False, f"no UserProfile with an id: {profile!r}"
        created.append(profile)
        return True, f"UserProfile id={profile.id} username={profile.username!r}"

    checks.run("authenticate_from_oauth_token", check)
    return created[0] if created else None


def working_reads(label: str, api: UsersApi, profile: UserProfile, checks: Checks) -> None:
    """List and get succeed and agree with the created profile; an unknown id is 404 (get, disconnect)."""

    def listed() -> tuple[bool, str]:
        found = ids(api.users_snapshot())
        return profile.id in found, f"{len(found)} user(s), created user {'listed' if profile.id in found else 'MISSING'}"

    def fetched() -> tuple[bool, str]:
        got = api.users_specific_user_snapshot(user=profile.id)
        diff = differing_fields(profile, got) if isinstance(got, UserProfile) else ["<type>"]
        return not diff, "UserProfile parsed, fields match" if not diff else f"fields differ: {', '.join(diff)}"

    unknown = str(uuid.uuid4())
    checks.run(f"[{label}] users_snapshot", listed)
    checks.run(f"[{label}] users_specific_user_snapshot", fetched)
    checks.run(
        f"[{label}] unknown user -> 404",
        lambda: raises_status(lambda: api.users_specific_user_snapshot(user=unknown), 404),
    )
    checks.run(
        f"[{label}] disconnect unknown user -> 404",
        lambda: raises_status(lambda: api.users_disconnect_user(user=unknown), 404),
    )


def working_disconnect(label: str, api: UsersApi, others: list[tuple[str, UsersApi]], user_id: str, checks: Checks) -> None:
    """Disconnect removes the user; every other working client sees it gone; again is 404."""

    def removed() -> tuple[bool, str]:
        remaining = ids(api.users_disconnect_user(user=user_id))
        return user_id not in remaining, "user absent from the returned Users" if user_id not in remaining else "user still returned"

    checks.run(f"[{label}] users_disconnect_user", removed)
    for other_label, other in [(label, api), *others]:
        checks.run(
            f"[{other_label}] users_snapshot after disconnect",
            lambda other=other: (user_id not in ids(other.users_snapshot()), "user gone from the list"),
        )
    checks.run(
        f"[{label}] get disconnected user -> 404",
        lambda: raises_status(lambda: api.users_specific_user_snapshot(user=user_id), 404),
    )


def refused(label: str, api: UsersApi, user_id: str, checks: Checks) -> None:
    """Every operation that needs an application is refused with 401, known user or not."""
    unknown = str(uuid.uuid4())
    calls: list[tuple[str, Callable[[], object]]] = [
        ("users_snapshot", api.users_snapshot),
        ("users_specific_user_snapshot", lambda: api.users_specific_user_snapshot(user=user_id)),
        ("users_specific_user_snapshot (unknown user)", lambda: api.users_specific_user_snapshot(user=unknown)),
        ("users_disconnect_user", lambda: api.users_disconnect_user(user=user_id)),
    ]
    for name, call in calls:
        checks.run(f"[{label}] {name} -> 401", lambda call=call: raises_status(call, 401))


# ------------------------------------------------------------------ modes ---


def local_mode(url: str, token: str, checks: Checks) -> None:
    bare = users_api(url, None)
    keyed = users_api(url, f"any-application-{uuid.uuid4()}")
    profile = authenticate(bare, token, checks)
    if profile is None:
        return
    working_reads("no application key", bare, profile, checks)
    working_reads("arbitrary application key", keyed, profile, checks)
    working_disconnect("no application key", bare, [("arbitrary application key", keyed)], profile.id, checks)


def applications_mode(url: str, token: str, registered: str, refused_ids: list[str], checks: Checks) -> None:
    good = users_api(url, registered)
    profile = authenticate(good, token, checks)
    if profile is None:
        return
    refused("no application key", users_api(url, None), profile.id, checks)
    refused("random application key", users_api(url, str(uuid.uuid4())), profile.id, checks)
    for i, app in enumerate(refused_ids, 1):
        refused(f"refused application key {i}", users_api(url, app), profile.id, checks)
    # The refused calls changed nothing: the user is still there, unchanged.
    working_reads("registered application", good, profile, checks)
    working_disconnect("registered application", good, [], profile.id, checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="base URL of the running service")
    parser.add_argument("--token", required=True, help="ID token minted from the service's data dir")
    parser.add_argument("--mode", required=True, choices=["local", "applications"], help="the service's --access mode")
    parser.add_argument("--application-id", help="a registered application id (applications mode)")
    parser.add_argument(
        "--refused-application-id",
        action="append",
        default=[],
        help="an application id the service must refuse (applications mode; repeatable)",
    )
    args = parser.parse_args()
    url = args.url.rstrip("/")
    checks = Checks()
    if args.mode == "local":
        if args.application_id or args.refused_application_id:
            parser.error("application ids only apply to --mode applications")
        local_mode(url, args.token, checks)
    else:
        if not args.application_id:
            parser.error("--mode applications needs --application-id")
        applications_mode(url, args.token, args.application_id, args.refused_application_id, checks)
    if checks.failed or checks.passed == 0:
        print(f"{len(checks.failed)} check(s) failed: {', '.join(checks.failed)}", file=sys.stderr)
        return 1
    print(f"all {checks.passed} checks passed ({args.mode} mode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
