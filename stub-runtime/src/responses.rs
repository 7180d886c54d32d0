//! What every generated response enum shares: it knows its status and how
//! each variant is sent; turning it into an axum [`Response`] is done here.
//!
//! A blanket `impl<R: Responses> IntoResponse for R` is ruled out by the
//! orphan rule, so generated handlers call [`response`] (or
//! [`respond`](crate::respond), which also runs the response checks).

use axum::http::StatusCode;
use axum::response::Response;

/// A response enum of an operation: one variant per status (and media type)
/// the spec documents. Generated code implements it with one match arm per
/// variant in each method.
pub trait Responses {
    /// The HTTP status this response is sent with.
    fn status(&self) -> StatusCode;

    /// The response sent with `status`, which is [`Responses::status`] of
    /// `self` (a variant for a range or `default` carries its own).
    fn send(self, status: StatusCode) -> Response;
}

/// A response already built (a handler's refusal answered as documented,
/// a test's hand-made answer) is sent as it is.
impl Responses for Response {
    fn status(&self) -> StatusCode {
        Response::status(self)
    }

    fn send(self, _status: StatusCode) -> Response {
        self
    }
}

/// `response` as an axum response, sent with the status of its variant.
pub fn response(response: impl Responses) -> Response {
    let status = response.status();
    response.send(status)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use axum::http::header::CONTENT_TYPE;
    use axum::response::IntoResponse;

    use super::*;

    /// A response enum written the way the generator writes one: a fixed
    /// status, a status carried by a `default` variant, a text body.
    enum Answer {
        Created,
        Default(StatusCode, &'static str),
    }

    impl Responses for Answer {
        fn status(&self) -> StatusCode {
            match self {
                Self::Created => StatusCode::CREATED,
                Self::Default(status, _) => *status,
            }
        }

        fn send(self, status: StatusCode) -> Response {
            match self {
                Self::Created => status.into_response(),
                Self::Default(_, text) => (status, text).into_response(),
            }
        }
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1024).await;
        String::from_utf8(bytes.unwrap().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn each_variant_is_sent_with_its_own_status() {
        let created = response(Answer::Created);
        assert_eq!(created.status(), StatusCode::CREATED);
        assert_eq!(text(created).await, "");
        let teapot = response(Answer::Default(StatusCode::IM_A_TEAPOT, "short and stout"));
        assert_eq!(teapot.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(text(teapot).await, "short and stout");
    }

    #[tokio::test]
    async fn a_built_response_passes_unchanged() {
        let mut built = (StatusCode::ACCEPTED, "queued").into_response();
        let value = HeaderValue::from_static("text/x-note");
        built.headers_mut().insert(CONTENT_TYPE, value.clone());
        assert_eq!(Responses::status(&built), StatusCode::ACCEPTED);
        let sent = response(built);
        assert_eq!(sent.status(), StatusCode::ACCEPTED);
        assert_eq!(sent.headers().get(CONTENT_TYPE), Some(&value));
        assert_eq!(text(sent).await, "queued");
    }
}
