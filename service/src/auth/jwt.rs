//! ID tokens (JWTs): signature, algorithm, `exp`, `nbf`, `iat`, `iss`, `aud`,
//! and the verified tokens remembered so that a repeated token costs a
//! lookup, not a signature check.

use std::sync::{Arc, Mutex, OnceLock};

use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde::Deserialize;
use uuid::Uuid;

use super::cache::{Lru, Weigh, lock};
use super::identity::{AuthError, Identity, MAX_TOKEN_BYTES, Principal, checked, escape_for_log};
use super::jwks::{self, KeyStore};

/// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
pub const LEEWAY: u64 = 30;
/// Bytes of verified ID tokens remembered (tokens and identities, LRU).
pub const VERIFIED_CACHE_BYTES: usize = 8 * 1024 * 1024;

/// An ID token whose signature and claims were verified.
///
/// A cache hit skips only the signature check: the token's time window is
/// checked again on every use, so an expired token is never accepted from it.
pub struct Verified {
    pub(super) principal: Arc<Principal>,
    pub(super) exp: u64,
    pub(super) nbf: Option<u64>,
}

impl Weigh for Verified {
    fn weight(&self) -> usize {
        self.principal.identity.weight() + std::mem::size_of::<Principal>()
    }
}

impl Verified {
    pub(super) fn live(&self, now: u64) -> bool {
        now <= self.exp.saturating_add(LEEWAY)
            && self.nbf.is_none_or(|nbf| now.saturating_add(LEEWAY) >= nbf)
    }
}

/// The claims read from a verified token: [`Identity`]'s, with the time
/// window. Spelled out rather than `#[serde(flatten)]`ed: a flattened field
/// makes serde buffer every claim as generic content first and decode it
/// again (the claims' decoding went from about 15,100 to 11,600
/// instructions a sign-in, callgrind; the rest is jsonwebtoken's own pass).
#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: String,
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
    #[serde(default)]
    nbf: Option<u64>,
}

