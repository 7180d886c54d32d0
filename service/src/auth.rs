//! Verifying OpenID Connect tokens: signature, algorithm, `exp`, `nbf`, `iss`, `aud`.
//!
//! Keys come from a JWKS (file or URL; RS256 and ES256) or, in development
//! mode, from a local HS256 secret. Each key allows exactly one algorithm, so a
//! token can never pick its own (no `alg: none`, no HS256 signed with a public key).

pub mod devkey;

use std::collections::HashMap;
use std::path::PathBuf;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;

/// Why a token was rejected. The message never contains the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// Not a JWT, or not decodable.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// The header's algorithm is not the one the key allows.
    #[error("the token's algorithm {0} is not accepted")]
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
    /// The userinfo endpoint rejected the access token or failed.
    #[error("the access token was rejected by the userinfo endpoint: {0}")]
    Userinfo(String),
    /// No way to verify the credential was given.
    #[error("{0}")]
    Unverifiable(String),
}

/// A verified identity, taken from the token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Identity {
    /// `iss`.
    #[serde(default, rename = "iss")]
    pub issuer: String,
    /// `sub`.
    #[serde(rename = "sub")]
    pub subject: String,
    /// `email`.
    #[serde(default)]
    pub email: Option<String>,
    /// `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// `nickname`.
    #[serde(default)]
    pub nickname: Option<String>,
    /// `picture`.
    #[serde(default)]
    pub picture: Option<String>,
    /// `iat`: when the token was issued (seconds since the epoch), if it says.
    #[serde(default, rename = "iat")]
    pub issued_at: Option<u64>,
}

/// Where the trusted keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A JWKS document on disk.
    JwksFile(PathBuf),
    /// A JWKS document fetched over HTTP at start-up.
    JwksUrl(String),
    /// A local HS256 secret (development mode).
    Secret(Vec<u8>),
}

/// Settings for [`Verifier::new`].
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// Where keys come from.
    pub keys: KeySource,
    /// Required `iss`.
    pub issuer: String,
    /// Required `aud`.
    pub audience: String,
    /// OIDC userinfo endpoint for access tokens, if any.
    pub userinfo_url: Option<String>,
}

/// Checks tokens against the configured keys and claims.
pub struct Verifier {
    keys: HashMap<Option<String>, (DecodingKey, Algorithm)>,
    issuer: String,
    audience: String,
    userinfo_url: Option<String>,
    http: reqwest::Client,
    verified: VerifiedTokens,
}

/// Seconds of clock skew allowed on `exp` and `nbf`.
const LEEWAY: u64 = 30;
/// Most verified ID tokens remembered at once.
const VERIFIED_CAPACITY: usize = 4096;

/// ID tokens whose signature and claims were verified, by their exact text.
///
/// A hit skips only the signature check: the token's time window is checked
/// again on every use, so an expired token is never accepted from here.
#[derive(Default)]
struct VerifiedTokens {
    entries: std::sync::Mutex<HashMap<String, Verified>>,
}

#[derive(Clone)]
struct Verified {
    identity: Identity,
    exp: u64,
    nbf: Option<u64>,
}

/// The claims read from a verified token.
#[derive(Deserialize)]
struct Claims {
    #[serde(flatten)]
    identity: Identity,
    exp: u64,
    #[serde(default)]
    nbf: Option<u64>,
}

impl VerifiedTokens {
    fn lookup(&self, token: &str, now: u64) -> Option<Identity> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let hit = entries.get(token)?;
        let live = now <= hit.exp + LEEWAY && hit.nbf.is_none_or(|nbf| now + LEEWAY >= nbf);
        live.then(|| hit.identity.clone())
    }

    fn remember(&self, token: &str, verified: Verified) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= VERIFIED_CAPACITY {
            entries.clear();
        }
        entries.insert(token.to_string(), verified);
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys.len())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Errors while setting up the verifier (bad JWKS, unreachable URL).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Reading the JWKS file failed.
    #[error("cannot read JWKS file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// Fetching the JWKS URL failed.
    #[error("cannot fetch JWKS from {0}: {1}")]
    Fetch(String, String),
    /// The JWKS is not valid.
    #[error("invalid JWKS: {0}")]
    Invalid(String),
}

