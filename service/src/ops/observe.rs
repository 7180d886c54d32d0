//! What is recorded of each request: its id, its span, the `response` log
//! line and the request metrics. The HTTP edge ([`crate::http`]) calls
//! [`Observer::start`] when a request arrives and [`Observation::finish`]
//! with its response.
//!
//! With metrics off, ids off and the `info` level disabled, nothing is done
//! per request beyond creating a disabled span (no clock read, no lookup).
//! The request metrics' handles are kept per operation and status, so a
//! request costs two atomic updates, not two registry lookups.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use metrics::{Counter, Histogram};
use tracing::Span;

use super::operation::{Operation, operation_of};
use super::request_id::{HEADER, RequestIds};
use crate::log_text::{Escaped, MAX_LOGGED_METHOD, MAX_LOGGED_PATH};
use crate::meters;

/// Statuses whose request counters are kept (the others are looked up).
const STATUSES: [u16; 14] = [
    200, 400, 401, 403, 404, 405, 408, 413, 415, 421, 422, 429, 500, 503,
];

/// One operation's request metrics.
struct OperationMeters {
    duration: Histogram,
    requests: [OnceLock<Counter>; STATUSES.len()],
}

/// Every operation's request metrics, by [`Operation::index`].
struct RequestMeters(Vec<OperationMeters>);

impl RequestMeters {
    fn new() -> Self {
        let meters = Operation::all()
            .map(|op| OperationMeters {
                duration: metrics::histogram!(meters::HTTP_DURATION, "operation_id" => op.id()),
                requests: Default::default(),
            })
            .collect();
        Self(meters)
    }

    fn record(&self, operation: Operation, status: u16, seconds: f64) {
        let meters = &self.0[operation.index()];
        meters.duration.record(seconds);
        let counter = match STATUSES.iter().position(|s| *s == status) {
            Some(i) => meters.requests[i].get_or_init(|| requests(operation, status)),
            None => &requests(operation, status),
        };
        counter.increment(1);
    }
}

fn requests(operation: Operation, status: u16) -> Counter {
    metrics::counter!(meters::HTTP_REQUESTS, "operation_id" => operation.id(), "status" => status.to_string())
}

/// Per-request observation settings, shared by every request.
pub struct Observer {
    metrics: Option<Arc<RequestMeters>>,
    ids: Option<RequestIds>,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("metrics", &self.metrics.is_some())
            .field("ids", &self.ids)
            .finish()
    }
}

impl Observer {
    /// Records metrics if `metrics` (create it after the recorder is
    /// installed); gives ids if `request_ids`, taking a proxy's well-formed
    /// `X-Request-Id` if `trust_proxy`.
    pub fn new(metrics: bool, request_ids: bool, trust_proxy: bool) -> Self {
        Self {
            metrics: metrics.then(|| Arc::new(RequestMeters::new())),
            ids: request_ids.then(|| RequestIds::new(trust_proxy)),
        }
    }

    /// Starts observing a request.
    pub fn start(&self, req: &Request) -> Observation {
        let request_id = self.ids.as_ref().map(|ids| ids.for_request(req.headers()));
        // The path only: query strings and headers (tokens) are never logged,
        // and both are escaped and cut (they are the client's text).
        let (method, path) = (req.method(), req.uri().path());
        let span = match &request_id {
            // Made here or checked to be letters, digits and `-_.:`.
            Some(id) => tracing::info_span!(
                "request",
                request_id = id.to_str().unwrap_or_default(),
                method = %Escaped(method.as_str(), MAX_LOGGED_METHOD),
                path = %Escaped(path, MAX_LOGGED_PATH)
            ),
            None => tracing::info_span!(
                "request",
                method = %Escaped(method.as_str(), MAX_LOGGED_METHOD),
                path = %Escaped(path, MAX_LOGGED_PATH)
            ),
        };
        let timed = self.metrics.is_some() || !span.is_disabled();
        Observation {
            timing: timed.then(|| (Instant::now(), operation_of(method, path))),
            metrics: self.metrics.clone(),
            request_id,
            span,
        }
    }
}

/// One request being observed.
pub struct Observation {
    span: Span,
    /// When it arrived and what it is for, if timed.
    timing: Option<(Instant, Operation)>,
    metrics: Option<Arc<RequestMeters>>,
    request_id: Option<axum::http::HeaderValue>,
}

impl Observation {
    /// The request's span, entered while its handler runs.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the response: metrics, the `response` log line, and the
    /// request id in its `X-Request-Id` header.
    pub fn finish(self, response: &mut Response) {
        if let Some((started, operation)) = self.timing {
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            if let Some(meters) = &self.metrics {
                meters.record(operation, status, elapsed.as_secs_f64());
            }
            if !self.span.is_disabled() {
                let _entered = self.span.enter();
                tracing::info!(
                    operation_id = operation.id(),
                    status,
                    latency_us = elapsed.as_micros() as u64,
                    "response"
                );
            }
        }
        if let Some(id) = self.request_id {
            response.headers_mut().insert(&HEADER, id);
        }
    }
}
