//! A request the router answers itself, and how it becomes a response.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::RejectionKind;

/// A request refused before it reached the implementation.
///
/// Messages are fixed text plus names from the spec (parameter names,
/// schema names, expected types); they never contain request input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    kind: RejectionKind,
    message: Cow<'static, str>,
    allow: Option<&'static str>,
}

impl Rejection {
    /// A rejection of `kind` with a message.
    pub fn new(kind: RejectionKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            allow: None,
        }
    }

    /// No route matches the path.
    pub fn no_route() -> Self {
        Self::new(RejectionKind::NoRoute, "no such route")
    }

    /// The path supports only the methods in `allow` (`"GET, POST"`).
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                RejectionKind::MethodNotAllowed,
                format!("method not allowed; this path supports {allow}"),
            )
        }
    }

    /// The implementation's response could not be encoded.
    pub fn response_encoding() -> Self {
        Self::new(
            RejectionKind::ResponseEncoding,
            "the response could not be encoded",
        )
    }

    /// Why the request was refused.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.status()).expect("rejection statuses are valid")
    }

    /// The error code of the answer.
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The human-readable reason.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The answer: `body` (the spec's error schema, built by the generated
    /// code from [`Self::status`], [`Self::code`] and [`Self::message`]) as
    /// JSON, with `Allow` on 405 and a `WWW-Authenticate: Bearer` challenge on 401.
    pub fn respond<B: serde::Serialize>(self, body: &B) -> Response {
        let response = error_json(self.status(), body);
        self.finish(response)
    }

    /// `response` with the headers the rejection calls for (`Allow` on 405).
    pub(crate) fn finish(self, mut response: Response) -> Response {
        if let Some(allow) = self.allow {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

/// The error body a router uses when its spec has no error schema with
/// `status`, `code` and `message`: `{"status": 404, "code": "not_found", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuiltinError {
    /// The HTTP status, repeated.
    pub status: u16,
    /// A stable machine-readable code ([`RejectionKind::code`]).
    pub code: String,
    /// A human-readable reason that never echoes input.
    pub message: String,
}

impl From<&Rejection> for BuiltinError {
    fn from(rejection: &Rejection) -> Self {
        Self {
            status: rejection.kind.status(),
            code: rejection.code().to_string(),
            message: rejection.message.to_string(),
        }
    }
}

/// An error response: `body` (the spec's error schema) as JSON with
/// `status`, and a `WWW-Authenticate: Bearer` challenge on 401.
pub fn error_json<B: serde::Serialize>(status: StatusCode, body: &B) -> Response {
    let mut response = match serde_json::to_vec(body) {
        Ok(bytes) => crate::body::json_bytes(status, bytes.into()),
        Err(_) => status.into_response(),
    };
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_not_allowed_lists_the_methods() {
        let r = Rejection::method_not_allowed("GET, POST");
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        let response = r.respond(&serde_json::json!({}));
        assert_eq!(response.headers()[header::ALLOW], "GET, POST");
        assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn unauthorized_carries_a_bearer_challenge() {
        let r = Rejection::new(RejectionKind::MissingCredentials, "missing");
        let response = r.respond(&serde_json::json!({"status": 401}));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
