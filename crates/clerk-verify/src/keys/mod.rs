//! Step 2 of the data path: the key a token must verify under, and the signature check.
//!
//! - `algorithm`: [`Algorithm`], the closed list of signature algorithms;
//! - `key`: [`Key`], validated once at load, and the signature check itself;
//! - `jwk`, `pem`: JWK / JWKS documents and PEM / DER public keys to [`Key`]s;
//! - `keyset`: [`KeySet`], keys known up front;
//! - `wait`: [`KeyWait`] and [`KeyFlight`], waiting for a fetch without holding a thread;
//! - here: [`KeyFetcher`], what every key source (a [`KeySet`], a remote JWKS with its cache in
//!   [`crate::remote`]) implements.

use crate::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

mod jwk;
mod key;
mod keyset;
mod pem;
mod wait;

pub use crate::crypto::BACKEND as CRYPTO_BACKEND;
pub use crate::options::Algorithm;
pub use jwk::MAX_JWKS_KEYS;
pub use key::{Key, MAX_RSA_BITS, MIN_HS256_SECRET_LEN, MIN_RSA_BITS};
pub use keyset::KeySet;
#[cfg(feature = "remote")]
pub(crate) use wait::unfinished;
#[cfg(all(test, feature = "remote"))]
pub(crate) use wait::Outcome;
pub(crate) use wait::{from_memory, Learnt};
pub use wait::{KeyFlight, KeyWait};
// For the remote cache, which parses fetched documents the same way.
#[cfg(feature = "remote")]
pub(crate) use jwk::{parse_jwks, JwksProblem};
#[cfg(feature = "remote")]
pub(crate) use keyset::{refused_message, Lookup};

/// A source of verification keys, looked up by the token's `kid`.
///
/// Two entry points keep I/O off async executors: [`KeyFetcher::cached_key`] must never block
/// (it answers from memory or says "I would have to fetch"), while [`KeyFetcher::fetch_key`] may
/// do network I/O and is called only from [`crate::Verifier::verify`] (blocking code, or an async
/// runtime's `spawn_blocking`). Sources that never do I/O answer both the same way. A source that
/// can fetch in the background also implements [`KeyFetcher::prefetch`], so that async requests
/// wait for its fetch without a thread each.
///
/// `now` is the verifier's [`crate::Clock`], so cache ages follow the same clock as claim checks
/// (tests move it instead of sleeping).
///
/// ```
/// use clerk_verify::{Error, Key, KeyFetcher};
/// use std::sync::Arc;
/// use std::time::SystemTime;
///
/// /// Always the same key, whatever the kid (like a PEM).
/// #[derive(Debug)]
/// struct One(Arc<Key>);
///
/// impl KeyFetcher for One {
///     fn cached_key(&self, _kid: Option<&str>, _now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
///         Some(Ok(self.0.clone()))
///     }
///     fn fetch_key(&self, _kid: Option<&str>, _now: SystemTime) -> Result<Arc<Key>, Error> {
///         Ok(self.0.clone())
///     }
/// }
/// ```
pub trait KeyFetcher: Send + Sync + fmt::Debug {
    /// The key for `kid` from memory only. `None` means the answer needs I/O: call
    /// [`KeyFetcher::fetch_key`] where blocking is allowed. Must not block.
    fn cached_key(&self, kid: Option<&str>, now: SystemTime) -> Option<Result<Arc<Key>, Error>>;

    /// The key for `kid`, fetching (and caching) if needed. May block on network I/O.
    fn fetch_key(&self, kid: Option<&str>, now: SystemTime) -> Result<Arc<Key>, Error>;

    /// Whether this source holds an HS256 secret rather than RSA keys. The verifier uses it to
    /// refuse algorithms of the other key type before any lookup. Default: RSA.
    fn is_hs256(&self) -> bool {
        false
    }

    /// Whether [`KeyFetcher::cached_key`] would answer `kid` at `now` with this very `key` (the
    /// same `Arc`). Must not block. The verified-token cache asks it before every hit, so that
    /// a token is answered from memory only while its key is still served. The default asks
    /// `cached_key`; sources override it to answer without cloning.
    fn serves(&self, kid: Option<&str>, key: &Arc<Key>, now: SystemTime) -> bool {
        matches!(self.cached_key(kid, now), Some(Ok(k)) if Arc::ptr_eq(&k, key))
    }

    /// Starts the fetch that would answer `kid` (or joins the one running) without blocking,
    /// and returns a [`KeyWait`] for it: async callers ([`crate::request::Step::finish`]) await
    /// it instead of holding a blocking thread each, then look the key up again with
    /// [`KeyFetcher::cached_key`]. If that still says `None`, the request is answered from the
    /// wait: the fetch's error, or `jwk-kid-mismatch` after a fetch that succeeded (the source
    /// was just asked and did not publish the key); it never fetches again. A wait that is
    /// [`KeyWait::answered`] answers `kid` directly (e.g. a stale key while a refresh runs).
    ///
    /// `None`, the default: this source cannot fetch in the background, and callers run
    /// [`KeyFetcher::fetch_key`] on a blocking thread. Must not block.
    fn prefetch(&self, kid: Option<&str>, now: SystemTime) -> Option<KeyWait> {
        let _ = (kid, now);
        None
    }
}

impl<T: KeyFetcher + ?Sized> KeyFetcher for Arc<T> {
    fn cached_key(&self, kid: Option<&str>, now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        (**self).cached_key(kid, now)
    }
    fn fetch_key(&self, kid: Option<&str>, now: SystemTime) -> Result<Arc<Key>, Error> {
        (**self).fetch_key(kid, now)
    }
    fn is_hs256(&self) -> bool {
        (**self).is_hs256()
    }
    fn serves(&self, kid: Option<&str>, key: &Arc<Key>, now: SystemTime) -> bool {
        (**self).serves(kid, key, now)
    }
    fn prefetch(&self, kid: Option<&str>, now: SystemTime) -> Option<KeyWait> {
        (**self).prefetch(kid, now)
    }
}
