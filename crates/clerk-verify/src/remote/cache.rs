//! The per-source key cache: TTL, rate-limited refetch on unknown `kid`, single-flight fetching
//! and stale-if-error. It knows nothing about HTTP: the fetch is a closure.
//!
//! All times are the `now` handed in by the caller (the verifier's clock). The state machine:
//!
//! - **fresh** (`age < ttl`): keys are served from a read lock. An unknown `kid` triggers a
//!   refetch if the last fetch attempt is at least `min_refetch_interval` old; otherwise it is
//!   answered at once: `jwk-kid-mismatch`, or, while the last attempt failed, that fetch error
//!   (a rotated key during an outage is the outage's fault, not the token's). A `kid` the
//!   document publishes but we refused is `jwk-remote-invalid` saying why, without a refetch.
//! - **due** (`ttl <= age < ttl + max_stale`): a refresh is due. One caller fetches; others keep
//!   getting the old keys meanwhile (stale-while-revalidate). If the refresh fails, the old keys
//!   keep serving (stale-if-error) and the next attempt waits `min_refetch_interval`.
//! - **expired** (`age >= ttl + max_stale`) or **cold** (never fetched): keys are not used; a
//!   fetch is needed, and if it fails callers get its error (again no more than one attempt per
//!   `min_refetch_interval`, so a dead key source costs one timeout per interval, not one per
//!   request).
//!
//! With `skip_cache`, every lookup fetches and nothing is stored (Clerk's `skipJwksCache`).

