//! [`RemoteKeys`]: a [`JwksSource`] + an HTTP client + its own [`KeyCache`], as a [`KeyFetcher`].

use crate::error::Error;
use crate::keys::{Key, KeyFetcher, KeySet, KeyWait};
use crate::remote::cache::KeyCache;
use crate::remote::http::HttpClient;
use crate::remote::options::RemoteOptions;
use crate::remote::source::{check_url, JwksSource};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// Keys fetched from a remote JWKS and cached: Clerk's Frontend API, its Backend API (with the
/// secret key), or any JWKS URL.
///
/// Each `RemoteKeys` has its own cache, so keys of one Clerk instance can never verify another
/// instance's tokens in the same process. Build one per instance at start-up and share it (inside
/// a [`crate::Verifier`], or in an `Arc` if you also want [`RemoteKeys::refresh`]).
///
/// As a [`KeyFetcher`]:
/// - [`KeyFetcher::cached_key`] answers from memory and never blocks: with the key when it is
///   cached and fresh (or stale while a refresh is failing or already running elsewhere), with an
///   error when the answer is known without I/O (`jwk-kid-mismatch` inside the refetch interval,
///   the last fetch error while the source is down), or `None` when a fetch is needed;
/// - [`KeyFetcher::fetch_key`] may fetch (one request at a time per source; others wait for it
///   or keep using the stale key) and is bounded by [`RemoteOptions::timeout`];
/// - [`KeyFetcher::prefetch`] starts that fetch on a thread of its own (or joins the one
///   running) and returns a [`KeyWait`], so async requests wait for keys without holding a
///   thread each ([`crate::request::Step::finish`]); when a refresh is due it answers with the
///   stale key at once and refreshes in the background.
///
/// Whoever waits for a fetch waits at most [`RemoteOptions::timeout`] plus
/// [`KEY_WAIT_SLACK`](crate::remote::KEY_WAIT_SLACK) from its start, then answers from what it
/// left, never starting another; after a failed fetch the next one waits
/// [`RemoteOptions::min_refetch_interval`] counted from the failure's end.
///
/// See [the cache policy](RemoteOptions) and the reason codes: `jwk-remote-failed-to-load`
/// (network, timeout, non-2xx, oversized or empty JWKS), `jwk-remote-invalid` (not a JWKS, or no
/// usable key), `secret-key-invalid` (the Backend API answered 401/403) and `jwk-kid-mismatch`
/// (the token's `kid` is not in the JWKS, even after a refetch).
///
/// ```
/// use clerk_verify::{remote::RemoteKeys, remote::RemoteOptions, Verifier, VerifyOptions};
/// # let key = clerk_dev::fixtures::rsa2048();
/// # let server = clerk_dev::JwksServer::start_with(key.jwks_json());
/// # let frontend_api = server.url();
/// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
///
/// // e.g. frontend_api = "https://clerk.example.com" (http:// only for loopback hosts)
/// let keys = RemoteKeys::from_frontend_api(&frontend_api, RemoteOptions::default())?;
/// let verifier = Verifier::new(keys, VerifyOptions::default())?;
/// assert_eq!(verifier.verify(&token)?.user_id(), "user_1");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
pub struct RemoteKeys {
    /// Shared with the background fetches of [`KeyFetcher::prefetch`].
    fetcher: Arc<Fetcher>,
    cache: KeyCache,
}

/// What one fetch needs.
struct Fetcher {
    source: JwksSource,
    url: String,
    http: HttpClient,
}

impl Fetcher {
    fn fetch(&self) -> Result<KeySet, Error> {
        self.http.fetch_jwks(&self.url, self.source.bearer())
    }
}

impl RemoteKeys {
    /// Keys from `source`, with `opts`. Checks the source's URL and the options; does no I/O
    /// (the first verification, or [`RemoteKeys::refresh`], fetches).
    pub fn new(source: JwksSource, opts: RemoteOptions) -> Result<RemoteKeys, Error> {
        opts.validate()?;
        let url = source.jwks_url();
        let checked = check_url(&url, "the JWKS URL")?;
        Ok(RemoteKeys {
            fetcher: Arc::new(Fetcher {
                http: HttpClient::new(&opts, checked.loopback),
                source,
                url,
            }),
            cache: KeyCache::with_hooks(opts.cache_config(), opts.hook(), opts.success_hook()),
        })
    }

