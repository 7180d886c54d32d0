//! Development mode: a local HS256 key kept in the data directory, and minting
//! ID tokens with it, so the service runs end to end without an identity provider.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// Issuer of development tokens.
pub const DEV_ISSUER: &str = "urn:users-service:dev";
/// Audience of development tokens.
pub const DEV_AUDIENCE: &str = "users-service";
/// File name of the key inside the data directory.
const KEY_FILE: &str = "dev-hs256.key";

/// The key file's path under a data directory.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE)
}

/// Loads the development key, creating a random 256-bit one on first use.
pub fn load_or_create(data_dir: &Path) -> Result<Vec<u8>> {
    let path = key_path(data_dir);
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode_hex(text.trim())
            .with_context(|| format!("development key {} is corrupt", path.display()));
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &hex)?;
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("creating {}", path.display()))
}

fn decode_hex(text: &str) -> Result<Vec<u8>> {
    anyhow::ensure!(text.len() == 64, "expected 64 hex digits");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).context("not hex"))
        .collect()
}

/// Claims of a minted development ID token.
#[derive(Debug, Serialize)]
pub struct DevClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nickname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<&'a str>,
}

/// What to put in a minted token.
#[derive(Debug, Clone, Default)]
pub struct MintRequest {
    /// `sub`, Auth0 style (`github|123`).
    pub subject: String,
    /// `email`.
    pub email: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `nickname`.
    pub nickname: Option<String>,
    /// `picture`.
    pub picture: Option<String>,
    /// Lifetime in seconds.
    pub ttl_seconds: i64,
}

/// Signs a development ID token with `key`.
pub fn mint(key: &[u8], request: &MintRequest) -> Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = DevClaims {
        iss: DEV_ISSUER,
        aud: DEV_AUDIENCE,
        sub: &request.subject,
        iat: now,
        nbf: now,
        exp: now + request.ttl_seconds,
        email: request.email.as_deref(),
        name: request.name.as_deref(),
        nickname: request.nickname.as_deref(),
        picture: request.picture.as_deref(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key).context("loading the development key")?,
    )
    .context("signing the token")
}
