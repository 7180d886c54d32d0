//! Verifying OpenID Connect tokens: signature, algorithm, `exp`, `nbf`, `iss`, `aud`.
//!
//! Keys come from a JWKS (file or URL; RS256 and ES256) or, in development
//! mode, from a local HS256 secret. Each key allows exactly one algorithm, so a
//! token can never pick its own (no `alg: none`, no HS256 signed with a public key).

mod cache;
pub mod devkey;
pub mod jwks;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use jsonwebtoken::{Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use cache::{Lru, Weigh};
use jwks::KeyStore;

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
    /// A claim's value cannot be accepted (see [`crate::profile::checked`]).
    #[error("the token's `{claim}` claim {problem}")]
    InvalidClaim {
        /// The claim's name.
        claim: &'static str,
        /// What is wrong, as fixed text.
        problem: &'static str,
    },
    /// The userinfo endpoint rejected the access token or failed.
    #[error("the access token was rejected by the userinfo endpoint: {0}")]
    Userinfo(String),
    /// No way to verify the credential was given.
    #[error("{0}")]
    Unverifiable(String),
}

/// The claims of an ID token this service reads: what verification yields
/// and what `mint-token` signs (as command-line options, `--sub`, `--email`…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, clap::Args)]
pub struct Identity {
    /// `iss`: who issued the token.
    #[serde(default, rename = "iss")]
    #[arg(skip)]
    pub issuer: String,
    /// `sub`, Auth0 style: `github|123`, `google-oauth2|456`, ...
    #[serde(rename = "sub")]
    #[arg(long = "sub")]
    pub subject: String,
    /// `email` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub email: Option<String>,
    /// `name` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub name: Option<String>,
    /// `nickname` claim (becomes the username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub nickname: Option<String>,
    /// `picture` claim: a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[arg(long)]
    pub picture: Option<String>,
    /// `iat`: when the token was issued (seconds since the epoch), if it says.
    #[serde(default, rename = "iat", skip_serializing_if = "Option::is_none")]
    #[arg(skip)]
    pub issued_at: Option<u64>,
}

/// A verified identity and the user id derived from it
/// ([`crate::profile::user_id`]), computed once when the token is first
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
        let user_id = crate::profile::user_id(&identity);
        Arc::new(Self { identity, user_id })
    }
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
    keys: Arc<KeyStore>,
    refresher: Option<tokio::task::JoinHandle<()>>,
    issuer: String,
    audience: String,
    userinfo_url: Option<String>,
    http: reqwest::Client,
    verified: Arc<Mutex<Lru<Verified>>>,
    userinfo: Userinfo,
}

/// Longest bearer or body token accepted, in bytes. Real ID tokens are a
/// few kilobytes; this is checked before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Seconds of clock skew allowed on `exp` and `nbf`.
const LEEWAY: u64 = 30;
/// Bytes of verified ID tokens remembered (tokens and identities, LRU).
pub const VERIFIED_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// Bytes of userinfo answers remembered (LRU).
pub const USERINFO_CACHE_BYTES: usize = 2 * 1024 * 1024;
/// Longest time a userinfo answer is reused (shorter if the token says it
/// expires sooner).
pub const USERINFO_CACHE_SECONDS: u64 = 300;
/// How long a userinfo rejection of a token is remembered.
const USERINFO_REJECTION_SECONDS: u64 = 30;
/// Userinfo calls allowed per second on average, and in a burst.
pub const USERINFO_CALLS_PER_SECOND: f64 = 10.0;
const USERINFO_BURST: f64 = 20.0;
/// Largest userinfo answer read, in bytes.
const MAX_USERINFO_BYTES: usize = 64 * 1024;

/// An ID token whose signature and claims were verified.
///
/// A cache hit skips only the signature check: the token's time window is
/// checked again on every use, so an expired token is never accepted from it.
struct Verified {
    principal: Arc<Principal>,
    exp: u64,
    nbf: Option<u64>,
}

