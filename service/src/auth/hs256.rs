//! The development key's HS256 signatures checked with the key prepared
//! once: `jsonwebtoken::crypto::verify` builds a new HMAC for every token,
//! absorbing the key anew (two SHA-256 blocks, about 7,600 instructions of
//! a sign-in's 221,000, callgrind). Same check as jsonwebtoken's HS256
//! verifier: the `hmac` crate's constant-time comparison of the MAC of the
//! signed part with the base64url-decoded signature.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// An HS256 key with its HMAC state prepared.
#[derive(Clone)]
pub struct Hs256(Hmac<Sha256>);

/// The signature is not base64url (without padding): the token cannot be
/// read, as jsonwebtoken reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature is not base64url")]
pub struct Unreadable;

impl Hs256 {
    /// Prepares `secret` (any length, as HMAC allows).
    pub fn new(secret: &[u8]) -> Self {
        Self(Hmac::new_from_slice(secret).expect("HMAC takes a key of any length"))
    }

    /// Whether `signature` (base64url, as in a JWT) is the MAC of `message`.
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<bool, Unreadable> {
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| Unreadable)?;
        Ok(self
            .0
            .clone()
            .chain_update(message)
            .verify_slice(&signature)
            .is_ok())
    }
}

impl std::fmt::Debug for Hs256 {
    /// Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hs256(..)")
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};

    use super::*;

    /// Against jsonwebtoken's own HS256 signing and verifying, for keys of
    /// several lengths (shorter and longer than SHA-256's block), messages,
    /// and altered, truncated or unreadable signatures.
    #[test]
    fn verifies_as_jsonwebtoken_does() {
        for secret in [&b"k"[..], &[7u8; 32], &[9u8; 64], &[1u8; 100]] {
            let prepared = Hs256::new(secret);
            let (signing, checking) = (
                EncodingKey::from_secret(secret).unwrap(),
                DecodingKey::from_secret(secret).unwrap(),
            );
            for message in [&b""[..], b"a.b", &[b'x'; 300]] {
                let good = jsonwebtoken::crypto::sign(message, &signing, Algorithm::HS256).unwrap();
                let mut altered = good.clone().into_bytes();
                altered[0] = if altered[0] == b'A' { b'B' } else { b'A' };
                let altered = String::from_utf8(altered).unwrap();
                let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
                let truncated = engine.encode(&engine.decode(&good).unwrap()[..16]);
                for signature in [
                    good.as_str(),
                    &altered,
                    &truncated,
                    "",
                    "c2hvcnQ",
                    "!!!",
                    "AAAA=",
                ] {
                    let theirs = jsonwebtoken::crypto::verify(
                        signature,
                        message,
                        &checking,
                        Algorithm::HS256,
                    )
                    .map_err(|_| Unreadable);
                    assert_eq!(
                        prepared.verify(message, signature),
                        theirs,
                        "{secret:?} {signature}"
                    );
                }
                assert_eq!(prepared.verify(message, &good), Ok(true));
                assert_eq!(prepared.verify(message, &altered), Ok(false));
            }
        }
    }
}
