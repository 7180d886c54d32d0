//! Rate limits on calls to the identity provider's userinfo endpoint: a
//! token bucket per client (so that one client's junk tokens cannot use up
//! everyone's calls) within a global one (so that many clients cannot flood
//! the provider).

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use hashlink::LinkedHashMap;

/// Userinfo calls allowed per second on average for all clients together,
/// and in a burst.
pub const GLOBAL_PER_SECOND: f64 = 10.0;
const GLOBAL_BURST: f64 = 20.0;
/// Userinfo calls allowed per second on average for one client (an IPv4
/// address or an IPv6 /64), and in a burst.
pub const CLIENT_PER_SECOND: f64 = 2.0;
const CLIENT_BURST: f64 = 10.0;
/// Clients whose buckets are remembered; the least recently seen goes first.
const MAX_CLIENTS: usize = 4096;

/// A token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: f64) -> Self {
        Self {
            tokens: burst,
            at: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    fn take(&mut self, per_second: f64, burst: f64) -> bool {
        let now = Instant::now();
        let refilled = self.tokens + now.duration_since(self.at).as_secs_f64() * per_second;
        self.tokens = refilled.min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Which limit refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// This client's own share is used up.
    Client,
    /// All clients together are at the provider's limit.
    Global,
}

/// The per-client and global buckets.
pub struct RateLimit {
    global: Mutex<Bucket>,
    clients: Mutex<LinkedHashMap<IpAddr, Bucket>>,
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            global: Mutex::new(Bucket::full(GLOBAL_BURST)),
            clients: Mutex::new(LinkedHashMap::new()),
        }
    }
}

/// The key a client's bucket is kept under: an IPv4 address, or the /64
/// network of an IPv6 one (one host commonly holds a whole /64).
fn client_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::from(octets)
            }
        },
    }
}

impl RateLimit {
    /// Takes one call for `client` (unknown clients share the global bucket
    /// only), or says which limit refused it.
    pub fn allow(&self, client: Option<IpAddr>) -> Result<(), Limited> {
        let key = client.map(client_key);
        if let Some(key) = key {
            let mut clients = super::cache::lock(&self.clients);
            let mut bucket = clients
                .remove(&key)
                .unwrap_or_else(|| Bucket::full(CLIENT_BURST));
            let allowed = bucket.take(CLIENT_PER_SECOND, CLIENT_BURST);
            clients.insert(key, bucket);
            while clients.len() > MAX_CLIENTS {
                clients.pop_front();
            }
            if !allowed {
                return Err(Limited::Client);
            }
        }
        if super::cache::lock(&self.global).take(GLOBAL_PER_SECOND, GLOBAL_BURST) {
            return Ok(());
        }
        // Not this client's fault: give its token back.
        if let Some(key) = key
            && let Some(bucket) = super::cache::lock(&self.clients).get_mut(&key)
        {
            bucket.tokens = (bucket.tokens + 1.0).min(CLIENT_BURST);
        }
        Err(Limited::Global)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_cannot_use_up_the_others_calls() {
        let limit = RateLimit::default();
        let greedy = Some(IpAddr::from([10, 0, 0, 1]));
        let allowed = (0..100).filter(|_| limit.allow(greedy).is_ok()).count();
        assert_eq!(allowed, CLIENT_BURST as usize, "a burst, then refused");
        assert_eq!(limit.allow(greedy), Err(Limited::Client));
        for i in 0..5 {
            let other = Some(IpAddr::from([10, 0, 1, i]));
            assert_eq!(limit.allow(other), Ok(()), "client {i}");
        }
        // Many clients together reach the global limit.
        let refused = (0..100u8)
            .map(|i| limit.allow(Some(IpAddr::from([10, 1, i, 0]))))
            .filter(|r| *r == Err(Limited::Global))
            .count();
        assert!(refused > 0);
        // One IPv6 host is one client whatever its interface id.
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let b: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
    }
}
