//! The extractor, guards, rejection and middleware, in-process through actix's test service.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{test, web, App, HttpResponse};
use clerk_actix::{
    authenticate, ClerkAuth, ClerkError, ClerkMiddleware, OptionalAuth, RequirePermission,
    RequireRole,
};
use clerk_dev::{fixtures, now_unix, TokenBuilder};
use clerk_verify::request::{Permission, Policy, Role};
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

async fn me(auth: ClerkAuth) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "userId": auth.user_id() }))
}

async fn maybe(auth: OptionalAuth) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "userId": auth.as_ref().map(|a| a.user_id()) }))
}

/// actix's own `Option`: every extractor error, outages included, becomes `None`.
async fn swallowing(auth: Option<ClerkAuth>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "userId": auth.as_ref().map(|a| a.user_id()) }))
}

struct Admin;
impl Role for Admin {
    const ROLE: &'static str = "org:admin";
}

struct ReadInvoices;
impl Permission for ReadInvoices {
    const PERMISSION: &'static str = "org:invoices:read";
}

async fn typed_admin(admin: RequireRole<Admin>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "userId": admin.user_id() }))
}

async fn typed_invoices(_reader: RequirePermission<ReadInvoices>) -> HttpResponse {
    HttpResponse::Ok().finish()
}

async fn admin(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    auth.require_role("org:admin")?;
    Ok(HttpResponse::Ok().finish())
}

async fn invoices(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    auth.require_permission("org:invoices:read")?;
    Ok(HttpResponse::Ok().finish())
}

/// The core's guard on the plain `Auth`: its `Forbidden` converts with `?`.
async fn core_admin(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    let auth: clerk_verify::Auth = auth.into_inner();
    auth.require_role("org:admin")?;
    Ok(HttpResponse::Ok().finish())
}

/// Both extractors and the middleware on one request.
async fn both(
    required: ClerkAuth,
    optional: OptionalAuth,
    admin: RequireRole<Admin>,
) -> HttpResponse {
    assert_eq!(Some(&*required), optional.as_ref());
    assert_eq!(admin.user_id(), required.user_id());
    HttpResponse::Ok().finish()
}

macro_rules! app {
    ($verifier:expr) => {
        test::init_service(
            App::new()
                .app_data(web::Data::new($verifier))
                .wrap(ClerkMiddleware::new())
                .route("/me", web::get().to(me))
                .route("/maybe", web::get().to(maybe))
                .route("/swallowing", web::get().to(swallowing))
                .route("/admin", web::get().to(admin))
                .route("/typed-admin", web::get().to(typed_admin))
                .route("/typed-invoices", web::get().to(typed_invoices))
                .route("/invoices", web::get().to(invoices))
                .route("/core-admin", web::get().to(core_admin))
                .route("/both", web::get().to(both))
                .route("/public", web::get().to(HttpResponse::Ok)),
        )
        .await
    };
}

struct Reply {
    status: StatusCode,
    headers: actix_web::http::header::HeaderMap,
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

async fn reply<B: MessageBody>(res: ServiceResponse<B>) -> Reply {
    let status = res.status();
    let headers = res.headers().clone();
    let body = test::read_body(res).await;
    Reply {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn request(path: &str, headers: &[(&str, &str)]) -> test::TestRequest {
    let mut req = test::TestRequest::get().uri(path);
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    req
}

async fn send<S, R, B>(app: &S, req: R) -> Reply
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    reply(test::call_service(app, req).await).await
}

/// `get!(&app, path, headers).await`: a GET through the test service.
macro_rules! get {
    ($app:expr, $path:expr, $headers:expr $(,)?) => {
        send($app, request($path, $headers).to_request())
    };
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

#[actix_web::test]
async fn bearer_and_cookie_tokens_sign_in_with_debug_headers() {
    let app = app!(verifier());
    let r = get!(&app, "/me", &[("Authorization", &bearer(&token("user_h")))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"userId": "user_h"}));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);

    let cookie = format!(
        "theme=dark; __session={}; __client_uat={}",
        token("user_c"),
        now_unix() - 60
    );
    let r = get!(&app, "/me", &[("Cookie", &cookie)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"userId": "user_c"}));
    // Clerk signed the browser out (__client_uat=0): the old cookie no longer gets in.
    let cookie = format!("__session={}; __client_uat=0", token("user_c"));
    let r = get!(&app, "/me", &[("Cookie", &cookie)]).await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["reason"], reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );

    // A route that does not authenticate gets no debug headers.
    let r = get!(
        &app,
        "/public",
        &[("Authorization", &bearer(&token("user_h")))],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-clerk-auth-status"), None);
}

