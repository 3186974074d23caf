//! Waiting for a key fetch without holding a thread: [`KeyWait`], what a request waits on (a
//! `Future` for async callers, a condition variable with a deadline for blocking ones), and
//! [`KeyFlight`], the fetcher's end that lands it.
//!
//! Also the rule for looking keys up again after a wait ([`Learnt`]): a request that waited
//! for a fetch answers from what that fetch left, and never starts another one.

use crate::error::Error;
use crate::keys::{Key, KeyFetcher};
use parking_lot::{Condvar, Mutex};
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Instant, SystemTime};

/// A key fetch that requests can wait for without holding a thread each: what
/// [`KeyFetcher::prefetch`] returns.
///
/// Await it on any runtime (it completes through the task's [`Waker`], so there is no runtime
/// dependency): it completes when the fetch lands or its deadline passes, whichever comes
/// first. Then look the key up again with [`KeyFetcher::cached_key`];
/// [`crate::request::Step::finish`] does all of this for adapters.
///
/// ```
/// use clerk_verify::KeyWait;
/// use std::time::{Duration, Instant};
///
/// let (wait, flight) = KeyWait::new(Instant::now() + Duration::from_secs(5));
/// std::thread::spawn(move || flight.land(Ok(()))); // the fetch, on its own thread
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async {
/// wait.await; // in async code: no thread is held while the fetch runs
/// # });
/// ```
pub struct KeyWait {
    kind: Kind,
    /// This handle's place in its flight's list of wakers, once polled.
    slot: Option<usize>,
}

/// A key lookup's answer.
type Answer = Result<Arc<Key>, Error>;

#[derive(Clone)]
enum Kind {
    /// The answer for the `kid` asked about was known at once (a stale key served while the
    /// refresh runs, a failure the rate limit remembers).
    Answered(Result<Arc<Key>, Error>),
    /// A fetch in flight.
    Flight(Arc<Flight>),
}

/// The fetcher's end of a [`KeyWait`]: [`KeyFlight::land`] it with the fetch's outcome.
/// Dropping it without landing lands it with `jwk-remote-failed-to-load`, so a fetch that panics
/// or never starts cannot leave requests waiting.
pub struct KeyFlight {
    flight: Arc<Flight>,
}

struct Flight {
    /// Waiters give up here, landed or not.
    deadline: Instant,
    state: Mutex<FlightState>,
    landed: Condvar,
}

#[derive(Default)]
struct FlightState {
    outcome: Option<Result<(), Error>>,
    wakers: Vec<Waker>,
    /// Whether a thread already watches the deadline for the async waiters.
    watched: bool,
}

/// What a finished wait says: either the answer for the `kid` asked about, or what the key
/// source said, which answers any key still missing.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    Key(Result<Arc<Key>, Error>),
    Source(Result<(), Error>),
}

impl KeyWait {
    /// A wait for a fetch that lands through the returned [`KeyFlight`], or gives up at
    /// `deadline`. Clones of the wait share the flight.
    pub fn new(deadline: Instant) -> (KeyWait, KeyFlight) {
        let flight = Arc::new(Flight {
            deadline,
            state: Mutex::new(FlightState::default()),
            landed: Condvar::new(),
        });
        let wait = KeyWait {
            kind: Kind::Flight(Arc::clone(&flight)),
            slot: None,
        };
        (wait, KeyFlight { flight })
    }

    /// A wait that is over at once: the answer for the `kid` asked about is known without a
    /// fetch (or without waiting for the one running).
    pub fn answered(answer: Result<Arc<Key>, Error>) -> KeyWait {
        KeyWait {
            kind: Kind::Answered(answer),
            slot: None,
        }
    }

    /// Blocks until the fetch lands or its deadline passes: the blocking counterpart of
    /// awaiting the wait.
    pub fn wait(&self) {
        if let Kind::Flight(f) = &self.kind {
            let mut st = f.state.lock();
            while st.outcome.is_none() {
                if f.landed.wait_until(&mut st, f.deadline).timed_out() {
                    break;
                }
            }
        }
    }

    /// What the wait says now; a flight that has not landed counts as failed (its deadline
    /// passed, or the caller stopped waiting).
    pub(crate) fn outcome(&self) -> Outcome {
        match &self.kind {
            Kind::Answered(answer) => Outcome::Key(answer.clone()),
            Kind::Flight(f) => Outcome::Source(
                f.state
                    .lock()
                    .outcome
                    .clone()
                    .unwrap_or_else(|| Err(unfinished())),
            ),
        }
    }

