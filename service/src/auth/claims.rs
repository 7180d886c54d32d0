//! The claims of an ID token, read once, and the checks on them that
//! `jsonwebtoken::decode` would make with a `Validation` requiring `exp`,
//! `iss`, `aud` and `sub`, validating `nbf`, with [`LEEWAY`]: the same
//! refusals in the same order, without decoding the claims a second time
//! (`decode` deserializes them into the caller's type and again into its
//! own). [`jwt`](super::jwt) checks the signature before any of this.

use serde::{Deserialize, Deserializer};

use super::identity::{AuthError, Identity};

/// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
pub const LEEWAY: u64 = 30;

/// The claims read from a verified token: [`Identity`]'s, with the time
/// window and the audience. Spelled out rather than `#[serde(flatten)]`ed:
/// a flattened field makes serde buffer every claim as generic content
/// first and decode it again. A claim of the wrong type (a string `exp`, a
/// null `sub`) fails the whole read, as it did inside `decode`.
#[derive(Deserialize)]
pub struct Claims {
    /// Absent is `None`; `null` is refused, as a non-string is.
    #[serde(default, deserialize_with = "present")]
    iss: Option<String>,
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    picture: Option<String>,
    #[serde(default)]
    iat: Option<u64>,
    exp: u64,
    /// Like `iss`: `null` is refused (`decode` refused it as not a number).
    #[serde(default, deserialize_with = "present")]
    nbf: Option<u64>,
    /// Read as any JSON value and judged in [`Claims::check`]: as in
    /// jsonwebtoken, a string or an array of strings; anything else
    /// counts as missing.
    #[serde(default)]
    aud: Option<serde_json::Value>,
}

/// A claim that, when present, must have its type (`null` included in the
/// refusal), rather than `Option`'s reading of `null` as absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The issuer and audience a token must name.
#[derive(Debug, Clone)]
pub struct Expected {
    /// Required `iss`.
    pub issuer: String,
    /// Required member of `aud`.
    pub audience: String,
}

impl Claims {
    /// Reads the claims from the payload's JSON.
    pub fn read(json: &[u8]) -> Result<Self, AuthError> {
        serde_json::from_slice(json).map_err(|_| AuthError::Malformed(CLAIMS_UNREADABLE.into()))
    }

    /// Checks the registered claims at `now` (seconds since the epoch):
    /// `iss` and `aud` present, then `exp` and `nbf` with [`LEEWAY`], then
    /// `iss` and `aud` against `expected` (`exp` and `sub` are required by
    /// [`Claims::read`] itself).
    pub fn check(&self, expected: &Expected, now: u64) -> Result<(), AuthError> {
        let Some(issuer) = &self.iss else {
            return Err(AuthError::MissingClaim("iss".into()));
        };
        let Some(audience_named) = self
            .aud
            .as_ref()
            .and_then(|aud| names(aud, &expected.audience))
        else {
            return Err(AuthError::MissingClaim("aud".into()));
        };
        if self.exp < now.saturating_sub(LEEWAY) {
            return Err(AuthError::Expired);
        }
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(LEEWAY)) {
            return Err(AuthError::NotYetValid);
        }
        if *issuer != expected.issuer {
            return Err(AuthError::Issuer);
        }
        if !audience_named {
            return Err(AuthError::Audience);
        }
        Ok(())
    }

    /// The identity and the time window (`exp`, `nbf`).
    pub fn split(self) -> (Identity, u64, Option<u64>) {
        let identity = Identity {
            issuer: self.iss.unwrap_or_default(),
            subject: self.sub,
            email: self.email,
            name: self.name,
            nickname: self.nickname,
            picture: self.picture,
            issued_at: self.iat,
        };
        (identity, self.exp, self.nbf)
    }
}

/// What a token whose claims cannot be read is refused with.
pub const CLAIMS_UNREADABLE: &str = "claims could not be read";

/// Whether an `aud` claim names `audience`: it is one string, or an array
/// of strings (possibly empty); `None` for anything else, which counts as
/// absent.
fn names(aud: &serde_json::Value, audience: &str) -> Option<bool> {
    match aud {
        serde_json::Value::String(one) => Some(one == audience),
        serde_json::Value::Array(many) => many
            .iter()
            .try_fold(false, |found, one| Some(one.as_str()? == audience || found)),
        _ => None,
    }
}
