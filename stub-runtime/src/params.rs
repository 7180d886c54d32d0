//! Path parameters and request bodies, with rejections that never echo input.

use std::convert::Infallible;
use std::str::FromStr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{
    BytesRejection, JsonRejection, RawPathParamsRejection, StringRejection,
};
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};

use crate::{Rejection, RejectionKind};

/// The raw path parameters of a request, borrowed from the matched route
/// (percent-decoded, one `Arc<str>` clone each, no map).
pub fn path_values(
    path: Result<RawPathParams, RawPathParamsRejection>,
) -> Result<RawPathParams, Rejection> {
    path.map_err(|_| unreadable_path())
}

/// Why path parameters that are not valid percent-encoded UTF-8 are refused.
fn unreadable_path() -> Rejection {
    Rejection::new(
        RejectionKind::BadPathParameter,
        "the path parameters could not be read (invalid percent-encoding or UTF-8)",
    )
}

/// Parses path parameter `name`, found among `values` (name, value pairs
/// such as `&RawPathParams`), as `T`; `expected` names the type for the
/// message ("a UUID"). A missing parameter parses as the empty string.
pub fn path_param<'a, T: FromStr>(
    values: impl IntoIterator<Item = (&'a str, &'a str)>,
    name: &str,
    expected: &str,
) -> Result<T, Rejection> {
    values
        .into_iter()
        .find_map(|(key, value)| (key == name).then_some(value))
        .unwrap_or_default()
        .parse()
        .map_err(|_| {
            Rejection::new(
                RejectionKind::BadPathParameter,
                format!("path parameter `{name}` must be {expected}"),
            )
        })
}

/// The raw path parameters of a request as an extractor that cannot fail:
/// a request whose parameters could not be read is refused by [`get`]
/// (where the handler's error type answers it), not by the extractor.
///
/// [`get`]: PathValues::get
#[derive(Debug)]
pub struct PathValues(Result<RawPathParams, RawPathParamsRejection>);

impl<S: Send + Sync> FromRequestParts<S> for PathValues {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(RawPathParams::from_request_parts(parts, state).await))
    }
}

impl PathValues {
    /// Parses path parameter `name` as `T` ([`path_param`]); refused as
    /// [`path_values`] refuses when the parameters could not be read.
    pub fn get<T: FromStr>(&self, name: &str, expected: &str) -> Result<T, Rejection> {
        match &self.0 {
            Ok(values) => path_param(values, name, expected),
            Err(_) => Err(unreadable_path()),
        }
    }
}

/// The JSON request body for schema `schema`, or why it was refused.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>, schema: &str) -> Result<T, Rejection> {
    body.map(|Json(b)| b).map_err(|r| body_rejection(r, schema))
}

/// The text request body, or why it could not be read.
pub fn text_body(body: Result<String, StringRejection>) -> Result<String, Rejection> {
    body.map_err(string_rejection)
}

/// The raw request body, or why it could not be read.
pub fn bytes_body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Rejection> {
    body.map_err(bytes_rejection)
}

/// The text body of `request`, or why it could not be read (413 over
/// `limit` bytes).
pub async fn text_request(mut request: Request, limit: usize) -> Result<String, Rejection> {
    limit_body(&mut request, limit);
    text_body(String::from_request(request, &()).await)
}

/// The raw body of `request`, or why it could not be read (413 over
/// `limit` bytes).
pub async fn bytes_request(mut request: Request, limit: usize) -> Result<Bytes, Rejection> {
    limit_body(&mut request, limit);
    bytes_body(Bytes::from_request(request, &()).await)
}

/// Makes axum's body extractors read at most `limit` bytes of `request`
/// (their rejection says 413 above it), as `DefaultBodyLimit` would
/// layered on the router, without a second boxed route around every
/// route: each reader of a request body applies it
/// ([`RouterOptions::body_limit`](crate::RouterOptions::body_limit)).
pub(crate) fn limit_body(request: &mut Request, limit: usize) {
    axum::extract::DefaultBodyLimit::max(limit).apply(request);
}

/// Refuses a request that carries no body (no `Content-Type`, no
/// `Transfer-Encoding`, no or a zero `Content-Length`) where one is
/// required; an empty body sent with a media type is a body.
pub fn expect_body(headers: &HeaderMap) -> Result<(), Rejection> {
    let empty_length = headers
        .get(header::CONTENT_LENGTH)
        .is_none_or(|v| v.as_bytes() == b"0");
    let absent = empty_length
        && !headers.contains_key(header::CONTENT_TYPE)
        && !headers.contains_key(header::TRANSFER_ENCODING);
    if absent {
        Err(Rejection::new(
            RejectionKind::MalformedBody,
            "the request body is required",
        ))
    } else {
        Ok(())
    }
}

