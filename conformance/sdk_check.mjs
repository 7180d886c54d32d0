// Drive the running users-service with the official npm SDK.
//
// Usage:
//   node conformance/sdk_check.mjs --url URL --token ID_TOKEN --mode local
//   node conformance/sdk_check.mjs --url URL --token ID_TOKEN --mode applications \
//       --application-id ID [--refused-application-id ID ...]
//
// Uses `@pieces.app/pieces-os-client` (pinned in package.json and
// package-lock.json) configured exactly as its documentation shows and
// nothing more: `new Configuration({ basePath })`, optionally `apiKey` (sent
// as `X-Application-ID`), `new UsersApi(configuration)`. No access token, no
// headers, no middleware: the SDK never sends `Authorization` on list, get
// and disconnect. The ID token is only the body of
// `authenticateFromOauthToken`, which is where the API takes it.
//
// The checks are those of sdk_check.py (the Python SDK), same names:
// - `--mode local` (the service's default): every operation works with no
//   application key and with an arbitrary one; an unknown user id (get and
//   disconnect) is a `ResponseError` with status 404.
// - `--mode applications`: without a key, with a random key and with every
//   `--refused-application-id`, list, get (known and unknown user) and
//   disconnect are a `ResponseError` with status 401 and an `ApiError` body;
//   with the registered `--application-id` they all work (unknown user 404),
//   and the refused attempts changed nothing.
//
// Prints one line per check and exits non-zero when any check fails.

import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { isDeepStrictEqual } from 'node:util';

import * as Pieces from '@pieces.app/pieces-os-client';

// Fields of UserProfile that the service fills from the token and must come
// back unchanged from every operation.
const COMPARED_FIELDS = ['id', 'email', 'name', 'username', 'picture', 'created', 'aesthetics'];

class Checks {
  constructor() {
    this.failed = [];
    this.passed = 0;
  }

  record(name, ok, detail) {
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
    if (ok) this.passed += 1;
    else this.failed.push(name);
    return ok;
  }

  /** Runs one check; an error the check did not expect is its failure. */
  async run(name, check) {
    let ok;
    let detail;
    try {
      [ok, detail] = await check();
    } catch (e) {
      ok = false;
      detail = e instanceof Pieces.ResponseError
        ? `unexpected ResponseError (status ${e.response.status}): ${await bodyText(e.response)}`
        : `${e?.name ?? 'error'}: ${e?.message ?? e}`;
    }
    return this.record(name, ok, detail);
  }
}

async function bodyText(response) {
  try {
    return await response.text();
  } catch (e) {
    return `<body unreadable: ${e.message}>`;
  }
}

/** The documented configuration: the base path, optionally the application key. */
function usersApi(basePath, applicationId) {
  const parameters = applicationId === undefined ? { basePath } : { basePath, apiKey: applicationId };
  return new Pieces.UsersApi(new Pieces.Configuration(parameters));
}

function ids(users) {
  return (users?.iterable ?? []).map((u) => u.id);
}

function isProfile(value) {
  return value != null && typeof value === 'object' && Pieces.instanceOfUserProfile(value)
    && typeof value.id === 'string' && value.id.length > 0;
}

function differingFields(a, b) {
  return COMPARED_FIELDS.filter((f) => !isDeepStrictEqual(a[f], b[f]));
}

/** `call` must reject with a ResponseError of `status` whose body is an ApiError saying so. */
async function rejectsWith(call, status) {
  let result;
  try {
    result = await call();
  } catch (e) {
    if (!(e instanceof Pieces.ResponseError)) throw e;
    const got = e.response.status;
    const text = await bodyText(e.response);
    if (got !== status) return [false, `ResponseError status ${got}, expected ${status}: ${text}`];
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      return [false, `status ${status} but the body is not JSON: ${JSON.stringify(text)}`];
    }
    const ok = body !== null && typeof body === 'object' && body.status === status && Boolean(body.code);
    return ok
      ? [true, `ResponseError status ${got}, ApiError code=${JSON.stringify(body.code)}`]
      : [false, `status ${status} but the body is not an ApiError with status ${status}: ${text}`];
  }
  return [false, `succeeded with ${JSON.stringify(result)?.slice(0, 200)}, expected status ${status}`];
}

// ------------------------------------------------------------------ checks --

async function authenticate(api, token, checks) {
  let created = null;
  await checks.run('authenticate_from_oauth_token', async () => {
    const oAuthToken = { accessToken: 'ci-access-token', tokenType: 'Bearer', expiresIn: 3600, idToken: token };
    const profile = await api.authenticateFromOauthToken({ oAuthToken });
    if (!isProfile(profile)) return [false, `no UserProfile with an id: ${JSON.stringify(profile)}`];
    created = profile;
    return [true, `UserProfile id=${profile.id} username=${JSON.stringify(profile.username)}`];
  });
  return created;
}

