//! Access tokens checked at the identity provider's userinfo endpoint:
//! answers remembered for a while, calls rate-limited per client and in all.

use std::sync::Mutex;

use uuid::Uuid;

use super::cache::{Lru, Weigh, lock};
use super::identity::{AuthError, Identity, MAX_TOKEN_BYTES, checked, user_id};
use super::limit::RateLimit;

/// Bytes of userinfo answers remembered (LRU).
pub const USERINFO_CACHE_BYTES: usize = 2 * 1024 * 1024;
/// Longest time a userinfo answer is reused (shorter if the token says it
/// expires sooner).
pub const USERINFO_CACHE_SECONDS: u64 = 300;
/// How long a userinfo rejection of a token is remembered.
const USERINFO_REJECTION_SECONDS: u64 = 30;
/// Largest userinfo answer read, in bytes.
const MAX_USERINFO_BYTES: usize = 64 * 1024;

/// Userinfo answers by access token, and the rate limits on calls.
pub struct Userinfo {
    url: String,
    issuer: String,
    http: reqwest::Client,
    answers: Mutex<Lru<Answer>>,
    limit: RateLimit,
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
            Ok(i) => i.weight(),
            Err(_) => 64,
        }
    }
}

impl Userinfo {
    /// Asks the endpoint at `url` (with `http`); identities get `issuer`.
    pub fn new(url: String, issuer: String, http: reqwest::Client) -> Self {
        Self {
            url,
            issuer,
            http,
            answers: Mutex::new(Lru::new(USERINFO_CACHE_BYTES)),
            limit: RateLimit::default(),
        }
    }

    /// Forgets the remembered answers for user `id`.
    pub fn forget_user(&self, id: Uuid) {
        lock(&self.answers).retain(|a| match &a.result {
            Ok(identity) => user_id(identity) != id,
            Err(_) => true,
        });
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

    /// Checks an opaque access token at the userinfo endpoint, if configured.
    /// Answers are remembered until the token expires (when it is a JWT that
    /// says so) or [`USERINFO_CACHE_SECONDS`], whichever is sooner; calls are
    /// limited per client and in all ([`super::limit`]).
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLong);
        }
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(result) = self.lookup(token, now) {
            return result;
        }
        self.limit
            .allow(crate::ops::request_context::peer())
            .map_err(AuthError::RateLimited)?;
        let result = self.call(token).await.map(|mut identity| {
            // The provider vouches for the token now; it has no `iat` of
            // its own, and one missing would count as revoked by any sign-out.
            identity.issued_at = Some(now);
            identity
        });
        metrics::counter!(crate::meters::USERINFO_CALLS, "result" => crate::meters::result(result.is_ok()))
            .increment(1);
        let until = match &result {
            Ok(_) => now
                .saturating_add(USERINFO_CACHE_SECONDS)
                .min(unverified_exp(token).unwrap_or(u64::MAX)),
            Err(AuthError::UserinfoRejected { .. }) => {
                now.saturating_add(USERINFO_REJECTION_SECONDS)
            }
            Err(_) => now, // network or server trouble: not remembered
        };
        if until > now {
            let answer = Answer {
                result: result.clone(),
                until,
            };
            lock(&self.answers).insert(token, answer);
        }
        result
    }

    async fn call(&self, token: &str) -> Result<Identity, AuthError> {
        let fail = |e: reqwest::Error| {
            AuthError::UserinfoFailed(format!("request failed: {}", e.without_url()))
        };
        let mut response = self
            .http
            .get(&self.url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(fail)?;
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Err(AuthError::UserinfoRejected {
                status: status.as_u16(),
            });
        }
        if !status.is_success() {
            return Err(AuthError::UserinfoFailed(format!("status {status}")));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_USERINFO_BYTES {
                return Err(AuthError::UserinfoFailed(
                    "the response is too large".into(),
                ));
            }
        }
        let mut identity: Identity = serde_json::from_slice(&body)
            .map_err(|_| AuthError::UserinfoFailed("not a userinfo document".into()))?;
        identity.issuer = self.issuer.clone();
        checked(identity)
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
