//! Bounds on what strangers can make us remember or spend: a bounded memory of strings seen
//! (refused handshake nonces, completed handshakes) and a budget of calls per second (Backend
//! API exchanges). Pure bookkeeping: no I/O, no knowledge of what is remembered.

use crate::crypto::sha256;
use parking_lot::Mutex;
use std::collections::HashMap;

/// A bounded memory of strings (by their SHA-256), each until a time (Unix seconds).
pub(crate) struct Memory {
    entries: Mutex<HashMap<[u8; 32], i64>>,
    capacity: usize,
}

impl Memory {
    pub(crate) fn new(capacity: usize) -> Memory {
        Memory {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub(crate) fn contains(&self, what: &str, now: i64) -> bool {
        self.entries
            .lock()
            .get(&sha256(what.as_bytes()))
            .is_some_and(|until| *until > now)
    }

    /// Remembers `what` until `forget_at`; `false` when it was already remembered. When full,
    /// the expired entries go first, then the one that expires soonest: what enters is the
    /// newest fact, and the memory never grows past its capacity.
    pub(crate) fn remember(&self, what: &str, forget_at: i64, now: i64) -> bool {
        let key = sha256(what.as_bytes());
        let mut entries = self.entries.lock();
        if entries.get(&key).is_some_and(|until| *until > now) {
            return false;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, until| *until > now);
        }
        if entries.len() >= self.capacity {
            if let Some(first) = entries
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| *k)
            {
                entries.remove(&first);
            }
        }
        entries.insert(key, forget_at);
        true
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
