//! A misbehaving key source never makes a token pass, gives the right reason code, and costs at
//! most the configured timeout (1 s here) per fetch.
#![cfg(feature = "remote")]

mod remote_support;

use clerk_dev::{fixtures, Fault, JwksServer};
use clerk_verify::{remote::RemoteKeys, Category};
use remote_support::*;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Bound for one faulty fetch: the configured timeout plus a second.
const BOUND: Duration = Duration::from_secs(2);

/// Verifies a token signed by the published key while the server applies `fault` (through the
/// JWKS-URL source, or the Backend API one with `secret`), and returns the reason and message.
fn under_fault(fault: Fault, secret: bool) -> (&'static str, String) {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    server.set_fault(fault.clone());
    let clock = clock();
    let keys = if secret {
        server.require_bearer(Some(SECRET.to_owned()));
        RemoteKeys::from_secret_key(SECRET, Some(&server.url()), fast()).unwrap()
    } else {
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap()
    };
    let v = verifier(keys, &clock);
    let (result, took) = timed(|| v.verify(&token(key, &clock)));
    assert!(result.is_err(), "{fault:?}: a token was accepted");
    assert!(took < BOUND, "{fault:?}: took {took:?}");
    assert_eq!(server.hits(), 1, "{fault:?}");
    // The non-blocking path knows the answer now, without another request.
    let (cached, took) = timed(|| v.try_verify(&token(key, &clock)));
    assert!(took < Duration::from_millis(300), "{took:?}");
    assert_eq!(
        cached.map(|r| reason(&r)),
        Some(reason(&result)),
        "{fault:?}"
    );
    assert_eq!(server.hits(), 1, "{fault:?}");
    let e = result.unwrap_err();
    assert!(!e.to_string().contains("TESTSECRET"));
    (e.reason(), e.to_string())
}

#[test]
fn server_error_status() {
    let (reason, msg) = under_fault(Fault::Status(500), false);
    assert_eq!(reason, "jwk-remote-failed-to-load");
    assert!(msg.contains("HTTP 500"), "{msg}");
    assert_eq!(
        under_fault(Fault::Status(503), true).0,
        "jwk-remote-failed-to-load"
    );
    assert_eq!(
        under_fault(Fault::Status(404), false).0,
        "jwk-remote-failed-to-load"
    );
    // A redirect is not followed.
    let (reason, msg) = under_fault(Fault::Status(302), false);
    assert_eq!(reason, "jwk-remote-failed-to-load");
    assert!(msg.contains("redirect"), "{msg}");
}

#[test]
fn unauthorized_is_secret_key_invalid_only_with_a_secret_key() {
    assert_eq!(
        under_fault(Fault::Status(401), true).0,
        "secret-key-invalid"
    );
    assert_eq!(
        under_fault(Fault::Status(403), true).0,
        "secret-key-invalid"
    );
    assert_eq!(
        under_fault(Fault::Status(401), false).0,
        "jwk-remote-failed-to-load"
    );
}

#[test]
fn connection_refused() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let clock = clock();
    let url = format!("http://127.0.0.1:{port}/.well-known/jwks.json");
    let v = verifier(RemoteKeys::from_jwks_url(&url, fast()).unwrap(), &clock);
    let (r, took) = timed(|| v.verify(&token(fixtures::rsa2048(), &clock)));
    assert_eq!(reason(&r), "jwk-remote-failed-to-load");
    assert!(took < BOUND, "{took:?}");
    let e = r.unwrap_err();
    assert!(e.to_string().contains("connection refused"), "{e}");
    assert_eq!(e.category(), Category::KeysUnavailable);
}

#[test]
fn hanging_server_times_out() {
    let (reason, msg) = under_fault(Fault::Hang, false);
    assert_eq!(reason, "jwk-remote-failed-to-load");
    assert!(msg.contains("timed out"), "{msg}");
    // Slower than the timeout is the same as hanging.
    let (reason, _) = under_fault(Fault::Delay(Duration::from_secs(3)), true);
    assert_eq!(reason, "jwk-remote-failed-to-load");
}

