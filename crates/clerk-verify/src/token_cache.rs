//! The verified-token cache: a browser re-sends the same session token with every request for
//! its whole life (about a minute), so most verifications in a busy service repeat one already
//! done. Opt-in, one per [`crate::Verifier`] (`VerifyOptions::token_cache`).
//!
//! - **What is stored**: only tokens that verified, keyed by their exact bytes, with their typed
//!   claims, their exact time claims, the key they verified under (and its `kid`) and whether
//!   their `cat` is a session's. A failure is never stored, so a forged or random token costs a
//!   lookup and never takes a place.
//! - **A hit** is answered only while the key source still serves that very key for that `kid`
//!   from memory ([`crate::KeyFetcher::serves`]); `exp`, `nbf` and `iat` are checked again
//!   against the verifier's clock with its skew, exactly as a full verification would at that
//!   instant. The entry belongs to one verifier, so the other rules (which depend only on the
//!   token and the options) cannot have changed. Otherwise (the key's freshness needs the key
//!   source, or the key is gone) the token takes the full path: if that verifies, the entry is
//!   renewed; if it fails (a JWKS refresh dropped the key), the entry is removed and the caller
//!   gets the full path's answer. A refresh that keeps a key keeps the very same key, so its
//!   entries live on.
//! - **Bounded memory**: at most `capacity` entries, and no entry over [`MAX_ENTRY_BYTES`] (such
//!   a token is verified every time); [`TokenCacheStats::bytes`] accounts for what is held.
//! - **Eviction** is CLOCK (second chance): a hit marks its entry; a new entry replaces the
//!   first unmarked one under the hand, clearing marks as the hand passes. Only verified tokens
//!   enter, and pushing out a session that is in use takes as many new *verified* tokens as the
//!   cache holds, between two of that session's requests. Each insertion costs at most one lap
//!   of its shard.
//! - **Concurrency**: up to 16 shards (at least 64 entries each), each behind a `parking_lot` read-write lock; a hit takes one
//!   shard's read lock (shared), and marks its entry with a relaxed atomic store. Only an
//!   insertion or a removal takes a shard's write lock, on the full verification's path.

use crate::claims::{Claims, Times};
use crate::error::Error;
use crate::keys::{Key, KeyFetcher};
use crate::options::VerifyOptions;
use parking_lot::RwLock;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

/// Largest entry kept, in accounted bytes (the token, its claims and the bookkeeping). A Clerk
/// session token fits in a 4 KB cookie and takes 2 to 8 KiB here; a larger token is verified
/// every time instead.
pub(crate) const MAX_ENTRY_BYTES: usize = VerifyOptions::MAX_TOKEN_CACHE_ENTRY_BYTES;

/// Most shards: enough that two threads rarely share a lock.
const MAX_SHARDS: usize = 16;
/// Fewest entries per shard: a small cache is one shard, not many tiny ones whose collisions
/// would evict each other's entries.
const MIN_SHARD_CAPACITY: usize = 64;

/// What [`crate::Verifier::token_cache_stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCacheStats {
    /// Most entries held.
    pub capacity: usize,
    /// Entries held now.
    pub entries: usize,
    /// Accounted bytes held now: tokens, claims (their JSON text and typed strings) and the
    /// cache's own bookkeeping per entry.
    pub bytes: usize,
    /// Verifications answered from the cache.
    pub hits: u64,
    /// Lookups that found no usable entry (the token then took the full path).
    pub misses: u64,
}

/// What the cache says about a token.
// Returned and matched at once, on the stack: boxing the claims would allocate on every hit.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Lookup {
    /// The answer, from memory.
    Hit(Result<Arc<Claims>, Error>),
    /// An entry that cannot answer now (see the module docs): verify fully, then
    /// [`TokenCache::insert`] on success or [`TokenCache::remove`] on failure.
    Stale,
    Miss,
}

/// See the module documentation.
pub(crate) struct TokenCache {
    shards: Box<[RwLock<Shard>]>,
    hasher: TailHash,
    capacity: usize,
}

struct Shard {
    /// Counted per shard, beside its lock: threads hitting different shards share no line.
    hits: AtomicU64,
    misses: AtomicU64,
    capacity: usize,
    /// Token → index in `slots`.
    index: HashMap<Arc<str>, usize, TailHash>,
    slots: Vec<Slot>,
    /// The CLOCK hand: the next slot considered for eviction.
    hand: usize,
    bytes: usize,
}

