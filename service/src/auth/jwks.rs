//! The trusted keys: reading and checking a JWKS, and keeping it current.
//!
//! A JWKS from a URL is fetched again every [`URL_REFRESH_INTERVAL`], one from
//! a file re-read every [`FILE_REFRESH_INTERVAL`]; either is also reloaded at
//! once when a token names a key id we do not know: at most once per
//! [`ON_DEMAND_INTERVAL`] for each key id and for each client, and at most
//! once per [`ON_DEMAND_GAP`] in all, so one client's tokens with made-up key
//! ids can neither use up the reload a real new key needs nor flood the
//! provider. A reload that
//! fails or yields an invalid JWKS keeps the keys we have and logs why.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::hs256::Hs256;
use super::identity::escape_for_log;

use std::path::PathBuf;

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

/// A trusted verification key and the one algorithm it allows.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key.
    pub key: DecodingKey,
    /// The only algorithm a token signed with it may name.
    pub alg: Algorithm,
    /// For the development key (HS256): its MAC prepared once.
    pub hs256: Option<Hs256>,
}

impl TrustedKey {
    /// A key from a JWKS (RS256 or ES256).
    fn public(key: DecodingKey, alg: Algorithm) -> Self {
        Self {
            key,
            alg,
            hs256: None,
        }
    }
}

/// Verification keys by `kid` (`None` only for the development key).
pub type Keys = HashMap<Option<String>, TrustedKey>;

/// Smallest RSA modulus accepted, in bits.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest JWKS document read, in bytes.
pub const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Least time between two reloads triggered by one unknown key id.
pub const ON_DEMAND_INTERVAL: Duration = Duration::from_secs(10);
/// Least time between two reloads triggered by any unknown key ids.
pub const ON_DEMAND_GAP: Duration = Duration::from_secs(1);
/// Unknown key ids whose last reload is remembered (oldest forgotten first).
const MAX_REMEMBERED_KIDS: usize = 1024;
/// How often a JWKS URL is fetched again.
pub const URL_REFRESH_INTERVAL: Duration = Duration::from_secs(10 * 60);
/// How often a JWKS file is read again.
pub const FILE_REFRESH_INTERVAL: Duration = Duration::from_secs(30);

/// Reads the RS256/ES256 keys of a JWKS. Each key is bound to one algorithm.
/// Keys without a `kid`, two keys with one `kid` and RSA keys under
/// [`MIN_RSA_BITS`] make the whole document invalid.
pub fn parse(text: &str) -> Result<Keys, SetupError> {
    let set: JwkSet = serde_json::from_str(text)
        .map_err(|e| SetupError::Invalid(format!("not a JWKS document: {e}")))?;
    let mut keys = HashMap::new();
    for (index, jwk) in set.keys.iter().enumerate() {
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
        let Some(kid) = jwk.common.key_id.clone() else {
            return Err(SetupError::Invalid(format!(
                "key #{} has no `kid`: every key must have a distinct key id",
                index + 1
            )));
        };
        let name = escape_for_log(&kid, 64);
        if let AlgorithmParameters::RSA(rsa) = &jwk.algorithm {
            let bits = rsa_bits(&rsa.n).ok_or_else(|| {
                SetupError::Invalid(format!("key `{name}` has an unreadable RSA modulus"))
            })?;
            if bits < MIN_RSA_BITS {
                return Err(SetupError::Invalid(format!(
                    "key `{name}` is a {bits}-bit RSA key; at least {MIN_RSA_BITS} bits are required"
                )));
            }
        }
        let key = DecodingKey::from_jwk(jwk)
            .map_err(|e| SetupError::Invalid(format!("key `{name}`: {e}")))?;
        if keys
            .insert(Some(kid), TrustedKey::public(key, alg))
            .is_some()
        {
            return Err(SetupError::Invalid(format!(
                "two keys have the `kid` `{name}`: key ids must be distinct"
            )));
        }
    }
    if keys.is_empty() {
        return Err(SetupError::Invalid(
            "no RS256 or ES256 keys in the JWKS".into(),
        ));
    }
    Ok(keys)
}

/// Bits of a base64url big-endian modulus, leading zeros ignored.
fn rsa_bits(n: &str) -> Option<usize> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .ok()?;
    let first = bytes.iter().position(|b| *b != 0)?;
    let lead = bytes[first].leading_zeros() as usize;
    Some((bytes.len() - first) * 8 - lead)
}