/// Why a JSON request body for schema `schema` was refused.
pub fn body_rejection(rejection: JsonRejection, schema: &str) -> Rejection {
    let (kind, message) = match rejection.status() {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            RejectionKind::UnsupportedMediaType,
            "the request body must be sent as application/json".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            RejectionKind::BodyTooLarge,
            "the request body is larger than this service accepts".to_string(),
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            RejectionKind::SchemaMismatch,
            schema_mismatch(&rejection.body_text(), schema),
        ),
        _ if matches!(rejection, JsonRejection::JsonSyntaxError(_)) => (
            RejectionKind::MalformedBody,
            "the request body is not valid JSON".to_string(),
        ),
        _ => (
            RejectionKind::MalformedBody,
            "the request body could not be read".to_string(),
        ),
    };
    Rejection::new(kind, message)
}

/// Checks that the request's `Content-Type` is `expected` (parameters such as
/// `charset` aside; a `type/*` range accepts any subtype).
pub fn expect_media_type(headers: &HeaderMap, expected: &str) -> Result<(), Rejection> {
    let essence = |m: &str| {
        m.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    };
    let want = essence(expected);
    let got = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(essence);
    let matches = got
        .as_deref()
        .is_some_and(|got| match want.strip_suffix("/*") {
            Some(kind) => got.split('/').next() == Some(kind),
            None => got == want,
        });
    if matches {
        Ok(())
    } else {
        Err(Rejection::new(
            RejectionKind::UnsupportedMediaType,
            format!("the request body must be sent as {want}"),
        ))
    }
}

/// Why a raw body could not be read.
pub fn bytes_rejection(rejection: BytesRejection) -> Rejection {
    read_failure(rejection.status())
}

/// Why a text body could not be read (too large, or not UTF-8).
pub fn string_rejection(rejection: StringRejection) -> Rejection {
    match rejection {
        StringRejection::InvalidUtf8(_) => Rejection::new(
            RejectionKind::MalformedBody,
            "the request body is not valid UTF-8",
        ),
        other => read_failure(other.status()),
    }
}

pub(crate) fn read_failure(status: StatusCode) -> Rejection {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Rejection::new(
            RejectionKind::BodyTooLarge,
            "the request body is larger than this service accepts",
        )
    } else {
        Rejection::new(
            RejectionKind::MalformedBody,
            "the request body could not be read",
        )
    }
}

/// "does not match": plus only what comes from the schema (a missing
/// property's name, the expected type), never the offending value.
///
/// serde's message puts the value (if any) before its own ending (`missing
/// field `NAME``, or `, expected WHAT`) and the position after it; the
/// value may contain those words too, so only the very end is read: the
/// position is cut only where it is exactly `at line N column M`, and what
/// is taken must look like schema words (no quotes or angle brackets).
pub(crate) fn schema_mismatch(detail: &str, schema: &str) -> String {
    let mut message = format!("the request body does not match the `{schema}` schema");
    let detail = match detail.rsplit_once(" at line ") {
        Some((head, position)) if is_position(position) => head,
        _ => detail,
    };
    let field = detail
        .strip_suffix('`')
        .and_then(|d| d.rsplit_once("missing field `"))
        .map(|(_, name)| name)
        .filter(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'))
        });
    let expected = detail
        .rsplit_once(", expected ")
        .map(|(_, what)| what)
        .filter(|what| {
            what.len() <= 200
                && what
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"<>\"'&\\".contains(c) || c == ' ')
        });
    if let Some(field) = field {
        message.push_str(&format!(": the property `{field}` is required"));
    } else if let Some(expected) = expected {
        message.push_str(&format!(
            ": a value has the wrong type or value (expected {expected})"
        ));
    } else {
        message.push_str(": a value has the wrong type or value");
    }
    message
}

