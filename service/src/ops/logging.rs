//! Log lines on stderr: human text (the default) or one JSON object a line.
//!
//! The level comes from `USERS_LOG` (default `info`). Every request's
//! `response` line ([`super::access_line`]) carries `method`, `path`,
//! `operation_id`, `status` and `latency_us`; the request's id prefixes
//! text lines (`request{request_id=…}:`) and is the `span` object of JSON
//! ones, for every line logged while the request runs ([`super::log_event`]
//! formats them). Query strings and headers (tokens) are never logged.
//! Lines go to stderr through [`super::log_output`]'s buffer, stamped by
//! [`super::log_time`]'s clock.

use tracing_subscriber::EnvFilter;

use super::access_line::{self, AccessLine};
use super::log_event::{JsonLines, Text};
use super::log_format::LogFormat;
use super::log_output::{Buffered, Flusher};

/// Installs the process's log subscriber (once, at start-up). Keep the
/// guard it returns until exit: dropping it writes the lines still held.
#[must_use = "dropping the guard at once would write held log lines only then"]
pub fn init(format: LogFormat) -> Flusher {
    let filter = EnvFilter::try_from_env("USERS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let output = Buffered::stderr();
    let flusher = output.start_flushing();
    access_line::install(AccessLine::new(format, output.clone()));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .event_format(Text::new())
            .init(),
        LogFormat::Json => builder
            .with_ansi(false)
            .event_format(JsonLines::new())
            .init(),
    }
    flusher
}
