//! Opaque machine tokens through the Backend API, with the bounds Clerk's SDK lacks (feature
//! `remote`):
//!
//! - what memory can answer is answered without a call: a shape that cannot be Clerk's, a
//!   token the API refused a moment ago (bounded memory, [`MachineOptions::refused_ttl`]), a
//!   verified token still in the result cache (off by default);
//! - one call per token at a time: requests with the same token join the call in flight (a
//!   [`Flight`]), waiting on its [`KeyWait`]: awaited without a thread in async code
//!   (`Step::finish`), or blocking on a condition variable;
//! - calls run on threads of their own, at most [`MachineOptions::max_in_flight`]; a call
//!   that finds them all busy waits in a bounded queue for up to
//!   [`MachineOptions::queue_wait`], taken up by the next thread that finishes; the queue
//!   full, the per-second budget spent, or the wait over, the answer is
//!   `backend-api-unavailable` (503), without a call. A worker takes queued calls until none
//!   is left, then ends: no thread outlives the work.

use crate::crypto::sha256;
use crate::error::Error;
use crate::keys::{KeyFlight, KeyWait};
use crate::limits::{Budget, Memory};
use crate::machine::api::{unavailable, Api};
use crate::machine::auth::MachineAuth;
use crate::machine::kind::check_shape;
use crate::machine::MachineStats;
use crate::options::{unix_millis, Clock, MachineOptions, TokenKind};
use crate::remote::KEY_WAIT_SLACK;
use parking_lot::Mutex;
use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// Log target of the Backend API's failures (never a token, never a secret).
const LOG_TARGET: &str = "clerk_verify::machine";

/// The opaque-token verifier of one [`crate::Verifier`], shared with its call threads.
pub(crate) struct Opaque {
    api: Result<Api, Error>,
    bounds: MachineOptions,
    clock: Clock,
    skew: Duration,
    refused: Memory<Error>,
    results: Memory<MachineAuth>,
    budget: Budget,
    state: Mutex<State>,
    counts: Counts,
}

#[derive(Default)]
struct State {
    /// Every call not yet answered (running or queued), by the SHA-256 of its token.
    flights: HashMap<[u8; 32], Arc<Flight>>,
    queue: VecDeque<Arc<Flight>>,
    /// Call threads alive.
    running: usize,
}

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    verified: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    joined: AtomicU64,
    malformed: AtomicU64,
    refused_from_memory: AtomicU64,
    cache_hits: AtomicU64,
    shed: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One verify call, from the first request with its token until the answer lands; every
/// request with that token meanwhile waits on the same [`KeyWait`].
pub(crate) struct Flight {
    kind: TokenKind,
    token: String,
    key: [u8; 32],
    wait: KeyWait,
    landing: Mutex<Option<KeyFlight>>,
    result: OnceLock<Result<MachineAuth, Error>>,
    /// A queued call not taken up by then is answered `backend-api-unavailable`.
    queued_until: Instant,
}

impl Flight {
    /// What waiters wait on.
    pub(crate) fn wait(&self) -> KeyWait {
        self.wait.clone()
    }

    /// The answer, once the wait is over; a flight that has not landed by its deadline is an
    /// outage.
    pub(crate) fn outcome(&self) -> Result<MachineAuth, Error> {
        self.result.get().cloned().unwrap_or_else(|| {
            Err(unavailable(
                "the verify call did not finish within its timeout",
            ))
        })
    }
}

impl fmt::Debug for Flight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flight")
            .field("kind", &self.kind)
            .field("landed", &self.result.get().is_some())
            .finish_non_exhaustive()
    }
}

impl Opaque {
    pub(crate) fn new(opts: &MachineOptions, clock: Clock, skew: Duration) -> Opaque {
        Opaque {
            api: Api::new(opts),
            bounds: opts.clone(),
            clock,
            skew,
            refused: Memory::new(opts.refused_capacity),
            results: Memory::new(opts.result_cache_capacity),
            budget: Budget::per_second(opts.calls_per_second),
            state: Mutex::new(State::default()),
            counts: Counts::default(),
        }
    }