/// `N column M`, the end of serde's position.
fn is_position(text: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    text.split_once(" column ")
        .is_some_and(|(line, column)| digits(line) && digits(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_path_parameters_name_the_type_not_the_value() {
        let values = [("other", "1"), ("user", "zzz-secret")];
        let r = path_param::<u32>(values, "user", "an integer").unwrap_err();
        assert_eq!(r.kind(), RejectionKind::BadPathParameter);
        assert_eq!(r.message(), "path parameter `user` must be an integer");
        let ok: u32 = path_param([("m", "x"), ("n", "7")], "n", "x").unwrap();
        assert_eq!(ok, 7);
        let missing = path_param::<u32>([("m", "7")], "n", "an integer").unwrap_err();
        assert_eq!(missing.message(), "path parameter `n` must be an integer");
    }

    #[test]
    fn bodies_unwrap_or_say_why_without_the_input() {
        assert_eq!(json_body(Ok(Json(3)), "N"), Ok(3));
        assert_eq!(text_body(Ok("t".into())), Ok("t".to_string()));
        assert_eq!(
            bytes_body(Ok(Bytes::from_static(b"b"))),
            Ok(Bytes::from_static(b"b"))
        );
    }

    /// What a route `/users/{id}` taking [`PathValues`] makes of `uri`:
    /// the `u32` `id`, or the rejection's message.
    async fn user_id(uri: &str) -> String {
        use tower::ServiceExt;
        async fn show(path: PathValues) -> String {
            match path.get::<u32>("id", "an integer") {
                Ok(id) => id.to_string(),
                Err(refused) => refused.message().to_string(),
            }
        }
        let app = axum::Router::new().route("/users/{id}", axum::routing::get(show));
        let request = Request::get(uri).body(axum::body::Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn path_values_parse_the_matched_segment_or_refuse_without_echo() {
        assert_eq!(user_id("/users/7").await, "7");
        assert_eq!(
            user_id("/users/s3cret").await,
            "path parameter `id` must be an integer"
        );
        assert_eq!(
            user_id("/users/%FF").await,
            "the path parameters could not be read (invalid percent-encoding or UTF-8)"
        );
    }

    #[tokio::test]
    async fn whole_requests_give_their_text_or_bytes_or_say_why() {
        let request = |body: &'static [u8]| Request::new(axum::body::Body::from(body));
        assert_eq!(
            text_request(request(b"t\xc3\xa9"), 64).await,
            Ok("t\u{e9}".into())
        );
        let bad = text_request(request(b"s3cret\xff"), 64).await.unwrap_err();
        assert_eq!(bad.kind(), RejectionKind::MalformedBody);
        assert_eq!(bad.message(), "the request body is not valid UTF-8");
        assert_eq!(
            bytes_request(request(b"b\xff"), 64).await,
            Ok(Bytes::from_static(b"b\xff"))
        );
    }

    #[tokio::test]
    async fn text_and_bytes_readers_refuse_bodies_over_their_limit_with_413() {
        let request = || Request::new(axum::body::Body::from("s3cret"));
        assert_eq!(text_request(request(), 6).await, Ok("s3cret".into()));
        assert_eq!(
            bytes_request(request(), 6).await,
            Ok(Bytes::from_static(b"s3cret"))
        );
        for over in [
            text_request(request(), 5).await.unwrap_err(),
            bytes_request(request(), 5).await.unwrap_err(),
        ] {
            assert_eq!(
                (over.kind(), over.message()),
                (
                    RejectionKind::BodyTooLarge,
                    "the request body is larger than this service accepts"
                )
            );
        }
    }

    #[test]
    fn a_required_body_is_absent_only_without_a_media_type_and_content() {
        let with = |pairs: &[(header::HeaderName, &'static str)]| {
            let mut h = HeaderMap::new();
            for (name, value) in pairs {
                h.insert(name, axum::http::HeaderValue::from_static(value));
            }
            expect_body(&h)
        };
        let absent = with(&[]).unwrap_err();
        assert_eq!(absent.kind(), RejectionKind::MalformedBody);
        assert_eq!(absent.message(), "the request body is required");
        assert!(with(&[(header::CONTENT_LENGTH, "0")]).is_err());
        assert!(with(&[(header::CONTENT_LENGTH, "3")]).is_ok());
        assert!(with(&[(header::TRANSFER_ENCODING, "chunked")]).is_ok());
        assert!(
            with(&[
                (header::CONTENT_TYPE, "text/csv"),
                (header::CONTENT_LENGTH, "0")
            ])
            .is_ok()
        );
    }

    #[test]
    fn media_types_are_compared_by_essence() {
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static(v),
            );
            h
        };
        assert!(expect_media_type(&with("text/plain; charset=utf-8"), "text/plain").is_ok());
        assert!(expect_media_type(&with("Text/Plain"), "text/plain").is_ok());
        assert!(expect_media_type(&with("image/png"), "image/*").is_ok());
        let r = expect_media_type(&with("application/json"), "text/plain").unwrap_err();
        assert_eq!(r.kind(), RejectionKind::UnsupportedMediaType);
        assert!(expect_media_type(&HeaderMap::new(), "text/plain").is_err());
    }

    #[test]
    fn schema_mismatch_keeps_schema_words_only() {
        let m = schema_mismatch(
            "Failed to deserialize: token_type: unknown variant `s3cret-value`, expected `UNKNOWN` or `Bearer` at line 1 column 9",
            "OAuthToken",
        );
        assert!(!m.contains("s3cret"), "{m}");
        assert!(m.ends_with("(expected `UNKNOWN` or `Bearer`)"), "{m}");
        let m = schema_mismatch(
            ": missing field `access_token` at line 1 column 2",
            "OAuthToken",
        );
        assert!(
            m.ends_with("the property `access_token` is required"),
            "{m}"
        );
        let m = schema_mismatch(
            "expires_in: invalid type: string \"tok, expected x\", expected i64 at line 1 column 30",
            "T",
        );
        assert!(!m.contains("tok"), "{m}");
        assert!(m.ends_with("(expected i64)"), "{m}");
    }

    /// Issue 21: a value that imitates serde's own ending and position.
    #[test]
    fn values_imitating_the_message_are_not_echoed() {
        let m = schema_mismatch(
            "Failed to deserialize the JSON body into the target type: token_type: unknown variant `x, expected <script>alert(1)</script> at line 1`, expected `UNKNOWN` or `Bearer` at line 1 column 80",
            "OAuthToken",
        );
        assert!(!m.contains("script"), "{m}");
        assert!(m.ends_with("(expected `UNKNOWN` or `Bearer`)"), "{m}");
        let m = schema_mismatch(
            "token_type: unknown variant `missing field `<b>`, expected <i>` at line 1",
            "OAuthToken",
        );
        assert!(!m.contains('<') && !m.contains("missing"), "{m}");
    }
}
