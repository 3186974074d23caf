//! The extractors, guards, rejection and layer, through a real axum server on 127.0.0.1.

use axum::extract::Extension;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use clerk_axum::{
    authenticate, ClerkAuth, ClerkLayer, ClerkRejection, Permission, Policy, RequirePermission,
    RequireRole, Role,
};
use clerk_dev::{fixtures, now_unix, TokenBuilder};
use clerk_verify::testing::{ColdKeys, Panicking, Unavailable};
use clerk_verify::{reason, KeySet, Verifier, VerifyOptions};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn verifier() -> Verifier {
    Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default()).unwrap()
}

fn token(sub: &str) -> String {
    TokenBuilder::session(sub, now_unix()).sign(fixtures::rsa2048())
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

mod support;

use support::Served as Server;

/// Requests to a served app, each on a fresh connection.
trait Client {
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply;
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply;
}

impl Client for Server {
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send("GET", path, headers)
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        // A fresh agent each time: no pooled connection outlives the request.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(15)))
            .build()
            .into();
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = agent.run(req.body(()).unwrap()).unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().read_to_string().unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }
}

struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

async fn me(auth: ClerkAuth) -> Json<Value> {
    Json(json!({ "userId": auth.user_id() }))
}

async fn maybe(auth: Option<ClerkAuth>) -> Json<Value> {
    Json(json!({ "userId": auth.as_ref().map(|a| a.user_id()) }))
}

struct Admin;
impl Role for Admin {
    const ROLE: &'static str = "org:admin";
}

struct ReadInvoices;
impl Permission for ReadInvoices {
    const PERMISSION: &'static str = "org:invoices:read";
}

async fn typed_admin(admin: RequireRole<Admin>) -> Json<Value> {
    Json(json!({ "userId": admin.user_id() }))
}

async fn typed_invoices(_reader: RequirePermission<ReadInvoices>) -> StatusCode {
    StatusCode::OK
}

async fn admin(auth: ClerkAuth) -> Result<StatusCode, ClerkRejection> {
    auth.require_role("org:admin")?;
    Ok(StatusCode::OK)
}

async fn invoices(auth: ClerkAuth) -> Result<StatusCode, ClerkRejection> {
    auth.require_permission("org:invoices:read")?;
    Ok(StatusCode::OK)
}

/// The core's guard on the plain `Auth`: its `Forbidden` converts with `?`.
async fn core_admin(auth: ClerkAuth) -> Result<StatusCode, ClerkRejection> {
    let auth: clerk_verify::Auth = auth.into_inner();
    auth.require_role("org:admin")?;
    Ok(StatusCode::OK)
}

/// Three extractors on one request.
async fn both(
    required: ClerkAuth,
    optional: Option<ClerkAuth>,
    admin: RequireRole<Admin>,
) -> StatusCode {
    assert_eq!(Some(&required), optional.as_ref());
    assert_eq!(admin.user_id(), required.user_id());
    StatusCode::OK
}

/// Every extractor, behind the lazy layer.
fn routes() -> Router<()> {
    Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/admin", get(admin))
        .route("/typed-admin", get(typed_admin))
        .route("/typed-invoices", get(typed_invoices))
        .route("/invoices", get(invoices))
        .route("/core-admin", get(core_admin))
        .route("/both", get(both))
        .route("/public", get(|| async { "public" }))
}

fn app(verifier: Verifier) -> Server {
    Server::start(routes().layer(ClerkLayer::new(verifier)))
}

#[test]
fn bearer_and_cookie_tokens_sign_in_with_debug_headers() {
    let app = app(verifier());
    let r = app.get("/me", &[("Authorization", &bearer(&token("user_h")))]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"userId": "user_h"}));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);

    let cookie = format!(
        "theme=dark; __session={}; __client_uat={}",
        token("user_c"),
        now_unix() - 60
    );
    let r = app.get("/me", &[("Cookie", &cookie)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"userId": "user_c"}));
    // Clerk signed the browser out (__client_uat=0, or none): the old cookie no longer gets in.
    for signed_out in [
        format!("__session={}; __client_uat=0", token("user_c")),
        format!("__session={}", token("user_c")),
    ] {
        let r = app.get("/me", &[("Cookie", &signed_out)]);
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.json()["reason"], reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer error=\"invalid_token\"")
        );
        let r = app.get("/maybe", &[("Cookie", &signed_out)]);
        assert_eq!((r.status, r.json()), (200, json!({"userId": null})));
        assert_eq!(
            r.header("x-clerk-auth-reason"),
            Some(reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT)
        );
    }
    // Signed in according to __client_uat, but no session cookie.
    let r = app.get(
        "/me",
        &[("Cookie", &format!("__client_uat={}", now_unix()))],
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN);

    // A route that does not authenticate gets no debug headers.
    let r = app.get("/public", &[("Authorization", &bearer(&token("user_h")))]);
    assert_eq!((r.status, r.body.as_str()), (200, "public"));
    assert_eq!(r.header("x-clerk-auth-status"), None);
}