#[test]
fn connection_closed_without_answer() {
    assert_eq!(
        under_fault(Fault::CloseImmediately, false).0,
        "jwk-remote-failed-to-load"
    );
}

#[test]
fn garbage_and_json_that_is_not_a_jwks() {
    let (reason, msg) = under_fault(Fault::Garbage, false);
    assert_eq!(reason, "jwk-remote-invalid");
    assert!(msg.contains("not JSON"), "{msg}");
    for body in [r#"{"keys":{}}"#, "[]", "null", r#"{"keys":"#] {
        let (reason, _) = under_fault(Fault::Body(body.to_owned()), false);
        assert_eq!(reason, "jwk-remote-invalid", "{body}");
    }
}

#[test]
fn huge_body_fails_fast() {
    let (result, took) = timed(|| under_fault(Fault::Huge(10_000_000), false));
    assert_eq!(result.0, "jwk-remote-failed-to-load");
    assert!(result.1.contains("limit"), "{}", result.1);
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[test]
fn body_over_the_cap() {
    // 300 KiB of valid-looking JWKS with a correct length, over a 256 KiB cap; and a small cap.
    let key = fixtures::rsa2048();
    let padding = "x".repeat(300 * 1024);
    let body = format!(r#"{{"pad":"{padding}","keys":[{}]}}"#, key.public_jwk());
    let (why, msg) = under_fault(Fault::Body(body), false);
    assert_eq!(why, "jwk-remote-failed-to-load");
    assert!(msg.contains("limit"), "{msg}");

    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let keys = RemoteKeys::from_jwks_url(&server.jwks_url(), fast().max_body_bytes(100)).unwrap();
    let r = verifier(keys, &clock).verify(&token(key, &clock));
    assert_eq!(reason(&r), "jwk-remote-failed-to-load");
}

#[test]
fn empty_key_set() {
    // Clerk's SDK: a JWKS without keys failed to load, whether `keys` is empty, null or
    // missing (`{}`); still a 503, never a sign-out.
    for body in [
        r#"{"keys":[]}"#,
        "{}",
        r#"{"keys":null}"#,
        r#"{"hello":"world"}"#,
    ] {
        let (reason, msg) = under_fault(Fault::Body(body.to_owned()), false);
        assert_eq!(reason, "jwk-remote-failed-to-load", "{body}");
        assert!(msg.contains("no keys"), "{body}: {msg}");
    }
}

#[test]
fn all_keys_unusable() {
    // A 1024-bit key, a key with private material, an EC key: none may be used.
    let weak = fixtures::rsa1024().public_jwk();
    let mut private = fixtures::rsa2048().public_jwk();
    private["d"] = "AQAB".into();
    let ec = serde_json::json!({"kty":"EC","crv":"P-256","kid":"ec","x":"AA","y":"AA"});
    for keys in [vec![weak.clone()], vec![weak, private, ec]] {
        let body = serde_json::json!({ "keys": keys }).to_string();
        let (reason, msg) = under_fault(Fault::Body(body), false);
        assert_eq!(reason, "jwk-remote-invalid");
        assert!(msg.contains("no usable key"), "{msg}");
    }
}

#[test]
fn a_faulty_source_recovers_after_the_refetch_interval() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    server.set_fault(Fault::Status(500));
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap(),
        &clock,
    );
    assert_eq!(
        reason(&v.verify(&token(key, &clock))),
        "jwk-remote-failed-to-load"
    );
    server.set_fault(Fault::None);
    // Within the interval the failure is remembered (no request per token)...
    clock.advance(Duration::from_secs(4));
    assert_eq!(
        reason(&v.verify(&token(key, &clock))),
        "jwk-remote-failed-to-load"
    );
    assert_eq!(server.hits(), 1);
    // ...counted from the end of the failed attempt, a moment after its start...
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        reason(&v.verify(&token(key, &clock))),
        "jwk-remote-failed-to-load"
    );
    assert_eq!(server.hits(), 1);
    // ...after it, one fetch and the source is back.
    clock.advance(Duration::from_secs(1));
    assert!(v.verify(&token(key, &clock)).is_ok());
    assert_eq!(server.hits(), 2);
}