#[actix_web::test]
async fn missing_and_invalid_tokens_are_401_with_challenge() {
    let app = app!(verifier());
    let r = get!(&app, "/me", &[]).await;
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
    let r = get!(&app, "/me", &[("Authorization", &bearer(&expired))]).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(r.json()["reason"], "token-expired");
    assert_eq!(r.header("x-clerk-auth-reason"), Some("token-expired"));
    assert!(!r.body.contains(&expired));

    let r = get!(&app, "/me", &[("Authorization", "Bearer not.a.jwt")]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "token-invalid");
}

#[actix_web::test]
async fn optional_auth_is_none_for_missing_or_bad_tokens() {
    let app = app!(verifier());
    let r = get!(
        &app,
        "/maybe",
        &[("Authorization", &bearer(&token("user_o")))],
    )
    .await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (200, json!({"userId": "user_o"}))
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    for headers in [
        &[][..],
        &[("Authorization", "Bearer garbage")][..],
        &[("Authorization", "Basic dXNlcjpwdw==")][..],
    ] {
        let r = get!(&app, "/maybe", headers).await;
        assert_eq!(
            (r.status.as_u16(), r.json()),
            (200, json!({"userId": null}))
        );
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    }
}

#[actix_web::test]
async fn role_and_permission_guards_answer_403() {
    let app = app!(verifier());
    let member = TokenBuilder::session("user_m", now_unix())
        .claim(
            "o",
            json!({"id": "org_1", "rol": "member", "per": "read", "fpm": "1"}),
        )
        .claim("fea", "o:invoices")
        .sign(fixtures::rsa2048());
    let r = get!(&app, "/admin", &[("Authorization", &bearer(&member))]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"], "forbidden");
    assert_eq!(r.json()["reason"], "missing-role");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
    let r = get!(&app, "/invoices", &[("Authorization", &bearer(&member))]).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let admin = TokenBuilder::session("user_a", now_unix())
        .claim("o", json!({"id": "org_1", "rol": "admin"}))
        .sign(fixtures::rsa2048());
    let r = get!(&app, "/admin", &[("Authorization", &bearer(&admin))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get!(&app, "/invoices", &[("Authorization", &bearer(&admin))]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], "missing-permission");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    // The core's guard, returned with `?`, answers the same.
    let r = get!(&app, "/core-admin", &[("Authorization", &bearer(&member))]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], reason::MISSING_ROLE);
    // The typed guards answer the same.
    let r = get!(&app, "/typed-admin", &[("Authorization", &bearer(&member))]).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], reason::MISSING_ROLE);
    let r = get!(&app, "/typed-admin", &[("Authorization", &bearer(&admin))]).await;
    assert_eq!(r.json(), json!({"userId": "user_a"}));
    let r = get!(
        &app,
        "/typed-invoices",
        &[("Authorization", &bearer(&member))]
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = get!(
        &app,
        "/typed-invoices",
        &[("Authorization", &bearer(&admin))]
    )
    .await;
    assert_eq!(r.json()["reason"], reason::MISSING_PERMISSION);

    // Signed out: 401 before any guard.
    let r = get!(&app, "/admin", &[]).await;
    assert_eq!(r.status, 401);
    let r = get!(&app, "/typed-admin", &[]).await;
    assert_eq!(r.status, 401);
}