    /// Whether the flight has landed (an answered wait counts as landed).
    #[cfg(feature = "remote")]
    pub(crate) fn is_landed(&self) -> bool {
        match &self.kind {
            Kind::Answered(_) => true,
            Kind::Flight(f) => f.state.lock().outcome.is_some(),
        }
    }

    /// The error the source gave, if the flight failed or has not landed.
    #[cfg(feature = "remote")]
    pub(crate) fn source_error(&self) -> Option<Error> {
        match self.outcome() {
            Outcome::Source(Err(e)) => Some(e),
            Outcome::Source(Ok(())) | Outcome::Key(_) => None,
        }
    }
}

/// The answer of a wait whose flight did not land in time.
pub(crate) fn unfinished() -> Error {
    Error::JwkRemoteFailedToLoad("the key fetch did not finish within its timeout".into())
}

impl Flight {
    /// Wakes the async waiters at the deadline if the flight has not landed by then: a future
    /// cannot set a timer without a runtime, so one short-lived thread per flight does it.
    fn watch(self: &Arc<Flight>) {
        let flight = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name("clerk-verify-keywait".to_owned())
            .spawn(move || {
                let mut st = flight.state.lock();
                while st.outcome.is_none() {
                    if flight
                        .landed
                        .wait_until(&mut st, flight.deadline)
                        .timed_out()
                    {
                        break;
                    }
                }
                let wakers = std::mem::take(&mut st.wakers);
                drop(st);
                wakers.into_iter().for_each(Waker::wake);
            });
        if let Err(e) = spawned {
            // The landing still wakes everyone; the fetch itself is bounded by its timeout.
            log::warn!(target: "clerk_verify::remote", "cannot watch a key fetch's deadline: {e}");
        }
    }
}

impl Future for KeyWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Kind::Flight(flight) = &self.kind else {
            return Poll::Ready(());
        };
        let flight = Arc::clone(flight);
        let mut st = flight.state.lock();
        if st.outcome.is_some() || Instant::now() >= flight.deadline {
            return Poll::Ready(());
        }
        match self.slot {
            Some(i) if i < st.wakers.len() => {
                if !st.wakers[i].will_wake(cx.waker()) {
                    st.wakers[i] = cx.waker().clone();
                }
            }
            _ => {
                self.slot = Some(st.wakers.len());
                st.wakers.push(cx.waker().clone());
            }
        }
        if !st.watched {
            st.watched = true;
            drop(st);
            flight.watch();
        }
        Poll::Pending
    }
}

impl Clone for KeyWait {
    fn clone(&self) -> KeyWait {
        KeyWait {
            kind: self.kind.clone(),
            slot: None,
        }
    }
}

impl fmt::Debug for KeyWait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Answered(answer) => f
                .debug_struct("KeyWait")
                .field(
                    "answered",
                    &answer.as_ref().map_or_else(|e| e.reason(), |_| "key"),
                )
                .finish(),
            Kind::Flight(flight) => f
                .debug_struct("KeyWait")
                .field("landed", &flight.state.lock().outcome.is_some())
                .field("deadline", &flight.deadline)
                .finish(),
        }
    }
}

impl KeyFlight {
    /// Lands the flight: `Ok` when the fetch succeeded (the waiters find its keys in memory),
    /// else its error. Wakes every waiter.
    pub fn land(self, outcome: Result<(), Error>) {
        self.flight.land(outcome);
    }
}

impl Flight {
    fn land(&self, outcome: Result<(), Error>) {
        let mut st = self.state.lock();
        if st.outcome.is_none() {
            st.outcome = Some(outcome);
        }
        let wakers = std::mem::take(&mut st.wakers);
        drop(st);
        self.landed.notify_all();
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Drop for KeyFlight {
    fn drop(&mut self) {
        // A no-op after `land` (the first outcome stays).
        self.flight.land(Err(Error::JwkRemoteFailedToLoad(
            "the key fetch stopped without an answer".into(),
        )));
    }
}

impl fmt::Debug for KeyFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyFlight")
            .field("deadline", &self.flight.deadline)
            .finish_non_exhaustive()
    }
}

