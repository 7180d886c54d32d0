//! The admin listener (`--admin-listen ADDR`, off by default): what load
//! balancers, orchestrators and Prometheus ask, apart from the API.
//!
//! - `GET /livez`: `200 ok` while the process answers.
//! - `GET /readyz`: `200 ready`, or `503 draining` / `503 database unavailable`.
//! - `GET /metrics`: the Prometheus text format (`404` with `--metrics false`).
//!
//! Apart from the API port, so the API stays exactly what the spec says
//! (the official SDKs, Schemathesis and the breaking-change gate see no new
//! path), the admin port can be firewalled on its own, and it keeps
//! answering `/readyz` with `503` while the API listener drains and closes.
//! No credentials and no user data: request counts and timings only. A
//! browser is kept out as on the API: any `Origin` gets `403`, and on a
//! loopback address a `Host` that is not a loopback name gets `421` (a
//! page that rebinds its DNS name to 127.0.0.1).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::health::Health;
use super::prometheus::Metrics;
use crate::serve::{ServeOptions, serve};
use crate::store::any::Store;

/// What the admin endpoints read.
#[derive(Clone)]
struct Admin {
    health: Arc<Health>,
    metrics: Option<Metrics>,
    store: Store,
}

/// The admin endpoints; `loopback`: the listener is on a loopback address.
pub fn router(
    health: Arc<Health>,
    metrics: Option<Metrics>,
    store: Store,
    loopback: bool,
) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(Admin {
            health,
            metrics,
            store,
        })
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            guard(req, next, loopback)
        }))
}

async fn readyz(State(admin): State<Admin>) -> Response {
    match admin.health.readiness().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("{why}\n")).into_response(),
    }
}

async fn metrics_text(State(admin): State<Admin>) -> Response {
    match &admin.metrics {
        Some(metrics) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            metrics.render(&admin.store),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "metrics are off (--metrics false)\n").into_response(),
    }
}

/// Browsers out: any `Origin` (403); on loopback, a foreign `Host` (421).
async fn guard(req: Request, next: Next, loopback: bool) -> Response {
    if req.headers().contains_key(header::ORIGIN) {
        return (StatusCode::FORBIDDEN, "not for browsers\n").into_response();
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if loopback && !host.is_some_and(names_loopback) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "the Host header must name a loopback host\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// `localhost` or a loopback IP address, with or without a port.
fn names_loopback(host: &str) -> bool {
    let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
        return false;
    };
    let name = authority.host();
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A running admin listener.
pub struct AdminListener {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl AdminListener {
    /// Binds `addr` and serves the admin endpoints in the background.
    pub async fn start(
        addr: SocketAddr,
        health: Arc<Health>,
        metrics: Option<Metrics>,
        store: Store,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on --admin-listen {addr}"))?;
        let addr = listener.local_addr()?;
        if !addr.ip().is_loopback() {
            tracing::warn!(%addr, "the admin listener is reachable from other machines: limit who can reach it");
        }
        let app = router(health, metrics, store, addr.ip().is_loopback());
        let (stop, stopped) = oneshot::channel();
        let options = ServeOptions {
            name: "admin",
            ..ServeOptions::default()
        };
        let task = tokio::spawn(serve(listener, app, options, async move {
            let _ = stopped.await;
        }));
        tracing::info!(%addr, "admin listener: /livez /readyz /metrics");
        Ok(Self { addr, stop, task })
    }

    /// Stops it (after the API listener has finished).
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_host_names() {
        for ok in [
            "localhost",
            "LOCALHOST:9000",
            "127.0.0.1",
            "127.0.0.2:9000",
            "[::1]:9000",
        ] {
            assert!(names_loopback(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "localhost.evil.example",
            "10.0.0.1:9000",
            "127.0.0.1.evil.example",
            "",
            "[::2]",
        ] {
            assert!(!names_loopback(bad), "{bad}");
        }
    }
}