/// Serves one request on a raw socket: `200 OK`, no `Content-Length`, a close-delimited body of
/// `len` bytes of JWKS-looking JSON. Bounded: gives up after 5 s without a client.
fn close_delimited_server(len: usize) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Err(_) => return,
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"keys\":[{\"n\":\"");
        let chunk = vec![b'A'; 16 * 1024];
        let mut sent = 0;
        // Stops when the client hangs up after its limit.
        while sent < len && stream.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
    });
    (url, handle)
}

#[test]
fn body_over_the_cap_without_content_length() {
    let (url, server) = close_delimited_server(4 * 1024 * 1024);
    let clock = clock();
    let v = verifier(RemoteKeys::from_jwks_url(&url, fast()).unwrap(), &clock);
    let (r, took) = timed(|| v.verify(&token(fixtures::rsa2048(), &clock)));
    assert_eq!(reason(&r), "jwk-remote-failed-to-load");
    assert!(r
        .unwrap_err()
        .to_string()
        .contains("larger than the 262144-byte limit"));
    assert!(took < BOUND, "{took:?}");
    drop(v);
    server.join().unwrap();
}

#[test]
fn errors_do_not_show_the_url_query() {
    let server = JwksServer::start();
    server.set_fault(Fault::Status(500));
    let clock = clock();
    let url = format!("{}?access_token=QUERYSECRET", server.jwks_url());
    let v = verifier(RemoteKeys::from_jwks_url(&url, fast()).unwrap(), &clock);
    let e = v.verify(&token(fixtures::rsa2048(), &clock)).unwrap_err();
    assert_eq!(e.reason(), "jwk-remote-failed-to-load");
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains(&server.jwks_url()) && !shown.contains("QUERYSECRET"),
        "{shown}"
    );
}

/// Issue: key rotation during an outage. With the cache warm and the source failing, a token
/// naming a kid we have never seen gets the outage's error (503 in adapters), never
/// `jwk-kid-mismatch` (401, "issued by another instance"): for the request whose fetch failed
/// and for those the rate limit answers meanwhile.
#[test]
fn a_rotated_kid_during_an_outage_is_the_outage() {
    let key = fixtures::rsa2048();
    let rotated = fixtures::rsa2048_b();
    let server = JwksServer::start_with(key.jwks_json());
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap(),
        &clock,
    );
    assert_eq!(reason(&v.verify(&token(key, &clock))), "ok");
    server.set_fault(Fault::Status(502));
    clock.advance(Duration::from_secs(30));
    let new = token(rotated, &clock);
    assert_eq!(reason(&v.verify(&new)), "jwk-remote-failed-to-load");
    assert_eq!(server.hits(), 2);
    // Inside the refetch interval: answered without a request, still the outage.
    clock.advance(Duration::from_secs(1));
    assert_eq!(reason(&v.verify(&new)), "jwk-remote-failed-to-load");
    assert_eq!(
        v.try_verify(&new).map(|r| reason(&r)),
        Some("jwk-remote-failed-to-load")
    );
    assert_eq!(server.hits(), 2);
    // The known key serves throughout.
    assert_eq!(reason(&v.verify(&token(key, &clock))), "ok");
    // The source recovers and now publishes the rotated key: it verifies.
    server.set_fault(Fault::None);
    server.set_jwks(clerk_dev::jwks_json(&[key, rotated]));
    clock.advance(Duration::from_secs(5));
    assert_eq!(reason(&v.verify(&token(rotated, &clock))), "ok");
    // A kid that is truly unknown, with the source healthy, is a mismatch.
    clock.advance(Duration::from_secs(5));
    let stranger = token_with_kid(key, "ins_other", &clock);
    assert_eq!(reason(&v.verify(&stranger)), "jwk-kid-mismatch");
}

