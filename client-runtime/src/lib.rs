//! The spec-independent half of a generated client: what its builder
//! configures ([`HttpSettings`], [`BuildError`]), the opt-in retries
//! ([`RetryPolicy`], carried in [`ClientState`]) and the classification of
//! failures ([`ErrorExt`], [`ErrorKind`]).
//!
//! A generated client crate re-exports these and keeps only what depends on
//! its spec: the operations, its `ClientBuilder` (default base URL, the
//! API-key method of the spec's security scheme) and the hook that sends
//! every request through [`ClientState::execute`]. Compiled once, like
//! `progenitor-client`, however many clients depend on it.

mod error;
mod retry;
mod settings;

pub use error::{ErrorExt, ErrorKind};
pub use retry::{RetryPolicy, retry_after};
pub use settings::{BuildError, HttpSettings};

/// What a generated client carries beyond its `reqwest::Client` (its
/// progenitor inner type): the retry policy, if any.
#[derive(Debug, Clone, Default)]
pub struct ClientState {
    retry: Option<RetryPolicy>,
}

impl ClientState {
    /// State with this retry policy, or none (every call is sent once).
    pub fn new(retry: Option<RetryPolicy>) -> Self {
        Self { retry }
    }

    /// State with a retry policy (what a builder's `retry` sets).
    pub fn with_retry(policy: RetryPolicy) -> Self {
        Self::new(Some(policy))
    }

    /// The retry policy, if any.
    pub fn retry(&self) -> Option<&RetryPolicy> {
        self.retry.as_ref()
    }

    /// Sends `request` with `http`, retrying as the policy says.
    pub async fn execute(
        &self,
        http: &reqwest::Client,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        match &self.retry {
            Some(policy) => retry::send(http, policy, request).await,
            None => http.execute(request).await,
        }
    }
}