/// A remote key source that is down: `OptionalAuth` still answers 503 for a request with a
/// token (an outage must not turn users anonymous), and serves one without a token.
#[actix_web::test]
async fn key_source_down_is_503_even_for_optional_auth() {
    let app = app!(Verifier::new(Unavailable, VerifyOptions::default()).unwrap());
    let t = token("user_1");
    let r = get!(&app, "/me", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"], "service_unavailable");
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    // The client is not told the cause; the operator's log is.
    assert!(!r.body.contains("connection refused"), "{}", r.body);
    let r = get!(&app, "/maybe", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    let r = get!(&app, "/maybe", &[]).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (200, json!({"userId": null}))
    );
    // actix's own `Option<ClerkAuth>` swallows the outage: why OptionalAuth exists.
    let r = get!(&app, "/swallowing", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(
        (r.status.as_u16(), r.json()),
        (200, json!({"userId": null}))
    );
}

/// A key source whose fetch panics: the blocking verification task never completes.
#[actix_web::test]
async fn an_unfinished_verification_task_is_503_not_a_panic() {
    let app = app!(Verifier::new(Panicking, VerifyOptions::default()).unwrap());
    let t = token("user_1");
    let r = get!(&app, "/me", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["error"], "service_unavailable");
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    assert_eq!(r.header("www-authenticate"), None);
    let r = get!(&app, "/maybe", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(r.status, 503, "{}", r.body);
}

/// Keys that are never cached: every verification must fetch, which may block.
fn slow_keys() -> Arc<ColdKeys> {
    let keys = KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap();
    Arc::new(ColdKeys::new(keys).fetch_delay(Duration::from_millis(20)))
}

#[actix_web::test]
async fn fetching_runs_off_the_executor_and_once_per_request() {
    let slow = slow_keys();
    let app = app!(Verifier::new(Arc::clone(&slow), VerifyOptions::default()).unwrap());
    let admin = TokenBuilder::session("user_1", now_unix())
        .claim("o", json!({"id": "org_1", "rol": "admin"}))
        .sign(fixtures::rsa2048());
    let r = get!(&app, "/both", &[("Authorization", &bearer(&admin))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    // Three extractors and the middleware, one verification.
    assert_eq!(slow.fetches(), 1);
    let executor = std::thread::current().id();
    assert!(slow.fetch_threads().iter().all(|t| *t != executor));
}

#[actix_web::test]
async fn authenticate_reuses_the_stored_result() {
    let slow = slow_keys();
    let req = test::TestRequest::get()
        .insert_header(("Authorization", bearer(&token("user_1"))))
        .app_data(Verifier::new(Arc::clone(&slow), VerifyOptions::default()).unwrap())
        .to_http_request();
    let first = authenticate(&req).await.unwrap();
    let second = authenticate(&req).await.unwrap();
    assert_eq!(first.auth().unwrap().user_id(), "user_1");
    assert_eq!(first.auth(), second.auth());
    assert_eq!(slow.fetches(), 1);
}

#[actix_web::test]
async fn missing_verifier_is_500_for_every_extractor() {
    let app = test::init_service(
        App::new()
            .route("/me", web::get().to(me))
            .route("/maybe", web::get().to(maybe)),
    )
    .await;
    let t = token("user_1");
    let r = get!(&app, "/me", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(r.status, 500);
    assert_eq!(r.json()["error"], "internal_server_error");
    assert_eq!(r.json()["reason"], "verifier-missing");
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(r.header("x-clerk-auth-reason"), Some("verifier-missing"));
    // How to add one: always in the log, and in the body of a debug build only.
    assert_eq!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains(".app_data(web::Data::new(verifier))"),
        cfg!(debug_assertions),
        "{}",
        r.body
    );
    let r = get!(&app, "/maybe", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(r.status, 500);
}

#[actix_web::test]
async fn a_plain_verifier_in_app_data_works() {
    let app = test::init_service(
        App::new()
            .app_data(verifier())
            .route("/me", web::get().to(me)),
    )
    .await;
    let r = get!(&app, "/me", &[("Authorization", &bearer(&token("user_p")))]).await;
    assert_eq!(r.json(), json!({"userId": "user_p"}));
}

#[actix_web::test]
async fn require_sign_in_guards_a_scope_but_not_preflights() {
    let app = test::init_service(
        App::new().app_data(web::Data::new(verifier())).service(
            web::scope("/api")
                .wrap(ClerkMiddleware::require_sign_in())
                .route("/ping", web::get().to(|| async { "pong" }))
                .route(
                    "/ping",
                    web::method(actix_web::http::Method::OPTIONS).to(HttpResponse::NoContent),
                )
                .route("/me", web::get().to(me)),
        ),
    )
    .await;
    let r = get!(&app, "/api/ping", &[]).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "session-token-and-uat-missing");
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));

    let t = token("user_s");
    let r = get!(&app, "/api/ping", &[("Authorization", &bearer(&t))]).await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "pong"));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    let r = get!(&app, "/api/me", &[("Authorization", &bearer(&t))]).await;
    assert_eq!(r.json(), json!({"userId": "user_s"}));

    let req = test::TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/api/ping")
        .to_request();
    let r = reply(test::call_service(&app, req).await).await;
    assert_eq!(r.status, 204);
    assert_eq!(r.header("x-clerk-auth-status"), None);
}

#[actix_web::test]
async fn a_policy_guards_a_scope() {
    let app = test::init_service(
        App::new().app_data(web::Data::new(verifier())).service(
            web::scope("/billing")
                .wrap(ClerkMiddleware::require(
                    Policy::new().permission("org:invoices:read"),
                ))
                .route("/invoices", web::get().to(|| async { "invoices" })),
        ),
    )
    .await;
    let r = get!(&app, "/billing/invoices", &[]).await;
    assert_eq!(r.status, 401);
    let plain = token("user_1");
    let r = get!(
        &app,
        "/billing/invoices",
        &[("Authorization", &bearer(&plain))]
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["reason"], reason::MISSING_PERMISSION);
    let reader = TokenBuilder::session("user_r", now_unix())
        .claim(
            "o",
            json!({"id": "org_1", "rol": "member", "per": "read", "fpm": "1"}),
        )
        .claim("fea", "o:invoices")
        .sign(fixtures::rsa2048());
    let r = get!(
        &app,
        "/billing/invoices",
        &[("Authorization", &bearer(&reader))]
    )
    .await;
    assert_eq!((r.status.as_u16(), r.body.as_str()), (200, "invoices"));
}

#[actix_web::test]
async fn status_survives_conversion_to_actix_error() {
    let e = ClerkError::forbidden("plan-missing", "needs the pro plan");
    assert_eq!(
        e.to_string(),
        "forbidden (plan-missing): needs the pro plan"
    );
    assert_eq!(e.refusal().status(), 403);
    let err: actix_web::Error = e.into();
    assert_eq!(err.as_response_error().status_code(), StatusCode::FORBIDDEN);
    let res = err.error_response();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.headers().get("www-authenticate").unwrap(),
        "Bearer error=\"insufficient_scope\""
    );
    assert_eq!(
        res.headers().get("x-clerk-auth-status").unwrap(),
        "signed-in"
    );
    assert!(res.headers().get("x-clerk-auth-reason").is_none());
    assert_eq!(res.headers().get_all("content-type").count(), 1);
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "application/json"
    );
}

