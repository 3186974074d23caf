//! The contract every adapter's machine routes meet (API keys, M2M and OAuth access tokens),
//! written once and run over real HTTP against any app: [`MachineIssuer`], a dev issuer whose
//! Backend API answers for the opaque tokens it mints, and [`check_machine_routes`], which
//! sends every kind, valid (opaque and JWT forms) and not (wrong kind, revoked, expired,
//! unknown, forged, made up), a session token, no token, a missing scope, an API that is down
//! or slow, and fifty requests with one opaque token at once, and checks what the app answers
//! and how many Backend API calls it made.
//!
//! The app under test verifies with the fixture key ([`fixtures::rsa2048`], served by the
//! issuer) and the issuer's secret keys: [`MachineIssuer::env`] for an app that reads the
//! environment, or [`MachineIssuer::SECRET_KEY`], [`MachineIssuer::MACHINE_SECRET_KEY`] and
//! [`MachineIssuer::api_url`] for one configured in code.

use crate::backend::{BackendApi, OpaqueToken};
use crate::client::{exchange, HttpReply};
use crate::fault::Fault;
use crate::fixtures;
use crate::mint::{now_unix, TokenBuilder};
use crate::server::JwksServer;
use serde_json::{json, Value};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// How much later than the app's Backend API timeout a slow API's 503 may come (queueing,
/// scheduling on a loaded machine, the HTTP exchange).
const SLACK: Duration = Duration::from_millis(2500);
/// The scope the [`MachineRoutes::scoped`] route requires.
pub const SCOPE: &str = "write";

/// A dev issuer for machine tokens: a [`JwksServer`] serving the fixture key's JWKS (at
/// `/v1/jwks` too, so `CLERK_SECRET_KEY` with `CLERK_API_URL` finds it) and a [`BackendApi`]
/// that requires the secret key (or, for M2M tokens, the machine secret key). Stops when
/// dropped.
#[derive(Debug)]
pub struct MachineIssuer {
    /// The server (JWKS and the Backend API's verify endpoints).
    pub server: JwksServer,
    /// Its Backend API: mint, revoke, count calls, inject faults.
    pub api: Arc<BackendApi>,
}

impl MachineIssuer {
    /// The secret key the Backend API requires (`CLERK_SECRET_KEY`).
    pub const SECRET_KEY: &'static str = "sk_test_machineContractSECRET0123";
    /// The machine secret key it also takes for M2M tokens (`CLERK_MACHINE_SECRET_KEY`).
    pub const MACHINE_SECRET_KEY: &'static str = "ak_machineContractSECRETm2m01234";

    /// Starts the issuer on 127.0.0.1.
    pub fn start() -> MachineIssuer {
        let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
        let api = server.serve_backend_api(
            BackendApi::new()
                .secret_key(MachineIssuer::SECRET_KEY)
                .machine_secret_key(MachineIssuer::MACHINE_SECRET_KEY),
        );
        MachineIssuer { server, api }
    }

    /// The Backend API's base URL (`CLERK_API_URL`).
    pub fn api_url(&self) -> String {
        self.server.url()
    }

    /// The environment of an app that verifies with this issuer: `CLERK_SECRET_KEY`,
    /// `CLERK_MACHINE_SECRET_KEY` and `CLERK_API_URL` (the session keys come from the same
    /// Backend API's JWKS).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CLERK_SECRET_KEY", MachineIssuer::SECRET_KEY.to_owned()),
            (
                "CLERK_MACHINE_SECRET_KEY",
                MachineIssuer::MACHINE_SECRET_KEY.to_owned(),
            ),
            ("CLERK_API_URL", self.api_url()),
        ]
    }

    /// [`MachineIssuer::env`] as a lookup, for an app configured in code with
    /// `Verifier::from_lookup(issuer.lookup())`, as a seed app is from its environment.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> {
        let env = self.env();
        move |name| env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }
}

/// The `GET` routes of an app under [`check_machine_routes`], as paths (`/api/machine`).
/// Machine routes answer 200 with `{"tokenType":…,"subject":…,"scopes":[…]}`, keys in this
/// order (the seed apps' `/api/machine` body).
#[derive(Debug, Clone, Default)]
pub struct MachineRoutes {
    /// Any machine kind (API keys, M2M and OAuth access tokens).
    pub machine: String,
    /// API keys only (e.g. `ClerkMachine<ApiKeys>`).
    pub api_keys: Option<String>,
    /// Any machine kind granted the scope [`SCOPE`] (e.g. `RequireScope<Write>`).
    pub scoped: Option<String>,
    /// A session or a machine: 200 `{"tokenType":…,"subject":…}`.
    pub principal: Option<String>,
    /// Two extractors of any machine kind on one route (one with the scope [`SCOPE`]): one
    /// verification, one Backend API call, for both.
    pub twice: Option<String>,
}

