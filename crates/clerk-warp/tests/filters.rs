//! The filters in-process (`warp::test`), with a `KeySet` verifier or a custom key source.

use clerk_dev::{fixtures, TokenBuilder};
use clerk_verify::testing::{ColdKeys, Panicking, Unavailable, Unresolved};
use clerk_verify::{reason, Auth, Authentication, Error, KeySet, Verifier, VerifyOptions};
use clerk_warp::{
    authentication, clerk_auth, handle_rejection, optional_auth, optional_authentication, require,
    require_permission, require_role, signed_in_headers, with_auth_headers, ClerkRejection, Policy,
};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use warp::http::Response;
use warp::hyper::body::Bytes;
use warp::{Filter, Rejection, Reply};

const ORIGIN: &str = "http://localhost:3000";

fn verifier() -> Verifier {
    Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default()).unwrap()
}

fn token(sub: &str) -> String {
    TokenBuilder::session(sub, clerk_dev::now_unix()).sign(fixtures::rsa2048())
}

/// The seed app's shape (an optional route with debug headers, one required, two guarded,
/// CORS around all), plus the other filters: `optional_auth`, a `Policy`, the raw state.
fn routes(
    verifier: Verifier,
) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone + Send + Sync + 'static {
    // Exactly the seed app's `/clerk-jwt`.
    let clerk_jwt = warp::path!("clerk-jwt")
        .and(warp::get())
        .and(optional_authentication(verifier.clone()))
        .map(|state: Authentication| {
            let body = json!({ "userId": state.auth().map(Auth::user_id) });
            with_auth_headers(warp::reply::json(&body), &state)
        });
    let maybe = warp::path("maybe")
        .and(warp::get())
        .and(optional_auth(verifier.clone()))
        .map(|auth: Option<Auth>| {
            warp::reply::json(&json!({ "userId": auth.map(|a| a.user_id().to_owned()) }))
        });
    let gated = warp::path("get-gated")
        .and(warp::get())
        .and(clerk_auth(verifier.clone()))
        .map(|_: Auth| warp::reply::json(&json!({"foo": "bar"})))
        .with(signed_in_headers());
    let admin = warp::path("admin")
        .and(warp::get())
        .and(require_role(verifier.clone(), "org:admin"))
        .map(|_: Auth| warp::reply::json(&json!({"ok": true})))
        .with(signed_in_headers());
    let invoices = warp::path("invoices")
        .and(warp::get())
        .and(require_permission(verifier.clone(), "org:invoices:read"))
        .map(|_: Auth| warp::reply::json(&json!({"ok": true})))
        .with(signed_in_headers());
    let billing = warp::path("billing")
        .and(warp::get())
        .and(require(
            verifier.clone(),
            Policy::new()
                .role("org:admin")
                .permission("org:invoices:read")
                .org_required(),
        ))
        .map(|auth: Auth| warp::reply::json(&json!({ "userId": auth.user_id() })))
        .with(signed_in_headers());
    let state = warp::path("state")
        .and(warp::get())
        .and(authentication(verifier))
        .map(|state: Authentication| with_auth_headers(warp::reply(), &state));
    let cors = warp::cors()
        .allow_origin(ORIGIN)
        .allow_credentials(true)
        .allow_headers(["authorization", "content-type"])
        .allow_methods(["GET", "OPTIONS"]);
    clerk_jwt
        .or(maybe)
        .or(gated)
        .or(admin)
        .or(invoices)
        .or(billing)
        .or(state)
        .recover(handle_rejection)
        .with(cors)
}

async fn get(
    f: &(impl Filter<Extract = (impl Reply,), Error = Rejection> + 'static),
    path: &str,
    headers: &[(&str, &str)],
) -> Response<Bytes> {
    // `warp::test` replaces a repeated header: a test needing several goes through `serve`.
    for (i, (k, _)) in headers.iter().enumerate() {
        assert!(
            headers[..i]
                .iter()
                .all(|(seen, _)| !seen.eq_ignore_ascii_case(k)),
            "warp::test keeps only the last {k:?} header: use `serve`"
        );
    }
    let mut req = warp::test::request().method("GET").path(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.reply(f).await
}

fn header<'a>(r: &'a Response<Bytes>, name: &str) -> Option<&'a str> {
    r.headers().get(name).map(|v| v.to_str().unwrap())
}

