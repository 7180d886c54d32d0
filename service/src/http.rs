//! The HTTP application: the generated router plus the browser boundary,
//! timeouts, panic safety and request logs.
//!
//! Every request goes through the generated router; the edge around it only
//! refuses what must never reach it (a foreign `Host` or `Origin`, a
//! non-loopback peer in `local` mode) and bounds what does.
//!
//! The edge is one service rather than a stack of layers: each layer added
//! with `Router::layer` boxes and clones services per request, and the four
//! layers it replaced (trace, panic, guard, timeout) cost about 10,000 of the
//! 38,000 instructions of a cached `GET /users/{id}` (callgrind, issue 15;
//! the baseline server takes 16,000 in all). It does the same work: the
//! request's id and a `response` line when `info` is
//! enabled (nothing, not even a clock read, when it is not), a 500 for a panic, the guard, and a
//! 408 past the request timeout, whose timer is armed only if the request
//! does not finish on its first poll. What is recorded of each request
//! (its id, `response` line and metrics) is [`crate::ops::observe`]'s; the
//! request runs with its peer and id as its
//! [`RequestContext`].

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use axum::routing::future::RouteFuture;
use pin_project_lite::pin_project;
use tokio::task::futures::TaskLocalFuture;
use tokio::time::Sleep;
use tower::Service;
use tower_http::cors::{AllowOrigin, CorsLayer};
use users_api_server_stubs::types::ApiErrorCode;
use users_api_server_stubs::{Errors, OperationHook, RouterOptions, router_with_options};

use crate::api::Service as Api;
use crate::config::AccessMode;
use crate::ops::observe::{Observation, Observer};
use crate::ops::operation::{Operation, operation_of};
use crate::ops::request_context::{self, RequestContext};
use crate::serve::HttpService;
use crate::store::Storage;

/// Request limits and schema checks.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body in bytes (413 above).
    pub body_limit: usize,
    /// Longest a request may take (408 after).
    pub request_timeout: Duration,
    /// Check parameters and bodies against the spec before the service
    /// runs (400/422 on a violation).
    pub validate_requests: bool,
    /// Check every JSON response against its documented schema (500 and
    /// an error log line on a violation).
    pub validate_responses: bool,
}

/// Which browsers and hosts may reach the service.
#[derive(Debug, Clone, Default)]
pub struct Boundary {
    /// Origins allowed to call from a web page (with CORS); any other `Origin` gets 403.
    pub allowed_origins: Vec<HeaderValue>,
}

