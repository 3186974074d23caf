//! The verified-token cache through the public API: hits answer exactly what a full verification
//! would (times re-checked on every hit), entries die with their key when a JWKS refresh drops
//! it (a real local JWKS server, time moved on a manual clock), failures never enter, and the
//! capacity holds with in-use sessions surviving a flood of new tokens. Its memory under a
//! million tokens is measured in `tests/allocations.rs`; two threads hitting it, in the benches.

// Its JWKS-refresh cases need the remote key source.
#![cfg(feature = "remote")]

mod remote_support;

use clerk_dev::{fixtures, JwksServer, ManualClock, TokenBuilder};
use clerk_verify::{remote::RemoteKeys, Error, Verifier, VerifyOptions};
use remote_support::*;
use std::time::Duration;

fn cached(keys_jwks: &str, clock: &ManualClock, capacity: usize) -> Verifier {
    Verifier::from_jwks(keys_jwks, opts(clock).token_cache(capacity)).unwrap()
}

fn hits(v: &Verifier) -> u64 {
    v.token_cache_stats().unwrap().hits
}

fn entries(v: &Verifier) -> usize {
    v.token_cache_stats().unwrap().entries
}

#[test]
fn off_unless_asked_for() {
    let key = fixtures::rsa2048();
    let v = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default()).unwrap();
    assert!(v.token_cache_stats().is_none());
}

#[test]
fn a_repeat_is_a_hit_with_the_same_claims() {
    let key = fixtures::rsa2048();
    let clock = clock();
    let v = cached(&key.jwks_json(), &clock, 16);
    let tok = TokenBuilder::session("user_1", clock.unix_secs())
        .claim("o", serde_json::json!({"id": "org_1", "rol": "admin"}))
        .sign(key);
    let first = v.verify(&tok).unwrap();
    assert_eq!((hits(&v), entries(&v)), (0, 1));
    let second = v.verify(&tok).unwrap();
    assert_eq!(hits(&v), 1);
    assert_eq!(first, second);
    assert_eq!(second.org_id(), Some("org_1"));
    assert_eq!(second.get("sid"), first.get("sid"));
    // Every entry point shares it: the non-blocking one and request authentication.
    assert_eq!(v.try_verify(&tok).unwrap().unwrap(), first);
    let auth = v.authenticate_request(Some(&format!("Bearer {tok}")), None);
    assert_eq!(auth.auth().unwrap().user_id(), "user_1");
    assert_eq!(hits(&v), 3);
}

#[test]
fn routes_that_take_machine_tokens_too_hit_the_cache_once_per_request() {
    use clerk_verify::machine::Verified;
    use clerk_verify::options::AcceptsToken;
    let key = fixtures::rsa2048();
    let clock = clock();
    let v = cached(&key.jwks_json(), &clock, 16);
    let tok = token(key, &clock);
    let stats = |v: &Verifier| {
        let s = v.token_cache_stats().unwrap();
        (s.hits, s.misses)
    };
    let Verified::Session(first) = v.verify_accepting(&tok, AcceptsToken::ANY).unwrap() else {
        panic!("a session token")
    };
    assert_eq!(stats(&v), (0, 1));
    // A held token goes straight to the session path: one counted hit, the same claims.
    let Verified::Session(again) = v.verify_accepting(&tok, AcceptsToken::ANY).unwrap() else {
        panic!("a session token")
    };
    assert_eq!((again, stats(&v)), (first, (1, 1)));
    let header = format!("Bearer {tok}");
    let auth = v.authenticate_request_accepting(AcceptsToken::ANY, Some(&header), None);
    assert_eq!(auth.auth().unwrap().user_id(), "user_1");
    assert_eq!(stats(&v), (2, 1));
    // Sessions not accepted: a held session token is still the wrong kind.
    let refused = v
        .verify_accepting(&tok, AcceptsToken::MACHINES)
        .unwrap_err();
    assert_eq!(refused.reason(), "token-type-mismatch");
    let auth = v.authenticate_request_accepting(AcceptsToken::MACHINES, Some(&header), None);
    assert_eq!(auth.reason(), "token-type-mismatch");
    // Expired while held: refused as expired, never routed elsewhere.
    clock.advance(Duration::from_secs(3600));
    let expired = v.verify_accepting(&tok, AcceptsToken::ANY).unwrap_err();
    assert_eq!(expired.reason(), "token-expired");
}