/// What one request has learnt from its waits, for the lookups of its next non-blocking run.
///
/// A lookup that misses memory (`cached_key` says `None`) answers from the waits: the answer a
/// wait gave for that `kid`, else what the source said in the last flight waited for (its
/// error, or `jwk-kid-mismatch` after a successful fetch that did not bring the key). So a
/// request that waited never starts another fetch, whatever its clock says about the rate limit.
#[derive(Debug, Default)]
pub(crate) struct Learnt {
    /// Per `kid` (`None`: a token without one), the answer a wait gave.
    answers: Vec<(Option<String>, Answer)>,
    source: Option<Result<(), Error>>,
}

/// The run in progress on this thread, if any. A thread-local because the page flow looks keys
/// up several calls down, and a run is synchronous (nothing is awaited inside it).
struct Run {
    learnt: Learnt,
    /// The first `kid` that missed memory with nothing learnt about it.
    missed: Option<Option<String>>,
}

thread_local! {
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
}

impl Learnt {
    /// Runs `f` (the non-blocking path) with lookups answered as described above; returns its
    /// result and the first `kid` that missed memory unanswered (`Some(None)`: a token without
    /// one), for the next wait.
    pub(crate) fn run<T>(&mut self, f: impl FnOnce() -> T) -> (T, Option<Option<String>>) {
        struct Restore(Option<Run>);
        impl Drop for Restore {
            fn drop(&mut self) {
                RUN.with(|r| *r.borrow_mut() = self.0.take());
            }
        }
        let run = Run {
            learnt: std::mem::take(self),
            missed: None,
        };
        let restore = Restore(RUN.with(|r| r.borrow_mut().replace(run)));
        let out = f();
        let run = RUN.with(|r| r.borrow_mut().take());
        drop(restore);
        match run {
            Some(run) => {
                *self = run.learnt;
                (out, run.missed)
            }
            None => (out, None),
        }
    }

    /// Takes in what `wait`, started for `kid`, says.
    pub(crate) fn learn(&mut self, kid: Option<String>, wait: &KeyWait) {
        match wait.outcome() {
            Outcome::Key(answer) => self.answers.push((kid, answer)),
            Outcome::Source(said) => self.source = Some(said),
        }
    }

    fn answer(&self, kid: Option<&str>) -> Option<Result<Arc<Key>, Error>> {
        if let Some((_, answer)) = self.answers.iter().find(|(k, _)| k.as_deref() == kid) {
            return Some(answer.clone());
        }
        let said = self.source.as_ref()?;
        Some(Err(said.clone().err().unwrap_or(Error::JwkKidMismatch)))
    }
}

