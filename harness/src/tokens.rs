//! Tokens for tests: development tokens from a service's data dir, and RS256 /
//! ES256 keys generated on the fly (with the `openssl` tool) served as a JWKS.

use std::path::Path;
use std::process::Command;

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::process::stdout_of;
use users_service::auth::{Identity, devkey};

/// A development ID token for `sub`, signed with the service's local key.
pub fn dev_token(data_dir: &Path, sub: &str) -> String {
    let key = devkey::load_or_create(data_dir).expect("dev key");
    let claims = Identity {
        subject: sub.into(),
        email: Some(format!("{}@example.com", sub.replace('|', "."))),
        name: Some(format!("User {sub}")),
        nickname: Some(sub.replace('|', "-")),
        ..Identity::default()
    };
    devkey::mint(&key, &claims, 3600).expect("mint")
}

/// A private key generated for the test, with its PEM text.
pub struct TestKey {
    /// Signing key.
    pub encoding: EncodingKey,
    /// The algorithm it signs with.
    pub alg: Algorithm,
    /// Key id published in the JWKS.
    pub kid: String,
    /// PEM of the public key (used to forge HS256 "signed with the public key").
    pub public_pem: Vec<u8>,
}

fn openssl(args: &[&str]) -> Vec<u8> {
    stdout_of(Command::new("openssl").args(args)).into_bytes()
}

impl TestKey {
    /// Generates a fresh RSA-2048 (RS256) or P-256 (ES256) key.
    pub fn generate(alg: Algorithm, kid: &str, dir: &Path) -> Self {
        match alg {
            Algorithm::RS256 => Self::rsa(2048, kid, dir),
            Algorithm::ES256 => Self::ec(kid, dir),
            other => panic!("unsupported test key {other:?}"),
        }
    }

    /// Generates an RSA key of `bits` bits (RS256).
    pub fn rsa(bits: u32, kid: &str, dir: &Path) -> Self {
        let bits = format!("rsa_keygen_bits:{bits}");
        Self::openssl_key(Algorithm::RS256, kid, dir, &["RSA", "-pkeyopt", &bits])
    }

    /// Generates a P-256 key (ES256).
    pub fn ec(kid: &str, dir: &Path) -> Self {
        let curve = ["EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
        Self::openssl_key(Algorithm::ES256, kid, dir, &curve)
    }

    /// `openssl genpkey -algorithm ALGORITHM…` into `dir/KID.pem`.
    fn openssl_key(alg: Algorithm, kid: &str, dir: &Path, algorithm: &[&str]) -> Self {
        let path = dir.join(format!("{kid}.pem"));
        let path_s = path.to_str().expect("utf8 path");
        let mut args = vec!["genpkey", "-algorithm"];
        args.extend_from_slice(algorithm);
        args.extend_from_slice(&["-out", path_s]);
        openssl(&args);
        let pem = std::fs::read(&path).expect("key file");
        let public_pem = openssl(&["pkey", "-in", path_s, "-pubout"]);
        let encoding = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
            _ => EncodingKey::from_ec_pem(&pem),
        }
        .expect("key parses");
        Self {
            encoding,
            alg,
            kid: kid.into(),
            public_pem,
        }
    }

    /// The public JWK.
    pub fn jwk(&self) -> Jwk {
        let mut jwk = Jwk::from_encoding_key(&self.encoding, self.alg).expect("jwk");
        jwk.common.key_id = Some(self.kid.clone());
        jwk
    }

    /// Signs `claims` with this key (header `alg` and `kid` set).
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

/// Writes a JWKS file holding the public keys.
pub fn write_jwks(path: &Path, keys: &[&TestKey]) {
    let set = JwkSet {
        keys: keys.iter().map(|k| k.jwk()).collect(),
    };
    std::fs::write(path, serde_json::to_vec(&set).expect("json")).expect("write jwks");
}

/// Standard claims for `sub`, valid now, for `iss`/`aud`.
pub fn claims(iss: &str, aud: &str, sub: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": iss, "aud": aud, "sub": sub, "iat": now, "nbf": now - 5, "exp": now + 600,
            "email": "jwks@example.com", "name": "Jay Doubleyou", "nickname": "jay" })
}

/// Base64url without padding, for hand-built tokens.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