#[test]
fn missing_and_invalid_tokens_are_401_with_challenge() {
    let app = app(verifier());
    let r = app.get("/me", &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );
    let v = r.json();
    assert_eq!(v["error"], "unauthorized");
    assert_eq!(v["reason"], "session-token-and-uat-missing");
    assert!(!v["message"].as_str().unwrap().is_empty());

    let expired = TokenBuilder::session("user_1", now_unix() - 3600).sign(fixtures::rsa2048());
    let r = app.get("/me", &[("Authorization", &bearer(&expired))]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(r.json()["reason"], "token-expired");
    assert_eq!(r.header("x-clerk-auth-reason"), Some("token-expired"));
    assert!(!r.body.contains(&expired));

    let r = app.get("/me", &[("Authorization", "Bearer not.a.jwt")]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "token-invalid");
}

#[test]
fn optional_auth_is_none_for_missing_or_bad_tokens() {
    let app = app(verifier());
    let r = app.get("/maybe", &[("Authorization", &bearer(&token("user_o")))]);
    assert_eq!((r.status, r.json()), (200, json!({"userId": "user_o"})));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
    for (headers, why) in [
        (&[][..], "session-token-and-uat-missing"),
        (&[("Authorization", "Bearer garbage")][..], "token-invalid"),
        (
            &[("Authorization", "Basic dXNlcjpwdw==")][..],
            "session-token-and-uat-missing",
        ),
    ] {
        let r = app.get("/maybe", headers);
        assert_eq!((r.status, r.json()), (200, json!({"userId": null})));
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
        assert_eq!(r.header("x-clerk-auth-reason"), Some(why));
        assert_eq!(r.header("www-authenticate"), None);
    }
}

#[test]
fn role_and_permission_guards_answer_403() {
    let app = app(verifier());
    let member = TokenBuilder::session("user_m", now_unix())
        .claim(
            "o",
            json!({"id": "org_1", "rol": "member", "per": "read", "fpm": "1"}),
        )
        .claim("fea", "o:invoices")
        .sign(fixtures::rsa2048());
    let member = bearer(&member);
    let r = app.get("/admin", &[("Authorization", &member)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"], "forbidden");
    assert_eq!(r.json()["reason"], "missing-role");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
    let r = app.get("/invoices", &[("Authorization", &member)]);
    assert_eq!(r.status, 200, "{}", r.body);

    let admin = TokenBuilder::session("user_a", now_unix())
        .claim("o", json!({"id": "org_1", "rol": "admin"}))
        .sign(fixtures::rsa2048());
    let admin = bearer(&admin);
    let r = app.get("/admin", &[("Authorization", &admin)]);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.get("/invoices", &[("Authorization", &admin)]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], "missing-permission");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    // The core's guard, returned with `?`, answers the same.
    let r = app.get("/core-admin", &[("Authorization", &member)]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], reason::MISSING_ROLE);
    // The typed guards answer the same.
    let r = app.get("/typed-admin", &[("Authorization", &member)]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], reason::MISSING_ROLE);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    let r = app.get("/typed-admin", &[("Authorization", &admin)]);
    assert_eq!(r.json(), json!({"userId": "user_a"}));
    let r = app.get("/typed-invoices", &[("Authorization", &member)]);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app.get("/typed-invoices", &[("Authorization", &admin)]);
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], reason::MISSING_PERMISSION);

    // Signed out: 401 before any guard.
    for path in ["/admin", "/typed-admin", "/typed-invoices"] {
        let r = app.get(path, &[]);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    }
}