#[test]
fn times_are_checked_again_on_every_hit() {
    let key = fixtures::rsa2048();
    let clock = clock();
    let v = cached(&key.jwks_json(), &clock, 16);
    let plain = Verifier::from_jwks(&key.jwks_json(), opts(&clock)).unwrap();
    // exp = T0 + 60, nbf = T0 - 10, iat = T0; skew 5 s.
    let tok = token(key, &clock);
    v.verify(&tok).unwrap();
    for (offset, want) in [
        (64, "ok"),
        (65, "token-expired"),
        (3600, "token-expired"),
        // Back before nbf - skew, and before iat - skew: the other two time rules.
        (-16, "token-not-active-yet"),
        (-6, "token-iat-in-the-future"),
        (0, "ok"),
    ] {
        clock.set(std::time::UNIX_EPOCH + Duration::from_secs((T0 + offset) as u64));
        let from_cache = v.verify(&tok);
        assert_eq!(reason(&from_cache), want, "at T0{offset:+}");
        // Exactly the full verification's answer, message and all.
        assert_eq!(from_cache, plain.verify(&tok), "at T0{offset:+}");
    }
    assert_eq!(hits(&v), 6, "all answered from the cache");
}

#[test]
fn failures_never_enter() {
    let key = fixtures::rsa2048();
    let clock = clock();
    let v = cached(&key.jwks_json(), &clock, 16);
    let good = token(key, &clock);
    let forged = token(fixtures::rsa2048_b(), &clock)
        .replace(fixtures::rsa2048_b().kid(), fixtures::rsa2048().kid());
    let expired = TokenBuilder::session("user_1", clock.unix_secs() - 3600).sign(key);
    let tampered = format!("{}x", &good[..good.len() - 1]);
    for bad in [&forged, &expired, &tampered, &"not a token".to_owned()] {
        for _ in 0..3 {
            assert!(v.verify(bad).is_err());
        }
    }
    let stats = v.token_cache_stats().unwrap();
    assert_eq!((stats.entries, stats.hits, stats.bytes), (0, 0, 0));
}

#[test]
fn request_authentication_does_not_take_a_cached_template_token() {
    let key = fixtures::rsa2048();
    let clock = clock();
    let v = cached(&key.jwks_json(), &clock, 16);
    let template = TokenBuilder::session("user_1", clock.unix_secs())
        .header("cat", "cl_B7d4PD222AAA")
        .sign(key);
    v.verify(&template).unwrap();
    let auth = v.authenticate_request(Some(&format!("Bearer {template}")), None);
    assert_eq!(auth.reason(), "token-type-mismatch");
    // The entry stays for `verify`, which accepts such tokens.
    v.verify(&template).unwrap();
    assert_eq!((hits(&v), entries(&v)), (1, 1));
}

