//! clerk-verify against the alternatives, side by side in one criterion run per crypto backend.
//!
//! ```text
//! cargo bench -p clerk-benches                                            # ring (default)
//! cargo bench -p clerk-benches --no-default-features --features aws-lc-rs # aws-lc-rs
//! ```
//!
//! Groups (every function gets the same token and key; keys, verifiers and requests are built
//! outside the timed closure; throughput is one token or request per iteration). The token is
//! Clerk-shaped (v2 claims with an active organization, about 870 bytes with RSA-2048):
//!
//! - `rs256-verify-<backend>/<function>/<bits>` for 2048-, 3072- and 4096-bit keys; `<backend>`
//!   is the one clerk-verify was built with in this run, so every ratio inside one group comes
//!   from one run:
//!   - `clerk-verify`: [`clerk_verify::Verifier::verify`] with the key cached (the token cache
//!     off, as by default): parse, alg and kid checks, RSA signature, Clerk's claim rules
//!     (`azp` and `iss` configured), typed claims;
//!   - `floor-pipeline`: the least any verifier on this backend does, written out: split,
//!     base64url, serde of the header and of the claims into structs, the backend's raw RSA
//!     verification with a pre-built key, and the `exp`/`nbf` checks;
//!   - `ring-raw` (ring run) / `aws-lc-raw` (aws-lc-rs run): the backend's RSASSA-PKCS1-v1_5
//!     SHA-256 verification of the same signing input alone (ring rebuilds its key each call;
//!     aws-lc-rs uses a `ParsedPublicKey`);
//!   - `jsonwebtoken-aws-lc`: jsonwebtoken 11 `decode` with a `Validation` (exp, nbf, iss),
//!     on its `aws_lc_rs` backend;
//!   - `josekit`: josekit `decode_with_verifier` plus `JwtPayloadValidator` (exp, nbf, iss).
//! - `token-cache-<backend>`: the same 2048-bit token through a verifier without the cache
//!   (`full-verify`) and one with it, answered from the cache (`hit`).
//! - `parse-only`: [`clerk_verify::token::Token::parse`], no crypto.
//! - `contention`: one shared verifier, 1 or 2 threads each verifying in a loop; the time is
//!   wall-clock per verification *per thread* (equal to the 1-thread figure when nothing is
//!   contended). Over a fixed `KeySet`, over `RemoteKeys` (JWKS from a local server, cache
//!   warm: the production path, behind a read lock), and cache hits (`cache-hit-same`: both
//!   threads send one token; `cache-hit-own`: each thread its own user's token).
//! - `webhook-verify`: [`clerk_verify::Webhook::verify_at`] on a typical 2 KiB Clerk event.
//! - `actix-adapter`: one GET through an actix-web app (`init_service` + `call_service`, no
//!   sockets): the same handler with a `ClerkAuth` extractor and without.
//! - `axum-adapter`: one GET through an axum `Router` (tower's `oneshot`, no sockets): the same
//!   handler without auth, with a `ClerkAuth` extractor (the verifier as router state), and with
//!   `ClerkAuth` behind a `ClerkLayer` (the verifier and the debug headers from the layer).

use actix_web::{test, web, App, HttpResponse};
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use clerk_actix::ClerkAuth;
use clerk_axum::ClerkLayer;
use clerk_dev::{fixtures, now_unix, JwksServer};
use clerk_verify::{
    keys::CRYPTO_BACKEND, remote::RemoteKeys, remote::RemoteOptions, token::Token,
    token::DEFAULT_MAX_TOKEN_LEN, Verifier, VerifyOptions, Webhook,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};
use tower::ServiceExt;

mod common;

use common::{our_options, session_token, session_token_for, Case, Contender};

fn rs256_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("rs256-verify-{CRYPTO_BACKEND}"));
    group.throughput(Throughput::Elements(1));
    for case in Case::every_key_size() {
        let bits = case.bits;
        if bits == 2048 {
            eprintln!("token: {} bytes", case.token.len());
        }
        let now = now_unix() as u64;
        for who in Contender::ALL {
            group.bench_with_input(BenchmarkId::new(who.name(), bits), &case, |b, c| {
                b.iter(|| c.run(who, now))
            });
        }
    }
    group.finish();
}

