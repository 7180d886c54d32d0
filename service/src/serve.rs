//! The HTTP listener: what `axum::serve` leaves out.
//!
//! - A header-read timeout. It runs whenever a connection waits for a
//!   request head: from accept, and again once each response is written, so
//!   it also ends idle kept-alive connections. It is kept here with the idle
//!   timeout rather than by hyper, whose timer is armed and dropped around
//!   every request head (about 800 instructions and an allocation a
//!   request, callgrind, issue 25).
//! - An idle timeout: a connection on which no byte moves either way while
//!   no request is being handled is closed (a client that opens a socket and
//!   sends nothing, or stops reading its response).
//! - A cap on concurrent connections: once reached, the service stops
//!   accepting and further connections wait in the kernel's queue until a slot
//!   frees; admitted connections are not affected. The cap is lowered (with a
//!   warning) to fit the process's open-file limit.
//! - Accept errors (out of file descriptors and the like) are logged and
//!   retried with a growing pause, never a silent busy loop or stall.
//! - Graceful shutdown with a deadline: in-flight requests may finish, idle
//!   and half-sent connections are closed at once, and whatever remains at the
//!   deadline is closed.
//!
//! Every request is answered knowing its peer ([`HttpService`]).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::Service;

use crate::meters;

/// Default time to send a complete request head.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a connection may sit with no traffic and no request in progress.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default cap on concurrent connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default time in-flight requests get to finish after a shutdown signal.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// File descriptors kept free for the database, JWKS fetches and logs.
const FD_RESERVE: u64 = 64;
/// Shortest and longest pause after an accept error.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one "connection limit reached" warning per this period.
const CAP_WARNING_PERIOD: Duration = Duration::from_secs(10);

/// Command-line options of the listener (flattened into `ServeArgs`).
#[derive(Debug, Clone, clap::Args)]
pub struct ListenerArgs {
    /// Milliseconds a client has to send a complete request head (also how
    /// long a kept-alive connection may wait for its next request).
    #[arg(long, env = "USERS_HEADER_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub header_timeout_ms: u64,
    /// Milliseconds a connection may stay silent, with no request in
    /// progress, before it is closed.
    #[arg(long, env = "USERS_IDLE_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub idle_timeout_ms: u64,
    /// Most connections served at once; more wait until one closes (lowered
    /// to fit the open-file limit).
    #[arg(long, env = "USERS_MAX_CONNECTIONS", default_value_t = 512,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// On SIGTERM or Ctrl-C, milliseconds in-flight requests get to finish
    /// before every remaining connection is closed.
    #[arg(long, env = "USERS_SHUTDOWN_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub shutdown_timeout_ms: u64,
}

impl Default for ListenerArgs {
    fn default() -> Self {
        ServeOptions::default().into()
    }
}

impl From<ServeOptions> for ListenerArgs {
    fn from(o: ServeOptions) -> Self {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            header_timeout_ms: ms(o.header_timeout),
            idle_timeout_ms: ms(o.idle_timeout),
            max_connections: u32::try_from(o.max_connections).unwrap_or(u32::MAX),
            shutdown_timeout_ms: ms(o.shutdown_timeout),
        }
    }
}

impl ListenerArgs {
    /// The options these arguments describe.
    pub fn options(&self) -> ServeOptions {
        ServeOptions {
            header_timeout: Duration::from_millis(self.header_timeout_ms),
            idle_timeout: Duration::from_millis(self.idle_timeout_ms),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            shutdown_timeout: Duration::from_millis(self.shutdown_timeout_ms),
            ..ServeOptions::default()
        }
    }
}

/// Limits of [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// Time to send a complete request head, counted from accept and from the
    /// end of each response.
    pub header_timeout: Duration,
    /// Time a connection may carry no bytes while no request is in progress.
    pub idle_timeout: Duration,
    /// Most connections served at once (at least 1).
    pub max_connections: usize,
    /// After the shutdown signal, time before remaining connections are closed.
    pub shutdown_timeout: Duration,
    /// The listener's name in logs and in the `listener` label of metrics.
    pub name: &'static str,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            name: "api",
        }
    }
}

