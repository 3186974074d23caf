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
//! The rate limit counts a failed attempt from its **end** (its start on the caller's clock plus
//! how long it took), so a source that hangs for the whole timeout is not asked again the moment
//! that timeout ends; a successful attempt counts from its start, like the keys' age.
//!
//! A fetch in progress is a **flight**, in the state from its start: a caller that needs a fetch
//! while one runs joins it instead of starting another, and waits for it (a blocking caller on a
//! condition variable, an async one through its [`KeyWait`]) at most until the flight's
//! deadline, `fetch_timeout + KEY_WAIT_SLACK` after its start. Having waited, a caller answers
//! from what the flight left (`settle`) and never fetches again. `prefetch` runs a flight on a
//! thread of its own, so async callers hold no thread while they wait; `get` and `refresh` run
//! it on their caller's (blocking) thread.
//!
//! With `skip_cache`, every lookup fetches and nothing is stored (Clerk's `skipJwksCache`).

use crate::error::Error;
use crate::keys::{Key, KeyFlight, KeySet, KeyWait, Lookup};
use parking_lot::RwLock;
use std::fmt;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// How much longer than [`crate::remote::RemoteOptions::timeout`] a request may wait for keys. A fetch that has
/// not ended by then (counted from its start) is given up by everyone waiting for it, who get
/// `jwk-remote-failed-to-load` (503) whatever the HTTP client is still doing; the slack covers
/// the client's own overshoot and waking the waiters.
pub const KEY_WAIT_SLACK: Duration = Duration::from_millis(250);

/// A clock that went back by at most this much counts as "no time passed" (threads read the
/// clock before taking locks, so small inversions are normal); further back, cached state counts
/// as infinitely old so the cache recovers with one fetch instead of freezing.
const MAX_BACKWARD_STEP: Duration = Duration::from_secs(60);
/// How many fetches of others [`KeyCache::refresh`] waits out before giving up on its own.
const MAX_REFRESH_WAITS: usize = 4;
/// Longest wait for any flight, whatever the configured timeout (an absurd one must not
/// overflow the deadline).
const MAX_FLIGHT: Duration = Duration::from_secs(24 * 3600);

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
    /// The bound on one fetch (`RemoteOptions::timeout`): waiters give up on a flight after it
    /// and [`KEY_WAIT_SLACK`].
    pub(crate) fetch_timeout: Duration,
}

/// Keys of one source, with their freshness. See the module docs.
pub(crate) struct KeyCache {
    /// Shared with the threads of the flights `prefetch` starts.
    shared: Arc<Shared>,
}

struct Shared {
    cfg: CacheConfig,
    state: RwLock<State>,
    on_error: Option<ErrorHook>,
    on_success: Option<SuccessHook>,
}

#[derive(Default)]
struct State {
    /// The last successfully fetched keys and when.
    good: Option<Snapshot>,
    /// What the rate limit counts from: the start of the last attempt if it succeeded, its end
    /// if it failed.
    last_attempt: Option<SystemTime>,
    /// The error of the last attempt, if it failed.
    last_error: Option<Error>,
    /// The fetch in progress, if any: the single flight everyone who needs a fetch joins.
    flight: Option<KeyWait>,
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

/// What a caller that may need a fetch does, decided under the write lock.
enum Plan {
    /// Answer with this.
    Known(Result<Arc<Key>, Error>),
    /// A flight is running: wait for it (or serve `stale` meanwhile).
    Join {
        wait: KeyWait,
        stale: Option<Arc<Key>>,
    },
    /// Run this new flight (`stale` may be served meanwhile).
    Start {
        landing: Landing,
        wait: KeyWait,
        stale: Option<Arc<Key>>,
    },
}

/// A flight this cache started, until its outcome is recorded and it lands. Dropped without
/// landing (the fetch panicked, its thread could not start), it records a failure and lands
/// with it, so the state never keeps a flight nobody will finish.
struct Landing {
    shared: Arc<Shared>,
    flight: Option<KeyFlight>,
    /// The caller's clock at the start.
    now: SystemTime,
    started: Instant,
}

impl KeyCache {
    #[cfg(test)]
    pub(crate) fn new(cfg: CacheConfig, on_error: Option<ErrorHook>) -> KeyCache {
        KeyCache::with_hooks(cfg, on_error, None)
    }

