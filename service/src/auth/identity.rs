//! The identity a verified token carries: its claims, the checks that make
//! them safe to store and log, the user id derived from them, and why a
//! token is refused.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Longest bearer or body token accepted, in bytes. Real ID tokens are a
/// few kilobytes; this is checked before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Longest `sub` accepted, in bytes; a longer one is refused (401).
pub const MAX_SUBJECT_BYTES: usize = 255;
/// Longest `name` and `nickname` stored, in characters; longer ones are cut.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest `email` stored, in bytes (RFC 5321's path limit); a longer one is ignored.
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest `picture` URL stored, in bytes; a longer one is ignored.
pub const MAX_PICTURE_BYTES: usize = 2048;

/// Why a token was rejected. The message is fixed text: it never contains
/// the token or any value taken from it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// Not a JWT, or not decodable.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// Longer than [`MAX_TOKEN_BYTES`]; refused before any parsing.
    #[error("the token is longer than the {MAX_TOKEN_BYTES} bytes accepted")]
    TooLong,
    /// The header's algorithm is not the one the key allows. Holds the
    /// claimed algorithm, escaped and truncated, for logs only.
    #[error("the token's algorithm is not accepted")]
    Algorithm(String),
    /// No key matches the token's `kid`.
    #[error("no trusted key matches the token's key id")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    Signature,
    /// `exp` is in the past.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the token was issued by an untrusted issuer")]
    Issuer,
    /// `aud` does not contain the configured audience.
    #[error("the token is not meant for this audience")]
    Audience,
    /// A required claim is missing.
    #[error("the token lacks the required claim `{0}`")]
    MissingClaim(String),
    /// A claim's value cannot be accepted (see [`checked`]).
    #[error("the token's `{claim}` claim {problem}")]
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
        /// What is wrong, as fixed text.
        problem: &'static str,
    },
    /// The userinfo endpoint answered that the access token is not valid
    /// (401 or 403); remembered for a short while.
    #[error("the access token was rejected by the userinfo endpoint (status {status})")]
    UserinfoRejected {
        /// The endpoint's HTTP status.
        status: u16,
    },
    /// The userinfo endpoint could not be asked or gave no usable answer
    /// (network trouble, another status, not a userinfo document); never
    /// remembered.
    #[error("the userinfo endpoint failed: {0}")]
    UserinfoFailed(String),
    /// Too many access tokens are being checked at the userinfo endpoint,
    /// by this client or by all together: not a verdict on the token.
    #[error("too many access tokens are being checked; retry shortly")]
    RateLimited(super::limit::Limited),
    /// No way to verify the credential was given.
    #[error("{0}")]
    Unverifiable(String),
}

/// The claims of an ID token this service reads: what verification yields
/// and what `mint-token` signs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Identity {
    /// `iss`: who issued the token.
    #[serde(default, rename = "iss")]
    pub issuer: String,
    /// `sub`, Auth0 style: `github|123`, `google-oauth2|456`, ...
    #[serde(rename = "sub")]
    pub subject: String,
    /// `email` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `name` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `nickname` claim (becomes the username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// `picture` claim: a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// `iat`: when the token was issued (seconds since the epoch), if it says.
    #[serde(default, rename = "iat", skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<u64>,
}

impl Identity {
    /// Heap bytes the identity holds, roughly (for cache budgets).
    pub fn weight(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        std::mem::size_of::<Self>()
            + self.issuer.len()
            + self.subject.len()
            + opt(&self.email)
            + opt(&self.name)
            + opt(&self.nickname)
            + opt(&self.picture)
    }
}

/// A verified identity and the user id derived from it
/// ([`user_id`]), computed once when the token is first
/// verified and shared by every later use of the same token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's checked claims.
    pub identity: Identity,
    /// The user this identity is.
    pub user_id: Uuid,
}

impl Principal {
    /// Wraps a checked identity, deriving its user id.
    pub fn new(identity: Identity) -> Arc<Self> {
        let user_id = user_id(&identity);
        Arc::new(Self { identity, user_id })
    }
}

