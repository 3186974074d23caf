//! [`RemoteOptions`]: timeouts, size limits and cache policy for [`crate::remote::RemoteKeys`].

use crate::error::Error;
use crate::keys::MAX_JWKS_KEYS;
use crate::remote::cache::{CacheConfig, ErrorHook, SuccessHook};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How long fetched keys are fresh (Clerk's JS SDK: 5 minutes).
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);
/// Least time between two fetches of one source (unknown-`kid` refetches, retries after a
/// failure).
pub const DEFAULT_MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(5);
/// How long past their TTL keys keep serving while refreshes fail.
pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(3600);
/// Time to establish a connection (DNS, TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest wait for any single read from the key source.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest a whole fetch may take, end to end.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Shortest non-zero [`RemoteOptions::min_refetch_interval`]: below it the rate limit would not
/// protect the key source from a flood of unknown `kid`s.
const MIN_REFETCH_FLOOR: Duration = Duration::from_secs(1);
/// Largest JWKS response accepted (Clerk's is about 1 KiB per key).
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// Settings of a [`crate::remote::RemoteKeys`]: HTTP timeouts and limits, and the cache policy.
///
/// Defaults: keys fresh for 5 minutes; at most one fetch per 5 s per source (an unknown `kid`
/// or a failing key source cannot make us hammer it); stale keys served for up to 1 hour past
/// their TTL while refreshes fail; connect 3 s, per read 3 s, whole fetch 5 s; responses up to
/// 256 KiB; up to [`MAX_JWKS_KEYS`] keys kept.
///
/// ```
/// use clerk_verify::remote::RemoteOptions;
/// use std::time::Duration;
///
/// let opts = RemoteOptions::default()
///     .timeout(Duration::from_secs(2))
///     .cache_ttl(Duration::from_secs(600))
///     .on_fetch_error(|e| eprintln!("JWKS refresh failed ({}): {e}", e.reason()));
/// assert_eq!(opts.cache_ttl, Duration::from_secs(600));
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct RemoteOptions {
    /// How long fetched keys are used without asking the source again. Default 5 minutes.
    pub cache_ttl: Duration,
    /// Least time between two fetches of this source, whatever triggers them (an unknown `kid`,
    /// a retry after a failure). Default 5 s; at least 1 s, or zero to disable the limit (every
    /// unknown `kid` then fetches, as Clerk's SDK does: only for trusted traffic). A token with
    /// an unknown `kid` inside this window is answered at once (`jwk-kid-mismatch`, or the last
    /// fetch error while the source is down), so a flood of random kids costs at most one fetch
    /// per window.
    pub min_refetch_interval: Duration,
    /// How long past [`RemoteOptions::cache_ttl`] the last good keys keep serving while
    /// refreshes fail (stale-if-error). Default 1 hour; zero disables serving stale keys.
    pub max_stale: Duration,
    /// Fetch the JWKS on every verification and cache nothing (Clerk's `skipJwksCache`). Slow
    /// and hard on the key source; for debugging only. Default off.
    pub skip_jwks_cache: bool,
    /// Time to connect (DNS, TCP, TLS). Default 3 s.
    pub connect_timeout: Duration,
    /// Longest wait for any one read of the response. Default 3 s.
    pub read_timeout: Duration,
    /// Longest a whole fetch may take, from DNS to the last body byte. Default 5 s. This bounds
    /// how long a verification can wait on the key source: requests that need keys share the
    /// fetch in flight and wait at most this plus [`crate::remote::KEY_WAIT_SLACK`] from its start.
    pub timeout: Duration,
    /// Largest response body accepted; a larger one is `jwk-remote-failed-to-load`, detected
    /// from `Content-Length` or while reading. Default 256 KiB.
    pub max_body_bytes: usize,
    /// Most keys one JWKS may hold (1 to [`MAX_JWKS_KEYS`]); a longer document is refused
    /// (`jwk-remote-invalid`), never cut. Default [`MAX_JWKS_KEYS`].
    pub max_keys: usize,
    on_fetch_error: Option<ErrorHook>,
    on_fetch_success: Option<SuccessHook>,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            cache_ttl: DEFAULT_CACHE_TTL,
            min_refetch_interval: DEFAULT_MIN_REFETCH_INTERVAL,
            max_stale: DEFAULT_MAX_STALE,
            skip_jwks_cache: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_keys: MAX_JWKS_KEYS,
            on_fetch_error: None,
            on_fetch_success: None,
        }
    }
}

