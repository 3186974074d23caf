//! The guards, catchers and fairing, driven in-process through Rocket's local client (the full
//! request pipeline: guards, catchers, fairings) with a `KeySet`-based verifier.

use clerk_dev::{fixtures, TokenBuilder};
use clerk_rocket::{
    ClerkAuth, ClerkError, ClerkFairing, OptionalAuth, Permission, Require, RequirePermission,
    RequireRole, Requirement, Role,
};
use clerk_verify::request::{Forbidden, SignedOut};
use clerk_verify::testing::{ColdKeys, Panicking, Unavailable, Unresolved};
use clerk_verify::{reason, Auth, Error, KeySet, Verifier, VerifyOptions};
use rocket::http::{Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use rocket::request::{self, FromRequest, Request};
use rocket::serde::json::{json, serde_json, Value};
use rocket::{get, options, routes, Build, Rocket};
use std::sync::Arc;
use std::time::Duration;

struct Admin;
impl Role for Admin {
    const ROLE: &'static str = "org:admin";
}

struct ReadInvoices;
impl Permission for ReadInvoices {
    const PERMISSION: &'static str = "org:invoices:read";
}

/// A requirement of the app's own: members of the `acme` organization.
struct AcmeMember;
impl Requirement for AcmeMember {
    fn check(auth: &Auth) -> Result<(), Forbidden> {
        match auth.org() {
            Some(org) if org.slug.as_deref() == Some("acme") => Ok(()),
            _ => Err(Forbidden::new(
                "not-acme",
                "this route is for acme's members",
            )),
        }
    }
}

#[get("/gated")]
fn gated(auth: ClerkAuth) -> Value {
    json!({ "userId": auth.user_id() })
}

#[get("/optional")]
fn optional(auth: OptionalAuth) -> Value {
    json!({ "userId": auth.as_ref().map(|a| a.user_id()) })
}

/// Rocket's own `Option`: every failure of the guard, outages included, becomes `None`.
#[get("/swallowing")]
fn swallowing(auth: Option<ClerkAuth>) -> Value {
    json!({ "userId": auth.as_ref().map(|a| a.user_id()) })
}

#[get("/admin")]
fn admin(admin: RequireRole<Admin>) -> Value {
    json!({ "ok": true, "userId": admin.user_id() })
}

#[get("/invoices")]
fn invoices(_reader: RequirePermission<ReadInvoices>) -> Value {
    json!({ "ok": true })
}

#[get("/acme")]
fn acme(member: Require<AcmeMember>) -> Value {
    json!({ "ok": true, "userId": member.user_id() })
}

/// Several guards on one route: authentication must still run once.
#[get("/composed")]
fn composed(a: ClerkAuth, b: Option<ClerkAuth>, c: RequireRole<Admin>, d: OptionalAuth) -> Value {
    let same = b.is_some_and(|b| b == a) && c.user_id() == a.user_id() && d.as_ref() == Some(&*a);
    json!({ "same": same })
}

/// A check decided in the handler.
#[get("/dynamic/<role>")]
fn dynamic(role: &str, auth: ClerkAuth) -> Result<Value, ClerkError> {
    auth.require_role(role)?;
    Ok(json!({ "ok": true }))
}

/// The core's guard on the plain `Auth`: its `Forbidden` converts with `?`.
#[get("/core/<permission>")]
fn core(permission: &str, auth: ClerkAuth) -> Result<Value, ClerkError> {
    let auth: clerk_verify::Auth = auth.into_inner();
    auth.require_permission(permission)?;
    Ok(json!({ "ok": true }))
}

/// A 401 that no Clerk guard produced.
#[get("/plain-401")]
fn plain_401() -> Status {
    Status::Unauthorized
}

#[options("/optional")]
fn preflight(auth: Option<ClerkAuth>, optional: OptionalAuth) -> &'static str {
    if auth.is_some() || optional.is_some() {
        "authenticated"
    } else {
        "not authenticated"
    }
}

/// A preflight route that needs a signed-in user: the guard forwards, so it never runs.
#[options("/gated")]
fn gated_preflight(_auth: ClerkAuth) -> &'static str {
    "authenticated"
}

/// A guard of the app's own around `ClerkAuth`: not a `Sentinel`, so a Rocket without a
/// managed `Verifier` launches and the guard's run-time answer shows.
struct Wrapped(ClerkAuth);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Wrapped {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        ClerkAuth::from_request(req).await.map(Wrapped)
    }
}