#[test]
fn entries_die_with_their_key_when_a_jwks_refresh_drops_it() {
    let (a, b) = (fixtures::rsa2048(), fixtures::rsa2048_b());
    let both = serde_json::json!({"keys": [a.public_jwk(), b.public_jwk()]}).to_string();
    let server = JwksServer::start_with(both.clone());
    let clock = clock();
    let keys = RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap();
    let v = Verifier::new(keys, opts(&clock).token_cache(16)).unwrap();
    // Valid for an hour: the clock moves past two cache TTLs.
    let long = |key| {
        TokenBuilder::session("user_1", clock.unix_secs())
            .claim("exp", clock.unix_secs() + 3600)
            .sign(key)
    };
    let (tok_a, tok_b) = (long(a), long(b));
    v.verify(&tok_a).unwrap();
    v.verify(&tok_b).unwrap();
    v.verify(&tok_a).unwrap();
    assert_eq!((hits(&v), entries(&v), server.hits()), (1, 2, 1));

    // Past the TTL, a refresh that keeps both keys: the entries live on. Only the first token
    // after the TTL is verified in full (it triggers the refresh); B's key is the very same
    // key after it, so B is a hit.
    clock.advance(Duration::from_secs(301));
    v.verify(&tok_a).unwrap();
    assert_eq!((hits(&v), server.hits()), (1, 2));
    v.verify(&tok_b).unwrap();
    v.verify(&tok_a).unwrap();
    v.verify(&tok_b).unwrap();
    assert_eq!((hits(&v), entries(&v)), (4, 2));

    // Key A rotates out: its token is refused (as without a cache) and leaves the cache.
    server.set_jwks(serde_json::json!({"keys": [b.public_jwk()]}).to_string());
    clock.advance(Duration::from_secs(301));
    assert_eq!(reason(&v.verify(&tok_a)), "jwk-kid-mismatch");
    assert_eq!(entries(&v), 1);
    assert_eq!(reason(&v.verify(&tok_a)), "jwk-kid-mismatch");
    // B's key survived the refresh: both are hits.
    v.verify(&tok_b).unwrap();
    v.verify(&tok_b).unwrap();
    let stats = v.token_cache_stats().unwrap();
    assert_eq!((stats.hits, stats.entries), (6, 1));
}

#[test]
fn capacity_holds_and_sessions_in_use_survive_a_flood() {
    // HS256: thousands of distinct valid tokens without thousands of RSA signatures.
    let clock = clock();
    let v =
        Verifier::from_hs256_secret(fixtures::HS256_SECRET, opts(&clock).token_cache(64)).unwrap();
    let mint = |sub: &str| {
        TokenBuilder::session(sub, clock.unix_secs())
            .header("alg", "HS256")
            .sign_hs256(fixtures::HS256_SECRET)
    };
    let hot = mint("user_hot");
    v.verify(&hot).unwrap();
    for i in 0..2_000 {
        let fresh = mint(&format!("user_{i}"));
        assert_eq!(v.verify(&fresh).unwrap().user_id(), format!("user_{i}"));
        // The session in use sends its token with every request.
        assert_eq!(v.verify(&hot).unwrap().user_id(), "user_hot");
        assert!(entries(&v) <= 64);
    }
    let stats = v.token_cache_stats().unwrap();
    assert_eq!(stats.capacity, 64);
    assert!(stats.entries > 32, "{stats:?}");
    assert_eq!(
        stats.hits, 2_000,
        "the hot token was never evicted: {stats:?}"
    );
    // The flood's tokens did take the other places: the oldest ones are gone.
    let first = mint("user_0");
    v.verify(&first).unwrap();
    assert_eq!(v.token_cache_stats().unwrap().hits, 2_000);
}

#[test]
fn the_cache_answers_as_a_full_verification_would() {
    // A small differential: many tokens and instants, with and without the cache.
    let key = fixtures::rsa2048();
    let clock = clock();
    let with = cached(&key.jwks_json(), &clock, 1_000);
    let without = Verifier::from_jwks(&key.jwks_json(), opts(&clock)).unwrap();
    let t = clock.unix_secs();
    let tokens: Vec<String> = [
        TokenBuilder::session("user_1", t),
        TokenBuilder::session("user_2", t).claim("exp", t as f64 + 0.5),
        TokenBuilder::session("user_3", t).claim("nbf", t + 20),
        TokenBuilder::session("user_4", t).claim("iat", t + 8),
        TokenBuilder::session("user_5", t).claim("sts", "pending"),
        TokenBuilder::session("user_6", t)
            .remove_claim("nbf")
            .remove_claim("iat"),
    ]
    .iter()
    .map(|b| b.sign(key))
    .collect();
    for step in -30..90 {
        clock.set(std::time::UNIX_EPOCH + Duration::from_millis(((t * 1000) + step * 500) as u64));
        for tok in &tokens {
            let expected: Result<_, Error> = without.verify(tok);
            assert_eq!(with.verify(tok), expected, "at {step}");
            let header = format!("Bearer {tok}");
            assert_eq!(
                with.authenticate_request(Some(&header), None).reason(),
                without.authenticate_request(Some(&header), None).reason()
            );
        }
    }
    assert!(hits(&with) > 500);
}
