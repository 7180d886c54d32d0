//! Configuration, retries and error classification for the generated client.

use std::time::Duration;

use crate::{Client, DEFAULT_BASE_URL, ErrorBody};

pub use retry::RetryPolicy;

/// The error type every operation returns: progenitor's error over the spec's error body.
pub type ClientError = progenitor_client::Error<ErrorBody>;

/// Builds a [`Client`]: base URL, timeout, credentials and user agent in one place.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use __CLIENT__::ClientInfo;
///
/// let client = __CLIENT__::Client::builder()
///     .base_url("http://127.0.0.1:1000")
///     .timeout(std::time::Duration::from_secs(5))
///     .bearer_token("eyJhbGciOi...")
// api-key:start
///     .__API_KEY_METHOD__("my-app")
// api-key:end
///     .retry(__CLIENT__::RetryPolicy::default())
///     .build()?;
/// assert_eq!(client.baseurl(), "http://127.0.0.1:1000");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    timeout: Duration,
    bearer_token: Option<String>,
// api-key:start
    __API_KEY_METHOD__: Option<String>,
// api-key:end
    user_agent: String,
    retry: Option<RetryPolicy>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            timeout: Duration::from_secs(15),
            bearer_token: None,
// api-key:start
            __API_KEY_METHOD__: None,
// api-key:end
            user_agent: concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")).to_string(),
            retry: None,
        }
    }
}

/// Why a [`ClientBuilder`] could not build a client.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot build the client: {}", self.0)
    }
}

impl std::error::Error for BuildError {}

impl ClientBuilder {
    /// Server base URL; defaults to the spec's first server.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Timeout for connecting and for each whole request (default 15 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Token sent as `Authorization: Bearer <token>` on every request.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.bearer_token = Some(token.into());
        self
    }

// api-key:start
    /// API key sent as the `__API_KEY_HEADER__` header on every request
    /// (security scheme `__API_KEY_SCHEME__`).
    pub fn __API_KEY_METHOD__(mut self, key: impl Into<String>) -> Self {
        self.__API_KEY_METHOD__ = Some(key.into());
        self
    }
// api-key:end

    /// `User-Agent` header (default: this crate's name and version).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Retries failed calls of idempotent operations (GET, HEAD, PUT, DELETE,
    /// OPTIONS) on transport errors and on 408, 429 and 503, with exponential
    /// backoff, jitter and a cap, honouring `Retry-After`. Off by default;
    /// other operations (POST, PATCH) are never retried. See [`RetryPolicy`].
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
        let mut headers = HeaderMap::new();
        if let Some(token) = &self.bearer_token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| BuildError("the bearer token is not a valid header value".into()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
// api-key:start
        if let Some(key) = &self.__API_KEY_METHOD__ {
            let value = HeaderValue::from_str(key)
                .map_err(|_| BuildError("the API key is not a valid header value".into()))?;
            headers.insert("__API_KEY_HEADER_LOWER__", value);
        }
// api-key:end
        let http = reqwest::Client::builder()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .default_headers(headers)
            .build()
            .map_err(|e| BuildError(e.to_string()))?;
        let state = ClientState { retry: self.retry };
        Ok(Client::new_with_client(&self.base_url, http, state))
    }
}

impl Client {
    /// Starts configuring a client. See [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

/// The class of a failed call, for deciding what to do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was rejected as malformed (400, 413, 415, 422) or could not be built.
    BadRequest,
    /// The credentials were missing or rejected (401, 403).
    Unauthorized,
    /// The resource does not exist (404).
    NotFound,
    /// The server failed or timed out (408, 5xx).
    Server,
    /// The server could not be reached or the connection failed.
    Transport,
    /// A response the spec does not document, or a body that does not parse.
    Unexpected,
}

/// Classification of client errors, without string matching.
pub trait ErrorExt {
    /// The class of failure.
    fn kind(&self) -> ErrorKind;
    /// The spec's error body, when the server sent one.
    fn api_error(&self) -> Option<&ErrorBody>;
    /// 404.
    fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }
    /// 401 or 403.
    fn is_unauthorized(&self) -> bool {
        self.kind() == ErrorKind::Unauthorized
    }
    /// A rejected or unbuildable request.
    fn is_bad_request(&self) -> bool {
        self.kind() == ErrorKind::BadRequest
    }
    /// The server could not be reached.
    fn is_transport(&self) -> bool {
        self.kind() == ErrorKind::Transport
    }
}

fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Unauthorized,
        404 => ErrorKind::NotFound,
        400 | 405 | 413 | 415 | 422 => ErrorKind::BadRequest,
        408 | 500..=599 => ErrorKind::Server,
        _ => ErrorKind::Unexpected,
    }
}

impl ErrorExt for ClientError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidRequest(_) => ErrorKind::BadRequest,
            Self::CommunicationError(e) | Self::InvalidUpgrade(e) if e.status().is_none() => {
                ErrorKind::Transport
            }
            Self::ErrorResponse(r) => kind_of_status(r.status().as_u16()),
            Self::UnexpectedResponse(r) => match kind_of_status(r.status().as_u16()) {
                ErrorKind::Unexpected => ErrorKind::Unexpected,
                known => known,
            },
            _ => ErrorKind::Unexpected,
        }
    }

    fn api_error(&self) -> Option<&ErrorBody> {
        match self {
            Self::ErrorResponse(r) => Some(r.as_ref()),
            _ => None,
        }
    }
}

/// What the builder configures beyond the `reqwest::Client`; the generated
/// client carries it and its hooks read it.
#[derive(Debug, Clone, Default)]
pub struct ClientState {
    retry: Option<RetryPolicy>,
}

impl ClientState {
    /// State with a retry policy (what [`ClientBuilder::retry`] sets).
    pub fn with_retry(policy: RetryPolicy) -> Self {
        Self {
            retry: Some(policy),
        }
    }
}

/// Sends every request, retrying as the client's [`RetryPolicy`] says.
impl progenitor_client::ClientHooks<ClientState> for Client {
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &progenitor_client::OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        use progenitor_client::ClientInfo;
        match &self.inner().retry {
            Some(policy) => retry::send(self.client(), policy, request).await,
            None => self.client().execute(request).await,
        }
    }
}

/// The opt-in retry policy.
pub mod retry {
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
    /// let policy = __CLIENT__::RetryPolicy::default()
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
    }
}
