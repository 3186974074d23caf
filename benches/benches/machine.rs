//! Machine tokens (issue 21) beside session tokens, in one criterion run per crypto backend.
//!
//! ```text
//! cargo bench -p clerk-benches --bench machine                                            # ring
//! cargo bench -p clerk-benches --no-default-features --features aws-lc-rs --bench machine # aws-lc-rs
//! cargo bench -p clerk-benches --bench machine -- --test  # each function once, every check
//! ```
//!
//! Short runs by default (0.5 s warm-up, 2 s measurement per function: the whole bench takes
//! about 90 s); criterion's flags override them (`-- --measurement-time 5`). Everything
//! goes through the public entry points a service calls, [`Verifier::verify_accepting`] and
//! [`Verifier::authenticate_request_accepting`] (blocking), with [`AcceptsToken::ANY`] (a route
//! that takes sessions and every machine kind, so that a JWT is peeked at to route it). Groups
//! (one token per iteration; verifiers, tokens and servers built outside the timing):
//!
//! - `machine-jwt-<backend>`: one RSA-2048 key signs a Clerk-shaped session token (the other
//!   benches' organization token), an M2M JWT and an OAuth access token JWT, all verified by one
//!   verifier. `session/verify` ([`Verifier::verify`]) is the baseline; then each token through
//!   `verify_accepting` and through the request path (a `Bearer` header), and the session token
//!   and the M2M JWT on a verifier with the verified-token cache on: a session hit through
//!   `verify` (`token-cache-hit-verify`) and through `verify_accepting` (`token-cache-hit`, which
//!   peeks at the JWT first to route it), and the M2M JWT (machine JWTs are not cached: the run
//!   checks that none entered it).
//! - `machine-opaque`: opaque tokens against clerk-dev's [`BackendApi`] on 127.0.0.1 (real HTTP
//!   over loopback; the fake API answers each request on a new connection, `Connection:
//!   close`). `backend-api/raw-post` is the floor of one call: the same POST written to a new
//!   `TcpStream` and its answer read, nothing else. 1,000 API keys and 1,000 M2M tokens, cycled
//!   through, on a verifier with the result cache off (`cache-off`: one Backend API call each)
//!   and one with it on (`cache-hit`: every token verified once before the timing, TTL longer
//!   than the run); the request path with the cache on; a refused token asked for the first time (`fresh-call`: a new unknown key, or a
//!   newly minted and revoked one, each iteration; the API answers 404) and again
//!   (`refused-memory`: 1,000 of each, refused once before the timing); and a junk `ak_` token
//!   refused by its shape, without a call.
//!
//! The bounds that protect Clerk's quota are lifted where they would shed the calls being
//! measured (100 calls per second by default; the refused memory's 10,000 entries, which a
//! long `fresh-call` run would fill); everything else is `MachineOptions`' default. Before the
//! timing every function's answer is checked, and after each function the verifiers' counters
//! ([`clerk_verify::machine::MachineStats`], the Backend API's call count, the token cache's
//! statistics) say it did what its name says: a call per `cache-off` or `fresh-call`
//! iteration, none for a hit or a refusal from memory, nothing shed, nothing failed.

#[allow(dead_code)] // The session token and options; the other contenders are verify.rs's.
mod common;

use clerk_dev::{fixtures, now_unix, BackendApi, JwksServer, OpaqueToken, TokenBuilder};
use clerk_verify::keys::CRYPTO_BACKEND;
use clerk_verify::machine::{MachineStats, Verified};
use clerk_verify::options::{AcceptsToken, MachineOptions};
use clerk_verify::{Verifier, VerifyOptions};
use criterion::{criterion_group, criterion_main, BatchSize, Bencher, Criterion, Throughput};
use std::cell::Cell;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const ANY: AcceptsToken = AcceptsToken::ANY;
const SECRET: &str = "sk_test_benchSECRETkey0123456789";
const MACHINE_SECRET: &str = "ak_benchMACHINEsecret0123456789ab";
/// Opaque tokens of each kind cycled through (and refused tokens remembered).
const TOKENS: usize = 1000;
const SUBJECT: &str = "mch_2vYVbenchMachine0123456789";

