//! A least-recently-used map from token text to a value, bounded in bytes.

use std::sync::{Mutex, MutexGuard};

use hashlink::LinkedHashMap;

/// Locks a mutex, carrying on if a panicking thread poisoned it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes counted for an entry besides its key and value: the map's node,
/// hash slot and allocation headers, rounded up.
pub const ENTRY_OVERHEAD: usize = 128;

/// Values that can say roughly how many heap bytes they hold.
pub trait Weigh {
    /// Heap bytes held by the value, without the entry overhead.
    fn weight(&self) -> usize;
}

/// Token text to value; the least recently used entries go first when the
/// sum of the entries' weights would pass the budget.
pub struct Lru<V> {
    map: LinkedHashMap<String, (V, usize)>,
    bytes: usize,
    budget: usize,
}

impl<V: Weigh> Lru<V> {
    /// An empty cache holding at most `budget` bytes.
    pub fn new(budget: usize) -> Self {
        Self {
            map: LinkedHashMap::new(),
            bytes: 0,
            budget,
        }
    }

    /// The value for `key`, marking it most recently used.
    pub fn get(&mut self, key: &str) -> Option<&V> {
        self.map.to_back(key).map(|(v, _)| &*v)
    }

    /// Inserts or replaces `key`, evicting the least recently used entries
    /// to stay within the budget. An entry larger than the budget is not kept.
    pub fn insert(&mut self, key: &str, value: V) {
        let weight = key
            .len()
            .saturating_add(value.weight())
            .saturating_add(ENTRY_OVERHEAD);
        self.remove(key);
        if weight > self.budget {
            return;
        }
        while self.bytes.saturating_add(weight) > self.budget {
            match self.map.pop_front() {
                Some((_, (_, w))) => self.bytes -= w,
                None => break,
            }
        }
        self.map.insert(key.to_string(), (value, weight));
        self.bytes += weight;
    }

    /// Removes `key` if present.
    pub fn remove(&mut self, key: &str) {
        if let Some((_, w)) = self.map.remove(key) {
            self.bytes -= w;
        }
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&V) -> bool) {
        let mut bytes = self.bytes;
        self.map.retain(|_, (v, w)| {
            let kept = keep(v);
            if !kept {
                bytes -= *w;
            }
            kept
        });
        self.bytes = bytes;
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }

    /// Bytes currently counted.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Number of entries.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no entries.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blob(usize);
    impl Weigh for Blob {
        fn weight(&self) -> usize {
            self.0
        }
    }

    #[test]
    fn evicts_least_recently_used_within_the_byte_budget() {
        let unit = 100 + ENTRY_OVERHEAD + 1;
        let mut lru = Lru::new(unit * 3);
        for k in ["a", "b", "c"] {
            lru.insert(k, Blob(100));
        }
        assert_eq!(lru.len(), 3);
        assert!(lru.get("a").is_some()); // a is now the most recent
        lru.insert("d", Blob(100));
        assert!(lru.get("b").is_none(), "b was least recently used");
        assert!(lru.get("a").is_some() && lru.get("c").is_some() && lru.get("d").is_some());
        assert!(lru.bytes() <= unit * 3);
        lru.insert("huge", Blob(unit * 10));
        assert!(lru.get("huge").is_none(), "larger than the budget");
        lru.retain(|b| b.0 != 100);
        assert!(lru.is_empty());
        assert_eq!(lru.bytes(), 0);
    }
}