struct Slot {
    token: Arc<str>,
    entry: Entry,
    /// Set by a hit, cleared by the passing hand: the second chance.
    visited: AtomicBool,
    bytes: usize,
}

/// What a verification established about one token.
pub(crate) struct Entry {
    pub(crate) claims: Arc<Claims>,
    pub(crate) times: Times,
    pub(crate) kid: Option<Box<str>>,
    pub(crate) key: Arc<Key>,
    /// Its `cat` is a session's (or absent): request authentication may use it.
    pub(crate) session: bool,
}

impl TokenCache {
    /// A cache of `capacity` entries (at least 1).
    pub(crate) fn new(capacity: usize) -> TokenCache {
        let capacity = capacity.max(1);
        // A power of two.
        let shards = MAX_SHARDS.min(1 << (capacity / MIN_SHARD_CAPACITY).max(1).ilog2());
        let hasher = TailHash(RandomState::new());
        let shards = (0..shards)
            .map(|i| {
                let room = capacity / shards + usize::from(i < capacity % shards);
                RwLock::new(Shard {
                    hits: AtomicU64::new(0),
                    misses: AtomicU64::new(0),
                    capacity: room,
                    index: HashMap::with_hasher(hasher.clone()),
                    slots: Vec::new(),
                    hand: 0,
                    bytes: 0,
                })
            })
            .collect();
        TokenCache {
            shards,
            hasher,
            capacity,
        }
    }

    fn shard(&self, token: &str) -> &RwLock<Shard> {
        let hash = self.hasher.hash_one(token);
        // The high bits: the map inside the shard uses the low ones.
        &self.shards[(hash >> 58) as usize % self.shards.len()]
    }

    /// What the cache can say about `token` now (one shard read lock, no allocation beyond
    /// the claims returned).
    pub(crate) fn get(
        &self,
        token: &str,
        sessions_only: bool,
        opts: &VerifyOptions,
        keys: &dyn KeyFetcher,
        now: SystemTime,
    ) -> Lookup {
        let shard = self.shard(token).read();
        let Some(slot) = shard.index.get(token).map(|&i| &shard.slots[i]) else {
            shard.misses.fetch_add(1, Ordering::Relaxed);
            return Lookup::Miss;
        };
        let entry = &slot.entry;
        if sessions_only && !entry.session {
            // The full path says token-type-mismatch, in its order; `verify` may still hit.
            shard.misses.fetch_add(1, Ordering::Relaxed);
            return Lookup::Miss;
        }
        if !keys.serves(entry.kid.as_deref(), &entry.key, now) {
            shard.misses.fetch_add(1, Ordering::Relaxed);
            return Lookup::Stale;
        }
        shard.hits.fetch_add(1, Ordering::Relaxed);
        Lookup::Hit(match entry.times.check(opts, now) {
            Ok(()) => {
                if !slot.visited.load(Ordering::Relaxed) {
                    slot.visited.store(true, Ordering::Relaxed);
                }
                Ok(Arc::clone(&entry.claims))
            }
            Err(e) => Err(e),
        })
    }

    /// Whether `token` has an entry (with `sessions_only`, one of the session category), fresh
    /// or not; counts neither a hit nor a miss.
    pub(crate) fn holds(&self, token: &str, sessions_only: bool) -> bool {
        let shard = self.shard(token).read();
        shard
            .index
            .get(token)
            .is_some_and(|&i| !sessions_only || shard.slots[i].entry.session)
    }

    /// Removes `token`'s entry, if any.
    pub(crate) fn remove(&self, token: &str) {
        self.shard(token).write().remove(token);
    }

    /// Stores a verified token, replacing its entry if it has one (unless it is too large).
    pub(crate) fn insert(&self, token: &str, entry: Entry) {
        let bytes = entry_bytes(token, &entry);
        if bytes > MAX_ENTRY_BYTES {
            return;
        }
        let mut shard = self.shard(token).write();
        if shard.capacity == 0 {
            return;
        }
        if let Some(&i) = shard.index.get(token) {
            let slot = &mut shard.slots[i];
            let old = std::mem::replace(&mut slot.bytes, bytes);
            slot.entry = entry;
            *slot.visited.get_mut() = true;
            shard.bytes = shard.bytes - old + bytes;
            return;
        }
        let token: Arc<str> = Arc::from(token);
        let slot = Slot {
            token: Arc::clone(&token),
            entry,
            visited: AtomicBool::new(false),
            bytes,
        };
        let at = if shard.slots.len() < shard.capacity {
            if shard.slots.len() == shard.slots.capacity() {
                // Grow by doubling, but never past the shard's capacity.
                let more = shard
                    .slots
                    .len()
                    .max(16)
                    .min(shard.capacity - shard.slots.len());
                shard.slots.reserve_exact(more);
            }
            shard.slots.push(slot);
            shard.slots.len() - 1
        } else {
            let victim = shard.evict();
            shard.slots[victim] = slot;
            victim
        };
        shard.index.insert(token, at);
        shard.bytes += bytes;
    }