    /// With the hooks told of every failed and every successful fetch.
    pub(crate) fn with_hooks(
        cfg: CacheConfig,
        on_error: Option<ErrorHook>,
        on_success: Option<SuccessHook>,
    ) -> KeyCache {
        KeyCache {
            shared: Arc::new(Shared {
                cfg,
                state: RwLock::new(State::default()),
                on_error,
                on_success,
            }),
        }
    }

    /// The key for `kid` from memory, never blocking. `None`: a fetch is needed.
    pub(crate) fn cached(
        &self,
        kid: Option<&str>,
        now: SystemTime,
    ) -> Option<Result<Arc<Key>, Error>> {
        if self.shared.cfg.skip_cache {
            return kid.is_none().then_some(Err(Error::JwkKidMismatch));
        }
        let st = self.shared.state.read();
        match self.shared.decide(&st, kid, now) {
            Decision::Hit(key) => Some(Ok(key)),
            Decision::Fail(e) => Some(Err(e)),
            // A refresh is already running: keep serving the old key meanwhile.
            Decision::Fetch { stale: Some(key) } if st.flight.is_some() => Some(Ok(key)),
            Decision::Fetch { .. } => None,
        }
    }

    /// The key for `kid`, calling `fetch` on this thread if needed (at most one fetch at a time;
    /// concurrent callers that need the result wait for it, until its deadline).
    pub(crate) fn get(
        &self,
        kid: Option<&str>,
        now: SystemTime,
        fetch: impl FnOnce() -> Result<KeySet, Error>,
    ) -> Result<Arc<Key>, Error> {
        if self.shared.cfg.skip_cache {
            let kid = kid.ok_or(Error::JwkKidMismatch)?;
            let keys = fetch().inspect_err(|e| self.shared.report(e, None))?;
            self.shared.succeeded(keys.len());
            return find(&keys, kid)?.ok_or(Error::JwkKidMismatch);
        }
        match self.plan(kid, now) {
            Plan::Known(answer) => answer,
            // Stale-while-revalidate: someone else is refreshing, serve the old key now.
            Plan::Join {
                stale: Some(key), ..
            } => Ok(key),
            Plan::Join { wait, stale: None } => {
                wait.wait();
                self.settle(kid, now, &wait)
            }
            Plan::Start { landing, wait, .. } => {
                // The outcome is recorded in the state; `settle` reads it.
                let _ = landing.land(fetch());
                self.settle(kid, now, &wait)
            }
        }
    }

    /// Starts the fetch that would answer `kid` on a thread of its own, or joins the one
    /// running, without blocking; see [`crate::KeyFetcher::prefetch`]. `None` with `skip_cache`
    /// (every lookup fetches on its caller's thread).
    pub(crate) fn prefetch(
        &self,
        kid: Option<&str>,
        now: SystemTime,
        fetch: impl FnOnce() -> Result<KeySet, Error> + Send + 'static,
    ) -> Option<KeyWait> {
        if self.shared.cfg.skip_cache {
            return None;
        }
        Some(match self.plan(kid, now) {
            Plan::Known(answer) => KeyWait::answered(answer),
            Plan::Join {
                stale: Some(key), ..
            } => KeyWait::answered(Ok(key)),
            Plan::Join { wait, stale: None } => wait,
            Plan::Start {
                landing,
                wait,
                stale,
            } => {
                let spawned = thread::Builder::new()
                    .name("clerk-verify-jwks".to_owned())
                    .spawn(move || {
                        let _ = landing.land(fetch());
                    });
                if let Err(e) = spawned {
                    // The landing, dropped with the closure, records the failure.
                    log::error!(target: "clerk_verify::remote", "cannot start a JWKS fetch: {e}");
                }
                // Stale-while-revalidate: the refresh runs in the background.
                match stale {
                    Some(key) => KeyWait::answered(Ok(key)),
                    None => wait,
                }
            }
        })
    }

