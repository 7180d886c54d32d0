//! What every generated response enum shares: it knows its status and how
//! each variant is sent; turning it into an axum [`Response`] is done here.
//!
//! A blanket `impl<R: Responses> IntoResponse for R` is ruled out by the
//! orphan rule, so generated handlers call [`response`] (or
//! [`respond`](crate::respond), which also runs the response checks).

use axum::http::StatusCode;
use axum::response::Response;

/// A response enum of an operation: one variant per status (and media type)
/// the spec documents. Generated code derives it
/// ([`derive@Responses`](derive@crate::Responses)): one `#[response(...)]` per variant.
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

    /// A response enum as the generator writes one now: derived.
    mod derived {
        use axum::http::HeaderMap;
        use axum::http::header::CONTENT_TYPE;

        use super::text;
        use crate::prelude::*;
        use crate::{BuiltinError, BuiltinErrors, JsonBody, TextBody, response};

        type Errors = BuiltinErrors;

        #[derive(Debug, Responses)]
        enum Answer {
            #[response(status = 201)]
            Created,
            #[response(status = 200, json, headers)]
            Ok(JsonBody<Vec<u32>>, HeaderMap),
            #[response(status = 203, media = "text/x-note")]
            Note(TextBody),
            #[response(status = 404, error)]
            NotFound(BuiltinError),
            #[response(status = 599, error)]
            Odd(BuiltinError),
            #[response(status = "4XX", error)]
            ClientError(StatusCode, BuiltinError),
            #[response(status = "default", media = "text/plain")]
            Default(StatusCode, TextBody),
        }

        fn error(code: &str) -> BuiltinError {
            BuiltinError {
                status: 0,
                code: code.to_string(),
                message: "no such thing".to_string(),
            }
        }

        async fn sent(answer: Answer) -> (StatusCode, Option<String>, String) {
            let r = response(answer);
            let media = r
                .headers()
                .get(CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_string());
            (r.status(), media, text(r).await)
        }

        #[tokio::test]
        async fn each_variant_is_sent_with_its_status_and_body_kind() {
            let json = Some("application/json".to_string());
            assert_eq!(
                sent(Answer::Created).await,
                (StatusCode::CREATED, None, String::new())
            );
            let mut headers = HeaderMap::new();
            headers.insert("x-rate-limit", "7".parse().unwrap());
            let ok = response(Answer::Ok(JsonBody::from(vec![1, 2]), headers));
            assert_eq!(ok.headers()["x-rate-limit"], "7");
            assert_eq!(ok.headers()[CONTENT_TYPE], "application/json");
            assert_eq!(
                (ok.status(), text(ok).await),
                (StatusCode::OK, "[1,2]".to_string())
            );
            assert_eq!(
                sent(Answer::Note(TextBody::from("hi"))).await,
                (
                    StatusCode::NON_AUTHORITATIVE_INFORMATION,
                    Some("text/x-note".to_string()),
                    "hi".to_string()
                )
            );
            // An error body's `status` is the status it is sent with.
            let not_found = r#"{"status":404,"code":"nope","message":"no such thing"}"#;
            assert_eq!(
                sent(Answer::NotFound(error("nope"))).await,
                (StatusCode::NOT_FOUND, json.clone(), not_found.to_string())
            );
            assert_eq!(sent(Answer::Odd(error("odd"))).await.0.as_u16(), 599);
            let teapot = sent(Answer::ClientError(StatusCode::IM_A_TEAPOT, error("tea"))).await;
            assert_eq!(teapot.0, StatusCode::IM_A_TEAPOT);
            assert!(teapot.2.contains(r#""status":418"#), "{}", teapot.2);
            assert_eq!(
                sent(Answer::Default(
                    StatusCode::ACCEPTED,
                    TextBody::from("later")
                ))
                .await,
                (
                    StatusCode::ACCEPTED,
                    Some("text/plain".to_string()),
                    "later".to_string()
                )
            );
        }

        /// A range variant given a status outside its range is a 500 in the
        /// error format, and says nothing of the body it was given.
        #[tokio::test]
        async fn a_range_variant_outside_its_range_is_a_500() {
            let (status, _, body) =
                sent(Answer::ClientError(StatusCode::OK, error("secret-code"))).await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(!body.contains("secret-code"), "{body}");
            assert!(body.contains(r#""status":500"#), "{body}");
        }
    }
}
