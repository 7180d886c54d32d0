//! Operating the real binary: the admin listener (liveness, readiness,
//! Prometheus metrics read by the official Python parser), request ids, JSON
//! log lines, and draining on SIGTERM.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use users_harness::files::workspace_root;
use users_harness::pg_cluster::free_port;
use users_harness::service::ServiceProcess;
use users_harness::tokens::dev_token;

/// A service with an admin listener on a free loopback port.
fn start(extra: &[&str]) -> (ServiceProcess, String) {
    let admin = format!("127.0.0.1:{}", free_port().expect("free port"));
    let mut args = vec!["--admin-listen", admin.as_str()];
    args.extend(extra);
    (ServiceProcess::start_with(&args), format!("http://{admin}"))
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn get(url: &str) -> (StatusCode, String) {
    let response = http().get(url).send().await.expect("request");
    (response.status(), response.text().await.unwrap())
}

async fn sign_in(service: &ServiceProcess, sub: &str) -> (String, String) {
    let token = dev_token(&service.data_dir, sub);
    let id = sign_in_with(service, &token).await;
    (id, token)
}

async fn sign_in_with(service: &ServiceProcess, token: &str) -> String {
    let body = users_harness::client::sign_in_json(token);
    let response = http()
        .post(format!("{}/users/authenticate/from_token", service.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let profile: Value = response.json().await.unwrap();
    profile["id"].as_str().unwrap().to_string()
}

/// The Python with `prometheus_client`: `USERS_TEST_PYTHON` (the CI step
/// sets the venv's), else the CI venv under `target/`, else `python3`.
fn python() -> String {
    if let Ok(python) = std::env::var("USERS_TEST_PYTHON") {
        return python;
    }
    let venv = workspace_root().join("target/ci-tools/venv/bin/python");
    if venv.exists() {
        return venv.display().to_string();
    }
    "python3".into()
}

/// Families as the official parser reads them: name -> (type, samples).
type Families = BTreeMap<String, Value>;

fn parse_with_prometheus_client(text: &str) -> Families {
    let script = workspace_root().join("conformance/prometheus_parse.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client did not parse the exposition (install it with \
         `pip install -r conformance/requirements.txt`, as `cargo xtask ci` does): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the sample `name` whose labels include `labels` (0 if none).
fn sample(families: &Families, name: &str, labels: &[(&str, &str)]) -> f64 {
    families
        .values()
        .flat_map(|f| f["samples"].as_array().unwrap())
        .filter(|s| s[0] == name)
        .filter(|s| labels.iter().all(|(k, v)| s[1][*k] == *v))
        .map(|s| s[2].as_f64().unwrap())
        .sum()
}

fn family_type(families: &Families, name: &str) -> String {
    families[name]["type"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_with_the_prometheus_parser_and_count_requests() {
    let (service, admin) = start(&[]);
    let scrape = || async { get(&format!("{admin}/metrics")).await };

    let (id, token) = sign_in(&service, "github|metrics").await;
    let (status, text) = scrape().await;
    assert_eq!(status, 200);
    let before = parse_with_prometheus_client(&text);

    // Three reads of one user, one unknown user, signing in again, a bad token.
    let c = http();
    for _ in 0..3 {
        let r = c
            .get(format!("{}/users/{id}", service.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let unknown = format!("{}/users/{}", service.url, uuid::Uuid::new_v4());
    assert_eq!(c.get(unknown).send().await.unwrap().status(), 404);
    assert_eq!(sign_in_with(&service, &token).await, id);
    let bad = c
        .get(format!("{}/users", service.url))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    // Refused before the router runs (a foreign web page): still labelled
    // with the operation its method and path name. A method the path does
    // not serve reaches no operation.
    let foreign = c
        .get(format!("{}/users", service.url))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let wrong_method = c.delete(format!("{}/users", service.url)).send().await;
    assert_eq!(wrong_method.unwrap().status(), 405);

    let after = parse_with_prometheus_client(&scrape().await.1);
    let moved = |name: &str, labels: &[(&str, &str)]| {
        sample(&after, name, labels) - sample(&before, name, labels)
    };
    let read = [
        ("operation_id", "users_specific_user_snapshot"),
        ("status", "200"),
    ];
    assert_eq!(moved("users_http_requests_total", &read), 3.0);
    let missing = [
        ("operation_id", "users_specific_user_snapshot"),
        ("status", "404"),
    ];
    assert_eq!(moved("users_http_requests_total", &missing), 1.0);
    let refused = [("operation_id", "users_snapshot"), ("status", "401")];
    assert_eq!(moved("users_http_requests_total", &refused), 1.0);
    let foreign = [("operation_id", "users_snapshot"), ("status", "403")];
    assert_eq!(moved("users_http_requests_total", &foreign), 1.0);
    let wrong_method = [("operation_id", "unmatched"), ("status", "405")];
    assert_eq!(moved("users_http_requests_total", &wrong_method), 1.0);
    let reads = [("operation_id", "users_specific_user_snapshot")];
    assert_eq!(
        moved("users_http_request_duration_seconds_count", &reads),
        4.0
    );
    let le = [
        ("operation_id", "users_specific_user_snapshot"),
        ("le", "+Inf"),
    ];
    assert_eq!(
        moved("users_http_request_duration_seconds_bucket", &le),
        4.0
    );
    // A sign-in does not remember its token: the first read verified it in
    // full, the next two reads and signing in again found it; the malformed
    // token did not.
    assert_eq!(
        moved("users_token_cache_lookups_total", &[("result", "hit")]),
        3.0
    );
    assert_eq!(
        moved("users_token_cache_lookups_total", &[("result", "miss")]),
        2.0
    );
    assert_eq!(moved("users_sqlite_commit_batch_size_count", &[]), 1.0);
    assert!(moved("users_sqlite_commit_seconds_sum", &[]) > 0.0);
    assert!(moved("users_connections_accepted_total", &[("listener", "api")]) >= 1.0);
    assert_eq!(sample(&after, "users_ready", &[]), 1.0);

    assert_eq!(family_type(&after, "users_http_requests"), "counter");
    assert_eq!(
        family_type(&after, "users_http_request_duration_seconds"),
        "histogram"
    );
    assert_eq!(family_type(&after, "users_connections_open"), "gauge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_the_admin_listeners_browser_boundary() {
    let (service, admin) = start(&["--metrics", "false"]);
    assert_eq!(
        get(&format!("{admin}/livez")).await,
        (StatusCode::OK, "ok\n".into())
    );
    assert_eq!(
        get(&format!("{admin}/readyz")).await,
        (StatusCode::OK, "ready\n".into())
    );
    assert_eq!(get(&format!("{admin}/metrics")).await.0, 404, "metrics off");
    // Not on the API port: the spec's paths only.
    assert_eq!(get(&format!("{}/readyz", service.url)).await.0, 404);

    let c = http();
    let page = c
        .get(format!("{admin}/readyz"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let rebound = c
        .get(format!("{admin}/metrics"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_returned_and_json_log_lines_carry_them() {
    let (service, _admin) = start(&["--log-format", "json"]);
    let c = http();
    let r = c
        .get(format!("{}/users", service.url))
        .header("x-request-id", "client-chosen")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id, "client-chosen", "not trusted by default");
    assert_eq!(id.len(), 32, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    // A line logged while a request runs carries that request's id.
    let refused = c
        .get(format!("{}/users", service.url))
        .bearer_auth("not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let refused_id = refused.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(refused_id, id);
    let other = c
        .get(format!("{}/nowhere", service.url))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);

    let log = service.log_when(|l| l.contains("\"status\":404"));
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let response = lines
        .iter()
        .find(|l| l["message"] == "response" && l["span"]["request_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no response line for {id}:\n{log}"));
    assert_eq!(response["level"], "INFO");
    assert_eq!(response["operation_id"], "users_snapshot");
    assert_eq!(response["method"], "GET", "{response}");
    assert_eq!(response["path"], "/users", "{response}");
    assert_eq!(response["status"], 200);
    assert!(response["latency_us"].is_u64(), "{response}");
    assert!(response["timestamp"].is_string(), "{response}");
    assert!(
        lines
            .iter()
            .any(|l| l["operation_id"] == "unmatched" && l["status"] == 404),
        "{log}"
    );
    let rejected = lines
        .iter()
        .find(|l| l["message"] == "token rejected")
        .unwrap_or_else(|| panic!("no line of the refused token:\n{log}"));
    assert_eq!(
        rejected["span"],
        serde_json::json!({"request_id": refused_id, "name": "request"}),
        "{rejected}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l["message"] == "listening")
            .all(|l| l.get("span").is_none()),
        "lines outside requests carry no request: {log}"
    );
    assert!(
        !log.contains("client-chosen"),
        "an untrusted id is never logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxys_request_id_is_kept_when_well_formed() {
    let (service, _admin) = start(&["--trust-proxy-request-id"]);
    let c = http();
    let with = |id: &'static str| {
        c.get(format!("{}/users", service.url))
            .header("x-request-id", id)
            .send()
    };
    let kept = with("5c2f0d1e9a8b7c6d-nginx").await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "5c2f0d1e9a8b7c6d-nginx");
    let replaced = with("<script>alert(1)</script>").await.unwrap();
    let id = replaced.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32, "a malformed id is replaced: {id}");
    // Both response lines are out once the second request's id is.
    let log = service.log_when(|l| l.contains(id));
    assert!(log.contains("5c2f0d1e9a8b7c6d-nginx"), "{log}");
    assert!(!log.contains("<script>"), "never logged");
}

/// Sends SIGTERM without waiting for the process.
fn sigterm(pid: u32) {
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_turns_not_ready_at_once_then_drains_in_flight_requests() {
    let (mut service, admin) = start(&["--drain-delay-ms", "800"]);
    let token = dev_token(&service.data_dir, "github|drain");
    let body = users_harness::client::sign_in_json(&token).to_string();
    let addr = service.addr();

    // A kept-alive connection, idle after one answered request.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /users HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 4096];
    let n = idle.read(&mut first).await.unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"));

    // A sign-in in flight: its head is sent, its body not yet.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /users/authenticate/from_token HTTP/1.1\r\nhost: 127.0.0.1\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    sigterm(service.pid());
    // Not ready at once, while it still serves during the drain delay.
    let started = std::time::Instant::now();
    let readiness = loop {
        let (status, text) = get(&format!("{admin}/readyz")).await;
        if status != 200 || started.elapsed() > Duration::from_secs(5) {
            break (status, text);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        readiness,
        (StatusCode::SERVICE_UNAVAILABLE, "draining\n".into())
    );
    assert!(started.elapsed() < Duration::from_millis(500), "at once");
    assert_eq!(
        get(&format!("{}/users", service.url)).await.0,
        200,
        "still serving"
    );

    // After the delay: no new connections; the idle one is closed cleanly.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(TcpStream::connect(addr).await.is_err(), "stopped accepting");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "the idle connection ends without a response: {closed:?}"
    );

    // The in-flight sign-in still completes.
    slow.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    let status = service.stop();
    assert!(status.success(), "{status}");
    assert!(
        service.log().contains("stopped cleanly"),
        "{}",
        service.log()
    );
}