use crate::error::Error;
use crate::keys::{Key, KeySet, Lookup};
use parking_lot::{Mutex, RwLock};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A clock that went back by at most this much counts as "no time passed" (threads read the
/// clock before taking locks, so small inversions are normal); further back, cached state counts
/// as infinitely old so the cache recovers with one fetch instead of freezing.
const MAX_BACKWARD_STEP: Duration = Duration::from_secs(60);

/// Called with every failed fetch.
pub(crate) type ErrorHook = Arc<dyn Fn(&Error) + Send + Sync>;
/// Called with the number of keys after every successful fetch.
pub(crate) type SuccessHook = Arc<dyn Fn(usize) + Send + Sync>;

/// Cache settings (validated by `RemoteOptions`).
#[derive(Clone, Debug)]
pub(crate) struct CacheConfig {
    pub(crate) ttl: Duration,
    pub(crate) min_refetch_interval: Duration,
    pub(crate) max_stale: Duration,
    pub(crate) skip_cache: bool,
}

/// Keys of one source, with their freshness. See the module docs.
pub(crate) struct KeyCache {
    cfg: CacheConfig,
    state: RwLock<State>,
    /// Held for the whole duration of a fetch: the single flight.
    fetch_lock: Mutex<()>,
    on_error: Option<ErrorHook>,
    on_success: Option<SuccessHook>,
}

#[derive(Default)]
struct State {
    /// The last successfully fetched keys and when.
    good: Option<Snapshot>,
    /// When the last fetch was attempted (success or failure): the rate limit.
    last_attempt: Option<SystemTime>,
    /// The error of the last attempt, if it failed.
    last_error: Option<Error>,
}

struct Snapshot {
    keys: KeySet,
    fetched_at: SystemTime,
}

/// A key set's answer for `kid` as the cache reports it: the key, nothing, or (for a key the
/// document publishes but we refused) the error saying why.
fn find(keys: &KeySet, kid: &str) -> Result<Option<Arc<Key>>, Error> {
    match keys.lookup(Some(kid)) {
        Lookup::Found(key) => Ok(Some(Arc::clone(key))),
        Lookup::Refused(why) => Err(refused(why)),
        Lookup::Missing => Ok(None),
    }
}

fn refused(why: &str) -> Error {
    Error::JwkRemoteInvalid(crate::keys::refused_message(why).into())
}

/// What the state says about a lookup.
enum Decision {
    /// Answer with this key.
    Hit(Arc<Key>),
    /// Answer with this error.
    Fail(Error),
    /// A fetch is needed; `stale` is a key that may be served meanwhile.
    Fetch { stale: Option<Arc<Key>> },
}

impl KeyCache {
    pub(crate) fn new(cfg: CacheConfig, on_error: Option<ErrorHook>) -> KeyCache {
        KeyCache {
            cfg,
            state: RwLock::new(State::default()),
            fetch_lock: Mutex::new(()),
            on_error,
            on_success: None,
        }
    }

    /// Sets the hook told of every successful fetch.
    pub(crate) fn on_success(mut self, hook: Option<SuccessHook>) -> KeyCache {
        self.on_success = hook;
        self
    }

    /// The key for `kid` from memory, never blocking. `None`: a fetch is needed.
    pub(crate) fn cached(
        &self,
        kid: Option<&str>,
        now: SystemTime,
    ) -> Option<Result<Arc<Key>, Error>> {
        if self.cfg.skip_cache {
            return kid.is_none().then_some(Err(Error::JwkKidMismatch));
        }
        match self.decide(kid, now) {
            Decision::Hit(key) => Some(Ok(key)),
            Decision::Fail(e) => Some(Err(e)),
            // A refresh is already running elsewhere: keep serving the old key meanwhile.
            Decision::Fetch { stale: Some(key) } if self.fetch_lock.is_locked() => Some(Ok(key)),
            Decision::Fetch { .. } => None,
        }
    }

    /// The key for `kid`, calling `fetch` if needed (at most one fetch at a time; concurrent
    /// callers that need the result wait for it).
    pub(crate) fn get(
        &self,
        kid: Option<&str>,
        now: SystemTime,
        fetch: impl FnOnce() -> Result<KeySet, Error>,
    ) -> Result<Arc<Key>, Error> {
        if self.cfg.skip_cache {
            let kid = kid.ok_or(Error::JwkKidMismatch)?;
            let keys = fetch().inspect_err(|e| self.report(e, None))?;
            self.succeeded(keys.len());
            return find(&keys, kid)?.ok_or(Error::JwkKidMismatch);
        }
        let _flight = match self.decide(kid, now) {
            Decision::Hit(key) => return Ok(key),
            Decision::Fail(e) => return Err(e),
            // Stale-while-revalidate: someone else is refreshing, serve the old key now.
            Decision::Fetch { stale: Some(key) } => match self.fetch_lock.try_lock() {
                Some(guard) => guard,
                None => return Ok(key),
            },
            Decision::Fetch { stale: None } => self.fetch_lock.lock(),
        };
        // Another caller may have fetched while we waited for the lock.
        if let Decision::Hit(_) | Decision::Fail(_) = self.decide(kid, now) {
            return self.answer(kid, now);
        }
        // The outcome is recorded in the state; `answer` reads it (stale key or error).
        let _ = self.fetch_now(now, fetch);
        self.answer(kid, now)
    }

    /// Fetches now, whatever the state (single-flight, not rate-limited), and stores the result.
    pub(crate) fn refresh(
        &self,
        now: SystemTime,
        fetch: impl FnOnce() -> Result<KeySet, Error>,
    ) -> Result<usize, Error> {
        if self.cfg.skip_cache {
            return fetch()
                .map(|k| k.len())
                .inspect(|n| self.succeeded(*n))
                .inspect_err(|e| self.report(e, None));
        }
        let _flight = self.fetch_lock.lock();
        self.fetch_now(now, fetch)
    }

    /// Whether `cached` would answer `kid` at `now` with this very `key` from fresh keys (within
    /// the TTL). Past the TTL the answer depends on refreshes, so it is left to `cached`.
    pub(crate) fn serves(&self, kid: Option<&str>, key: &Arc<Key>, now: SystemTime) -> bool {
        let Some(kid) = kid.filter(|_| !self.cfg.skip_cache) else {
            return false;
        };
        let st = self.state.read();
        st.good.as_ref().is_some_and(|good| {
            age(now, good.fetched_at) < self.cfg.ttl
                && matches!(good.keys.lookup(Some(kid)), Lookup::Found(k) if Arc::ptr_eq(k, key))
        })
    }

    /// Number of keys held and whether they are still within their TTL.
    pub(crate) fn status(&self, now: SystemTime) -> Option<(usize, bool)> {
        let st = self.state.read();
        st.good
            .as_ref()
            .map(|g| (g.keys.len(), age(now, g.fetched_at) < self.cfg.ttl))
    }

    /// Runs `fetch` and records the outcome. Call with `fetch_lock` held.
    fn fetch_now(
        &self,
        now: SystemTime,
        fetch: impl FnOnce() -> Result<KeySet, Error>,
    ) -> Result<usize, Error> {
        let result = fetch();
        let (out, serving_stale_since) = {
            let mut st = self.state.write();
            st.last_attempt = Some(now);
            match result {
                Ok(keys) => {
                    let keys = match &st.good {
                        Some(old) => keys.keeping(&old.keys),
                        None => keys,
                    };
                    let n = keys.len();
                    st.good = Some(Snapshot {
                        keys,
                        fetched_at: now,
                    });
                    st.last_error = None;
                    (Ok(n), None)
                }
                Err(e) => {
                    st.last_error = Some(e.clone());
                    let stale =
                        st.good.as_ref().map(|g| g.fetched_at).filter(|t| {
                            age(now, *t) < self.cfg.ttl.saturating_add(self.cfg.max_stale)
                        });
                    (Err(e), stale)
                }
            }
        };
        match &out {
            Ok(n) => self.succeeded(*n),
            Err(e) => self.report(e, serving_stale_since.map(|t| age(now, t))),
        }
        out
    }

    /// Calls the success hook, outside the state lock.
    fn succeeded(&self, keys: usize) {
        if let Some(hook) = &self.on_success {
            hook(keys);
        }
    }

    /// Logs a failed fetch (once per attempt, so at most once per refetch interval) and calls
    /// the hook. `stale_for` is the age of the keys still being served, if any.
    fn report(&self, e: &Error, stale_for: Option<Duration>) {
        match stale_for {
            Some(age) => log::warn!(
                target: "clerk_verify::remote",
                "JWKS fetch failed ({}): {e}; serving the keys fetched {}s ago",
                e.reason(),
                age.as_secs()
            ),
            None => log::warn!(
                target: "clerk_verify::remote",
                "JWKS fetch failed ({}): {e}",
                e.reason()
            ),
        }
        if let Some(hook) = &self.on_error {
            hook(e);
        }
    }

    /// The answer from the state, no fetching: used right after a fetch (or after waiting for
    /// one), when the rate limit makes `decide` answer.
    fn answer(&self, kid: Option<&str>, now: SystemTime) -> Result<Arc<Key>, Error> {
        match self.decide(kid, now) {
            Decision::Hit(key) => Ok(key),
            Decision::Fail(e) => Err(e),
            // Only reachable with a zero refetch interval, or a clock far behind the last fetch.
            Decision::Fetch { stale: Some(key) } => Ok(key),
            Decision::Fetch { stale: None } => {
                let st = self.state.read();
                Err(st.last_error.clone().unwrap_or(Error::JwkKidMismatch))
            }
        }
    }

    fn decide(&self, kid: Option<&str>, now: SystemTime) -> Decision {
        // A token without a kid can never select a key from a JWKS; do not fetch for it.
        let Some(kid) = kid else {
            return Decision::Fail(Error::JwkKidMismatch);
        };
        let st = self.state.read();
        let may_fetch = st
            .last_attempt
            .is_none_or(|t| age(now, t) >= self.cfg.min_refetch_interval);
        let last_error = || {
            st.last_error.clone().unwrap_or_else(|| {
                Error::JwkRemoteFailedToLoad(
                    "the cached keys expired and were not refreshed".into(),
                )
            })
        };
        let Some(good) = &st.good else {
            return if may_fetch {
                Decision::Fetch { stale: None }
            } else {
                Decision::Fail(last_error())
            };
        };
        let age = age(now, good.fetched_at);
        let found = match find(&good.keys, kid) {
            Ok(found) => found,
            Err(refused) if age < self.cfg.ttl.saturating_add(self.cfg.max_stale) => {
                return Decision::Fail(refused)
            }
            Err(_) => None,
        };
        // While the last attempt failed, a kid we do not hold may be a rotation we could not
        // fetch: the honest answer is the outage, not "issued by another instance".
        let missing = || st.last_error.clone().unwrap_or(Error::JwkKidMismatch);
        if age < self.cfg.ttl {
            match found {
                Some(key) => Decision::Hit(key),
                None if may_fetch => Decision::Fetch { stale: None },
                None => Decision::Fail(missing()),
            }
        } else if age < self.cfg.ttl.saturating_add(self.cfg.max_stale) {
            match found {
                _ if may_fetch => Decision::Fetch { stale: found },
                Some(key) => Decision::Hit(key),
                None => Decision::Fail(missing()),
            }
        } else if may_fetch {
            Decision::Fetch { stale: None }
        } else {
            Decision::Fail(last_error())
        }
    }
}

/// How long ago `then` was, seen from `now` (see [`MAX_BACKWARD_STEP`]).
fn age(now: SystemTime, then: SystemTime) -> Duration {
    match now.duration_since(then) {
        Ok(d) => d,
        Err(e) if e.duration() <= MAX_BACKWARD_STEP => Duration::ZERO,
        Err(_) => Duration::MAX,
    }
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.read();
        f.debug_struct("KeyCache")
            .field("cfg", &self.cfg)
            .field("keys", &st.good.as_ref().map_or(0, |g| g.keys.len()))
            .field("fetched_at", &st.good.as_ref().map(|g| g.fetched_at))
            .field("last_error", &st.last_error.as_ref().map(Error::reason))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    const T0: u64 = 1_700_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(T0 + secs)
    }

    fn cfg() -> CacheConfig {
        CacheConfig {
            ttl: Duration::from_secs(300),
            min_refetch_interval: Duration::from_secs(5),
            max_stale: Duration::from_secs(3600),
            skip_cache: false,
        }
    }

    /// A JWKS document: the real 2048-bit test key under each of `kids`, plus a refused
    /// 1024-bit key under the kid `weak`.
    fn doc(kids: &[&str]) -> String {
        let mut keys: Vec<serde_json::Value> = kids
            .iter()
            .map(|kid| {
                let mut jwk = clerk_dev::fixtures::rsa2048().public_jwk();
                jwk["kid"] = (*kid).into();
                jwk
            })
            .collect();
        let mut weak = clerk_dev::fixtures::rsa1024().public_jwk();
        weak["kid"] = "weak".into();
        keys.push(weak);
        serde_json::json!({ "keys": keys }).to_string()
    }

    fn ok(kids: &[&str]) -> impl FnOnce() -> Result<KeySet, Error> {
        let parsed = crate::keys::parse_jwks(doc(kids).as_bytes(), 64).unwrap();
        move || Ok(KeySet::from_parsed(parsed))
    }

    fn down() -> Result<KeySet, Error> {
        Err(Error::JwkRemoteFailedToLoad("HTTP 500".into()))
    }

    fn never() -> Result<KeySet, Error> {
        panic!("must not fetch")
    }

    fn reason<T>(r: Result<T, Error>) -> &'static str {
        r.err().map_or("ok", |e| e.reason())
    }

    #[test]
    fn cold_then_hot() {
        let c = KeyCache::new(cfg(), None);
        assert!(c.cached(Some("a"), at(0)).is_none());
        assert!(c.get(Some("a"), at(0), ok(&["a", "b"])).is_ok());
        assert!(matches!(c.cached(Some("b"), at(1)), Some(Ok(_))));
        assert!(c.get(Some("a"), at(299), never).is_ok());
        assert_eq!(c.status(at(1)), Some((2, true)));
        // No kid: refused without a fetch.
        assert_eq!(reason(c.get(None, at(1), never)), "jwk-kid-mismatch");
    }

    #[test]
    fn unknown_kid_refetch_is_rate_limited() {
        let c = KeyCache::new(cfg(), None);
        c.get(Some("a"), at(0), ok(&["a"])).unwrap();
        // Within the interval: mismatch without fetching, in both entry points.
        assert_eq!(reason(c.get(Some("new"), at(4), never)), "jwk-kid-mismatch");
        assert_eq!(
            c.cached(Some("new"), at(4)).map(reason),
            Some("jwk-kid-mismatch")
        );
        // After it: one refetch, which finds the rotated key.
        assert!(c.cached(Some("new"), at(5)).is_none());
        assert!(c.get(Some("new"), at(5), ok(&["a", "new"])).is_ok());
        assert!(c.get(Some("a"), at(6), never).is_ok());
        // A refetch that does not find the kid: mismatch.
        assert_eq!(
            reason(c.get(Some("x"), at(20), ok(&["a"]))),
            "jwk-kid-mismatch"
        );
    }

    #[test]
    fn refresh_after_ttl_and_stale_if_error() {
        let errors = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&errors);
        let hook: ErrorHook = Arc::new(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        let c = KeyCache::new(cfg(), Some(hook));
        c.get(Some("a"), at(0), ok(&["a"])).unwrap();
        // TTL over: the non-blocking path asks for a fetch.
        assert!(c.cached(Some("a"), at(300)).is_none());
        // The refresh fails: the stale key serves and the hook hears about it.
        assert!(c.get(Some("a"), at(300), down).is_ok());
        assert_eq!(errors.load(Ordering::SeqCst), 1);
        // Rate-limited: no new attempt for 5 s, the stale key serves from memory.
        assert!(matches!(c.cached(Some("a"), at(304)), Some(Ok(_))));
        assert!(c.get(Some("a"), at(304), never).is_ok());
        // An unknown kid while stale and rate-limited gets the fetch error.
        assert_eq!(
            reason(c.get(Some("z"), at(304), never)),
            "jwk-remote-failed-to-load"
        );
        assert!(c.get(Some("a"), at(305), down).is_ok());
        assert_eq!(errors.load(Ordering::SeqCst), 2);
        // Past the stale bound: the old keys are not used any more.
        let end = 300 + 3600;
        assert!(c.get(Some("a"), at(end - 1), down).is_ok());
        assert_eq!(
            reason(c.get(Some("a"), at(end), down)),
            "jwk-remote-failed-to-load"
        );
        assert_eq!(
            reason(c.get(Some("a"), at(end + 1), never)),
            "jwk-remote-failed-to-load"
        );
        // Recovery.
        assert!(c.get(Some("a"), at(end + 10), ok(&["a"])).is_ok());
        assert!(c.get(Some("a"), at(end + 11), never).is_ok());
    }

    #[test]
    fn the_success_hook_hears_every_good_fetch() {
        let kept = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let sink = Arc::clone(&kept);
        let hook: SuccessHook = Arc::new(move |n| sink.lock().push(n));
        let c = KeyCache::new(cfg(), None).on_success(Some(hook));
        // Cold fetch (two usable keys kept), a failed refresh (not reported here), a refetch
        // for a rotated kid, then an explicit refresh.
        c.get(Some("a"), at(0), ok(&["a", "b"])).unwrap();
        assert!(c.get(Some("a"), at(300), down).is_ok());
        c.get(Some("new"), at(310), ok(&["a", "b", "new"])).unwrap();
        assert_eq!(c.refresh(at(320), ok(&["a"])).unwrap(), 1);
        // Hits from memory are not fetches.
        c.get(Some("a"), at(321), never).unwrap();
        assert_eq!(*kept.lock(), [2, 3, 1]);
    }

    #[test]
    fn cold_failures_are_rate_limited_too() {
        let c = KeyCache::new(cfg(), None);
        assert_eq!(
            reason(c.get(Some("a"), at(0), down)),
            "jwk-remote-failed-to-load"
        );
        assert_eq!(
            reason(c.get(Some("a"), at(1), never)),
            "jwk-remote-failed-to-load"
        );
        assert_eq!(
            c.cached(Some("a"), at(1)).map(reason),
            Some("jwk-remote-failed-to-load")
        );
        assert!(c.get(Some("a"), at(5), ok(&["a"])).is_ok());
    }

    #[test]
    fn skip_cache_fetches_every_time() {
        let c = KeyCache::new(
            CacheConfig {
                skip_cache: true,
                ..cfg()
            },
            None,
        );
        let n = Cell::new(0);
        for _ in 0..3 {
            assert!(c.cached(Some("a"), at(0)).is_none());
            c.get(Some("a"), at(0), || {
                n.set(n.get() + 1);
                ok(&["a"])()
            })
            .unwrap();
        }
        assert_eq!(n.get(), 3);
        assert_eq!(
            reason(c.get(Some("b"), at(0), ok(&["a"]))),
            "jwk-kid-mismatch"
        );
    }

    #[test]
    fn rotation_during_an_outage_is_the_outage() {
        let c = KeyCache::new(cfg(), None);
        c.get(Some("a"), at(0), ok(&["a"])).unwrap();
        // The source goes down; a token names a rotated kid: the fetch it triggers fails, and
        // it is told so, not "issued by another instance".
        assert_eq!(
            reason(c.get(Some("rotated"), at(10), down)),
            "jwk-remote-failed-to-load"
        );
        // So are those the rate limit refuses while the source is down, on both paths.
        assert_eq!(
            reason(c.get(Some("rotated"), at(11), never)),
            "jwk-remote-failed-to-load"
        );
        assert_eq!(
            c.cached(Some("rotated"), at(11)).map(reason),
            Some("jwk-remote-failed-to-load")
        );
        // The known key keeps serving meanwhile.
        assert!(c.get(Some("a"), at(11), never).is_ok());
        // The source recovers without that kid: now it is a mismatch.
        assert_eq!(
            reason(c.get(Some("rotated"), at(20), ok(&["a"]))),
            "jwk-kid-mismatch"
        );
        assert_eq!(
            c.cached(Some("rotated"), at(21)).map(reason),
            Some("jwk-kid-mismatch")
        );
    }

    #[test]
    fn refused_keys_answer_without_a_refetch() {
        let c = KeyCache::new(cfg(), None);
        c.get(Some("a"), at(0), ok(&["a"])).unwrap();
        for r in [
            c.get(Some("weak"), at(100), never),
            c.cached(Some("weak"), at(100)).unwrap(),
        ] {
            let e = r.unwrap_err();
            assert_eq!(e.reason(), "jwk-remote-invalid");
            assert!(e.to_string().contains("1024 bits"), "{e}");
        }
    }

    #[test]
    fn clock_steps() {
        assert_eq!(age(at(10), at(0)), Duration::from_secs(10));
        assert_eq!(age(at(0), at(30)), Duration::ZERO);
        assert_eq!(age(at(0), at(3600)), Duration::MAX);
    }
}