/// A remote key source that is down: `Option<ClerkAuth>` still answers 503 for a request with
/// a token (an outage must not turn users anonymous), and serves one without a token.
#[test]
fn key_source_down_is_503_even_for_optional_auth() {
    let app = app(Verifier::new(Unavailable, VerifyOptions::default()).unwrap());
    let t = bearer(&token("user_1"));
    let r = app.get("/me", &[("Authorization", &t)]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"], "service_unavailable");
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    // The client is not told the cause; the operator's log is.
    assert!(!r.body.contains("connection refused"), "{}", r.body);
    let r = app.get("/maybe", &[("Authorization", &t)]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    let r = app.get("/maybe", &[]);
    assert_eq!((r.status, r.json()), (200, json!({"userId": null})));
    // A route that does not authenticate is served through the outage.
    let r = app.get("/public", &[("Authorization", &t)]);
    assert_eq!((r.status, r.body.as_str()), (200, "public"));
}

/// A key source whose fetch panics: the blocking verification task never completes.
#[test]
fn an_unfinished_verification_task_is_503_not_a_panic() {
    let app = app(Verifier::new(Panicking, VerifyOptions::default()).unwrap());
    let t = bearer(&token("user_1"));
    let r = app.get("/me", &[("Authorization", &t)]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"], "service_unavailable");
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(r.header("www-authenticate"), None);
    let r = app.get("/maybe", &[("Authorization", &t)]);
    assert_eq!(r.status, 503, "{}", r.body);
    // The server is still up.
    let r = app.get("/public", &[]);
    assert_eq!(r.status, 200);
}

/// Keys that are never cached: every verification must fetch, which may block.
fn slow_keys() -> Arc<ColdKeys> {
    let keys = KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap();
    Arc::new(ColdKeys::new(keys).fetch_delay(Duration::from_millis(20)))
}

#[test]
fn fetching_runs_off_the_executor_and_once_per_request() {
    let slow = slow_keys();
    let verifier = Verifier::new(Arc::clone(&slow), VerifyOptions::default()).unwrap();
    let guarded = Router::new()
        .route("/both", get(both))
        .route_layer(ClerkLayer::new(verifier.clone()).require_sign_in());
    let app = Server::start(
        routes()
            .nest("/guarded", guarded)
            .layer(ClerkLayer::new(verifier)),
    );
    let admin = TokenBuilder::session("user_1", now_unix())
        .claim("o", json!({"id": "org_1", "rol": "admin"}))
        .sign(fixtures::rsa2048());
    let admin = bearer(&admin);

    // Three extractors behind the layer: one verification.
    let r = app.get("/both", &[("Authorization", &admin)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!((slow.cached_calls(), slow.fetches()), (1, 1));
    // The same three behind a layer that requires sign-in first (and the outer layer): still
    // one verification.
    let r = app.get("/guarded/both", &[("Authorization", &admin)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!((slow.cached_calls(), slow.fetches()), (2, 2));

    // The non-blocking try ran on the executor; the fetches, which sleep, never did.
    assert!(slow.cached_threads().iter().all(|t| *t == app.executor));
    assert!(slow.fetch_threads().iter().all(|t| *t != app.executor));
}

#[test]
fn authenticate_reuses_the_stored_result() {
    let slow = slow_keys();
    let verifier = Verifier::new(Arc::clone(&slow), VerifyOptions::default()).unwrap();
    let (mut parts, ()) = axum::http::Request::get("/")
        .header("Authorization", bearer(&token("user_1")))
        .extension(verifier)
        .body(())
        .unwrap()
        .into_parts();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (first, second) = runtime.block_on(async {
        let first = authenticate(&mut parts, &()).await.unwrap();
        let second = authenticate(&mut parts, &()).await.unwrap();
        (first, second)
    });
    assert_eq!(first.auth().unwrap().user_id(), "user_1");
    assert_eq!(first.auth(), second.auth());
    assert_eq!(slow.fetches(), 1);
}

#[test]
fn missing_verifier_is_500_for_every_extractor() {
    let app = Server::start(routes());
    let t = bearer(&token("user_1"));
    for path in ["/me", "/maybe", "/typed-admin"] {
        let r = app.get(path, &[("Authorization", &t)]);
        assert_eq!(r.status, 500, "{path}");
        assert_eq!(r.json()["error"], "internal_server_error");
        assert_eq!(r.json()["reason"], reason::VERIFIER_MISSING);
        assert_eq!(r.header("www-authenticate"), None);
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
        assert_eq!(r.header("x-clerk-auth-reason"), Some("verifier-missing"));
        // The fix is in the log, and in the body of debug builds only (issue 24): a developer's
        // first request shows it, a release build tells clients nothing of the setup.
        for fix in ["ClerkLayer::new(verifier)", ".with_state(verifier)"] {
            assert_eq!(r.body.contains(fix), cfg!(debug_assertions), "{}", r.body);
        }
    }
    // Without a token too: a missing verifier is never mistaken for a signed-out visitor.
    let r = app.get("/maybe", &[]);
    assert_eq!(r.status, 500);
}

#[test]
fn a_verifier_as_router_state_or_extension_works() {
    let state = Server::start(
        Router::new()
            .route("/me", get(me))
            .route("/maybe", get(maybe))
            .with_state(verifier()),
    );
    let extension = Server::start(
        Router::new()
            .route("/me", get(me))
            .layer(Extension(verifier())),
    );
    for app in [&state, &extension] {
        let r = app.get("/me", &[("Authorization", &bearer(&token("user_p")))]);
        assert_eq!(r.json(), json!({"userId": "user_p"}));
        // Without the layer there are no debug headers on success, but refusals carry theirs.
        assert_eq!(r.header("x-clerk-auth-status"), None);
        let r = app.get("/me", &[]);
        assert_eq!(r.status, 401);
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    }
    let r = state.get("/maybe", &[]);
    assert_eq!(r.json(), json!({"userId": null}));
}

#[test]
fn require_sign_in_guards_a_router_but_not_preflights() {
    let api = Router::new()
        .route(
            "/ping",
            get(|| async { "pong" }).options(|| async { StatusCode::NO_CONTENT }),
        )
        .route("/me", get(me))
        .route_layer(ClerkLayer::new(verifier()).require_sign_in());
    let app = Server::start(Router::new().nest("/api", api));
    let r = app.get("/api/ping", &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "session-token-and-uat-missing");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));

    let t = bearer(&token("user_s"));
    let r = app.get("/api/ping", &[("Authorization", &t)]);
    assert_eq!((r.status, r.body.as_str()), (200, "pong"));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    let r = app.get("/api/me", &[("Authorization", &t)]);
    assert_eq!(r.json(), json!({"userId": "user_s"}));

    let r = app.send("OPTIONS", "/api/ping", &[]);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("x-clerk-auth-status"), None);
    // `route_layer`: an unknown path is not found, not unauthorized.
    let r = app.get("/api/nope", &[]);
    assert_eq!(r.status, 404);
}

#[test]
fn a_policy_guards_a_router() {
    let billing = Router::new()
        .route("/invoices", get(|| async { "invoices" }))
        .route_layer(
            ClerkLayer::new(verifier()).require(Policy::new().permission("org:invoices:read")),
        );
    let app = Server::start(Router::new().nest("/billing", billing));
    let r = app.get("/billing/invoices", &[]);
    assert_eq!(r.status, 401);
    let r = app.get(
        "/billing/invoices",
        &[("Authorization", &bearer(&token("user_1")))],
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], reason::MISSING_PERMISSION);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    let reader = TokenBuilder::session("user_r", now_unix())
        .claim(
            "o",
            json!({"id": "org_1", "rol": "member", "per": "read", "fpm": "1"}),
        )
        .claim("fea", "o:invoices")
        .sign(fixtures::rsa2048());
    let r = app.get("/billing/invoices", &[("Authorization", &bearer(&reader))]);
    assert_eq!((r.status, r.body.as_str()), (200, "invoices"));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));

    // During an outage a policy layer answers 503, never 401 or 403.
    let down = Router::new()
        .route("/invoices", get(|| async { "invoices" }))
        .route_layer(
            ClerkLayer::new(Verifier::new(Unavailable, VerifyOptions::default()).unwrap())
                .require(Policy::new().permission("org:invoices:read")),
        );
    let app = Server::start(down);
    let r = app.get("/invoices", &[("Authorization", &bearer(&reader))]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
}

#[test]
fn a_rejection_renders_the_refusal() {
    let e = ClerkRejection::forbidden("plan-missing", "needs the pro plan");
    assert_eq!(
        e.to_string(),
        "forbidden (plan-missing): needs the pro plan"
    );
    assert_eq!(
        (e.status(), e.reason()),
        (StatusCode::FORBIDDEN, "plan-missing")
    );
    assert_eq!(e.refusal().status(), 403);
    let res = e.into_response();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.headers().get("www-authenticate").unwrap(),
        "Bearer error=\"insufficient_scope\""
    );
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/json"
    );
    assert_eq!(
        res.headers().get("x-clerk-auth-status").unwrap(),
        "signed-in"
    );
    assert!(res.headers().get("x-clerk-auth-reason").is_none());
}