impl Weigh for Verified {
    fn weight(&self) -> usize {
        identity_weight(&self.principal.identity) + std::mem::size_of::<Principal>()
    }
}

fn identity_weight(i: &Identity) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    std::mem::size_of::<Identity>()
        + i.issuer.len()
        + i.subject.len()
        + opt(&i.email)
        + opt(&i.name)
        + opt(&i.nickname)
        + opt(&i.picture)
}

impl Verified {
    fn live(&self, now: u64) -> bool {
        now <= self.exp.saturating_add(LEEWAY)
            && self.nbf.is_none_or(|nbf| now.saturating_add(LEEWAY) >= nbf)
    }
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

/// Userinfo answers by access token, and the rate limit on calls.
struct Userinfo {
    answers: Mutex<Lru<Answer>>,
    bucket: Mutex<(f64, Instant)>,
}

/// A remembered userinfo answer, good until `until` (seconds since the epoch).
#[derive(Clone)]
struct Answer {
    result: Result<Identity, AuthError>,
    until: u64,
}

impl Weigh for Answer {
    fn weight(&self) -> usize {
        match &self.result {
            Ok(i) => identity_weight(i),
            Err(_) => 64,
        }
    }
}

impl Userinfo {
    fn new() -> Self {
        Self {
            answers: Mutex::new(Lru::new(USERINFO_CACHE_BYTES)),
            bucket: Mutex::new((USERINFO_BURST, Instant::now())),
        }
    }

    fn lookup(&self, token: &str, now: u64) -> Option<Result<Identity, AuthError>> {
        let mut answers = lock(&self.answers);
        let answer = answers.get(token)?.clone();
        if now < answer.until {
            Some(answer.result)
        } else {
            answers.remove(token);
            None
        }
    }

    /// Takes one call from the token bucket, if any is left.
    fn allow_call(&self) -> bool {
        let mut bucket = lock(&self.bucket);
        let (tokens, at) = *bucket;
        let refill = at.elapsed().as_secs_f64() * USERINFO_CALLS_PER_SECOND;
        let tokens = (tokens + refill).min(USERINFO_BURST);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, Instant::now());
            true
        } else {
            *bucket = (tokens, Instant::now());
            false
        }
    }
}

