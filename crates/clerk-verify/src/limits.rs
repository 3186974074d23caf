//! Bounds on what strangers can make us remember or spend: a bounded memory of strings seen
//! (refused handshake nonces, completed handshakes, refused or verified machine tokens), each
//! with a value if need be, and a budget of calls per second (Backend API calls). Pure
//! bookkeeping: no I/O, no knowledge of what is remembered.

use crate::crypto::sha256;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;

/// A bounded memory of strings (by their SHA-256: the strings themselves, tokens or nonces,
/// are never kept), each with a value `V` until a time (Unix seconds). Lookups share a read
/// lock: a machine token's result-cache hit is a verification fast path, and concurrent
/// requests must not queue behind one another for it.
pub(crate) struct Memory<V = ()> {
    entries: RwLock<HashMap<[u8; 32], (i64, V)>>,
    capacity: usize,
}

impl<V: Clone> Memory<V> {
    pub(crate) fn new(capacity: usize) -> Memory<V> {
        Memory {
            entries: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    pub(crate) fn contains(&self, what: &str, now: i64) -> bool {
        self.get(what, now).is_some()
    }

    /// The value remembered for `what`, if it is still remembered at `now`.
    pub(crate) fn get(&self, what: &str, now: i64) -> Option<V> {
        self.get_hashed(&sha256(what.as_bytes()), now)
    }

    /// [`Memory::get`] for a string already hashed (`sha256(what)`), so that one hash serves
    /// several memories. A memory of capacity zero holds nothing and takes no lock.
    pub(crate) fn get_hashed(&self, key: &[u8; 32], now: i64) -> Option<V> {
        if self.capacity == 0 {
            return None;
        }
        self.entries
            .read()
            .get(key)
            .filter(|(until, _)| *until > now)
            .map(|(_, value)| value.clone())
    }

    /// Remembers `what` with `value` until `forget_at`, unless it is already remembered
    /// (`false` then: the first value stays). When full, the expired entries go first, then
    /// the one that expires soonest: what enters is the newest fact, and the memory never
    /// grows past its capacity. A capacity of zero, or a `forget_at` not after `now`,
    /// remembers nothing.
    pub(crate) fn insert(&self, what: &str, value: V, forget_at: i64, now: i64) -> bool {
        let key = sha256(what.as_bytes());
        let mut entries = self.entries.write();
        if entries.get(&key).is_some_and(|(until, _)| *until > now) {
            return false;
        }
        if self.capacity == 0 || forget_at <= now {
            entries.remove(&key);
            return true;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, (until, _)| *until > now);
        }
        if entries.len() >= self.capacity {
            if let Some(first) = entries
                .iter()
                .min_by_key(|(_, (until, _))| *until)
                .map(|(k, _)| *k)
            {
                entries.remove(&first);
            }
        }
        entries.insert(key, (forget_at, value));
        true
    }

    /// How many entries are held (expired ones included, until they are swept).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        self.entries.read().len()
    }
}

impl Memory<()> {
    /// Remembers `what` until `forget_at`; `false` when it was already remembered.
    pub(crate) fn remember(&self, what: &str, forget_at: i64, now: i64) -> bool {
        self.insert(what, (), forget_at, now)
    }
}

/// A token bucket: at most `rate` takes per second, with a burst of as many.
pub(crate) struct Budget {
    rate: f64,
    state: Mutex<(f64, std::time::Instant)>,
}

impl Budget {
    pub(crate) fn per_second(rate: u32) -> Budget {
        let rate = f64::from(rate.max(1));
        Budget {
            rate,
            state: Mutex::new((rate, std::time::Instant::now())),
        }
    }

    /// Takes one unit if there is one.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn take(&self) -> bool {
        let mut state = self.state.lock();
        let (tokens, last) = &mut *state;
        let now = std::time::Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn lookups_do_not_wait_for_one_another() {
        let memory: Memory<u32> = Memory::new(4);
        assert!(memory.insert("token", 7, 100, 0));
        // A lookup in progress (its lock held) does not hold up another one.
        let held = memory.entries.read();
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| tx.send(memory.get("token", 1)).unwrap());
            let answer = rx.recv_timeout(Duration::from_secs(10));
            drop(held);
            assert_eq!(
                answer,
                Ok(Some(7)),
                "the second lookup waited for the first"
            );
        });
    }

    #[test]
    fn a_hashed_lookup_is_a_lookup() {
        let memory: Memory<&str> = Memory::new(2);
        memory.insert("a", "first", 10, 0);
        let key = sha256(b"a");
        assert_eq!(memory.get_hashed(&key, 5), Some("first"));
        assert_eq!(memory.get_hashed(&key, 5), memory.get("a", 5));
        assert_eq!(memory.get_hashed(&key, 10), None, "forgotten at its time");
        assert_eq!(memory.get_hashed(&sha256(b"b"), 5), None);
        let none: Memory<&str> = Memory::new(0);
        none.insert("a", "first", 10, 0);
        assert_eq!((none.get_hashed(&key, 5), none.len()), (None, 0));
    }
}
