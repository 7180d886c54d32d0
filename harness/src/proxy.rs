//! A loopback proxy that checks every exchange against the spec.
//!
//! Tests talk to the proxy; it forwards to the real server and records any
//! request or response that breaks the spec. A request sent as bad input on
//! purpose carries the header [`BAD_INPUT_HEADER`]; the proxy strips it and
//! skips request checks for it (its response is still checked).

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::spec_check::{Exchange, SpecValidator};

/// Marks a request as deliberately invalid.
pub const BAD_INPUT_HEADER: &str = "x-test-bad-input";

struct Shared {
    upstream: String,
    client: reqwest::Client,
    spec: SpecValidator,
    violations: Mutex<Vec<String>>,
    exchanges: Mutex<usize>,
}

/// A running checking proxy.
pub struct ConformanceProxy {
    url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl ConformanceProxy {
    /// Starts a proxy on a free loopback port in front of `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            spec: SpecValidator::load(),
            violations: Mutex::new(Vec::new()),
            exchanges: Mutex::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("proxy serves");
        });
        Self { url, shared, task }
    }

    /// The URL tests should use.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every violation seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.lock().expect("lock").clone()
    }

    /// How many exchanges passed through.
    pub fn exchanges(&self) -> usize {
        *self.shared.exchanges.lock().expect("lock")
    }

    /// Panics if any exchange broke the spec.
    pub fn assert_clean(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "traffic broke the spec:\n  {}",
            v.join("\n  ")
        );
    }
}

impl Drop for ConformanceProxy {
    fn drop(&mut self) {
        self.task.abort();
        if !std::thread::panicking() {
            self.assert_clean();
        }
    }
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: {e}")).into_response(),
    };
    let bad_input = parts.headers.contains_key(BAD_INPUT_HEADER);
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let mut upstream = shared
        .client
        .request(
            parts.method.clone(),
            format!("{}{path_and_query}", shared.upstream),
        )
        .body(body.clone());
    for (name, value) in &parts.headers {
        if name != header::HOST && name.as_str() != BAD_INPUT_HEADER {
            upstream = upstream.header(name, value);
        }
    }
    let response = match upstream.send().await {
        Ok(r) => r,
        Err(e) => {
            shared.violations.lock().expect("lock").push(format!(
                "{} {}: upstream failed: {e}",
                parts.method,
                parts.uri.path()
            ));
            return (StatusCode::BAD_GATEWAY, format!("proxy: {e}")).into_response();
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap_or_default();

    let exchange = Exchange {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        request_content_type: header_str(&parts.headers, header::CONTENT_TYPE),
        request_body: &body,
        status: status.as_u16(),
        response_content_type: header_str(&headers, header::CONTENT_TYPE),
        response_headers: headers.keys().map(|k| k.as_str().to_string()).collect(),
        allow: header_str(&headers, header::ALLOW),
        response_body: &bytes,
    };
    let mut problems = shared.spec.check_response(&exchange);
    if !bad_input {
        problems.extend(
            shared
                .spec
                .check_request(&exchange)
                .into_iter()
                .map(|p| format!("request not marked as bad input breaks the spec: {p}")),
        );
    }
    *shared.exchanges.lock().expect("lock") += 1;
    if !problems.is_empty() {
        shared.violations.lock().expect("lock").extend(problems);
    }

    let mut out = Response::builder().status(status);
    for (name, value) in &headers {
        if name != header::TRANSFER_ENCODING && name != header::CONNECTION {
            out = out.header(name, value);
        }
    }
    out.body(Body::from(bytes)).expect("response")
}