/// Locks a mutex, carrying on if a panicking thread poisoned it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("keys", &self.keys)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        if let Some(task) = &self.refresher {
            task.abort();
        }
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
    /// Builds a verifier, loading keys from the configured source. Keys from
    /// a JWKS are reloaded periodically (see [`jwks`]), which needs a tokio
    /// runtime.
    pub async fn new(config: VerifierConfig) -> Result<Self, SetupError> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| SetupError::Fetch("(client)".into(), e.to_string()))?;
        let verified = Arc::new(Mutex::new(Lru::new(VERIFIED_CACHE_BYTES)));
        let forget_all = {
            let verified = verified.clone();
            Box::new(move || lock(&verified).clear())
        };
        let keys = Arc::new(KeyStore::load(config.keys, http.clone(), forget_all).await?);
        let refresher = keys.spawn_refresher();
        Ok(Self {
            keys,
            refresher,
            issuer: config.issuer,
            audience: config.audience,
            userinfo_url: config.userinfo_url,
            http,
            verified,
            userinfo: Userinfo::new(),
        })
    }

    /// Forgets every remembered verification of tokens for `subject`, so
    /// that their next use is verified in full.
    pub fn forget_subject(&self, subject: &str) {
        lock(&self.verified).retain(|v| v.principal.identity.subject != subject);
        lock(&self.userinfo.answers).retain(|a| match &a.result {
            Ok(identity) => identity.subject != subject,
            Err(_) => true,
        });
    }

    /// Bytes of verified tokens currently remembered.
    pub fn cached_bytes(&self) -> usize {
        lock(&self.verified).bytes()
    }

    /// Verifies an ID token (a JWT) and returns its identity, whose claims
    /// have passed [`crate::profile::checked`].
    pub fn verify_id_token(&self, token: &str) -> Result<Identity, AuthError> {
        self.verify_id_principal(token)
            .map(|p| Arc::unwrap_or_clone(p).identity)
    }

    /// Like [`Self::verify_id_token`], but hands out the remembered
    /// [`Principal`] (a reference count, no copy, no rehash) on a cache hit.
    pub fn verify_id_principal(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let now = jsonwebtoken::get_current_timestamp();
        let remembered = self.remembered(token, now);
        metrics::counter!(crate::meters::TOKEN_CACHE, "result" => if remembered.is_some() { "hit" } else { "miss" }).increment(1);
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
        if found.is_none() && header.kid.is_some() && self.keys.refresh_for_unknown_kid() {
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
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| match e
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
        let principal = Principal::new(crate::profile::checked(identity)?);
        let verified = Verified {
            principal: principal.clone(),
            exp,
            nbf,
        };
        // Checked here too, with the same saturating arithmetic as a cache hit.
        if !verified.live(now) {
            return Err(AuthError::Expired);
        }
        lock(&self.verified).insert(token, verified);
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

    /// Checks an opaque access token at the userinfo endpoint, if configured.
    /// Answers are remembered until the token expires (when it is a JWT that
    /// says so) or [`USERINFO_CACHE_SECONDS`], whichever is sooner; calls are
    /// limited to [`USERINFO_CALLS_PER_SECOND`].
    pub async fn verify_access_token(&self, token: &str) -> Result<Identity, AuthError> {
        let Some(url) = &self.userinfo_url else {
            return Err(AuthError::Unverifiable(
                "no id_token was given and no userinfo endpoint is configured".into(),
            ));
        };
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(result) = self.userinfo.lookup(token, now) {
            return result;
        }
        if !self.userinfo.allow_call() {
            return Err(AuthError::Userinfo(
                "too many requests to the userinfo endpoint; try again shortly".into(),
            ));
        }
        let result = self.call_userinfo(url, token).await;
        metrics::counter!(crate::meters::USERINFO_CALLS, "result" => crate::meters::result(result.is_ok())).increment(1);
        let until = match &result {
            Ok(_) => now
                .saturating_add(USERINFO_CACHE_SECONDS)
                .min(unverified_exp(token).unwrap_or(u64::MAX)),
            Err(AuthError::Userinfo(m))
                if m.starts_with("status 401") || m.starts_with("status 403") =>
            {
                now.saturating_add(USERINFO_REJECTION_SECONDS)
            }
            Err(_) => now, // network or server trouble: not remembered
        };
        if until > now {
            let answer = Answer {
                result: result.clone(),
                until,
            };
            lock(&self.userinfo.answers).insert(token, answer);
        }
        result
    }

    async fn call_userinfo(&self, url: &str, token: &str) -> Result<Identity, AuthError> {
        let fail =
            |e: reqwest::Error| AuthError::Userinfo(format!("request failed: {}", e.without_url()));
        let mut response = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(fail)?;
        if !response.status().is_success() {
            return Err(AuthError::Userinfo(format!("status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_USERINFO_BYTES {
                return Err(AuthError::Userinfo("the response is too large".into()));
            }
        }
        let mut identity: Identity = serde_json::from_slice(&body)
            .map_err(|_| AuthError::Userinfo("response is not a userinfo document".into()))?;
        identity.issuer = self.issuer.clone();
        crate::profile::checked(identity)
    }

    /// Verifies a bearer credential: a JWT ID token, or else an access token via userinfo.
    pub async fn verify_bearer(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        match self.verify_id_principal(token) {
            Err(AuthError::Malformed(_)) if self.userinfo_url.is_some() => {
                self.verify_access_token(token).await.map(Principal::new)
            }
            other => other,
        }
    }
}

/// The `exp` of a JWT's payload, unverified: only used to remember a
/// userinfo answer no longer than the token lives.
fn unverified_exp(token: &str) -> Option<u64> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("exp")?.as_u64()
}

/// The `alg` a token's header claims, for logs when the header is not one we
/// can decode (e.g. `none`). Attacker-controlled: truncated, and control and
/// bidirectional characters escaped.
fn header_alg(token: &str) -> Option<String> {
    use base64::Engine;
    let segment = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let alg = header.get("alg")?.as_str()?;
    Some(crate::profile::escape_for_log(alg, 16))
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
        let verified = Verified {
            principal: Principal::new(identity()),
            exp: 1_000,
            nbf: Some(500),
        };
        assert!(verified.live(700));
        assert!(
            verified.live(1_000 + LEEWAY),
            "leeway as in full verification"
        );
        assert!(!verified.live(1_001 + LEEWAY), "expired");
        assert!(!verified.live(400), "not yet valid");
        let forever = Verified {
            principal: Principal::new(identity()),
            exp: u64::MAX,
            nbf: Some(u64::MAX),
        };
        assert!(forever.live(u64::MAX - 1), "no overflow at the far end");
        assert!(!forever.live(1_000), "not yet valid");
        let mut cache = Lru::new(VERIFIED_CACHE_BYTES);
        cache.insert("t", verified);
        assert!(cache.get("t").is_some());
        assert!(cache.get("t2").is_none(), "only the exact token");
    }

    fn dev_verifier(key: &[u8]) -> impl std::future::Future<Output = Verifier> {
        let config = VerifierConfig {
            keys: KeySource::Secret(key.to_vec()),
            issuer: devkey::DEV_ISSUER.into(),
            audience: devkey::DEV_AUDIENCE.into(),
            userinfo_url: None,
        };
        async move { Verifier::new(config).await.unwrap() }
    }

    fn sign(key: &[u8], claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(key).unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn extreme_times_never_panic() {
        let key = [3u8; 32];
        let verifier = dev_verifier(&key).await;
        let base = serde_json::json!({"iss": devkey::DEV_ISSUER, "aud": devkey::DEV_AUDIENCE, "sub": "github|1"});
        let with = |extra: serde_json::Value| {
            let mut c = base.clone();
            c.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            sign(&key, c)
        };
        let forever = with(serde_json::json!({"exp": u64::MAX, "iat": u64::MAX}));
        assert!(verifier.verify_id_token(&forever).is_ok());
        assert!(verifier.verify_id_token(&forever).is_ok(), "cached");
        for extra in [
            serde_json::json!({"exp": u64::MAX, "nbf": u64::MAX}),
            serde_json::json!({"exp": 0}),
            serde_json::json!({"exp": -1}),
            serde_json::json!({"exp": 1e300}),
            serde_json::json!({"exp": u64::MAX, "iat": -5}),
            serde_json::json!({"exp": "soon"}),
        ] {
            assert!(
                verifier.verify_id_token(&with(extra.clone())).is_err(),
                "{extra}"
            );
        }
    }

    #[tokio::test]
    async fn oversized_tokens_are_refused_before_parsing() {
        let verifier = dev_verifier(&[3u8; 32]).await;
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(verifier.verify_id_token(&long), Err(AuthError::TooLong));
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_byte_budget_and_forgets_subjects() {
        let key = [5u8; 32];
        let verifier = dev_verifier(&key).await;
        let padding = "x".repeat(200);
        let mut tokens = Vec::new();
        for i in 0..(VERIFIED_CACHE_BYTES / 4000 + 50) {
            let token = sign(
                &key,
                serde_json::json!({"iss": devkey::DEV_ISSUER, "aud": devkey::DEV_AUDIENCE,
                    "sub": format!("github|{}", i % 3), "exp": u64::MAX,
                    "pad": padding.repeat(16), "n": i}),
            );
            verifier.verify_id_token(&token).unwrap();
            tokens.push(token);
        }
        assert!(verifier.cached_bytes() <= VERIFIED_CACHE_BYTES);
        assert!(verifier.cached_bytes() > VERIFIED_CACHE_BYTES / 2);
        let before = verifier.cached_bytes();
        verifier.forget_subject("github|1");
        assert!(verifier.cached_bytes() < before);
        assert!(!lock(&verifier.verified).is_empty());
        let mut cache = lock(&verifier.verified);
        cache.retain(|v| {
            assert_ne!(v.principal.identity.subject, "github|1");
            true
        });
    }

    /// A loopback userinfo endpoint answering `{"sub": "github|5"}`;
    /// returns its URL and the count of calls it got.
    fn userinfo_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/userinfo", listener.local_addr().unwrap());
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(200) {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let body = r#"{"sub":"github|5","name":"Five"}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        (url, calls)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn userinfo_answers_are_remembered_and_calls_rate_limited() {
        let (url, calls) = userinfo_server();
        let verifier = Verifier::new(VerifierConfig {
            keys: KeySource::Secret(vec![1u8; 32]),
            issuer: devkey::DEV_ISSUER.into(),
            audience: devkey::DEV_AUDIENCE.into(),
            userinfo_url: Some(url),
        })
        .await
        .unwrap();
        let count = || calls.load(std::sync::atomic::Ordering::SeqCst);
        for _ in 0..5 {
            let identity = verifier.verify_access_token("opaque-1").await.unwrap();
            assert_eq!(identity.subject, "github|5");
        }
        assert_eq!(count(), 1, "one upstream call for one token");
        verifier.forget_subject("github|5");
        verifier.verify_access_token("opaque-1").await.unwrap();
        assert_eq!(count(), 2, "forgotten, so asked again");

        let mut limited = 0;
        for i in 0..60 {
            if let Err(AuthError::Userinfo(m)) =
                verifier.verify_access_token(&format!("opaque-x{i}")).await
            {
                assert!(m.contains("too many"), "{m}");
                limited += 1;
            }
        }
        assert!(limited > 0, "60 distinct tokens at once are rate-limited");
        assert!(count() < 2 + 60, "{} upstream calls", count());
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            verifier.verify_access_token(&long).await,
            Err(AuthError::TooLong)
        );
    }

    #[test]
    fn header_algorithms_are_escaped_for_logs() {
        let header = tokens_b64(br#"{"alg":"\nERROR forged\u001b[31m","typ":"JWT"}"#);
        let alg = header_alg(&format!("{header}.e30.sig")).unwrap();
        assert!(!alg.chars().any(char::is_control), "{alg:?}");
        assert!(alg.len() <= 16 * 10);
        assert_eq!(
            AuthError::Algorithm(alg).to_string(),
            "the token's algorithm is not accepted"
        );
    }

    fn tokens_b64(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[tokio::test]
    async fn a_hit_shares_the_principal_and_its_user_id_but_not_past_expiry() {
        let key = [4u8; 32];
        let verifier = dev_verifier(&key).await;
        let claims = Identity {
            subject: "github|12".into(),
            ..Default::default()
        };
        let token = devkey::mint(&key, &claims, 600).unwrap();
        let first = verifier.verify_id_principal(&token).unwrap();
        let again = verifier.verify_id_principal(&token).unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "a hit hands out the same entry"
        );
        assert_eq!(first.user_id, crate::profile::user_id(&first.identity));
        assert_eq!(first.identity.subject, "github|12");
        // A remembered entry past its `exp` is not handed out.
        let stale = Verified {
            principal: Principal::new(identity()),
            exp: 1,
            nbf: None,
        };
        lock(&verifier.verified).insert("stale.token.here", stale);
        assert!(verifier.verify_id_principal("stale.token.here").is_err());
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
        let claims = Identity {
            subject: "github|9".into(),
            ..Default::default()
        };
        let token = devkey::mint(&key, &claims, 600).unwrap();
        assert_eq!(
            verifier.verify_id_token(&token).unwrap().subject,
            "github|9"
        );
        assert_eq!(
            verifier.verify_id_token(&token).unwrap().subject,
            "github|9"
        );
        let forged = devkey::mint(&[8u8; 32], &claims, 600).unwrap();
        assert_eq!(verifier.verify_id_token(&forged), Err(AuthError::Signature));
        assert_eq!(verifier.verify_id_token(&forged), Err(AuthError::Signature));
    }
}
