//! clerk-verify against the alternatives, side by side in one criterion run.
//!
//! ```text
//! cargo bench -p clerk-benches
//! ```
//!
//! Groups (every function gets the same token and key; keys, verifiers and requests are built
//! outside the timed closure; throughput is one token or request per iteration):
//!
//! - `rs256-verify/<function>/<bits>` for 2048-, 3072- and 4096-bit keys:
//!   - `clerk-verify`: [`clerk_verify::Verifier::verify`] with the key cached: parse, alg and kid checks, RSA
//!     signature, Clerk's claim rules (`azp` and `iss` configured), typed claims;
//!   - `ring-floor`: ring's raw RSASSA-PKCS1-v1_5 SHA-256 verify of the same signing input and
//!     signature with pre-built key components: the floor any Rust verifier on ring pays;
//!   - `jsonwebtoken-aws-lc`: jsonwebtoken 11 `decode` with a `Validation` (exp, nbf, iss),
//!     on its `aws_lc_rs` backend;
//!   - `josekit`: josekit `decode_with_verifier` plus `JwtPayloadValidator` (exp, nbf, iss).
//! - `parse-only`: [`clerk_verify::token::Token::parse`], no crypto.
//! - `contention`: one shared verifier, 1 or 2 threads each verifying in a loop; the time is
//!   wall-clock per verification *per thread* (equal to the 1-thread figure when nothing is
//!   contended). Over a fixed `KeySet` and over `RemoteKeys` (JWKS from a local server,
//!   cache warm: the production path, behind a read lock).
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
use clerk_dev::{b64url_decode, fixtures, now_unix, DevKey, JwksServer, TokenBuilder};
use clerk_verify::{
    remote::RemoteKeys, remote::RemoteOptions, token::Token, token::DEFAULT_MAX_TOKEN_LEN,
    Verifier, VerifyOptions, Webhook,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde::Deserialize;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};
use tower::ServiceExt;

/// What a jsonwebtoken user would decode a Clerk session token into.
#[derive(Deserialize)]
#[allow(dead_code)] // Fields are read by serde only: decoding them is the work measured.
struct JwtClaims {
    sub: String,
    sid: Option<String>,
    iss: Option<String>,
    azp: Option<String>,
    exp: u64,
    nbf: Option<u64>,
    iat: Option<u64>,
    v: Option<u64>,
}

/// One key size: the token and every implementation's pre-built key.
struct Case {
    bits: u32,
    token: String,
    verifier: Verifier,
    signing_input: String,
    signature: Vec<u8>,
    ring_key: ring::signature::RsaPublicKeyComponents<Vec<u8>>,
    jwt_key: jsonwebtoken::DecodingKey,
    jwt_validation: jsonwebtoken::Validation,
    jose_verifier: josekit::jws::alg::rsassa::RsassaJwsVerifier,
    jose_validator: josekit::jwt::JwtPayloadValidator,
}

/// A Clerk-shaped session token, valid for an hour so no run outlives it.
fn session_token(key: &DevKey) -> String {
    let now = now_unix();
    TokenBuilder::session("user_2abc", now)
        .claim("exp", now + 3600)
        .sign(key)
}

fn our_options() -> VerifyOptions {
    VerifyOptions::default()
        .authorized_parties([clerk_dev::TEST_AZP])
        .issuer(clerk_dev::TEST_ISSUER)
}

