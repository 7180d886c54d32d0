//! The HTTP half of a generated client's builder.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

/// What a generated `ClientBuilder` configures of the `reqwest::Client`:
/// timeout, credentials sent on every request, user agent.
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpSettings {
    /// Timeout for connecting and for each whole request.
    pub timeout: Duration,
    /// Token sent as `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
    /// API key: the header it goes in, and its value.
    pub api_key: Option<(&'static str, String)>,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl HttpSettings {
    /// Defaults: 15 s timeout, no credentials, this user agent.
    pub fn new(user_agent: impl Into<String>) -> Self {
        Self {
            timeout: Duration::from_secs(15),
            bearer_token: None,
            api_key: None,
            user_agent: user_agent.into(),
        }
    }

    /// The `reqwest::Client` these settings describe.
    pub fn build(self) -> Result<reqwest::Client, BuildError> {
        let mut headers = HeaderMap::new();
        if let Some(token) = &self.bearer_token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| BuildError::InvalidHeader("the bearer token"))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        if let Some((header, key)) = &self.api_key {
            let name = HeaderName::from_bytes(header.as_bytes())
                .map_err(|_| BuildError::InvalidHeader("the API key's header name"))?;
            let mut value =
                HeaderValue::from_str(key).map_err(|_| BuildError::InvalidHeader("the API key"))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        reqwest::Client::builder()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .default_headers(headers)
            .build()
            .map_err(BuildError::Http)
    }
}

/// Why a client could not be built.
#[derive(Debug)]
#[non_exhaustive]
pub enum BuildError {
    /// A credential is not a valid header value (names which one).
    InvalidHeader(&'static str),
    /// reqwest refused the configuration (a TLS backend, for example).
    Http(reqwest::Error),
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidHeader(what) => {
                write!(
                    f,
                    "cannot build the client: {what} is not a valid header value"
                )
            }
            Self::Http(e) => write!(f, "cannot build the client: {e}"),
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Http(e) => Some(e),
            Self::InvalidHeader(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_that_is_not_a_header_value_is_refused_by_name() {
        let settings = HttpSettings {
            bearer_token: Some("line\nbreak".into()),
            ..HttpSettings::new("t")
        };
        let err = settings.build().unwrap_err();
        assert!(matches!(err, BuildError::InvalidHeader("the bearer token")));
        let settings = HttpSettings {
            api_key: Some(("x-key", "bad\r\nvalue".into())),
            ..HttpSettings::new("t")
        };
        let err = settings.build().unwrap_err();
        assert!(matches!(err, BuildError::InvalidHeader("the API key")));
        assert!(
            err.to_string()
                .contains("the API key is not a valid header value")
        );
    }

    #[test]
    fn valid_settings_build() {
        let settings = HttpSettings {
            bearer_token: Some("t0k3n".into()),
            api_key: Some(("x-application-id", "app".into())),
            ..HttpSettings::new("agent/1")
        };
        assert!(settings.build().is_ok());
    }
}