    /// Fetches now, whatever the state (single-flight: after any fetch in progress; not
    /// rate-limited), and stores the result.
    pub(crate) fn refresh(
        &self,
        now: SystemTime,
        fetch: impl FnOnce() -> Result<KeySet, Error>,
    ) -> Result<usize, Error> {
        if self.shared.cfg.skip_cache {
            return fetch()
                .map(|k| k.len())
                .inspect(|n| self.shared.succeeded(*n))
                .inspect_err(|e| self.shared.report(e, None));
        }
        for _ in 0..MAX_REFRESH_WAITS {
            let running = {
                let mut st = self.shared.state.write();
                match &st.flight {
                    Some(wait) => wait.clone(),
                    None => {
                        let (landing, _) = self.shared.begin(&mut st, now);
                        drop(st);
                        return landing.land(fetch());
                    }
                }
            };
            running.wait();
            if !running.is_landed() {
                return Err(crate::keys::unfinished());
            }
        }
        Err(Error::JwkRemoteFailedToLoad(
            "other fetches kept the key source busy".into(),
        ))
    }

    /// Whether `cached` would answer `kid` at `now` with this very `key` from fresh keys (within
    /// the TTL). Past the TTL the answer depends on refreshes, so it is left to `cached`.
    pub(crate) fn serves(&self, kid: Option<&str>, key: &Arc<Key>, now: SystemTime) -> bool {
        let Some(kid) = kid.filter(|_| !self.shared.cfg.skip_cache) else {
            return false;
        };
        let st = self.shared.state.read();
        st.good.as_ref().is_some_and(|good| {
            age(now, good.fetched_at) < self.shared.cfg.ttl
                && matches!(good.keys.lookup(Some(kid)), Lookup::Found(k) if Arc::ptr_eq(k, key))
        })
    }

    /// Number of keys held and whether they are still within their TTL.
    pub(crate) fn status(&self, now: SystemTime) -> Option<(usize, bool)> {
        let st = self.shared.state.read();
        st.good
            .as_ref()
            .map(|g| (g.keys.len(), age(now, g.fetched_at) < self.shared.cfg.ttl))
    }

    /// What a caller that may need a fetch does: the answer from a read lock when the state has
    /// it (the usual case), else, under the write lock, join the flight or start one.
    fn plan(&self, kid: Option<&str>, now: SystemTime) -> Plan {
        match self.shared.decide(&self.shared.state.read(), kid, now) {
            Decision::Hit(key) => return Plan::Known(Ok(key)),
            Decision::Fail(e) => return Plan::Known(Err(e)),
            Decision::Fetch { .. } => {}
        }
        let mut st = self.shared.state.write();
        // Decided again: a flight may have landed meanwhile.
        match self.shared.decide(&st, kid, now) {
            Decision::Hit(key) => Plan::Known(Ok(key)),
            Decision::Fail(e) => Plan::Known(Err(e)),
            Decision::Fetch { stale } => match &st.flight {
                Some(wait) => Plan::Join {
                    wait: wait.clone(),
                    stale,
                },
                None => {
                    let (landing, wait) = self.shared.begin(&mut st, now);
                    Plan::Start {
                        landing,
                        wait,
                        stale,
                    }
                }
            },
        }
    }

    /// The answer for a caller that waited for (or ran) the flight `wait`: from the state, with
    /// no further fetch whatever the rate limit now says; a key still missing gets what the
    /// source said (its error, or `jwk-kid-mismatch` after a fetch that succeeded).
    fn settle(
        &self,
        kid: Option<&str>,
        now: SystemTime,
        wait: &KeyWait,
    ) -> Result<Arc<Key>, Error> {
        match self.shared.decide(&self.shared.state.read(), kid, now) {
            Decision::Hit(key) | Decision::Fetch { stale: Some(key) } => Ok(key),
            Decision::Fail(e) => Err(e),
            Decision::Fetch { stale: None } => {
                Err(wait.source_error().unwrap_or(Error::JwkKidMismatch))
            }
        }
    }
}

impl Shared {
    /// Registers a new flight in `st` (which must have none): visible to everyone from now.
    fn begin(self: &Arc<Shared>, st: &mut State, now: SystemTime) -> (Landing, KeyWait) {
        let started = Instant::now();
        let bound = self.cfg.fetch_timeout.saturating_add(KEY_WAIT_SLACK);
        let deadline = started
            .checked_add(bound.min(MAX_FLIGHT))
            .unwrap_or(started);
        let (wait, flight) = KeyWait::new(deadline);
        st.flight = Some(wait.clone());
        let landing = Landing {
            shared: Arc::clone(self),
            flight: Some(flight),
            now,
            started,
        };
        (landing, wait)
    }