mod entitlements {
    use super::*;
    use clerk_axum::{
        Feature, Has, Plan, RequireFeature, RequirePlan, RequireReverification, Reverification,
        ReverificationLevel,
    };

    struct Reports;
    impl Feature for Reports {
        const FEATURE: &'static str = "o:reports";
    }

    struct Pro;
    impl Plan for Pro {
        const PLAN: &'static str = "pro";
    }

    struct Strict;
    impl ReverificationLevel for Strict {
        const REVERIFICATION: Reverification = Reverification::Strict;
    }

    async fn reports(user: RequireFeature<Reports>) -> String {
        user.user_id().to_owned()
    }

    async fn pro(_user: RequirePlan<Pro>) -> StatusCode {
        StatusCode::OK
    }

    async fn recent(_user: RequireReverification<Strict>) -> StatusCode {
        StatusCode::OK
    }

    /// Clerk's `has()` on the plain user, then the core's check returned with `?`.
    async fn export(auth: ClerkAuth) -> Result<String, ClerkRejection> {
        let exporter = auth.has(&Has::new().feature("user:export").plan("pro"));
        auth.require_reverification(Reverification::Moderate)?;
        Ok(exporter.to_string())
    }

    /// Features from `fea`, plans from `pla`, factor ages from `fva`.
    fn session(sub: &str, fea: &str, pla: &str, fva: [i64; 2]) -> String {
        let t = TokenBuilder::session(sub, now_unix())
            .claim("v", 2)
            .claim("fea", fea)
            .claim("pla", pla)
            .claim("fva", json!(fva))
            .sign(fixtures::rsa2048());
        bearer(&t)
    }

