//! The scaffolding of a generated router: options, shared state, 405 and
//! 404 answers, the body limit, and the credential requirement check.

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter};

use crate::{ErrorFormat, Rejection, RejectionKind};

/// One operation of a spec, as a generated router serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationInfo {
    /// The spec's operationId.
    pub operation_id: &'static str,
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template as written in the spec.
    pub path: &'static str,
}

/// Settings of a generated router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouterOptions {
    /// Largest request body accepted, in bytes; larger bodies get 413.
    pub body_limit: usize,
    /// Whether secured operations answer 401 when none of their
    /// security requirements is met. With `false` they are called with
    /// whatever credentials were sent (possibly none) and the
    /// implementation decides; malformed credentials are still 401.
    pub require_credentials: bool,
    /// Whether parameters and JSON bodies are checked against their schemas
    /// (the generated `validate` module) before the implementation runs;
    /// a violation is refused with 400 (parameters) or 422 (bodies).
    pub validate_requests: bool,
    /// Whether each JSON response the implementation returns (raw bytes
    /// included) is checked against its documented schema; a violation is
    /// logged and answered with 500. On in debug builds, off in release.
    pub validate_responses: bool,
    /// Called as each operation's handler starts, before any parameter is
    /// read, with the operation's position in the crate's `OPERATIONS`:
    /// what the router matched, for whoever labels requests by operation
    /// (metrics, logs) without matching the path a second time. A refusal
    /// before any handler runs (404, 405) calls nothing.
    pub on_operation: Option<OperationHook>,
}

/// What [`RouterOptions::on_operation`] calls: a plain function, compared
/// by address.
#[derive(Debug, Clone, Copy)]
pub struct OperationHook(pub fn(usize));

impl PartialEq for OperationHook {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for OperationHook {}

impl RouterOptions {
    /// Reports that the handler of operation `index` (its position in
    /// `OPERATIONS`) started, if [`RouterOptions::on_operation`] is set.
    #[inline]
    pub fn routed(&self, index: usize) {
        if let Some(OperationHook(hook)) = self.on_operation {
            hook(index);
        }
    }
}

impl Default for RouterOptions {
    fn default() -> Self {
        Self {
            body_limit: 64 * 1024,
            require_credentials: true,
            validate_requests: true,
            validate_responses: cfg!(debug_assertions),
            on_operation: None,
        }
    }
}

/// What every handler of a generated router shares: the implementation and
/// the options.
#[derive(Debug)]
pub struct Shared<A> {
    /// The implementation of the spec's trait.
    pub api: Arc<A>,
    /// The router's options.
    pub options: RouterOptions,
}

impl<A> Clone for Shared<A> {
    fn clone(&self) -> Self {
        Self {
            api: Arc::clone(&self.api),
            options: self.options,
        }
    }
}

/// A generated router under construction: its paths, answering what it
/// refuses in error format `E`, serving implementation `A`.
pub struct Routes<E, A> {
    router: Router<Shared<A>>,
    format: PhantomData<fn() -> E>,
}

impl<E: ErrorFormat, A: Send + Sync + 'static> Default for Routes<E, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: ErrorFormat, A: Send + Sync + 'static> Routes<E, A> {
    /// No paths yet.
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            format: PhantomData,
        }
    }

    /// Routes `path` (axum syntax, `{param}`) to `methods`; every method not
    /// in `allow` (`"GET, POST"`, the ones `methods` routes) gets 405.
    pub fn path(self, path: &str, allow: &'static str, methods: MethodRouter<Shared<A>>) -> Self {
        Self {
            router: self
                .router
                .route(path, path_methods::<E, _>(allow, methods)),
            format: PhantomData,
        }
    }

    /// The router, with 404 for every other path and the state. The body
    /// limit is applied by each body reader (`json_request`, ...), not by
    /// a layer: a layer wraps every route in a second boxed route.
    pub fn finish(self, api: Arc<A>, options: RouterOptions) -> Router {
        finish::<E, A>(self.router, api, options)
    }
}

