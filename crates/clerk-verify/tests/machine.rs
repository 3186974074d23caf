//! Machine authentication over real HTTP: API keys, M2M tokens and OAuth access tokens, opaque
//! (through the dev issuer's fake Backend API on 127.0.0.1) and in JWT form (the fixture key),
//! as request authentication sees them: every kind valid, the wrong kind, revoked, expired,
//! unknown, forged, the Backend API down or slow, a flood of made-up tokens, and many requests
//! sharing one call.
#![cfg(feature = "remote")]

use clerk_dev::{fixtures, BackendApi, Fault, JwksServer, ManualClock, OpaqueToken, TokenBuilder};
use clerk_verify::machine::{MachineAuth, Verified};
use clerk_verify::options::{AcceptsToken, MachineOptions, TokenKind};
use clerk_verify::request::{Policy, Refusal, Step};
use clerk_verify::{adapter, Authentication, Clock, Verifier, VerifyOptions};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "sk_test_machineTESTSECRET0123";
const MACHINE_SECRET: &str = "ak_machineSECRETforM2M0123456789";
/// The verify calls' timeout in these tests: fault tests must answer within it plus slack.
const TIMEOUT: Duration = Duration::from_millis(800);

/// A dev issuer: the fixture key's JWKS and a Backend API with both secret keys.
struct Issuer {
    server: JwksServer,
    api: Arc<BackendApi>,
}

fn issuer() -> Issuer {
    let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let api = server.serve_backend_api(
        BackendApi::new()
            .secret_key(SECRET)
            .machine_secret_key(MACHINE_SECRET),
    );
    Issuer { server, api }
}

fn machine_options(issuer: &Issuer) -> MachineOptions {
    MachineOptions::default()
        .secret_key(SECRET)
        .machine_secret_key(MACHINE_SECRET)
        .api_url(issuer.server.url())
        .timeout(TIMEOUT)
}

fn verifier_with(machine: MachineOptions, clock: Option<&ManualClock>) -> Verifier {
    let mut opts = VerifyOptions::default().machine(machine);
    if let Some(clock) = clock {
        opts = opts.clock(Clock::from_fn(clock.source()));
    }
    Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), opts).unwrap()
}

fn verifier(issuer: &Issuer) -> Verifier {
    verifier_with(machine_options(issuer), None)
}

/// Blocking request authentication of `token` as a Bearer header, on a route accepting `accepts`.
fn authenticate(v: &Verifier, accepts: AcceptsToken, token: &str) -> Authentication {
    v.authenticate_request_accepting(accepts, Some(&format!("Bearer {token}")), None)
}

fn machine(a: Authentication) -> MachineAuth {
    match a {
        Authentication::Machine(m) => m,
        other => panic!("not a machine: {} ({:?})", other.reason(), other),
    }
}

/// The status and reason an adapter's machine route answers.
fn refused(a: Authentication) -> (u16, &'static str) {
    let r: Refusal = adapter::machine(a).unwrap_err();
    (r.status(), r.reason())
}

fn now() -> i64 {
    clerk_dev::now_unix()
}