    pub(crate) fn stats(&self) -> TokenCacheStats {
        let mut stats = TokenCacheStats {
            capacity: self.capacity,
            entries: 0,
            bytes: 0,
            hits: 0,
            misses: 0,
        };
        for shard in self.shards.iter() {
            let shard = shard.read();
            stats.entries += shard.index.len();
            stats.bytes += shard.bytes;
            stats.hits += shard.hits.load(Ordering::Relaxed);
            stats.misses += shard.misses.load(Ordering::Relaxed);
        }
        stats
    }
}

impl Shard {
    /// Frees the slot under the CLOCK hand's first unmarked entry and returns its index (the
    /// caller fills it). At most one lap: after it every mark is cleared.
    fn evict(&mut self) -> usize {
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            if self.slots[i].visited.swap(false, Ordering::Relaxed) {
                continue;
            }
            let slot = &self.slots[i];
            self.index.remove(&slot.token);
            self.bytes -= slot.bytes;
            return i;
        }
    }

    /// Removes `token`'s entry: the last slot moves into its place.
    fn remove(&mut self, token: &str) {
        let Some(i) = self.index.remove(token) else {
            return;
        };
        let gone = self.slots.swap_remove(i);
        self.bytes -= gone.bytes;
        if let Some(moved) = self.slots.get(i) {
            self.index.insert(Arc::clone(&moved.token), i);
        }
        if self.hand >= self.slots.len() {
            self.hand = 0;
        }
    }
}

/// The bytes an entry accounts for: the token, the claims (their shared home, JSON text, typed
/// strings, an actor's map at twice its text), the kid, and the slot, index bucket and
/// allocation headers.
fn entry_bytes(token: &str, entry: &Entry) -> usize {
    const ARC_HEADER: usize = 2 * size_of::<usize>();
    const INDEX_BUCKET: usize = size_of::<(Arc<str>, usize)>() + 1;
    let claims = &entry.claims;
    let strings = |v: &[String]| {
        v.iter()
            .map(|s| s.len() + size_of::<String>())
            .sum::<usize>()
    };
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let org = claims.org.as_ref().map_or(0, |o| {
        o.id.len() + text(&o.role) + text(&o.slug) + strings(&o.permissions)
    });
    let actor = claims.actor.as_ref().map_or(0, |a| {
        text(&a.sub) + text(&a.kind) + 2 * serde_json::to_string(&a.claims).map_or(0, |s| s.len())
    });
    let status = match &claims.status {
        Some(crate::claims::SessionStatus::Other(s)) => s.len(),
        _ => 0,
    };
    token.len()
        + ARC_HEADER
        + size_of::<Claims>()
        + ARC_HEADER
        + claims.json_text().len()
        + ARC_HEADER
        + claims.sub.len()
        + text(&claims.sid)
        + text(&claims.iss)
        + text(&claims.azp)
        + status
        + org
        + actor
        + strings(&claims.plans)
        + strings(&claims.org_features)
        + strings(&claims.user_features)
        + entry.kid.as_ref().map_or(0, |k| k.len())
        + size_of::<Slot>()
        // A map's buckets: a power of two at 7/8 load, and with the tombstones evictions leave,
        // grown once more when over half full: under 4.6 per entry.
        + 5 * INDEX_BUCKET
}

/// The map's hasher: keyed SipHash (a random key per cache) over the token's length and its
/// last 32 bytes. Those end a signature, which differs between any two verified tokens, so
/// hashing them spreads entries as well as hashing the whole token, at a fraction of the cost.
/// Lookups with chosen tokens cannot aim at a bucket without the key.
#[derive(Clone)]
struct TailHash(RandomState);

struct TailHasher(std::collections::hash_map::DefaultHasher);

impl BuildHasher for TailHash {
    type Hasher = TailHasher;
    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

impl Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write_usize(bytes.len());
        self.0.write(&bytes[bytes.len().saturating_sub(32)..]);
    }
    fn write_u8(&mut self, i: u8) {
        self.0.write_u8(i);
    }
    fn finish(&self) -> u64 {
        self.0.finish()
    }
}
