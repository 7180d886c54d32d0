//! Log lines on stderr: human text (the default) or one JSON object a line.
//!
//! The level comes from `USERS_LOG` (default `info`). Every request's
//! `response` line carries `operation_id`, `status` and `latency_us`; its
//! span (`request`, with `request_id`, `method`, `path`) prefixes text lines
//! and is the `span` object of JSON ones, for every line logged while the
//! request runs. Query strings and headers (tokens) are never logged.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIME LEVEL span{fields}: message fields`, coloured on a terminal.
    Text,
    /// `{"timestamp":…,"level":…,"message":…,FIELDS…,"span":{…}}`, one a line.
    Json,
}

/// Installs the process's log subscriber (once, at start-up).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("USERS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
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
}