#[test]
fn every_kind_is_verified_with_clerks_fields() {
    let issuer = issuer();
    let v = verifier(&issuer);
    let any = AcceptsToken::ANY;

    let key = issuer.api.mint(
        OpaqueToken::api_key("user_2abc")
            .name("ci")
            .scopes(["read", "write"])
            .claims(serde_json::json!({"team": "core"})),
    );
    let m = machine(authenticate(&v, any, &key));
    assert_eq!(
        (m.kind(), m.token_type(), m.is_jwt()),
        (TokenKind::ApiKey, "api_key", false)
    );
    assert_eq!(
        (m.subject(), m.user_id(), m.org_id()),
        ("user_2abc", Some("user_2abc"), None)
    );
    assert_eq!(
        (m.name(), m.scopes()),
        (Some("ci"), &["read".to_owned(), "write".to_owned()][..])
    );
    assert_eq!(m.claims().unwrap()["team"], "core");
    assert!(m.id().starts_with("ak_") && m.id() != key);

    let org_key = issuer.api.mint(OpaqueToken::api_key("org_9"));
    let m = machine(authenticate(&v, AcceptsToken::API_KEY, &org_key));
    assert_eq!((m.org_id(), m.user_id()), (Some("org_9"), None));

    let m2m = issuer
        .api
        .mint(OpaqueToken::m2m("mch_2vYV").scopes(["mch_other"]));
    let m = machine(authenticate(&v, any, &m2m));
    assert_eq!(
        (m.token_type(), m.machine_id()),
        ("m2m_token", Some("mch_2vYV"))
    );
    let sent = issuer.server.last_request_headers();
    assert!(
        sent.contains(&(
            "authorization".to_owned(),
            format!("Bearer {MACHINE_SECRET}")
        )),
        "M2M tokens are verified with the machine secret key"
    );
    assert!(m.has_scope("mch_other") && !m.has_scope("mch_"));

    let oauth = issuer
        .api
        .mint(OpaqueToken::oauth("user_3", "app_7").scopes(["email"]));
    let m = machine(authenticate(&v, any, &oauth));
    assert_eq!(
        (m.token_type(), m.user_id(), m.client_id()),
        ("oauth_token", Some("user_3"), Some("app_7"))
    );
    assert_eq!(issuer.api.calls(), 4);
    assert_eq!(
        [
            issuer.api.calls_for("api_key"),
            issuer.api.calls_for("m2m_token")
        ],
        [2, 1]
    );
    // The bearer of M2M calls is the machine secret key; of the others, the secret key.
    let sent = issuer.server.last_request_headers();
    let header = |name: &str| {
        sent.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(
        header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(header("clerk-api-version"), Some("2026-05-12"));

    // JWT forms, verified locally: no call.
    let jwt = TokenBuilder::m2m("mch_2vYV", now())
        .claim("scopes", "read:invoices write:invoices")
        .claim("aud", serde_json::json!(["mch_peer"]))
        .claim("team", "billing")
        .sign(fixtures::rsa2048());
    let m = machine(authenticate(&v, any, &jwt));
    assert_eq!(
        (m.token_type(), m.is_jwt(), m.id()),
        ("m2m_token", true, "mt_jwt_test")
    );
    assert_eq!(m.scopes(), ["read:invoices", "write:invoices"]);
    assert_eq!(m.claims().unwrap()["team"], "billing");
    let jwt = TokenBuilder::oauth("user_5", now())
        .claim("scp", serde_json::json!(["profile"]))
        .sign(fixtures::rsa2048());
    let m = machine(authenticate(&v, any, &jwt));
    assert_eq!(
        (m.token_type(), m.client_id(), m.scopes()),
        (
            "oauth_token",
            Some("oauth_app_test"),
            &["profile".to_owned()][..]
        )
    );
    assert_eq!(issuer.api.calls(), 4, "JWT forms never call the API");

    // Session tokens still sign in on a route that takes any kind.
    let session = TokenBuilder::session("user_1", now()).sign(fixtures::rsa2048());
    assert_eq!(
        authenticate(&v, any, &session).auth().unwrap().user_id(),
        "user_1"
    );
    // And through the token API (the CLI's).
    assert!(matches!(
        v.verify_accepting(&key, any),
        Ok(Verified::Machine(_))
    ));
    assert!(matches!(
        v.verify_accepting(&session, any),
        Ok(Verified::Session(_))
    ));
}

#[test]
fn a_kind_not_accepted_is_a_type_mismatch_without_a_call() {
    let issuer = issuer();
    let v = verifier(&issuer);
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    let m2m_jwt = TokenBuilder::m2m("mch_1", now()).sign(fixtures::rsa2048());
    let oauth_jwt = TokenBuilder::oauth("user_1", now()).sign(fixtures::rsa2048());
    let session = TokenBuilder::session("user_1", now()).sign(fixtures::rsa2048());
    let cases = [
        (AcceptsToken::M2M_TOKEN, key.as_str()),
        (AcceptsToken::SESSION_TOKEN, key.as_str()),
        (AcceptsToken::MACHINES, session.as_str()),
        (AcceptsToken::API_KEY, m2m_jwt.as_str()),
        (AcceptsToken::SESSION_TOKEN, m2m_jwt.as_str()),
        (AcceptsToken::SESSION_TOKEN, oauth_jwt.as_str()),
        (AcceptsToken::M2M_TOKEN, oauth_jwt.as_str()),
        (
            AcceptsToken::SESSION_TOKEN.with(TokenKind::M2mToken),
            "oat_a1B2c3D4e5F6g7H8i9",
        ),
    ];
    for (accepts, token) in cases {
        let a = authenticate(&v, accepts, token);
        assert_eq!(a.reason(), "token-type-mismatch", "{accepts} {a:?}");
        assert_eq!(a.token_type(), None);
    }
    assert_eq!(issuer.api.calls(), 0);
    // The verifier's default (session tokens) refuses machine tokens the same way.
    assert_eq!(
        v.authenticate_request(Some(&format!("Bearer {key}")), None)
            .reason(),
        "token-type-mismatch"
    );
    // A route for machines only reads no cookie: no header token is `machine-token-missing`.
    let cookie = format!("__session={session}; __client_uat={}", now() - 10);
    for cookie in [
        None,
        Some(cookie.as_str()),
        Some(&*format!("__session={key}")),
    ] {
        let a = v.authenticate_request_accepting(AcceptsToken::MACHINES, None, cookie);
        assert_eq!(refused(a), (401, "machine-token-missing"));
    }
    // Nor is a machine token ever taken from a cookie where sessions are accepted.
    let a = v.authenticate_request_accepting(
        AcceptsToken::ANY,
        None,
        Some(&format!("__session={key}; __client_uat={}", now() - 10)),
    );
    assert!(a.machine().is_none());
    assert_eq!(a.reason(), "token-invalid");
    assert_eq!(issuer.api.calls(), 0);
    // Who gets a machine where a user is required is refused as a mismatch too.
    let jwt_machine = authenticate(&v, AcceptsToken::ANY, &m2m_jwt);
    let r = adapter::signed_in(jwt_machine).unwrap_err();
    assert_eq!((r.status(), r.reason()), (401, "token-type-mismatch"));
}

#[test]
fn revoked_expired_unknown_and_forged_tokens_are_refused() {
    let issuer = issuer();
    let v = verifier(&issuer);
    let any = AcceptsToken::ANY;

    // Revoked after a first use: refused, and remembered (no second call).
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    machine(authenticate(&v, any, &key));
    issuer.api.revoke(&key);
    assert_eq!(refused(authenticate(&v, any, &key)), (401, "token-invalid"));
    let calls = issuer.api.calls();
    assert_eq!(refused(authenticate(&v, any, &key)), (401, "token-invalid"));
    assert_eq!(issuer.api.calls(), calls, "a refusal is remembered");
    assert_eq!(v.machine_stats().refused_from_memory, 1);

    // Expired: opaque (the API says 404) and JWT forms (Clerk's token-verification-failed).
    let old = issuer
        .api
        .mint(OpaqueToken::m2m("mch_1").expires_at((now() - 60) * 1000));
    assert_eq!(refused(authenticate(&v, any, &old)), (401, "token-invalid"));
    let old_jwt = TokenBuilder::m2m("mch_1", now() - 7200).sign(fixtures::rsa2048());
    let a = authenticate(&v, any, &old_jwt);
    assert_eq!(refused(a.clone()), (401, "token-verification-failed"));
    assert!(a.debug_headers().len() == 2);
    let old_oauth = TokenBuilder::oauth("user_1", now() - 7200).sign(fixtures::rsa2048());
    assert_eq!(
        refused(authenticate(&v, any, &old_oauth)),
        (401, "token-verification-failed")
    );

    // Unknown to the API: one call, then remembered.
    let made_up = "oat_a1B2c3D4e5F6g7H8i9J0";
    let calls = issuer.api.calls();
    assert_eq!(
        refused(authenticate(&v, any, made_up)),
        (401, "token-invalid")
    );
    assert_eq!(
        refused(authenticate(&v, any, made_up)),
        (401, "token-invalid")
    );
    assert_eq!(issuer.api.calls(), calls + 1);

    // Forged JWT forms: another key, a session category, a stripped signature.
    let forged = TokenBuilder::m2m("mch_1", now())
        .header("kid", fixtures::rsa2048().kid())
        .sign(fixtures::rsa2048_b());
    assert_eq!(
        refused(authenticate(&v, any, &forged)),
        (401, "token-verification-failed")
    );
    let wrong_cat = TokenBuilder::m2m("mch_1", now())
        .header("cat", "cl_B7d4PD111AAA")
        .sign(fixtures::rsa2048());
    assert_eq!(
        refused(authenticate(&v, any, &wrong_cat)),
        (401, "token-invalid")
    );
    let none = TokenBuilder::oauth("user_1", now())
        .header("alg", "none")
        .unsigned();
    assert_eq!(
        refused(authenticate(&v, any, &none)),
        (401, "token-verification-failed")
    );
    // An audience is checked when configured: a machine JWT for another audience is refused.
    let strict = Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default().audience(["api.example"]),
    )
    .unwrap();
    let other = TokenBuilder::m2m("mch_1", now())
        .claim("aud", "elsewhere")
        .sign(fixtures::rsa2048());
    assert_eq!(
        refused(authenticate(&strict, any, &other)),
        (401, "token-verification-failed")
    );
    let ours = TokenBuilder::m2m("mch_1", now())
        .claim("aud", "api.example")
        .sign(fixtures::rsa2048());
    machine(authenticate(&strict, any, &ours));

    // Shapes that cannot be Clerk's: refused without a call, and not remembered.
    let calls = issuer.api.calls();
    for junk in [
        "ak_short",
        "ak_has-dash-1234567890",
        "mt_",
        &format!("ak_{}", "a".repeat(129)),
    ] {
        assert_eq!(
            refused(authenticate(&v, any, junk)),
            (401, "token-invalid"),
            "{junk}"
        );
    }
    assert_eq!(issuer.api.calls(), calls);
    // Nothing printed holds a token.
    let fresh = issuer.api.mint(OpaqueToken::api_key("user_1"));
    let a = authenticate(&v, any, &fresh);
    assert!(!format!("{a:?}").contains(&fresh[3..]), "{a:?}");
    let a = authenticate(&v, any, &key);
    assert!(!format!("{a:?}").contains(&key[3..]) && !a.reason().is_empty());
}

#[test]
fn an_outage_is_a_503_never_a_sign_out() {
    let issuer = issuer();
    let v = verifier(&issuer);
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    for fault in [
        Fault::Status(500),
        Fault::Status(503),
        Fault::Status(429),
        Fault::Garbage,
        Fault::CloseImmediately,
    ] {
        issuer.api.set_fault(fault.clone());
        let a = authenticate(&v, AcceptsToken::API_KEY, &key);
        assert_eq!(
            refused(a.clone()),
            (503, "backend-api-unavailable"),
            "{fault:?}"
        );
        // Optional session routes do not turn it into an anonymous visitor either.
        let optional = v.authenticate_request_accepting(
            AcceptsToken::ANY,
            Some(&format!("Bearer {key}")),
            None,
        );
        assert_eq!(adapter::optional(optional).unwrap_err().status(), 503);
    }
    // A wrong secret key is the server's configuration (500), not the token's.
    issuer.api.set_fault(Fault::None);
    let wrong = verifier_with(machine_options(&issuer).secret_key("sk_test_wrong"), None);
    assert_eq!(
        refused(authenticate(&wrong, AcceptsToken::ANY, &key)),
        (500, "secret-key-invalid")
    );
    // No secret key at all: 500, and no call.
    let calls = issuer.api.calls();
    let none = verifier_with(MachineOptions::default().api_url(issuer.server.url()), None);
    assert_eq!(
        refused(authenticate(&none, AcceptsToken::ANY, &key)),
        (500, "config-invalid")
    );
    assert_eq!(issuer.api.calls(), calls);
    // Failures are not remembered: healed, the token works at once.
    machine(authenticate(&v, AcceptsToken::ANY, &key));

    // The API gone (nothing listens): 503.
    let url = issuer.server.url();
    drop(issuer);
    let gone = Verifier::from_jwks(
        &fixtures::rsa2048().jwks_json(),
        VerifyOptions::default().machine(
            MachineOptions::default()
                .secret_key(SECRET)
                .api_url(url)
                .timeout(TIMEOUT),
        ),
    )
    .unwrap();
    assert_eq!(
        refused(authenticate(&gone, AcceptsToken::ANY, &key)),
        (503, "backend-api-unavailable")
    );
}

#[test]
fn a_slow_api_is_answered_within_the_timeout() {
    let issuer = issuer();
    let v = verifier(&issuer);
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    issuer.api.set_fault(Fault::Delay(Duration::from_secs(5)));
    let start = Instant::now();
    let a = authenticate(&v, AcceptsToken::API_KEY, &key);
    let took = start.elapsed();
    assert_eq!(refused(a), (503, "backend-api-unavailable"));
    assert!(took < TIMEOUT + Duration::from_millis(1500), "{took:?}");
    // Async, through the step every adapter runs: the same bound.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    let header = format!("Bearer {key}");
    let step = v.authenticate_headers_accepting(AcceptsToken::API_KEY, Some(header.as_bytes()), []);
    assert!(matches!(step, Step::Blocking(_)));
    let a = rt.block_on(step.finish(tokio::task::spawn_blocking));
    assert_eq!(refused(a), (503, "backend-api-unavailable"));
    assert!(start.elapsed() < TIMEOUT + Duration::from_millis(1500));
}

#[test]
fn fifty_concurrent_requests_with_one_token_make_one_call() {
    let issuer = issuer();
    let v = verifier(&issuer);
    let key = issuer.api.mint(OpaqueToken::m2m("mch_1").scopes(["read"]));
    // Slow enough that every request arrives while the call is in flight.
    issuer
        .api
        .set_fault(Fault::Delay(Duration::from_millis(300)));
    let header = format!("Bearer {key}");
    // On a current-thread runtime: fifty tasks wait together on one thread, so none of them
    // may hold it while the call runs (and no spawn_blocking is needed).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = rt.block_on(async {
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let step = v.authenticate_headers_accepting(
                    AcceptsToken::MACHINES,
                    Some(header.as_bytes()),
                    [],
                );
                tokio::spawn(
                    step.finish(|_| async { Err::<Authentication, _>("no blocking pool") }),
                )
            })
            .collect();
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    });
    for a in answers {
        assert!(machine(a).has_scope("read"));
    }
    assert_eq!(issuer.api.calls(), 1);
    let stats = v.machine_stats();
    assert_eq!((stats.calls, stats.joined), (1, 49));

    // Blocking callers share a call the same way.
    let other = issuer.api.mint(OpaqueToken::api_key("user_1"));
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..50)
            .map(|_| s.spawn(|| authenticate(&v, AcceptsToken::API_KEY, &other)))
            .collect();
        for w in workers {
            machine(w.join().unwrap());
        }
    });
    assert_eq!(issuer.api.calls(), 2);
}

