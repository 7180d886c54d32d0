#!/usr/bin/env python3
"""Measures what the generated schema checks cost the Users service.

Starts two release `users-service` processes on loopback, one with
`--validate-requests true` and one with `--validate-requests false` (both
with `--validate-responses false`, the release default, and the default log
level), signs one user in on each, then runs wrk (`-t1 -c32`, 10 s) against
`GET /users/{id}` and against sign-in (`POST /users/authenticate/from_token`,
the same body each time) on each, alternating, three rounds. Prints each
run and the median requests/s per case, and the on/off ratio.

    cargo build --release -p users-service --bin users-service
    python3 scripts/validation_cost.py target/release/users-service

Only the standard library, wrk (Debian package `wrk`) and the binary.
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

DURATION = "10s"
ROUNDS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, data, validate):
    port = free_port()
    log = open(os.path.join(data, "service.log"), "w")
    proc = subprocess.Popen(
        [binary, "--data-dir", data, "--listen", f"127.0.0.1:{port}",
         "--validate-requests", validate, "--validate-responses", "false"],
        stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/users", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"the service on {url} did not start; see {log.name}")


def sign_in_body(binary, data):
    token = subprocess.check_output(
        [binary, "--data-dir", data, "mint-token", "--sub", "github|42",
         "--email", "ada@example.com", "--name", "Ada Lovelace",
         "--nickname", "ada"], text=True).strip()
    return json.dumps({"access_token": "x", "token_type": "Bearer",
                       "expires_in": 3600, "id_token": token})


def post(url, body):
    request = urllib.request.Request(
        url, data=body.encode(), method="POST",
        headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=5))


def wrk(url, script=None):
    cmd = ["wrk", "-t1", "-c32", "-d" + DURATION, "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.check_output(cmd + [url], text=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        sys.exit(f"{url}: {non2xx.group(1)} non-2xx answers")
    return rate


def main():
    binary = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="validation-cost-")
    services = {}
    for validate in ("true", "false"):
        data = os.path.join(work, validate)
        os.mkdir(data)
        proc, url = start(binary, data, validate)
        body = sign_in_body(binary, data)
        user = post(url + "/users/authenticate/from_token", body)
        script = os.path.join(data, "sign_in.lua")
        with open(script, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    f"wrk.body = {json.dumps(body)}\n")
        services[validate] = (proc, url, user["id"], script)
    results = {}
    try:
        for round_ in range(ROUNDS):
            for case in ("get", "sign_in"):
                for validate in ("true", "false"):
                    _, url, user, script = services[validate]
                    if case == "get":
                        rate = wrk(f"{url}/users/{user}")
                    else:
                        rate = wrk(url + "/users/authenticate/from_token", script)
                    results.setdefault((case, validate), []).append(rate)
                    print(f"round {round_ + 1} {case:8} validate_requests={validate:5} {rate:10.0f} req/s",
                          flush=True)
    finally:
        for proc, *_ in services.values():
            proc.terminate()
            proc.wait()
    for case in ("get", "sign_in"):
        on = statistics.median(results[(case, "true")])
        off = statistics.median(results[(case, "false")])
        print(f"{case:8} median on {on:.0f} req/s, off {off:.0f} req/s, on/off {on / off:.3f}")


if __name__ == "__main__":
    main()