fn body(r: &Response<Bytes>) -> Value {
    serde_json::from_slice(r.body()).unwrap_or_else(|e| panic!("{e}: {:?}", r.body()))
}

fn assert_unauthorized(r: &Response<Bytes>, reason: &str, token_sent: bool) {
    assert_eq!(r.status(), 401, "{:?}", r.body());
    let v = body(r);
    assert_eq!(v["error"], "unauthorized");
    assert_eq!(v["reason"], reason);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    let challenge = if token_sent {
        r#"Bearer error="invalid_token""#
    } else {
        "Bearer"
    };
    assert_eq!(header(r, "www-authenticate"), Some(challenge));
    assert_eq!(header(r, "x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(header(r, "x-clerk-auth-reason"), Some(reason));
    assert_eq!(header(r, "content-type"), Some("application/json"));
}

#[tokio::test]
async fn bearer_header_token() {
    let app = routes(verifier());
    let t = token("user_1");
    for value in [format!("Bearer {t}"), format!("bearer {t}"), t.clone()] {
        let r = get(&app, "/get-gated", &[("authorization", &value)]).await;
        assert_eq!(r.status(), 200, "{:?}", r.body());
        assert_eq!(body(&r), json!({"foo": "bar"}));
        assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
        assert_eq!(header(&r, "x-clerk-auth-reason"), None);
    }
}

/// The cookie pair Clerk sets in a signed-in browser: `__session` and `__client_uat`.
fn session_cookies(sub: &str) -> String {
    format!(
        "__session={}; __client_uat={}",
        token(sub),
        clerk_dev::now_unix() - 60
    )
}

#[tokio::test]
async fn cookie_token() {
    let app = routes(verifier());
    let cookie = format!("theme=dark; {}", session_cookies("user_cookie"));
    let r = get(&app, "/clerk-jwt", &[("cookie", &cookie)]).await;
    assert_eq!(body(&r), json!({"userId": "user_cookie"}));
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
    let r = get(&app, "/get-gated", &[("cookie", &cookie)]).await;
    assert_eq!(r.status(), 200);
}

/// Through warp's server, on a multi-threaded runtime (so every filter future must be `Send`),
/// with keys that must be fetched (the blocking pool), and with the cookies split over several
/// `Cookie` headers as HTTP/2 clients send them: `__session` and `__client_uat` are one jar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_with_cookies_across_several_cookie_headers() {
    let keys = KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap();
    let cold = Arc::new(ColdKeys::new(keys));
    let app = routes(Verifier::new(cold.clone(), VerifyOptions::default()).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(warp::serve(app).incoming(listener).run());

    let session = format!("__session={}", token("user_split"));
    let uat = format!("__client_uat={}", clerk_dev::now_unix() - 60);
    let signed_in = served_get(addr, "/clerk-jwt", &["theme=dark", &session, &uat]).await;
    let without_uat = served_get(addr, "/clerk-jwt", &["theme=dark", &session]).await;
    server.abort();

    assert!(signed_in.starts_with("HTTP/1.1 200"), "{signed_in}");
    assert!(
        signed_in.contains("x-clerk-auth-status: signed-in\r\n"),
        "{signed_in}"
    );
    assert!(
        signed_in.ends_with(r#"{"userId":"user_split"}"#),
        "{signed_in}"
    );
    assert!(without_uat.starts_with("HTTP/1.1 200"), "{without_uat}");
    assert!(
        without_uat.contains("x-clerk-auth-reason: session-token-but-no-client-uat\r\n"),
        "{without_uat}"
    );
    assert!(without_uat.ends_with(r#"{"userId":null}"#), "{without_uat}");
    assert_eq!(cold.fetches(), 1, "the signed-in request fetched the keys");
}

/// A raw HTTP/1.1 GET with one `Cookie` header per entry of `cookies`; the whole response.
async fn served_get(addr: std::net::SocketAddr, path: &str, cookies: &[&str]) -> String {
    use std::io::{Read, Write};
    let mut request = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
    for cookie in cookies {
        request.push_str(&format!("cookie: {cookie}\r\n"));
    }
    request.push_str("\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_session_cookie_needs_a_signed_in_client_uat() {
    let app = routes(verifier());
    let t = token("user_cookie");
    // Clerk signed the browser out (`__client_uat=0`): the old cookie no longer gets in.
    for cookie in [
        format!("__session={t}; __client_uat=0"),
        format!("__session={t}"),
    ] {
        let r = get(&app, "/get-gated", &[("cookie", &cookie)]).await;
        assert_unauthorized(&r, reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT, true);
        let r = get(&app, "/clerk-jwt", &[("cookie", &cookie)]).await;
        assert_eq!(
            (r.status().as_u16(), body(&r)),
            (200, json!({"userId": null}))
        );
        assert_eq!(
            header(&r, "x-clerk-auth-reason"),
            Some(reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT)
        );
    }
    // A signed-in `__client_uat` without the session cookie.
    let uat = format!("__client_uat={}", clerk_dev::now_unix() - 60);
    let r = get(&app, "/get-gated", &[("cookie", &uat)]).await;
    assert_unauthorized(&r, reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN, false);
}

#[tokio::test]
async fn header_token_wins_over_cookie() {
    let app = routes(verifier());
    let cookie = session_cookies("user_cookie");
    let r = get(
        &app,
        "/get-gated",
        &[("authorization", "Bearer nope"), ("cookie", &cookie)],
    )
    .await;
    assert_unauthorized(&r, "token-invalid", true);
    // The same cookies alone do sign in: the header token is what refused the request.
    let r = get(&app, "/get-gated", &[("cookie", &cookie)]).await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
}

#[tokio::test]
async fn missing_token_is_401_without_error_attribute() {
    let app = routes(verifier());
    let r = get(&app, "/get-gated", &[]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
    // Another scheme is no token at all.
    let basic = format!("Basic {}", token("user_1"));
    let r = get(&app, "/get-gated", &[("authorization", &basic)]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
}

#[tokio::test]
async fn invalid_tokens_are_401_with_invalid_token_challenge() {
    let app = routes(verifier());
    let now = clerk_dev::now_unix();
    let expired = TokenBuilder::session("user_1", now - 3600).sign(fixtures::rsa2048());
    let r = get(
        &app,
        "/get-gated",
        &[("authorization", &format!("Bearer {expired}"))],
    )
    .await;
    assert_unauthorized(&r, "token-expired", true);

    let good = token("user_1");
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = clerk_dev::b64url(
        TokenBuilder::session("user_admin", now)
            .payload_json()
            .as_bytes(),
    );
    let tampered = parts.join(".");
    let r = get(
        &app,
        "/get-gated",
        &[("authorization", &format!("Bearer {tampered}"))],
    )
    .await;
    assert_unauthorized(&r, "token-invalid-signature", true);
    let text = String::from_utf8_lossy(r.body());
    assert!(!text.contains(&tampered) && !text.contains(&parts[2]));
}

#[tokio::test]
async fn optional_routes_serve_missing_or_bad_tokens_as_signed_out() {
    let app = routes(verifier());
    let expired =
        TokenBuilder::session("user_1", clerk_dev::now_unix() - 3600).sign(fixtures::rsa2048());
    for (headers, why) in [
        (vec![], "session-token-and-uat-missing"),
        (
            vec![("authorization", "Bearer garbage".to_owned())],
            "token-invalid",
        ),
        (
            vec![("authorization", format!("Bearer {expired}"))],
            "token-expired",
        ),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = get(&app, "/maybe", &headers).await;
        assert_eq!(r.status(), 200);
        assert_eq!(body(&r), json!({"userId": null}));
        // The seed app's route: the same, with the debug headers.
        let r = get(&app, "/clerk-jwt", &headers).await;
        assert_eq!(r.status(), 200);
        assert_eq!(body(&r), json!({"userId": null}));
        assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-out"));
        assert_eq!(header(&r, "x-clerk-auth-reason"), Some(why));
    }
    let good = format!("Bearer {}", token("user_opt"));
    let r = get(&app, "/maybe", &[("authorization", &good)]).await;
    assert_eq!(body(&r), json!({"userId": "user_opt"}));
    let r = get(&app, "/clerk-jwt", &[("authorization", &good)]).await;
    assert_eq!(body(&r), json!({"userId": "user_opt"}));
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(header(&r, "x-clerk-auth-reason"), None);
}

#[tokio::test]
async fn role_and_permission_guards() {
    let app = routes(verifier());
    let now = clerk_dev::now_unix();
    let member = TokenBuilder::session("user_m", now)
        .claim(
            "o",
            json!({"id":"org_1","rol":"member","per":"read","fpm":"1"}),
        )
        .claim("fea", "o:invoices")
        .sign(fixtures::rsa2048());
    let admin = TokenBuilder::session("user_a", now)
        .claim("o", json!({"id":"org_1","rol":"admin"}))
        .sign(fixtures::rsa2048());
    let member = format!("Bearer {member}");
    let admin = format!("Bearer {admin}");

    let r = get(&app, "/admin", &[("authorization", &member)]).await;
    assert_eq!(r.status(), 403);
    let v = body(&r);
    assert_eq!(
        (v["error"].as_str(), v["reason"].as_str()),
        (Some("forbidden"), Some("missing-role"))
    );
    assert!(v["message"].as_str().unwrap().contains("org:admin"));
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(header(&r, "x-clerk-auth-reason"), None);
    assert_eq!(
        header(&r, "www-authenticate"),
        Some(r#"Bearer error="insufficient_scope""#)
    );
    assert_eq!(header(&r, "content-type"), Some("application/json"));

    let r = get(&app, "/invoices", &[("authorization", &member)]).await;
    assert_eq!((r.status().as_u16(), body(&r)), (200, json!({"ok": true})));
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));

    let r = get(&app, "/admin", &[("authorization", &admin)]).await;
    assert_eq!((r.status().as_u16(), body(&r)), (200, json!({"ok": true})));

    let r = get(&app, "/invoices", &[("authorization", &admin)]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(body(&r)["reason"], reason::MISSING_PERMISSION);
    assert_eq!(
        header(&r, "www-authenticate"),
        Some(r#"Bearer error="insufficient_scope""#)
    );

    // Signed out: 401 comes first.
    let r = get(&app, "/admin", &[]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
    let r = get(&app, "/invoices", &[("authorization", "Bearer garbage")]).await;
    assert_unauthorized(&r, "token-invalid", true);
}

#[tokio::test]
async fn a_policy_checks_organization_then_role_then_permissions() {
    let app = routes(verifier());
    let now = clerk_dev::now_unix();
    let bearer = |org: Option<Value>| {
        let mut t = TokenBuilder::session("user_p", now);
        if let Some(org) = org {
            t = t.claim("o", org).claim("fea", "o:invoices");
        }
        format!("Bearer {}", t.sign(fixtures::rsa2048()))
    };
    let no_org = bearer(None);
    let reader = bearer(Some(
        json!({"id":"org_1","rol":"member","per":"read","fpm":"1"}),
    ));
    let admin = bearer(Some(json!({"id":"org_1","rol":"admin"})));
    let admin_reader = bearer(Some(
        json!({"id":"org_1","rol":"admin","per":"read","fpm":"1"}),
    ));
    for (token, missing) in [
        (&no_org, reason::MISSING_ORGANIZATION),
        (&reader, reason::MISSING_ROLE),
        (&admin, reason::MISSING_PERMISSION),
    ] {
        let r = get(&app, "/billing", &[("authorization", token)]).await;
        assert_eq!(r.status(), 403, "{missing}: {:?}", r.body());
        assert_eq!(body(&r)["error"], "forbidden");
        assert_eq!(body(&r)["reason"], missing);
        assert_eq!(
            header(&r, "www-authenticate"),
            Some(r#"Bearer error="insufficient_scope""#)
        );
        assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
        assert_eq!(header(&r, "x-clerk-auth-reason"), None);
    }
    let r = get(&app, "/billing", &[("authorization", &admin_reader)]).await;
    assert_eq!(
        (r.status().as_u16(), body(&r)),
        (200, json!({"userId": "user_p"}))
    );
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
    // Signed out: 401 before any requirement.
    let r = get(&app, "/billing", &[]).await;
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
}

#[tokio::test]
async fn authentication_state_and_debug_headers() {
    let app = routes(verifier());
    let r = get(&app, "/state", &[("authorization", "Bearer garbage")]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(header(&r, "x-clerk-auth-reason"), Some("token-invalid"));
    let good = format!("Bearer {}", token("user_1"));
    let r = get(&app, "/state", &[("authorization", &good)]).await;
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(header(&r, "x-clerk-auth-reason"), None);
}

#[tokio::test]
async fn preflight_is_not_authenticated_and_refusals_carry_cors() {
    let app = routes(verifier());
    let r = warp::test::request()
        .method("OPTIONS")
        .path("/get-gated")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .reply(&app)
        .await;
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(header(&r, "access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(header(&r, "access-control-allow-credentials"), Some("true"));
    assert!(header(&r, "access-control-allow-headers")
        .unwrap()
        .contains("authorization"));
    assert_eq!(header(&r, "x-clerk-auth-status"), None);

    // A 401 is readable by the browser: the recover runs inside the CORS wrapper.
    let r = get(&app, "/get-gated", &[("origin", ORIGIN)]).await;
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "access-control-allow-origin"), Some(ORIGIN));
}

#[tokio::test]
async fn other_rejections_pass_through() {
    let app = routes(verifier());
    let r = get(&app, "/nowhere", &[]).await;
    assert_eq!(r.status(), 404);
    let r = warp::test::request()
        .method("POST")
        .path("/get-gated")
        .reply(&app)
        .await;
    assert_eq!(r.status(), 405);
}

/// A key source that is down: 503 on required and optional routes alike when a token is sent
/// (an outage must not turn signed-in users anonymous), signed out without a token.
#[tokio::test]
async fn key_source_down_is_503_even_on_optional_routes() {
    let app = routes(Verifier::new(Unavailable, VerifyOptions::default()).unwrap());
    let good = format!("Bearer {}", token("user_1"));
    let r = get(&app, "/get-gated", &[("authorization", &good)]).await;
    assert_eq!(r.status(), 503);
    let v = body(&r);
    assert_eq!(v["error"], "service_unavailable");
    assert_eq!(v["reason"], "jwk-remote-failed-to-load");
    assert_eq!(header(&r, "www-authenticate"), None);
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        header(&r, "x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    assert_service_unavailable_hides_the_cause(&r);
    for optional in ["/clerk-jwt", "/maybe"] {
        let r = get(&app, optional, &[("authorization", &good)]).await;
        assert_eq!(r.status(), 503, "{optional}: {:?}", r.body());
        assert_eq!(body(&r)["reason"], "jwk-remote-failed-to-load");
        assert_service_unavailable_hides_the_cause(&r);
        // A cookie token too.
        let r = get(&app, optional, &[("cookie", &session_cookies("user_1"))]).await;
        assert_eq!(r.status(), 503, "{optional}: {:?}", r.body());
        // No token: signed out, the key source is not even asked.
        let r = get(&app, optional, &[]).await;
        assert_eq!(
            (r.status().as_u16(), body(&r)),
            (200, json!({"userId": null}))
        );
    }
    let r = get(&app, "/clerk-jwt", &[]).await;
    assert_eq!(
        header(&r, "x-clerk-auth-reason"),
        Some("session-token-and-uat-missing")
    );
    // No token is still a 401: the key source is not even asked.
    let r = get(&app, "/get-gated", &[]).await;
    assert_eq!(r.status(), 401);
    // The raw state never rejects: the outage is a signed-out state with its reason.
    let r = get(&app, "/state", &[("authorization", &good)]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        header(&r, "x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
}

/// The client of a 503 is told to retry, not why: the cause (`connection refused` from the
/// `Unavailable` stub) is for the log.
fn assert_service_unavailable_hides_the_cause(r: &Response<Bytes>) {
    assert_eq!(r.status(), 503);
    let v = body(r);
    assert_eq!(v["error"], "service_unavailable");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    let text = String::from_utf8_lossy(r.body());
    assert!(!text.contains("connection refused"), "{text}");
}

/// A misconfigured key source: 500.
#[tokio::test]
async fn misconfiguration_is_500() {
    let misconfigured = Unresolved::with_error(Error::SecretKeyInvalid);
    let app = routes(Verifier::new(misconfigured, VerifyOptions::default()).unwrap());
    let good = format!("Bearer {}", token("user_1"));
    let r = get(&app, "/get-gated", &[("authorization", &good)]).await;
    assert_eq!(r.status(), 500);
    assert_eq!(body(&r)["error"], "internal_server_error");
    assert_eq!(body(&r)["reason"], "secret-key-invalid");
    assert_eq!(header(&r, "www-authenticate"), None);
    assert_eq!(
        header(&r, "x-clerk-auth-reason"),
        Some("secret-key-invalid")
    );
    // The client is not told the cause; the log is.
    let cause = Error::SecretKeyInvalid.to_string();
    let text = String::from_utf8_lossy(r.body()).into_owned();
    assert!(!text.contains(&cause), "{text}");
    assert!(!body(&r)["message"].as_str().unwrap().is_empty());
    let rejection = warp::test::request()
        .header("authorization", &good)
        .filter(&clerk_auth(
            Verifier::new(
                Unresolved::with_error(Error::SecretKeyInvalid),
                VerifyOptions::default(),
            )
            .unwrap(),
        ))
        .await
        .unwrap_err();
    let ours = rejection.find::<ClerkRejection>().unwrap();
    assert!(ours.to_string().contains(&cause), "{ours}");
    assert!(!ours.message().contains(&cause));
    // Optional routes refuse it too; a request without a token is still signed out.
    for optional in ["/clerk-jwt", "/maybe"] {
        let r = get(&app, optional, &[("authorization", &good)]).await;
        assert_eq!(r.status(), 500, "{optional}: {:?}", r.body());
        assert_eq!(body(&r)["reason"], "secret-key-invalid");
        let r = get(&app, optional, &[]).await;
        assert_eq!(
            (r.status().as_u16(), body(&r)),
            (200, json!({"userId": null}))
        );
    }
}

/// A key source whose fetch panics: the blocking verification task never completes.
#[tokio::test]
async fn an_unfinished_verification_task_is_503_not_a_panic() {
    let app = routes(Verifier::new(Panicking, VerifyOptions::default()).unwrap());
    let good = format!("Bearer {}", token("user_1"));
    let r = get(&app, "/get-gated", &[("authorization", &good)]).await;
    assert_eq!(r.status(), 503, "{:?}", r.body());
    assert_eq!(body(&r)["error"], "service_unavailable");
    assert_eq!(body(&r)["reason"], "jwk-remote-failed-to-load");
    assert_eq!(header(&r, "www-authenticate"), None);
    for optional in ["/clerk-jwt", "/maybe"] {
        let r = get(&app, optional, &[("authorization", &good)]).await;
        assert_eq!(r.status(), 503, "{optional}: {:?}", r.body());
        assert_eq!(body(&r)["reason"], "jwk-remote-failed-to-load");
    }
}

/// Keys that are never cached: every verification has to "fetch", which blocks for a while.
#[tokio::test(flavor = "current_thread")]
async fn fetching_keys_does_not_block_the_executor() {
    let keys = KeySet::from_jwks(&fixtures::rsa2048().jwks_json()).unwrap();
    let slow = Arc::new(ColdKeys::new(keys).fetch_delay(Duration::from_millis(200)));
    let app = routes(Verifier::new(slow.clone(), VerifyOptions::default()).unwrap());
    let executor = std::thread::current().id();
    let good = format!("Bearer {}", token("user_slow"));

    // While the fetch sleeps on the blocking pool, the (single-threaded) executor keeps running
    // other tasks: the ticker gets through several ticks.
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = ticks.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let r = get(&app, "/get-gated", &[("authorization", &good)]).await;
    ticker.abort();
    assert_eq!(r.status(), 200, "{:?}", r.body());
    assert!(ticks.load(Ordering::SeqCst) >= 5, "executor was blocked");

    // The non-blocking path was tried first, on the executor; the fetch ran elsewhere.
    assert_eq!(slow.cached_threads()[0], executor);
    let fetched_on = slow.fetch_threads();
    assert_eq!(fetched_on.len(), 1);
    assert_ne!(fetched_on[0], executor);
}

#[tokio::test]
async fn cached_keys_are_checked_inline() {
    // A KeySet answers from memory: the filter completes without a blocking-pool round trip.
    let app = clerk_auth(verifier());
    let good = format!("Bearer {}", token("user_inline"));
    let auth = warp::test::request()
        .header("authorization", &good)
        .filter(&app)
        .await
        .unwrap();
    assert_eq!(auth.user_id(), "user_inline");
}

#[tokio::test]
async fn custom_guard_with_clerk_rejection() {
    let verifier = verifier();
    let pro_only = clerk_auth(verifier)
        .and_then(|auth: Auth| async move {
            match auth.claims().get("plan").and_then(Value::as_str) {
                Some("pro") => Ok(auth),
                _ => Err(warp::reject::custom(ClerkRejection::forbidden(
                    "missing-plan",
                    "this route requires the pro plan",
                ))),
            }
        })
        .map(|_: Auth| "welcome")
        .recover(handle_rejection);
    let free = format!("Bearer {}", token("user_free"));
    let r = get(&pro_only, "/", &[("authorization", &free)]).await;
    assert_eq!(r.status(), 403);
    assert_eq!(body(&r)["reason"], "missing-plan");

    let rejection = warp::test::request()
        .header("authorization", &free)
        .filter(&clerk_auth(self::verifier()).and_then(|_: Auth| async {
            Err::<Auth, _>(warp::reject::custom(ClerkRejection::forbidden("x", "y")))
        }))
        .await
        .unwrap_err();
    let ours = rejection.find::<ClerkRejection>().unwrap();
    assert!(ours.is_forbidden());
    assert_eq!(ours.status(), 403);
    assert!(ours.signed_out().is_none());
    assert_eq!(ours.to_string(), "forbidden (x): y");

    // The core's guard converts too.
    let forbidden = self::verifier()
        .authenticate_request(Some(&free), None)
        .into_auth()
        .unwrap()
        .require_role("org:admin")
        .unwrap_err();
    let ours = ClerkRejection::from(forbidden);
    assert_eq!(
        (ours.status().as_u16(), ours.reason()),
        (403, "missing-role")
    );
    assert_eq!(
        ours.to_response().headers()["www-authenticate"],
        r#"Bearer error="insufficient_scope""#
    );
}

#[tokio::test]
async fn rejection_accessors() {
    let rejection = warp::test::request()
        .header("authorization", "Bearer garbage")
        .filter(&clerk_auth(verifier()))
        .await
        .unwrap_err();
    let ours = rejection.find::<ClerkRejection>().unwrap();
    assert_eq!(ours.status(), 401);
    assert_eq!(ours.error(), "unauthorized");
    assert_eq!(ours.reason(), "token-invalid");
    assert!(ours.signed_out().unwrap().token_sent());
    assert!(std::error::Error::source(ours).is_some());
    assert!(!format!("{ours:?}").contains("garbage"));
}

/// warp's server runs filters on a multi-threaded runtime: every filter's future must be `Send`,
/// including while a verification waits on the blocking pool.
#[test]
fn filter_futures_are_send() {
    fn serveable<F>(filter: F) -> F
    where
        F: Filter + Clone + Send + Sync + 'static,
        F::Future: Send,
    {
        filter
    }
    let v = verifier();
    serveable(authentication(v.clone()));
    serveable(optional_authentication(v.clone()));
    serveable(optional_auth(v.clone()));
    serveable(clerk_auth(v.clone()));
    serveable(require(v.clone(), Policy::new().org_required()));
    serveable(require_role(v.clone(), "org:admin"));
    serveable(require_permission(v.clone(), "org:invoices:read"));
    serveable(clerk_warp::page(v.clone()));
    serveable(clerk_warp::require_sign_in(v.clone()));
    serveable(routes(v));
}

mod entitlements {
    use super::*;
    use clerk_warp::{require_feature, require_plan, require_reverification, Has, Reverification};

    /// Features from `fea`, plans from `pla`, factor ages from `fva`.
    fn session(sub: &str, fea: &str, pla: &str, fva: [i64; 2]) -> String {
        let t = TokenBuilder::session(sub, clerk_dev::now_unix())
            .claim("v", 2)
            .claim("fea", fea)
            .claim("pla", pla)
            .claim("fva", json!(fva))
            .sign(fixtures::rsa2048());
        format!("Bearer {t}")
    }

    fn routes(
        verifier: Verifier,
    ) -> impl Filter<Extract = (impl Reply,), Error = Rejection> + Clone + Send + Sync + 'static
    {
        let ok = |auth: Auth| warp::reply::json(&json!({ "userId": auth.user_id() }));
        let reports = warp::path("reports")
            .and(require_feature(verifier.clone(), "o:reports"))
            .map(ok);
        let pro = warp::path("pro")
            .and(require_plan(verifier.clone(), "pro"))
            .map(ok);
        let recent = warp::path("recent")
            .and(require_reverification(
                verifier.clone(),
                Reverification::Strict,
            ))
            .map(ok);
        let billing = warp::path("billing")
            .and(require(
                verifier.clone(),
                Policy::new()
                    .plan("o:pro")
                    .reverification(Reverification::StrictMfa),
            ))
            .map(ok);
        // Clerk's `has()` on the plain user.
        let export = warp::path("export")
            .and(clerk_auth(verifier))
            .map(|auth: Auth| {
                let exporter = auth.has(&Has::new().feature("user:export").plan("pro"));
                warp::reply::json(&json!({ "exporter": exporter }))
            });
        reports
            .or(pro)
            .or(recent)
            .or(billing)
            .or(export)
            .recover(handle_rejection)
    }

    fn reason(r: &Response<Bytes>) -> (u16, Value) {
        (r.status().as_u16(), body(r)["reason"].clone())
    }

    #[tokio::test]
    async fn features_plans_and_reverification_answer_403_with_clerks_hint() {
        let app = routes(verifier());
        // Verified a minute ago, with both factors.
        let entitled = session("user_e", "o:reports,u:export", "o:pro", [1, 1]);
        for path in ["/reports", "/pro", "/recent", "/billing"] {
            let r = get(&app, path, &[("authorization", &entitled)]).await;
            assert_eq!(r.status(), 200, "{path}: {:?}", r.body());
            assert_eq!(body(&r)["userId"], "user_e");
        }
        let r = get(&app, "/export", &[("authorization", &entitled)]).await;
        assert_eq!(body(&r), json!({"exporter": true}));
        // A user feature is not an organization feature; a user plan of the same name is one.
        let other = session("user_o", "u:reports", "u:pro", [1, -1]);
        let r = get(&app, "/reports", &[("authorization", &other)]).await;
        assert_eq!(reason(&r), (403, json!("missing-feature")));
        assert_eq!(
            header(&r, "www-authenticate"),
            Some("Bearer error=\"insufficient_scope\"")
        );
        assert!(body(&r).get("clerk_error").is_none());
        let r = get(&app, "/pro", &[("authorization", &other)]).await;
        assert_eq!(r.status(), 200);
        let r = get(&app, "/export", &[("authorization", &other)]).await;
        assert_eq!(body(&r), json!({"exporter": false}));
        let r = get(&app, "/billing", &[("authorization", &other)]).await;
        assert_eq!(reason(&r), (403, json!("missing-plan")));

        // First factor 30 minutes ago, no second factor: not `strict` (10 minutes).
        let stale = session("user_s", "u:export", "o:pro", [30, -1]);
        let r = get(&app, "/recent", &[("authorization", &stale)]).await;
        assert_eq!(reason(&r), (403, json!("reverification-error")));
        assert_eq!(
            body(&r)["clerk_error"],
            json!({"type": "forbidden", "reason": "reverification-error",
                "metadata": {"reverification": "strict"}})
        );
        assert!(r
            .body()
            .starts_with(br#"{"error":"forbidden","reason":"reverification-error","message":"#));
        assert_eq!(header(&r, "x-clerk-auth-status"), Some("signed-in"));
        let r = get(&app, "/billing", &[("authorization", &stale)]).await;
        assert_eq!(
            body(&r)["clerk_error"]["metadata"]["reverification"],
            "strict_mfa"
        );
        // No `fva` at all is never recent; signed out is still 401.
        let plain = format!("Bearer {}", token("user_n"));
        let r = get(&app, "/recent", &[("authorization", &plain)]).await;
        assert_eq!(reason(&r), (403, json!("reverification-error")));
        let r = get(&app, "/recent", &[]).await;
        assert_unauthorized(&r, "session-token-and-uat-missing", false);
    }
}