/// When unknown key ids last triggered a reload: any, and each.
#[derive(Default)]
struct OnDemand {
    last: Option<Instant>,
    kids: hashlink::LinkedHashMap<String, Instant>,
    clients: hashlink::LinkedHashMap<std::net::IpAddr, Instant>,
}

/// Whether `key` triggered a reload within `interval`.
fn recent<K: std::hash::Hash + Eq>(
    map: &hashlink::LinkedHashMap<K, Instant>,
    key: &K,
    interval: Duration,
) -> bool {
    map.get(key).is_some_and(|t| t.elapsed() < interval)
}

/// Records that `key` triggered a reload at `now`, forgetting the oldest.
fn remember<K: std::hash::Hash + Eq>(
    map: &mut hashlink::LinkedHashMap<K, Instant>,
    key: K,
    now: Instant,
) {
    map.remove(&key);
    map.insert(key, now);
    while map.len() > MAX_REMEMBERED_KIDS {
        map.pop_front();
    }
}

impl OnDemand {
    /// Takes a reload for `kid` asked by `client` if no limit forbids it.
    fn allow(&mut self, kid: &str, client: Option<std::net::IpAddr>) -> bool {
        if self.last.is_some_and(|t| t.elapsed() < ON_DEMAND_GAP)
            || recent(&self.kids, &kid.to_string(), ON_DEMAND_INTERVAL)
            || client.is_some_and(|c| recent(&self.clients, &c, ON_DEMAND_INTERVAL))
        {
            return false;
        }
        let now = Instant::now();
        self.last = Some(now);
        remember(&mut self.kids, kid.to_string(), now);
        if let Some(client) = client {
            remember(&mut self.clients, client, now);
        }
        true
    }
}

/// The current keys and where they come from.
pub struct KeyStore {
    source: KeySource,
    http: reqwest::Client,
    current: RwLock<(Arc<Keys>, String)>,
    on_demand: Mutex<OnDemand>,
    on_change: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyStore")
            .field("keys", &self.keys().len())
            .finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Loads the keys; `on_change` runs whenever a reload changes them.
    pub async fn load(
        source: KeySource,
        http: reqwest::Client,
        on_change: Box<dyn Fn() + Send + Sync>,
    ) -> Result<Self, SetupError> {
        let (keys, text) = match &source {
            KeySource::Secret(secret) => {
                let key = DecodingKey::from_secret(secret)
                    .map_err(|e| SetupError::Invalid(format!("development key: {e}")))?;
                let dev = TrustedKey {
                    key,
                    alg: Algorithm::HS256,
                    hs256: Some(Hs256::new(secret)),
                };
                (HashMap::from([(None, dev)]), String::new())
            }
            KeySource::JwksFile(_) | KeySource::JwksUrl(_) => {
                let text = fetch(&source, &http).await?;
                (parse(&text)?, text)
            }
        };
        Ok(Self {
            source,
            http,
            current: RwLock::new((Arc::new(keys), text)),
            on_demand: Mutex::default(),
            on_change,
        })
    }

    /// The keys in force.
    pub fn keys(&self) -> Arc<Keys> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// Replaces the keys if `text` differs from what we have; true if it did.
    fn apply(&self, text: String) -> Result<bool, SetupError> {
        if self.current.read().unwrap_or_else(|e| e.into_inner()).1 == text {
            return Ok(false);
        }
        let keys = parse(&text)?;
        let count = keys.len();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = (Arc::new(keys), text);
        (self.on_change)();
        tracing::info!(keys = count, "JWKS reloaded with changed keys");
        Ok(true)
    }

    /// Reloads now; failures keep the current keys and are logged.
    pub async fn refresh(&self) -> bool {
        if matches!(self.source, KeySource::Secret(_)) {
            return false;
        }
        match fetch(&self.source, &self.http)
            .await
            .and_then(|t| self.apply(t))
        {
            Ok(changed) => changed,
            Err(e) => {
                tracing::warn!(error = %e, "reloading the JWKS failed; keeping the current keys");
                false
            }
        }
    }

