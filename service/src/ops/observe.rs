//! What is recorded of each request: its id, the `response` log line and
//! the request metrics. The HTTP edge calls
//! [`Observer::start`] when a request arrives, runs the request with its id
//! in its [`RequestContext`](super::request_context::RequestContext) (so
//! that lines logged meanwhile carry it), and calls [`Observation::finish`]
//! with its response and id.
//!
//! With metrics off, ids off and the `info` level disabled, nothing is done
//! per request (no clock read, no lookup).
//! The request metrics' handles are kept per operation and status, so a
//! request costs two atomic updates, not two registry lookups.

use std::io::Stderr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use metrics::{Counter, Histogram};

use super::access_line::{self, AccessLine};
use super::operation::Operation;
use super::request_id::{HEADER, RequestIds};
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
    /// Where `response` lines go (none unless logging is set up and lets
    /// them through).
    access: Option<&'static AccessLine<Stderr>>,
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
            // The log filter is set at start-up, before this, and never
            // changes: asked once here rather than per request.
            access: access_line::installed().filter(|_| access_line::enabled()),
        }
    }

    /// Whether requests are timed and labelled by operation (metrics or
    /// `response` lines are on).
    pub fn timed(&self) -> bool {
        self.metrics.is_some() || self.access.is_some()
    }

    /// Starts observing a request; also gives its id, if requests get ids.
    pub fn start(&self, req: &Request) -> (Observation, Option<HeaderValue>) {
        let request_id = self.ids.as_ref().map(|ids| ids.for_request(req.headers()));
        let access = self.access;
        let observation = Observation {
            started: self.timed().then(Instant::now),
            // The path only: query strings (tokens) are never logged.
            request: access.map(|access| (access, req.method().clone(), req.uri().path().into())),
            metrics: self.metrics.clone(),
        };
        (observation, request_id)
    }
}

/// One request being observed.
pub struct Observation {
    /// Where its `response` line goes, its method and path, if logged.
    request: Option<(&'static AccessLine<Stderr>, Method, Box<str>)>,
    /// When it arrived, if timed.
    started: Option<Instant>,
    metrics: Option<Arc<RequestMeters>>,
}

impl Observation {
    /// Records the response to a request for `operation`: metrics, the
    /// `response` log line, and the request's id (from [`Observer::start`])
    /// in its `X-Request-Id` header.
    pub fn finish(
        self,
        response: &mut Response,
        request_id: Option<HeaderValue>,
        operation: Operation,
    ) {
        if let Some(started) = self.started {
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            if let Some(meters) = &self.metrics {
                meters.record(operation, status, elapsed.as_secs_f64());
            }
            if let Some((access, method, path)) = &self.request {
                access.write(&access_line::Response {
                    request_id: request_id.as_ref().and_then(|id| id.to_str().ok()),
                    method: method.as_str(),
                    path,
                    operation_id: operation.id(),
                    status,
                    latency_us: elapsed.as_micros() as u64,
                });
            }
        }
        if let Some(id) = request_id {
            response.headers_mut().insert(&HEADER, id);
        }
    }
}
