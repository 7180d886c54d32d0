//! JSON response bodies: a value, or bytes already serialized as that value.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Rejection;

/// The JSON body of a documented response.
///
/// `Raw` lets an implementation answer with bytes it serialized earlier (a
/// read cache, say) while the request still goes through the generated
/// router. Debug builds check that raw bytes decode as `T`.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonBody<T> {
    /// A value, serialized when sent.
    Value(T),
    /// The JSON text of a `T`, sent as is.
    Raw(Bytes),
}

impl<T> From<T> for JsonBody<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

impl<T: Serialize + DeserializeOwned> JsonBody<T> {
    /// Serializes a value into a `Raw` body.
    pub fn raw(value: &T) -> Result<Self, serde_json::Error> {
        serde_json::to_vec(value).map(|v| Self::Raw(v.into()))
    }

    /// The response with `status`, or a rejection if the value cannot be encoded.
    pub fn respond(self, status: StatusCode) -> Result<Response, Rejection> {
        let bytes = match self {
            Self::Value(value) => serde_json::to_vec(&value)
                .map_err(|_| Rejection::response_encoding())?
                .into(),
            Self::Raw(bytes) => {
                debug_assert!(
                    serde_json::from_slice::<T>(&bytes).is_ok(),
                    "JsonBody::Raw holds bytes that do not decode as {}",
                    std::any::type_name::<T>()
                );
                bytes
            }
        };
        Ok(json_bytes(status, bytes))
    }
}

/// A JSON response from serialized bytes, with the headers `axum::Json` sets.
///
/// Built directly: going through `(status, headers, bytes).into_response()`
/// would set `Content-Type` twice (octet-stream, then JSON).
pub(crate) fn json_bytes(status: StatusCode, bytes: Bytes) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Point {
        x: i32,
    }

    async fn body_of(response: Response) -> Bytes {
        axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn value_and_raw_send_the_same_bytes() {
        let value = JsonBody::from(Point { x: 3 })
            .respond(StatusCode::OK)
            .unwrap();
        let raw = JsonBody::raw(&Point { x: 3 })
            .unwrap()
            .respond(StatusCode::OK)
            .unwrap();
        assert_eq!(value.headers(), raw.headers());
        assert_eq!(body_of(value).await, body_of(raw).await);
    }

    #[tokio::test]
    async fn json_responses_carry_one_json_content_type_and_the_status() {
        let r = JsonBody::from(Point { x: 3 })
            .respond(StatusCode::CREATED)
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let types: Vec<_> = r.headers().get_all(header::CONTENT_TYPE).iter().collect();
        assert_eq!(types, ["application/json"]);
        assert_eq!(r.headers().len(), 1);
        assert_eq!(&body_of(r).await[..], b"{\"x\":3}");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "do not decode")]
    fn raw_bytes_of_another_shape_are_caught_in_debug_builds() {
        let _ = JsonBody::<Point>::Raw(Bytes::from_static(b"{\"y\":1}")).respond(StatusCode::OK);
    }
}
