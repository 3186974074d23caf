//! Bounds on what strangers can make us remember or spend: a bounded memory of strings seen
//! (refused handshake nonces, completed handshakes, refused or verified machine tokens), each
//! with a value if need be, and a budget of calls per second (Backend API calls). Pure
//! bookkeeping: no I/O, no knowledge of what is remembered.

use crate::crypto::sha256;
use parking_lot::Mutex;
use std::collections::HashMap;

/// A bounded memory of strings (by their SHA-256: the strings themselves, tokens or nonces,
/// are never kept), each with a value `V` until a time (Unix seconds).
pub(crate) struct Memory<V = ()> {
    entries: Mutex<HashMap<[u8; 32], (i64, V)>>,
    capacity: usize,
}

impl<V: Clone> Memory<V> {
    pub(crate) fn new(capacity: usize) -> Memory<V> {
        Memory {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub(crate) fn contains(&self, what: &str, now: i64) -> bool {
        self.get(what, now).is_some()
    }

    /// The value remembered for `what`, if it is still remembered at `now`.
    pub(crate) fn get(&self, what: &str, now: i64) -> Option<V> {
        self.entries
            .lock()
            .get(&sha256(what.as_bytes()))
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
        let mut entries = self.entries.lock();
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
        self.entries.lock().len()
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
