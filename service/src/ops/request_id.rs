//! Request ids: taken from a trusted proxy's `X-Request-Id` when well
//! formed, else made here; returned in the response's `X-Request-Id`.
//!
//! A made id is 32 lower-case hex digits, like nginx's `$request_id`: a
//! random 64-bit prefix drawn once per process and a 64-bit counter, so ids
//! never repeat within an instance and instances differ by their prefix.
//! A client's header is never logged or echoed unless the operator trusts
//! the proxy in front (`--trust-proxy-request-id`), and then only when it
//! is 1 to [`MAX_LEN`] characters of letters, digits, `-`, `_`, `.`, `:`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// The request and response header.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id accepted from a proxy.
pub const MAX_LEN: usize = 128;

/// Whether `id` may be used as a request id as it is.
pub fn is_well_formed(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Gives each request its id.
#[derive(Debug)]
pub struct RequestIds {
    /// The random prefix in hex, written once.
    prefix_hex: [u8; 16],
    next: AtomicU64,
    trust_proxy: bool,
}

/// `n` in 16 lower-case hex digits.
fn hex(n: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, pair) in n.to_be_bytes().iter().enumerate() {
        out[2 * i] = b"0123456789abcdef"[usize::from(pair >> 4)];
        out[2 * i + 1] = b"0123456789abcdef"[usize::from(pair & 0xf)];
    }
    out
}

impl RequestIds {
    /// Ids made here, or also taken from a proxy's header (`trust_proxy`).
    pub fn new(trust_proxy: bool) -> Self {
        let mut seed = [0u8; 8];
        // Without system randomness the clock still tells instances apart.
        let prefix = match getrandom::fill(&mut seed) {
            Ok(()) => u64::from_le_bytes(seed),
            Err(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
        };
        Self {
            prefix_hex: hex(prefix),
            next: AtomicU64::new(0),
            trust_proxy,
        }
    }

    /// The id of a request with these headers.
    pub fn for_request(&self, headers: &HeaderMap) -> HeaderValue {
        if self.trust_proxy
            && let Some(id) = headers.get(&HEADER)
        {
            if is_well_formed(id.as_bytes()) {
                return id.clone();
            }
            tracing::debug!(
                length = id.len(),
                "ignoring a malformed X-Request-Id from the proxy"
            );
        }
        self.make()
    }

    /// A new id.
    pub fn make(&self) -> HeaderValue {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut id = [0u8; 32];
        id[..16].copy_from_slice(&self.prefix_hex);
        id[16..].copy_from_slice(&hex(n));
        HeaderValue::from_bytes(&id).expect("hex digits are a valid header value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(id: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(&HEADER, HeaderValue::from_str(id).unwrap());
        headers
    }

    #[test]
    fn made_ids_are_distinct_hex() {
        let ids = RequestIds::new(false);
        let first = ids.make();
        let first = first.to_str().unwrap();
        let prefix = u64::from_str_radix(&first[..16], 16).unwrap();
        assert_eq!(
            first,
            format!("{prefix:016x}{:016x}", 0),
            "the prefix, then the counter"
        );
        ids.next.store(0xfedc_ba98_7654_3210, Ordering::Relaxed);
        assert_eq!(
            ids.make().to_str().unwrap(),
            format!("{prefix:016x}fedcba9876543210"),
            "every digit of the counter"
        );
        let (a, b) = (ids.make(), ids.make());
        assert_ne!(a, b);
        for id in [&a, &b] {
            assert_eq!(id.len(), 32);
            assert!(id.as_bytes().iter().all(u8::is_ascii_hexdigit), "{id:?}");
        }
        assert_ne!(
            RequestIds::new(false).make().as_bytes()[..16],
            a.as_bytes()[..16],
            "instances differ by their prefix"
        );
    }

    #[test]
    fn a_proxy_id_is_kept_only_when_trusted_and_well_formed() {
        let untrusted = RequestIds::new(false);
        assert_ne!(untrusted.for_request(&with("proxy-1")), "proxy-1");
        let trusted = RequestIds::new(true);
        assert_eq!(trusted.for_request(&with("proxy-1")), "proxy-1");
        assert_eq!(
            trusted.for_request(&with("0a1b:c.d_e-F")),
            "0a1b:c.d_e-F",
            "every allowed character"
        );
        for bad in [
            "",
            "a b",
            "a\"b",
            "<script>",
            "a/b",
            "é",
            &"x".repeat(MAX_LEN + 1),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(&HEADER, HeaderValue::from_bytes(bad.as_bytes()).unwrap());
            let id = trusted.for_request(&headers);
            assert_ne!(id.as_bytes(), bad.as_bytes(), "{bad:?}");
            assert_eq!(id.len(), 32, "{bad:?} replaced by a made id");
        }
        assert_eq!(trusted.for_request(&HeaderMap::new()).len(), 32);
        assert!(is_well_formed("x".repeat(MAX_LEN).as_bytes()));
    }
}