/// The same around `OptionalAuth`.
struct WrappedOptional(OptionalAuth);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for WrappedOptional {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        OptionalAuth::from_request(req).await.map(WrappedOptional)
    }
}

#[get("/wrapped")]
fn wrapped(auth: Wrapped) -> Value {
    json!({ "userId": auth.0.user_id() })
}

#[get("/wrapped-optional")]
fn wrapped_optional(auth: WrappedOptional) -> Value {
    json!({ "userId": auth.0.as_ref().map(|a| a.user_id()) })
}

fn app(verifier: Verifier) -> Rocket<Build> {
    rocket::build()
        .manage(verifier)
        .attach(ClerkFairing::default())
        .register("/", clerk_rocket::catchers())
        .mount(
            "/",
            routes![
                gated,
                optional,
                swallowing,
                admin,
                invoices,
                acme,
                composed,
                dynamic,
                core,
                plain_401,
                preflight,
                gated_preflight
            ],
        )
}

fn keyset() -> KeySet {
    KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap()
}

fn local_verifier() -> Verifier {
    Verifier::new(keyset(), VerifyOptions::default()).unwrap()
}

async fn client(verifier: Verifier) -> Client {
    Client::untracked(app(verifier))
        .await
        .expect("valid rocket")
}

fn now() -> i64 {
    clerk_dev::now_unix()
}

fn good(sub: &str) -> String {
    TokenBuilder::session(sub, now()).sign(fixtures::rsa2048())
}

fn bearer(token: &str) -> Header<'static> {
    Header::new("Authorization", format!("Bearer {token}"))
}

struct Reply {
    status: Status,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    async fn of(r: LocalResponse<'_>) -> Reply {
        let status = r.status();
        let headers = r
            .headers()
            .iter()
            .map(|h| (h.name().as_str().to_ascii_lowercase(), h.value().to_owned()))
            .collect();
        let body = r.into_string().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

async fn get(client: &Client, path: &str, headers: Vec<Header<'static>>) -> Reply {
    let mut req = client.get(path.to_owned());
    for h in headers {
        req = req.header(h);
    }
    Reply::of(req.dispatch().await).await
}

fn assert_unauthorized(r: &Reply, reason: &str, token_sent: bool) {
    assert_eq!(r.status, Status::Unauthorized, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"], "unauthorized");
    assert_eq!(v["reason"], reason, "{}", r.body);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let challenge = r.header("www-authenticate").expect("WWW-Authenticate");
    if token_sent {
        assert_eq!(challenge, "Bearer error=\"invalid_token\"");
    } else {
        assert_eq!(challenge, "Bearer");
    }
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(r.header("x-clerk-auth-reason"), Some(reason));
}

#[rocket::async_test]
async fn bearer_token_signs_in() {
    let client = client(local_verifier()).await;
    let t = good("user_1");
    let r = get(&client, "/gated", vec![bearer(&t)]).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.json(), json!({"userId": "user_1"}));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
    assert!(r.header("www-authenticate").is_none());

    // Scheme case-insensitive, bare token accepted (the core's rules, reached through Rocket).
    let r = get(
        &client,
        "/gated",
        vec![Header::new("Authorization", format!("bEaReR {t}"))],
    )
    .await;
    assert_eq!(r.status, Status::Ok);
    let r = get(&client, "/gated", vec![Header::new("Authorization", t)]).await;
    assert_eq!(r.status, Status::Ok);
}

/// Clerk's `__client_uat` cookie for a browser signed in a minute ago.
fn client_uat() -> String {
    format!("__client_uat={}", now() - 60)
}

#[rocket::async_test]
async fn cookie_token_signs_in() {
    let client = client(local_verifier()).await;
    let t = good("user_cookie");
    // Two Cookie headers are joined, as a proxy or HTTP/2 may split them.
    let r = get(
        &client,
        "/gated",
        vec![
            Header::new("Cookie", format!("theme=dark; {}", client_uat())),
            Header::new("Cookie", format!("__session={t}")),
        ],
    )
    .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.json(), json!({"userId": "user_cookie"}));

    // A local request's cookie jar works too.
    let r = Reply::of(
        client
            .get("/gated")
            .cookie(("__session", t.clone()))
            .cookie(("__client_uat", (now() - 60).to_string()))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);

    // Clerk signed the browser out (`__client_uat=0`): the old cookie no longer gets in.
    let r = get(
        &client,
        "/gated",
        vec![Header::new(
            "Cookie",
            format!("__session={t}; __client_uat=0"),
        )],
    )
    .await;
    assert_unauthorized(&r, reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT, true);
    // So does a `__session` without any `__client_uat`, from the jar as from the header.
    let r = Reply::of(
        client
            .get("/gated")
            .cookie(("__session", t.clone()))
            .dispatch()
            .await,
    )
    .await;
    assert_unauthorized(&r, reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT, true);
    // A token issued before the client's last sign-in change is stale.
    let r = get(
        &client,
        "/gated",
        vec![Header::new(
            "Cookie",
            format!("__session={t}; __client_uat={}", now() + 60),
        )],
    )
    .await;
    assert_unauthorized(&r, reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT, true);

    // A header token wins: a bad header is refused even with a good cookie.
    let r = get(
        &client,
        "/gated",
        vec![
            bearer("nope"),
            Header::new("Cookie", format!("__session={t}; {}", client_uat())),
        ],
    )
    .await;
    assert_unauthorized(&r, "token-invalid", true);
}

#[rocket::async_test]
async fn missing_and_invalid_tokens_are_401_with_challenge() {
    let client = client(local_verifier()).await;
    let r = get(&client, "/gated", vec![]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);

    let r = get(
        &client,
        "/gated",
        vec![Header::new("Authorization", format!("Basic {}", good("u")))],
    )
    .await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);

