//! ID tokens (JWTs): signature, algorithm, `exp`, `nbf`, `iat`, `iss`, `aud`,
//! and the verified tokens remembered so that a repeated token costs a
//! lookup, not a signature check.

use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use jsonwebtoken::Header;
use uuid::Uuid;

use super::cache::{Lru, Weigh, lock};
pub use super::claims::LEEWAY;
use super::claims::{CLAIMS_UNREADABLE, Claims, Expected};
use super::identity::{AuthError, MAX_TOKEN_BYTES, Principal, checked, escape_for_log};
use super::jwks::{self, KeyStore, TrustedKey};

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

/// Verifies ID tokens against the trusted keys and the required claims.
pub struct IdTokens {
    keys: Arc<KeyStore>,
    expected: Expected,
    pub(super) verified: Arc<Mutex<Lru<Verified>>>,
    /// The cache's `hit` and `miss` counters, made on first use (the
    /// metrics recorder is installed by then): looked up in the registry
    /// on each request, a counter cost about 1,100 instructions of a
    /// tokens-mode read (callgrind, issue 25).
    lookups: OnceLock<[metrics::Counter; 2]>,
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
        Self {
            keys,
            expected: Expected { issuer, audience },
            verified,
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
        let key = found.or_else(only).ok_or(AuthError::UnknownKey)?;
        if header.alg != key.alg {
            return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
        }
        header_allowed(&header)?;
        let claims = signed_claims(token, &key)?;
        claims.check(&self.expected, now)?;
        let (identity, exp, nbf) = claims.split();
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

/// A refusal for a token `jsonwebtoken::decode` could not read (its
/// signature or claims not base64, its header refused).
fn unreadable() -> AuthError {
    AuthError::Malformed(CLAIMS_UNREADABLE.into())
}

/// The header checks `jsonwebtoken::decode` makes and `decode_header` does
/// not: a `b64` parameter must be a boolean and not `false`, and a `crit`
/// list may only be `["b64"]` with `b64` present (RFC 7515 4.1.11, RFC 7797).
fn header_allowed(header: &Header) -> Result<(), AuthError> {
    let b64 = header.extras.get::<bool>("b64").map_err(|_| unreadable())?;
    if b64 == Some(false) {
        return Err(unreadable());
    }
    if let Some(crit) = &header.crit
        && (crit.len() != 1 || crit[0] != "b64" || b64.is_none())
    {
        return Err(unreadable());
    }
    Ok(())
}

/// The claims of `token` once its signature verifies with `key` (under
/// its one algorithm; the development key's MAC comes prepared): the token
/// split as `decode` splits it (the signature after the last dot, the
/// claims before it), each part read once.
fn signed_claims(token: &str, key: &TrustedKey) -> Result<Claims, AuthError> {
    let (message, signature) = token.rsplit_once('.').ok_or_else(unreadable)?;
    let (_, payload) = message.rsplit_once('.').ok_or_else(unreadable)?;
    let verified = match &key.hs256 {
        Some(mac) => mac.verify(message.as_bytes(), signature).ok(),
        None => jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key.key, key.alg).ok(),
    };
    match verified {
        Some(true) => {}
        Some(false) => return Err(AuthError::Signature),
        None => return Err(unreadable()),
    }
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| unreadable())?;
    Claims::read(&json)
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
    let segment = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let alg = header.get("alg")?.as_str()?;
    Some(escape_for_log(alg, 16))
}

/// The hand checks against `jsonwebtoken::decode` itself, the way this
/// module called it before: every token of a matrix of headers, claims and
/// signatures is accepted or refused by both, with the same refusal.
#[cfg(test)]
mod agrees_with_decode {
    use jsonwebtoken::errors::ErrorKind;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
    use serde_json::{Value, json};

    use super::*;
    use crate::auth::identity::Identity;

    const ISS: &str = "https://issuer.test/";
    const AUD: &str = "users-tests";
    const KEY: &[u8] = b"a development key of thirty-two b";