/// Serves `app` (an `axum::Router`, or any other [`HttpService`]) on `listener`
/// until `shutdown` completes, then drains connections for at most
/// `options.shutdown_timeout` and closes the rest.
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()>
where
    S: HttpService,
{
    let max_connections = fit_fd_limit(options.max_connections.max(1));
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    // No timer for hyper: the header-read timeout is the connection's own.
    builder.http1().header_read_timeout(None).keep_alive(true);
    let builder = Arc::new(builder);
    let slots = Arc::new(Semaphore::new(max_connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut backoff = BACKOFF_MIN;
    let mut last_cap_warning: Option<Instant> = None;
    tokio::pin!(shutdown);
    tracing::info!(
        header_timeout_ms = options.header_timeout.as_millis(),
        idle_timeout_ms = options.idle_timeout.as_millis(),
        max_connections,
        shutdown_timeout_ms = options.shutdown_timeout.as_millis(),
        listener = options.name,
        "listener limits"
    );

    loop {
        // Reap finished connection tasks so the set stays small.
        while connections.try_join_next().is_some() {}
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                metrics::counter!(meters::CONNECTION_LIMIT_REACHED, "listener" => options.name)
                    .increment(1);
                if last_cap_warning.is_none_or(|t| t.elapsed() >= CAP_WARNING_PERIOD) {
                    last_cap_warning = Some(Instant::now());
                    tracing::warn!(
                        max_connections,
                        "connection limit reached: new connections wait until one closes"
                    );
                }
                tokio::select! {
                    p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => {
                    backoff = BACKOFF_MIN;
                    a
                }
                Err(e) => {
                    if is_per_connection_error(&e) {
                        tracing::debug!(error = %e, "a connection failed before it was accepted");
                        continue;
                    }
                    metrics::counter!(meters::ACCEPT_ERRORS, "listener" => options.name).increment(1);
                    tracing::warn!(
                        error = %e,
                        pause_ms = backoff.as_millis(),
                        "accepting connections failed (out of file descriptors?); retrying"
                    );
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {},
                        () = &mut shutdown => break,
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let name = options.name;
        let connection = Connection {
            app: app.clone(),
            builder: builder.clone(),
            idle_timeout: options.idle_timeout,
            header_timeout: options.header_timeout,
            stop: stop_rx.clone(),
        };
        connections.spawn(async move {
            let (_permit, _open) = (permit, meters::OpenConnection::new(name));
            connection.run(stream, peer).await;
        });
    }

    drop(listener);
    let _ = stop_tx.send(true);
    while connections.try_join_next().is_some() {}
    let open = connections.len();
    if open > 0 {
        tracing::info!(
            connections = open,
            "stopped accepting; waiting for in-flight requests"
        );
    }
    let drained = tokio::time::timeout(options.shutdown_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "shutdown deadline reached: closing remaining connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}

/// Errors of `accept` that concern one connection only: retry at once.
fn is_per_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

/// Lowers `wanted` so that that many sockets fit under the open-file limit,
/// raising the soft limit towards the hard one first if needed.
#[cfg(unix)]
#[allow(clippy::useless_conversion)] // rlim_t is u64 on Linux, not on every Unix
fn fit_fd_limit(wanted: usize) -> usize {
    let need = u64::try_from(wanted)
        .unwrap_or(u64::MAX)
        .saturating_add(FD_RESERVE);
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return wanted;
    }
    let soft = u64::from(limit.rlim_cur);
    if limit.rlim_cur == libc::RLIM_INFINITY || soft >= need {
        return wanted;
    }
    let hard = u64::from(limit.rlim_max);
    let raised = if limit.rlim_max == libc::RLIM_INFINITY {
        need
    } else {
        need.min(hard)
    };
    let new = libc::rlimit {
        rlim_cur: raised as libc::rlim_t,
        rlim_max: limit.rlim_max,
    };
    // SAFETY: setrlimit only reads the struct we pass.
    let soft = if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) } == 0 {
        raised
    } else {
        soft
    };
    if soft >= need {
        return wanted;
    }
    let fitted = usize::try_from(soft.saturating_sub(FD_RESERVE).max(1)).unwrap_or(1);
    tracing::warn!(
        wanted,
        fitted,
        open_file_limit = soft,
        "the open-file limit is too low for --max-connections; using fewer (raise it with `ulimit -n`)"
    );
    fitted
}

#[cfg(not(unix))]
fn fit_fd_limit(wanted: usize) -> usize {
    wanted
}

/// What [`serve`] serves: answers every request, told its connection's
/// peer.
///
/// An `axum::Router` gets the peer as [`ConnectInfo<SocketAddr>`] in the
/// request's extensions; the service's own edge
/// takes it as an argument (an extension cost about 400 instructions a
/// request to insert and drop, callgrind, issue 25).
pub trait HttpService: Clone + Send + Sync + 'static {
    /// The answer to one request.
    type Future: Future<Output = Result<Response, Infallible>> + Send + 'static;

    /// Answers `request`, which came from `peer`.
    fn answer(&self, request: Request, peer: SocketAddr) -> Self::Future;
}

impl HttpService for axum::Router {
    type Future = axum::routing::future::RouteFuture<Infallible>;

    fn answer(&self, mut request: Request, peer: SocketAddr) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(peer));
        // A router is always ready (its `poll_ready` does nothing).
        self.clone().call(request)
    }
}

