//! What is recorded of each request: its id, its span, the `response` log
//! line and the request metrics. The HTTP edge ([`crate::http`]) calls
//! [`Observer::start`] when a request arrives and [`Observation::finish`]
//! with its response.
//!
//! With metrics off, ids off and the `info` level disabled, nothing is done
//! per request beyond creating a disabled span (no clock read, no lookup).

use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use tracing::Span;

use super::operation::operation_of;
use super::request_id::{HEADER, RequestIds};
use crate::meters;

/// Per-request observation settings, shared by every request.
#[derive(Debug)]
pub struct Observer {
    metrics: bool,
    ids: Option<RequestIds>,
}

impl Observer {
    /// Records metrics if `metrics`; gives ids if `request_ids`, taking a
    /// proxy's well-formed `X-Request-Id` if `trust_proxy`.
    pub fn new(metrics: bool, request_ids: bool, trust_proxy: bool) -> Self {
        Self {
            metrics,
            ids: request_ids.then(|| RequestIds::new(trust_proxy)),
        }
    }

    /// Starts observing a request.
    pub fn start(&self, req: &Request) -> Observation {
        let request_id = self.ids.as_ref().map(|ids| ids.for_request(req.headers()));
        // The path only: query strings and headers (tokens) are never logged.
        let (method, path) = (req.method(), req.uri().path());
        let span = match &request_id {
            // Made here or checked to be letters, digits and `-_.:`.
            Some(id) => tracing::info_span!(
                "request",
                request_id = id.to_str().unwrap_or_default(),
                method = %method,
                path = %path
            ),
            None => tracing::info_span!("request", method = %method, path = %path),
        };
        let timed = self.metrics || !span.is_disabled();
        Observation {
            operation: if timed {
                operation_of(req.method(), req.uri().path())
            } else {
                ""
            },
            started: timed.then(Instant::now),
            metrics: self.metrics,
            request_id,
            span,
        }
    }
}

/// One request being observed.
#[derive(Debug)]
pub struct Observation {
    span: Span,
    started: Option<Instant>,
    operation: &'static str,
    metrics: bool,
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
        if let Some(started) = self.started {
            let elapsed = started.elapsed();
            let status = response.status().as_u16();
            let operation = self.operation;
            if self.metrics {
                metrics::counter!(meters::HTTP_REQUESTS, "operation_id" => operation, "status" => status.to_string()).increment(1);
                metrics::histogram!(meters::HTTP_DURATION, "operation_id" => operation)
                    .record(elapsed.as_secs_f64());
            }
            if !self.span.is_disabled() {
                let _entered = self.span.enter();
                tracing::info!(
                    operation_id = operation,
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
