//! What a generated handler does around its call of the implementation, as
//! the router's options decide: the schema checks of parameters and bodies
//! before it ([`RouterOptions::validate_requests`]) and of the response
//! after it ([`RouterOptions::validate_responses`]).

use axum::response::Response;
use serde::Serialize;

use crate::{
    Check, ErrorFormat, Rejection, RejectionKind, ResponseCheck, Responses, RouterOptions,
    check_param, check_response,
};

/// `check` when the options ask for request checks, else `None` (what
/// [`json_request`](crate::json_request) and
/// [`checked_json`](crate::checked_json) take).
pub fn request_check(options: &RouterOptions, check: Check) -> Option<Check> {
    options.validate_requests.then_some(check)
}

/// [`check_param`] on `value` when the options ask for request checks;
/// `None` (an optional parameter the request left out) passes.
pub fn param_check<T: Serialize + ?Sized>(
    options: &RouterOptions,
    kind: RejectionKind,
    place: &str,
    name: &str,
    value: Option<&T>,
    check: Check,
) -> Result<(), Rejection> {
    match value {
        Some(value) if options.validate_requests => check_param(kind, place, name, value, check),
        _ => Ok(()),
    }
}

/// The implementation's `response` to `operation`: checked against its
/// documented schemas by [`check_response`] when the options ask for
/// response checks, else sent as it is.
///
/// The response enum becomes a [`Response`] before the future is made, so
/// the future holds the response, not the (often larger) enum.
pub fn respond<E: ErrorFormat>(
    options: &RouterOptions,
    operation: &'static str,
    response: impl Responses,
    check: ResponseCheck,
) -> impl Future<Output = Response> + Send + 'static {
    let response = crate::response(response);
    let checking = options.validate_responses;
    async move {
        if checking {
            check_response::<E>(operation, response, check).await
        } else {
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuiltinErrors, Direction, Pointer, Violation};
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    use serde_json::Value;

    /// Accepts only the number 1, anywhere.
    fn only_one(value: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
        if value == &Value::from(1) {
            Ok(())
        } else {
            Err(at.violation("must be 1"))
        }
    }

    /// Every response status must carry `{"ok": true}`.
    fn ok_true(_: u16, body: &Value) -> Result<(), Violation> {
        if body.get("ok") == Some(&Value::Bool(true)) {
            Ok(())
        } else {
            Err(Pointer::Root.violation("must have `ok: true`"))
        }
    }

    fn options(requests: bool, responses: bool) -> RouterOptions {
        RouterOptions {
            validate_requests: requests,
            validate_responses: responses,
            ..RouterOptions::default()
        }
    }

    #[test]
    fn request_checks_follow_the_options() {
        assert!(request_check(&options(true, false), only_one).is_some());
        assert!(request_check(&options(false, true), only_one).is_none());
    }

    #[test]
    fn a_parameter_is_checked_only_when_present_and_asked_for() {
        let kind = RejectionKind::BadParameter;
        let on = options(true, false);
        let refused = param_check(&on, kind, "query", "n", Some(&2), only_one).unwrap_err();
        assert_eq!(refused.kind(), kind);
        assert_eq!(refused.message(), "query parameter `n`: must be 1");
        assert!(param_check(&on, kind, "query", "n", Some(&1), only_one).is_ok());
        assert!(param_check::<i64>(&on, kind, "query", "n", None, only_one).is_ok());
        let off = options(false, true);
        assert!(param_check(&off, kind, "query", "n", Some(&2), only_one).is_ok());
    }

    fn json(body: &str) -> Response {
        json_with(StatusCode::OK, body)
    }

    fn json_with(status: StatusCode, body: &str) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }

    /// A response enum: `Good` is sent as 200 `{"ok":true}`, `Bad` as 201
    /// `{"ok":false}`.
    enum Reply {
        Good,
        Bad,
    }

    impl Responses for Reply {
        fn status(&self) -> StatusCode {
            match self {
                Self::Good => StatusCode::OK,
                Self::Bad => StatusCode::CREATED,
            }
        }

        fn send(self, status: StatusCode) -> Response {
            let ok = matches!(self, Self::Good);
            json_with(status, &format!(r#"{{"ok":{ok}}}"#))
        }
    }

    #[tokio::test]
    async fn a_response_enum_is_sent_with_its_variant_status_and_checked() {
        let (checking, trusting) = (options(false, true), options(true, false));
        let good = respond::<BuiltinErrors>(&checking, "op", Reply::Good, ok_true).await;
        assert_eq!(good.status(), StatusCode::OK);
        let refused = respond::<BuiltinErrors>(&checking, "op", Reply::Bad, ok_true).await;
        assert_eq!(refused.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let sent = respond::<BuiltinErrors>(&trusting, "op", Reply::Bad, ok_true).await;
        assert_eq!(sent.status(), StatusCode::CREATED);
        let body = axum::body::to_bytes(sent.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"ok":false}"#);
    }

    #[tokio::test]
    async fn a_response_is_checked_only_when_asked_for() {
        let (checking, trusting) = (options(false, true), options(true, false));
        let bad = r#"{"ok":false}"#;
        let checked = respond::<BuiltinErrors>(&checking, "op", json(bad), ok_true).await;
        assert_eq!(checked.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let sent = respond::<BuiltinErrors>(&trusting, "op", json(bad), ok_true).await;
        assert_eq!(sent.status(), StatusCode::OK);
        let body = axum::body::to_bytes(sent.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], bad.as_bytes());
        let good = respond::<BuiltinErrors>(&checking, "op", json(r#"{"ok":true}"#), ok_true);
        assert_eq!(good.await.status(), StatusCode::OK);
    }
}
