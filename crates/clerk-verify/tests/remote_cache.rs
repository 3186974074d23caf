//! The remote key cache, counted on the fake server: single-flight, rate-limited refetch,
//! stale-if-error with its bound, `skip_jwks_cache`, and the non-blocking path. Time moves on a
//! manual clock; nothing sleeps for a TTL.
#![cfg(feature = "remote")]

mod remote_support;

use clerk_dev::{b64url, fixtures, Fault, JwksServer};
use clerk_verify::remote::RemoteKeys;
use remote_support::*;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

/// `token` with its header replaced by one naming `kid` (the signature no longer matches, but
/// the key lookup, which is what these tests count, comes first).
fn with_kid(token: &str, kid: &str) -> String {
    let header = format!(r#"{{"alg":"RS256","kid":"{kid}","typ":"JWT"}}"#);
    let rest = token.split_once('.').unwrap().1;
    format!("{}.{rest}", b64url(header.as_bytes()))
}

#[test]
fn cold_cache_200_concurrent_verifications_fetch_once() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    // Slow enough that every thread arrives while the first fetch is in flight.
    server.set_fault(Fault::Delay(Duration::from_millis(300)));
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap(),
        &clock,
    );
    let tok = token(key, &clock);
    let barrier = Barrier::new(200);
    let results: Vec<_> = thread::scope(|s| {
        let handles: Vec<_> = (0..200)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    v.verify(&tok).map(|c| c.user_id().to_owned())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.len(), 200);
    for r in &results {
        assert_eq!(r.as_deref(), Ok("user_1"));
    }
    assert_eq!(server.hits(), 1);
}

#[test]
fn random_unknown_kids_cannot_make_us_hammer_the_source() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap(),
        &clock,
    );
    let valid = token(key, &clock);
    let flood: Vec<String> = (0..1000)
        .map(|i| with_kid(&valid, &format!("ins_random_{i}")))
        .collect();
    let run_flood = || {
        thread::scope(|s| {
            for chunk in flood.chunks(250) {
                let v = &v;
                s.spawn(move || {
                    for t in chunk {
                        assert_eq!(reason(&v.verify(t)), "jwk-kid-mismatch");
                    }
                });
            }
        })
    };

    // Cold: the first unknown kid fetches; the other 999 are answered from the cache.
    run_flood();
    assert_eq!(server.hits(), 1);
    // The real key was fetched along the way and verifies without another request.
    assert!(v.verify(&valid).is_ok());
    assert_eq!(server.hits(), 1);

    // Still inside the refetch interval: nothing.
    clock.advance(Duration::from_secs(4));
    run_flood();
    assert_eq!(server.hits(), 1);
    // Each new interval allows one refetch, however many tokens ask.
    clock.advance(Duration::from_secs(1));
    run_flood();
    assert_eq!(server.hits(), 2);
    clock.advance(Duration::from_secs(5));
    run_flood();
    assert_eq!(server.hits(), 3);
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 3);
}

#[test]
fn stale_keys_serve_while_the_source_is_down_until_the_bound() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&failures);
    let opts = fast()
        .cache_ttl(Duration::from_secs(60))
        .max_stale(Duration::from_secs(600))
        .on_fetch_error(move |e| sink.lock().unwrap().push(e.reason()));
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), opts).unwrap(),
        &clock,
    );
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 1);

    server.set_fault(Fault::Status(500));
    clock.advance(Duration::from_secs(61));
    // The refresh fails; users do not notice, the hook does.
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 2);
    assert_eq!(*failures.lock().unwrap(), ["jwk-remote-failed-to-load"]);
    // Until the next attempt is allowed, the stale key serves from memory, also non-blocking.
    clock.advance(Duration::from_secs(2));
    assert!(matches!(v.try_verify(&token(key, &clock)), Some(Ok(_))));
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 2);
    // Retries at the refetch interval, counted from the end of the failed attempt (a moment
    // after it started), still serving.
    clock.advance(Duration::from_secs(3));
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 2);
    clock.advance(Duration::from_secs(1));
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 3);
    assert_eq!(failures.lock().unwrap().len(), 2);

    // Up to TTL + max_stale after the last good fetch (T0 + 660 s) the old key works...
    clock.set(std::time::UNIX_EPOCH + Duration::from_secs(T0 as u64 + 659));
    assert!(v.verify(&token(key, &clock)).is_ok());
    // ...then not any more: the outage reaches requests.
    clock.advance(Duration::from_secs(1));
    let r = v.verify(&token(key, &clock));
    assert_eq!(reason(&r), "jwk-remote-failed-to-load");
    assert!(r.unwrap_err().to_string().contains("HTTP 500"));
    let hits = server.hits();
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        v.try_verify(&token(key, &clock)).map(|r| reason(&r)),
        Some("jwk-remote-failed-to-load")
    );
    assert_eq!(
        reason(&v.verify(&token(key, &clock))),
        "jwk-remote-failed-to-load"
    );
    assert_eq!(server.hits(), hits, "no retry inside the interval");

    // The source comes back: one fetch and all is well.
    server.set_fault(Fault::None);
    clock.advance(Duration::from_secs(5));
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), hits + 1);
}