/// The next index into a list of `len`, round and round.
fn next(i: &Cell<usize>, len: usize) -> usize {
    let n = i.get();
    i.set(n + 1);
    n % len
}

fn machine_jwts(c: &mut Criterion) {
    let key = fixtures::rsa2048();
    let now = now_unix();
    let session = common::session_token(key);
    let m2m = TokenBuilder::m2m(SUBJECT, now)
        .claim("exp", now + 3600)
        .claim("jti", "mt_2vYVbenchJwtId0123456789abcd")
        .claim("scopes", "read:invoices write:invoices")
        .sign(key);
    let oauth = TokenBuilder::oauth("user_2abcdefghijklmnopqrstuvwx", now)
        .claim("exp", now + 3600)
        .claim("jti", "oat_2vYVbenchJwtId0123456789abc")
        .claim(
            "scp",
            serde_json::json!(["read:invoices", "write:invoices"]),
        )
        .sign(key);
    let plain = Verifier::from_jwks(&key.jwks_json(), common::our_options()).expect("verifier");
    let cached = Verifier::from_jwks(
        &key.jwks_json(),
        common::our_options().token_cache(VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY),
    )
    .expect("verifier");
    let session_bearer = format!("Bearer {session}");
    let m2m_bearer = format!("Bearer {m2m}");
    let oauth_bearer = format!("Bearer {oauth}");
    eprintln!(
        "RSA-2048 JWTs: session token {} bytes, M2M JWT {} bytes, OAuth JWT {} bytes",
        session.len(),
        m2m.len(),
        oauth.len()
    );

    // Every function's answer, checked before anything is timed.
    let claims = plain.verify(&session).expect("session");
    assert_eq!(claims.org_id(), Some("org_2abcdefghijklmnopqrstuvwx"));
    let kind = |v: &Verifier, t: &str| v.verify_accepting(t, ANY).expect("valid").token_type();
    assert_eq!(kind(&plain, &session), "session_token");
    assert_eq!(kind(&plain, &m2m), "m2m_token");
    assert_eq!(kind(&plain, &oauth), "oauth_token");
    let Ok(Verified::Machine(machine)) = plain.verify_accepting(&m2m, ANY) else {
        panic!("not a machine")
    };
    assert!(machine.is_jwt() && machine.has_scope("write:invoices"));
    assert_eq!(machine.machine_id(), Some(SUBJECT));
    let Ok(Verified::Machine(app)) = plain.verify_accepting(&oauth, ANY) else {
        panic!("not a machine")
    };
    assert_eq!(app.client_id(), Some(clerk_dev::TEST_OAUTH_CLIENT));
    let signed_in = plain.authenticate_request_accepting(ANY, Some(&session_bearer), None);
    assert_eq!(signed_in.auth().expect("signed in").user_id(), claims.sub);
    for bearer in [&m2m_bearer, &oauth_bearer] {
        let a = plain.authenticate_request_accepting(ANY, Some(bearer), None);
        assert!(a.machine().is_some_and(|m| m.is_jwt()));
    }
    cached.verify(&session).expect("cached");
    let before = cached.token_cache_stats().expect("on");

    let mut group = c.benchmark_group(format!("machine-jwt-{CRYPTO_BACKEND}"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("session/verify", |b| {
        b.iter(|| black_box(plain.verify(black_box(&session))).expect("valid"))
    });
    for (name, token) in [
        ("session/verify-accepting", &session),
        ("m2m-jwt/verify-accepting", &m2m),
        ("oauth-jwt/verify-accepting", &oauth),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(plain.verify_accepting(black_box(token), ANY)).expect("valid"))
        });
    }
    group.bench_function("session/request", |b| {
        b.iter(|| {
            let a =
                plain.authenticate_request_accepting(ANY, Some(black_box(&session_bearer)), None);
            assert!(black_box(a).auth().is_some());
        })
    });
    for (name, bearer) in [
        ("m2m-jwt/request", &m2m_bearer),
        ("oauth-jwt/request", &oauth_bearer),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let a = plain.authenticate_request_accepting(ANY, Some(black_box(bearer)), None);
                assert!(black_box(a).machine().is_some());
            })
        });
    }
    group.bench_function("session/token-cache-hit-verify", |b| {
        b.iter(|| black_box(cached.verify(black_box(&session))).expect("valid"))
    });
    group.bench_function("session/token-cache-hit", |b| {
        b.iter(|| black_box(cached.verify_accepting(black_box(&session), ANY)).expect("valid"))
    });
    group.bench_function("m2m-jwt/token-cache-on", |b| {
        b.iter(|| black_box(cached.verify_accepting(black_box(&m2m), ANY)).expect("valid"))
    });
    group.finish();

    // The session token was answered from the cache every time; the M2M JWTs never reached it.
    let after = cached.token_cache_stats().expect("on");
    assert_eq!(
        (after.entries, after.misses),
        (before.entries, before.misses),
        "machine JWTs neither looked the token cache up nor entered it"
    );
    eprintln!(
        "token cache: {} entry, {} hits during the run",
        after.entries,
        after.hits - before.hits
    );
}

