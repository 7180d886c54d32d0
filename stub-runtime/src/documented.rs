//! Answers in the schema an operation documents for a status.
//!
//! The router's own answers (a refused parameter or body, missing
//! credentials, a skeleton's `501`) normally use the spec-wide error format
//! ([`crate::ErrorFormat`]). An operation may document something else for
//! that status (its own `Problem` schema, `text/plain`, a `4XX` range or a
//! `default` response), or not document the status at all. The generator
//! then describes, per operation, what to answer instead: a [`Documented`]
//! table of [`Answer`]s, built at generation time from the operation's
//! responses. Nothing of the request is echoed: the only text that varies
//! is the rejection's message (fixed text plus names from the spec).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{BuiltinError, ErrorFormat, Rejection, error_json};

/// What an operation answers instead of the spec-wide error format, per
/// status the router would refuse with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Documented {
    answers: &'static [Answer],
}

/// One documented answer: what the router answers for a refusal with
/// status `refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// The status the router means (`400` for a bad parameter, `501` for a
    /// skeleton's operation without an example).
    pub refused: u16,
    /// The documented status it answers with (`refused`, or another
    /// documented client error when the operation does not document it).
    pub status: u16,
    /// The body.
    pub body: AnswerBody,
}

/// The body of an [`Answer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerBody {
    /// The spec-wide error format, with another status and its error
    /// `code` (`not_found` for a `400` answered as the documented `404`).
    Format {
        /// The error code of the documented status.
        code: &'static str,
    },
    /// The message as text, sent as `media` (`text/plain`).
    Text {
        /// The documented media type.
        media: &'static str,
    },
    /// A JSON body valid against the documented schema: `template` (JSON
    /// text, its constants chosen at generation time) with `slots` filled
    /// in at run time, sent as `media`.
    Json {
        /// The documented media type (`application/problem+json`, ...).
        media: &'static str,
        /// The body's JSON text.
        template: &'static str,
        /// The places in `template` that take the message or the time.
        slots: &'static [Slot],
    },
}

/// A place in a JSON template filled in at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// JSON pointer of the string to replace.
    pub pointer: &'static str,
    /// What goes there.
    pub fill: Fill,
}

/// What a [`Slot`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// The rejection's message, cut to `max_chars` characters (the
    /// schema's `maxLength`).
    Message {
        /// The most characters the schema allows.
        max_chars: u32,
    },
    /// The current time, RFC 3339 (`format: date-time`).
    Now,
}

impl Documented {
    /// No documented answers: everything in the spec-wide format.
    pub const NONE: Self = Self { answers: &[] };

    /// A table of answers (at most one per `refused` status).
    pub const fn new(answers: &'static [Answer]) -> Self {
        Self { answers }
    }

    /// The answer to `rejection`: the documented one for its status, else
    /// the spec-wide format `E`.
    pub fn reject<E: ErrorFormat>(&self, rejection: Rejection) -> Response {
        let Some(answer) = self.find(rejection.status()) else {
            return E::reject(rejection);
        };
        let status = answer.status();
        let response = match answer.body {
            AnswerBody::Format { code } => {
                match E::rejection_body(status, code, rejection.message()) {
                    Some(body) => E::error(status, body),
                    None => builtin_body(status, code, rejection.message()),
                }
            }
            body => body_response(status, body, rejection.message()),
        };
        rejection.finish(response)
    }

    /// Runs a handler's `steps` (reading the request, calling the
    /// implementation): their response, or their refusal answered by
    /// [`reject`](Self::reject).
    pub async fn run<E: ErrorFormat>(
        &self,
        steps: impl Future<Output = Result<Response, Rejection>>,
    ) -> Response {
        steps
            .await
            .unwrap_or_else(|rejection| self.reject::<E>(rejection))
    }

    /// The documented answer with `refused`'s status and `message`, if
    /// there is one.
    pub fn answer<E: ErrorFormat>(&self, refused: StatusCode, message: &str) -> Option<Response> {
        let answer = self.find(refused)?;
        let status = answer.status();
        Some(match answer.body {
            AnswerBody::Format { code } => match E::rejection_body(status, code, message) {
                Some(body) => E::error(status, body),
                None => builtin_body(status, code, message),
            },
            body => body_response(status, body, message),
        })
    }

    fn find(&self, refused: StatusCode) -> Option<&Answer> {
        self.answers.iter().find(|a| a.refused == refused.as_u16())
    }
}

impl Answer {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST)
    }
}