    /// Called when a token names the unknown key id `kid`: reloads at most
    /// once per [`ON_DEMAND_INTERVAL`] for that id and once per
    /// [`ON_DEMAND_GAP`] in all; true if the keys changed. A URL is fetched
    /// on this thread when the runtime allows blocking it (multi-threaded),
    /// otherwise in the background for the next request.
    pub fn refresh_for_unknown_kid(self: &Arc<Self>, kid: &str) -> bool {
        if matches!(self.source, KeySource::Secret(_)) {
            return false;
        }
        if !self
            .on_demand
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .allow(kid, crate::ops::request_context::peer())
        {
            return false;
        }
        match &self.source {
            KeySource::JwksFile(path) => match read_file(path).and_then(|t| self.apply(t)) {
                Ok(changed) => changed,
                Err(e) => {
                    tracing::warn!(error = %e, "re-reading the JWKS failed; keeping the current keys");
                    false
                }
            },
            _ => match tokio::runtime::Handle::try_current() {
                Ok(handle)
                    if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread =>
                {
                    tokio::task::block_in_place(|| handle.block_on(self.refresh()))
                }
                Ok(handle) => {
                    let store = self.clone();
                    handle.spawn(async move { store.refresh().await });
                    false
                }
                Err(_) => false,
            },
        }
    }

    /// Starts the periodic reload on the current tokio runtime (none for the
    /// development key, or outside a runtime). The task ends once the store
    /// is dropped.
    pub fn spawn_refresher(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let period = match self.source {
            KeySource::Secret(_) => return None,
            KeySource::JwksFile(_) => FILE_REFRESH_INTERVAL,
            KeySource::JwksUrl(_) => URL_REFRESH_INTERVAL,
        };
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let weak: Weak<Self> = Arc::downgrade(self);
        Some(runtime.spawn(async move {
            loop {
                tokio::time::sleep(period).await;
                let Some(store) = weak.upgrade() else { return };
                store.refresh().await;
            }
        }))
    }
}

fn read_file(path: &std::path::Path) -> Result<String, SetupError> {
    use std::io::Read;
    // The operator's file: a link is followed (mounted secrets are links),
    // a FIFO or device refused rather than waited on.
    let file = crate::files::open_regular(
        path,
        std::fs::OpenOptions::new().read(true),
        crate::files::Links::Follow,
    )
    .map_err(|e| SetupError::Read(path.to_path_buf(), e))?;
    let mut text = String::new();
    file.take(MAX_JWKS_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| SetupError::Read(path.to_path_buf(), e))?;
    if text.len() > MAX_JWKS_BYTES {
        return Err(SetupError::Invalid(format!(
            "the JWKS is larger than {MAX_JWKS_BYTES} bytes"
        )));
    }
    Ok(text)
}

async fn fetch(source: &KeySource, http: &reqwest::Client) -> Result<String, SetupError> {
    match source {
        KeySource::JwksFile(path) => read_file(path),
        KeySource::JwksUrl(url) => {
            metrics::counter!(crate::meters::JWKS_FETCHES).increment(1);
            let fail = |e: String| SetupError::Fetch(url.clone(), e);
            let mut response = http
                .get(url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| fail(e.without_url().to_string()))?;
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| fail(e.without_url().to_string()))?
            {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_JWKS_BYTES {
                    return Err(fail(format!("larger than {MAX_JWKS_BYTES} bytes")));
                }
            }
            String::from_utf8(body).map_err(|_| fail("not UTF-8 text".into()))
        }
        KeySource::Secret(_) => Ok(String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_ids_reload_each_once_and_all_at_a_bounded_rate() {
        let mut on_demand = OnDemand::default();
        let (greedy, other) = (Some([10, 0, 0, 1].into()), Some([10, 0, 0, 2].into()));
        assert!(on_demand.allow("junk-1", greedy));
        assert!(!on_demand.allow("junk-1", other), "the same id again");
        assert!(!on_demand.allow("new", other), "within the gap");
        on_demand.last = on_demand.last.map(|t| t - ON_DEMAND_GAP);
        assert!(
            !on_demand.allow("junk-1", other),
            "per id: within its interval"
        );
        assert!(
            !on_demand.allow("junk-2", greedy),
            "per client: within its interval"
        );
        assert!(
            on_demand.allow("new", other),
            "another id and client, after the gap"
        );
    }

    #[test]
    fn rsa_bits_ignore_leading_zeros() {
        use base64::Engine;
        let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let mut n = vec![0u8; 1];
        n.extend(std::iter::repeat_n(0xffu8, 256));
        assert_eq!(rsa_bits(&enc(&n)), Some(2048));
        assert_eq!(rsa_bits(&enc(&[0x01; 128])), Some(1017));
        assert_eq!(rsa_bits(&enc(&[0; 4])), None);
    }

    #[test]
    fn kidless_and_symmetric_documents_are_refused() {
        let err = parse(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `kid`"), "{err}");
        let err = parse(r#"{"keys":[{"kty":"oct","k":"AAAA","kid":"x"}]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no RS256 or ES256"), "{err}");
    }
}
