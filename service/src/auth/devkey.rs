//! Development mode: a local HS256 key kept in the data directory, and minting
//! ID tokens with it, so the service runs end to end without an identity provider.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::identity::Identity;

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

/// Longest lifetime of a minted token: one year.
pub const MAX_TTL_SECONDS: i64 = 365 * 24 * 3600;
/// A key file longer than this is not one of ours.
const MAX_KEY_FILE_BYTES: u64 = 1024;

/// Loads the development key, creating a random 256-bit one on first use.
///
/// An existing key file is refused unless it belongs to the user running the
/// service and no one else can read it: whoever can write or plant it can
/// mint tokens this service accepts, and whoever can read it can too.
pub fn load_or_create(data_dir: &Path) -> Result<Vec<u8>> {
    let path = key_path(data_dir);
    // Never through a planted link, never hanging on a FIFO.
    let opened = crate::files::open_regular(
        &path,
        std::fs::OpenOptions::new().read(true),
        crate::files::Links::Refuse,
    );
    match opened {
        Ok(file) => return load(&path, file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("reading development key {}", path.display()));
        }
    }
    crate::files::create_private_dir(data_dir)
        .with_context(|| format!("creating data directory {}", data_dir.display()))?;
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &hex)?;
    Ok(key)
}

fn load(path: &Path, file: std::fs::File) -> Result<Vec<u8>> {
    use std::io::Read;
    check_private(path, &file)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading development key {}", path.display()))?;
    decode_hex(bytes.trim_ascii()).with_context(|| {
        format!(
            "development key {} is corrupt; delete it to have a new one created \
             (tokens minted with the old key stop working)",
            path.display()
        )
    })
}

/// Refuses a key file owned by another user or readable by group or others.
#[cfg(unix)]
fn check_private(path: &Path, file: &std::fs::File) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file
        .metadata()
        .with_context(|| format!("reading development key {}", path.display()))?;
    let me = crate::files::current_uid();
    if meta.uid() != me {
        anyhow::bail!(
            "development key {} is owned by user id {}, not by the user running the service \
             (user id {me}): another user may have planted it to forge tokens. Delete it \
             (`rm {}`) so that a new one is created, or use a data directory of your own \
             (--data-dir)",
            path.display(),
            meta.uid(),
            path.display()
        );
    }
    if meta.mode() & 0o077 != 0 {
        anyhow::bail!(
            "development key {} can be read or changed by other users (mode {:03o}), who could \
             forge tokens with it. Make it private with `chmod 600 {}`, or delete it to have \
             a new one created",
            path.display(),
            meta.mode() & 0o777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _file: &std::fs::File) -> Result<()> {
    Ok(())
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

/// 64 hex digits to 32 bytes; anything else (other lengths, non-ASCII) is an error.
fn decode_hex(text: &[u8]) -> Result<Vec<u8>> {
    anyhow::ensure!(text.len() == 64, "expected 64 hex digits");
    text.chunks_exact(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16).context("expected hex digits only");
            Ok(u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?)?)
        })
        .collect()
}

/// The registered claims a minted token adds to the identity's.
#[derive(Serialize)]
struct Minted<'a> {
    #[serde(flatten)]
    identity: &'a Identity,
    aud: &'a str,
    nbf: i64,
    exp: i64,
}

/// Signs a development ID token for `identity` (its issuer and issue time
/// are set here) valid for `ttl_seconds`; negative mints an already expired
/// token, for testing how clients handle one.
pub fn mint(key: &[u8], identity: &Identity, ttl_seconds: i64) -> Result<String> {
    anyhow::ensure!(
        ttl_seconds != 0 && (-MAX_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ttl_seconds),
        "the token lifetime (--ttl) must be between -{MAX_TTL_SECONDS} and {MAX_TTL_SECONDS} \
         seconds, and not 0 (negative: already expired)"
    );
    let now = chrono::Utc::now().timestamp();
    let identity = Identity {
        issuer: DEV_ISSUER.into(),
        issued_at: u64::try_from(now).ok(),
        ..identity.clone()
    };
    let claims = Minted {
        identity: &identity,
        aud: DEV_AUDIENCE,
        nbf: now,
        exp: now.saturating_add(ttl_seconds),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key).context("loading the development key")?,
    )
    .context("signing the token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_that_are_not_hex_are_errors_not_panics() {
        for text in [
            "",
            "zz",
            "é".repeat(32).as_str(),
            &"g".repeat(64),
            &"ab".repeat(40),
        ] {
            assert!(decode_hex(text.as_bytes()).is_err(), "{text:?}");
        }
        // 64 bytes of which some are multi-byte characters.
        let mixed = format!("{}é{}", "a".repeat(31), "b".repeat(31));
        assert_eq!(mixed.len(), 64);
        assert!(decode_hex(mixed.as_bytes()).is_err());
        assert_eq!(
            decode_hex("0f".repeat(32).as_bytes()).unwrap(),
            vec![15u8; 32]
        );
    }

    #[test]
    fn lifetimes_are_bounded() {
        let claims = Identity {
            subject: "github|1".into(),
            ..Default::default()
        };
        let mint = |ttl| mint(&[1u8; 32], &claims, ttl);
        assert!(mint(i64::MAX).is_err());
        assert!(mint(0).is_err());
        assert!(mint(MAX_TTL_SECONDS).is_ok());
        assert!(
            mint(-MAX_TTL_SECONDS).is_ok(),
            "an expired token, on purpose"
        );
        assert!(mint(-MAX_TTL_SECONDS - 1).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn readable_key_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = load_or_create(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap(), key);
        let path = key_path(dir.path());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = format!("{:#}", load_or_create(dir.path()).unwrap_err());
        assert!(err.contains("chmod 600"), "{err}");
    }
}