/// The built-in error body, for a format that cannot express a code.
fn builtin_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = BuiltinError {
        status: status.as_u16(),
        code: code.to_string(),
        message: message.to_string(),
    };
    error_json(status, &body)
}

/// A text or JSON answer with `message` in it.
fn body_response(status: StatusCode, body: AnswerBody, message: &str) -> Response {
    let (media, bytes) = match body {
        AnswerBody::Format { .. } => unreachable!("the format's answers are built by the format"),
        AnswerBody::Text { media } => (media, message.as_bytes().to_vec()),
        AnswerBody::Json {
            media,
            template,
            slots,
        } => match filled(template, slots, message) {
            Some(bytes) => (media, bytes),
            None => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    };
    let mut response = (status, bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(media) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// `template` with its slots filled, as JSON bytes.
fn filled(template: &str, slots: &[Slot], message: &str) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_str(template).ok()?;
    for slot in slots {
        let text = match slot.fill {
            Fill::Message { max_chars } => message.chars().take(max_chars as usize).collect(),
            Fill::Now => chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        *value.pointer_mut(slot.pointer)? = serde_json::Value::String(text);
    }
    serde_json::to_vec(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RejectionKind;

    static PROBLEM: Documented = Documented::new(&[
        Answer {
            refused: 400,
            status: 400,
            body: AnswerBody::Json {
                media: "application/problem+json",
                template: r#"{"title":"Bad Request","status":400,"detail":"","at":""}"#,
                slots: &[
                    Slot {
                        pointer: "/detail",
                        fill: Fill::Message { max_chars: 12 },
                    },
                    Slot {
                        pointer: "/at",
                        fill: Fill::Now,
                    },
                ],
            },
        },
        Answer {
            refused: 415,
            status: 400,
            body: AnswerBody::Format {
                code: "bad_request",
            },
        },
        Answer {
            refused: 501,
            status: 500,
            body: AnswerBody::Text {
                media: "text/plain",
            },
        },
    ]);

    /// `run` passes the steps' response through, and answers a refusal
    /// the steps make with `?` (as a generated handler's steps do) from the
    /// table: here 415 becomes the documented 400 in the error format.
    #[tokio::test]
    async fn run_answers_a_refusal_of_its_steps_from_the_table() {
        let sent = PROBLEM
            .run::<crate::BuiltinErrors>(async { Ok(StatusCode::ACCEPTED.into_response()) })
            .await;
        assert_eq!(sent.status(), StatusCode::ACCEPTED);
        let refused = PROBLEM
            .run::<crate::BuiltinErrors>(async {
                let wrong: Result<(), Rejection> = Err(Rejection::new(
                    RejectionKind::UnsupportedMediaType,
                    "send JSON",
                ));
                wrong?;
                Ok(StatusCode::ACCEPTED.into_response())
            })
            .await;
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(text_of(refused).await.contains("bad_request"));
    }

    async fn text_of(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_documented_json_answer_fills_its_slots_and_cuts_the_message() {
        let r = PROBLEM.reject::<crate::BuiltinErrors>(Rejection::new(
            RejectionKind::BadParameter,
            "query parameter `q` is required",
        ));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body: serde_json::Value = serde_json::from_str(&text_of(r).await).unwrap();
        assert_eq!(body["title"], "Bad Request");
        assert_eq!(body["status"], 400);
        assert_eq!(body["detail"], "query parame");
        let at = body["at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    }

    #[tokio::test]
    async fn a_remapped_status_keeps_the_format() {
        let r = PROBLEM.reject::<crate::BuiltinErrors>(Rejection::new(
            RejectionKind::UnsupportedMediaType,
            "send JSON",
        ));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = serde_json::from_str(&text_of(r).await).unwrap();
        assert_eq!(body["status"], 400);
        assert_eq!(body["code"], "bad_request");
    }

    #[tokio::test]
    async fn undocumented_statuses_use_the_format_and_text_answers_are_text() {
        let r = PROBLEM.reject::<crate::BuiltinErrors>(Rejection::new(
            RejectionKind::SchemaMismatch,
            "bad body",
        ));
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
        let r = PROBLEM
            .answer::<crate::BuiltinErrors>(StatusCode::NOT_IMPLEMENTED, "not yet")
            .unwrap();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/plain");
        assert_eq!(text_of(r).await, "not yet");
        assert!(
            Documented::NONE
                .answer::<crate::BuiltinErrors>(StatusCode::NOT_IMPLEMENTED, "m")
                .is_none()
        );
    }
}
