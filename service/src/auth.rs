//! Verifying OpenID Connect tokens, by concern: the identity and its claim
//! checks ([`identity`]), ID tokens ([`jwt`], whose claims [`claims`]
//! checks) against trusted keys
//! ([`jwks`], [`devkey`], [`hs256`]), access tokens at a userinfo endpoint
//! ([`userinfo`], [`limit`]), and the byte-bounded caches ([`cache`]).
//! [`Verifier`] puts them together.
//!
//! Keys come from a JWKS (file or URL; RS256 and ES256) or, in development
//! mode, from a local HS256 secret. Each key allows exactly one algorithm, so a
//! token can never pick its own (no `alg: none`, no HS256 signed with a public key).

pub mod cache;
pub mod claims;
pub mod devkey;
pub mod hs256;
pub mod identity;
pub mod jwks;
pub mod jwt;
pub mod limit;
pub mod userinfo;

use std::sync::Arc;

use uuid::Uuid;

pub use cache::lock;
pub use identity::{AuthError, Identity, MAX_TOKEN_BYTES, Principal};
use jwks::KeyStore;
pub use jwks::{KeySource, SetupError};
use jwt::IdTokens;
use userinfo::Userinfo;

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
    id_tokens: IdTokens,
    userinfo: Option<Userinfo>,
    refresher: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("userinfo", &self.userinfo.is_some())
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

/// The HTTP client for JWKS and userinfo requests.
fn http_client() -> Result<reqwest::Client, SetupError> {
    // The TLS build's reqwest has no crypto provider of its own: it takes
    // the process default, ring (one already installed is fine).
    #[cfg(feature = "tls")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| SetupError::Fetch("(client)".into(), e.to_string()))
}

/// The TLS build's HTTPS client (run by CI's `postgres` step with `--features tls`).
#[cfg(all(test, feature = "tls"))]
mod tls_tests {
    #[test]
    fn tls_build_makes_an_https_client() {
        super::http_client().expect("the HTTPS client builds with the ring provider");
    }
}

impl Verifier {
    /// Builds a verifier, loading keys from the configured source. Keys from
    /// a JWKS are reloaded periodically (see [`jwks`]), which needs a tokio
    /// runtime.
    pub async fn new(config: VerifierConfig) -> Result<Self, SetupError> {
        let http = http_client()?;
        let verified = IdTokens::cache();
        let forget_all = {
            let verified = verified.clone();
            Box::new(move || lock(&verified).clear())
        };
        let keys = Arc::new(KeyStore::load(config.keys, http.clone(), forget_all).await?);
        let refresher = keys.spawn_refresher();
        let userinfo = config
            .userinfo_url
            .map(|url| Userinfo::new(url, config.issuer.clone(), http));
        Ok(Self {
            id_tokens: IdTokens::new(keys, config.issuer, config.audience, verified),
            userinfo,
            refresher,
        })
    }

    /// Forgets every remembered verification of tokens for user `id` (at
    /// its sign-out), so that their next use is verified in full: a
    /// userinfo answer is then asked for again.
    pub fn forget_user(&self, id: Uuid) {
        self.id_tokens.forget_user(id);
        if let Some(userinfo) = &self.userinfo {
            userinfo.forget_user(id);
        }
    }

    /// Verifies an ID token (see [`IdTokens::verify`]).
    pub fn verify_id_principal(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        self.id_tokens.verify(token)
    }

    /// Verifies the ID token of a sign-in, without remembering it (see
    /// [`IdTokens::verify_once`]).
    pub fn verify_sign_in(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        self.id_tokens.verify_once(token)
    }

    /// Checks an opaque access token at the userinfo endpoint, if one is
    /// configured (see [`Userinfo::verify`]).
    pub async fn verify_access_token(&self, token: &str) -> Result<Identity, AuthError> {
        match &self.userinfo {
            Some(userinfo) => userinfo.verify(token).await,
            None => Err(AuthError::Unverifiable(
                "no id_token was given and no userinfo endpoint is configured".into(),
            )),
        }
    }

