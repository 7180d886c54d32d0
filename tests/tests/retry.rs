//! The generated client's opt-in retry policy, against a loopback HTTP
//! server that fails a given number of times before it answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use users_api_client::{Client, ErrorExt, RetryPolicy};
use users_harness::client::sign_in_body;

/// How the server fails its first `failures` requests.
#[derive(Clone, Copy)]
enum Failure {
    /// A status with an `ApiError` body, and optionally `Retry-After`.
    Status(u16, Option<&'static str>),
    /// Read the request, then close the connection without a response.
    Drop,
}

/// A server on a loopback port: the first `failures` requests fail as
/// `failure` says, later ones get `200 {"iterable": []}`. Counts requests.
struct FlakyServer {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl FlakyServer {
    async fn start(failures: usize, failure: Failure) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&requests);
        tokio::spawn(async move {
            loop {
                let (mut conn, _) = listener.accept().await.unwrap();
                let count = Arc::clone(&count);
                tokio::spawn(async move {
                    if !read_request(&mut conn).await {
                        return;
                    }
                    let n = count.fetch_add(1, Ordering::SeqCst);
                    let response = match failure {
                        _ if n >= failures => response(200, None, r#"{"iterable":[]}"#),
                        Failure::Drop => return,
                        Failure::Status(status, retry_after) => {
                            let body = format!(
                                r#"{{"status":{status},"code":"internal_error","message":"try later"}}"#
                            );
                            response(status, retry_after, &body)
                        }
                    };
                    let _ = conn.write_all(response.as_bytes()).await;
                    let _ = conn.shutdown().await;
                });
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request (headers and a `Content-Length` body); false on EOF.
async fn read_request(conn: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(n) = conn.read(&mut chunk).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                match conn.read(&mut chunk).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            return true;
        }
    }
}

fn response(status: u16, retry_after: Option<&str>, body: &str) -> String {
    let extra = retry_after.map_or(String::new(), |v| format!("retry-after: {v}\r\n"));
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Fast retries for the tests.
fn quick() -> RetryPolicy {
    RetryPolicy::default()
        .max_retries(3)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn client(url: &str, policy: Option<RetryPolicy>) -> Client {
    let builder = Client::builder()
        .base_url(url)
        .timeout(Duration::from_secs(5));
    match policy {
        Some(p) => builder.retry(p),
        None => builder,
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn a_get_is_retried_on_503_until_it_succeeds() {
    let server = FlakyServer::start(2, Failure::Status(503, None)).await;
    let users = client(&server.url, Some(quick()))
        .users_snapshot()
        .send()
        .await
        .expect("succeeds on the third try");
    assert!(users.into_inner().iterable.is_empty());
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn a_get_is_retried_on_408_and_429() {
    for status in [408, 429] {
        let server = FlakyServer::start(1, Failure::Status(status, None)).await;
        client(&server.url, Some(quick()))
            .users_snapshot()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(server.requests(), 2, "{status}");
    }
}

#[tokio::test]
async fn a_get_is_retried_after_transport_errors() {
    let server = FlakyServer::start(2, Failure::Drop).await;
    client(&server.url, Some(quick()))
        .users_snapshot()
        .send()
        .await
        .expect("succeeds once the server answers");
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn retries_stop_at_the_limit_with_the_last_answer() {
    let server = FlakyServer::start(100, Failure::Status(503, None)).await;
    let err = client(&server.url, Some(quick().max_retries(2)))
        .users_snapshot()
        .send()
        .await
        .expect_err("the server keeps failing");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests(), 3, "one try and two retries");
}

#[tokio::test]
async fn other_statuses_are_not_retried() {
    for status in [500, 404, 401] {
        let server = FlakyServer::start(1, Failure::Status(status, None)).await;
        let err = client(&server.url, Some(quick()))
            .users_snapshot()
            .send()
            .await
            .expect_err("not retried");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(server.requests(), 1, "{status}");
    }
}

#[tokio::test]
async fn a_post_is_never_retried() {
    let token = sign_in_body("y");
    for failure in [Failure::Status(503, None), Failure::Drop] {
        let server = FlakyServer::start(1, failure).await;
        let result = client(&server.url, Some(quick()))
            .authenticate_from_oauth_token()
            .body(token.clone())
            .send()
            .await;
        assert!(result.is_err());
        assert_eq!(server.requests(), 1, "POST sent once");
    }
}

#[tokio::test]
async fn without_a_policy_nothing_is_retried() {
    let server = FlakyServer::start(1, Failure::Status(503, None)).await;
    let err = client(&server.url, None)
        .users_snapshot()
        .send()
        .await
        .expect_err("no retry");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests(), 1);
    let server = FlakyServer::start(1, Failure::Drop).await;
    let err = client(&server.url, None)
        .users_snapshot()
        .send()
        .await
        .expect_err("no retry");
    assert!(err.is_transport(), "{err}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = FlakyServer::start(1, Failure::Status(503, Some("1"))).await;
    let started = Instant::now();
    client(&server.url, Some(quick()))
        .users_snapshot()
        .send()
        .await
        .expect("succeeds after waiting");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(1), "waited only {waited:?}");
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_ends_the_retries() {
    let server = FlakyServer::start(1, Failure::Status(503, Some("120"))).await;
    let started = Instant::now();
    let err = client(&server.url, Some(quick()))
        .users_snapshot()
        .send()
        .await
        .expect_err("not worth waiting two minutes");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.requests(), 1);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn backoff_is_exponential_capped_and_jittered() {
    let policy = RetryPolicy::default()
        .initial_backoff(Duration::from_millis(100))
        .max_backoff(Duration::from_secs(1));
    let expected = [100, 200, 400, 800, 1000, 1000];
    for (attempt, ms) in expected.iter().enumerate() {
        let attempt = attempt as u32;
        let full = Duration::from_millis(*ms);
        assert_eq!(policy.backoff(attempt), full);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            let j = policy.jittered(attempt);
            assert!(
                j >= full / 2 && j <= full,
                "{j:?} outside [{:?}, {full:?}]",
                full / 2
            );
            seen.insert(j);
        }
        assert!(seen.len() > 10, "no jitter: {seen:?}");
    }
    assert_eq!(policy.backoff(1000), Duration::from_secs(1), "no overflow");
}

#[test]
fn only_idempotent_methods_are_retryable() {
    use reqwest::Method;
    for m in [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
    ] {
        assert!(RetryPolicy::is_idempotent(&m), "{m}");
    }
    for m in [Method::POST, Method::PATCH] {
        assert!(!RetryPolicy::is_idempotent(&m), "{m}");
    }
}