    /// Keys from a Frontend API (`<url>/.well-known/jwks.json`); see [`JwksSource::frontend_api`].
    pub fn from_frontend_api(url: &str, opts: RemoteOptions) -> Result<RemoteKeys, Error> {
        RemoteKeys::new(JwksSource::frontend_api(url)?, opts)
    }

    /// Keys from the Frontend API a publishable key names; see [`JwksSource::publishable_key`].
    pub fn from_publishable_key(
        publishable_key: &str,
        opts: RemoteOptions,
    ) -> Result<RemoteKeys, Error> {
        RemoteKeys::new(JwksSource::publishable_key(publishable_key)?, opts)
    }

    /// Keys from Clerk's Backend API with a secret key (`api_url` defaults to
    /// `https://api.clerk.com`); see [`JwksSource::secret_key`].
    ///
    /// ```
    /// use clerk_verify::{remote::RemoteKeys, remote::RemoteOptions};
    /// let keys = RemoteKeys::from_secret_key("sk_test_abc123", None, RemoteOptions::default())?;
    /// assert_eq!(keys.jwks_url(), "https://api.clerk.com/v1/jwks");
    /// assert!(!format!("{keys:?}").contains("abc123"));
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn from_secret_key(
        secret_key: &str,
        api_url: Option<&str>,
        opts: RemoteOptions,
    ) -> Result<RemoteKeys, Error> {
        RemoteKeys::new(JwksSource::secret_key(secret_key, api_url)?, opts)
    }

    /// Keys from a plain JWKS URL; see [`JwksSource::url`].
    pub fn from_jwks_url(url: &str, opts: RemoteOptions) -> Result<RemoteKeys, Error> {
        RemoteKeys::new(JwksSource::url(url)?, opts)
    }

    /// Where the keys come from.
    pub fn source(&self) -> &JwksSource {
        &self.fetcher.source
    }

    /// The URL fetched.
    pub fn jwks_url(&self) -> &str {
        &self.fetcher.url
    }

    /// Fetches the JWKS now (blocking), whatever the cache state, and returns the number of keys
    /// kept. Use it to warm the cache at start-up (so the first requests do not wait) or from a
    /// background refresher. Concurrent fetches still happen one at a time. A failure is also
    /// reported to [`RemoteOptions::on_fetch_error`] and leaves the cached keys in place.
    ///
    /// `now` is the time the keys count as fetched at: pass the verifier's clock
    /// (`verifier.options().clock.now()`), normally [`SystemTime::now`].
    pub fn refresh(&self, now: SystemTime) -> Result<usize, Error> {
        self.cache.refresh(now, || self.fetcher.fetch())
    }

    /// Whether keys are cached and younger than [`RemoteOptions::cache_ttl`] at `now` (for
    /// readiness checks).
    pub fn has_fresh_keys(&self, now: SystemTime) -> bool {
        self.cache.status(now).is_some_and(|(_, fresh)| fresh)
    }
}

impl KeyFetcher for RemoteKeys {
    fn cached_key(&self, kid: Option<&str>, now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        self.cache.cached(kid, now)
    }

    fn fetch_key(&self, kid: Option<&str>, now: SystemTime) -> Result<Arc<Key>, Error> {
        self.cache.get(kid, now, || self.fetcher.fetch())
    }

    fn serves(&self, kid: Option<&str>, key: &Arc<Key>, now: SystemTime) -> bool {
        self.cache.serves(kid, key, now)
    }

    fn prefetch(&self, kid: Option<&str>, now: SystemTime) -> Option<KeyWait> {
        let fetcher = Arc::clone(&self.fetcher);
        self.cache.prefetch(kid, now, move || fetcher.fetch())
    }
}

impl fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `source` prints a secret key as "[redacted]".
        f.debug_struct("RemoteKeys")
            .field("source", &self.fetcher.source)
            .field("url", &self.fetcher.url)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}