/// Builds the full application for a service: the edge around the
/// generated router, served as it is (no router of its own around it: a
/// second `axum::Router` cost about 2,000 instructions a request).
pub fn app<S: Storage>(
    service: Arc<Api<S>>,
    limits: Limits,
    boundary: Boundary,
    observer: Observer,
) -> App {
    let local = service.mode() == AccessMode::Local;
    let router = router_with_options(
        service,
        RouterOptions {
            body_limit: limits.body_limit,
            // In `local` mode no credentials are needed; the service decides.
            require_credentials: !local,
            validate_requests: limits.validate_requests,
            validate_responses: limits.validate_responses,
            // The operation the router matched labels the request's
            // metrics and `response` line (not matched a second time here).
            on_operation: observer
                .timed()
                .then_some(OperationHook(request_context::routed)),
        },
    );
    let router = if boundary.allowed_origins.is_empty() {
        router
    } else {
        router.layer(cors(boundary.allowed_origins.clone()))
    };
    App {
        inner: router,
        shared: Arc::new(EdgeConfig {
            local,
            origins: boundary.allowed_origins,
            timeout: limits.request_timeout,
            observer,
        }),
    }
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

struct EdgeConfig {
    local: bool,
    origins: Vec<HeaderValue>,
    timeout: Duration,
    observer: Observer,
}

/// The application: the request's id, log line and metrics, panic safety,
/// the guard and the timeout around the generated router. Serve it with
/// [`crate::serve::serve`], which hands it each request's peer.
#[derive(Clone)]
pub struct App {
    inner: Router,
    shared: Arc<EdgeConfig>,
}

impl App {
    /// Answers `req`, which came from `peer` (if known).
    fn handle(&self, req: Request, peer: Option<IpAddr>) -> AppFuture {
        let (observation, id) = self.shared.observer.start(&req);
        let docs = req.uri().path() == "/docs";
        let state = match guard(&self.shared, &req, peer) {
            // Refused before the router runs: the operation is looked up.
            Some(refusal) => Answer::Ready {
                response: Some(refusal),
                id,
                operation: operation_of(req.method(), req.uri().path()),
            },
            None => {
                let mut router = self.inner.clone();
                match catch_unwind(AssertUnwindSafe(move || router.call(req))) {
                    Ok(future) => Answer::Running {
                        future: request_context::scope(
                            RequestContext {
                                peer,
                                id,
                                operation: Cell::new(None),
                            },
                            future,
                        ),
                        limit: self.shared.timeout,
                        timer: None,
                    },
                    // Routing itself panicked: no handler ran.
                    Err(_) => Answer::Ready {
                        response: Some(internal_error()),
                        id,
                        operation: Operation::unmatched(),
                    },
                }
            }
        };
        AppFuture {
            state,
            docs,
            observation: Some(observation),
        }
    }
}

pin_project! {
    /// The answer to one request: the router's future run in the request's
    /// context (see [`request_context`]), a panic turned into a 500, a
    /// 408 past the request timeout, then the headers every response
    /// carries and what is recorded of it.
    ///
    /// A named future rather than a boxed `async` block: no allocation per
    /// request, and the router's future is not moved from one generator
    /// into the next (issue 25).
    pub struct AppFuture {
        #[pin]
        state: Answer,
        docs: bool,
        observation: Option<Observation>,
    }
}

pin_project! {
    #[project = AnswerProj]
    enum Answer {
        /// Answered before the router ran (refused, or its call panicked).
        Ready {
            response: Option<Response>,
            id: Option<HeaderValue>,
            operation: Operation,
        },
        /// The router's future, in the request's context. The timer is
        /// only created if the first poll does not finish the request.
        Running {
            #[pin]
            future: TaskLocalFuture<RequestContext, RouteFuture<Infallible>>,
            limit: Duration,
            timer: Option<Pin<Box<Sleep>>>,
        },
    }
}

impl Future for AppFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (mut response, id, operation) = match this.state.project() {
            AnswerProj::Ready {
                response,
                id,
                operation,
            } => (
                response.take().unwrap_or_else(internal_error),
                id.take(),
                *operation,
            ),
            AnswerProj::Running {
                mut future,
                limit,
                timer,
            } => {
                let response = match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                    Ok(Poll::Ready(Ok(response))) => response,
                    Ok(Poll::Ready(Err(never))) => match never {},
                    Err(_) => internal_error(),
                    Ok(Poll::Pending) => {
                        let timer =
                            timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(*limit)));
                        ready!(timer.as_mut().poll(cx));
                        Errors::response(
                            StatusCode::REQUEST_TIMEOUT,
                            ApiErrorCode::RequestTimeout,
                            format!("the request took longer than {} ms", limit.as_millis()),
                        )
                    }
                };
                // What the router matched: its handler reported it
                // (none for a 404 or 405).
                let context = future.take_value().unwrap_or_default();
                let operation = context.operation.get().unwrap_or_else(Operation::unmatched);
                (response, context.id, operation)
            }
        };
        harden(&mut response, *this.docs);
        if let Some(observation) = this.observation.take() {
            observation.finish(&mut response, id, operation);
        }
        Poll::Ready(Ok(response))
    }
}

/// What [`crate::serve::serve`] serves: the peer comes with the request.
impl HttpService for App {
    type Future = AppFuture;

    fn answer(&self, req: Request, peer: SocketAddr) -> AppFuture {
        self.handle(req, Some(peer.ip()))
    }
}

/// As a `tower` service (in-process tests) the peer is the request's
/// [`ConnectInfo<SocketAddr>`], if it has one.
impl Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = AppFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> AppFuture {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        self.handle(req, peer)
    }
}

/// `Content-Security-Policy` of every response but the docs page: nothing
/// may load, and no page may frame it.
const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers every response carries: no content sniffing, a content security
/// policy (the docs page's allows exactly its own inline scripts), no
/// framing; and `Retry-After` on a 503 (every 503 is worth a retry soon).
fn harden(response: &mut Response, docs: bool) {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let csp = if docs {
        crate::docs::content_security_policy()
    } else {
        HeaderValue::from_static(API_CSP)
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .entry(header::RETRY_AFTER)
            .or_insert(HeaderValue::from_static("1"));
    }
}

fn internal_error() -> Response {
    Errors::response(
        StatusCode::INTERNAL_SERVER_ERROR,
        ApiErrorCode::InternalError,
        "internal error",
    )
}

