//! The timestamp of log lines: RFC 3339 in UTC with microseconds, as
//! tracing-subscriber's default writes it (`2026-12-05T22:00:00.123456Z`),
//! with the date and time of day formatted once a second per thread
//! instead of once a line.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// The log lines' clock (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct UtcMicros;

thread_local! {
    /// The second last formatted on this thread, and its text up to the
    /// seconds (`2026-12-05T22:00:00`).
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

impl UtcMicros {
    /// Writes the time `since_epoch` after the Unix epoch.
    fn write(w: &mut impl std::fmt::Write, since_epoch: std::time::Duration) -> std::fmt::Result {
        let seconds = since_epoch.as_secs();
        SECOND.with(|cell| {
            let mut cached = cell.borrow_mut();
            if cached.0 != seconds {
                let text = &mut cached.1;
                text.clear();
                let at = i64::try_from(seconds)
                    .ok()
                    .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                    .unwrap_or_default();
                write!(text, "{}", at.format("%Y-%m-%dT%H:%M:%S"))?;
                cached.0 = seconds;
            }
            // Pieces rather than `write!`: this runs for every line.
            let mut micros = *b".000000Z";
            let mut n = since_epoch.subsec_micros();
            for digit in micros[1..7].iter_mut().rev() {
                *digit = b'0' + (n % 10) as u8;
                n /= 10;
            }
            w.write_str(&cached.1)?;
            w.write_str(std::str::from_utf8(&micros).map_err(|_| std::fmt::Error)?)
        })
    }
}

impl UtcMicros {
    /// Writes the time now.
    pub fn now(w: &mut impl std::fmt::Write) -> std::fmt::Result {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self::write(w, now)
    }
}

impl FormatTime for UtcMicros {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        Self::now(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn text(since_epoch: Duration) -> String {
        let mut out = String::new();
        UtcMicros::write(&mut out, since_epoch).unwrap();
        out
    }

    #[test]
    fn writes_rfc3339_utc_with_microseconds_across_seconds() {
        // 2026-12-05T22:00:00Z, computed by hand: 20,792 days after 1970-01-01.
        let base = 20_792 * 86_400 + 22 * 3_600;
        assert_eq!(
            text(Duration::new(base, 123_456_789)),
            "2026-12-05T22:00:00.123456Z"
        );
        assert_eq!(
            text(Duration::new(base, 999_999)),
            "2026-12-05T22:00:00.000999Z"
        );
        assert_eq!(
            text(Duration::new(base + 3_599, 0)),
            "2026-12-05T22:59:59.000000Z",
            "a new second is formatted again"
        );
        assert_eq!(text(Duration::new(0, 1_000)), "1970-01-01T00:00:00.000001Z");
        let parsed = chrono::DateTime::parse_from_rfc3339(&text(Duration::new(base, 5_000)));
        assert_eq!(parsed.unwrap().timestamp(), base as i64);
    }
}
