//! One table of HTTP cases, run against each seed app's real binary on 127.0.0.1, with a real
//! local JWKS server as the key source. The four frameworks must answer identically. (An app
//! whose feature is off, `--no-default-features`, has no binary and no test.)

mod support;

use clerk_dev::machines::{check_machine_routes, MachineIssuer, MachineRoutes};
use clerk_dev::{fixtures, Fault, JwksServer, TokenBuilder};
use clerk_verify::options::MachineOptions;
use serde_json::Value;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{agent, free_port, Killed};

const ORIGIN: &str = "http://localhost:3000";

/// A running app binary, killed on drop.
struct App {
    child: Killed,
    base: String,
}

impl App {
    fn start(bin: &str, jwks_url: &str) -> App {
        App::start_with(bin, &[("CLERK_JWKS_URL", jwks_url.to_owned())])
    }

    /// The app with the Clerk variables `clerk` (beside the authorized party).
    fn start_with(bin: &str, clerk: &[(&str, String)]) -> App {
        let port = free_port();
        let child = Command::new(bin)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .envs(clerk.iter().map(|(k, v)| (k, v)))
            .env("CLERK_AUTHORIZED_PARTIES", ORIGIN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let mut app = App {
            child: Killed(child),
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = app.child.0.try_wait() {
                panic!("{bin} exited early: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "{bin} did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        app
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {:?}", self.body))
    }
}

fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    let agent = agent();
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = agent.run(req.body(()).unwrap()).unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = resp.into_body().read_to_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

fn good(sub: &str) -> String {
    TokenBuilder::session(sub, clerk_dev::now_unix()).sign(fixtures::rsa2048())
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

/// Asserts a JSON refusal body with `error` and `reason`, and a message.
fn assert_refusal_body(r: &Reply, error: &str, reason: &str) {
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/json")),
        "{:?}",
        r.header("content-type")
    );
    let v = r.json();
    assert_eq!(v["error"], error, "{}", r.body);
    assert_eq!(v["reason"], reason, "{}", r.body);
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
}

/// Asserts a 401 with the documented body and challenge (RFC 6750: `error="invalid_token"`
/// exactly when a token was sent).
fn assert_unauthorized(r: &Reply, reason: &str, token_sent: bool) {
    assert_eq!(r.status, 401, "{}", r.body);
    assert_refusal_body(r, "unauthorized", reason);
    let challenge = if token_sent {
        "Bearer error=\"invalid_token\""
    } else {
        "Bearer"
    };
    assert_eq!(r.header("www-authenticate"), Some(challenge));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(r.header("x-clerk-auth-reason"), Some(reason));
}

/// Asserts a 403 from a role or permission guard: the `insufficient_scope` challenge, and the
/// debug headers of a signed-in request (no reason header).
fn assert_forbidden(r: &Reply, reason: &str) {
    assert_eq!(r.status, 403, "{}", r.body);
    assert_refusal_body(r, "forbidden", reason);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
}

/// Asserts a successful reply to a signed-in request: `x-clerk-auth-status: signed-in` and no
/// `x-clerk-auth-reason` header at all (not even an empty one).
fn assert_signed_in(r: &Reply) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.header("x-clerk-auth-reason"), None);
    assert_eq!(r.header("www-authenticate"), None);
}

/// Asserts the debug headers of a signed-out request that was served anyway (optional route).
fn assert_served_signed_out(r: &Reply, reason: &str) {
    assert_eq!(
        (r.status, r.json()),
        (200, serde_json::json!({"userId": null})),
        "{}",
        r.body
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(r.header("x-clerk-auth-reason"), Some(reason));
    assert_eq!(r.header("www-authenticate"), None);
}

fn run_table(bin: &str) {
    let jwks = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let app = App::start(bin, &jwks.jwks_url());
    let gated = format!("{}/get-gated", app.base);
    let optional = format!("{}/clerk-jwt", app.base);
    let now = clerk_dev::now_unix();

    // No token.
    let r = request("GET", &gated, &[]);
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
    // The optional route is served, and its debug headers say why it is signed out.
    let r = request("GET", &optional, &[]);
    assert_served_signed_out(&r, "session-token-and-uat-missing");

    // Good header token.
    let t = good("user_header");
    let r = request("GET", &gated, &[("Authorization", &bearer(&t))]);
    assert_signed_in(&r);
    assert_eq!(r.json(), serde_json::json!({"foo": "bar"}));
    let r = request("GET", &optional, &[("Authorization", &bearer(&t))]);
    assert_signed_in(&r);
    assert_eq!(r.json(), serde_json::json!({"userId": "user_header"}));
    // Scheme is case-insensitive; a bare token is taken as the token.
    let r = request("GET", &gated, &[("Authorization", &format!("bearer {t}"))]);
    assert_eq!(r.status, 200);
    let r = request("GET", &gated, &[("Authorization", &t)]);
    assert_eq!(r.status, 200);

    // Good cookie token, beside the __client_uat cookie Clerk sets with it.
    let c = good("user_cookie");
    let cookie = format!("theme=dark; __session={c}; __client_uat={}", now - 60);
    let r = request("GET", &gated, &[("Cookie", &cookie)]);
    assert_signed_in(&r);
    let r = request("GET", &optional, &[("Cookie", &cookie)]);
    assert_eq!(r.json()["userId"], "user_cookie");

    // Clerk's cookie rules: a browser Clerk signed out (__client_uat=0, or none) does not get in
    // with its old, still-valid __session cookie.
    for signed_out in [
        format!("__session={c}; __client_uat=0"),
        format!("__session={c}"),
    ] {
        let r = request("GET", &gated, &[("Cookie", &signed_out)]);
        assert_unauthorized(&r, "session-token-but-no-client-uat", true);
        let r = request("GET", &optional, &[("Cookie", &signed_out)]);
        assert_served_signed_out(&r, "session-token-but-no-client-uat");
    }
    // Signed in (__client_uat) but no session cookie.
    let uat_only = format!("__client_uat={}", now - 60);
    let r = request("GET", &gated, &[("Cookie", &uat_only)]);
    assert_unauthorized(&r, "client-uat-but-no-session-token", false);
    // A session token issued before the client's last sign-in change.
    let stale = format!("__session={c}; __client_uat={}", now + 3);
    let r = request("GET", &gated, &[("Cookie", &stale)]);
    assert_unauthorized(&r, "session-token-iat-before-client-uat", true);

    // A JWT-template or machine token is not a session token.
    let template = TokenBuilder::session("user_1", now)
        .header("cat", "cl_B7d4PD222AAA")
        .sign(fixtures::rsa2048());
    let machine = TokenBuilder::session("user_1", now)
        .header("cat", "cl_B7d4PD333AAA")
        .sign(fixtures::rsa2048());
    for t in [&template, &machine] {
        let r = request("GET", &gated, &[("Authorization", &bearer(t))]);
        assert_unauthorized(&r, "token-type-mismatch", true);
    }
    // Clerk's machine tokens in JWT form (an M2M token by its `sub`, with or without its `cat`;
    // an OAuth access token by its `typ`), genuine, from the header and from the cookies: never
    // signed in as a user.
    let m2m = || TokenBuilder::session("mch_2vYVtestmachine", now);
    for t in [
        m2m().sign(fixtures::rsa2048()),
        m2m()
            .header("cat", "cl_B7d4PD333AAA")
            .sign(fixtures::rsa2048()),
        TokenBuilder::session("user_1", now)
            .header("typ", "at+jwt")
            .sign(fixtures::rsa2048()),
    ] {
        let r = request("GET", &gated, &[("Authorization", &bearer(&t))]);
        assert_unauthorized(&r, "token-type-mismatch", true);
        let jar = format!("__session={t}; __client_uat={}", now - 60);
        let r = request("GET", &gated, &[("Cookie", &jar)]);
        assert_unauthorized(&r, "token-type-mismatch", true);
        let r = request("GET", &optional, &[("Cookie", &jar)]);
        assert_served_signed_out(&r, "token-type-mismatch");
    }

    // A header token wins: a bad header with a good cookie is refused.
    let r = request(
        "GET",
        &gated,
        &[("Authorization", "Bearer nope"), ("Cookie", &cookie)],
    );
    assert_unauthorized(&r, "token-invalid", true);

    // Expired.
    let expired = TokenBuilder::session("user_1", now - 3600).sign(fixtures::rsa2048());
    let r = request("GET", &gated, &[("Authorization", &bearer(&expired))]);
    assert_unauthorized(&r, "token-expired", true);

    // Bad azp.
    let evil = TokenBuilder::session("user_1", now)
        .claim("azp", "https://evil.example")
        .sign(fixtures::rsa2048());
    let r = request("GET", &gated, &[("Authorization", &bearer(&evil))]);
    assert_unauthorized(&r, "token-invalid-authorized-parties", true);

    // Tampered payload.
    let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
    parts[1] = clerk_dev::b64url(
        TokenBuilder::session("user_admin", now)
            .payload_json()
            .as_bytes(),
    );
    let tampered = parts.join(".");
    let r = request("GET", &gated, &[("Authorization", &bearer(&tampered))]);
    assert_unauthorized(&r, "token-invalid-signature", true);
    // The token never comes back in the body.
    assert!(!r.body.contains(&tampered));

    // Wrong scheme: no token.
    let r = request("GET", &gated, &[("Authorization", &format!("Basic {t}"))]);
    assert_unauthorized(&r, "session-token-and-uat-missing", false);

    // Pending sessions are signed out.
    let pending = TokenBuilder::session("user_p", now)
        .claim("sts", "pending")
        .sign(fixtures::rsa2048());
    let r = request("GET", &gated, &[("Authorization", &bearer(&pending))]);
    assert_unauthorized(&r, "session-pending", true);
    let r = request("GET", &optional, &[("Authorization", &bearer(&pending))]);
    assert_eq!(r.json()["userId"], Value::Null);

    // Optional endpoint with bad tokens: 200 with null, never an error status.
    for (bad, reason) in [
        (&expired, "token-expired"),
        (&evil, "token-invalid-authorized-parties"),
        (&tampered, "token-invalid-signature"),
        (&"garbage".to_owned(), "token-invalid"),
    ] {
        let r = request("GET", &optional, &[("Authorization", &bearer(bad))]);
        assert_served_signed_out(&r, reason);
    }

    // Preflight OPTIONS is not authenticated and gets CORS headers for an authorized party.
    let r = request(
        "OPTIONS",
        &gated,
        &[
            ("Origin", ORIGIN),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert!(
        (200..300).contains(&r.status),
        "preflight {}: {}",
        r.status,
        r.body
    );
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    assert!(r
        .header("access-control-allow-headers")
        .is_some_and(|h| h.to_ascii_lowercase().contains("authorization")));
    // An actual cross-origin request carries the CORS header too.
    let r = request(
        "GET",
        &gated,
        &[("Origin", ORIGIN), ("Authorization", &bearer(&t))],
    );
    assert_eq!(r.header("access-control-allow-origin"), Some(ORIGIN));

    // Role and permission guards: 403 when signed in without them.
    let admin = format!("{}/admin", app.base);
    let invoices = format!("{}/invoices", app.base);
    let member = TokenBuilder::session("user_m", now)
        .claim(
            "o",
            serde_json::json!({"id":"org_1","rol":"member","per":"read","fpm":"1"}),
        )
        .claim("fea", "o:invoices")
        .sign(fixtures::rsa2048());
    let r = request("GET", &admin, &[("Authorization", &bearer(&member))]);
    assert_forbidden(&r, "missing-role");
    let r = request("GET", &invoices, &[("Authorization", &bearer(&member))]);
    assert_signed_in(&r);
    assert_eq!(r.json(), serde_json::json!({"ok": true}));
    let admin_token = TokenBuilder::session("user_a", now)
        .claim("o", serde_json::json!({"id":"org_1","rol":"admin"}))
        .sign(fixtures::rsa2048());
    let r = request("GET", &admin, &[("Authorization", &bearer(&admin_token))]);
    assert_signed_in(&r);
    assert_eq!(r.json(), serde_json::json!({"ok": true}));
    let r = request(
        "GET",
        &invoices,
        &[("Authorization", &bearer(&admin_token))],
    );
    assert_forbidden(&r, "missing-permission");
    // Signed out: 401 before any guard.
    let r = request("GET", &admin, &[]);
    assert_unauthorized(&r, "session-token-and-uat-missing", false);
    let r = request("GET", &invoices, &[("Authorization", "Bearer garbage")]);
    assert_unauthorized(&r, "token-invalid", true);
    drop(app);

    // JWKS down: 503 on the protected route, and on the optional one when a token was sent (an
    // outage never makes a signed-in user anonymous); without a token the optional route is
    // served signed out.
    let down = JwksServer::start();
    down.set_fault(Fault::Status(500));
    let app = App::start(bin, &down.jwks_url());
    let r = request(
        "GET",
        &format!("{}/get-gated", app.base),
        &[("Authorization", &bearer(&t))],
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert_refusal_body(&r, "service_unavailable", "jwk-remote-failed-to-load");
    // Not the client's fault: no challenge.
    assert_eq!(r.header("www-authenticate"), None);
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("jwk-remote-failed-to-load")
    );
    // The client is told little; the cause (URL, HTTP status) is for the server's log.
    assert!(!r.body.contains("127.0.0.1"), "{}", r.body);
    assert!(!r.body.contains("HTTP 500"), "{}", r.body);
    let optional = format!("{}/clerk-jwt", app.base);
    let r = request("GET", &optional, &[("Authorization", &bearer(&t))]);
    assert_eq!(r.status, 503, "{}", r.body);
    assert_refusal_body(&r, "service_unavailable", "jwk-remote-failed-to-load");
    let r = request("GET", &optional, &[]);
    assert_served_signed_out(&r, "session-token-and-uat-missing");
}

/// `GET /api/machine`: clerk-dev's machine contract, against the app configured as outside
/// tests configure it (`CLERK_SECRET_KEY`, `CLERK_MACHINE_SECRET_KEY`, `CLERK_API_URL`; the
/// session keys come from the same Backend API's JWKS), with the default Backend API timeout.
fn run_machine(bin: &str) {
    let issuer = MachineIssuer::start();
    let app = App::start_with(bin, &issuer.env());
    let routes = MachineRoutes::machine("/api/machine");
    check_machine_routes(&issuer, &app.base, &routes, MachineOptions::DEFAULT_TIMEOUT);
    // The session routes beside it are unchanged: a session token still signs in there.
    let session = good("user_beside");
    let r = request(
        "GET",
        &format!("{}/get-gated", app.base),
        &[("Authorization", &bearer(&session))],
    );
    assert_signed_in(&r);
}

#[test]
fn actix_app() {
    run_table(env!("CARGO_BIN_EXE_actix-app"));
}

#[test]
fn actix_app_machine() {
    run_machine(env!("CARGO_BIN_EXE_actix-app"));
}

#[cfg(feature = "rocket")]
#[test]
fn rocket_app_machine() {
    run_machine(env!("CARGO_BIN_EXE_rocket-app"));
}

#[cfg(feature = "warp")]
#[test]
fn warp_app_machine() {
    run_machine(env!("CARGO_BIN_EXE_warp-app"));
}

#[cfg(feature = "axum")]
#[test]
fn axum_app_machine() {
    run_machine(env!("CARGO_BIN_EXE_axum-app"));
}

#[cfg(feature = "rocket")]
#[test]
fn rocket_app() {
    run_table(env!("CARGO_BIN_EXE_rocket-app"));
}

#[cfg(feature = "warp")]
#[test]
fn warp_app() {
    run_table(env!("CARGO_BIN_EXE_warp-app"));
}

#[cfg(feature = "axum")]
#[test]
fn axum_app() {
    run_table(env!("CARGO_BIN_EXE_axum-app"));
}
