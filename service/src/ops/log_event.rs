//! How a log line is formatted: tracing-subscriber's text or JSON form,
//! with the current request's id (from its
//! [`RequestContext`](super::request_context::RequestContext)) where a
//! request span used to put it:
//!
//! - text: `TIME LEVEL request{request_id=ID}: target: message fields`;
//! - JSON: the event's object with `"span":{"request_id":ID,"name":"request"}`.
//!
//! Lines logged outside a request, or when requests get no ids, have no
//! `request` part. The `response` line of each request is written by
//! [`super::access_line`] in the same form.

use std::fmt;

use serde::Serialize;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{self, Format, Full, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::log_time::UtcMicros;
use super::request_context;

/// The JSON form's `span` object, as tracing-subscriber writes a span's.
#[derive(Serialize)]
pub struct JsonSpan<'a> {
    /// The request's id.
    pub request_id: &'a str,
    /// Always `request`.
    pub name: &'static str,
}

impl<'a> JsonSpan<'a> {
    /// The `span` object of the request with this id.
    pub fn request(request_id: &'a str) -> Self {
        Self {
            request_id,
            name: "request",
        }
    }
}

/// Text lines: time and level, the request, then tracing-subscriber's
/// full format (target, message, fields).
pub struct Text {
    rest: Format<Full, ()>,
}

impl Text {
    /// Text lines (coloured when the subscriber writes ANSI escapes).
    pub fn new() -> Self {
        Self {
            rest: format::format().without_time().with_level(false),
        }
    }
}

impl Default for Text {
    fn default() -> Self {
        Self::new()
    }
}

/// The level as tracing-subscriber writes it: right-aligned in five
/// characters, coloured on a terminal.
fn write_level(w: &mut Writer<'_>, level: Level) -> fmt::Result {
    if w.has_ansi_escapes() {
        let colour = match level {
            Level::TRACE => 35,
            Level::DEBUG => 34,
            Level::INFO => 32,
            Level::WARN => 33,
            Level::ERROR => 31,
        };
        write!(w, "\x1b[{colour}m{level:>5}\x1b[0m ")
    } else {
        write!(w, "{level:>5} ")
    }
}

impl<S, N> FormatEvent<S, N> for Text
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ansi = w.has_ansi_escapes();
        if ansi {
            w.write_str("\x1b[2m")?;
        }
        UtcMicros::now(&mut w)?;
        w.write_str(if ansi { "\x1b[0m " } else { " " })?;
        write_level(&mut w, *event.metadata().level())?;
        request_context::with_id(|id| match id {
            Some(id) => write!(w, "request{{request_id={id}}}: "),
            None => Ok(()),
        })?;
        self.rest.format_event(ctx, w, event)
    }
}

/// JSON lines: tracing-subscriber's object (time, level, message, fields,
/// target), with the request's `span`.
pub struct JsonLines {
    object: Format<Json, UtcMicros>,
}

impl JsonLines {
    /// One JSON object a line.
    pub fn new() -> Self {
        Self {
            object: format::format()
                .with_timer(UtcMicros)
                .json()
                .flatten_event(true)
                // No span of tracing's: the request's is added here.
                .with_current_span(false)
                .with_span_list(false),
        }
    }
}

impl Default for JsonLines {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        request_context::with_id(|id| {
            let Some(id) = id else {
                return self.object.format_event(ctx, w.by_ref(), event);
            };
            let mut line = String::new();
            self.object
                .format_event(ctx, Writer::new(&mut line), event)?;
            let object = line.trim_end().strip_suffix('}').ok_or(fmt::Error)?;
            let span = serde_json::to_string(&JsonSpan::request(id)).map_err(|_| fmt::Error)?;
            writeln!(w, "{object},\"span\":{span}}}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::request_context::{RequestContext, scope};
    use crate::ops::test_sink::Sink;
    use axum::http::HeaderValue;

    /// The lines logged by a warning outside a request and one inside it.
    fn logged<E>(format: E) -> Vec<String>
    where
        E: FormatEvent<tracing_subscriber::Registry, format::DefaultFields> + Send + Sync + 'static,
    {
        let sink = Sink::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(sink.clone())
            .with_ansi(false)
            .event_format(format)
            .finish();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(reason = "x\"y", count = 3, "outside");
            let context = RequestContext {
                peer: None,
                id: Some(HeaderValue::from_static("0123abcd")),
                ..RequestContext::default()
            };
            rt.block_on(scope(context, async {
                tokio::task::yield_now().await;
                tracing::warn!(reason = "inside", "within a request");
            }));
        });
        let text = sink.text();
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn text_lines_carry_the_request_like_a_span() {
        let lines = logged(Text::new());
        assert_eq!(lines.len(), 2, "{lines:?}");
        let (time, rest) = lines[0].split_once(' ').unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
        let this = module_path!();
        assert_eq!(
            rest,
            format!(" WARN {this}: outside reason=\"x\\\"y\" count=3")
        );
        let (_, rest) = lines[1].split_once(' ').unwrap();
        assert_eq!(
            rest,
            format!(
                " WARN request{{request_id=0123abcd}}: {this}: within a request reason=\"inside\""
            )
        );
    }

    #[test]
    fn json_lines_carry_the_request_as_their_span() {
        let lines = logged(JsonLines::new());
        assert_eq!(lines.len(), 2, "{lines:?}");
        let outside: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(outside["message"], "outside");
        assert_eq!(outside["reason"], "x\"y");
        assert_eq!(outside["count"], 3);
        assert_eq!(outside["level"], "WARN");
        assert!(outside.get("span").is_none(), "{outside}");
        assert!(
            chrono::DateTime::parse_from_rfc3339(outside["timestamp"].as_str().unwrap()).is_ok()
        );
        let inside: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(inside["message"], "within a request");
        assert_eq!(inside["target"], module_path!());
        assert_eq!(
            inside["span"],
            serde_json::json!({"request_id": "0123abcd", "name": "request"})
        );
    }
}
