//! Allocations and memory, counted by a counting global allocator (`stats_alloc`): what one
//! verification allocates besides the claims it returns (nothing, beyond the crypto backend's
//! own), and what the verified-token cache holds after a million tokens (bounded, and never
//! more than it accounts for).
//!
//! Its own test binary, and one test that runs the three checks in turn: the allocator counts
//! the whole process, and the test harness starting another test's thread meanwhile would count
//! too. Nothing prints while counting.

use clerk_dev::{b64url, b64url_decode, fixtures, now_unix, TokenBuilder};
use clerk_verify::{Verifier, VerifyOptions};
use stats_alloc::{Region, Stats, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn allocations_and_memory_counted() {
    a_verification_allocates_the_claims_it_returns_and_nothing_else();
    a_million_random_or_forged_tokens_leave_the_cache_empty_and_memory_flat();
    a_million_verified_tokens_keep_the_cache_within_its_bound();
}

/// What `f` allocated (and freed) while it ran; its result is returned, not yet dropped.
fn count<T>(f: impl FnOnce() -> T) -> (T, Stats) {
    let region = Region::new(GLOBAL);
    let out = f();
    (out, region.change())
}

/// The fewest allocations `f` made in five runs (the harness's thread might allocate once).
fn fewest<T>(mut f: impl FnMut() -> T) -> (T, Stats) {
    let mut best = count(&mut f);
    for _ in 0..4 {
        let next = count(&mut f);
        if next.1.allocations < best.1.allocations {
            best = next;
        }
    }
    best
}

/// Slack for the harness's own thread in live-byte comparisons.
const HARNESS_SLACK: isize = 4096;

/// Bytes allocated and not yet freed, process-wide.
fn live_bytes() -> isize {
    let s = GLOBAL.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

/// A Clerk-shaped session token (sub, sid, iss, azp, iat, nbf, exp, v) for `key`.
fn session_token(key: &clerk_dev::DevKey) -> String {
    TokenBuilder::session("user_1", now_unix())
        .claim("exp", now_unix() + 3600)
        .sign(key)
}

/// Allocations of the backend's raw RSA verification of `token`, alone.
fn backend_allocations(key: &clerk_dev::DevKey, token: &str) -> usize {
    let (signing_input, sig) = token.rsplit_once('.').unwrap();
    let sig = b64url_decode(sig).unwrap();
    #[cfg(not(feature = "aws-lc-rs"))]
    {
        let jwk = key.public_jwk();
        let part = |m: &str| b64url_decode(jwk[m].as_str().unwrap()).unwrap();
        let public = ring::signature::RsaPublicKeyComponents {
            n: part("n"),
            e: part("e"),
        };
        let verify = || {
            public
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    signing_input.as_bytes(),
                    &sig,
                )
                .unwrap()
        };
        verify();
        fewest(verify).1.allocations
    }
    #[cfg(feature = "aws-lc-rs")]
    {
        use base64::Engine;
        let pem = key.public_pem();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        let public = aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            der,
        )
        .unwrap();
        let verify = || public.verify_sig(signing_input.as_bytes(), &sig).unwrap();
        verify();
        fewest(verify).1.allocations
    }
}

fn a_verification_allocates_the_claims_it_returns_and_nothing_else() {
    let key = fixtures::rsa2048();
    let token = session_token(key);
    let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default()).unwrap();
    // A token whose signature fails: everything but the claims runs (split, base64url into
    // stack space, the header's strict JSON, the gates, the key lookup, the signature).
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 5;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    // Warm-up: one-time initialisations (CPU feature detection, lazy statics) are not per call.
    verifier.verify(&token).unwrap();
    verifier.verify(&forged).unwrap_err();

    let crypto = backend_allocations(key, &token);
    let (refused, before_claims) = fewest(|| verifier.verify(&forged));
    assert_eq!(refused.unwrap_err().reason(), "token-invalid-signature");
    let (claims, all) = fewest(|| verifier.verify(&token));
    let claims = claims.unwrap();

    // Before the claims: exactly what the crypto backend allocates on its own (ring: its
    // big-integer limbs, as its raw verification does; aws-lc-rs: none on Rust's allocator).
    assert_eq!(before_claims.allocations, crypto, "{before_claims:?}");
    // The claims the caller gets, one allocation each: the payload's JSON text (parsed into a
    // map only if `get`/`as_json` asks), `sub`, `sid`, `iss` and `azp`, and the shared home
    // (`Arc`) they live in. Nothing else: no map, no header strings, no decoded parts.
    assert_eq!(all.allocations, crypto + 6, "{all:?}");
    assert_eq!(all.reallocations, 0);
    assert_eq!(claims.user_id(), "user_1");

    // A cache hit allocates nothing: it hands out the very claims it verified, shared.
    let cached =
        Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default().token_cache(16)).unwrap();
    cached.verify(&token).unwrap();
    cached.verify(&token).unwrap();
    let first = cached.verify(&token).unwrap();
    let (hit, stats) = fewest(|| cached.verify(&token));
    let hit = hit.unwrap();
    assert_eq!(hit, claims);
    assert!(
        std::sync::Arc::ptr_eq(&hit, &first),
        "a hit copied the claims"
    );
    assert_eq!(stats.allocations, 0, "{stats:?}");

    // Request authentication's default path (the verifier's default kinds: sessions only) adds
    // one allocation to a cache hit: the token's copy in the credential it found. A route that
    // also accepts API keys costs a session no more: only the token's first bytes are looked at
    // (no lock either: the machine verifier is never reached).
    use clerk_verify::options::{AcceptsToken, TokenKind};
    use clerk_verify::request::Step;
    let header = format!("Bearer {token}");
    let signed_in = |accepts: Option<AcceptsToken>| {
        let step = match accepts {
            None => cached.authenticate_headers(Some(header.as_bytes()), []),
            Some(a) => cached.authenticate_headers_accepting(a, Some(header.as_bytes()), []),
        };
        match step {
            Step::Done(a) => a.auth().is_some(),
            Step::Blocking(_) => false,
        }
    };
    for accepts in [
        None,
        Some(AcceptsToken::SESSION_TOKEN),
        Some(AcceptsToken::SESSION_TOKEN.with(TokenKind::ApiKey)),
    ] {
        assert!(signed_in(accepts));
        let (ok, stats) = fewest(|| signed_in(accepts));
        assert!(ok);
        assert_eq!(stats.allocations, 1, "{accepts:?}: {stats:?}");
    }
}

