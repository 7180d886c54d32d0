//! The error format of a spec's own error schema (required `status`, `code`
//! and `message`), filled through serde: a generated crate only names the
//! schema's type and its `code`'s type
//! (`type Errors = SchemaErrors<types::ApiError, types::ApiErrorCode>`).
//!
//! Going through serde rather than a struct literal lets the schema have
//! properties of its own beside the three (optional ones stay unset) and
//! `status` be of any integer type.

use std::marker::PhantomData;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{ErrorFormat, error_json};

/// Error format of error schema `B`, whose `code` is a `C`: what the router
/// refuses, and the error responses a response enum or
/// [`SchemaErrors::response`] sends, are `B` bodies whose `status` is the
/// HTTP status they are sent with.
pub struct SchemaErrors<B, C>(PhantomData<fn() -> (B, C)>);

impl<B, C> std::fmt::Debug for SchemaErrors<B, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaErrors")
    }
}

/// The three properties as JSON.
fn fields(status: StatusCode, code: impl Serialize, message: &str) -> Value {
    json!({ "status": status.as_u16(), "code": code, "message": message })
}

impl<B: Serialize + DeserializeOwned + 'static, C: 'static> ErrorFormat for SchemaErrors<B, C> {
    type Body = B;

    /// `None` when the schema does not take the body (its `code` enum
    /// lacks `code`, or it requires more than the three properties).
    fn rejection_body(status: StatusCode, code: &'static str, message: &str) -> Option<B> {
        serde_json::from_value(fields(status, code, message)).ok()
    }

    /// A body whose `status` differs is rebuilt with `status`; one the
    /// schema cannot hold that status in is left as it is.
    fn set_status(body: &mut B, status: StatusCode) {
        let Ok(Value::Object(mut object)) = serde_json::to_value(&*body) else {
            return;
        };
        let wanted = Value::from(status.as_u16());
        if object.get("status") == Some(&wanted) {
            return;
        }
        object.insert("status".into(), wanted);
        if let Ok(rebuilt) = serde_json::from_value(Value::Object(object)) {
            *body = rebuilt;
        }
    }
}

impl<B: Serialize + DeserializeOwned + 'static, C: Serialize> SchemaErrors<B, C> {
    /// An error response with `code` (of the schema's `code` type) and
    /// `message`, its `status` the status it is sent with. Should the
    /// schema require more than the three, the three are sent as they are.
    pub fn response(status: StatusCode, code: C, message: impl Into<String>) -> Response {
        let fields = fields(status, code, &message.into());
        match serde_json::from_value::<B>(fields.clone()) {
            Ok(body) => error_json(status, &body),
            Err(_) => error_json(status, &fields),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Code {
        NotFound,
        Conflict,
    }

    /// An error schema with a `code` enum, `status` as `i64`, and a
    /// property of its own.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Problem {
        status: i64,
        code: Code,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    }

    type Errors = SchemaErrors<Problem, Code>;

    fn problem(status: i64, detail: Option<&str>) -> Problem {
        Problem {
            status,
            code: Code::Conflict,
            message: "taken".into(),
            detail: detail.map(str::to_string),
        }
    }

    async fn body(response: Response) -> (StatusCode, String) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[test]
    fn a_rejection_fills_the_three_properties_when_the_schema_takes_the_code() {
        let body = Errors::rejection_body(StatusCode::NOT_FOUND, "not_found", "no such route");
        let expected = Problem {
            status: 404,
            code: Code::NotFound,
            message: "no such route".into(),
            detail: None,
        };
        assert_eq!(body, Some(expected));
        let outside_the_enum = Errors::rejection_body(StatusCode::BAD_REQUEST, "bad_request", "x");
        assert_eq!(outside_the_enum, None);
    }

    #[test]
    fn set_status_changes_only_the_status() {
        let mut body = problem(200, Some("kept"));
        Errors::set_status(&mut body, StatusCode::CONFLICT);
        assert_eq!(body, problem(409, Some("kept")));
        Errors::set_status(&mut body, StatusCode::CONFLICT);
        assert_eq!(body, problem(409, Some("kept")));
    }

    #[tokio::test]
    async fn an_error_response_carries_the_status_it_is_sent_with() {
        let (status, text) = body(Errors::error(StatusCode::CONFLICT, problem(500, None))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(
            text,
            r#"{"status":409,"code":"conflict","message":"taken"}"#
        );
        let response = Errors::response(StatusCode::CONFLICT, Code::Conflict, "taken");
        assert_eq!(body(response).await, (status, text));
    }

    #[tokio::test]
    async fn a_schema_requiring_more_still_gets_the_three() {
        #[derive(Serialize, Deserialize)]
        struct Strict {
            status: u16,
            code: String,
            message: String,
            trace: String,
        }
        let response = SchemaErrors::<Strict, &str>::response(StatusCode::GONE, "gone", "away");
        let (status, text) = body(response).await;
        assert_eq!(status, StatusCode::GONE);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({"status": 410, "code": "gone", "message": "away"})
        );
    }
}
