//! Log lines on stderr: human text (the default) or one JSON object a line.
//!
//! The level comes from `USERS_LOG` (default `info`). Every request's
//! `response` line carries `operation_id`, `status` and `latency_us`; its
//! span (`request`, with `request_id`, `method`, `path`) prefixes text lines
//! and is the `span` object of JSON ones, for every line logged while the
//! request runs. Query strings and headers (tokens) are never logged.
//!
//! Lines are written off the request path: a request formats its line and
//! hands it to a channel; one writer thread drains the channel into a
//! buffered stderr and flushes once per batch, so a busy server makes one
//! `write` call per batch instead of one per line. The channel holds
//! [`BUFFERED_LINES`]; when it is full, the request waits (no line is
//! dropped). Buffered lines are written when the [`LogGuard`] drops.

use std::io::BufWriter;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines the writer thread's channel holds before a request waits for it.
pub const BUFFERED_LINES: usize = 16 * 1024;

/// Keeps the writer thread alive; dropping it writes every buffered line.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: WorkerGuard,
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogGuard")
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIME LEVEL span{fields}: message fields`, coloured on a terminal.
    Text,
    /// `{"timestamp":…,"level":…,"message":…,FIELDS…,"span":{…}}`, one a line.
    Json,
}

/// Installs the process's log subscriber (once, at start-up); keep the
/// guard until the process is done logging.
pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_env("USERS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(BUFFERED_LINES)
        .thread_name("users-log")
        .finish(BufWriter::new(std::io::stderr()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    LogGuard { _writer: guard }
}
