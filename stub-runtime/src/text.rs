//! Text response bodies (`text/html`, `text/plain`, `application/yaml`, …).

use std::borrow::Cow;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The text body of a documented response: owned, or borrowed for the whole
/// program (a page or document built once), which is sent without copying.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TextBody(Cow<'static, str>);

impl TextBody {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&'static str> for TextBody {
    fn from(text: &'static str) -> Self {
        Self(Cow::Borrowed(text))
    }
}

impl From<String> for TextBody {
    fn from(text: String) -> Self {
        Self(Cow::Owned(text))
    }
}

impl From<Cow<'static, str>> for TextBody {
    fn from(text: Cow<'static, str>) -> Self {
        Self(text)
    }
}

/// `text/plain; charset=utf-8`, as for a `String`; the generated response
/// sets the documented media type instead.
impl IntoResponse for TextBody {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.0));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(response: Response) -> axum::body::Bytes {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
    }

    static PAGE: &str = "<!DOCTYPE html><p>static</p>";

    #[tokio::test]
    async fn a_static_text_is_sent_from_where_it_lives() {
        let body = body_of(TextBody::from(PAGE).into_response()).await;
        assert_eq!(body, PAGE.as_bytes());
        assert_eq!(body.as_ptr(), PAGE.as_ptr(), "sent without a copy");
    }

    #[tokio::test]
    async fn owned_and_borrowed_texts_send_the_same_response() {
        let owned = TextBody::from(PAGE.to_string()).into_response();
        let borrowed = TextBody::from(PAGE).into_response();
        assert_eq!(owned.headers(), borrowed.headers());
        assert_eq!(
            owned.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(body_of(owned).await, body_of(borrowed).await);
    }
}