/// Issue: refused keys explain themselves. A key the JWKS publishes but we refuse is remembered
/// by kid: a token naming it is `jwk-remote-invalid` with the reason, at once, without a refetch.
#[test]
fn a_refused_remote_key_explains_itself() {
    let key = fixtures::rsa2048();
    let weak = fixtures::rsa1024();
    let mut enc = fixtures::rsa2048_b().public_jwk();
    enc["use"] = "enc".into();
    let mut kidless = fixtures::rsa2048_b().public_jwk();
    kidless.as_object_mut().unwrap().remove("kid");
    let doc = serde_json::json!({
        "keys": [weak.public_jwk(), enc, kidless, key.public_jwk()]
    });
    let server = JwksServer::start_with(doc.to_string());
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast()).unwrap(),
        &clock,
    );
    assert_eq!(reason(&v.verify(&token(key, &clock))), "ok");
    let e = v.verify(&token(weak, &clock)).unwrap_err();
    assert_eq!(e.reason(), "jwk-remote-invalid");
    assert!(e.to_string().contains("1024 bits"), "{e}");
    assert!(!e.to_string().contains("ins_test"), "{e}");
    let e = v.verify(&token(fixtures::rsa2048_b(), &clock)).unwrap_err();
    assert_eq!(e.reason(), "jwk-remote-invalid");
    assert!(e.to_string().contains("not for signatures"), "{e}");
    assert_eq!(e.category(), Category::KeysUnavailable);
    // No refetch was spent on them.
    assert_eq!(server.hits(), 1);
}

/// Issue: a document with more keys than the cap is refused with a clear error, not cut.
#[test]
fn a_remote_jwks_over_the_key_cap_is_refused() {
    let key = fixtures::rsa2048();
    let keys: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            let mut jwk = key.public_jwk();
            jwk["kid"] = format!("k{i}").into();
            jwk
        })
        .collect();
    let server = JwksServer::start_with(serde_json::json!({ "keys": keys }).to_string());
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(&server.jwks_url(), fast().max_keys(2)).unwrap(),
        &clock,
    );
    let e = v.verify(&token_with_kid(key, "k0", &clock)).unwrap_err();
    assert_eq!(e.reason(), "jwk-remote-invalid");
    assert!(e.to_string().contains("more than the limit of 2"), "{e}");
}

/// Issue: a refetch interval below one second is a configuration error; zero disables the
/// unknown-kid rate limit (every unknown kid fetches).
#[test]
fn refetch_interval_floor_and_zero() {
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    for bad in [Duration::from_millis(1), Duration::from_millis(999)] {
        let e = RemoteKeys::from_jwks_url(&server.jwks_url(), fast().min_refetch_interval(bad))
            .unwrap_err();
        assert_eq!(e.reason(), "config-invalid");
        assert!(e.to_string().contains("at least 1 s"), "{e}");
    }
    let clock = clock();
    let v = verifier(
        RemoteKeys::from_jwks_url(
            &server.jwks_url(),
            fast().min_refetch_interval(Duration::ZERO),
        )
        .unwrap(),
        &clock,
    );
    assert_eq!(reason(&v.verify(&token(key, &clock))), "ok");
    for i in 0..3 {
        let t = token_with_kid(key, &format!("unknown{i}"), &clock);
        assert_eq!(reason(&v.verify(&t)), "jwk-kid-mismatch");
    }
    assert_eq!(server.hits(), 4);
}