    /// The answer memory has for `token`, an opaque token of `kind`: its shape refused, the
    /// configuration missing, a refusal remembered, a result cached. `None`: it takes a call.
    pub(crate) fn remembered(
        &self,
        kind: TokenKind,
        token: &str,
    ) -> Option<Result<MachineAuth, Error>> {
        if let Err(e) = check_shape(token, kind) {
            bump(&self.counts.malformed);
            return Some(Err(e));
        }
        if let Err(e) = &self.api {
            return Some(Err(e.clone()));
        }
        let now = self.clock.unix_seconds();
        // One hash for both memories: this is the result cache's hit path.
        let key = sha256(token.as_bytes());
        if let Some(refusal) = self.refused.get_hashed(&key, now) {
            bump(&self.counts.refused_from_memory);
            return Some(Err(refusal));
        }
        let cached = self.results.get_hashed(&key, now)?;
        bump(&self.counts.cache_hits);
        Some(self.unexpired(cached))
    }

    /// Joins the call in flight for `token`, or starts one (or queues it), without blocking.
    /// `Err` when it can be neither: the budget is spent or the queue full.
    pub(crate) fn begin(
        self: &Arc<Self>,
        kind: TokenKind,
        token: &str,
    ) -> Result<Arc<Flight>, Error> {
        let key = sha256(token.as_bytes());
        let mut st = self.state.lock();
        if let Some(flight) = st.flights.get(&key) {
            bump(&self.counts.joined);
            return Ok(Arc::clone(flight));
        }
        if !self.budget.take() {
            drop(st);
            return Err(self.shed(format!(
                "more than {} verify calls per second (MachineOptions::calls_per_second)",
                self.bounds.calls_per_second
            )));
        }
        let now = Instant::now();
        let queued_until = now + self.bounds.queue_wait;
        let deadline = queued_until + self.bounds.timeout + KEY_WAIT_SLACK;
        let (wait, landing) = KeyWait::new(deadline);
        let flight = Arc::new(Flight {
            kind,
            token: token.to_owned(),
            key,
            wait,
            landing: Mutex::new(Some(landing)),
            result: OnceLock::new(),
            queued_until,
        });
        if st.running < self.bounds.max_in_flight {
            st.running += 1;
            st.flights.insert(key, Arc::clone(&flight));
            drop(st);
            Worker::spawn(Arc::clone(self), Arc::clone(&flight));
        } else if st.queue.len() < self.bounds.max_queued {
            st.queue.push_back(Arc::clone(&flight));
            st.flights.insert(key, Arc::clone(&flight));
        } else {
            drop(st);
            return Err(self.shed(format!(
                "{} verify calls are running and {} waiting (MachineOptions::max_in_flight, \
                 max_queued)",
                self.bounds.max_in_flight, self.bounds.max_queued
            )));
        }
        Ok(flight)
    }

    /// [`Opaque::remembered`], else a call (joined or started), waited for: may block, at
    /// most the queue wait and the timeout.
    pub(crate) fn verify(
        self: &Arc<Self>,
        kind: TokenKind,
        token: &str,
    ) -> Result<MachineAuth, Error> {
        if let Some(answer) = self.remembered(kind, token) {
            return answer;
        }
        let flight = self.begin(kind, token)?;
        flight.wait.wait();
        flight.outcome()
    }

    pub(crate) fn stats(&self) -> MachineStats {
        let c = &self.counts;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MachineStats {
            calls: n(&c.calls),
            verified: n(&c.verified),
            refused: n(&c.refused),
            failed: n(&c.failed),
            joined: n(&c.joined),
            malformed: n(&c.malformed),
            refused_from_memory: n(&c.refused_from_memory),
            cache_hits: n(&c.cache_hits),
            shed: n(&c.shed),
            refused_remembered: self.refused.len(),
            cached_results: self.results.len(),
            in_flight: self.state.lock().flights.len(),
        }
    }

    fn shed(&self, why: String) -> Error {
        bump(&self.counts.shed);
        // Debug only: a flood would flood the log too (`MachineStats::shed` counts them).
        log::debug!(target: LOG_TARGET, "machine token answered 503 without a call: {why}");
        unavailable(why)
    }

    /// `auth`, unless its `expiration` has passed on the verifier's clock (with the skew).
    fn unexpired(&self, auth: MachineAuth) -> Result<MachineAuth, Error> {
        let Some(expiration) = auth.expiration() else {
            return Ok(auth);
        };
        let now = unix_millis(self.clock.now());
        if i128::from(expiration) <= now - self.skew.as_millis() as i128 {
            return Err(Error::MachineTokenInvalid(Cow::Owned(format!(
                "this {} expired at {expiration} (Unix milliseconds)",
                auth.kind()
            ))));
        }
        Ok(auth)
    }