#[test]
fn a_flood_of_made_up_api_keys_spends_bounded_calls_and_memory() {
    let issuer = issuer();
    let budget = 20;
    let remembered = 100;
    let v = verifier_with(
        machine_options(&issuer)
            .calls_per_second(budget)
            .refused(remembered, Duration::from_secs(60)),
        None,
    );
    let start = Instant::now();
    let mut reasons = std::collections::BTreeMap::new();
    for i in 0..2_000 {
        // Half cannot be Clerk's at all; half look like API keys.
        let token = if i % 2 == 0 {
            format!("ak_{i}-junk")
        } else {
            format!("ak_madeup{i:0>12}x")
        };
        *reasons
            .entry(authenticate(&v, AcceptsToken::API_KEY, &token).reason())
            .or_insert(0) += 1;
    }
    let seconds = start.elapsed().as_secs() as usize + 1;
    let calls = issuer.api.calls();
    assert!(
        calls <= budget as usize * (1 + seconds),
        "{calls} calls in {seconds} s"
    );
    assert!(calls >= 1);
    let stats = v.machine_stats();
    assert_eq!(stats.calls as usize, calls);
    assert_eq!(stats.malformed, 1_000);
    assert!(stats.refused_remembered <= remembered, "{stats:?}");
    assert_eq!(reasons["backend-api-unavailable"] as u64, stats.shed);
    assert_eq!(reasons["token-invalid"], 1_000 + calls);
    assert_eq!(stats.in_flight, 0);
}

