//! The HTTP application: the generated router plus the browser boundary,
//! timeouts, panic safety and request logs.
//!
//! Every request goes through the generated router; the layers here only
//! refuse what must never reach it (a foreign `Host` or `Origin`, a
//! non-loopback peer in `local` mode) and bound what does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;
use users_api_server_stubs::types::ApiErrorCode;
use users_api_server_stubs::{RouterOptions, error_response, router_with_options};

use crate::api::Service;
use crate::config::AccessMode;
use crate::store::UserStore;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body in bytes (413 above).
    pub body_limit: usize,
    /// Longest a request may take (408 after).
    pub request_timeout: Duration,
}

/// Which browsers and hosts may reach the service.
#[derive(Debug, Clone, Default)]
pub struct Boundary {
    /// Origins allowed to call from a web page (with CORS); any other `Origin` gets 403.
    pub allowed_origins: Vec<HeaderValue>,
}

/// Builds the full application for a service.
pub fn app<S: UserStore>(service: Arc<Service<S>>, limits: Limits, boundary: Boundary) -> Router {
    let timeout = limits.request_timeout;
    let local = service.mode() == AccessMode::Local;
    let origins = Arc::new(boundary.allowed_origins.clone());
    let router = router_with_options(
        service,
        RouterOptions {
            body_limit: limits.body_limit,
            // In `local` mode no credentials are needed; the service decides.
            require_credentials: !local,
        },
    )
    .layer(middleware::from_fn(move |req: Request, next: Next| {
        with_timeout(timeout, req, next)
    }));
    let router = if boundary.allowed_origins.is_empty() {
        router
    } else {
        router.layer(cors(boundary.allowed_origins))
    };
    router
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            guard(local, origins.clone(), req, next)
        }))
        .layer(CatchPanicLayer::custom(|_| {
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                ApiErrorCode::InternalError,
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

/// CORS for the allowed origins only; the guard has refused every other one.
fn cors(origins: Vec<HeaderValue>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-application-id"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Refuses a foreign `Origin` (403) in every mode, and in `local` mode a
/// non-loopback peer (403) or a `Host` that is not a loopback name (421,
/// what a DNS-rebinding page sends).
async fn guard(local: bool, origins: Arc<Vec<HeaderValue>>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN)
        && !origins.contains(origin)
    {
        return error_response(
            StatusCode::FORBIDDEN,
            ApiErrorCode::Forbidden,
            "requests from this web origin are not allowed; the operator can allow it with --allow-origin",
        );
    }
    if local {
        let peer = req.extensions().get::<ConnectInfo<SocketAddr>>();
        if !peer.is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback()) {
            return error_response(
                StatusCode::FORBIDDEN,
                ApiErrorCode::Forbidden,
                "in local mode only clients on this machine are served",
            );
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        if !host.is_some_and(is_loopback_host) {
            return error_response(
                StatusCode::MISDIRECTED_REQUEST,
                ApiErrorCode::MisdirectedRequest,
                "the Host header must name a loopback host (localhost, 127.0.0.1 or [::1])",
            );
        }
    }
    next.run(req).await
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && !host.ends_with(']') =>
        {
            name
        }
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

async fn with_timeout(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => error_response(
            StatusCode::REQUEST_TIMEOUT,
            ApiErrorCode::RequestTimeout,
            format!("the request took longer than {} ms", limit.as_millis()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts() {
        for ok in [
            "localhost",
            "LOCALHOST:1000",
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:1000",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "localhost.evil.example",
            "localhost.evil.example:1000",
            "10.0.0.1",
            "127.0.0.1.evil.example",
            "[::2]",
            "",
            ":1000",
            "localhost:abc",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
