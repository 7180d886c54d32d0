//! Generated schema checks applied at the edge: request bodies and
//! parameters before the implementation runs, responses after it.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::form::{FormBody, FormError, form_body};
use crate::params::{body_rejection, schema_mismatch};
use crate::{Check, Direction, ErrorFormat, Pointer, Rejection, RejectionKind};

/// A generated response check: the documented schema of the body sent with
/// `status`, applied to `body` (`Ok` for statuses without a JSON schema).
pub type ResponseCheck = fn(status: u16, body: &Value) -> Result<(), crate::Violation>;

/// The JSON request body for schema `schema` as a `T`, after `check` (when
/// given) accepted it; 422 naming the JSON pointer and the rule otherwise.
pub fn checked_json<T: DeserializeOwned>(
    body: Result<Json<Value>, JsonRejection>,
    schema: &str,
    check: Option<Check>,
) -> Result<T, Rejection> {
    let Json(value) = body.map_err(|r| body_rejection(r, schema))?;
    if let Some(check) = check {
        check_body(&value, schema, check)?;
    }
    serde_json::from_value(value).map_err(|e| {
        Rejection::new(
            RejectionKind::SchemaMismatch,
            schema_mismatch(&e.to_string(), schema),
        )
    })
}

/// The form request body for schema `schema` as a `T`, after `check` (when
/// given) accepted it: the refusal is a JSON body's (422 naming the JSON
/// pointer and the rule, never the value).
///
/// The check runs on the decoded value serialized to JSON, not on a JSON
/// object built from the form's pairs: every form value is text, so the
/// pairs would break each `type: integer`, `number` or `boolean` of the
/// schema, while the typed value holds what the schema describes (`count=7`
/// as the number 7) and is what the implementation gets. A value that does
/// not serialize (no typify type does that) is checked as `null`, and so
/// refused rather than let through unchecked.
pub fn checked_form<T: Serialize>(
    body: Result<FormBody<T>, FormError>,
    schema: &str,
    check: Option<Check>,
) -> Result<T, Rejection> {
    let typed = form_body(body, schema)?;
    if let Some(check) = check {
        let value = serde_json::to_value(&typed).unwrap_or(Value::Null);
        check_body(&value, schema, check)?;
    }
    Ok(typed)
}

/// Runs a request body's `check`; a violation is refused as a schema
/// mismatch naming schema `schema`, the JSON pointer and the rule.
fn check_body(value: &Value, schema: &str, check: Check) -> Result<(), Rejection> {
    check(value, &Pointer::Root, Direction::Request).map_err(|v| {
        Rejection::new(
            RejectionKind::SchemaMismatch,
            format!("the request body does not match the `{schema}` schema: {v}"),
        )
    })
}

/// The JSON request body of `request` for schema `schema` as a `T`: with
/// `check`, decoded into a `serde_json::Value`, checked, then converted
/// ([`checked_json`]); without, decoded straight into `T` as before the
/// checks existed (so turning them off costs nothing). A body over `limit`
/// bytes is refused with 413.
pub async fn json_request<T: DeserializeOwned>(
    mut request: Request,
    limit: usize,
    schema: &str,
    check: Option<Check>,
) -> Result<T, Rejection> {
    crate::params::limit_body(&mut request, limit);
    match check {
        Some(_) => checked_json(Json::from_request(request, &()).await, schema, check),
        None => crate::json_body(Json::from_request(request, &()).await, schema),
    }
}

/// The form request body of `request` for schema `schema` as a `T`,
/// checked by `check` when given ([`checked_form`]); over `limit` bytes, 413.
pub async fn form_request<T: DeserializeOwned + Serialize>(
    mut request: Request,
    limit: usize,
    schema: &str,
    check: Option<Check>,
) -> Result<T, Rejection> {
    crate::params::limit_body(&mut request, limit);
    checked_form(FormBody::from_request(request, &()).await, schema, check)
}

/// Checks parameter `name` (in `place`: "path", "query", "header") against
/// its schema; a violation is refused as `kind` (400) naming the parameter,
/// the pointer inside it (for arrays) and the rule.
pub fn check_param<T: Serialize + ?Sized>(
    kind: RejectionKind,
    place: &str,
    name: &str,
    value: &T,
    check: Check,
) -> Result<(), Rejection> {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    check(&value, &Pointer::Root, Direction::Request).map_err(|v| {
        Rejection::new(
            kind,
            format!("{place} parameter `{name}`{}: {}", v.pointer, v.rule),
        )
    })
}