impl Verifier {
    /// Builds a verifier, loading keys from the configured source.
    pub async fn new(config: VerifierConfig) -> Result<Self, SetupError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| SetupError::Fetch("(client)".into(), e.to_string()))?;
        let keys = match &config.keys {
            KeySource::Secret(secret) => {
                let key = DecodingKey::from_secret(secret)
                    .map_err(|e| SetupError::Invalid(format!("development key: {e}")))?;
                HashMap::from([(None, (key, Algorithm::HS256))])
            }
            KeySource::JwksFile(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| SetupError::Read(path.clone(), e))?;
                jwks_keys(&text)?
            }
            KeySource::JwksUrl(url) => {
                let fetch = |e: reqwest::Error| SetupError::Fetch(url.clone(), e.to_string());
                let text = http
                    .get(url)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(fetch)?
                    .text()
                    .await
                    .map_err(fetch)?;
                jwks_keys(&text)?
            }
        };
        Ok(Self {
            keys,
            issuer: config.issuer,
            audience: config.audience,
            userinfo_url: config.userinfo_url,
            http,
            verified: VerifiedTokens::default(),
        })
    }

    /// Verifies an ID token (a JWT) and returns its identity.
    pub fn verify_id_token(&self, token: &str) -> Result<Identity, AuthError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(identity) = self.verified.lookup(token, now) {
            return Ok(identity);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| match header_alg(token) {
            Some(alg) => AuthError::Algorithm(alg),
            None => AuthError::Malformed("not a signed JWT".into()),
        })?;
        let by_kid = header
            .kid
            .as_ref()
            .and_then(|k| self.keys.get(&Some(k.clone())));
        let only = (self.keys.len() == 1)
            .then(|| self.keys.values().next())
            .flatten();
        let (key, alg) = by_kid.or(only).ok_or(AuthError::UnknownKey)?;
        if header.alg != *alg {
            return Err(AuthError::Algorithm(format!("{:?}", header.alg)));
        }
        let mut validation = Validation::new(*alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|e| match e
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
        let Claims { identity, exp, nbf } = data.claims;
        self.verified.remember(
            token,
            Verified {
                identity: identity.clone(),
                exp,
                nbf,
            },
        );
        Ok(identity)
    }

    /// Checks an opaque access token at the userinfo endpoint, if configured.
    pub async fn verify_access_token(&self, token: &str) -> Result<Identity, AuthError> {
        let Some(url) = &self.userinfo_url else {
            return Err(AuthError::Unverifiable(
                "no id_token was given and no userinfo endpoint is configured".into(),
            ));
        };
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| AuthError::Userinfo(format!("request failed: {}", e.without_url())))?;
        if !response.status().is_success() {
            return Err(AuthError::Userinfo(format!("status {}", response.status())));
        }
        let mut identity: Identity = response
            .json()
            .await
            .map_err(|_| AuthError::Userinfo("response is not a userinfo document".into()))?;
        identity.issuer = self.issuer.clone();
        Ok(identity)
    }

    /// Verifies a bearer credential: a JWT ID token, or else an access token via userinfo.
    pub async fn verify_bearer(&self, token: &str) -> Result<Identity, AuthError> {
        match self.verify_id_token(token) {
            Err(AuthError::Malformed(_)) if self.userinfo_url.is_some() => {
                self.verify_access_token(token).await
            }
            other => other,
        }
    }
}

/// The `alg` a token's header claims, for error messages when the header is
/// not one we can decode (e.g. `none`). Truncated: it is attacker-controlled.
fn header_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let segment = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let alg = header.get("alg")?.as_str()?;
    Some(alg.chars().take(16).collect())
}

/// Reads the RS256/ES256 keys of a JWKS. Each key is bound to one algorithm.
fn jwks_keys(text: &str) -> Result<HashMap<Option<String>, (DecodingKey, Algorithm)>, SetupError> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| SetupError::Invalid(e.to_string()))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let alg = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                Algorithm::ES256
            }
            _ => continue, // symmetric or unsupported keys are never trusted from a JWKS
        };
        if let Some(declared) = jwk.common.key_algorithm
            && format!("{declared:?}") != format!("{alg:?}")
        {
            continue;
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|e| SetupError::Invalid(e.to_string()))?;
        keys.insert(jwk.common.key_id.clone(), (key, alg));
    }
    if keys.is_empty() {
        return Err(SetupError::Invalid(
            "no RS256 or ES256 keys in the JWKS".into(),
        ));
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            issuer: "iss".into(),
            subject: "github|1".into(),
            email: None,
            name: None,
            nickname: None,
            picture: None,
            issued_at: None,
        }
    }

    #[test]
    fn remembered_tokens_still_expire() {
        let cache = VerifiedTokens::default();
        let verified = Verified {
            identity: identity(),
            exp: 1_000,
            nbf: Some(500),
        };
        cache.remember("t", verified);
        assert!(cache.lookup("t", 700).is_some());
        assert!(
            cache.lookup("t", 1_000 + LEEWAY).is_some(),
            "leeway as in full verification"
        );
        assert!(cache.lookup("t", 1_001 + LEEWAY).is_none(), "expired");
        assert!(cache.lookup("t", 400).is_none(), "not yet valid");
        assert!(cache.lookup("t2", 700).is_none(), "only the exact token");
    }

    #[tokio::test]
    async fn a_verified_token_is_remembered_and_a_forged_one_is_not() {
        let key = vec![7u8; 32];
        let verifier = Verifier::new(VerifierConfig {
            keys: KeySource::Secret(key.clone()),
            issuer: devkey::DEV_ISSUER.into(),
            audience: devkey::DEV_AUDIENCE.into(),
            userinfo_url: None,
        })
        .await
        .unwrap();
        let request = devkey::MintRequest {
            subject: "github|9".into(),
            ttl_seconds: 600,
            ..Default::default()
        };
        let token = devkey::mint(&key, &request).unwrap();
        assert_eq!(
            verifier.verify_id_token(&token).unwrap().subject,
            "github|9"
        );
        assert_eq!(
            verifier.verify_id_token(&token).unwrap().subject,
            "github|9"
        );
        let forged = devkey::mint(&[8u8; 32], &request).unwrap();
        assert_eq!(verifier.verify_id_token(&forged), Err(AuthError::Signature));
        assert_eq!(verifier.verify_id_token(&forged), Err(AuthError::Signature));
    }
}
