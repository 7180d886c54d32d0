//! Form bodies (`application/x-www-form-urlencoded`) decoded into their
//! types. Every form value is text; a field typed for any JSON value
//! (`serde_json::Number` for an integer of any size, an untagged enum of a
//! string and an integer) gets a number when the text is an integer, where
//! `serde_urlencoded` would give it text only and refuse it.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use serde::de::value::{Error, MapDeserializer};
use serde::de::{DeserializeOwned, Error as _, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use axum::response::{IntoResponse, Response};

use crate::params::read_failure;
use crate::{BuiltinErrors, Refused, Rejection, RejectionKind};

/// The media type of a form body.
const FORM: &str = "application/x-www-form-urlencoded";

/// Extracts a form body as a `T` (see the module docs).
pub struct FormBody<T>(pub T);

/// Why a form body was not read.
#[derive(Debug)]
pub enum FormError {
    /// The `Content-Type` is not a form's (415).
    MediaType(Rejection),
    /// The body could not be read.
    Read(BytesRejection),
    /// The form does not decode into the type.
    Mismatch,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for FormBody<T> {
    type Rejection = FormError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        crate::expect_media_type(request.headers(), FORM).map_err(FormError::MediaType)?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(FormError::Read)?;
        from_form(&bytes).map(Self).map_err(|_| FormError::Mismatch)
    }
}

/// The extractor's own answer; generated handlers take `Result<FormBody<T>,
/// FormError>` and answer [`form_body`]'s rejection in their error format.
impl IntoResponse for FormError {
    fn into_response(self) -> Response {
        Refused::<BuiltinErrors>::from(form_rejection(self, "form")).into_response()
    }
}

/// The form request body for schema `schema`, or why it was refused.
pub fn form_body<T>(body: Result<FormBody<T>, FormError>, schema: &str) -> Result<T, Rejection> {
    body.map(|FormBody(b)| b)
        .map_err(|r| form_rejection(r, schema))
}

/// Why a form request body for schema `schema` was refused.
pub fn form_rejection(rejection: FormError, schema: &str) -> Rejection {
    match rejection {
        FormError::MediaType(refused) => refused,
        FormError::Mismatch => Rejection::new(
            RejectionKind::SchemaMismatch,
            format!("the form does not match the `{schema}` schema"),
        ),
        FormError::Read(r) => read_failure(r.status()),
    }
}

/// Decodes `name=value&...` into a `T`.
pub fn from_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let pairs = form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), Text(v.into_owned())));
    T::deserialize(MapDeserializer::new(pairs))
}

/// One form value.
struct Text(String);

impl<'de> IntoDeserializer<'de, Error> for Text {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl Text {
    /// The value as a JSON number, when it is an integer (digits after an
    /// optional `-`: `1.0` and `1e3` stay text, as a form field typed for
    /// an integer of any size must refuse `0.5`).
    fn integer(&self) -> Option<serde_json::Number> {
        let digits = self.0.strip_prefix('-').unwrap_or(&self.0);
        let integer = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        integer
            .then(|| serde_json::from_str(&self.0).ok())
            .flatten()
    }

    fn parse<N: std::str::FromStr>(&self, what: &str) -> Result<N, Error> {
        self.0
            .parse()
            .map_err(|_| Error::custom(format!("a form value is not {what}")))
    }
}

macro_rules! parsed {
    ($($method:ident $ty:ty => $visit:ident,)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(self.parse::<$ty>(stringify!($ty))?)
        })*
    };
}

impl<'de> serde::Deserializer<'de> for Text {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.integer() {
            Some(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => visitor.visit_i64(i),
                (_, Some(u), _) => visitor.visit_u64(u),
                (_, _, Some(f)) => visitor.visit_f64(f),
                _ => visitor.visit_string(self.0),
            },
            None => visitor.visit_string(self.0),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    parsed! {
        deserialize_bool bool => visit_bool,
        deserialize_i8 i8 => visit_i8,
        deserialize_i16 i16 => visit_i16,
        deserialize_i32 i32 => visit_i32,
        deserialize_i64 i64 => visit_i64,
        deserialize_u8 u8 => visit_u8,
        deserialize_u16 u16 => visit_u16,
        deserialize_u32 u32 => visit_u32,
        deserialize_u64 u64 => visit_u64,
        deserialize_f32 f32 => visit_f32,
        deserialize_f64 f64 => visit_f64,
        deserialize_char char => visit_char,
    }

    forward_to_deserialize_any! {
        i128 u128 bytes byte_buf unit unit_struct seq tuple tuple_struct map struct ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use serde::Deserialize;
    use serde_json::Number;

    use super::{FormBody, FormError, form_body, from_form};

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(untagged)]
    enum Code {
        Text(String),
        Number(Number),
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Cat,
        Dog,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        name: String,
        count: Number,
        small: Option<i64>,
        level: Option<NonZeroU64>,
        on: Option<bool>,
        code: Option<Code>,
        kind: Option<Kind>,
    }

    #[test]
    fn values_decode_into_their_fields_type() {
        let item: Item = from_form(
            b"name=12&count=170141183460469231731687303715884105727&small=-3&level=2&on=true&code=7&kind=dog",
        )
        .unwrap();
        assert_eq!(item.name, "12");
        assert_eq!(
            item.count.as_f64(),
            "170141183460469231731687303715884105727"
                .parse::<f64>()
                .ok()
        );
        assert_eq!(item.small, Some(-3));
        assert_eq!(item.level, NonZeroU64::new(2));
        assert_eq!(item.on, Some(true));
        assert_eq!(item.code, Some(Code::Number(7.into())));
        assert_eq!(item.kind, Some(Kind::Dog));
        let text: Item = from_form(b"name=a+b&count=0&code=x%201").unwrap();
        assert_eq!(text.name, "a b");
        assert_eq!(text.code, Some(Code::Text("x 1".into())));
        assert_eq!(text.small, None);
    }

    #[test]
    fn a_form_that_does_not_decode_is_refused_without_its_values() {
        assert_eq!(form_body(Ok(FormBody(4)), "N"), Ok(4));
        let refused = form_body::<u8>(Err(FormError::Mismatch), "N").unwrap_err();
        assert_eq!(refused.message(), "the form does not match the `N` schema");
    }

    #[test]
    fn values_that_are_not_their_fields_type_are_refused() {
        for body in [
            &b"name=a"[..],
            b"name=a&count=x",
            b"name=a&count=%201",
            b"name=a&count=1&small=1.5",
            b"name=a&count=0.5",
            b"name=a&count=1e3",
            b"name=a&count=1&on=yes",
            b"name=a&count=1&kind=bird",
            b"name=a&count=1&level=0",
            b"name=a&name=b&count=1",
        ] {
            assert!(
                from_form::<Item>(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
