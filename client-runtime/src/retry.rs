//! The opt-in retry policy and the sending loop it drives.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, StatusCode};

/// When and how often a failed call is sent again.
///
/// Only idempotent methods are retried (GET, HEAD, PUT, DELETE,
/// OPTIONS), after a transport error (the connection failed, was cut
/// before a response, or timed out) or a 408, 429 or 503 response. Retry
/// `n` (from 0) waits a random time between half and all of
/// `min(initial_backoff * 2^n, max_backoff)`; a `Retry-After` header
/// (seconds or an HTTP date) makes it wait at least that long, and one
/// longer than `max_retry_after` ends the retries (that response is
/// returned). The last response or error is what the call returns.
///
/// ```
/// use std::time::Duration;
/// let policy = client_runtime::RetryPolicy::default()
///     .max_retries(5)
///     .initial_backoff(Duration::from_millis(50))
///     .max_backoff(Duration::from_secs(2));
/// assert_eq!(policy.backoff(0), Duration::from_millis(50));
/// assert_eq!(policy.backoff(1), Duration::from_millis(100));
/// assert_eq!(policy.backoff(10), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 retries, backoff from 100 ms up to 5 s, `Retry-After` up to 30 s.
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// How many times a call is sent again at most (default 3).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The backoff before the first retry (default 100 ms).
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The cap on the backoff (default 5 s).
    pub fn max_backoff(mut self, cap: Duration) -> Self {
        self.max_backoff = cap;
        self
    }

    /// The longest `Retry-After` the client waits for (default 30 s).
    pub fn max_retry_after(mut self, limit: Duration) -> Self {
        self.max_retry_after = limit;
        self
    }

    /// The backoff before retry `attempt` (0 for the first), before
    /// jitter: `initial_backoff * 2^attempt`, at most `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }

    /// The backoff with jitter: uniform between half and all of it.
    pub fn jittered(&self, attempt: u32) -> Duration {
        let full = self.backoff(attempt);
        full / 2 + full.mul_f64(random_fraction() / 2.0)
    }

    /// Whether a method may be retried: it is idempotent.
    pub fn is_idempotent(method: &Method) -> bool {
        matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
    }

    /// Whether a response status is worth a retry: 408, 429, 503.
    pub fn is_retryable_status(status: StatusCode) -> bool {
        matches!(status.as_u16(), 408 | 429 | 503)
    }

    /// Whether an error is a transport error worth a retry.
    pub fn is_retryable_error(error: &reqwest::Error) -> bool {
        error.is_connect() || error.is_timeout() || error.is_request()
    }
}

/// Sends `request`, retrying as `policy` says.
pub(crate) async fn send(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    request: reqwest::Request,
) -> reqwest::Result<reqwest::Response> {
    if !RetryPolicy::is_idempotent(request.method()) {
        return http.execute(request).await;
    }
    let mut attempt = 0;
    loop {
        // A body that cannot be cloned (a stream) is sent once.
        let copy = match request.try_clone() {
            Some(copy) if attempt < policy.max_retries => copy,
            _ => return http.execute(request).await,
        };
        let result = http.execute(copy).await;
        let wait = match &result {
            Err(e) if RetryPolicy::is_retryable_error(e) => policy.jittered(attempt),
            Ok(r) if RetryPolicy::is_retryable_status(r.status()) => {
                let backoff = policy.jittered(attempt);
                match retry_after(r.headers()) {
                    Some(wait) if wait > policy.max_retry_after => return result,
                    Some(wait) => wait.max(backoff),
                    None => backoff,
                }
            }
            _ => return result,
        };
        drop(result);
        sleep(wait).await;
        attempt += 1;
    }
}

/// `Retry-After` as a duration from now: delay-seconds or an HTTP date
/// (IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = http_date(value)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// Seconds since the epoch of an IMF-fixdate.
fn http_date(value: &str) -> Option<u64> {
    let mut parts = value.split_whitespace();
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?.parse::<u64>().ok()?,
        parts.next()?,
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?,
        parts.next()?,
    );
    if zone != "GMT" || parts.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + m * 60 + s)
}

/// A number in `[0, 1)` from the standard library's per-process random
/// keys (no random-number crate needed for jitter).
fn random_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Waits `duration` on a timer thread, so that the client needs no
/// particular async runtime.
fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
    /// Whether the timer fired, and the task to wake when it does.
    type Shared = Arc<Mutex<(bool, Option<Waker>)>>;
    struct Sleep {
        duration: Duration,
        state: Option<Shared>,
    }
    impl Future for Sleep {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            let duration = self.duration;
            let state = self.state.get_or_insert_with(|| {
                let state = Arc::new(Mutex::new((false, None::<Waker>)));
                let timer = Arc::clone(&state);
                std::thread::spawn(move || {
                    std::thread::sleep(duration);
                    let mut guard = timer.lock().unwrap_or_else(|e| e.into_inner());
                    guard.0 = true;
                    if let Some(waker) = guard.1.take() {
                        waker.wake();
                    }
                });
                state
            });
            let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
            if guard.0 {
                Poll::Ready(())
            } else {
                guard.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
    Sleep {
        duration,
        state: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(http_date("soon"), None);
    }

    #[test]
    fn jitter_stays_between_half_and_all_of_the_backoff() {
        let policy = RetryPolicy::default();
        for attempt in 0..8 {
            let full = policy.backoff(attempt);
            for _ in 0..20 {
                let wait = policy.jittered(attempt);
                assert!(
                    wait >= full / 2 && wait <= full,
                    "{wait:?} against {full:?}"
                );
            }
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(reqwest::header::RETRY_AFTER, " 7 ".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "Thu, 01 Jan 1970 00:00:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(reqwest::header::RETRY_AFTER, "later".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sleep_waits_at_least_its_duration() {
        let started = std::time::Instant::now();
        sleep(Duration::from_millis(30)).await;
        assert!(started.elapsed() >= Duration::from_millis(30));
    }
}