/// Characters never stored nor logged raw: control characters (Unicode
/// category Cc: C0, DEL, C1), the line and paragraph separators, the
/// bidirectional formatting characters (ALM, LRM, RLM, the embeddings,
/// overrides and isolates) and the invisible ones that make two names look
/// alike (soft hyphen, Mongolian vowel separator, zero-width space, non-joiner
/// and joiner, word joiner and invisible operators, byte-order mark).
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Whether `url` may be stored as a profile picture: an absolute `http` or
/// `https` URL with a host (never `javascript:`, `data:` or the like, which
/// a client might put in a page).
fn is_picture_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// `text` cut to `max_chars` characters with forbidden characters written
/// as `\u{..}` escapes: safe to put in a log line.
pub fn escape_for_log(text: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for c in text.chars().take(max_chars) {
        if is_forbidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

/// The identity with its claims made safe to store, or why it is refused.
///
/// - `sub`: refused (401) when empty, longer than [`MAX_SUBJECT_BYTES`] or
///   containing a forbidden character (see [`is_forbidden`]): it names the
///   user, so it is never altered.
/// - `name`, `nickname`: forbidden characters removed, cut to
///   [`MAX_NAME_CHARS`] characters; dropped if nothing is left.
/// - `email`, `picture`: ignored (as if absent) when they contain a
///   forbidden character or are longer than [`MAX_EMAIL_BYTES`] /
///   [`MAX_PICTURE_BYTES`]; `picture` also unless it is an `http` or
///   `https` URL.
pub fn checked(mut identity: Identity) -> Result<Identity, AuthError> {
    let refuse = |problem| AuthError::InvalidClaim {
        claim: "sub",
        problem,
    };
    if identity.subject.is_empty() {
        return Err(refuse("is empty"));
    }
    if identity.subject.len() > MAX_SUBJECT_BYTES {
        return Err(refuse("is longer than 255 bytes"));
    }
    if identity.subject.chars().any(is_forbidden) {
        return Err(refuse(
            "contains control, bidirectional formatting or invisible characters",
        ));
    }
    let clean = |text: Option<String>| {
        text.map(|t| {
            t.chars()
                .filter(|c| !is_forbidden(*c))
                .take(MAX_NAME_CHARS)
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
    };
    let plain = |text: Option<String>, max: usize| {
        text.filter(|t| !t.is_empty() && t.len() <= max && !t.chars().any(is_forbidden))
    };
    identity.name = clean(identity.name);
    identity.nickname = clean(identity.nickname);
    identity.email = plain(identity.email, MAX_EMAIL_BYTES);
    identity.picture = plain(identity.picture, MAX_PICTURE_BYTES).filter(|url| is_picture_url(url));
    Ok(identity)
}

/// The stable user id of an identity: a UUID v5 of issuer and subject.
pub fn user_id(identity: &Identity) -> Uuid {
    let name = format!("{}\n{}", identity.issuer, identity.subject);
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(sub: &str) -> Identity {
        Identity {
            issuer: "https://issuer.example".into(),
            subject: sub.into(),
            email: Some("ada@example.com".into()),
            name: Some("Ada".into()),
            nickname: Some("ada".into()),
            picture: None,
            issued_at: None,
        }
    }

    #[test]
    fn claims_are_cleaned_or_refused() {
        let mut who = identity("github|1");
        who.name = Some("A\u{202E}da\r\nX".into());
        who.nickname = Some("\u{0}\u{1b}".into());
        who.email = Some("ada@example.com\n".into());
        who.picture = Some("javascript:alert(1)".into());
        let clean = checked(who).unwrap();
        assert_eq!(clean.name.as_deref(), Some("AdaX"));
        assert_eq!(clean.picture, None, "not an http(s) URL");
        assert_eq!(clean.nickname, None);
        assert_eq!(clean.email, None);
        let mut who = identity("github|1");
        who.name = Some("A\u{200b}d\u{200d}a\u{feff}".into());
        who.picture = Some("https://avatars.example/u/1".into());
        let clean = checked(who).unwrap();
        assert_eq!(
            clean.name.as_deref(),
            Some("Ada"),
            "invisible characters removed"
        );
        assert_eq!(
            clean.picture.as_deref(),
            Some("https://avatars.example/u/1")
        );
        for sub in [
            "",
            "github|1\u{0}",
            "github|\u{202E}1",
            "github|a\u{200d}b",
            "github|\u{feff}ab",
            &"x".repeat(256),
        ] {
            let err = checked(identity(sub)).unwrap_err();
            assert!(matches!(err, AuthError::InvalidClaim { claim: "sub", .. }));
            assert!(!err.to_string().contains(sub) || sub.is_empty());
        }
        assert_eq!(escape_for_log("a\nb\u{202E}", 10), "a\\u{a}b\\u{202e}");
    }
}