#[test]
fn a_refresh_in_progress_does_not_hold_up_other_requests() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let slow = fast()
        .timeout(Duration::from_secs(4))
        .read_timeout(Duration::from_secs(4));
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), slow).unwrap(),
        &clock,
    );
    assert!(v.verify(&token(key, &clock)).is_ok());

    server.set_fault(Fault::Delay(Duration::from_millis(1500)));
    clock.advance(Duration::from_secs(300));
    let tok = token(key, &clock);
    thread::scope(|s| {
        let refresher = s.spawn(|| v.verify(&tok));
        wait_until("the refresh to start", || server.hits() == 2);
        // Another request meanwhile gets the (just expired) key at once, both ways.
        let (r, took) = timed(|| v.verify(&tok));
        assert!(r.is_ok());
        assert!(took < Duration::from_millis(500), "{took:?}");
        let (r, took) = timed(|| v.try_verify(&tok));
        assert!(matches!(r, Some(Ok(_))));
        assert!(took < Duration::from_millis(300), "{took:?}");
        assert!(refresher.join().unwrap().is_ok());
    });
    assert_eq!(server.hits(), 2);
}

#[test]
fn cold_fetch_in_progress_try_verify_does_not_block_verify_waits() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    server.set_fault(Fault::Delay(Duration::from_millis(1000)));
    let clock = clock();
    let slow = fast()
        .timeout(Duration::from_secs(4))
        .read_timeout(Duration::from_secs(4));
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), slow).unwrap(),
        &clock,
    );
    let tok = token(key, &clock);
    thread::scope(|s| {
        let first = s.spawn(|| v.verify(&tok));
        wait_until("the fetch to start", || server.hits() == 1);
        let (r, took) = timed(|| v.try_verify(&tok));
        assert!(r.is_none(), "cold cache: the key needs a fetch");
        assert!(took < Duration::from_millis(300), "{took:?}");
        // A blocking caller shares the fetch in flight.
        assert!(v.verify(&tok).is_ok());
        assert!(first.join().unwrap().is_ok());
    });
    assert_eq!(server.hits(), 1);
}

#[test]
fn try_verify_lifecycle() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let keys = Arc::new(RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap());
    let v = verifier_shared(&keys, &clock);
    let tok = token(key, &clock);
    assert!(v.try_verify(&tok).is_none());
    assert_eq!(server.hits(), 0, "try_verify never fetches");
    assert!(!keys.has_fresh_keys(clock.now()));

    assert!(v.verify(&tok).is_ok());
    assert!(matches!(v.try_verify(&tok), Some(Ok(_))));
    assert!(keys.has_fresh_keys(clock.now()));
    // Unknown kid inside the refetch interval: known answer, no I/O.
    let other = with_kid(&tok, "ins_other");
    assert_eq!(
        v.try_verify(&other).map(|r| reason(&r)),
        Some("jwk-kid-mismatch")
    );
    // A token without a kid never selects a remote key.
    let no_kid = clerk_dev::TokenBuilder::session("user_1", clock.unix_secs())
        .remove_header("kid")
        .sign(key);
    assert_eq!(
        v.try_verify(&no_kid).map(|r| reason(&r)),
        Some("jwk-kid-mismatch")
    );
    assert_eq!(reason(&v.verify(&no_kid)), "jwk-kid-mismatch");

    // TTL over: a refresh is due, so the non-blocking path says "fetch".
    clock.advance(Duration::from_secs(300));
    let tok = token(key, &clock);
    assert!(v.try_verify(&tok).is_none());
    assert_eq!(server.hits(), 1);
    // Warming from outside (start-up, a background task) makes it answer again.
    assert_eq!(keys.refresh(clock.now()), Ok(1));
    assert_eq!(server.hits(), 2);
    assert!(matches!(v.try_verify(&tok), Some(Ok(_))));
}

fn verifier_shared(
    keys: &Arc<RemoteKeys>,
    clock: &clerk_dev::ManualClock,
) -> clerk_verify::Verifier {
    clerk_verify::Verifier::new(Arc::clone(keys), opts(clock)).unwrap()
}

#[test]
fn skip_jwks_cache_fetches_every_time() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let keys = RemoteKeys::from_jwks_url(&server.jwks_url(), fast().skip_jwks_cache(true)).unwrap();
    let v = verifier(keys, &clock);
    let tok = token(key, &clock);
    for i in 1..=3 {
        assert!(v.try_verify(&tok).is_none());
        assert!(v.verify(&tok).is_ok());
        assert_eq!(server.hits(), i);
    }
    assert_eq!(
        reason(&v.verify(&with_kid(&tok, "ins_other"))),
        "jwk-kid-mismatch"
    );
    assert_eq!(server.hits(), 4);
    server.set_fault(Fault::Status(500));
    assert_eq!(reason(&v.verify(&tok)), "jwk-remote-failed-to-load");
}
