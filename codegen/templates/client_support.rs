//! Configuration of the generated client; retries and error classification
//! come from `client-runtime`, compiled once like `progenitor-client`.

use std::time::Duration;

use crate::{Client, DEFAULT_BASE_URL, ErrorBody};

pub use client_runtime::{
    BuildError, ClientState, ErrorExt, ErrorKind, HttpSettings, RetryPolicy, retry_after,
};

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
    http: HttpSettings,
    retry: Option<RetryPolicy>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            http: HttpSettings::new(concat!(
                env!("CARGO_PKG_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            )),
            retry: None,
        }
    }
}

impl ClientBuilder {
    /// Server base URL; defaults to the spec's first server.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Timeout for connecting and for each whole request (default 15 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http.timeout = timeout;
        self
    }

    /// Token sent as `Authorization: Bearer <token>` on every request.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.http.bearer_token = Some(token.into());
        self
    }

// api-key:start
    /// API key sent as the `__API_KEY_HEADER__` header on every request
    /// (security scheme `__API_KEY_SCHEME__`).
    pub fn __API_KEY_METHOD__(mut self, key: impl Into<String>) -> Self {
        self.http.api_key = Some(("__API_KEY_HEADER_LOWER__", key.into()));
        self
    }

// api-key:end
    /// `User-Agent` header (default: this crate's name and version).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.http.user_agent = agent.into();
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
        let http = self.http.build()?;
        Ok(Client::new_with_client(
            &self.base_url,
            http,
            ClientState::new(self.retry),
        ))
    }
}

impl Client {
    /// Starts configuring a client. See [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
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
        self.inner().execute(self.client(), request).await
    }
}
