//! The names of the service's Prometheus metrics, their help texts and
//! histogram buckets: one list, used by the call sites (one
//! `metrics::counter!`/`histogram!`/`gauge!` line each) and by the exporter
//! (the Prometheus recorder under `ops`). This module imports nothing of the
//! crate, so any module may record a metric.
//!
//! Until the exporter is installed (`--metrics false`, tests, benchmarks)
//! the `metrics` macros go to its no-op recorder.

/// Requests answered, by `operation_id` (the spec's operationId, or
/// `unmatched`) and `status`.
pub const HTTP_REQUESTS: &str = "users_http_requests_total";
/// Time from a request's arrival at the service to its response, by `operation_id`.
pub const HTTP_DURATION: &str = "users_http_request_duration_seconds";
/// Lookups in the verified-token cache, by `result` (`hit`, `miss`).
pub const TOKEN_CACHE: &str = "users_token_cache_lookups_total";
/// Sign-outs that revoked a user's earlier tokens.
pub const REVOCATIONS: &str = "users_revocations_total";
/// Verified tokens refused because their user signed out after they were issued.
pub const REVOKED_TOKENS_REFUSED: &str = "users_revoked_tokens_refused_total";
/// Writes per SQLite transaction (group commit).
pub const SQLITE_BATCH: &str = "users_sqlite_commit_batch_size";
/// Time of each SQLite `COMMIT` (the WAL write and its fsync).
pub const SQLITE_COMMIT: &str = "users_sqlite_commit_seconds";
/// PostgreSQL connections open in this instance's pool.
pub const DB_POOL_SIZE: &str = "users_db_pool_connections";
/// PostgreSQL connections handed out to requests right now.
pub const DB_POOL_IN_USE: &str = "users_db_pool_connections_in_use";
/// Requests waiting for a PostgreSQL connection right now.
pub const DB_POOL_WAITING: &str = "users_db_pool_waiting";
/// Time a request waited for a PostgreSQL connection (or to open one).
pub const DB_POOL_WAIT: &str = "users_db_pool_wait_seconds";
/// Calls to the OIDC userinfo endpoint, by `result` (`ok`, `error`).
pub const USERINFO_CALLS: &str = "users_userinfo_calls_total";
/// Fetches of the identity provider's JWKS by URL (at start-up, on schedule,
/// and for an unknown key id); failures are logged.
pub const JWKS_FETCHES: &str = "users_jwks_fetches_total";
/// Connections accepted, by `listener` (`api`, `admin`).
pub const CONNECTIONS_ACCEPTED: &str = "users_connections_accepted_total";
/// Connections open now, by `listener`.
pub const CONNECTIONS_OPEN: &str = "users_connections_open";
/// Times the connection cap held back accepting, by `listener` (further connections wait
/// in the kernel's queue; a full queue refuses them there).
pub const CONNECTION_LIMIT_REACHED: &str = "users_connection_limit_reached_total";
/// `accept` failures (out of file descriptors and the like), by `listener`.
pub const ACCEPT_ERRORS: &str = "users_accept_errors_total";
/// 1 while the instance is ready for traffic, 0 while draining.
pub const READY: &str = "users_ready";

/// What a metric is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// A distribution, with these bucket bounds.
    Histogram(&'static [f64]),
}

/// Seconds, from 100 µs to 10 s.
const SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];
/// Writes per transaction, powers of two up to the largest batch.
const BATCH: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

/// Every metric: name, kind and help text.
pub const ALL: &[(&str, Kind, &str)] = &[
    (
        HTTP_REQUESTS,
        Kind::Counter,
        "Requests answered, by operationId and status",
    ),
    (
        HTTP_DURATION,
        Kind::Histogram(SECONDS),
        "Request latency in the service, by operationId",
    ),
    (
        TOKEN_CACHE,
        Kind::Counter,
        "Verified-token cache lookups, by result (hit, miss)",
    ),
    (
        REVOCATIONS,
        Kind::Counter,
        "Sign-outs that revoked a user's earlier tokens",
    ),
    (
        REVOKED_TOKENS_REFUSED,
        Kind::Counter,
        "Tokens refused because their user signed out later",
    ),
    (
        SQLITE_BATCH,
        Kind::Histogram(BATCH),
        "Writes per SQLite transaction (group commit)",
    ),
    (
        SQLITE_COMMIT,
        Kind::Histogram(SECONDS),
        "SQLite COMMIT time (WAL write and fsync)",
    ),
    (
        DB_POOL_SIZE,
        Kind::Gauge,
        "PostgreSQL connections open in the pool",
    ),
    (
        DB_POOL_IN_USE,
        Kind::Gauge,
        "PostgreSQL connections in use by requests",
    ),
    (
        DB_POOL_WAITING,
        Kind::Gauge,
        "Requests waiting for a PostgreSQL connection",
    ),
    (
        DB_POOL_WAIT,
        Kind::Histogram(SECONDS),
        "Time waited for a PostgreSQL connection",
    ),
    (
        USERINFO_CALLS,
        Kind::Counter,
        "Calls to the userinfo endpoint, by result (ok, error)",
    ),
    (JWKS_FETCHES, Kind::Counter, "JWKS fetches by URL"),
    (
        CONNECTIONS_ACCEPTED,
        Kind::Counter,
        "Connections accepted, by listener (api, admin)",
    ),
    (
        CONNECTIONS_OPEN,
        Kind::Gauge,
        "Connections open now, by listener",
    ),
    (
        CONNECTION_LIMIT_REACHED,
        Kind::Counter,
        "Times the connection cap held back accepting, by listener",
    ),
    (
        ACCEPT_ERRORS,
        Kind::Counter,
        "accept() failures, by listener",
    ),
    (
        READY,
        Kind::Gauge,
        "1 while ready for traffic, 0 while draining",
    ),
];

/// The label value of a boolean outcome.
pub fn result(ok: bool) -> &'static str {
    if ok { "ok" } else { "error" }
}

/// Counts one open connection of a listener (`api`, `admin`) while it lives.
pub struct OpenConnection(&'static str);

impl OpenConnection {
    /// Counts a newly accepted connection of `listener`.
    pub fn new(listener: &'static str) -> Self {
        metrics::counter!(CONNECTIONS_ACCEPTED, "listener" => listener).increment(1);
        metrics::gauge!(CONNECTIONS_OPEN, "listener" => listener).increment(1.0);
        Self(listener)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        metrics::gauge!(CONNECTIONS_OPEN, "listener" => self.0).decrement(1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_prometheus_names() {
        let mut seen = std::collections::BTreeSet::new();
        for (name, kind, help) in ALL {
            assert!(seen.insert(*name), "{name} twice");
            assert!(name.starts_with("users_") && !help.is_empty());
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{name}"
            );
            assert_eq!(*kind == Kind::Counter, name.ends_with("_total"), "{name}");
            if let Kind::Histogram(bounds) = kind {
                assert!(bounds.windows(2).all(|w| w[0] < w[1]), "{name}");
            }
        }
    }
}
