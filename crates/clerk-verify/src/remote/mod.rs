//! Remote keys: Clerk's JWKS fetched over HTTPS and cached per key source (feature `remote`,
//! on by default), and the HTTP client of request authentication's other Backend API calls
//! (the handshake's nonce exchange, a session refresh; machine tokens' verify calls, which
//! `crate::machine` makes).
//!
//! - `source`: [`JwksSource`], where keys come from (Frontend API, Backend API with the secret
//!   key, a plain JWKS URL, or the environment), and the URL rules;
//! - `options`: [`RemoteOptions`], timeouts, limits and cache policy;
//! - `http`: one fetch, mapped to Clerk's reason codes (and the two page calls);
//! - `cache`: TTL, rate-limited refetch, single-flight and stale-if-error;
//! - `keys`: [`RemoteKeys`], all of the above as a [`crate::KeyFetcher`].
//!
//! # Blocking and async callers
//!
//! The crate has no async runtime. [`crate::Verifier::try_verify`] never blocks: on the hot
//! path (key cached and fresh) it takes one read lock and answers. When it returns `None` the
//! key needs a fetch: run [`crate::Verifier::verify`] on a blocking thread (e.g.
//! `tokio::task::spawn_blocking`). That happens on a cold start, once per TTL, and for unknown
//! `kid`s at most once per refetch interval; every fetch is bounded by
//! [`RemoteOptions::timeout`]. To avoid even that, warm the cache at start-up with
//! [`RemoteKeys::refresh`] and call it periodically from a background task.
//!
//! Whole requests ([`crate::request::Step::finish`], which every adapter uses) do better: the
//! fetch runs on one thread of its own and every request that needs it awaits its
//! [`crate::KeyWait`], holding no thread, for at most the timeout plus [`KEY_WAIT_SLACK`].
//!
//! # Cache policy
//!
//! Keys are fresh for [`RemoteOptions::cache_ttl`] (5 min). An unknown `kid` triggers one
//! refetch (key rotation), but a source is fetched at most once per
//! [`RemoteOptions::min_refetch_interval`] (5 s, counted from the end of a failed attempt)
//! whatever the trigger, so random `kid`s or a dead key source cost one request per interval, not
//! one per token. Concurrent callers share one fetch, and having waited for it they answer from
//! what it left, never starting another. After the TTL one caller refreshes while the others keep using the old keys; if the
//! refresh fails the old keys keep serving for up to [`RemoteOptions::max_stale`] (1 h) and the
//! failure goes to [`RemoteOptions::on_fetch_error`] instead of to users. All ages follow the
//! verifier's [`crate::Clock`].

#[cfg(feature = "remote")]
mod cache;
#[cfg(feature = "remote")]
mod http;
#[cfg(feature = "remote")]
mod keys;
#[cfg(feature = "remote")]
mod options;
#[cfg(feature = "remote")]
mod source;

#[cfg(feature = "remote")]
pub use cache::KEY_WAIT_SLACK;
#[cfg(feature = "remote")]
pub(crate) use http::{handshake_payload, refresh_session, HttpClient};
#[cfg(feature = "remote")]
pub use keys::RemoteKeys;
#[cfg(feature = "remote")]
pub use options::{
    RemoteOptions, DEFAULT_CACHE_TTL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_STALE, DEFAULT_MIN_REFETCH_INTERVAL, DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT,
};
#[cfg(feature = "remote")]
pub(crate) use source::check_url;
#[cfg(feature = "remote")]
pub use source::{JwksSource, SecretKey, DEFAULT_API_URL};