/// What one connection task needs.
struct Connection<S> {
    app: S,
    builder: Arc<Builder<TokioExecutor>>,
    idle_timeout: Duration,
    header_timeout: Duration,
    stop: watch::Receiver<bool>,
}

impl<S: HttpService> Connection<S> {
    async fn run(mut self, stream: TcpStream, peer: SocketAddr) {
        let activity = Arc::new(Activity::new());
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: activity.clone(),
        });
        let app = self.app;
        let requests = activity.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let in_flight = InFlight::new(requests.clone());
            Answering {
                answer: app.answer(request.map(Body::new), peer),
                in_flight: Some(in_flight),
            }
        });
        let conn = self.builder.serve_connection(io, service);
        tokio::pin!(conn);
        let idle = idle_watch(activity, self.idle_timeout, self.header_timeout);
        tokio::pin!(idle);
        let mut draining = *self.stop.borrow();
        if draining {
            conn.as_mut().graceful_shutdown();
        }
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    return;
                }
                timeout = &mut idle => {
                    tracing::debug!(%peer, ?timeout, "closing a connection");
                    return;
                }
                changed = self.stop.changed(), if !draining => {
                    draining = true;
                    if changed.is_ok() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// Why a connection was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Timeout {
    /// No byte moved either way for the idle timeout, no request in progress.
    Idle,
    /// No complete request head within the header timeout.
    Header,
}

/// Completes once the connection, with no request in progress, has carried
/// no bytes for `idle`, or has waited `header` for a complete request head
/// since it was accepted or its last response was written (bytes of a
/// head sent slowly do not extend that).
async fn idle_watch(activity: Arc<Activity>, idle: Duration, header: Duration) -> Timeout {
    loop {
        let now = Instant::now();
        let (deadline, timeout) = if activity.in_flight.load(Ordering::Acquire) > 0 {
            (now + idle.min(header), None)
        } else {
            let idle_at = activity.at(&activity.last_ms) + idle;
            let header_at = activity.at(&activity.waiting_ms) + header;
            if idle_at <= header_at {
                (idle_at, Some(Timeout::Idle))
            } else {
                (header_at, Some(Timeout::Header))
            }
        };
        if let Some(timeout) = timeout
            && deadline <= now
        {
            return timeout;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// When a connection last carried bytes, since when it has waited for a
/// request head, and how many requests it is handling.
///
/// Times are read from the kernel's coarse monotonic clock (advanced each
/// scheduler tick, a few milliseconds): the timeouts are at least 100 ms,
/// and bytes move several times a request. The precise clock cost 5 of the
/// 10 clock reads of a request (callgrind, issue 25); the coarse one reads
/// a value the kernel keeps, without asking the hardware.
struct Activity {
    start: Instant,
    /// The coarse clock at `start`.
    start_coarse: Duration,
    /// Milliseconds after `start` that bytes last moved either way.
    last_ms: AtomicU64,
    /// Milliseconds after `start` since which it waits for a request head:
    /// 0 (accept), or when its last response was done and written.
    waiting_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            start_coarse: coarse_now(),
            last_ms: AtomicU64::new(0),
            waiting_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        let elapsed = coarse_now().saturating_sub(self.start_coarse);
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }

    /// Bytes came in.
    fn read(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Release);
    }

    /// Bytes went out: the head timeout counts from the last of them, which
    /// end a response.
    fn wrote(&self) {
        let ms = self.now_ms();
        self.last_ms.store(ms, Ordering::Release);
        self.waiting_ms.store(ms, Ordering::Release);
    }

    fn at(&self, ms: &AtomicU64) -> Instant {
        self.start + Duration::from_millis(ms.load(Ordering::Acquire))
    }
}

/// The coarse monotonic clock (`CLOCK_MONOTONIC_COARSE` on Linux; the
/// precise one elsewhere).
fn coarse_now() -> Duration {
    #[cfg(target_os = "linux")]
    {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime only writes the struct we pass.
        if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut t) } == 0 {
            return Duration::new(
                u64::try_from(t.tv_sec).unwrap_or(0),
                u32::try_from(t.tv_nsec).unwrap_or(0),
            );
        }
    }
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed()
}