impl Case {
    fn new(key: &'static DevKey) -> Case {
        let token = session_token(key);
        let (signing_input, sig_b64) = token.rsplit_once('.').expect("three parts");
        let jwk = key.public_jwk();
        let (n, e) = (jwk["n"].as_str().expect("n"), jwk["e"].as_str().expect("e"));

        let mut jwt_validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        jwt_validation.leeway = 5;
        jwt_validation.validate_nbf = true;
        jwt_validation.set_issuer(&[clerk_dev::TEST_ISSUER]);
        jwt_validation.set_required_spec_claims(&["exp", "sub"]);

        let mut jose_validator = josekit::jwt::JwtPayloadValidator::new();
        jose_validator.set_issuer(clerk_dev::TEST_ISSUER);

        Case {
            bits: key.bits(),
            verifier: Verifier::from_jwks(&key.jwks_json(), our_options()).expect("verifier"),
            signing_input: signing_input.to_owned(),
            signature: b64url_decode(sig_b64).expect("signature"),
            ring_key: ring::signature::RsaPublicKeyComponents {
                n: b64url_decode(n).expect("n"),
                e: b64url_decode(e).expect("e"),
            },
            jwt_key: jsonwebtoken::DecodingKey::from_rsa_components(n, e).expect("jwt key"),
            jwt_validation,
            jose_verifier: josekit::jws::RS256
                .verifier_from_pem(key.public_pem())
                .expect("josekit verifier"),
            jose_validator,
            token,
        }
    }

    /// Every implementation accepts the token before anything is timed.
    fn check(&self) {
        assert_eq!(
            self.verifier.verify(&self.token).expect("ours").sub,
            "user_2abc"
        );
        self.ring_key
            .verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .expect("ring");
        jsonwebtoken::decode::<JwtClaims>(&self.token, &self.jwt_key, &self.jwt_validation)
            .expect("jsonwebtoken");
        let (payload, _) =
            josekit::jwt::decode_with_verifier(&self.token, &self.jose_verifier).expect("josekit");
        self.jose_validator
            .validate(&payload)
            .expect("josekit claims");
    }
}

fn rs256_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("rs256-verify");
    group.throughput(Throughput::Elements(1));
    for key in [
        fixtures::rsa2048(),
        fixtures::rsa3072(),
        fixtures::rsa4096(),
    ] {
        let case = Case::new(key);
        case.check();
        let bits = case.bits;
        group.bench_with_input(BenchmarkId::new("clerk-verify", bits), &case, |b, c| {
            b.iter(|| black_box(c.verifier.verify(black_box(&c.token))).expect("valid"))
        });
        group.bench_with_input(BenchmarkId::new("ring-floor", bits), &case, |b, c| {
            b.iter(|| {
                c.ring_key
                    .verify(
                        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                        black_box(c.signing_input.as_bytes()),
                        black_box(&c.signature),
                    )
                    .expect("valid")
            })
        });
        group.bench_with_input(
            BenchmarkId::new("jsonwebtoken-aws-lc", bits),
            &case,
            |b, c| {
                b.iter(|| {
                    black_box(jsonwebtoken::decode::<JwtClaims>(
                        black_box(&c.token),
                        &c.jwt_key,
                        &c.jwt_validation,
                    ))
                    .expect("valid")
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("josekit", bits), &case, |b, c| {
            b.iter(|| {
                let (payload, header) =
                    josekit::jwt::decode_with_verifier(black_box(&c.token), &c.jose_verifier)
                        .expect("valid");
                c.jose_validator.validate(&payload).expect("valid claims");
                black_box((payload, header))
            })
        });
    }
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

/// `threads` threads share `verifier`, each verifying `iters` times; returns the wall time,
/// i.e. the time per verification as one thread sees it.
fn verify_on_threads(verifier: &Verifier, token: &str, threads: usize, iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
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
    let fixed = Verifier::from_jwks(&key.jwks_json(), our_options()).expect("verifier");
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

    let mut group = c.benchmark_group("contention");
    group.throughput(Throughput::Elements(1));
    for (name, verifier) in [("keyset", &fixed), ("remote-cached", &remote)] {
        for (threads, label) in [(1usize, "1-thread"), (2, "2-threads")] {
            group.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter_custom(|iters| verify_on_threads(verifier, &token, threads, iters))
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
    parse_only,
    contention,
    webhook_verify,
    actix_adapter,
    axum_adapter
);
criterion_main!(benches);
