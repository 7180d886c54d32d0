//! Running the service for a team: health and readiness on an admin
//! listener, Prometheus metrics, request ids and structured logs, and
//! draining on SIGTERM. The README's "Operating" section is the user's view.
//!
//! - [`health`]: liveness, readiness (the database answers, not draining).
//! - [`endpoints`]: the admin listener (`--admin-listen`): `/livez`,
//!   `/readyz`, `/metrics`.
//! - [`prometheus`]: the metrics recorder and its text rendering.
//! - [`observe`]: per request: its id, `response` log line
//!   ([`access_line`] writes it) and metrics;
//!   [`operation`] names its operationId, [`request_id`] makes or checks its id,
//!   [`request_context`] holds its peer and id while it runs.
//! - [`logging`]: text or JSON log lines ([`log_format`], formatted by
//!   [`log_event`]); [`log_output`] buffers them on their way to stderr,
//!   [`log_time`] stamps them.

pub mod access_line;
pub mod endpoints;
pub mod health;
pub mod log_event;
pub mod log_format;
pub mod log_output;
pub mod log_time;
pub mod logging;
pub mod observe;
pub mod operation;
pub mod prometheus;
pub mod request_context;
pub mod request_id;
#[cfg(test)]
mod test_sink;

use std::net::SocketAddr;
use std::time::Duration;

pub use log_format::LogFormat;

/// Command-line options of operating the service (flattened into `ServeArgs`).
#[derive(Debug, Clone, clap::Args)]
pub struct OpsArgs {
    /// Address of the admin listener (`/livez`, `/readyz`, `/metrics`); off
    /// when not given. Keep it on loopback or a network only your probes and
    /// Prometheus reach: it needs no credentials (it shows no user data).
    #[arg(long, env = "USERS_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Log lines as human text (`text`) or one JSON object a line (`json`).
    #[arg(long, env = "USERS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Record Prometheus metrics (served at the admin listener's `/metrics`).
    #[arg(long, env = "USERS_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Give every request an id (logged, returned in `X-Request-Id`).
    #[arg(long, env = "USERS_REQUEST_IDS", default_value_t = true, action = clap::ArgAction::Set)]
    pub request_ids: bool,
    /// Take a request's id from its `X-Request-Id` header (when well formed:
    /// 1 to 128 letters, digits, `-`, `_`, `.`, `:`): only when every request
    /// comes through a proxy that sets that header itself.
    #[arg(long, env = "USERS_TRUST_PROXY_REQUEST_ID")]
    pub trust_proxy_request_id: bool,
    /// On SIGTERM, milliseconds to keep serving while reporting not-ready,
    /// so that load balancers polling `/readyz` stop sending first; then the
    /// listener closes and in-flight requests finish.
    #[arg(long, env = "USERS_DRAIN_DELAY_MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub drain_delay_ms: u64,
    /// Test-only planted fault: `/readyz` stays ready while draining (the
    /// `rolling-restart` CI step's negative run shows it is caught). Only in
    /// debug builds: the release binary does not have the option.
    #[cfg(debug_assertions)]
    #[arg(long, env = "USERS_FAULT_READY_WHILE_DRAINING", hide = true)]
    pub fault_ready_while_draining: bool,
}

impl OpsArgs {
    /// The options these arguments describe.
    pub fn options(&self) -> OpsOptions {
        OpsOptions {
            admin_listen: self.admin_listen,
            log_format: self.log_format,
            metrics: self.metrics,
            request_ids: self.request_ids,
            trust_proxy_request_id: self.trust_proxy_request_id,
            drain_delay: Duration::from_millis(self.drain_delay_ms),
            fault_ready_while_draining: self.planted_fault(),
        }
    }

    /// Whether the test-only fault was asked for (never in release builds).
    #[cfg(debug_assertions)]
    fn planted_fault(&self) -> bool {
        self.fault_ready_while_draining
    }

    /// Whether the test-only fault was asked for (never in release builds).
    #[cfg(not(debug_assertions))]
    fn planted_fault(&self) -> bool {
        false
    }
}

/// How the service is operated; see [`OpsArgs`] for each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpsOptions {
    /// The admin listener's address, if any.
    pub admin_listen: Option<SocketAddr>,
    /// Log line format.
    pub log_format: LogFormat,
    /// Whether metrics are recorded.
    pub metrics: bool,
    /// Whether requests get ids.
    pub request_ids: bool,
    /// Whether a well-formed `X-Request-Id` from the peer is kept.
    pub trust_proxy_request_id: bool,
    /// How long to keep serving, not-ready, after SIGTERM.
    pub drain_delay: Duration,
    /// Test-only: readiness ignores draining.
    pub fault_ready_while_draining: bool,
}

impl Default for OpsOptions {
    fn default() -> Self {
        Self {
            admin_listen: None,
            log_format: LogFormat::Text,
            metrics: true,
            request_ids: true,
            trust_proxy_request_id: false,
            drain_delay: Duration::ZERO,
            fault_ready_while_draining: false,
        }
    }
}