impl MachineRoutes {
    /// An adapter's test app: `/machine`, `/api-keys`, `/scoped`, `/principal` and `/twice`.
    pub fn all() -> MachineRoutes {
        MachineRoutes {
            machine: "/machine".to_owned(),
            api_keys: Some("/api-keys".to_owned()),
            scoped: Some("/scoped".to_owned()),
            principal: Some("/principal".to_owned()),
            twice: Some("/twice".to_owned()),
        }
    }

    /// Only the route for any machine kind, at `path` (a seed app's `/api/machine`).
    pub fn machine(path: &str) -> MachineRoutes {
        MachineRoutes {
            machine: path.to_owned(),
            ..MachineRoutes::default()
        }
    }
}

/// `GET base+path`, with `Authorization: Bearer <token>` when a token is given.
fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> HttpReply {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .as_deref()
        .map(|b| ("Authorization", b))
        .into_iter()
        .collect();
    exchange(addr, "GET", path, &headers, b"")
        .unwrap_or_else(|e| panic!("GET {path} on {addr}: {e}"))
}

/// The body a machine route answers, keys in order.
fn machine_body(token_type: &str, subject: &str, scopes: &[&str]) -> String {
    format!(
        r#"{{"tokenType":{},"subject":{},"scopes":{}}}"#,
        json!(token_type),
        json!(subject),
        json!(scopes)
    )
}

fn assert_machine(r: &HttpReply, token_type: &str, subject: &str, scopes: &[&str]) {
    assert_eq!(r.status, 200, "{token_type} {subject}: {}", r.body);
    assert_eq!(r.body, machine_body(token_type, subject, scopes));
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        r.header("content-type")
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
}

/// A refusal: its status, the JSON body of every Clerk adapter, and the token not echoed.
fn assert_refused(r: &HttpReply, status: u16, reason: &str, token: Option<&str>) {
    assert_eq!(r.status, status, "{reason}: {}", r.body);
    let v: Value = r.json();
    let error = match status {
        401 => "unauthorized",
        403 => "forbidden",
        503 => "service_unavailable",
        _ => "internal_server_error",
    };
    assert_eq!(
        (v["error"].as_str(), v["reason"].as_str()),
        (Some(error), Some(reason)),
        "{}",
        r.body
    );
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    let challenge = match (status, token) {
        (401, Some(_)) => Some("Bearer error=\"invalid_token\""),
        (401, None) => Some("Bearer"),
        (403, _) => Some("Bearer error=\"insufficient_scope\""),
        _ => None,
    };
    assert_eq!(r.header("www-authenticate"), challenge, "{reason}");
    if let Some(token) = token {
        assert!(!r.body.contains(token), "the token is echoed: {}", r.body);
    }
}

