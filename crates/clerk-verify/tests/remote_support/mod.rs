//! Helpers shared by the `remote_*` tests: a manual clock driving the verifier, short timeouts,
//! token minting at the clock's time.
#![allow(dead_code)]

use clerk_dev::{DevKey, ManualClock, TokenBuilder};
use clerk_verify::{
    remote::RemoteKeys, remote::RemoteOptions, Clock, Error, Verifier, VerifyOptions,
};
use std::time::{Duration, Instant};

/// Start of every test clock.
pub const T0: i64 = 1_700_000_000;
/// The configured fetch timeout of [`fast`]; fault tests must finish within it plus a second.
pub const TIMEOUT: Duration = Duration::from_secs(1);
/// The secret key the fake Backend API expects.
pub const SECRET: &str = "sk_test_remoteTESTSECRET0123456789";

pub fn clock() -> ManualClock {
    ManualClock::at_unix(T0)
}

/// Verify options reading `clock`.
pub fn opts(clock: &ManualClock) -> VerifyOptions {
    VerifyOptions::default().clock(Clock::from_fn(clock.source()))
}

/// Remote options with 1 s timeouts.
pub fn fast() -> RemoteOptions {
    RemoteOptions::default()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .read_timeout(TIMEOUT)
}

pub fn verifier(keys: RemoteKeys, clock: &ManualClock) -> Verifier {
    Verifier::new(keys, opts(clock)).expect("verifier")
}

/// A session token for `user_1`, valid at the clock's time, with `key`'s kid.
pub fn token(key: &DevKey, clock: &ManualClock) -> String {
    TokenBuilder::session("user_1", clock.unix_secs()).sign(key)
}

/// Like [`token`] with another `kid` in the header.
pub fn token_with_kid(key: &DevKey, kid: &str, clock: &ManualClock) -> String {
    TokenBuilder::session("user_1", clock.unix_secs())
        .header("kid", kid)
        .sign(key)
}

/// The reason code of a result, `"ok"` for success.
pub fn reason<T>(r: &Result<T, Error>) -> &'static str {
    r.as_ref().err().map_or("ok", Error::reason)
}

/// Runs `f` and returns its result and how long it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

/// Waits (bounded, 5 s) until `cond` holds.
pub fn wait_until(what: &str, cond: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}
