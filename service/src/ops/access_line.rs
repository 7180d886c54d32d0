//! The `response` line of each request, written straight into the log
//! output's buffer in the same text or JSON form as the other log lines.
//!
//! Through tracing-subscriber's formatter this line cost about 12,600
//! instructions a request, a quarter of a cached `GET /users/{id}`
//! (callgrind, issue 25); written here it is a few hundred. It is still
//! filtered like any `info` line of this module (`USERS_LOG`).

use std::io::Stderr;
use std::sync::OnceLock;

use serde::Serialize;

use super::log_event::JsonSpan;
use super::log_format::LogFormat;
use super::log_output::Buffered;
use super::log_time::UtcMicros;
use crate::log_text::{Escaped, MAX_LOGGED_METHOD, MAX_LOGGED_PATH};

/// The target the line is logged under (what `USERS_LOG` filters on).
pub const TARGET: &str = module_path!();

/// The process's `response` lines, once [`install`]ed.
static INSTALLED: OnceLock<AccessLine<Stderr>> = OnceLock::new();

/// Makes `line` the process's (at start-up, with the log subscriber);
/// a second call changes nothing.
pub fn install(line: AccessLine<Stderr>) {
    let _ = INSTALLED.set(line);
}

/// The process's `response` lines, if installed (not in tests that build
/// the application in process).
pub fn installed() -> Option<&'static AccessLine<Stderr>> {
    INSTALLED.get()
}

/// Whether `response` lines are logged now (`USERS_LOG` lets `info` lines
/// of this module through).
pub fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// What one `response` line says.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The request's id, if requests get ids.
    pub request_id: Option<&'a str>,
    /// Its method (client text: escaped and cut).
    pub method: &'a str,
    /// Its path without the query (client text: escaped and cut).
    pub path: &'a str,
    /// The operationId serving it.
    pub operation_id: &'static str,
    /// The response status.
    pub status: u16,
    /// Time from arrival to response, microseconds.
    pub latency_us: u64,
}

/// Writes `response` lines in one format to one output.
#[derive(Clone)]
pub struct AccessLine<W> {
    format: LogFormat,
    output: Buffered<W>,
}

/// The JSON form, field for field as tracing-subscriber writes an event.
#[derive(Serialize)]
struct JsonLine<'a> {
    timestamp: &'a str,
    level: &'static str,
    message: &'static str,
    method: String,
    path: String,
    operation_id: &'static str,
    status: u16,
    latency_us: u64,
    target: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    span: Option<JsonSpan<'a>>,
}

impl<W: std::io::Write> AccessLine<W> {
    /// Lines in `format` to `output`.
    pub fn new(format: LogFormat, output: Buffered<W>) -> Self {
        Self { format, output }
    }

    /// Writes the line of one response.
    pub fn write(&self, r: &Response<'_>) {
        let method = Escaped(r.method, MAX_LOGGED_METHOD);
        let path = Escaped(r.path, MAX_LOGGED_PATH);
        self.output.append(|line| match self.format {
            // Pieces pushed one after the other: through `write!` the line
            // cost three times as many instructions.
            LogFormat::Text => {
                let start = line.len();
                if UtcMicros::now(&mut Utf8(line)).is_err() {
                    line.truncate(start);
                    return;
                }
                line.extend_from_slice(b"  INFO request");
                if let Some(id) = r.request_id {
                    for piece in ["{request_id=", id, "}"] {
                        line.extend_from_slice(piece.as_bytes());
                    }
                }
                for piece in [": ", TARGET, ": response method="] {
                    line.extend_from_slice(piece.as_bytes());
                }
                method.write_to(line);
                line.extend_from_slice(b" path=");
                path.write_to(line);
                let mut status = itoa::Buffer::new();
                let mut latency = itoa::Buffer::new();
                for piece in [
                    " operation_id=",
                    r.operation_id,
                    " status=",
                    status.format(r.status),
                    " latency_us=",
                    latency.format(r.latency_us),
                    "\n",
                ] {
                    line.extend_from_slice(piece.as_bytes());
                }
            }
            LogFormat::Json => {
                let mut time = String::with_capacity(32);
                if UtcMicros::now(&mut time).is_err() {
                    return;
                }
                let json = JsonLine {
                    timestamp: &time,
                    level: "INFO",
                    message: "response",
                    method: method.to_string(),
                    path: path.to_string(),
                    operation_id: r.operation_id,
                    status: r.status,
                    latency_us: r.latency_us,
                    target: TARGET,
                    span: r.request_id.map(JsonSpan::request),
                };
                if serde_json::to_writer(&mut *line, &json).is_ok() {
                    line.push(b'\n');
                }
            }
        });
    }
}

/// Text written into a line's bytes.
struct Utf8<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Utf8<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_sink::Sink;

    fn line(format: LogFormat, r: &Response<'_>) -> String {
        let sink = Sink::default();
        let output = Buffered::new(sink.clone(), true);
        AccessLine::new(format, output.clone()).write(r);
        output.flush();
        sink.text()
    }

    const R: Response<'static> = Response {
        request_id: Some("0123abcd"),
        method: "GET",
        path: "/users/\u{202e}x\"y",
        operation_id: "users_snapshot",
        status: 200,
        latency_us: 42,
    };

    #[test]
    fn text_lines_read_like_the_formatters() {
        let text = line(LogFormat::Text, &R);
        let (time, rest) = text.split_once("  ").unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{text}");
        assert_eq!(
            rest,
            "INFO request{request_id=0123abcd}: users_service::ops::access_line: response \
             method=GET path=/users/\\u{202e}x\"y operation_id=users_snapshot status=200 latency_us=42\n"
        );
        let anonymous = line(
            LogFormat::Text,
            &Response {
                request_id: None,
                ..R
            },
        );
        assert!(
            anonymous.contains(" INFO request: users_service"),
            "{anonymous}"
        );
    }

    #[test]
    fn json_lines_carry_every_field_escaped() {
        let text = line(LogFormat::Json, &R);
        assert!(text.ends_with("}\n") && text.lines().count() == 1, "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["message"], "response");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["span"]["request_id"], "0123abcd");
        assert_eq!(v["span"]["name"], "request");
        assert_eq!(v["path"], "/users/\\u{202e}x\"y");
        assert_eq!(v["operation_id"], "users_snapshot");
        assert_eq!(v["status"], 200);
        assert_eq!(v["latency_us"], 42);
        assert!(
            chrono::DateTime::parse_from_rfc3339(v["timestamp"].as_str().unwrap()).is_ok(),
            "{v}"
        );
        let anonymous = line(
            LogFormat::Json,
            &Response {
                request_id: None,
                ..R
            },
        );
        let v: serde_json::Value = serde_json::from_str(&anonymous).unwrap();
        assert!(v.get("span").is_none(), "{v}");
    }
}