    let expired = TokenBuilder::session("user_1", now() - 3600).sign(fixtures::rsa2048());
    let r = get(&client, "/gated", vec![bearer(&expired)]).await;
    assert_unauthorized(&r, "token-expired", true);
    assert!(!r.body.contains(&expired), "the token must not be echoed");

    let other_key = TokenBuilder::session("user_1", now()).sign(fixtures::rsa2048_b());
    let r = get(&client, "/gated", vec![bearer(&other_key)]).await;
    assert_unauthorized(&r, "jwk-kid-mismatch", true);

    let pending = TokenBuilder::session("user_p", now())
        .claim("sts", "pending")
        .sign(fixtures::rsa2048());
    let r = get(&client, "/gated", vec![bearer(&pending)]).await;
    assert_unauthorized(&r, "session-pending", true);
}

/// `OptionalAuth` and `Option<ClerkAuth>` agree while the server is healthy.
#[rocket::async_test]
async fn optional_auth_is_none_for_missing_or_bad_tokens() {
    let client = client(local_verifier()).await;
    for path in ["/optional", "/swallowing"] {
        let r = get(&client, path, vec![]).await;
        assert_eq!((r.status, r.json()), (Status::Ok, json!({"userId": null})));
        // Debug headers still say why.
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
        assert_eq!(
            r.header("x-clerk-auth-reason"),
            Some("session-token-and-uat-missing")
        );
        // No 401 body, no challenge leaks into the optional route.
        assert!(r.header("www-authenticate").is_none());

        let expired = TokenBuilder::session("user_1", now() - 3600).sign(fixtures::rsa2048());
        for bad in [expired.as_str(), "garbage", "a.b.c"] {
            let r = get(&client, path, vec![bearer(bad)]).await;
            assert_eq!(
                (r.status, r.json()),
                (Status::Ok, json!({"userId": null})),
                "{path}"
            );
            assert!(r.header("www-authenticate").is_none());
        }
        let stale = Header::new("Cookie", format!("__session={}; __client_uat=0", good("u")));
        let r = get(&client, path, vec![stale]).await;
        assert_eq!((r.status, r.json()), (Status::Ok, json!({"userId": null})));

        let r = get(&client, path, vec![bearer(&good("user_o"))]).await;
        assert_eq!(
            (r.status, r.json()),
            (Status::Ok, json!({"userId": "user_o"}))
        );
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    }
}

fn member_token() -> String {
    TokenBuilder::session("user_m", now())
        .claim(
            "o",
            json!({"id": "org_1", "rol": "member", "per": "read", "fpm": "1"}),
        )
        .claim("fea", "o:invoices")
        .sign(fixtures::rsa2048())
}

fn admin_token() -> String {
    TokenBuilder::session("user_a", now())
        .claim("o", json!({"id": "org_1", "rol": "admin"}))
        .sign(fixtures::rsa2048())
}