/// Issue 19, item 8: a hanging key source under load. Hundreds of async requests whose `kid` is
/// not cached (API requests, and page requests with the session cookie) share one fetch and
/// wait for it without a thread each (`Step::finish` never calls `spawn_blocking`); none waits
/// longer than the fetch timeout plus `KEY_WAIT_SLACK`; each gets the outage's 503 reason. The next attempt counts from the end of the failed one, so requests
/// right after it are answered at once, with no second fetch, even with a refetch interval as
/// short as the timeout.
#[test]
fn hundreds_of_requests_share_one_hanging_fetch_without_a_thread_each() {
    use clerk_verify::request::PageRequest;
    use clerk_verify::{remote::KEY_WAIT_SLACK, Authentication, Verifier, VerifyOptions};
    use std::sync::atomic::{AtomicUsize, Ordering};

    const REQUESTS: usize = 300;
    let key = fixtures::rsa2048();
    let server = JwksServer::start_with(key.jwks_json());
    // The real clock: the gap after the failed attempt must count from its end in real time.
    let opts = fast().min_refetch_interval(Duration::from_secs(1));
    let v = Verifier::new(
        RemoteKeys::from_jwks_url(&server.jwks_url(), opts).unwrap(),
        VerifyOptions::default(),
    )
    .unwrap();
    let now = clerk_dev::now_unix();
    assert!(v
        .verify(&clerk_dev::TokenBuilder::session("user_1", now).sign(key))
        .is_ok());
    assert_eq!(server.hits(), 1);
    server.set_fault(Fault::Hang);
    // An unknown kid refetches once the interval since that load has passed.
    thread::sleep(Duration::from_millis(1050));
    // Signed by a key the source does not publish: its kid needs a fetch.
    let stranger = clerk_dev::TokenBuilder::session("user_1", now).sign(fixtures::rsa2048_b());
    let header = format!("Bearer {stranger}");
    let page = PageRequest::new("GET", "http://localhost:3000/dashboard")
        .cookie(format!("__session={stranger}; __client_uat={}", now - 60))
        .sec_fetch_dest("document");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let spawned = Arc::new(AtomicUsize::new(0));
    let burst = || -> Vec<(Authentication, Duration)> {
        rt.block_on(async {
            let tasks: Vec<_> = (0..REQUESTS)
                .map(|i| {
                    let (v, header, spawned) = (v.clone(), header.clone(), Arc::clone(&spawned));
                    let page = page.clone();
                    tokio::spawn(async move {
                        let started = Instant::now();
                        let step = if i % 10 == 0 {
                            v.authenticate_page_step(page)
                        } else {
                            v.authenticate_headers(Some(header.as_bytes()), [])
                        };
                        let answer = step
                            .finish(|job| {
                                spawned.fetch_add(1, Ordering::SeqCst);
                                tokio::task::spawn_blocking(job)
                            })
                            .await;
                        (answer, started.elapsed())
                    })
                })
                .collect();
            let mut answers = Vec::new();
            for task in tasks {
                answers.push(task.await.unwrap());
            }
            answers
        })
    };
    let check = |answers: &[(Authentication, Duration)]| -> Duration {
        for (answer, _) in answers {
            let Authentication::SignedOut(out) = answer else {
                panic!("{}", answer.status());
            };
            assert_eq!(out.reason(), "jwk-remote-failed-to-load");
            assert!(out.keys_unavailable(), "503, not 401");
        }
        answers.iter().map(|(_, took)| *took).max().unwrap()
    };

    let slowest = check(&burst());
    eprintln!("slowest wait for the hanging fetch: {slowest:?}");
    assert!(slowest <= TIMEOUT + KEY_WAIT_SLACK, "{slowest:?}");
    assert!(
        slowest >= TIMEOUT - Duration::from_millis(100),
        "they waited for it"
    );
    assert_eq!(server.hits(), 2, "one fetch for all of them");
    assert_eq!(spawned.load(Ordering::SeqCst), 0, "no thread per request");

    // Inside the refetch interval counted from the end of that attempt: answered at once.
    let slowest = check(&burst());
    assert!(slowest < Duration::from_millis(300), "{slowest:?}");
    assert_eq!(server.hits(), 2);
    assert_eq!(spawned.load(Ordering::SeqCst), 0);
}
