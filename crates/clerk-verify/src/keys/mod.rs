//! Step 2 of the data path: the key a token must verify under, and the signature check.
//!
//! - `algorithm`: [`Algorithm`], the closed list of signature algorithms;
//! - `key`: [`Key`], validated once at load, and the signature check itself;
//! - `jwk`, `pem`: JWK / JWKS documents and PEM / DER public keys to [`Key`]s;
//! - `keyset`: [`KeySet`], keys known up front;
//! - here: [`KeyFetcher`], what every key source (a [`KeySet`], a remote JWKS with its cache in
//!   [`crate::remote`]) implements.

use crate::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

mod algorithm;
mod jwk;
mod key;
mod keyset;
mod pem;

pub use crate::crypto::BACKEND as CRYPTO_BACKEND;
pub use algorithm::Algorithm;
pub use jwk::MAX_JWKS_KEYS;
pub use key::{Key, MAX_RSA_BITS, MIN_HS256_SECRET_LEN, MIN_RSA_BITS};
pub use keyset::KeySet;
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
/// runtime's `spawn_blocking`). Sources that never do I/O answer both the same way.
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
}
