//! The network peer of the request being handled, so that limits can be
//! kept per client deep inside the handlers (the generated operations do not
//! carry the connection).

use std::future::Future;
use std::net::IpAddr;

tokio::task_local! {
    static PEER: Option<IpAddr>;
}

/// Runs `future` with `peer` as the current request's peer.
pub async fn scope<F: Future>(peer: Option<IpAddr>, future: F) -> F::Output {
    PEER.scope(peer, future).await
}

/// The current request's peer, if it is known.
pub fn current() -> Option<IpAddr> {
    PEER.try_with(|peer| *peer).ok().flatten()
}