#[test]
fn calls_in_flight_are_bounded_and_the_rest_wait_a_bounded_time() {
    let issuer = issuer();
    let v = verifier_with(
        machine_options(&issuer)
            .max_in_flight(2)
            .max_queued(2)
            .queue_wait(Duration::from_millis(100)),
        None,
    );
    let tokens: Vec<String> = (0..6)
        .map(|_| issuer.api.mint(OpaqueToken::api_key("user_1")))
        .collect();
    issuer
        .api
        .set_fault(Fault::Delay(Duration::from_millis(400)));
    let start = Instant::now();
    let answers: Vec<Authentication> = std::thread::scope(|s| {
        let workers: Vec<_> = tokens
            .iter()
            .map(|t| {
                let v = &v;
                let w = s.spawn(move || authenticate(v, AcceptsToken::API_KEY, t));
                std::thread::sleep(Duration::from_millis(20));
                w
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let verified = answers.iter().filter(|a| a.machine().is_some()).count();
    let unavailable = answers
        .iter()
        .filter(|a| a.reason() == "backend-api-unavailable")
        .count();
    assert_eq!((verified, unavailable), (2, 4));
    assert_eq!(
        issuer.api.calls(),
        2,
        "only the calls that had a slot were made"
    );
    assert!(start.elapsed() < Duration::from_millis(400) + TIMEOUT + Duration::from_secs(1));
    assert_eq!(v.machine_stats().in_flight, 0);
}

#[test]
fn the_result_cache_is_off_by_default_and_bounded_by_ttl_and_expiration() {
    let issuer = issuer();
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    // Off: every request calls.
    let v = verifier(&issuer);
    machine(authenticate(&v, AcceptsToken::API_KEY, &key));
    machine(authenticate(&v, AcceptsToken::API_KEY, &key));
    assert_eq!(issuer.api.calls(), 2);

    // On, with a 10 s TTL: a revoked key keeps working until the TTL passes (documented).
    let clock = ManualClock::at_unix(now());
    let cached = verifier_with(
        machine_options(&issuer).result_cache(100, Duration::from_secs(10)),
        Some(&clock),
    );
    machine(authenticate(&cached, AcceptsToken::API_KEY, &key));
    issuer.api.revoke(&key);
    clock.advance(Duration::from_secs(9));
    machine(authenticate(&cached, AcceptsToken::API_KEY, &key));
    assert_eq!(issuer.api.calls(), 3);
    assert_eq!(cached.machine_stats().cache_hits, 1);
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        refused(authenticate(&cached, AcceptsToken::API_KEY, &key)),
        (401, "token-invalid")
    );
    assert_eq!(issuer.api.calls(), 4);

    // An entry never outlives the token's expiration, whatever the TTL.
    let short = issuer
        .api
        .mint(OpaqueToken::m2m("mch_1").expires_in(Duration::from_secs(3)));
    let clock = ManualClock::at_unix(now());
    let cached = verifier_with(
        machine_options(&issuer).result_cache(100, Duration::from_secs(60)),
        Some(&clock),
    );
    machine(authenticate(&cached, AcceptsToken::M2M_TOKEN, &short));
    clock.advance(Duration::from_secs(1));
    machine(authenticate(&cached, AcceptsToken::M2M_TOKEN, &short));
    assert_eq!(cached.machine_stats().cache_hits, 1);
    // Past its expiration (and the clock skew) on the verifier's clock: asked again, and
    // refused as expired even though the API, on the real clock, still vouches for it.
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        refused(authenticate(&cached, AcceptsToken::M2M_TOKEN, &short)),
        (401, "token-invalid")
    );
    assert_eq!(cached.machine_stats().cache_hits, 1);
}

#[test]
fn scopes_are_required_like_roles() {
    let issuer = issuer();
    let v = verifier(&issuer);
    let key = issuer
        .api
        .mint(OpaqueToken::api_key("user_1").scopes(["read"]));
    let session = TokenBuilder::session("user_1", now()).sign(fixtures::rsa2048());
    let policy = Policy::new().scope("read");
    assert!(adapter::permitted(authenticate(&v, AcceptsToken::ANY, &key), &policy).is_ok());
    let write = Policy::new().scope("write");
    let r = adapter::permitted(authenticate(&v, AcceptsToken::ANY, &key), &write).unwrap_err();
    assert_eq!((r.status(), r.reason()), (403, "missing-scope"));
    assert_eq!(
        r.www_authenticate(),
        Some("Bearer error=\"insufficient_scope\"")
    );
    // A session has no scopes; a machine no role.
    let r = adapter::permitted(authenticate(&v, AcceptsToken::ANY, &session), &policy).unwrap_err();
    assert_eq!((r.status(), r.reason()), (403, "missing-scope"));
    let admin = Policy::new().role("org:admin");
    let r = adapter::permitted(authenticate(&v, AcceptsToken::ANY, &key), &admin).unwrap_err();
    assert_eq!((r.status(), r.reason()), (403, "missing-role"));
    // Typed: HasScope.
    struct Read;
    impl clerk_verify::request::Scope for Read {
        const SCOPE: &'static str = "read";
    }
    struct Write;
    impl clerk_verify::request::Scope for Write {
        const SCOPE: &'static str = "write";
    }
    use clerk_verify::request::HasScope;
    assert!(adapter::machine_required::<HasScope<Read>>(authenticate(
        &v,
        AcceptsToken::API_KEY,
        &key
    ))
    .is_ok());
    let r =
        adapter::machine_required::<HasScope<Write>>(authenticate(&v, AcceptsToken::API_KEY, &key))
            .unwrap_err();
    assert_eq!(r.reason(), "missing-scope");
    // "A session or a machine".
    let p = adapter::session_or_machine(authenticate(&v, AcceptsToken::ANY, &session)).unwrap();
    assert_eq!((p.token_type(), p.subject()), ("session_token", "user_1"));
}