/// What a function did to a verifier's counters (the sizes are `after`'s).
fn delta(after: MachineStats, before: MachineStats) -> MachineStats {
    let mut d = after;
    d.calls -= before.calls;
    d.verified -= before.verified;
    d.refused -= before.refused;
    d.failed -= before.failed;
    d.joined -= before.joined;
    d.malformed -= before.malformed;
    d.refused_from_memory -= before.refused_from_memory;
    d.cache_hits -= before.cache_hits;
    d.shed -= before.shed;
    d
}

fn machine_opaque(c: &mut Criterion) {
    let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let api = server.serve_backend_api(
        BackendApi::new()
            .secret_key(SECRET)
            .machine_secret_key(MACHINE_SECRET),
    );
    let minted = |subject: String| {
        api.mint(
            OpaqueToken::api_key(&subject)
                .name("ci")
                .scopes(["read:invoices"]),
        )
    };
    let keys: Vec<String> = (0..TOKENS)
        .map(|i| minted(format!("user_2bench{i:020}")))
        .collect();
    let m2ms: Vec<String> = (0..TOKENS)
        .map(|i| {
            api.mint(OpaqueToken::m2m(&format!("mch_2bench{i:020}")).scopes(["read:invoices"]))
        })
        .collect();
    let revoked: Vec<String> = (0..TOKENS)
        .map(|i| {
            let key = minted(format!("user_2revoked{i:018}"));
            assert!(api.revoke(&key));
            key
        })
        .collect();
    // Made-up API keys of Clerk's shape (the API answers 404), and one of no possible shape.
    let unknown: Vec<String> = (0..TOKENS).map(|i| format!("ak_unknown{i:024}")).collect();
    let junk = "ak_not-a-clerk-key";
    let bearers: Vec<String> = keys.iter().map(|k| format!("Bearer {k}")).collect();

    let machine = MachineOptions::default()
        .secret_key(SECRET)
        .machine_secret_key(MACHINE_SECRET)
        .api_url(server.url())
        // The default 100 calls per second protects Clerk's quota: here the calls are measured.
        .calls_per_second(1_000_000)
        // A `fresh-call` run remembers every token it makes up; nothing expires during the run.
        .refused(1_000_000, Duration::from_secs(3600));
    let off = Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default().machine(machine.clone()),
    )
    .expect("verifier");
    let on = Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default()
            .machine(machine.result_cache(2 * TOKENS, Duration::from_secs(3600))),
    )
    .expect("verifier");

    // Before the timing: the cache holds every key and M2M token, the refused memory every
    // unknown and revoked key; every answer is the expected one.
    for t in keys.iter().chain(&m2ms) {
        let Ok(Verified::Machine(m)) = on.verify_accepting(t, ANY) else {
            panic!("a minted token is refused")
        };
        assert!(!m.is_jwt() && m.has_scope("read:invoices"));
    }
    assert_eq!(
        off.verify_accepting(&keys[0], ANY)
            .expect("valid")
            .token_type(),
        "api_key"
    );
    for t in unknown.iter().chain(&revoked) {
        let e = off.verify_accepting(t, ANY).expect_err("refused");
        assert_eq!(e.reason(), "token-invalid");
    }
    let e = off.verify_accepting(junk, ANY).expect_err("junk");
    assert_eq!(e.reason(), "token-invalid");
    let (stats_off, stats_on) = (off.machine_stats(), on.machine_stats());
    assert_eq!(
        (stats_on.calls, stats_on.cached_results),
        (2 * TOKENS as u64, 2 * TOKENS)
    );
    assert_eq!(stats_off.refused_remembered, 2 * TOKENS);
    eprintln!(
        "opaque tokens against clerk-dev's Backend API on {}: API key {} bytes, M2M token {} bytes",
        server.url(),
        keys[0].len(),
        m2ms[0].len()
    );

    let mut group = c.benchmark_group("machine-opaque");
    group.throughput(Throughput::Elements(1));
    // Counts the iterations: `i` for the tokens cycled through, `fresh` for the tokens made
    // for one iteration.
    let (i, fresh) = (Cell::new(0usize), Cell::new(0usize));
    // The floor of a call: one POST to the same endpoint on a new connection with std's
    // `TcpStream`, the answer read to its end; no thread, no HTTP library, no parsing.
    let api_before = api.calls();
    group.bench_function("backend-api/raw-post", |b| {
        b.iter(|| {
            let answer = raw_post(server.port(), &keys[next(&i, TOKENS)]);
            assert!(black_box(answer).starts_with(b"HTTP/1.1 200 "));
        })
    });
    assert_eq!((api.calls() - api_before) as u64, i.get() as u64);
    // Runs one function, then checks what it did to the counters:
    // `check(cache-off verifier, cache-on verifier, iterations)`.
    let mut bench = |name: &str,
                     run: &mut dyn FnMut(&mut Bencher<'_>),
                     check: &dyn Fn(MachineStats, MachineStats, u64)| {
        let (off_before, on_before, api_before) =
            (off.machine_stats(), on.machine_stats(), api.calls());
        let runs_before = i.get() + fresh.get();
        group.bench_function(name, |b| run(b));
        let (d_off, d_on) = (
            delta(off.machine_stats(), off_before),
            delta(on.machine_stats(), on_before),
        );
        for d in [d_off, d_on] {
            assert_eq!((d.failed, d.shed, d.joined), (0, 0, 0), "{name}: {d:?}");
        }
        let api_calls = (api.calls() - api_before) as u64;
        assert_eq!(api_calls, d_off.calls + d_on.calls, "{name}");
        check(d_off, d_on, (i.get() + fresh.get() - runs_before) as u64);
    };
    // Cache off: every verification is one call, and a verified one.
    let one_call_each = |off: MachineStats, on: MachineStats, runs| {
        assert_eq!((off.calls, off.verified, on.calls), (runs, runs, 0));
    };
    // A hit makes no call.
    let hits = |off: MachineStats, on: MachineStats, runs| {
        assert_eq!((off.calls, on.calls, on.cache_hits), (0, 0, runs));
    };
    // Refused by the API: one call each (then remembered).
    let refused_calls = |off: MachineStats, _: MachineStats, runs| {
        assert_eq!((off.calls, off.refused, off.verified), (runs, runs, 0));
    };
    // Refused from memory or by shape: no call.
    let from_memory = |off: MachineStats, on: MachineStats, runs| {
        assert_eq!((off.calls, on.calls, off.refused_from_memory), (0, 0, runs));
    };
    let by_shape = |off: MachineStats, on: MachineStats, runs| {
        assert_eq!((off.calls, on.calls, off.malformed), (0, 0, runs));
    };

    for (name, tokens) in [("api-key/cache-off", &keys), ("m2m/cache-off", &m2ms)] {
        bench(
            name,
            &mut |b| {
                b.iter(|| {
                    let t = &tokens[next(&i, TOKENS)];
                    black_box(off.verify_accepting(black_box(t), ANY)).expect("valid");
                })
            },
            &one_call_each,
        );
    }
    for (name, tokens) in [("api-key/cache-hit", &keys), ("m2m/cache-hit", &m2ms)] {
        bench(
            name,
            &mut |b| {
                b.iter(|| {
                    let t = &tokens[next(&i, TOKENS)];
                    black_box(on.verify_accepting(black_box(t), ANY)).expect("valid");
                })
            },
            &hits,
        );
    }
    bench(
        "api-key/request-cache-hit",
        &mut |b| {
            b.iter(|| {
                let bearer = &bearers[next(&i, TOKENS)];
                let a = on.authenticate_request_accepting(ANY, Some(black_box(bearer)), None);
                assert!(black_box(a).machine().is_some());
            })
        },
        &hits,
    );
    // Tokens the API refuses, each asked for the first time (made outside the timing).
    bench(
        "unknown/fresh-call",
        &mut |b| {
            b.iter_batched(
                || format!("ak_fresh{:024}", next(&fresh, usize::MAX)),
                |t| {
                    let e = off
                        .verify_accepting(black_box(&t), ANY)
                        .expect_err("unknown");
                    assert_eq!(black_box(e).reason(), "token-invalid");
                },
                BatchSize::SmallInput,
            )
        },
        &refused_calls,
    );
    bench(
        "revoked/fresh-call",
        &mut |b| {
            b.iter_batched(
                || {
                    let key = minted(format!("user_2fresh{:020}", next(&fresh, usize::MAX)));
                    assert!(api.revoke(&key));
                    key
                },
                |t| {
                    let e = off
                        .verify_accepting(black_box(&t), ANY)
                        .expect_err("revoked");
                    assert_eq!(black_box(e).reason(), "token-invalid");
                },
                BatchSize::SmallInput,
            )
        },
        &refused_calls,
    );
    // The same kinds of tokens, refused a moment ago: answered from memory.
    for (name, tokens) in [
        ("unknown/refused-memory", &unknown),
        ("revoked/refused-memory", &revoked),
    ] {
        bench(
            name,
            &mut |b| {
                b.iter(|| {
                    let t = &tokens[next(&i, TOKENS)];
                    let e = off
                        .verify_accepting(black_box(t), ANY)
                        .expect_err("refused");
                    assert_eq!(black_box(e).reason(), "token-invalid");
                })
            },
            &from_memory,
        );
    }
    bench(
        "junk/refused-by-shape",
        &mut |b| {
            b.iter(|| {
                next(&i, 1);
                let e = off
                    .verify_accepting(black_box(junk), ANY)
                    .expect_err("junk");
                assert_eq!(black_box(e).reason(), "token-invalid");
            })
        },
        &by_shape,
    );
    group.finish();
    eprintln!(
        "Backend API calls in all: {} (the cache-off verifier {}, the cache-on one {})",
        api.calls(),
        off.machine_stats().calls,
        on.machine_stats().calls
    );
}

/// `POST /api_keys/verify` for `key` to clerk-dev's Backend API on `port`: the whole answer.
fn raw_post(port: u16, key: &str) -> Vec<u8> {
    let body = format!(r#"{{"secret":"{key}"}}"#);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    write!(
        stream,
        "POST /api_keys/verify HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer \
         {SECRET}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut answer = Vec::with_capacity(1024);
    stream.read_to_end(&mut answer).expect("answer");
    answer
}

criterion_group! {
    name = benches;
    // Short runs: a whole `cargo bench --bench machine` takes about 90 s, and the
    // opaque functions open one loopback connection per call.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = machine_jwts, machine_opaque
}
criterion_main!(benches);