/// Refuses, in every mode, an ambiguous request (400: two `Origin` or two
/// `Host` headers, or an absolute-form target naming another authority than
/// `Host`) and a foreign `Origin` (403); in `local` mode also a
/// non-loopback peer (403) or a `Host` that is not a loopback name (421,
/// what a DNS-rebinding page sends).
fn guard(config: &EdgeConfig, req: &Request, peer: Option<IpAddr>) -> Option<Response> {
    // Each header looked up once (a lookup hashes its name: about 100
    // instructions).
    let headers = req.headers();
    let mut origins = headers.get_all(header::ORIGIN).iter();
    let origin = origins.next();
    if origins.next().is_some() {
        return Some(ambiguous("the request carries more than one Origin header"));
    }
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Some(ambiguous("the request carries more than one Host header"));
    }
    if let (Some(target), Some(host)) = (req.uri().authority(), host)
        && !host
            .to_str()
            .is_ok_and(|h| h.eq_ignore_ascii_case(target.as_str()))
    {
        return Some(ambiguous(
            "the request target names another host than the Host header",
        ));
    }
    if let Some(origin) = origin
        && !config.origins.contains(origin)
    {
        return Some(Errors::response(
            StatusCode::FORBIDDEN,
            ApiErrorCode::Forbidden,
            "requests from this web origin are not allowed; the operator can allow it with --allow-origin",
        ));
    }
    if config.local {
        if !peer.is_some_and(|ip| ip.is_loopback()) {
            return Some(Errors::response(
                StatusCode::FORBIDDEN,
                ApiErrorCode::Forbidden,
                "in local mode only clients on this machine are served",
            ));
        }
        let host = host
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        if !host.is_some_and(is_loopback_host) {
            return Some(Errors::response(
                StatusCode::MISDIRECTED_REQUEST,
                ApiErrorCode::MisdirectedRequest,
                "the Host header must name a loopback host (localhost, 127.0.0.1 or [::1])",
            ));
        }
    }
    None
}

/// A 400 for a request that says two things about where it goes or where
/// it comes from: which one a proxy in front acted on is unknowable.
fn ambiguous(message: &'static str) -> Response {
    Errors::response(StatusCode::BAD_REQUEST, ApiErrorCode::BadRequest, message)
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    // The last `:` found by a byte loop: `rsplit_once(':')` went through
    // the generic char searcher (about 100 instructions a request).
    let name = match host.bytes().rposition(|b| b == b':') {
        Some(colon)
            if colon > 0
                && host.as_bytes()[colon + 1..].iter().all(u8::is_ascii_digit)
                && !host.ends_with(']') =>
        {
            &host[..colon]
        }
        _ => host,
    };
    ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|loopback| name.eq_ignore_ascii_case(loopback))
}
#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    fn edge(inner: Router, local: bool) -> App {
        App {
            inner,
            shared: Arc::new(EdgeConfig {
                local,
                origins: vec![HeaderValue::from_static("http://ok.example")],
                timeout: Duration::from_millis(200),
                observer: Observer::new(false, false, false),
            }),
        }
    }

    async fn send(app: &App, path: &str, peer: [u8; 4], headers: &[(&str, &str)]) -> (u16, String) {
        let mut req = Request::builder().uri(path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let mut req = req.body(Body::empty()).unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((peer, 1234))));
        let response = app.clone().oneshot(req).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    fn inner() -> Router {
        Router::new()
            .route("/fast", get(|| async { "fast" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "slow"
                }),
            )
            .route(
                "/panic",
                get(|| async {
                    tokio::task::yield_now().await;
                    if true {
                        panic!("handler panicked");
                    }
                    "unreachable"
                }),
            )
    }

    #[tokio::test]
    async fn the_edge_answers_panics_timeouts_and_refusals_in_the_error_format() {
        let app = edge(inner(), true);
        let host = [("host", "localhost:1000")];
        assert_eq!(
            send(&app, "/fast", [127, 0, 0, 1], &host).await,
            (200, "fast".into())
        );

        let started = std::time::Instant::now();
        let (status, body) = send(&app, "/slow", [127, 0, 0, 1], &host).await;
        assert_eq!(status, 408, "{body}");
        assert!(body.contains("request_timeout"), "{body}");
        assert!(started.elapsed() < Duration::from_secs(4));

        let (status, body) = send(&app, "/panic", [127, 0, 0, 1], &host).await;
        assert_eq!(status, 500, "{body}");
        assert!(
            body.contains("internal_error") && !body.contains("handler panicked"),
            "{body}"
        );

        let (status, _) = send(&app, "/fast", [10, 0, 0, 1], &host).await;
        assert_eq!(status, 403, "a remote peer in local mode");
        let (status, _) = send(&app, "/fast", [127, 0, 0, 1], &[("host", "evil.example")]).await;
        assert_eq!(status, 421, "a foreign Host in local mode");
        let origin = [("host", "localhost"), ("origin", "http://evil.example")];
        assert_eq!(send(&app, "/fast", [127, 0, 0, 1], &origin).await.0, 403);
        let origin = [("host", "localhost"), ("origin", "http://ok.example")];
        assert_eq!(send(&app, "/fast", [127, 0, 0, 1], &origin).await.0, 200);

        // Outside local mode the peer and Host are not checked; the Origin is.
        let app = edge(inner(), false);
        let far = [("host", "users.example")];
        assert_eq!(send(&app, "/fast", [10, 0, 0, 1], &far).await.0, 200);
        let origin = [("host", "users.example"), ("origin", "http://evil.example")];
        assert_eq!(send(&app, "/fast", [10, 0, 0, 1], &origin).await.0, 403);
    }

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