mod entitlements {
    use super::*;
    use clerk_actix::{
        Feature, Plan, RequireFeature, RequirePlan, RequireReverification, Reverification,
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

    async fn reports(user: RequireFeature<Reports>) -> HttpResponse {
        HttpResponse::Ok().body(user.user_id().to_owned())
    }

    async fn pro(_user: RequirePlan<Pro>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    async fn recent(_user: RequireReverification<Strict>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    /// The core's checks on the plain user, returned with `?`.
    async fn export(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
        auth.require_feature("user:export")?;
        auth.require_reverification(Reverification::Moderate)?;
        Ok(HttpResponse::Ok().finish())
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

    #[actix_web::test]
    async fn features_plans_and_reverification_answer_403_with_clerks_hint() {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(verifier()))
                .route("/reports", web::get().to(reports))
                .route("/pro", web::get().to(pro))
                .route("/recent", web::get().to(recent))
                .route("/export", web::get().to(export))
                .service(
                    web::scope("/billing")
                        .wrap(ClerkMiddleware::require(
                            Policy::new()
                                .plan("o:pro")
                                .reverification(Reverification::StrictMfa),
                        ))
                        .route("/pay", web::get().to(|| async { "paid" })),
                ),
        )
        .await;
        // Verified a minute ago, with both factors.
        let entitled = session("user_e", "o:reports,u:export", "o:pro", [1, 1]);
        for path in ["/reports", "/pro", "/recent", "/export", "/billing/pay"] {
            let r = get!(&app, path, &[("Authorization", &entitled)]).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
        }
        // A user feature is not an organization feature; a user plan of the same name is one.
        let other = session("user_o", "u:reports", "u:pro", [1, -1]);
        let r = get!(&app, "/reports", &[("Authorization", &other)]).await;
        assert_eq!(
            (r.status.as_u16(), r.json()["reason"].clone()),
            (403, json!("missing-feature"))
        );
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer error=\"insufficient_scope\"")
        );
        assert!(r.json()["message"].as_str().unwrap().contains("o:reports"));
        assert!(r.json().get("clerk_error").is_none());
        let r = get!(&app, "/pro", &[("Authorization", &other)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = get!(&app, "/billing/pay", &[("Authorization", &other)]).await;
        assert_eq!(
            (r.status.as_u16(), r.json()["reason"].clone()),
            (403, json!("missing-plan"))
        );

        // First factor 30 minutes ago, no second factor: not `strict` (10 minutes), `moderate`
        // is fine.
        let stale = session("user_s", "u:export", "o:pro", [30, -1]);
        let r = get!(&app, "/export", &[("Authorization", &stale)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = get!(&app, "/recent", &[("Authorization", &stale)]).await;
        assert_eq!(r.status, 403, "{}", r.body);
        let body = r.json();
        assert_eq!(body["error"], "forbidden");
        assert_eq!(body["reason"], "reverification-error");
        assert_eq!(
            body["clerk_error"],
            json!({"type": "forbidden", "reason": "reverification-error",
                "metadata": {"reverification": "strict"}})
        );
        assert!(r
            .body
            .starts_with(r#"{"error":"forbidden","reason":"reverification-error","message":"#));
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
        let r = get!(&app, "/billing/pay", &[("Authorization", &stale)]).await;
        assert_eq!(r.status, 403);
        assert_eq!(
            r.json()["clerk_error"]["metadata"]["reverification"],
            "strict_mfa"
        );
        // No `fva` at all is never recent; signed out is still 401.
        let r = get!(
            &app,
            "/recent",
            &[("Authorization", &bearer(&token("user_n")))]
        )
        .await;
        assert_eq!(
            (r.status.as_u16(), r.json()["reason"].clone()),
            (403, json!("reverification-error"))
        );
        let r = get!(&app, "/recent", &[]).await;
        assert_eq!(r.status, 401);
    }
}