    /// Records a finished attempt (clearing the flight) and tells the hooks.
    fn record(
        &self,
        result: Result<KeySet, Error>,
        now: SystemTime,
        started: Instant,
    ) -> Result<usize, Error> {
        let ended = now.checked_add(started.elapsed()).unwrap_or(now);
        let (out, serving_stale_since) = {
            let mut st = self.state.write();
            st.flight = None;
            match result {
                Ok(keys) => {
                    st.last_attempt = Some(now);
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
                    st.last_attempt = Some(ended);
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

    fn decide(&self, st: &State, kid: Option<&str>, now: SystemTime) -> Decision {
        // A token without a kid can never select a key from a JWKS; do not fetch for it.
        let Some(kid) = kid else {
            return Decision::Fail(Error::JwkKidMismatch);
        };
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

impl Landing {
    /// Records the fetch's `result`, then lands the flight (in that order: the waiters it wakes
    /// find the new state).
    fn land(mut self, result: Result<KeySet, Error>) -> Result<usize, Error> {
        let out = self.shared.record(result, self.now, self.started);
        if let Some(flight) = self.flight.take() {
            flight.land(out.as_ref().map(|_| ()).map_err(Clone::clone));
        }
        out
    }
}

impl Drop for Landing {
    fn drop(&mut self) {
        if let Some(flight) = self.flight.take() {
            let e = Error::JwkRemoteFailedToLoad("the key fetch stopped without an answer".into());
            let _ = self.shared.record(Err(e.clone()), self.now, self.started);
            flight.land(Err(e));
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
        let st = self.shared.state.read();
        f.debug_struct("KeyCache")
            .field("cfg", &self.shared.cfg)
            .field("keys", &st.good.as_ref().map_or(0, |g| g.keys.len()))
            .field("fetched_at", &st.good.as_ref().map(|g| g.fetched_at))
            .field("last_error", &st.last_error.as_ref().map(Error::reason))
            .field("fetching", &st.flight.is_some())
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
            fetch_timeout: Duration::from_secs(5),
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
        // The next attempt: 5 s after the end of the failed one (a moment past at(300)).
        assert!(c.get(Some("a"), at(305), never).is_ok());
        assert!(c.get(Some("a"), at(306), down).is_ok());
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
        let c = KeyCache::with_hooks(cfg(), None, Some(hook));
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
        // The gap counts from the end of the failed attempt, which took a moment past at(0).
        assert_eq!(
            reason(c.get(Some("a"), at(5), never)),
            "jwk-remote-failed-to-load"
        );
        assert!(c.get(Some("a"), at(6), ok(&["a"])).is_ok());
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

    /// A fetch that blocks until the test sends its result, counting its calls.
    struct Gate {
        calls: Arc<AtomicUsize>,
        result: std::sync::mpsc::Sender<Result<KeySet, Error>>,
        gate: Option<std::sync::mpsc::Receiver<Result<KeySet, Error>>>,
    }

    impl Gate {
        fn new() -> Gate {
            let (result, gate) = std::sync::mpsc::channel();
            Gate {
                calls: Arc::new(AtomicUsize::new(0)),
                result,
                gate: Some(gate),
            }
        }

        /// The fetch (only one can be made from a gate).
        fn fetch(&mut self) -> impl FnOnce() -> Result<KeySet, Error> + Send + 'static {
            let calls = Arc::clone(&self.calls);
            let gate = self.gate.take().expect("one fetch per gate");
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
                gate.recv_timeout(Duration::from_secs(30))
                    .unwrap_or_else(|_| Err(Error::JwkRemoteFailedToLoad("gate".into())))
            }
        }

        fn open(&self, result: Result<KeySet, Error>) {
            self.result.send(result).unwrap();
        }

        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    fn keys(kids: &[&str]) -> KeySet {
        ok(kids)().unwrap()
    }

    fn counting_never(counter: &Arc<AtomicUsize>) -> impl FnOnce() -> Result<KeySet, Error> {
        let counter = Arc::clone(counter);
        move || {
            counter.fetch_add(1, Ordering::SeqCst);
            down()
        }
    }

    /// Polls `done` (bounded) until it holds.
    fn eventually(what: &str, done: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < until, "never: {what}");
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Issue 19, item 8: many waiters, blocking and async, share the flight in progress and
    /// answer from what it left, none starting another fetch, even when their clock says the
    /// refetch interval has passed since. The async ones all wait on one thread.
    #[test]
    fn waiters_share_the_flight_and_never_fetch_again() {
        let c = Arc::new(KeyCache::new(cfg(), None));
        c.get(Some("a"), at(0), ok(&["a"])).unwrap();
        let mut gate = Gate::new();
        // An unknown kid starts a flight on a thread of its own; it blocks on the gate.
        let first = c.prefetch(Some("new"), at(10), gate.fetch()).unwrap();
        eventually("the fetch to start", || gate.calls() == 1);
        assert!(!first.is_landed());
        let others = Arc::new(AtomicUsize::new(0));
        let blocking: Vec<_> = (0..100)
            .map(|_| {
                let (c, others) = (Arc::clone(&c), Arc::clone(&others));
                // at(16): six seconds after the flight started, 1 s after its deadline would
                // allow a refetch under the old start-stamped rule.
                thread::spawn(move || c.get(Some("new"), at(16), counting_never(&others)))
            })
            .collect();
        let waits: Vec<KeyWait> = (0..200)
            .map(|_| {
                c.prefetch(Some("new"), at(16), counting_never(&others))
                    .unwrap()
            })
            .collect();
        assert!(
            waits.iter().all(|w| !w.is_landed()),
            "they joined the flight"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let waiting = thread::spawn(move || {
            rt.block_on(async {
                for wait in &waits {
                    wait.clone().await;
                }
                waits
            })
        });
        thread::sleep(Duration::from_millis(50));
        gate.open(down());
        let waits = waiting.join().unwrap();
        for w in &waits {
            assert_eq!(
                w.source_error().map(|e| e.reason()),
                Some("jwk-remote-failed-to-load")
            );
        }
        for b in blocking {
            assert_eq!(reason(b.join().unwrap()), "jwk-remote-failed-to-load");
        }
        assert_eq!(gate.calls(), 1);
        assert_eq!(others.load(Ordering::SeqCst), 0, "nobody fetched again");
        // The state is not busy any more: the gap (from the failure's end) rules again.
        assert!(c.cached(Some("new"), at(11)).is_some());
    }

    /// Issue 19, item 8: nobody waits past the flight's deadline (timeout + slack from its
    /// start), whatever the fetch does; a caller arriving while the overdue flight still runs
    /// joins it and is answered at once, without a second fetch; the late result is kept.
    #[test]
    fn waiters_give_up_at_the_deadline() {
        let timeout = Duration::from_millis(200);
        let c = Arc::new(KeyCache::new(
            CacheConfig {
                fetch_timeout: timeout,
                ..cfg()
            },
            None,
        ));
        let mut gate = Gate::new();
        let started = Instant::now();
        let async_wait = c.prefetch(Some("a"), at(0), gate.fetch()).unwrap();
        let blocking: Vec<_> = (0..20)
            .map(|_| {
                let c = Arc::clone(&c);
                thread::spawn(move || {
                    let r = c.get(Some("a"), at(0), never);
                    (reason(r), Instant::now())
                })
            })
            .collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async_wait.clone());
        let async_done = started.elapsed();
        let bound = timeout + KEY_WAIT_SLACK;
        assert!(async_done >= bound, "{async_done:?}");
        assert!(
            async_done < bound + Duration::from_millis(500),
            "{async_done:?}"
        );
        assert!(async_wait
            .source_error()
            .unwrap()
            .to_string()
            .contains("timeout"));
        for b in blocking {
            let (why, at_end) = b.join().unwrap();
            assert_eq!(why, "jwk-remote-failed-to-load");
            let waited = at_end - started;
            assert!(waited >= bound && waited < bound + Duration::from_millis(500));
        }
        // Still in flight: a newcomer joins the overdue flight and is answered at once.
        let (r, took) = {
            let t = Instant::now();
            (c.get(Some("a"), at(1), never), t.elapsed())
        };
        assert_eq!(reason(r), "jwk-remote-failed-to-load");
        assert!(took < Duration::from_millis(100), "{took:?}");
        assert_eq!(gate.calls(), 1);
        // The fetch ends late, with the keys: they are kept for the next requests.
        gate.open(Ok(keys(&["a"])));
        eventually("the late keys", || c.status(at(1)).is_some());
        assert!(matches!(c.cached(Some("a"), at(2)), Some(Ok(_))));
    }

    /// Issue 19, item 8: the gap after a failed attempt counts from its end, measured as the
    /// caller's `now` plus how long the attempt took (so a manual clock still works).
    #[test]
    fn the_gap_after_a_failure_counts_from_its_end() {
        let c = KeyCache::new(cfg(), None);
        let slow_failure = || {
            thread::sleep(Duration::from_millis(300));
            down()
        };
        assert_eq!(
            reason(c.get(Some("a"), at(0), slow_failure)),
            "jwk-remote-failed-to-load"
        );
        // 5 s after its start is only 4.7 s after its end: still refused, without a fetch.
        let start_plus_gap = at(5) + Duration::from_millis(200);
        assert_eq!(
            c.cached(Some("a"), start_plus_gap).map(reason),
            Some("jwk-remote-failed-to-load")
        );
        assert_eq!(
            reason(c.get(Some("a"), start_plus_gap, never)),
            "jwk-remote-failed-to-load"
        );
        let end_plus_gap = at(5) + Duration::from_millis(400);
        assert!(c.cached(Some("a"), end_plus_gap).is_none());
        assert!(c.get(Some("a"), end_plus_gap, ok(&["a"])).is_ok());
    }

    /// A refresh that is due answers with the stale key at once and refreshes in the
    /// background; meanwhile the flight is visible: everyone gets the stale key, and an
    /// unknown kid joins the refresh instead of starting another fetch.
    #[test]
    fn stale_while_revalidate_refreshes_in_the_background() {
        let c = KeyCache::new(cfg(), None);
        c.get(Some("a"), at(0), ok(&["a"])).unwrap();
        assert!(c.cached(Some("a"), at(300)).is_none(), "a refresh is due");
        let mut gate = Gate::new();
        let wait = c.prefetch(Some("a"), at(300), gate.fetch()).unwrap();
        assert!(wait.is_landed(), "answered at once");
        assert!(matches!(wait.outcome(), crate::keys::Outcome::Key(Ok(_))));
        eventually("the refresh to start", || gate.calls() == 1);
        assert!(matches!(c.cached(Some("a"), at(301)), Some(Ok(_))));
        assert!(c.get(Some("a"), at(301), never).is_ok());
        let rotated = c.prefetch(Some("b"), at(301), never).unwrap();
        assert!(!rotated.is_landed(), "joined the refresh");
        gate.open(Ok(keys(&["a", "b"])));
        rotated.wait();
        assert!(rotated.is_landed() && rotated.source_error().is_none());
        assert!(matches!(c.cached(Some("b"), at(301)), Some(Ok(_))));
        assert_eq!(c.status(at(301)), Some((2, true)));
    }

    /// A fetch that panics on its thread fails its waiters instead of leaving them (and the
    /// cache) waiting; the failure counts for the rate limit like any other.
    #[test]
    fn a_fetch_that_panics_fails_its_waiters_and_frees_the_cache() {
        let c = KeyCache::new(cfg(), None);
        let wait = c
            .prefetch(Some("a"), at(0), || panic!("a bug in the fetch"))
            .unwrap();
        wait.wait();
        assert!(wait.is_landed());
        assert_eq!(
            wait.source_error().map(|e| e.reason()),
            Some("jwk-remote-failed-to-load")
        );
        eventually("the flight to clear", || {
            c.cached(Some("a"), at(1)).is_some()
        });
        assert_eq!(
            reason(c.get(Some("a"), at(1), never)),
            "jwk-remote-failed-to-load"
        );
        assert!(c.get(Some("a"), at(6), ok(&["a"])).is_ok());
    }
}
