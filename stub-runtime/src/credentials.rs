//! Reading a generated `Credentials` struct from a request's headers.
//!
//! The generated struct keeps one typed field per security scheme of the
//! spec, each with how its scheme is presented (`#[credential(...)]`, from
//! which [`derive@CredentialFields`](derive@crate::CredentialFields) writes
//! [`CredentialFields::slots`]); reading the headers and telling whether
//! anything was presented are done here.

use axum::http::{HeaderMap, HeaderName};

use crate::{ApiKey, BearerToken, Rejection, api_key, bearer_token};

/// One field of a `Credentials` struct and how its scheme is presented.
#[derive(Debug)]
pub enum SchemeSlot<'a> {
    /// `Authorization: Bearer <token>`.
    Bearer(&'a mut Option<BearerToken>),
    /// An API key in the header of this name, made once at compile time.
    ApiKey(&'a mut Option<ApiKey>, &'static HeaderName),
    /// An API key in a header whose name `HeaderName::from_static` refuses
    /// (not a lowercase token), looked up by its text.
    ApiKeyNamed(&'a mut Option<ApiKey>, &'static str),
}

impl SchemeSlot<'_> {
    /// Fills the field from `headers`; a malformed credential is refused.
    /// Inlined into each struct's `from_headers`, so the table costs no
    /// call of its own.
    #[inline]
    fn read(self, headers: &HeaderMap) -> Result<(), Rejection> {
        match self {
            Self::Bearer(field) => *field = bearer_token(headers)?,
            Self::ApiKey(field, name) => *field = api_key(headers, name)?,
            Self::ApiKeyNamed(field, name) => *field = api_key(headers, name)?,
        }
        Ok(())
    }
}

/// A generated `Credentials` struct: every field an `Option`, `None` by
/// default, listed once by [`slots`](CredentialFields::slots).
pub trait CredentialFields: Default + PartialEq + Sized {
    /// Every field with the scheme that fills it, in the spec's order.
    fn slots(&mut self) -> impl IntoIterator<Item = SchemeSlot<'_>>;

    /// Reads every scheme's header; a malformed one is refused.
    fn from_headers(headers: &HeaderMap) -> Result<Self, Rejection> {
        let mut credentials = Self::default();
        for slot in credentials.slots() {
            slot.read(headers)?;
        }
        Ok(credentials)
    }

    /// Whether no credential at all was presented.
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use axum::http::header::AUTHORIZATION;

    use super::*;
    use crate::RejectionKind;

    static KEY: HeaderName = HeaderName::from_static("x-key");

    /// A struct written the way the generator writes one: a bearer token,
    /// a key in a named header, a key in a header no request can carry.
    #[derive(Debug, Default, PartialEq)]
    struct Credentials {
        token: Option<BearerToken>,
        key: Option<ApiKey>,
        odd: Option<ApiKey>,
    }

    impl CredentialFields for Credentials {
        fn slots(&mut self) -> impl IntoIterator<Item = SchemeSlot<'_>> {
            [
                SchemeSlot::Bearer(&mut self.token),
                SchemeSlot::ApiKey(&mut self.key, &KEY),
                SchemeSlot::ApiKeyNamed(&mut self.odd, "X Odd"),
            ]
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(n, v)| (HeaderName::from_static(n), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn each_field_is_read_from_its_own_header() {
        let read = Credentials::from_headers(&headers(&[
            ("authorization", "Bearer abc"),
            ("x-key", " k1 "),
        ]))
        .unwrap();
        assert_eq!(read.token.as_ref().map(BearerToken::as_str), Some("abc"));
        assert_eq!(read.key.as_ref().map(ApiKey::as_str), Some("k1"));
        assert_eq!(read.odd, None);
        let key_only = Credentials::from_headers(&headers(&[("x-key", "k2")])).unwrap();
        assert_eq!(key_only.token, None);
        assert_eq!(key_only.key.as_ref().map(ApiKey::as_str), Some("k2"));
    }

    #[test]
    fn a_malformed_credential_is_refused_whichever_field_it_is() {
        let mut bad = headers(&[("x-key", "k")]);
        bad.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        let refused = Credentials::from_headers(&bad).unwrap_err();
        assert_eq!(refused.kind(), RejectionKind::MalformedCredentials);
        let refused = Credentials::from_headers(&headers(&[("x-key", " ")])).unwrap_err();
        assert_eq!(refused.kind(), RejectionKind::MalformedCredentials);
    }

    #[test]
    fn empty_means_no_field_presented() {
        let none = Credentials::from_headers(&HeaderMap::new()).unwrap();
        assert!(none.is_empty());
        let key = Credentials::from_headers(&headers(&[("x-key", "k")])).unwrap();
        assert!(!key.is_empty());
        let token = Credentials::from_headers(&headers(&[("authorization", "Bearer t")]));
        assert!(!token.unwrap().is_empty());
    }

    /// The same struct as the generator writes it now: derived.
    mod derived {
        use super::headers;
        use crate::prelude::*;
        use crate::{ApiKey, BearerToken, RejectionKind};

        #[derive(Debug, Default, PartialEq, CredentialFields)]
        struct Credentials {
            #[credential(bearer)]
            token: Option<BearerToken>,
            #[credential(api_key = "X-Key")]
            key: Option<ApiKey>,
            #[credential(api_key = "X-Other")]
            other: Option<ApiKey>,
            #[credential(api_key = "X Odd")]
            odd: Option<ApiKey>,
        }

        #[test]
        fn each_field_is_read_from_its_own_header() {
            let read = Credentials::from_headers(&headers(&[
                ("authorization", "Bearer abc"),
                ("x-key", " k1 "),
                ("x-other", "k2"),
            ]))
            .unwrap();
            assert_eq!(read.token.as_ref().map(BearerToken::as_str), Some("abc"));
            assert_eq!(read.key.as_ref().map(ApiKey::as_str), Some("k1"));
            assert_eq!(read.other.as_ref().map(ApiKey::as_str), Some("k2"));
            assert_eq!(read.odd, None);
            let other_only = Credentials::from_headers(&headers(&[("x-other", "k3")])).unwrap();
            assert_eq!((&other_only.token, &other_only.key), (&None, &None));
            assert!(!other_only.is_empty());
            assert!(Credentials::from_headers(&headers(&[])).unwrap().is_empty());
        }

        #[test]
        fn a_malformed_credential_is_refused_whichever_field_it_is() {
            for bad in [
                ("authorization", "Basic abc"),
                ("x-key", " "),
                ("x-other", " "),
            ] {
                let refused = Credentials::from_headers(&headers(&[bad])).unwrap_err();
                assert_eq!(
                    refused.kind(),
                    RejectionKind::MalformedCredentials,
                    "{bad:?}"
                );
            }
        }
    }
}