/** List and get succeed and agree with the created profile; an unknown id is 404 (get, disconnect). */
async function workingReads(label, api, profile, checks) {
  await checks.run(`[${label}] users_snapshot`, async () => {
    const found = ids(await api.usersSnapshot());
    const listed = found.includes(profile.id);
    return [listed, `${found.length} user(s), created user ${listed ? 'listed' : 'MISSING'}`];
  });
  await checks.run(`[${label}] users_specific_user_snapshot`, async () => {
    const got = await api.usersSpecificUserSnapshot({ user: profile.id });
    const diff = isProfile(got) ? differingFields(profile, got) : ['<type>'];
    return [diff.length === 0, diff.length === 0 ? 'UserProfile parsed, fields match' : `fields differ: ${diff.join(', ')}`];
  });
  const unknown = randomUUID();
  await checks.run(`[${label}] unknown user -> 404`, () =>
    rejectsWith(() => api.usersSpecificUserSnapshot({ user: unknown }), 404));
  await checks.run(`[${label}] disconnect unknown user -> 404`, () =>
    rejectsWith(() => api.usersDisconnectUser({ user: unknown }), 404));
}

/** Disconnect removes the user; every other working client sees it gone; a get is then 404. */
async function workingDisconnect(label, api, others, userId, checks) {
  await checks.run(`[${label}] users_disconnect_user`, async () => {
    const remaining = ids(await api.usersDisconnectUser({ user: userId }));
    const gone = !remaining.includes(userId);
    return [gone, gone ? 'user absent from the returned Users' : 'user still returned'];
  });
  for (const [otherLabel, other] of [[label, api], ...others]) {
    await checks.run(`[${otherLabel}] users_snapshot after disconnect`, async () =>
      [!ids(await other.usersSnapshot()).includes(userId), 'user gone from the list']);
  }
  await checks.run(`[${label}] get disconnected user -> 404`, () =>
    rejectsWith(() => api.usersSpecificUserSnapshot({ user: userId }), 404));
}

/** Every operation that needs an application is refused with 401, known user or not. */
async function refused(label, api, userId, checks) {
  const unknown = randomUUID();
  const calls = [
    ['users_snapshot', () => api.usersSnapshot()],
    ['users_specific_user_snapshot', () => api.usersSpecificUserSnapshot({ user: userId })],
    ['users_specific_user_snapshot (unknown user)', () => api.usersSpecificUserSnapshot({ user: unknown })],
    ['users_disconnect_user', () => api.usersDisconnectUser({ user: userId })],
  ];
  for (const [name, call] of calls) {
    await checks.run(`[${label}] ${name} -> 401`, () => rejectsWith(call, 401));
  }
}

// ------------------------------------------------------------------ modes ---

async function localMode(url, token, checks) {
  const bare = usersApi(url, undefined);
  const keyed = usersApi(url, `any-application-${randomUUID()}`);
  const profile = await authenticate(bare, token, checks);
  if (profile === null) return;
  await workingReads('no application key', bare, profile, checks);
  await workingReads('arbitrary application key', keyed, profile, checks);
  await workingDisconnect('no application key', bare, [['arbitrary application key', keyed]], profile.id, checks);
}

async function applicationsMode(url, token, registered, refusedIds, checks) {
  const good = usersApi(url, registered);
  const profile = await authenticate(good, token, checks);
  if (profile === null) return;
  await refused('no application key', usersApi(url, undefined), profile.id, checks);
  await refused('random application key', usersApi(url, randomUUID()), profile.id, checks);
  for (const [i, app] of refusedIds.entries()) {
    await refused(`refused application key ${i + 1}`, usersApi(url, app), profile.id, checks);
  }
  // The refused calls changed nothing: the user is still there, unchanged.
  await workingReads('registered application', good, profile, checks);
  await workingDisconnect('registered application', good, [], profile.id, checks);
}

function usage(message) {
  console.error(`sdk_check.mjs: ${message}`);
  console.error('usage: node sdk_check.mjs --url URL --token ID_TOKEN --mode local|applications '
    + '[--application-id ID] [--refused-application-id ID ...]');
  process.exit(2);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        mode: { type: 'string' },
        'application-id': { type: 'string' },
        'refused-application-id': { type: 'string', multiple: true, default: [] },
      },
      strict: true,
    }));
  } catch (e) {
    usage(e.message);
  }
  if (!values.url || !values.token) usage('--url and --token are required');
  const url = values.url.replace(/\/+$/, '');
  const checks = new Checks();
  const registered = values['application-id'];
  const refusedIds = values['refused-application-id'];
  if (values.mode === 'local') {
    if (registered !== undefined || refusedIds.length > 0) usage('application ids only apply to --mode applications');
    await localMode(url, values.token, checks);
  } else if (values.mode === 'applications') {
    if (!registered) usage('--mode applications needs --application-id');
    await applicationsMode(url, values.token, registered, refusedIds, checks);
  } else {
    usage('--mode must be local or applications');
  }
  if (checks.failed.length > 0 || checks.passed === 0) {
    console.error(`${checks.failed.length} check(s) failed: ${checks.failed.join(', ')}`);
    return 1;
  }
  console.log(`all ${checks.passed} checks passed (${values.mode} mode)`);
  return 0;
}

process.exitCode = await main();