impl RemoteOptions {
    /// The defaults; same as `RemoteOptions::default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`RemoteOptions::cache_ttl`].
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Sets [`RemoteOptions::min_refetch_interval`].
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch_interval = interval;
        self
    }

    /// Sets [`RemoteOptions::max_stale`].
    pub fn max_stale(mut self, max_stale: Duration) -> Self {
        self.max_stale = max_stale;
        self
    }

    /// Sets [`RemoteOptions::skip_jwks_cache`].
    pub fn skip_jwks_cache(mut self, skip: bool) -> Self {
        self.skip_jwks_cache = skip;
        self
    }

    /// Sets [`RemoteOptions::connect_timeout`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`RemoteOptions::read_timeout`].
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sets [`RemoteOptions::timeout`] (the whole fetch). Shorter connect and read timeouts
    /// still apply.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`RemoteOptions::max_body_bytes`].
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets [`RemoteOptions::max_keys`].
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Calls `hook` with the error of every failed fetch, including those hidden from requests
    /// because stale keys were served: the place to log or count key-source outages. The hook
    /// runs on the fetching thread; keep it short and do not verify tokens from it.
    pub fn on_fetch_error(mut self, hook: impl Fn(&Error) + Send + Sync + 'static) -> Self {
        self.on_fetch_error = Some(Arc::new(hook));
        self
    }

    /// Calls `hook` with the number of keys kept after every successful fetch (the cache's
    /// first load, TTL refreshes, unknown-`kid` refetches, [`crate::remote::RemoteKeys::refresh`]):
    /// with [`RemoteOptions::on_fetch_error`], the place to count fetches or to learn that keys
    /// are loaded. Runs on the fetching thread; keep it short and do not verify tokens from it.
    ///
    /// ```
    /// use clerk_verify::remote::RemoteOptions;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let fetches = Arc::new(AtomicUsize::new(0));
    /// let seen = Arc::clone(&fetches);
    /// let opts = RemoteOptions::default().on_fetch_success(move |_keys| {
    ///     seen.fetch_add(1, Ordering::Relaxed);
    /// });
    /// # drop(opts);
    /// ```
    pub fn on_fetch_success(mut self, hook: impl Fn(usize) + Send + Sync + 'static) -> Self {
        self.on_fetch_success = Some(Arc::new(hook));
        self
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let zero = [
            (self.cache_ttl, "cache_ttl"),
            (self.connect_timeout, "connect_timeout"),
            (self.read_timeout, "read_timeout"),
            (self.timeout, "timeout"),
        ];
        if let Some((_, name)) = zero.iter().find(|(d, _)| d.is_zero()) {
            return Err(Error::config(format!("RemoteOptions::{name} is zero")));
        }
        if !self.min_refetch_interval.is_zero() && self.min_refetch_interval < MIN_REFETCH_FLOOR {
            return Err(Error::config(
                "RemoteOptions::min_refetch_interval must be at least 1 s (or zero, to disable \
                 the unknown-kid rate limit)",
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(Error::config("RemoteOptions::max_body_bytes is zero"));
        }
        if !(1..=MAX_JWKS_KEYS).contains(&self.max_keys) {
            return Err(Error::config(format!(
                "RemoteOptions::max_keys must be between 1 and {MAX_JWKS_KEYS}"
            )));
        }
        Ok(())
    }

    pub(crate) fn cache_config(&self) -> CacheConfig {
        CacheConfig {
            ttl: self.cache_ttl,
            min_refetch_interval: self.min_refetch_interval,
            max_stale: self.max_stale,
            skip_cache: self.skip_jwks_cache,
            fetch_timeout: self.timeout,
        }
    }

    pub(crate) fn hook(&self) -> Option<ErrorHook> {
        self.on_fetch_error.clone()
    }

    pub(crate) fn success_hook(&self) -> Option<SuccessHook> {
        self.on_fetch_success.clone()
    }
}

impl fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("cache_ttl", &self.cache_ttl)
            .field("min_refetch_interval", &self.min_refetch_interval)
            .field("max_stale", &self.max_stale)
            .field("skip_jwks_cache", &self.skip_jwks_cache)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("timeout", &self.timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_keys", &self.max_keys)
            .field("on_fetch_error", &self.on_fetch_error.is_some())
            .field("on_fetch_success", &self.on_fetch_success.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_validation() {
        let o = RemoteOptions::default();
        assert!(o.validate().is_ok());
        assert_eq!(o.cache_ttl, Duration::from_secs(300));
        assert_eq!(o.max_body_bytes, 256 * 1024);
        for bad in [
            RemoteOptions::new().cache_ttl(Duration::ZERO),
            RemoteOptions::new().timeout(Duration::ZERO),
            RemoteOptions::new().connect_timeout(Duration::ZERO),
            RemoteOptions::new().read_timeout(Duration::ZERO),
            RemoteOptions::new().max_body_bytes(0),
            RemoteOptions::new().max_keys(0),
            RemoteOptions::new().max_keys(MAX_JWKS_KEYS + 1),
            RemoteOptions::new().min_refetch_interval(Duration::from_millis(999)),
            RemoteOptions::new().min_refetch_interval(Duration::from_nanos(1)),
        ] {
            assert_eq!(bad.validate().unwrap_err().reason(), "config-invalid");
        }
        for fine in [
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_secs(60),
        ] {
            assert!(RemoteOptions::new()
                .min_refetch_interval(fine)
                .validate()
                .is_ok());
        }
        let hooked = RemoteOptions::new().on_fetch_error(|_| {});
        assert!(format!("{hooked:?}").contains("on_fetch_error: true"));
        assert!(format!("{hooked:?}").contains("on_fetch_success: false"));
        let counted = RemoteOptions::new().on_fetch_success(|_| {});
        assert!(format!("{counted:?}").contains("on_fetch_success: true"));
    }
}
