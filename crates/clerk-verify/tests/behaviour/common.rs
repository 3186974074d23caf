//! Shared helpers: a fixed clock, default verifiers, token surgery and reason assertions.

#![allow(dead_code)]

use clerk_dev::{b64url, b64url_decode, fixtures, DevKey, TokenBuilder};
use clerk_verify::{Claims, Clock, Error, Verifier, VerifyOptions};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The instant every verifier built here sees (unless a test supplies its own clock).
pub const NOW: i64 = 1_750_000_000;

/// `NOW` as a `SystemTime`.
pub fn now_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW as u64)
}

/// A clock stuck at [`NOW`].
pub fn clock() -> Clock {
    Clock::fixed(now_time())
}

/// Default options on the fixed clock.
pub fn opts() -> VerifyOptions {
    VerifyOptions::default().clock(clock())
}

/// The default signing key (2048 bits, kid `ins_test_2048`).
pub fn key() -> &'static DevKey {
    fixtures::rsa2048()
}

/// A JWKS verifier for [`key`] with `opts`.
pub fn jwks_verifier_with(opts: VerifyOptions) -> Verifier {
    Verifier::from_jwks(&key().jwks_json(), opts).expect("JWKS verifier")
}

/// A JWKS verifier for [`key`] with default options on the fixed clock.
pub fn jwks_verifier() -> Verifier {
    jwks_verifier_with(opts())
}

/// A PEM (SPKI) verifier for [`key`] with `opts`.
pub fn pem_verifier_with(opts: VerifyOptions) -> Verifier {
    Verifier::from_pem(&key().public_pem(), opts).expect("PEM verifier")
}

/// A PEM (SPKI) verifier for [`key`] with default options on the fixed clock.
pub fn pem_verifier() -> Verifier {
    pem_verifier_with(opts())
}

/// Clerk-like session claims for `user_1`, minted at [`NOW`] (exp NOW+60, nbf NOW-10, iat NOW).
pub fn session() -> TokenBuilder {
    TokenBuilder::session("user_1", NOW)
}

/// A valid token for the default verifiers.
pub fn good_token() -> String {
    session().sign(key())
}

/// Splits a compact token into its three parts (panics if it has not three).
pub fn parts(token: &str) -> (&str, &str, &str) {
    let mut it = token.split('.');
    let (h, p, s) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    assert!(it.next().is_none(), "not three parts");
    (h, p, s)
}

/// The signature bytes of a token.
pub fn sig_bytes(token: &str) -> Vec<u8> {
    b64url_decode(parts(token).2).expect("signature is base64url")
}

/// The token with its signature replaced by `sig` (re-encoded canonically).
pub fn with_sig(token: &str, sig: &[u8]) -> String {
    let (h, p, _) = parts(token);
    format!("{h}.{p}.{}", b64url(sig))
}

/// `b64url(header) . b64url(payload)` signed RS256 by `key` with raw bytes (may be non-UTF-8).
pub fn sign_raw(key: &DevKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", b64url(header), b64url(payload));
    let sig = key.sign("RS256", input.as_bytes());
    format!("{input}.{}", b64url(&sig))
}

/// Asserts that verification failed with `reason`, and that the error's message leaks neither
/// the token nor any long piece of it. Returns the error for further checks.
#[track_caller]
pub fn expect_reason(result: Result<Arc<Claims>, Error>, token: &str, reason: &str) -> Error {
    match result {
        Ok(c) => panic!(
            "expected {reason}, but the token verified (sub {:?})",
            c.sub
        ),
        Err(e) => {
            assert_eq!(e.reason(), reason, "wrong reason; message: {e}");
            assert_no_leak(&e, token);
            e
        }
    }
}

/// Asserts the message of `e` contains neither `token` nor any of its dot-separated parts (nor
/// any 16-character window of them) when they are long enough to be recognisable.
#[track_caller]
pub fn assert_no_leak(e: &Error, token: &str) {
    let msg = e.to_string();
    let dbg = format!("{e:?}");
    for text in [&msg, &dbg] {
        if token.len() >= 16 {
            assert!(!text.contains(token), "error leaks the token: {text}");
        }
        for part in token.split('.') {
            let bytes = part.as_bytes();
            if bytes.len() < 16 || !part.is_ascii() {
                continue;
            }
            for w in bytes.windows(16).step_by(8) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(
                    !text.contains(w),
                    "error leaks part of the token ({w}): {text}"
                );
            }
        }
    }
}

/// Verifies `token` with `v` and asserts the refusal reason.
#[track_caller]
pub fn refused(v: &Verifier, token: &str, reason: &str) -> Error {
    expect_reason(v.verify(token), token, reason)
}

/// Verifies `token` with `v` and returns the claims (a copy of the shared ones, for the test to
/// take apart), panicking with the reason otherwise.
#[track_caller]
pub fn accepted(v: &Verifier, token: &str) -> Claims {
    match v.verify(token) {
        Ok(c) => Arc::unwrap_or_clone(c),
        Err(e) => panic!("expected the token to verify, got {}: {e}", e.reason()),
    }
}

/// A tiny deterministic PRNG (xorshift64*), so the randomised tests need no `rand` crate and
/// every failure is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform-ish in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
