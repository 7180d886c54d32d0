//! How a spec's error schema is filled, and the responses built on it.
//!
//! A generated crate implements [`ErrorFormat`] once, for a marker type of
//! its own, with the two things only the spec knows (how to build its error
//! body, how to set the body's `status`); every response the router or a
//! response enum sends is then built here.

use std::marker::PhantomData;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{BuiltinError, JsonBody, Rejection, error_json};

/// A spec's error format: the error schema, as the router fills it.
pub trait ErrorFormat: 'static {
    /// The error schema's Rust type.
    type Body: Serialize;

    /// The body answering a rejection: `status`, `code` and `message`.
    /// `None` when the schema cannot express `code` (its enum lacks it);
    /// the router then sends a [`BuiltinError`] rather than fail.
    fn rejection_body(status: StatusCode, code: &'static str, message: &str) -> Option<Self::Body>;

    /// Sets the body's `status` property to `status`.
    fn set_status(body: &mut Self::Body, status: StatusCode);

    /// The answer to a request the router refuses itself.
    fn reject(rejection: Rejection) -> Response {
        let status = rejection.status();
        match Self::rejection_body(status, rejection.code(), rejection.message()) {
            Some(body) => rejection.respond(&body),
            None => {
                let body = BuiltinError::from(&rejection);
                rejection.respond(&body)
            }
        }
    }

    /// An error response whose body's `status` is the status it is sent with.
    fn error(status: StatusCode, mut body: Self::Body) -> Response {
        Self::set_status(&mut body, status);
        error_json(status, &body)
    }

    /// A JSON response; a value that cannot be encoded is answered with 500.
    fn json<T: Serialize + DeserializeOwned>(status: StatusCode, body: JsonBody<T>) -> Response {
        body.respond(status).unwrap_or_else(Self::reject)
    }

    /// `build()` when `status` is in the range `hundreds`xx (`4` for `4XX`),
    /// else 500: a range variant was given a status outside its range.
    fn in_range(status: StatusCode, hundreds: u16, build: impl FnOnce() -> Response) -> Response {
        if status.as_u16() / 100 == hundreds {
            build()
        } else {
            Self::reject(Rejection::response_encoding())
        }
    }
}

/// The error format of a spec without an error schema that has `status`,
/// `code` and `message`: [`BuiltinError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinErrors;

impl ErrorFormat for BuiltinErrors {
    type Body = BuiltinError;

    fn rejection_body(
        status: StatusCode,
        code: &'static str,
        message: &str,
    ) -> Option<BuiltinError> {
        Some(BuiltinError {
            status: status.as_u16(),
            code: code.to_string(),
            message: message.to_string(),
        })
    }

    fn set_status(body: &mut BuiltinError, status: StatusCode) {
        body.status = status.as_u16();
    }
}

/// A [`Rejection`] on its way out of a handler, answered in format `E`.
///
/// Handlers return `Result<OperationResponse, Refused<E>>`, so every step
/// that can refuse a request is a `?`.
pub struct Refused<E> {
    rejection: Rejection,
    format: PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for Refused<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Refused").field(&self.rejection).finish()
    }
}

impl<E> From<Rejection> for Refused<E> {
    fn from(rejection: Rejection) -> Self {
        Self {
            rejection,
            format: PhantomData,
        }
    }
}

impl<E: ErrorFormat> IntoResponse for Refused<E> {
    fn into_response(self) -> Response {
        E::reject(self.rejection)
    }
}

/// A response of a non-JSON media type: `body` with `Content-Type: media`.
/// A media type that is not a valid header value is sent without one.
pub fn media_body(status: StatusCode, media: &'static str, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    match HeaderValue::from_str(media).ok() {
        Some(value) => {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        None => {
            response.headers_mut().remove(header::CONTENT_TYPE);
        }
    }
    response
}

/// `response` with the documented response headers the implementation set.
pub fn with_headers(mut response: Response, headers: HeaderMap) -> Response {
    response.headers_mut().extend(headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectionKind;

    /// A spec whose error codes are an enum without `not_found`.
    struct Narrow;

    #[derive(Debug, Serialize)]
    struct NarrowError {
        status: i64,
        code: &'static str,
        message: String,
    }

    impl ErrorFormat for Narrow {
        type Body = NarrowError;
        fn rejection_body(
            status: StatusCode,
            code: &'static str,
            message: &str,
        ) -> Option<NarrowError> {
            (code != "not_found").then(|| NarrowError {
                status: status.as_u16().into(),
                code,
                message: message.to_string(),
            })
        }
        fn set_status(body: &mut NarrowError, status: StatusCode) {
            body.status = status.as_u16().into();
        }
    }

    async fn json_of(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn rejections_fill_the_spec_schema_or_fall_back_to_the_builtin_body() {
        let r = Narrow::reject(Rejection::new(RejectionKind::BadParameter, "bad x"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body = json_of(r).await;
        assert_eq!(body["code"], "bad_request");
        assert_eq!(body["status"], 400);
        assert_eq!(body["message"], "bad x");
        // The schema's code enum cannot say `not_found`: the builtin body, same status.
        let r = Narrow::reject(Rejection::no_route());
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(json_of(r).await["code"], "not_found");
    }

    #[tokio::test]
    async fn error_bodies_carry_the_status_they_are_sent_with() {
        let body = NarrowError {
            status: 200,
            code: "conflict",
            message: "m".into(),
        };
        let r = Narrow::error(StatusCode::CONFLICT, body);
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(json_of(r).await["status"], 409);
        let r = BuiltinErrors::error(
            StatusCode::UNAUTHORIZED,
            BuiltinError {
                status: 0,
                code: "unauthorized".into(),
                message: "m".into(),
            },
        );
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(json_of(r).await["status"], 401);
    }

    #[tokio::test]
    async fn a_range_variant_outside_its_range_is_a_500() {
        let ok = BuiltinErrors::in_range(StatusCode::IM_A_TEAPOT, 4, || {
            StatusCode::IM_A_TEAPOT.into_response()
        });
        assert_eq!(ok.status(), StatusCode::IM_A_TEAPOT);
        let bad = BuiltinErrors::in_range(StatusCode::OK, 4, || StatusCode::OK.into_response());
        assert_eq!(bad.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json_of(bad).await["code"], "internal_error");
    }

    #[tokio::test]
    async fn refused_answers_in_the_format() {
        let refused: Refused<BuiltinErrors> =
            Rejection::new(RejectionKind::MissingCredentials, "send a token").into();
        let r = refused.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(json_of(r).await["message"], "send a token");
    }

    #[test]
    fn media_bodies_and_headers() {
        let r = media_body(StatusCode::OK, "text/html", "<p>");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html");
        let r = media_body(StatusCode::OK, "bad\nmedia", "x");
        assert!(r.headers().get(header::CONTENT_TYPE).is_none());
        let mut extra = HeaderMap::new();
        extra.insert("x-rate-limit", HeaderValue::from_static("10"));
        let r = with_headers(StatusCode::OK.into_response(), extra);
        assert_eq!(r.headers()["x-rate-limit"], "10");
    }
}