/// The key for `kid` from memory: [`KeyFetcher::cached_key`], or, inside a [`Learnt::run`], what
/// the request's waits taught. Every non-blocking lookup of the verifier goes through here.
pub(crate) fn from_memory(
    keys: &dyn KeyFetcher,
    kid: Option<&str>,
    now: SystemTime,
) -> Option<Result<Arc<Key>, Error>> {
    if let found @ Some(_) = keys.cached_key(kid, now) {
        return found;
    }
    RUN.with(|r| {
        let mut r = r.borrow_mut();
        let run = r.as_mut()?;
        let answer = run.learnt.answer(kid);
        if answer.is_none() && run.missed.is_none() {
            run.missed = Some(kid.map(str::to_owned));
        }
        answer
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;
    use std::time::Duration;

    /// Counts its wake-ups.
    struct Counter(AtomicUsize);

    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(wait: &mut KeyWait, waker: &Waker) -> Poll<()> {
        Pin::new(wait).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn landing_wakes_every_waiter_once_each() {
        let (wait, flight) = KeyWait::new(Instant::now() + Duration::from_secs(30));
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&counter));
        let mut waits: Vec<KeyWait> = (0..50).map(|_| wait.clone()).collect();
        for w in &mut waits {
            assert!(poll(w, &waker).is_pending());
            // Polled again: the same slot, not a second waker.
            assert!(poll(w, &waker).is_pending());
        }
        flight.land(Err(Error::JwkRemoteFailedToLoad("HTTP 500".into())));
        assert_eq!(counter.0.load(Ordering::SeqCst), 50);
        for w in &mut waits {
            assert!(poll(w, &waker).is_ready());
        }
        assert!(matches!(
            wait.outcome(),
            Outcome::Source(Err(Error::JwkRemoteFailedToLoad(_)))
        ));
    }

    #[test]
    fn the_deadline_wakes_async_and_blocking_waiters() {
        let deadline = Instant::now() + Duration::from_millis(100);
        let (wait, flight) = KeyWait::new(deadline);
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let mut polled = wait.clone();
        assert!(poll(&mut polled, &Waker::from(Arc::clone(&counter))).is_pending());
        wait.wait();
        assert!(Instant::now() >= deadline);
        // The watcher thread wakes the future at the deadline, without the flight landing.
        let until = Instant::now() + Duration::from_secs(5);
        while counter.0.load(Ordering::SeqCst) == 0 {
            assert!(Instant::now() < until, "never woken");
            thread::sleep(Duration::from_millis(5));
        }
        assert!(poll(&mut polled, &Waker::noop().clone()).is_ready());
        assert!(
            matches!(wait.outcome(), Outcome::Source(Err(e)) if e.to_string().contains("timeout"))
        );
        // A late landing changes nothing for those who stopped waiting, but is recorded.
        flight.land(Ok(()));
        assert!(matches!(wait.outcome(), Outcome::Source(Ok(()))));
    }

    #[test]
    fn a_flight_dropped_unlanded_fails_its_waiters() {
        let (wait, flight) = KeyWait::new(Instant::now() + Duration::from_secs(30));
        let waiter = {
            let wait = wait.clone();
            thread::spawn(move || {
                wait.wait();
                wait.outcome()
            })
        };
        thread::sleep(Duration::from_millis(20));
        drop(flight);
        let outcome = waiter.join().unwrap();
        assert!(
            matches!(&outcome, Outcome::Source(Err(e)) if e.reason() == "jwk-remote-failed-to-load"),
            "{outcome:?}"
        );
    }

    #[test]
    fn answered_waits_are_ready_at_once() {
        let mut wait = KeyWait::answered(Err(Error::JwkKidMismatch));
        assert_eq!(
            format!("{wait:?}"),
            r#"KeyWait { answered: "jwk-kid-mismatch" }"#
        );
        assert!(poll(&mut wait, &Waker::noop().clone()).is_ready());
        wait.wait();
        assert!(matches!(
            wait.outcome(),
            Outcome::Key(Err(Error::JwkKidMismatch))
        ));
    }

    /// A key source with nothing in memory.
    #[derive(Debug)]
    struct Empty;

    impl KeyFetcher for Empty {
        fn cached_key(&self, _: Option<&str>, _: SystemTime) -> Option<Result<Arc<Key>, Error>> {
            None
        }
        fn fetch_key(&self, _: Option<&str>, _: SystemTime) -> Result<Arc<Key>, Error> {
            panic!("never fetched here")
        }
    }

    #[test]
    fn a_run_answers_misses_from_what_the_waits_said() {
        let now = SystemTime::now();
        let mut learnt = Learnt::default();
        // Nothing learnt: the first miss is recorded, and outside a run nothing is.
        let (found, missed) = learnt.run(|| {
            let a = from_memory(&Empty, Some("a"), now);
            let b = from_memory(&Empty, Some("b"), now);
            (a.is_none(), b.is_none())
        });
        assert_eq!((found, missed), ((true, true), Some(Some("a".to_owned()))));
        assert!(from_memory(&Empty, Some("a"), now).is_none());
        // An answer for `a` answers `a` only.
        learnt.learn(
            Some("a".to_owned()),
            &KeyWait::answered(Err(Error::JwkRemoteFailedToLoad("down".into()))),
        );
        let (found, missed) = learnt.run(|| {
            (
                from_memory(&Empty, Some("a"), now).map(|r| r.unwrap_err().reason()),
                from_memory(&Empty, Some("b"), now).is_none(),
            )
        });
        assert_eq!(found, (Some("jwk-remote-failed-to-load"), true));
        assert_eq!(missed, Some(Some("b".to_owned())));
        // After a flight that succeeded without the key: any other miss is a mismatch.
        let (wait, flight) = KeyWait::new(Instant::now() + Duration::from_secs(30));
        flight.land(Ok(()));
        learnt.learn(Some("b".to_owned()), &wait);
        let (found, missed) =
            learnt.run(|| from_memory(&Empty, Some("c"), now).map(|r| r.unwrap_err().reason()));
        assert_eq!((found, missed), (Some("jwk-kid-mismatch"), None));
    }
}