/// Checks a JSON response (`Content-Type` `application/json` or `+json`)
/// against the schema `check` documents for its status. A body that breaks
/// it is logged with `operation` and the JSON pointer, and replaced by a
/// 500 in error format `E`; any other response is passed on unchanged.
pub async fn check_response<E: ErrorFormat>(
    operation: &'static str,
    response: impl IntoResponse,
    check: ResponseCheck,
) -> Response {
    let response = response.into_response();
    if !is_json(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        tracing::error!(
            operation,
            "the response body could not be read for its schema check"
        );
        return E::reject(Rejection::response_encoding());
    };
    let outcome = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => check(parts.status.as_u16(), &value).map_err(|v| (v.pointer, v.rule)),
        Err(_) => Err((String::new(), "must be JSON".into())),
    };
    match outcome {
        Ok(()) => Response::from_parts(parts, Body::from(bytes)),
        Err((pointer, rule)) => {
            tracing::error!(
                operation,
                status = parts.status.as_u16(),
                pointer = %pointer,
                rule = %rule,
                "the response breaks its documented schema"
            );
            E::reject(Rejection::new(
                RejectionKind::ResponseEncoding,
                "the response does not match its documented schema",
            ))
        }
    }
}

/// Whether a response carries JSON.
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BuiltinErrors, JsonBody, Violation};
    use axum::http::StatusCode;
    use serde_json::json;

    fn positive(v: &Value, at: &Pointer<'_>, _: Direction) -> Result<(), Violation> {
        let n = at.key("n");
        match v.get("n").and_then(Value::as_i64) {
            Some(x) if x > 0 => Ok(()),
            _ => Err(n.violation("must be > 0")),
        }
    }

    fn ok_responses(status: u16, v: &Value) -> Result<(), Violation> {
        match status {
            200 => positive(v, &Pointer::Root, Direction::Response),
            _ => Ok(()),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct N {
        n: i64,
    }

    #[test]
    fn bodies_are_checked_before_decoding_and_never_echoed() {
        let bad = checked_json::<N>(Ok(Json(json!({"n": -777}))), "N", Some(positive)).unwrap_err();
        assert_eq!(bad.kind(), RejectionKind::SchemaMismatch);
        assert_eq!(
            bad.message(),
            "the request body does not match the `N` schema: /n: must be > 0"
        );
        assert!(!bad.message().contains("777"));
        let good: N = checked_json(Ok(Json(json!({"n": 5}))), "N", Some(positive)).unwrap();
        assert_eq!(good.n, 5);
        // Without the check only the type is enforced.
        let off: N = checked_json(Ok(Json(json!({"n": -1}))), "N", None).unwrap();
        assert_eq!(off.n, -1);
    }

    #[derive(Debug, serde::Deserialize, serde::Serialize)]
    struct Form {
        n: i64,
        note: Option<String>,
    }

    /// A form decoded as a real request's would be.
    fn form(text: &str) -> Result<FormBody<Form>, FormError> {
        crate::from_form(text.as_bytes())
            .map(FormBody)
            .map_err(|_| FormError::Mismatch)
    }

    #[test]
    fn forms_are_checked_as_their_typed_value_and_never_echoed() {
        let bad = checked_form(form("n=-777&note=s3cret"), "F", Some(positive)).unwrap_err();
        assert_eq!(bad.kind(), RejectionKind::SchemaMismatch);
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            bad.message(),
            "the request body does not match the `F` schema: /n: must be > 0"
        );
        assert!(!bad.message().contains("777") && !bad.message().contains("s3cret"));
        // The check sees `n` as the number the form's text decodes into.
        let good = checked_form(form("n=5&note=x"), "F", Some(positive)).unwrap();
        assert_eq!((good.n, good.note.as_deref()), (5, Some("x")));
        // Without the check only the type is enforced.
        let off = checked_form(form("n=-1"), "F", None).unwrap();
        assert_eq!(off.n, -1);
        // A form that does not decode is refused as before, check or not.
        let typed = checked_form(form("n=x"), "F", Some(positive)).unwrap_err();
        assert_eq!(typed.message(), "the form does not match the `F` schema");
    }

    /// A request carrying `body` sent as `media`.
    fn request(media: &str, body: &'static str) -> Request {
        Request::builder()
            .header(header::CONTENT_TYPE, media)
            .body(Body::from(body))
            .unwrap()
    }

    #[tokio::test]
    async fn form_requests_are_read_as_forms_then_checked() {
        let media = "application/x-www-form-urlencoded";
        let good: Form = form_request(request(media, "n=5&note=x"), 64, "F", Some(positive))
            .await
            .unwrap();
        assert_eq!((good.n, good.note.as_deref()), (5, Some("x")));
        let bad = form_request::<Form>(request(media, "n=-777"), 64, "F", Some(positive))
            .await
            .unwrap_err();
        assert_eq!(
            bad.message(),
            "the request body does not match the `F` schema: /n: must be > 0"
        );
        let off: Form = form_request(request(media, "n=-1"), 64, "F", None)
            .await
            .unwrap();
        assert_eq!(off.n, -1);
        // JSON sent where a form is expected: 415, whatever the check.
        let json = form_request::<Form>(request("application/json", "{\"n\":5}"), 64, "F", None)
            .await
            .unwrap_err();
        assert_eq!(json.kind(), RejectionKind::UnsupportedMediaType);
    }

    #[tokio::test]
    async fn json_and_form_readers_refuse_bodies_over_their_limit_with_413() {
        let (json, form) = ("{\"n\":5,\"note\":\"s3cret\"}", "n=5&note=s3cret");
        let read_json =
            |limit| json_request::<Form>(request("application/json", json), limit, "F", None);
        assert_eq!(read_json(json.len()).await.unwrap().n, 5);
        let over = read_json(json.len() - 1).await.unwrap_err();
        assert_eq!(
            (over.kind(), over.message()),
            (
                RejectionKind::BodyTooLarge,
                "the request body is larger than this service accepts"
            )
        );
        // The check does not change the limit.
        let checked =
            json_request::<Form>(request("application/json", json), 4, "F", Some(positive));
        assert_eq!(
            checked.await.unwrap_err().kind(),
            RejectionKind::BodyTooLarge
        );
        let media = "application/x-www-form-urlencoded";
        let read_form = |limit| form_request::<Form>(request(media, form), limit, "F", None);
        assert_eq!(read_form(form.len()).await.unwrap().n, 5);
        let over = read_form(form.len() - 1).await.unwrap_err();
        assert_eq!(over.kind(), RejectionKind::BodyTooLarge);
        assert!(!over.message().contains("s3cret"));
    }

    #[test]
    fn parameters_name_place_and_rule() {
        let r = check_param(
            RejectionKind::BadParameter,
            "query",
            "page",
            &json!({"n": 0}),
            positive,
        )
        .unwrap_err();
        assert_eq!(r.message(), "query parameter `page`/n: must be > 0");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }

    async fn body_text(r: Response) -> String {
        let b = axum::body::to_bytes(r.into_body(), 4096).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn responses_breaking_their_schema_become_500() {
        let sent = Errors::json(StatusCode::OK, JsonBody::from(json!({"n": -31337})));
        let r = check_response::<Errors>("op", sent, ok_responses).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = body_text(r).await;
        assert!(text.contains("internal_error"), "{text}");
        assert!(!text.contains("31337"), "{text}");
        // Raw bytes are checked alike.
        let raw = JsonBody::<Value>::Raw(axum::body::Bytes::from_static(b"{\"n\":0}"));
        let r =
            check_response::<Errors>("op", Errors::json(StatusCode::OK, raw), ok_responses).await;
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[tokio::test]
    async fn valid_and_undocumented_responses_pass_unchanged() {
        let sent = Errors::json(StatusCode::OK, JsonBody::from(json!({"n": 2})));
        let r = check_response::<Errors>("op", sent, ok_responses).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(body_text(r).await, "{\"n\":2}");
        let other = Errors::json(StatusCode::CREATED, JsonBody::from(json!({"n": -2})));
        let r = check_response::<Errors>("op", other, ok_responses).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let text = (StatusCode::OK, "n = -2").into_response();
        let r = check_response::<Errors>("op", text, ok_responses).await;
        assert_eq!(body_text(r).await, "n = -2");
    }

    type Errors = BuiltinErrors;
}
