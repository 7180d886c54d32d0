//! The HTTP application: the generated router plus timeouts, panic safety and request logs.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use users_api_server_stubs::{RouterOptions, error_response, router_with_options};

use crate::api::Service;
use crate::store::UserStore;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body in bytes (413 above).
    pub body_limit: usize,
    /// Longest a request may take (408 after).
    pub request_timeout: Duration,
}

/// Builds the full application for a service.
pub fn app<S: UserStore>(service: Arc<Service<S>>, limits: Limits) -> Router {
    let timeout = limits.request_timeout;
    router_with_options(
        service,
        RouterOptions {
            body_limit: limits.body_limit,
        },
    )
    .layer(middleware::from_fn(move |req: Request, next: Next| {
        with_timeout(timeout, req, next)
    }))
    .layer(CatchPanicLayer::custom(|_| {
        error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        )
    }))
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &Request| {
                // The path only: query strings and headers (tokens) are never logged.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            })
            .on_request(())
            .on_response(|res: &Response, latency: Duration, _: &tracing::Span| {
                tracing::info!(
                    status = res.status().as_u16(),
                    latency_us = latency.as_micros() as u64,
                    "response"
                );
            })
            .on_failure(()),
    )
}

async fn with_timeout(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!("the request took longer than {} ms", limit.as_millis()),
        ),
    }
}