/// Runs the machine contract against the app at `base` (`http://127.0.0.1:PORT`) whose routes
/// are `routes`, verifying with `issuer` ([`MachineIssuer::env`]) and a Backend API timeout of
/// `timeout` (the app's; `MachineOptions`' default is 3 s), with `MachineOptions`' default
/// bound on calls per second (its flood of made-up keys counts on it). Leaves the API healed.
/// Panics (a test failure) on the first answer that differs.
pub fn check_machine_routes(
    issuer: &MachineIssuer,
    base: &str,
    routes: &MachineRoutes,
    timeout: Duration,
) {
    let addr = socket_addr(base);
    let api = &issuer.api;
    let key = fixtures::rsa2048();
    let now = now_unix();
    let route = routes.machine.as_str();
    let calls = || api.calls();

    // No token; a session token; a machine token in a cookie (machine tokens come from the
    // Authorization header only).
    assert_refused(&get(addr, route, None), 401, "machine-token-missing", None);
    let session = TokenBuilder::session("user_session", now).sign(key);
    let r = get(addr, route, Some(&session));
    assert_refused(&r, 401, "token-type-mismatch", Some(&session));

    // Every kind, opaque (one Backend API call each) and JWT forms (none).
    let ak = api.mint(OpaqueToken::api_key("user_contract").scopes(["read"]));
    let mt = api.mint(OpaqueToken::m2m("mch_contract").scopes(["read", SCOPE]));
    let oat = api.mint(OpaqueToken::oauth("user_oauth", "oauth_app_1").scopes(["email"]));
    let before = calls();
    assert_machine(
        &get(addr, route, Some(&ak)),
        "api_key",
        "user_contract",
        &["read"],
    );
    assert_machine(
        &get(addr, route, Some(&mt)),
        "m2m_token",
        "mch_contract",
        &["read", SCOPE],
    );
    assert_machine(
        &get(addr, route, Some(&oat)),
        "oauth_token",
        "user_oauth",
        &["email"],
    );
    assert_eq!(calls(), before + 3, "one Backend API call per opaque token");
    let m2m_jwt = TokenBuilder::m2m("mch_jwt", now)
        .claim("scopes", "read write")
        .sign(key);
    let oauth_jwt = TokenBuilder::oauth("user_jwt", now)
        .claim("scp", json!(["profile"]))
        .sign(key);
    assert_machine(
        &get(addr, route, Some(&m2m_jwt)),
        "m2m_token",
        "mch_jwt",
        &["read", "write"],
    );
    assert_machine(
        &get(addr, route, Some(&oauth_jwt)),
        "oauth_token",
        "user_jwt",
        &["profile"],
    );
    assert_eq!(calls(), before + 3, "JWT forms are verified locally");
    let jar = format!("__session={mt}; __client_uat={}", now - 60);
    let r = exchange(addr, "GET", route, &[("Cookie", &jar)], b"").unwrap();
    assert_refused(&r, 401, "machine-token-missing", None);

    // The wrong kind: refused before any call.
    if let Some(api_keys) = &routes.api_keys {
        assert_machine(
            &get(addr, api_keys, Some(&ak)),
            "api_key",
            "user_contract",
            &["read"],
        );
        let before = calls();
        for other in [&mt, &oat, &m2m_jwt, &oauth_jwt, &session] {
            let r = get(addr, api_keys, Some(other));
            assert_refused(&r, 401, "token-type-mismatch", Some(other));
        }
        assert_eq!(calls(), before, "a kind not accepted costs no call");
    }

    // Revoked, expired, unknown, forged.
    let revoked = api.mint(OpaqueToken::api_key("user_revoked"));
    assert_eq!(get(addr, route, Some(&revoked)).status, 200);
    assert!(api.revoke(&revoked));
    assert_refused(
        &get(addr, route, Some(&revoked)),
        401,
        "token-invalid",
        Some(&revoked),
    );
    let expired = api.mint(OpaqueToken::m2m("mch_old").expires_at((now - 60) * 1000));
    assert_refused(
        &get(addr, route, Some(&expired)),
        401,
        "token-invalid",
        Some(&expired),
    );
    for old in [
        TokenBuilder::m2m("mch_old", now - 7200).sign(key),
        TokenBuilder::oauth("user_old", now - 7200).sign(key),
    ] {
        let r = get(addr, route, Some(&old));
        assert_refused(&r, 401, "token-verification-failed", Some(&old));
    }
    for unknown in [
        "ak_UnknownToTheApi0123456789abcdefgh",
        "mt_UnknownToTheApi0123456789abcdefgh",
        "oat_UnknownToTheApi0123456789abcdefg",
    ] {
        let r = get(addr, route, Some(unknown));
        assert_refused(&r, 401, "token-invalid", Some(unknown));
    }
    let forged = TokenBuilder::m2m("mch_contract", now)
        .header("kid", key.kid())
        .sign(fixtures::rsa2048_b());
    let unsigned = TokenBuilder::oauth("user_oauth", now)
        .header("alg", "none")
        .unsigned();
    for forged in [forged, unsigned] {
        let r = get(addr, route, Some(&forged));
        assert_refused(&r, 401, "token-verification-failed", Some(&forged));
    }

    // Made-up tokens: one that cannot be Clerk's costs no call; one that could costs one, and
    // its refusal is remembered (sent again, no call).
    let before = calls();
    for i in 0..40 {
        let junk = format!("ak_{i}-not-a-key");
        assert_refused(
            &get(addr, route, Some(&junk)),
            401,
            "token-invalid",
            Some(&junk),
        );
    }
    assert_eq!(
        calls(),
        before,
        "a token that cannot be Clerk's costs no call"
    );
    let made_up: Vec<String> = (0..20).map(|i| format!("ak_madeUp{i:0>24}")).collect();
    for _ in 0..2 {
        for token in &made_up {
            assert_refused(
                &get(addr, route, Some(token)),
                401,
                "token-invalid",
                Some(token),
            );
        }
    }
    assert_eq!(calls(), before + made_up.len(), "a refusal is remembered");

    // A scope requirement.
    if let Some(scoped) = &routes.scoped {
        assert_machine(
            &get(addr, scoped, Some(&mt)),
            "m2m_token",
            "mch_contract",
            &["read", SCOPE],
        );
        assert_refused(
            &get(addr, scoped, Some(&ak)),
            403,
            "missing-scope",
            Some(&ak),
        );
        assert_refused(&get(addr, scoped, None), 401, "machine-token-missing", None);
        let r = get(addr, scoped, Some(&session));
        assert_refused(&r, 401, "token-type-mismatch", Some(&session));
    }

    // A session or a machine.
    if let Some(principal) = &routes.principal {
        let body = |token_type: &str, subject: &str| {
            format!(
                r#"{{"tokenType":{},"subject":{}}}"#,
                json!(token_type),
                json!(subject)
            )
        };
        let r = get(addr, principal, Some(&session));
        assert_eq!(
            (r.status, r.body),
            (200, body("session_token", "user_session"))
        );
        let r = get(addr, principal, Some(&ak));
        assert_eq!((r.status, r.body), (200, body("api_key", "user_contract")));
        let r = get(addr, principal, Some(&m2m_jwt));
        assert_eq!((r.status, r.body), (200, body("m2m_token", "mch_jwt")));
        assert_eq!(get(addr, principal, None).status, 401);
    }

    // Two extractors of one request: one verification.
    if let Some(twice) = &routes.twice {
        let fresh = api.mint(OpaqueToken::m2m("mch_twice").scopes([SCOPE]));
        let before = calls();
        assert_machine(
            &get(addr, twice, Some(&fresh)),
            "m2m_token",
            "mch_twice",
            &[SCOPE],
        );
        assert_eq!(calls(), before + 1, "two extractors, one Backend API call");
    }

    // Fifty requests with one opaque token at once: one call. The API is slow enough that
    // every request arrives while the call is in flight.
    let shared = api.mint(OpaqueToken::m2m("mch_fifty").scopes(["read"]));
    api.set_fault(Fault::Delay((timeout / 2).min(Duration::from_millis(1500))));
    let before = calls();
    let start = Arc::new(Barrier::new(50));
    let replies: Vec<HttpReply> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..50)
            .map(|_| {
                let start = Arc::clone(&start);
                let shared = shared.as_str();
                s.spawn(move || {
                    start.wait();
                    get(addr, route, Some(shared))
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    api.set_fault(Fault::None);
    for r in &replies {
        assert_machine(r, "m2m_token", "mch_fifty", &["read"]);
    }
    assert_eq!(calls(), before + 1, "fifty requests, one Backend API call");

    // The Backend API down: 503, never a sign-out; failures are not remembered.
    let fresh = api.mint(OpaqueToken::api_key("user_outage").scopes(["read"]));
    for fault in [
        Fault::Status(503),
        Fault::Status(500),
        Fault::CloseImmediately,
    ] {
        api.set_fault(fault.clone());
        let r = get(addr, route, Some(&fresh));
        assert_refused(&r, 503, "backend-api-unavailable", Some(&fresh));
        assert!(!r.body.contains("127.0.0.1"), "{fault:?}: {}", r.body);
    }
    api.set_fault(Fault::None);
    assert_machine(
        &get(addr, route, Some(&fresh)),
        "api_key",
        "user_outage",
        &["read"],
    );

    // The Backend API slow: 503 within the app's timeout and some slack.
    let slow = api.mint(OpaqueToken::oauth("user_slow", "oauth_app_1"));
    api.set_fault(Fault::Delay(timeout + Duration::from_secs(3)));
    let started = Instant::now();
    let r = get(addr, route, Some(&slow));
    let took = started.elapsed();
    api.set_fault(Fault::None);
    assert_refused(&r, 503, "backend-api-unavailable", Some(&slow));
    assert!(
        took < timeout + SLACK,
        "a slow Backend API answered after {took:?}"
    );

    // A flood of made-up keys of Clerk's shape, from ten clients at once: each is refused
    // (401) or shed (503), never let in, and the Backend API sees at most the bound on calls
    // per second (MachineOptions' default: a burst of 100, then 100 a second).
    let before = calls();
    let started = Instant::now();
    let replies: Vec<(String, HttpReply)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..10)
            .map(|w| {
                s.spawn(move || {
                    (0..25)
                        .map(|i| {
                            let token = format!("ak_flood{w:0>4}{i:0>16}");
                            let reply = get(addr, route, Some(&token));
                            (token, reply)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    for (token, r) in &replies {
        match r.status {
            401 => assert_refused(r, 401, "token-invalid", Some(token)),
            _ => assert_refused(r, 503, "backend-api-unavailable", Some(token)),
        }
    }
    let bound = 100 + (100.0 * elapsed).ceil() as usize;
    assert!(
        calls() - before <= bound,
        "{} Backend API calls for {} made-up keys in {elapsed:.2} s (bound {bound})",
        calls() - before,
        replies.len()
    );
    // The calls' budget refills before the app serves anyone else.
    std::thread::sleep(Duration::from_millis(1100));
}

/// The socket address of `base` (`http://127.0.0.1:PORT`).
fn socket_addr(base: &str) -> SocketAddr {
    let url = url::Url::parse(base).unwrap_or_else(|e| panic!("{base}: {e}"));
    let host = url.host_str().unwrap_or("127.0.0.1").to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    (host.as_str(), port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("{base}: no address"))
}