    /// The claims type this module decoded into through `decode`.
    #[derive(serde::Deserialize)]
    struct DecodedClaims {
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

    type Outcome = Result<(Identity, u64, Option<u64>), AuthError>;

    /// What `jsonwebtoken::decode` made of a token, with its errors
    /// mapped as this module mapped them.
    fn by_decode(token: &str, key: &DecodingKey) -> Outcome {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISS]);
        validation.set_audience(&[AUD]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        let data =
            jsonwebtoken::decode::<DecodedClaims>(token, key, &validation).map_err(|e| match e
                .kind()
            {
                ErrorKind::InvalidSignature => AuthError::Signature,
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::ImmatureSignature => AuthError::NotYetValid,
                ErrorKind::InvalidIssuer => AuthError::Issuer,
                ErrorKind::InvalidAudience => AuthError::Audience,
                ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
                ErrorKind::InvalidAlgorithm => AuthError::Algorithm("HS256".into()),
                _ => AuthError::Malformed(CLAIMS_UNREADABLE.into()),
            })?;
        let c = data.claims;
        let identity = Identity {
            issuer: c.iss,
            subject: c.sub,
            email: c.email,
            name: c.name,
            nickname: c.nickname,
            picture: c.picture,
            issued_at: c.iat,
        };
        Ok((identity, c.exp, c.nbf))
    }