fn assert_forbidden(r: &Reply, reason: &str) {
    assert_eq!(r.status, Status::Forbidden, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"], "forbidden");
    assert_eq!(v["reason"], reason);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
}

#[rocket::async_test]
async fn role_and_permission_guards() {
    let client = client(local_verifier()).await;
    let member = member_token();
    let admin = admin_token();

    let r = get(&client, "/admin", vec![bearer(&member)]).await;
    assert_forbidden(&r, "missing-role");
    assert!(r.json()["message"].as_str().unwrap().contains("org:admin"));
    let r = get(&client, "/admin", vec![bearer(&admin)]).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.json(), json!({"ok": true, "userId": "user_a"}));

    let r = get(&client, "/invoices", vec![bearer(&member)]).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    let r = get(&client, "/invoices", vec![bearer(&admin)]).await;
    assert_forbidden(&r, "missing-permission");

    // Signed out: 401 before any role check.
    let r = get(&client, "/admin", vec![]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
    let r = get(&client, "/invoices", vec![bearer("garbage")]).await;
    assert_unauthorized(&r, "token-invalid", true);

    // The handler-side check answers the same 403.
    let r = get(&client, "/dynamic/org:admin", vec![bearer(&member)]).await;
    assert_forbidden(&r, "missing-role");
    let r = get(&client, "/dynamic/org:member", vec![bearer(&member)]).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    let r = get(&client, "/core/org:invoices:read", vec![bearer(&admin)]).await;
    assert_forbidden(&r, reason::MISSING_PERMISSION);
    let r = get(&client, "/core/org:invoices:read", vec![bearer(&member)]).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
}

/// A requirement of the app's own, as a type: `Require<R>`.
#[rocket::async_test]
async fn a_custom_requirement_guard() {
    let client = client(local_verifier()).await;
    let acme = TokenBuilder::session("user_acme", now())
        .claim("o", json!({"id": "org_1", "rol": "member", "slg": "acme"}))
        .sign(fixtures::rsa2048());
    let r = get(&client, "/acme", vec![bearer(&acme)]).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    assert_eq!(r.json(), json!({"ok": true, "userId": "user_acme"}));

    let r = get(&client, "/acme", vec![bearer(&admin_token())]).await;
    assert_forbidden(&r, "not-acme");
    assert_eq!(r.json()["message"], "this route is for acme's members");
    let r = get(&client, "/acme", vec![bearer(&good("user_no_org"))]).await;
    assert_forbidden(&r, "not-acme");
    let r = get(&client, "/acme", vec![]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
}

#[test]
fn error_accessors() {
    let e = ClerkError::forbidden("plan-missing", "this route needs the pro plan");
    assert_eq!(e.status(), Status::Forbidden);
    assert_eq!(e.reason(), "plan-missing");
    assert_eq!(e.message(), "this route needs the pro plan");
    assert_eq!(e.refusal().error(), "forbidden");
    assert_eq!(
        e.refusal().www_authenticate(),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(
        e.to_string(),
        "forbidden (plan-missing): this route needs the pro plan"
    );

    let e = ClerkError::from(Forbidden::new(
        reason::MISSING_ROLE,
        "this route requires the organization role \"org:admin\"",
    ));
    assert_eq!(
        (e.status(), e.reason()),
        (Status::Forbidden, "missing-role")
    );

    // A 503 tells the client nothing of the cause; `Display`, for the log, does.
    let down = SignedOut::from_error(Error::JwkRemoteFailedToLoad("connection refused".into()));
    let e = ClerkError::signed_out(&down);
    assert_eq!(e.status(), Status::ServiceUnavailable);
    assert_eq!(e.reason(), "jwk-remote-failed-to-load");
    assert!(
        !e.message().contains("connection refused"),
        "{}",
        e.message()
    );
    assert!(e.to_string().contains("connection refused"), "{e}");
    // Debug (what Rocket logs for a failed guard) is the status and reason.
    assert_eq!(
        format!("{e:?}"),
        "ClerkError { status: 503, reason: \"jwk-remote-failed-to-load\" }"
    );
    // Nor a redirect's headers (a handshake's `set-cookie` carries the session token).
    let out = SignedOut::from_error(Error::TokenInvalidSignature);
    let location = "https://accounts.example.com/sign-in?redirect_url=secret".to_owned();
    let e = ClerkError::from(clerk_verify::Refusal::sign_in_redirect(&out, location));
    assert_eq!(e.status(), Status::TemporaryRedirect);
    assert!(!format!("{e:?}").contains("secret"), "{e:?}");
}

#[rocket::async_test]
async fn other_errors_keep_rockets_default_catcher() {
    let client = client(local_verifier()).await;
    let r = get(&client, "/plain-401", vec![]).await;
    assert_eq!(r.status, Status::Unauthorized);
    assert!(r.header("www-authenticate").is_none());
    assert!(r.header("x-clerk-auth-status").is_none());
    assert!(r.body.contains("401"), "{}", r.body);
}

#[rocket::async_test]
async fn options_requests_are_not_authenticated() {
    let keys = counting();
    let verifier = Verifier::new(Arc::clone(&keys), VerifyOptions::default()).unwrap();
    let client = client(verifier).await;
    let r = Reply::of(
        client
            .options("/optional")
            .header(bearer(&good("user_1")))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.body, "not authenticated");
    assert!(r.header("x-clerk-auth-status").is_none());
    // `ClerkAuth` forwards (with 401): no route is left, so Rocket's default catcher answers,
    // not a Clerk refusal.
    let r = Reply::of(
        client
            .options("/gated")
            .header(bearer(&good("user_1")))
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(r.status, Status::Unauthorized, "{}", r.body);
    assert!(r.body.contains("401"), "{}", r.body);
    assert!(r.header("www-authenticate").is_none());
    assert!(r.header("x-clerk-auth-status").is_none());
    assert_eq!(keys.cached_calls(), 0);
}

/// A key source that is down.
#[rocket::async_test]
async fn key_source_down_is_503_not_401() {
    let verifier = Verifier::new(Unavailable, VerifyOptions::default()).unwrap();
    let client = client(verifier).await;
    let t = good("user_1");
    let r = get(&client, "/gated", vec![bearer(&t)]).await;
    assert_eq!(r.status, Status::ServiceUnavailable, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"], "service_unavailable");
    assert_eq!(v["reason"], "jwk-remote-failed-to-load");
    assert!(r.header("www-authenticate").is_none());
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    // The client is not told the cause; the operator's log is.
    assert!(!r.body.contains("connection refused"), "{}", r.body);

    // `OptionalAuth` refuses too: an outage must not turn signed-in users anonymous.
    let r = get(&client, "/optional", vec![bearer(&t)]).await;
    assert_eq!(r.status, Status::ServiceUnavailable, "{}", r.body);
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    assert!(!r.body.contains("connection refused"), "{}", r.body);
    // ... but serves a request without a token: there is nothing to fetch.
    let r = get(&client, "/optional", vec![]).await;
    assert_eq!((r.status, r.json()), (Status::Ok, json!({"userId": null})));
    // Rocket's own `Option<ClerkAuth>` swallows the outage: why `OptionalAuth` exists.
    let r = get(&client, "/swallowing", vec![bearer(&t)]).await;
    assert_eq!((r.status, r.json()), (Status::Ok, json!({"userId": null})));
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );

    // Without a token there is nothing to fetch: plain 401.
    let r = get(&client, "/gated", vec![]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
}

/// A key source with no key source configured: a server-side problem.
#[rocket::async_test]
async fn misconfigured_verifier_is_500() {
    let verifier = Verifier::new(Unresolved::new(), VerifyOptions::default()).unwrap();
    let client = client(verifier).await;
    let r = get(&client, "/gated", vec![bearer(&good("user_1"))]).await;
    assert_eq!(r.status, Status::InternalServerError, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"], "internal_server_error");
    assert_eq!(v["reason"], "jwk-failed-to-resolve");
    assert!(r.header("www-authenticate").is_none());
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("jwk-failed-to-resolve")
    );
    // The cause (which variables to set) is for the log, not the client.
    assert!(!r.body.contains("CLERK_JWT_KEY"), "{}", r.body);
    let r = get(&client, "/optional", vec![bearer(&good("user_1"))]).await;
    assert_eq!(r.status, Status::InternalServerError, "{}", r.body);
    assert_eq!(r.json()["reason"], "jwk-failed-to-resolve");
}

/// Past the sentinels (a guard of the app's own around the Clerk guards), a Rocket without a
/// managed `Verifier` answers 500 `verifier-missing`, `OptionalAuth` included. How to fix it is
/// in the log, and in debug builds (a developer's first request) in the message too.
#[rocket::async_test]
async fn missing_verifier_is_500_past_the_sentinel() {
    let rocket = rocket::build()
        .attach(ClerkFairing::default())
        .register("/", clerk_rocket::catchers())
        .mount("/", routes![wrapped, wrapped_optional]);
    let client = Client::untracked(rocket).await.expect("no sentinel");
    for path in ["/wrapped", "/wrapped-optional"] {
        let r = get(&client, path, vec![bearer(&good("user_1"))]).await;
        assert_eq!(r.status, Status::InternalServerError, "{path}: {}", r.body);
        let v = r.json();
        assert_eq!(v["error"], "internal_server_error");
        assert_eq!(v["reason"], reason::VERIFIER_MISSING);
        assert_eq!(v["reason"], "verifier-missing");
        assert!(r.header("www-authenticate").is_none());
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
        assert_eq!(r.header("x-clerk-auth-reason"), Some("verifier-missing"));
        let names_the_fix = v["message"]
            .as_str()
            .is_some_and(|m| m.contains("rocket.manage(verifier)"));
        assert_eq!(names_the_fix, cfg!(debug_assertions), "{}", r.body);
    }
}

/// A key source whose fetch panics: the blocking verification task never completes.
#[rocket::async_test]
async fn an_unfinished_verification_task_is_503_not_a_panic() {
    let client = client(Verifier::new(Panicking, VerifyOptions::default()).unwrap()).await;
    let t = good("user_1");
    let r = get(&client, "/gated", vec![bearer(&t)]).await;
    assert_eq!(r.status, Status::ServiceUnavailable, "{}", r.body);
    assert_eq!(r.json()["error"], "service_unavailable");
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    assert!(r.header("www-authenticate").is_none());
    let r = get(&client, "/optional", vec![bearer(&t)]).await;
    assert_eq!(r.status, Status::ServiceUnavailable, "{}", r.body);
    assert_eq!(r.json()["reason"], "jwk-remote-failed-to-load");
    let r = get(&client, "/swallowing", vec![bearer(&t)]).await;
    assert_eq!((r.status, r.json()), (Status::Ok, json!({"userId": null})));
}

/// Counts calls, records the thread of `fetch_key`, and makes fetching slow. Answers from
/// memory, like a warm cache.
fn counting() -> Arc<ColdKeys> {
    Arc::new(
        ColdKeys::new(keyset())
            .answer_from_cache(true)
            .fetch_delay(Duration::from_millis(50)),
    )
}

/// The same, but always has to "fetch": a cold cache.
fn cold() -> Arc<ColdKeys> {
    Arc::new(ColdKeys::new(keyset()).fetch_delay(Duration::from_millis(50)))
}

#[rocket::async_test]
async fn composed_guards_authenticate_once() {
    // A warm cache answers at once; a cold one runs the verification on the blocking pool. In
    // both, four guards share one verification.
    for (keys, fetches) in [(counting(), 0), (cold(), 1)] {
        let verifier = Verifier::new(Arc::clone(&keys), VerifyOptions::default()).unwrap();
        let client = client(verifier).await;
        let r = get(&client, "/composed", vec![bearer(&admin_token())]).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        assert_eq!(r.json(), json!({"same": true}));
        assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
        assert_eq!((keys.cached_calls(), keys.fetches()), (1, fetches));
    }
}

#[rocket::async_test]
async fn a_key_fetch_runs_off_the_executor() {
    let keys = cold();
    let verifier = Verifier::new(Arc::clone(&keys), VerifyOptions::default()).unwrap();
    let client = client(verifier).await;
    // The local client runs the request on this (the executor's) thread.
    let executor = std::thread::current().id();
    let r = get(&client, "/gated", vec![bearer(&good("user_slow"))]).await;
    assert_eq!(r.status, Status::Ok, "{}", r.body);
    // The non-blocking path was tried first, then the fetch ran on a blocking-pool thread.
    assert_eq!(keys.cached_calls(), 1);
    assert_eq!(keys.fetches(), 1);
    let fetch_thread = *keys.fetch_threads().last().expect("fetched");
    assert_ne!(fetch_thread, executor);
}

#[rocket::async_test]
async fn unmanaged_verifier_stops_the_launch() {
    let rocket = rocket::build().mount("/", routes![gated]);
    let error = Client::untracked(rocket)
        .await
        .expect_err("sentinel aborts");
    assert!(
        matches!(error.kind(), rocket::error::ErrorKind::SentinelAborts(_)),
        "{error}"
    );
    // `OptionalAuth`, `Require` (aliased or not) and `Option<ClerkAuth>` are sentinels too.
    for routes in [
        routes![admin],
        routes![invoices],
        routes![acme],
        routes![optional],
        routes![swallowing],
    ] {
        let error = Client::untracked(rocket::build().mount("/", routes))
            .await
            .expect_err("sentinel aborts");
        assert!(matches!(
            error.kind(),
            rocket::error::ErrorKind::SentinelAborts(_)
        ));
    }
}

mod entitlements {
    use super::*;
    use clerk_rocket::{
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

    #[get("/reports")]
    fn reports(user: RequireFeature<Reports>) -> Value {
        json!({ "userId": user.user_id() })
    }

    #[get("/pro")]
    fn pro(_user: RequirePlan<Pro>) -> &'static str {
        "pro"
    }

    #[get("/recent")]
    fn recent(_user: RequireReverification<Strict>) -> &'static str {
        "recent"
    }

    /// Clerk's `has()` on the plain user, then the core's check returned with `?`.
    #[get("/export")]
    fn export(auth: ClerkAuth) -> Result<Value, ClerkError> {
        let exporter = auth.has(&Has::new().feature("user:export").plan("pro"));
        auth.require_reverification(Reverification::Moderate)?;
        Ok(json!({ "exporter": exporter }))
    }

    /// Features from `fea`, plans from `pla`, factor ages from `fva`.
    fn session(sub: &str, fea: &str, pla: &str, fva: [i64; 2]) -> Header<'static> {
        bearer(
            &TokenBuilder::session(sub, now())
                .claim("v", 2)
                .claim("fea", fea)
                .claim("pla", pla)
                .claim("fva", json!(fva))
                .sign(fixtures::rsa2048()),
        )
    }

    #[rocket::async_test]
    async fn features_plans_and_reverification_answer_403_with_clerks_hint() {
        let rocket = rocket::build()
            .manage(local_verifier())
            .attach(ClerkFairing::default())
            .register("/", clerk_rocket::catchers())
            .mount("/", routes![reports, pro, recent, export]);
        let client = Client::untracked(rocket).await.expect("valid rocket");
        // Verified a minute ago, with both factors.
        let entitled = || session("user_e", "o:reports,u:export", "o:pro", [1, 1]);
        for path in ["/reports", "/pro", "/recent", "/export"] {
            let r = get(&client, path, vec![entitled()]).await;
            assert_eq!(r.status, Status::Ok, "{path}: {}", r.body);
        }
        let r = get(&client, "/export", vec![entitled()]).await;
        assert_eq!(r.json(), json!({"exporter": true}));
        // A user feature is not an organization feature; a user plan of the same name is one.
        let other = || session("user_o", "u:reports", "u:pro", [1, -1]);
        let r = get(&client, "/reports", vec![other()]).await;
        assert_forbidden(&r, "missing-feature");
        assert!(r.json().get("clerk_error").is_none());
        let r = get(&client, "/pro", vec![other()]).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        let r = get(&client, "/export", vec![other()]).await;
        assert_eq!(r.json(), json!({"exporter": false}));
        let r = get(
            &client,
            "/pro",
            vec![session("user_f", "", "u:free", [1, 1])],
        )
        .await;
        assert_forbidden(&r, "missing-plan");

        // First factor 30 minutes ago, no second factor: not `strict` (10 minutes).
        let stale = || session("user_s", "u:export", "o:pro", [30, -1]);
        let r = get(&client, "/recent", vec![stale()]).await;
        assert_forbidden(&r, "reverification-error");
        assert_eq!(
            r.json()["clerk_error"],
            json!({"type": "forbidden", "reason": "reverification-error",
                "metadata": {"reverification": "strict"}})
        );
        assert!(r
            .body
            .starts_with(r#"{"error":"forbidden","reason":"reverification-error","message":"#));
        let r = get(&client, "/export", vec![stale()]).await;
        assert_eq!(r.status, Status::Ok, "{}", r.body);
        // No `fva` at all is never recent; signed out is still 401.
        let r = get(&client, "/recent", vec![bearer(&good("user_n"))]).await;
        assert_forbidden(&r, "reverification-error");
        let r = get(&client, "/recent", vec![]).await;
        assert_unauthorized(&r, "session-token-and-uat-missing", false);
    }
}