    /// Verifies a bearer credential: a JWT ID token, or else an access token via userinfo.
    pub async fn verify_bearer(&self, token: &str) -> Result<Arc<Principal>, AuthError> {
        match self.verify_id_principal(token) {
            Err(AuthError::Malformed(_)) if self.userinfo.is_some() => {
                // Boxed: the userinfo call's (large) future would otherwise
                // be part of every bearer-carrying request's (issue 25).
                Box::pin(self.verify_access_token(token))
                    .await
                    .map(Principal::new)
            }
            other => other,
        }
    }
}

#[cfg(test)]
impl Verifier {
    /// Bytes of verified tokens currently remembered.
    fn cached_bytes(&self) -> usize {
        lock(&self.id_tokens.verified).bytes()
    }

    /// The identity of a verified ID token.
    fn verify_id_token(&self, token: &str) -> Result<Identity, AuthError> {
        self.verify_id_principal(token)
            .map(|p| Arc::unwrap_or_clone(p).identity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cache::Lru;
    use jwt::{LEEWAY, VERIFIED_CACHE_BYTES, Verified, header_alg};

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
        let forever = with(serde_json::json!({"exp": u64::MAX, "iat": 0}));
        assert!(verifier.verify_id_token(&forever).is_ok());
        assert!(verifier.verify_id_token(&forever).is_ok(), "cached");
        for extra in [
            serde_json::json!({"exp": u64::MAX, "nbf": u64::MAX}),
            serde_json::json!({"exp": 0}),
            serde_json::json!({"exp": -1}),
            serde_json::json!({"exp": 1e300}),
            serde_json::json!({"exp": u64::MAX, "iat": -5}),
            serde_json::json!({"exp": u64::MAX, "iat": u64::MAX}),
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
    async fn sign_in_tokens_are_not_remembered_until_sent_as_bearers() {
        let key = [6u8; 32];
        let verifier = dev_verifier(&key).await;
        let token = |n: u32| {
            sign(
                &key,
                serde_json::json!({"iss": devkey::DEV_ISSUER, "aud": devkey::DEV_AUDIENCE,
                    "sub": format!("github|{n}"), "exp": u64::MAX}),
            )
        };
        for n in 0..50 {
            verifier.verify_sign_in(&token(n)).unwrap();
        }
        assert_eq!(verifier.cached_bytes(), 0, "sign-ins fill no cache");
        verifier.verify_bearer(&token(1)).await.unwrap();
        assert!(verifier.cached_bytes() > 0, "a bearer is remembered");
        let before = verifier.cached_bytes();
        verifier.verify_sign_in(&token(1)).unwrap();
        assert_eq!(verifier.cached_bytes(), before, "a hit stays");
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
        let one = identity::user_id(&Identity {
            issuer: devkey::DEV_ISSUER.into(),
            subject: "github|1".into(),
            ..Default::default()
        });
        verifier.forget_user(one);
        assert!(verifier.cached_bytes() < before);
        assert!(!lock(&verifier.id_tokens.verified).is_empty());
        let mut cache = lock(&verifier.id_tokens.verified);
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
        let mut five = None;
        for _ in 0..5 {
            let identity = verifier.verify_access_token("opaque-1").await.unwrap();
            assert_eq!(identity.subject, "github|5");
            assert!(identity.issued_at.is_some(), "vouched for now");
            five = Some(identity::user_id(&identity));
        }
        assert_eq!(count(), 1, "one upstream call for one token");
        verifier.forget_user(five.unwrap());
        verifier.verify_access_token("opaque-1").await.unwrap();
        assert_eq!(count(), 2, "forgotten, so asked again");

        let mut limited = 0;
        for i in 0..60 {
            if let Err(AuthError::RateLimited(_)) =
                verifier.verify_access_token(&format!("opaque-x{i}")).await
            {
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
        assert_eq!(first.user_id, identity::user_id(&first.identity));
        assert_eq!(first.identity.subject, "github|12");
        // A remembered entry past its `exp` is not handed out.
        let stale = Verified {
            principal: Principal::new(identity()),
            exp: 1,
            nbf: None,
        };
        lock(&verifier.id_tokens.verified).insert("stale.token.here", stale);
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
