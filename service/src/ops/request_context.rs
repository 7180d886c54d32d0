//! The request being handled, as a task-local value: its network peer (so
//! that limits can be kept per client deep inside the handlers, which the
//! generated operations do not hand the connection) and its id (which
//! [`super::log_event`] puts on every line logged while it runs).
//!
//! This replaced a `tracing` span per request: creating the span, recording
//! its field into a string and entering it on every poll cost about 4,000
//! of the 40,000 instructions of a cached `GET /users/{id}` (callgrind,
//! issue 25), paid even when nothing was logged. A task-local costs a swap
//! per poll and is read only when a line is written.

use std::cell::Cell;
use std::future::Future;
use std::net::IpAddr;

use axum::http::HeaderValue;
use tokio::task::futures::TaskLocalFuture;

use super::operation::Operation;

tokio::task_local! {
    static CURRENT: RequestContext;
}

/// What is known of the request being handled.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// The client's address, if known.
    pub peer: Option<IpAddr>,
    /// The request's id, if requests get ids (made here, or a trusted
    /// proxy's checked to be 1 to 128 of `A-Za-z0-9-_.:`).
    pub id: Option<HeaderValue>,
    /// The operation the router matched, once its handler has started
    /// ([`routed`]); unset for a request no operation serves.
    pub operation: Cell<Option<Operation>>,
}

/// Records that the current request was routed to the operation at `index`
/// of `OPERATIONS` (the generated router's `RouterOptions::on_operation`).
/// Outside a request it does nothing.
pub fn routed(index: usize) {
    let _ = CURRENT.try_with(|c| c.operation.set(Some(Operation::at(index))));
}

/// Runs `future` as the handling of the request `context` describes; the
/// context can be taken back from the returned future once it is done
/// ([`TaskLocalFuture::take_value`]).
pub fn scope<F: Future>(context: RequestContext, future: F) -> TaskLocalFuture<RequestContext, F> {
    CURRENT.scope(context, future)
}

/// The current request's peer, if there is a current request and its peer
/// is known.
pub fn peer() -> Option<IpAddr> {
    CURRENT.try_with(|c| c.peer).ok().flatten()
}

/// Calls `f` with the current request's id (`None` outside a request or
/// when requests get no ids).
pub fn with_id<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    let mut f = Some(f);
    let mut call = |id: Option<&str>| (f.take().expect("called once"))(id);
    match CURRENT.try_with(|c| call(c.id.as_ref().and_then(|id| id.to_str().ok()))) {
        Ok(r) => r,
        Err(_) => call(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_context_is_seen_inside_the_scope_only_and_taken_back() {
        assert_eq!(peer(), None);
        assert_eq!(with_id(|id| id.map(str::to_owned)), None);
        let context = RequestContext {
            peer: Some(IpAddr::from([127, 0, 0, 2])),
            id: Some(HeaderValue::from_static("abc-1")),
            ..RequestContext::default()
        };
        let future = scope(context, async {
            tokio::task::yield_now().await;
            (peer(), with_id(|id| id.map(str::to_owned)))
        });
        let mut future = std::pin::pin!(future);
        let seen = future.as_mut().await;
        assert_eq!(
            seen,
            (
                Some(IpAddr::from([127, 0, 0, 2])),
                Some("abc-1".to_string())
            )
        );
        let back = future.as_mut().take_value().expect("the context");
        assert_eq!(back.id.unwrap(), "abc-1");
        assert_eq!(peer(), None, "outside the scope again");
    }
}
