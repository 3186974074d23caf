//! Each stub is a [`KeyFetcher`](crate::KeyFetcher) that acts out one situation an adapter must
//! handle:
//!
//! | stub | `cached_key` | `fetch_key` | an adapter should answer |
//! |---|---|---|---|
//! | [`Unavailable`](crate::testing::Unavailable) | `None` | `jwk-remote-failed-to-load` | 503 |
//! | [`Unresolved`](crate::testing::Unresolved) | a configuration error | the same error | 500 |
//! | [`Panicking`](crate::testing::Panicking) | `None` | panics | 503, without crashing |
//! | [`ColdKeys`](crate::testing::ColdKeys) | `None` (counted) | counted, slow, then the wrapped [`KeySet`](crate::KeySet) | as the keys say, off the executor |
//!
//! Enable the feature in `[dev-dependencies]` only:
//!
//! ```toml
//! [dev-dependencies]
//! clerk-verify = { version = "0.1", features = ["test-util"] }
//! ```

// The text above follows the doc comment on `pub mod testing` in lib.rs, and rustdoc resolves
// the joined text from the crate root: hence the full paths in its links.

use crate::error::Error;
use crate::keys::{Key, KeyFetcher, KeySet};
use parking_lot::Mutex;
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, SystemTime};

/// A remote key source that is down: nothing in memory, and every fetch fails with
/// [`Error::JwkRemoteFailedToLoad`] (reason `jwk-remote-failed-to-load`, category
/// [`KeysUnavailable`](crate::Category::KeysUnavailable)).
///
/// `cached_key` answers `None`, so an async adapter takes its blocking path before it learns
/// of the failure, as it would with a real cold cache and an unreachable Clerk.
///
/// ```
/// use clerk_verify::testing::Unavailable;
/// use clerk_verify::{Verifier, VerifyOptions};
///
/// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix())
/// #     .sign(clerk_dev::fixtures::rsa2048());
/// let verifier = Verifier::new(Unavailable, VerifyOptions::default())?;
/// assert!(verifier.try_verify(&token).is_none());
/// let error = verifier.verify(&token).unwrap_err();
/// assert_eq!(error.reason(), "jwk-remote-failed-to-load");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Unavailable;

impl KeyFetcher for Unavailable {
    fn cached_key(&self, _kid: Option<&str>, _now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        None
    }

    fn fetch_key(&self, _kid: Option<&str>, _now: SystemTime) -> Result<Arc<Key>, Error> {
        Err(Error::JwkRemoteFailedToLoad("connection refused".into()))
    }
}

/// A key source that cannot resolve any key: every lookup, from memory or by fetching, fails at
/// once with the same configuration error. By default that is [`Error::JwkFailedToResolve`]
/// (reason `jwk-failed-to-resolve`: no key source configured); [`Unresolved::with_error`]
/// picks another, such as [`Error::SecretKeyInvalid`].
///
/// It answers from `cached_key`, so no blocking path is involved: a server-side problem that
/// adapters should report as such (a 500), not as the user's fault.
///
/// ```
/// use clerk_verify::testing::Unresolved;
/// use clerk_verify::{Error, Verifier, VerifyOptions};
///
/// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix())
/// #     .sign(clerk_dev::fixtures::rsa2048());
/// let verifier = Verifier::new(Unresolved::new(), VerifyOptions::default())?;
/// let error = verifier.try_verify(&token).unwrap().unwrap_err();
/// assert_eq!(error.reason(), "jwk-failed-to-resolve");
///
/// let verifier = Verifier::new(
///     Unresolved::with_error(Error::SecretKeyInvalid),
///     VerifyOptions::default(),
/// )?;
/// assert_eq!(verifier.verify(&token).unwrap_err().reason(), "secret-key-invalid");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Unresolved {
    error: Error,
}

impl Unresolved {
    /// Fails every lookup with [`Error::JwkFailedToResolve`].
    pub fn new() -> Unresolved {
        Unresolved::with_error(Error::JwkFailedToResolve)
    }

    /// Fails every lookup with `error` (meant for configuration errors; any error works).
    pub fn with_error(error: Error) -> Unresolved {
        Unresolved { error }
    }
}

impl Default for Unresolved {
    fn default() -> Unresolved {
        Unresolved::new()
    }
}

impl KeyFetcher for Unresolved {
    fn cached_key(&self, _kid: Option<&str>, _now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        Some(Err(self.error.clone()))
    }

    fn fetch_key(&self, _kid: Option<&str>, _now: SystemTime) -> Result<Arc<Key>, Error> {
        Err(self.error.clone())
    }
}

/// A key source whose fetch panics: nothing in memory, and `fetch_key` panics (the message
/// says the panic is expected, to keep test output readable).
///
/// An async adapter runs the fetch on a blocking thread, so the verification task never
/// completes; the adapter must turn that into a refusal (503) rather than take the request, or
/// the server, down with it.
///
/// ```
/// use clerk_verify::testing::Panicking;
/// use clerk_verify::{Verifier, VerifyOptions};
/// use std::panic::{catch_unwind, AssertUnwindSafe};
///
/// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix())
/// #     .sign(clerk_dev::fixtures::rsa2048());
/// let verifier = Verifier::new(Panicking, VerifyOptions::default())?;
/// assert!(verifier.try_verify(&token).is_none());
/// assert!(catch_unwind(AssertUnwindSafe(|| verifier.verify(&token))).is_err());
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Panicking;