    #[test]
    fn features_plans_and_reverification_answer_403_with_clerks_hint() {
        let billing = Router::new()
            .route("/pay", get(|| async { "paid" }))
            .route_layer(
                ClerkLayer::new(verifier()).require(
                    Policy::new()
                        .plan("o:pro")
                        .reverification(Reverification::StrictMfa),
                ),
            );
        let app = Server::start(
            Router::new()
                .route("/reports", get(reports))
                .route("/pro", get(pro))
                .route("/recent", get(recent))
                .route("/export", get(export))
                .layer(ClerkLayer::new(verifier()))
                .nest("/billing", billing),
        );
        // Verified a minute ago, with both factors.
        let entitled = session("user_e", "o:reports,u:export", "o:pro", [1, 1]);
        for path in ["/reports", "/pro", "/recent", "/export", "/billing/pay"] {
            let r = app.get(path, &[("Authorization", &entitled)]);
            assert_eq!(r.status, 200, "{path}: {}", r.body);
        }
        let r = app.get("/export", &[("Authorization", &entitled)]);
        assert_eq!(r.body, "true");
        // A user feature is not an organization feature; a user plan of the same name is one.
        let other = session("user_o", "u:reports", "u:pro", [1, -1]);
        let r = app.get("/reports", &[("Authorization", &other)]);
        assert_eq!(
            (r.status, r.json()["reason"].clone()),
            (403, json!("missing-feature"))
        );
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer error=\"insufficient_scope\"")
        );
        assert!(r.json().get("clerk_error").is_none());
        assert_eq!(app.get("/pro", &[("Authorization", &other)]).status, 200);
        let r = app.get("/export", &[("Authorization", &other)]);
        assert_eq!((r.status, r.body.as_str()), (200, "false"));
        let r = app.get("/billing/pay", &[("Authorization", &other)]);
        assert_eq!(
            (r.status, r.json()["reason"].clone()),
            (403, json!("missing-plan"))
        );

        // First factor 30 minutes ago, no second factor: not `strict` (10 minutes).
        let stale = session("user_s", "u:export", "o:pro", [30, -1]);
        let r = app.get("/recent", &[("Authorization", &stale)]);
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(
            r.json(),
            json!({"error": "forbidden", "reason": "reverification-error",
                "message": r.json()["message"],
                "clerk_error": {"type": "forbidden", "reason": "reverification-error",
                    "metadata": {"reverification": "strict"}}})
        );
        assert!(r
            .body
            .starts_with(r#"{"error":"forbidden","reason":"reverification-error","message":"#));
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
        let r = app.get("/billing/pay", &[("Authorization", &stale)]);
        assert_eq!(r.status, 403);
        assert_eq!(
            r.json()["clerk_error"]["metadata"]["reverification"],
            "strict_mfa"
        );
        assert_eq!(app.get("/export", &[("Authorization", &stale)]).status, 200);
        // No `fva` at all is never recent; signed out is still 401.
        let r = app.get("/recent", &[("Authorization", &bearer(&token("user_n")))]);
        assert_eq!(
            (r.status, r.json()["reason"].clone()),
            (403, json!("reverification-error"))
        );
        assert_eq!(app.get("/recent", &[]).status, 401);
    }
}