fn token_cache(c: &mut Criterion) {
    let key = fixtures::rsa2048();
    let token = session_token(key);
    let full = Verifier::from_jwks(&key.jwks_json(), our_options()).expect("verifier");
    let cached = Verifier::from_jwks(
        &key.jwks_json(),
        our_options().token_cache(VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY),
    )
    .expect("verifier");
    assert_eq!(cached.verify(&token), full.verify(&token));
    assert_eq!(cached.verify(&token), full.verify(&token));
    assert_eq!(cached.token_cache_stats().expect("on").hits, 1);
    let mut group = c.benchmark_group(format!("token-cache-{CRYPTO_BACKEND}"));
    group.throughput(Throughput::Elements(1));
    group.bench_function("full-verify", |b| {
        b.iter(|| black_box(full.verify(black_box(&token))).expect("valid"))
    });
    group.bench_function("hit", |b| {
        b.iter(|| black_box(cached.verify(black_box(&token))).expect("valid"))
    });
    group.finish();
}

fn parse_only(c: &mut Criterion) {
    let token = session_token(fixtures::rsa2048());
    let mut group = c.benchmark_group("parse-only");
    group.throughput(Throughput::Elements(1));
    group.bench_function("clerk-verify", |b| {
        b.iter(|| black_box(Token::parse(black_box(&token), DEFAULT_MAX_TOKEN_LEN)).expect("ok"))
    });
    group.finish();
}

/// `tokens.len()` threads share `verifier`, thread `i` verifying `tokens[i]` `iters` times;
/// returns the wall time, i.e. the time per verification as one thread sees it.
fn verify_on_threads(verifier: &Verifier, tokens: &[&str], iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for token in tokens {
            s.spawn(move || {
                for _ in 0..iters {
                    black_box(verifier.verify(black_box(token))).expect("valid");
                }
            });
        }
    });
    start.elapsed()
}

fn contention(c: &mut Criterion) {
    let key = fixtures::rsa2048();
    let token = session_token(key);
    let other = session_token_for(key, "user_2zyxwvutsrqponmlkjihgfedcb");
    let fixed = Verifier::from_jwks(&key.jwks_json(), our_options()).expect("verifier");
    let cached = Verifier::from_jwks(
        &key.jwks_json(),
        our_options().token_cache(VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY),
    )
    .expect("verifier");
    // The production path: keys fetched once from a JWKS endpoint, then served from the cache.
    let server = JwksServer::start_with(key.jwks_json());
    let remote_keys = RemoteKeys::from_jwks_url(
        &server.jwks_url(),
        RemoteOptions::default().cache_ttl(Duration::from_secs(24 * 3600)),
    )
    .expect("remote keys");
    remote_keys.refresh(SystemTime::now()).expect("JWKS fetch");
    let remote = Verifier::new(remote_keys, our_options()).expect("verifier");
    remote.verify(&token).expect("remote verifier accepts");
    cached.verify(&token).expect("cached");
    cached.verify(&other).expect("cached");

    let mut group = c.benchmark_group("contention");
    group.throughput(Throughput::Elements(1));
    let one: &[&str] = &[&token];
    let same: &[&str] = &[&token, &token];
    let own: &[&str] = &[&token, &other];
    for (name, verifier, two) in [
        ("keyset", &fixed, same),
        ("remote-cached", &remote, same),
        ("cache-hit-same", &cached, same),
        ("cache-hit-own", &cached, own),
    ] {
        for (tokens, label) in [(one, "1-thread"), (two, "2-threads")] {
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter_custom(|iters| verify_on_threads(verifier, tokens, iters))
            });
        }
    }
    group.finish();
    drop(server);
}

fn webhook_verify(c: &mut Criterion) {
    let hook = Webhook::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect("secret");
    // A `user.created` event of the usual size (about 2 KiB).
    let body = serde_json::json!({
        "type": "user.created",
        "object": "event",
        "timestamp": 1_700_000_000_000u64,
        "instance_id": "ins_2abc",
        "data": {
            "id": "user_2abc",
            "object": "user",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "image_url": format!("https://img.clerk.com/{}", "x".repeat(200)),
            "email_addresses": [{
                "id": "idn_2abc",
                "email_address": "ada@example.com",
                "verification": {"status": "verified", "strategy": "email_code"},
                "linked_to": [],
            }],
            "primary_email_address_id": "idn_2abc",
            "public_metadata": {}, "private_metadata": {}, "unsafe_metadata": {},
            "created_at": 1_700_000_000_000u64, "updated_at": 1_700_000_000_000u64,
            "external_accounts": [], "phone_numbers": [], "web3_wallets": [],
            "padding": "p".repeat(1200),
        },
    })
    .to_string();
    let ts = now_unix();
    let id = "msg_2abcdefghijklmnopqrstuvwxyz";
    let signature = hook.sign(id, ts, body.as_bytes());
    let ts_text = ts.to_string();
    let headers = [
        ("svix-id", id),
        ("svix-timestamp", ts_text.as_str()),
        ("svix-signature", signature.as_str()),
    ];
    let get = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let at = SystemTime::now();
    hook.verify_at(get, body.as_bytes(), at).expect("valid");

    let mut group = c.benchmark_group("webhook-verify");
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        BenchmarkId::new("clerk-verify", format!("{}B", body.len())),
        |b| {
            b.iter(|| {
                hook.verify_at(get, black_box(body.as_bytes()), at)
                    .expect("valid")
            })
        },
    );
    group.finish();
}

