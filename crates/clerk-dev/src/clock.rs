//! [`ManualClock`]: a clock that tests move by hand.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock tests can move. Clones share the same time (an `Arc` inside), and it is
/// `Send + Sync`, so one clone can be handed to the code under test while the test
/// keeps another to advance it.
///
/// ```
/// use std::time::Duration;
/// use clerk_dev::ManualClock;
///
/// let clock = ManualClock::at_unix(1_700_000_000);
/// let seen_by_verifier = clock.clone();
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(seen_by_verifier.unix_secs(), 1_700_000_061);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<SystemTime>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// A clock showing `secs` seconds after the Unix epoch (before it if negative).
    pub fn at_unix(secs: i64) -> Self {
        Self::new(unix_to_system_time(secs))
    }

    /// The current time of this clock.
    pub fn now(&self) -> SystemTime {
        *self.lock()
    }

    /// The current time as whole seconds since the Unix epoch (negative before 1970).
    pub fn unix_secs(&self) -> i64 {
        match self.now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// Moves the clock forward by `d`.
    ///
    /// # Panics
    /// If the result is not representable as a `SystemTime`.
    pub fn advance(&self, d: Duration) {
        let mut now = self.lock();
        *now = now.checked_add(d).expect("ManualClock::advance overflow");
    }

    /// Moves the clock backward by `d` (to simulate clock skew).
    ///
    /// # Panics
    /// If the result is not representable as a `SystemTime`.
    pub fn rewind(&self, d: Duration) {
        let mut now = self.lock();
        *now = now.checked_sub(d).expect("ManualClock::rewind underflow");
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: SystemTime) {
        *self.lock() = t;
    }

    /// A `Fn() -> SystemTime` reading this clock, for APIs that take a time source
    /// as a closure.
    pub fn source(&self) -> impl Fn() -> SystemTime + Send + Sync + Clone + 'static {
        let clock = self.clone();
        move || clock.now()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SystemTime> {
        // A panicking test thread must not make the clock unusable for others.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn unix_to_system_time(secs: i64) -> SystemTime {
    let magnitude = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + magnitude
    } else {
        UNIX_EPOCH - magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_and_shares() {
        let c = ManualClock::at_unix(1000);
        let c2 = c.clone();
        c.advance(Duration::from_secs(5));
        assert_eq!(c2.unix_secs(), 1005);
        c2.rewind(Duration::from_secs(10));
        assert_eq!(c.unix_secs(), 995);
        c.set(UNIX_EPOCH);
        assert_eq!((c2.source())(), UNIX_EPOCH);
        assert_eq!(ManualClock::at_unix(-5).unix_secs(), -5);
    }

    #[test]
    fn is_send_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<ManualClock>();
    }
}