pin_project_lite::pin_project! {
    /// A request's answer, marked in progress on its connection until it is
    /// ready. A named future rather than an `async` block: the block moved
    /// the answer's future (about 500 bytes) into itself when first polled.
    struct Answering<F> {
        #[pin]
        answer: F,
        in_flight: Option<InFlight>,
    }
}

impl<F: Future> Future for Answering<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.answer.poll(cx));
        this.in_flight.take();
        Poll::Ready(output)
    }
}

/// Marks a request in progress on its connection until dropped.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Its response may be empty: waiting for the next head starts now.
        self.0.wrote();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that records when bytes move.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn start(options: ServeOptions) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let router = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(serve(listener, router, options, async move {
            let _ = rx.await;
        }));
        (addr, tx)
    }

    async fn get_peer(addr: SocketAddr) -> (String, SocketAddr) {
        let mut s = TcpStream::connect(addr).await.unwrap();
        let local = s.local_addr().unwrap();
        s.write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        (out, local)
    }

    #[tokio::test]
    async fn requests_carry_the_peer_address() {
        let (addr, _stop) = start(ServeOptions::default()).await;
        let (response, local) = get_peer(addr).await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with(&local.to_string()), "{response}");
    }

    #[tokio::test]
    async fn silent_and_slow_connections_are_closed() {
        let options = ServeOptions {
            header_timeout: Duration::from_millis(600),
            idle_timeout: Duration::from_millis(300),
            ..ServeOptions::default()
        };
        let (addr, _stop) = start(options).await;
        let started = Instant::now();
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut buf))
            .await
            .expect("closed in time")
            .unwrap_or(0);
        assert_eq!(n, 0);
        assert!(started.elapsed() >= Duration::from_millis(300));

        // One header byte every 100 ms: never idle, but the head never completes.
        let started = Instant::now();
        let mut slow = TcpStream::connect(addr).await.unwrap();
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            for b in
                b"GET /peer HTTP/1.1\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter()
            {
                if slow.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(closed.is_ok(), "the slow connection was closed");
        assert!(started.elapsed() >= Duration::from_millis(600));
    }

    #[tokio::test]
    async fn the_header_timeout_counts_again_from_each_response() {
        let options = ServeOptions {
            header_timeout: Duration::from_millis(700),
            idle_timeout: Duration::from_millis(400),
            ..ServeOptions::default()
        };
        let (addr, _stop) = start(options).await;
        let accepted = Instant::now();
        let mut s = TcpStream::connect(addr).await.unwrap();
        // Silent, but not for the idle timeout; then one whole request.
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.write_all(b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        let answered = Instant::now();
        // The next head, a byte every 100 ms: never idle, never complete.
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            for b in b"GET /peer HTTP/1.1\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                .iter()
            {
                if s.write_all(&[*b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(closed.is_ok(), "the slow head was cut off");
        let (from_answer, from_accept) = (answered.elapsed(), accepted.elapsed());
        assert!(
            from_answer >= Duration::from_millis(650),
            "closed {from_answer:?} after the response ({from_accept:?} after accept)"
        );
    }

    #[tokio::test]
    async fn a_request_in_progress_is_not_idle() {
        let router = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(900)).await;
                "done"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let options = ServeOptions {
            idle_timeout: Duration::from_millis(300),
            header_timeout: Duration::from_millis(300),
            ..ServeOptions::default()
        };
        tokio::spawn(serve(listener, router, options, std::future::pending()));
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET /slow HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut out))
            .await
            .expect("answered in time")
            .unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out:?}");
        assert!(out.ends_with("done"), "{out:?}");
    }

    #[tokio::test]
    async fn over_the_cap_waits_then_is_served() {
        let options = ServeOptions {
            max_connections: 2,
            idle_timeout: Duration::from_millis(500),
            ..ServeOptions::default()
        };
        let (addr, _stop) = start(options).await;
        let _a = TcpStream::connect(addr).await.unwrap();
        let _b = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Queued in the kernel until an idle one is closed, then answered.
        let (response, _) = tokio::time::timeout(Duration::from_secs(5), get_peer(addr))
            .await
            .expect("served once a slot freed");
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    }

    #[tokio::test]
    async fn shutdown_closes_lingering_connections_by_the_deadline() {
        let router = Router::new().route("/", get(|| async { "ok" }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let options = ServeOptions {
            shutdown_timeout: Duration::from_millis(300),
            ..ServeOptions::default()
        };
        let server = tokio::spawn(serve(listener, router, options, async move {
            let _ = rx.await;
        }));
        let mut half = TcpStream::connect(addr).await.unwrap();
        half.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(3), server)
            .await
            .expect("stopped by the deadline")
            .unwrap()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(3));
    }
}