impl Claims {
    /// The identity and the time window (`exp`, `nbf`).
    fn split(self) -> (Identity, u64, Option<u64>) {
        let identity = Identity {
            issuer: self.iss,
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

/// Verifies ID tokens against the trusted keys and the required claims.
pub struct IdTokens {
    keys: Arc<KeyStore>,
    issuer: String,
    audience: String,
    pub(super) verified: Arc<Mutex<Lru<Verified>>>,
    /// The checks of each algorithm our keys use, built once (building
    /// them per token allocated three hash sets each time).
    validations: [(Algorithm, Validation); 3],
    /// The cache's `hit` and `miss` counters, made on first use (the
    /// metrics recorder is installed by then): looked up in the registry
    /// on each request, a counter cost about 1,100 instructions of a
    /// tokens-mode read (callgrind, issue 25).
    lookups: OnceLock<[metrics::Counter; 2]>,
}

/// What a token signed with `alg` must satisfy: signature, `exp` and
/// `nbf` (with [`LEEWAY`]), `iss`, `aud`, and a `sub`.
fn validation(alg: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY;
    validation
}

impl IdTokens {
    /// Verifies against `keys`, requiring `issuer` and `audience`,
    /// remembering verified tokens in `verified` (which a key change clears).
    pub fn new(
        keys: Arc<KeyStore>,
        issuer: String,
        audience: String,
        verified: Arc<Mutex<Lru<Verified>>>,
    ) -> Self {
        let validations = [Algorithm::HS256, Algorithm::RS256, Algorithm::ES256]
            .map(|alg| (alg, validation(alg, &issuer, &audience)));
        Self {
            keys,
            issuer,
            audience,
            verified,
            validations,
            lookups: OnceLock::new(),
        }
    }

    /// An empty cache of verified tokens, for [`IdTokens::new`].
    pub fn cache() -> Arc<Mutex<Lru<Verified>>> {
        Arc::new(Mutex::new(Lru::new(VERIFIED_CACHE_BYTES)))
    }

    /// Forgets the remembered tokens of user `id`.
    pub fn forget_user(&self, id: Uuid) {
        lock(&self.verified).retain(|v| v.principal.user_id != id);
    }

    /// Verifies an ID token and returns its identity, whose claims have
    /// passed [`checked`], with its user id; a cache hit hands out the
    /// remembered [`Principal`] (a reference count, no copy, no rehash).
    pub fn verify(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        self.verify_and(token, Remember::Yes)
    }

    /// Like [`IdTokens::verify`], without remembering a token verified in
    /// full: for sign-ins, whose tokens are mostly seen once (10,000
    /// sign-ins filled the whole cache, about a third of the process's
    /// memory, with tokens never sent again). A token later sent as a
    /// bearer is remembered then.
    pub fn verify_once(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        self.verify_and(token, Remember::No)
    }

    fn verify_and(&self, token: &str, remember: Remember) -> Result<Arc<Principal>, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let now = jsonwebtoken::get_current_timestamp();
        let remembered = self.remembered(token, now);
        let [hits, misses] = self.lookups.get_or_init(|| {
            ["hit", "miss"]
                .map(|result| metrics::counter!(crate::meters::TOKEN_CACHE, "result" => result))
        });
        if remembered.is_some() { hits } else { misses }.increment(1);
        if let Some(hit) = remembered {
            return Ok(hit);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| match header_alg(token) {
            Some(alg) => {
                tracing::info!(%alg, "token header names an algorithm we do not know");
                AuthError::Algorithm(alg)
            }
            None => AuthError::Malformed("not a signed JWT".into()),
        })?;
        let mut keys = self.keys.keys();
        let named = |keys: &jwks::Keys| {
            header
                .kid
                .as_ref()
                .and_then(|k| keys.get(&Some(k.clone())).cloned())
        };
        let mut found = named(&keys);
        if found.is_none()
            && let Some(kid) = &header.kid
            && self.keys.refresh_for_unknown_kid(kid)
        {
            keys = self.keys.keys();
            found = named(&keys);
        }
        // A token without a `kid` may use the only key there is; the
        // development key (which has no id) takes any token.
        let only = || {
            let dev = keys.contains_key(&None);
            ((header.kid.is_none() || dev) && keys.len() == 1)
                .then(|| keys.values().next().cloned())
                .flatten()
        };
        let (key, alg) = found.or_else(only).ok_or(AuthError::UnknownKey)?;
        if header.alg != alg {
            return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
        }
        let built;
        let validation = match self.validations.iter().find(|(a, _)| *a == alg) {
            Some((_, v)) => v,
            None => {
                built = validation(alg, &self.issuer, &self.audience);
                &built
            }
        };
        let data = jsonwebtoken::decode::<Claims>(token, &key, validation).map_err(|e| match e
            .kind()
        {
            ErrorKind::InvalidSignature => AuthError::Signature,
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidIssuer => AuthError::Issuer,
            ErrorKind::InvalidAudience => AuthError::Audience,
            ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
            ErrorKind::InvalidAlgorithm => AuthError::Algorithm(format!("{:?}", header.alg)),
            _ => AuthError::Malformed("claims could not be read".into()),
        })?;
        let (identity, exp, nbf) = data.claims.split();
        // A token "issued" in the future would outlive every sign-out.
        if identity
            .issued_at
            .is_some_and(|iat| iat > now.saturating_add(LEEWAY))
        {
            return Err(AuthError::InvalidClaim {
                claim: "iat",
                problem: "is in the future",
            });
        }
        let principal = Principal::new(checked(identity)?);
        let verified = Verified {
            principal: principal.clone(),
            exp,
            nbf,
        };
        // Checked here too, with the same saturating arithmetic as a cache hit.
        if !verified.live(now) {
            return Err(AuthError::Expired);
        }
        if remember == Remember::Yes {
            lock(&self.verified).insert(token, verified);
        }
        Ok(principal)
    }

    /// The remembered verification of `token`, if it is still within its
    /// time window at `now`. The lock is held for the lookup and one
    /// reference-count increment.
    fn remembered(&self, token: &str, now: u64) -> Option<Arc<Principal>> {
        let mut verified = lock(&self.verified);
        let hit = verified.get(token)?;
        hit.live(now).then(|| hit.principal.clone())
    }
}

/// Whether a token verified in full is remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remember {
    Yes,
    No,
}

/// The `alg` a token's header claims, for logs when the header is not one we
/// can decode (e.g. `none`). Attacker-controlled: truncated, and control and
/// bidirectional characters escaped.
pub(super) fn header_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let segment = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let alg = header.get("alg")?.as_str()?;
    Some(escape_for_log(alg, 16))
}
