//! Credentials taken from request headers, typed and never printed.

use axum::http::{HeaderMap, header, header::AsHeaderName};

use crate::{Rejection, RejectionKind};

/// A bearer token from `Authorization: Bearer <token>` (scheme case-insensitive).
///
/// The router only checks its form; the implementation verifies it.
/// `Debug` never prints the token.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

/// An API key from the header its security scheme names. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

macro_rules! secret {
    ($ty:ident) => {
        impl $ty {
            /// Wraps a credential.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The credential as sent.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($ty), "(<redacted>)"))
            }
        }
    };
}

secret!(BearerToken);
secret!(ApiKey);

fn malformed(message: &'static str) -> Rejection {
    Rejection::new(RejectionKind::MalformedCredentials, message)
}

/// The bearer token of a request: `None` without an `Authorization` header,
/// a rejection when the header is there but is not `Bearer <token>`.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<BearerToken>, Rejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || malformed("the Authorization header must be `Bearer <token>`");
    let value = value.to_str().map_err(|_| bad())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(bad)?;
    let token = token.trim();
    // A fold over every byte vectorizes; `contains` is a byte search.
    let inner_space = token.bytes().fold(false, |seen, b| seen | (b == b' '));
    if scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !inner_space {
        Ok(Some(BearerToken(token.to_string())))
    } else {
        Err(bad())
    }
}

/// The API key sent in header `name` (a `&'static str`, or a `&HeaderName`
/// made once, which saves parsing the name per request): `None` when absent,
/// a rejection when it is empty or not visible ASCII.
pub fn api_key(headers: &HeaderMap, name: impl AsHeaderName) -> Result<Option<ApiKey>, Rejection> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(v) if !v.trim().is_empty() && v.bytes().all(|b| b.is_ascii_graphic() || b == b' ') => {
            Ok(Some(ApiKey(v.trim().to_string())))
        }
        _ => Err(malformed(
            "an API key header is empty or not printable ASCII",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: &'static str, value: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_bytes(value).unwrap());
        h
    }

    #[test]
    fn bearer_forms() {
        assert_eq!(bearer_token(&HeaderMap::new()), Ok(None));
        let ok = |v: &str| bearer_token(&with("authorization", v.as_bytes()));
        assert_eq!(ok("Bearer abc").unwrap().unwrap().as_str(), "abc");
        assert_eq!(ok("bEaReR   abc  ").unwrap().unwrap().as_str(), "abc");
        for bad in ["Bearer", "Bearer ", "Basic abc", "Bearer a b", "abc"] {
            let r = ok(bad).unwrap_err();
            assert_eq!(r.kind(), RejectionKind::MalformedCredentials, "{bad}");
            assert!(!r.message().contains("abc"), "never echoes: {bad}");
        }
        assert!(bearer_token(&with("authorization", b"Bearer \xff")).is_err());
    }

    #[test]
    fn api_key_forms() {
        assert_eq!(api_key(&HeaderMap::new(), "x-application-id"), Ok(None));
        let got = api_key(&with("x-application-id", b" app-1 "), "x-application-id");
        assert_eq!(got.unwrap().unwrap().as_str(), "app-1");
        for bad in [&b""[..], b"   ", b"a\xffb"] {
            assert!(api_key(&with("x-application-id", bad), "x-application-id").is_err());
        }
        static NAME: header::HeaderName = header::HeaderName::from_static("x-application-id");
        let got = api_key(&with("X-Application-ID", b"app-2"), &NAME);
        assert_eq!(got.unwrap().unwrap().as_str(), "app-2");
        assert_eq!(api_key(&with("x-other", b"app-2"), &NAME), Ok(None));
    }

    #[test]
    fn debug_never_prints_secrets() {
        assert_eq!(
            format!("{:?}", BearerToken::new("s3cret")),
            "BearerToken(<redacted>)"
        );
        assert_eq!(format!("{:?}", ApiKey::new("s3cret")), "ApiKey(<redacted>)");
    }
}