async fn me_authed(auth: ClerkAuth) -> HttpResponse {
    HttpResponse::Ok().body(auth.user_id().to_owned())
}

async fn me_plain() -> HttpResponse {
    HttpResponse::Ok().body("user_2abc")
}

fn actix_adapter(c: &mut Criterion) {
    let key = fixtures::rsa2048();
    let token = session_token(key);
    let bearer = format!("Bearer {token}");
    let verifier = Verifier::from_jwks(&key.jwks_json(), our_options()).expect("verifier");
    let system = actix_rt::System::new();
    let authed = system.block_on(test::init_service(
        App::new()
            .app_data(web::Data::new(verifier.clone()))
            .route("/me", web::get().to(me_authed)),
    ));
    let plain = system.block_on(test::init_service(
        App::new()
            .app_data(web::Data::new(verifier.clone()))
            .route("/me", web::get().to(me_plain)),
    ));
    let request = || {
        test::TestRequest::get()
            .uri("/me")
            .insert_header(("authorization", bearer.as_str()))
            .to_request()
    };
    // Both routes answer 200 with the user id before anything is timed.
    for status in [
        system
            .block_on(test::call_service(&authed, request()))
            .status(),
        system
            .block_on(test::call_service(&plain, request()))
            .status(),
    ] {
        assert!(status.is_success(), "{status}");
    }

    let mut group = c.benchmark_group("actix-adapter");
    group.throughput(Throughput::Elements(1));
    group.bench_function("without-auth", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let resp = test::call_service(&plain, request()).await;
                    black_box(resp.status());
                }
                start.elapsed()
            })
        })
    });
    group.bench_function("clerk-auth", |b| {
        b.iter_custom(|iters| {
            system.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let resp = test::call_service(&authed, request()).await;
                    black_box(resp.status());
                }
                start.elapsed()
            })
        })
    });
    group.finish();
}

async fn axum_me_authed(auth: clerk_axum::ClerkAuth) -> String {
    auth.user_id().to_owned()
}

async fn axum_me_plain() -> &'static str {
    "user_2abc"
}

fn axum_adapter(c: &mut Criterion) {
    let key = fixtures::rsa2048();
    let token = session_token(key);
    let bearer = format!("Bearer {token}");
    let verifier = Verifier::from_jwks(&key.jwks_json(), our_options()).expect("verifier");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let plain: Router = Router::new()
        .route("/me", get(axum_me_plain))
        .with_state(verifier.clone());
    let authed: Router = Router::new()
        .route("/me", get(axum_me_authed))
        .with_state(verifier.clone());
    let layered: Router = Router::new()
        .route("/me", get(axum_me_authed))
        .layer(ClerkLayer::new(verifier));
    let request = || {
        axum::http::Request::get("/me")
            .header("authorization", bearer.as_str())
            .body(Body::empty())
            .expect("request")
    };
    // Every route answers 200 before anything is timed.
    for app in [&plain, &authed, &layered] {
        let status = runtime
            .block_on(app.clone().oneshot(request()))
            .expect("infallible")
            .status();
        assert!(status.is_success(), "{status}");
    }

    let mut group = c.benchmark_group("axum-adapter");
    group.throughput(Throughput::Elements(1));
    for (name, app) in [
        ("without-auth", &plain),
        ("clerk-auth", &authed),
        ("clerk-layer", &layered),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        let resp = app.clone().oneshot(request()).await.expect("infallible");
                        black_box(resp.status());
                    }
                    start.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    rs256_verify,
    token_cache,
    parse_only,
    contention,
    webhook_verify,
    actix_adapter,
    axum_adapter
);
criterion_main!(benches);