impl KeyFetcher for Panicking {
    fn cached_key(&self, _kid: Option<&str>, _now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        None
    }

    fn fetch_key(&self, _kid: Option<&str>, _now: SystemTime) -> Result<Arc<Key>, Error> {
        panic!("the key source panicked (expected by this test)")
    }
}

/// A [`KeySet`] behind a cache that is always cold: `cached_key` answers `None` ("would have
/// to fetch"), so every verification goes through `fetch_key`, which sleeps for
/// [`ColdKeys::fetch_delay`] (none by default) like a network fetch, then answers from the keys.
///
/// Both entry points record each call and the thread it ran on, so a test can prove that an
/// async adapter tries the non-blocking path on the executor, fetches on another thread, and
/// verifies once per request. With [`ColdKeys::answer_from_cache`] the cache is warm instead:
/// `cached_key` answers from the keys (still recorded), to count lookups that need no fetch.
///
/// Wrap it in an [`Arc`] and give the verifier a clone (`KeyFetcher` is implemented for
/// `Arc<T>`), keeping the other handle to read the counts:
///
/// ```
/// use clerk_verify::testing::ColdKeys;
/// use clerk_verify::{KeySet, Verifier, VerifyOptions};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// # let key = clerk_dev::fixtures::rsa2048();
/// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
/// let keys = Arc::new(
///     ColdKeys::new(KeySet::from_jwks(&key.jwks_json())?).fetch_delay(Duration::from_millis(20)),
/// );
/// let verifier = Verifier::new(Arc::clone(&keys), VerifyOptions::default())?;
///
/// assert!(verifier.try_verify(&token).is_none());
/// std::thread::scope(|s| s.spawn(|| verifier.verify(&token)).join().unwrap())?;
/// assert_eq!((keys.cached_calls(), keys.fetches()), (1, 1));
/// assert_eq!(keys.cached_threads(), [std::thread::current().id()]);
/// assert_ne!(keys.fetch_threads()[0], std::thread::current().id());
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Debug)]
pub struct ColdKeys {
    keys: KeySet,
    delay: Duration,
    answer_from_cache: bool,
    /// One entry per `cached_key` call: the calling thread.
    cached_threads: Mutex<Vec<ThreadId>>,
    /// One entry per `fetch_key` call: the calling thread.
    fetch_threads: Mutex<Vec<ThreadId>>,
}

impl ColdKeys {
    /// A cold cache over `keys`, fetching without delay.
    pub fn new(keys: KeySet) -> ColdKeys {
        ColdKeys {
            keys,
            delay: Duration::ZERO,
            answer_from_cache: false,
            cached_threads: Mutex::new(Vec::new()),
            fetch_threads: Mutex::new(Vec::new()),
        }
    }

    /// How long each `fetch_key` sleeps before answering (default: not at all). Long enough a
    /// delay makes a fetch on the executor thread visible as a stalled executor.
    pub fn fetch_delay(mut self, delay: Duration) -> ColdKeys {
        self.delay = delay;
        self
    }

    /// Whether `cached_key` answers from the keys, like a warm cache (default `false`: it
    /// answers `None`). Calls are recorded either way.
    pub fn answer_from_cache(mut self, answer: bool) -> ColdKeys {
        self.answer_from_cache = answer;
        self
    }

    /// How many times `cached_key` was called.
    pub fn cached_calls(&self) -> usize {
        self.cached_threads.lock().len()
    }

    /// How many times `fetch_key` was called (counted on entry, before the delay).
    pub fn fetches(&self) -> usize {
        self.fetch_threads.lock().len()
    }

    /// The thread of each `cached_key` call, in call order.
    pub fn cached_threads(&self) -> Vec<ThreadId> {
        self.cached_threads.lock().clone()
    }

    /// The thread of each `fetch_key` call, in call order.
    pub fn fetch_threads(&self) -> Vec<ThreadId> {
        self.fetch_threads.lock().clone()
    }
}

impl KeyFetcher for ColdKeys {
    fn cached_key(&self, kid: Option<&str>, now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        self.cached_threads.lock().push(std::thread::current().id());
        if self.answer_from_cache {
            self.keys.cached_key(kid, now)
        } else {
            None
        }
    }

    fn fetch_key(&self, kid: Option<&str>, now: SystemTime) -> Result<Arc<Key>, Error> {
        self.fetch_threads.lock().push(std::thread::current().id());
        if !self.delay.is_zero() {
            std::thread::sleep(self.delay);
        }
        self.keys.fetch_key(kid, now)
    }

    fn is_hs256(&self) -> bool {
        self.keys.is_hs256()
    }
}