/// The routes of one path: `methods`, and 405 in format `E` with
/// `Allow: allow` for every other method (HEAD included, which axum would
/// otherwise answer with the GET handler).
fn path_methods<E: ErrorFormat, S: Clone + Send + Sync + 'static>(
    allow: &'static str,
    methods: MethodRouter<S>,
) -> MethodRouter<S> {
    let refuse = move || async move { E::reject(Rejection::method_not_allowed(allow)) };
    let head_routed = allow.split(',').any(|m| m.trim() == "HEAD");
    let methods = if head_routed {
        methods
    } else {
        methods.on(MethodFilter::HEAD, refuse)
    };
    methods.fallback(refuse)
}

/// The finished router: `routes`, 404 in format `E` for any other path, and
/// the shared state (whose `options.body_limit` the body readers apply).
fn finish<E: ErrorFormat, A: Send + Sync + 'static>(
    routes: Router<Shared<A>>,
    api: Arc<A>,
    options: RouterOptions,
) -> Router {
    routes
        .fallback(|| async { E::reject(Rejection::no_route()) })
        .with_state(Shared { api, options })
}

/// Refuses a secured request whose credentials meet none of the operation's
/// requirements (`met`), unless the options leave that to the
/// implementation. `hint` says what to send.
pub fn require_credentials(
    options: &RouterOptions,
    met: bool,
    hint: &'static str,
) -> Result<(), Rejection> {
    if options.require_credentials && !met {
        Err(Rejection::new(RejectionKind::MissingCredentials, hint))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuiltinErrors;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt as _;

    struct Api;

    fn app() -> Router {
        Routes::<BuiltinErrors, Api>::new()
            .path(
                "/things",
                "GET",
                MethodRouter::new().on(MethodFilter::GET, || async { "listed" }),
            )
            .finish(Arc::new(Api), RouterOptions::default())
    }

    async fn send(method: &str, path: &str) -> (StatusCode, Option<String>, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let response = app().oneshot(request).await.unwrap();
        let allow = response
            .headers()
            .get(header::ALLOW)
            .map(|v| v.to_str().unwrap().to_string());
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, allow, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn listed_methods_route_and_the_rest_get_405_with_allow() {
        assert_eq!(send("GET", "/things").await.2, "listed");
        for method in ["POST", "DELETE", "HEAD", "QUERY"] {
            let (status, allow, body) = send(method, "/things").await;
            assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
            assert_eq!(allow.as_deref(), Some("GET"), "{method}");
            if method != "HEAD" {
                assert!(body.contains("\"method_not_allowed\""), "{method}: {body}");
            }
        }
    }

    #[tokio::test]
    async fn unknown_paths_get_404_in_the_format() {
        let (status, _, body) = send("GET", "/nothing/here").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["status"], 404);
    }

    #[tokio::test]
    async fn a_routed_head_keeps_its_handler() {
        // Only the `Allow` list decides: HEAD listed there is not refused
        // (registering it twice would panic in axum).
        let methods = MethodRouter::new()
            .on(MethodFilter::GET, || async { "got" })
            .on(MethodFilter::HEAD, || async { StatusCode::NO_CONTENT });
        let app = Routes::<BuiltinErrors, Api>::new()
            .path("/h", "GET, HEAD", methods)
            .finish(Arc::new(Api), RouterOptions::default());
        let request = Request::head("/h").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    #[test]
    fn credentials_are_required_only_when_the_options_say_so() {
        let strict = RouterOptions::default();
        let r = require_credentials(&strict, false, "send a token").unwrap_err();
        assert_eq!(r.kind(), RejectionKind::MissingCredentials);
        assert_eq!(r.message(), "send a token");
        assert!(require_credentials(&strict, true, "x").is_ok());
        let lenient = RouterOptions {
            require_credentials: false,
            ..strict
        };
        assert!(require_credentials(&lenient, false, "x").is_ok());
    }
}