    /// What this module's own checks make of it.
    fn by_hand(token: &str, key: &TrustedKey) -> Outcome {
        let header = jsonwebtoken::decode_header(token).expect("the matrix's headers decode");
        header_allowed(&header)?;
        let claims = signed_claims(token, key)?;
        let expected = Expected {
            issuer: ISS.into(),
            audience: AUD.into(),
        };
        claims.check(&expected, jsonwebtoken::get_current_timestamp())?;
        Ok(claims.split())
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token of `header` and `claims` (raw JSON text), signed with `key`.
    fn token(header: &str, claims: &str, key: &[u8]) -> String {
        let message = format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()));
        let key = EncodingKey::from_secret(key).unwrap();
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256);
        format!("{message}.{}", signature.unwrap())
    }

    /// Valid claims with `changes` applied (`null` in `changes` removes a
    /// claim; `Value::Null` itself is set with the `"=null"` key suffix).
    fn claims(changes: Value) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims = json!({
            "iss": ISS, "aud": AUD, "sub": "github|1", "email": "a@example.com",
            "name": "A", "nickname": "a", "picture": "https://example.com/a.png",
            "iat": now, "nbf": now, "exp": now + 600,
        });
        let map = claims.as_object_mut().unwrap();
        for (name, value) in changes.as_object().unwrap() {
            let _previous = match (name.strip_suffix("=null"), value) {
                (Some(name), _) => map.insert(name.into(), Value::Null),
                (None, Value::Null) => map.remove(name),
                (None, value) => map.insert(name.clone(), value.clone()),
            };
        }
        claims.to_string()
    }

    #[test]
    fn every_token_of_the_matrix_gets_the_same_verdict() {
        let now = jsonwebtoken::get_current_timestamp();
        let skew = LEEWAY;
        let claim_cases = [
            json!({}),
            json!({"exp": null}),
            json!({"exp": "soon"}),
            json!({"exp": 1.5e9}),
            json!({"exp": -1}),
            json!({"exp": now - skew - 10}),
            json!({"exp": now - skew + 10}),
            json!({"exp": u64::MAX}),
            json!({"nbf": now + skew + 10}),
            json!({"nbf": now + skew - 10}),
            json!({"nbf=null": 0}),
            json!({"nbf": null}),
            json!({"nbf": "x"}),
            json!({"iss": null}),
            json!({"iss=null": 0}),
            json!({"iss": "https://evil.test/"}),
            json!({"iss": [ISS]}),
            json!({"iss": ""}),
            json!({"aud": null}),
            json!({"aud=null": 0}),
            json!({"aud": 5}),
            json!({"aud": "someone-else"}),
            json!({"aud": ["someone-else", AUD]}),
            json!({"aud": []}),
            json!({"aud": ["someone-else"]}),
            json!({"aud": [AUD, 5]}),
            json!({"aud": {"a": AUD}}),
            json!({"sub": null}),
            json!({"sub=null": 0}),
            json!({"sub": ""}),
            json!({"iat": "x"}),
            json!({"email": 5}),
            json!({"exp": now - skew - 10, "iss": "https://evil.test/"}),
            json!({"iss": "https://evil.test/", "aud": "someone-else"}),
            json!({"nbf": now + skew + 10, "aud": "someone-else"}),
            json!({"iss": null, "exp": now - skew - 10}),
            json!({"aud": null, "nbf": now + skew + 10}),
            json!({"extra": {"nested": [1, 2]}, "roles": ["a"]}),
        ];
        let mut payloads: Vec<String> = claim_cases.iter().map(|c| claims(c.clone())).collect();
        let valid = claims(json!({}));
        payloads.push(valid.replacen("{", r#"{"sub":"github|2","#, 1));
        payloads.push(valid.replacen("{", &format!(r#"{{"aud":"{AUD}","#), 1));
        payloads.push("[]".into());
        payloads.push("{".into());
        let headers = [
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"alg":"HS256"}"#,
            r#"{"alg":"HS256","b64":true}"#,
            r#"{"alg":"HS256","b64":false}"#,
            r#"{"alg":"HS256","b64":"yes"}"#,
            r#"{"alg":"HS256","b64":true,"crit":["b64"]}"#,
            r#"{"alg":"HS256","crit":["b64"]}"#,
            r#"{"alg":"HS256","b64":true,"crit":[]}"#,
            r#"{"alg":"HS256","b64":true,"crit":["exp"]}"#,
            r#"{"alg":"HS256","b64":true,"crit":["b64","b64"]}"#,
        ];
        let key = DecodingKey::from_secret(KEY).unwrap();
        // The development key's prepared MAC, and jsonwebtoken's verifier.
        let prepared = TrustedKey {
            key: key.clone(),
            alg: Algorithm::HS256,
            hs256: Some(crate::auth::hs256::Hs256::new(KEY)),
        };
        let unprepared = TrustedKey {
            hs256: None,
            ..prepared.clone()
        };
        let mut tokens = Vec::new();
        for header in headers {
            for payload in &payloads {
                tokens.push(token(header, payload, KEY));
            }
        }
        let good = token(headers[0], &valid, KEY);
        let (message, _) = good.rsplit_once('.').unwrap();
        tokens.push(token(
            headers[0],
            &valid,
            b"another key of thirty-two bytes!",
        ));
        tokens.push(format!("{message}.!!!"));
        tokens.push(format!("{message}."));
        tokens.push(format!("{message}.{}", b64(b"short")));
        let unreadable_claims = format!("{}.%%%", b64(headers[0].as_bytes()));
        let key_bytes = EncodingKey::from_secret(KEY).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(unreadable_claims.as_bytes(), &key_bytes, Algorithm::HS256);
        tokens.push(format!("{unreadable_claims}.{}", signature.unwrap()));

        let mut accepted = 0;
        for token in &tokens {
            let decoded = by_decode(token, &key);
            for trusted in [&prepared, &unprepared] {
                let hand = by_hand(token, trusted);
                // Two claims missing at once: `decode` names whichever its
                // hash set lists first.
                let either_missing = matches!(
                    (&hand, &decoded),
                    (
                        Err(AuthError::MissingClaim(_)),
                        Err(AuthError::MissingClaim(_))
                    )
                );
                assert!(
                    hand == decoded || either_missing,
                    "{token} ({:?}): by hand {hand:?}, by decode {decoded:?}",
                    trusted.hs256
                );
            }
            accepted += usize::from(decoded.is_ok());
        }
        assert!(accepted >= 10, "the matrix accepts some tokens: {accepted}");
        assert!(tokens.len() - accepted >= 100, "and refuses most");
    }
}