/// A tiny PRNG (xorshift64*): reproducible random tokens without another dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// An HS256 verifier with a cache of `capacity`: cheap crypto, so a million tokens run fast.
fn hs256_with_cache(capacity: usize) -> Verifier {
    Verifier::from_hs256_secret(
        fixtures::HS256_SECRET,
        VerifyOptions::default().token_cache(capacity),
    )
    .unwrap()
}

fn a_million_random_or_forged_tokens_leave_the_cache_empty_and_memory_flat() {
    let verifier = hs256_with_cache(1_000);
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload =
        b64url(format!(r#"{{"sub":"user_1","exp":{},"v":2}}"#, now_unix() + 3600).as_bytes());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Warm-up: one-time initialisations are not per token.
    let forged = format!("{header}.{payload}.{}", b64url(&rng.bytes(32)));
    assert!(verifier.verify(&forged).is_err());
    let before = live_bytes();
    let mut peak = 0;
    for i in 0..1_000_000u32 {
        let token = match i % 3 {
            // Well-formed and signed by someone without the secret.
            0 => format!("{header}.{payload}.{}", b64url(&rng.bytes(32))),
            // Three random base64url parts.
            1 => {
                let mut part = |n| b64url(&rng.bytes(n));
                format!("{}.{}.{}", part(20), part(60), part(32))
            }
            // Random bytes, as text.
            _ => String::from_utf8_lossy(&rng.bytes(40 + i as usize % 200)).into_owned(),
        };
        assert!(verifier.verify(&token).is_err());
        drop(token);
        if i % 65_536 == 0 {
            peak = peak.max(live_bytes() - before);
        }
    }
    let stats = verifier.token_cache_stats().unwrap();
    assert_eq!((stats.entries, stats.bytes, stats.hits), (0, 0, 0));
    let after = live_bytes() - before;
    assert!(
        after <= HARNESS_SLACK,
        "{after} bytes kept after a million refusals"
    );
    assert!(peak < 64 * 1024, "peak {peak} bytes");
}

fn a_million_verified_tokens_keep_the_cache_within_its_bound() {
    const CAPACITY: usize = 1_000;
    // Warm-up: one-time initialisations are not the cache's.
    hs256_with_cache(1)
        .verify(
            &TokenBuilder::session("user_1", now_unix())
                .header("alg", "HS256")
                .sign_hs256(fixtures::HS256_SECRET),
        )
        .unwrap();
    let before = live_bytes();
    let verifier = hs256_with_cache(CAPACITY);
    let empty = live_bytes() - before;
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let exp = now_unix() + 3600;
    let secret = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, fixtures::HS256_SECRET);
    let mut worst = 0;
    for i in 0..1_000_000u32 {
        // A Clerk-sized session token: distinct `sid`, real-looking claims.
        let payload = b64url(
            format!(
                r#"{{"azp":"https://app.example.com","exp":{exp},"fva":[2,-1],"iat":{},"iss":"https://clerk.example.com","nbf":{},"sid":"sess_{i:024}","sts":"active","sub":"user_2abcdefghijklmnopqrstuvwx","v":2}}"#,
                exp - 3600,
                exp - 3610,
            )
            .as_bytes(),
        );
        let input = format!("{header}.{payload}");
        let tag = ring::hmac::sign(&secret, input.as_bytes());
        let token = format!("{input}.{}", b64url(tag.as_ref()));
        assert!(verifier.verify(&token).is_ok());
        if i % 50_000 == 49_999 {
            let stats = verifier.token_cache_stats().unwrap();
            let held = live_bytes() - before - empty;
            assert!(stats.entries <= CAPACITY);
            // The accounting is an upper bound of what the cache really holds ...
            assert!(
                held <= stats.bytes as isize + HARNESS_SLACK,
                "held {held} > accounted {}",
                stats.bytes
            );
            worst = worst.max(held);
        }
    }
    let stats = verifier.token_cache_stats().unwrap();
    assert_eq!(stats.entries, CAPACITY);
    // ... and that is bounded by capacity and entry size; here about 2 KiB per token.
    let bound = (CAPACITY * clerk_verify::VerifyOptions::MAX_TOKEN_CACHE_ENTRY_BYTES) as isize;
    assert!(worst <= bound && stats.bytes as isize <= bound);
    assert!(stats.bytes < CAPACITY * 3 * 1024, "{stats:?}");
    drop(verifier);
    assert!(
        live_bytes() - before <= HARNESS_SLACK,
        "a dropped cache frees everything: {} bytes left",
        live_bytes() - before
    );
}