    /// The call itself, counted.
    fn call(&self, flight: &Flight) -> Result<MachineAuth, Error> {
        bump(&self.counts.calls);
        let answer = match &self.api {
            Ok(api) => api.call(flight.kind, &flight.token),
            Err(e) => Err(e.clone()),
        };
        answer.and_then(|auth| self.unexpired(auth))
    }

    /// Records `result` (the memories first, so that a request arriving meanwhile finds
    /// them), takes the flight out of the running ones, and wakes its waiters.
    fn settle(&self, flight: &Flight, result: Result<MachineAuth, Error>) {
        let now = self.clock.unix_seconds();
        match &result {
            Ok(auth) => {
                bump(&self.counts.verified);
                let ttl = self.bounds.result_cache_ttl.as_secs() as i64;
                let until = match auth.expiration() {
                    Some(ms) => (now + ttl).min(ms.div_euclid(1000)),
                    None => now + ttl,
                };
                self.results.insert(&flight.token, auth.clone(), until, now);
            }
            Err(e @ Error::MachineTokenInvalid(_)) => {
                bump(&self.counts.refused);
                let until = now + self.bounds.refused_ttl.as_secs() as i64;
                self.refused.insert(&flight.token, e.clone(), until, now);
            }
            Err(e) => {
                bump(&self.counts.failed);
                log::warn!(
                    target: LOG_TARGET,
                    "verifying a {} failed ({}): {e}",
                    flight.kind,
                    e.reason()
                );
            }
        }
        {
            let mut st = self.state.lock();
            if st
                .flights
                .get(&flight.key)
                .is_some_and(|f| std::ptr::eq(Arc::as_ptr(f), flight))
            {
                st.flights.remove(&flight.key);
            }
        }
        land(flight, result);
    }

    /// The next queued call for a thread that finished one; those that waited too long are
    /// answered on the way. `None`: nothing left, and the thread is no longer counted.
    fn next(&self) -> Option<Arc<Flight>> {
        let now = Instant::now();
        let mut late = Vec::new();
        let mut st = self.state.lock();
        let next = loop {
            match st.queue.pop_front() {
                Some(flight) if flight.queued_until > now => break Some(flight),
                Some(flight) => {
                    st.flights.remove(&flight.key);
                    late.push(flight);
                }
                None => {
                    st.running -= 1;
                    break None;
                }
            }
        };
        drop(st);
        for flight in late {
            let why = format!(
                "no call slot within {:?} ({} calls running; MachineOptions::max_in_flight)",
                self.bounds.queue_wait, self.bounds.max_in_flight
            );
            land(&flight, Err(self.shed(why)));
        }
        next
    }
}

/// Stores the answer, then wakes every waiter (in that order: they read it when woken).
fn land(flight: &Flight, result: Result<MachineAuth, Error>) {
    let _ = flight.result.set(result);
    if let Some(landing) = flight.landing.lock().take() {
        landing.land(Ok(()));
    }
}

/// A call thread: runs its first call, then queued ones until none is left. Dropped with a
/// call unanswered (the call panicked), it answers it as an outage and hands the queue on.
struct Worker {
    opaque: Arc<Opaque>,
    current: Option<Arc<Flight>>,
}

impl Worker {
    fn spawn(opaque: Arc<Opaque>, first: Arc<Flight>) {
        let worker = Worker {
            opaque,
            current: Some(first),
        };
        let spawned = thread::Builder::new()
            .name("clerk-verify-machine".to_owned())
            .spawn(move || {
                let mut worker = worker;
                worker.run();
            });
        if let Err(e) = spawned {
            // The worker was dropped with the closure: its `Drop` answered the call as an
            // outage and passed the queue on (or gave the slot back).
            log::error!(target: LOG_TARGET, "cannot start a verify call: {e}");
        }
    }

    fn run(&mut self) {
        while let Some(flight) = self.current.clone() {
            let result = self.opaque.call(&flight);
            self.opaque.settle(&flight, result);
            self.current = None;
            self.current = self.opaque.next();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let Some(flight) = self.current.take() else {
            return;
        };
        self.opaque.settle(
            &flight,
            Err(unavailable("the verify call stopped without an answer")),
        );
        if let Some(next) = self.opaque.next() {
            Worker::spawn(Arc::clone(&self.opaque), next);
        }
    }
}
