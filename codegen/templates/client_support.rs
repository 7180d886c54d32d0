//! Configuration and error classification for the generated client.

use std::time::Duration;

use crate::{Client, DEFAULT_BASE_URL, ErrorBody};

/// The error type every operation returns: progenitor's error over the spec's error body.
pub type ClientError = progenitor_client::Error<ErrorBody>;

/// Builds a [`Client`]: base URL, timeout, credentials and user agent in one place.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use users_api_client::ClientInfo;
///
/// let client = users_api_client::Client::builder()
///     .base_url("http://127.0.0.1:1000")
///     .timeout(std::time::Duration::from_secs(5))
///     .bearer_token("eyJhbGciOi...")
///     .application_id("my-app")
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
    application_id: Option<String>,
    user_agent: String,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            timeout: Duration::from_secs(15),
            bearer_token: None,
            application_id: None,
            user_agent: concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")).to_string(),
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

    /// Application id sent as the `X-Application-ID` header on every request.
    pub fn application_id(mut self, id: impl Into<String>) -> Self {
        self.application_id = Some(id.into());
        self
    }

    /// `User-Agent` header (default: this crate's name and version).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
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
        if let Some(id) = &self.application_id {
            let value = HeaderValue::from_str(id)
                .map_err(|_| BuildError("the application id is not a valid header value".into()))?;
            headers.insert("x-application-id", value);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .default_headers(headers)
            .build()
            .map_err(|e| BuildError(e.to_string()))?;
        Ok(Client::new_with_client(&self.base_url, http))
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
