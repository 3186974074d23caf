//! `clerk-verify serve` over HTTP, without a proxy: every route, the identity headers, the
//! per-location policy, preflights, metrics, readiness, outages and SIGTERM. The real binary,
//! a real JWKS server (clerk-dev's), raw HTTP/1.1 on 127.0.0.1.

mod support;

use clerk_dev::{fixtures, now_unix, Fault, JwksServer, TokenBuilder};
use serde_json::json;
use std::time::{Duration, Instant};
use support::{Reply, Serve};

fn sign(b: TokenBuilder) -> String {
    b.sign(fixtures::rsa2048())
}

fn user(sub: &str) -> String {
    sign(TokenBuilder::session(sub, now_unix()))
}

/// A member of org_1 with org:invoices:read and org:invoices:write (v2 claims).
fn member() -> String {
    sign(
        TokenBuilder::session("user_member", now_unix())
            .claim(
                "o",
                json!({"id": "org_1", "rol": "member", "per": "read,write", "fpm": "3"}),
            )
            .claim("fea", "o:invoices"),
    )
}

fn admin() -> String {
    sign(
        TokenBuilder::session("user_admin", now_unix())
            .claim("o", json!({"id": "org_1", "rol": "admin"})),
    )
}

fn bearer(token: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {token}"))
}

fn get(s: &Serve, path: &str, headers: &[(&str, String)]) -> Reply {
    let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.get(path, &h)
}

/// The identity and status headers a 200 carries.
fn clerk_headers(r: &Reply) -> Vec<(String, String)> {
    r.headers_starting("x-clerk-")
}

fn assert_refused(r: &Reply, status: u16, reason: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.json()["reason"], reason, "{r:?}");
    // Signed-out refusals also say why in a header (403s are signed in: no reason header).
    if let Some(header) = r.header("x-clerk-auth-reason") {
        assert_eq!(header, reason);
    }
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("x-clerk-user-id").is_none(), "{r:?}");
}

fn metric(s: &Serve, line_start: &str) -> u64 {
    let text = s.get("/metrics", &[]).body;
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .map_or(0, |v| v.trim().parse().unwrap())
}

fn start_remote(extra: &[&str]) -> (JwksServer, Serve) {
    let jwks = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let url = jwks.jwks_url();
    let mut args = vec!["--jwks", url.as_str()];
    args.extend_from_slice(extra);
    let serve = Serve::start(&args);
    serve.wait_ready();
    (jwks, serve)
}

#[test]
fn auth_answers_signed_in_with_the_identity_headers() {
    let (_jwks, s) = start_remote(&["--authorized-party", "http://localhost:3000"]);
    let r = get(&s, "/auth", &[bearer(&user("user_1"))]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        clerk_headers(&r),
        [
            ("x-clerk-user-id".to_owned(), "user_1".to_owned()),
            ("x-clerk-session-id".to_owned(), "sess_test123".to_owned()),
            ("x-clerk-auth-status".to_owned(), "signed-in".to_owned()),
        ]
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert!(r.body.is_empty());

    // The organization: id, role, permissions as a comma list (v2 claims, then v1).
    let r = get(&s, "/auth", &[bearer(&member())]);
    assert_eq!(r.header("x-clerk-user-id"), Some("user_member"));
    assert_eq!(r.header("x-clerk-org-id"), Some("org_1"));
    assert_eq!(r.header("x-clerk-org-role"), Some("org:member"));
    assert_eq!(
        r.header("x-clerk-org-permissions"),
        Some("org:invoices:read,org:invoices:write")
    );
    let v1 = sign(
        TokenBuilder::session("user_v1", now_unix())
            .remove_claim("v")
            .claim("org_id", "org_9")
            .claim("org_role", "org:billing")
            .claim("org_permissions", json!(["org:a:read", "org:b:manage"])),
    );
    let r = get(&s, "/auth", &[bearer(&v1)]);
    assert_eq!(r.header("x-clerk-org-id"), Some("org_9"));
    assert_eq!(r.header("x-clerk-org-role"), Some("org:billing"));
    assert_eq!(
        r.header("x-clerk-org-permissions"),
        Some("org:a:read,org:b:manage")
    );

    // Any method: nginx may forward the client's; HEAD gets the headers without a body.
    for method in ["HEAD", "POST", "PUT", "DELETE"] {
        let t = user("user_m");
        let r = s.request(
            method,
            "/auth",
            &[("Authorization", &format!("Bearer {t}"))],
        );
        assert_eq!(r.status, 200, "{method}");
        assert_eq!(r.header("x-clerk-user-id"), Some("user_m"), "{method}");
    }

    // Identity comes from the token only: a client-sent X-Clerk-User-Id changes nothing.
    let r = get(
        &s,
        "/auth",
        &[
            bearer(&user("user_1")),
            ("X-Clerk-User-Id", "user_evil".to_owned()),
        ],
    );
    assert_eq!(r.header("x-clerk-user-id"), Some("user_1"));
}

#[test]
fn auth_refuses_missing_and_bad_tokens_with_401() {
    let (_jwks, s) = start_remote(&["--authorized-party", "http://localhost:3000"]);
    let r = get(&s, "/auth", &[]);
    assert_refused(&r, 401, "session-token-and-uat-missing");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    assert_eq!(r.json()["error"], "unauthorized");

    let r = get(&s, "/auth", &[("Authorization", "Bearer nope".to_owned())]);
    assert_refused(&r, 401, "token-invalid");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\"")
    );

    let expired = sign(TokenBuilder::session("user_1", now_unix() - 3600));
    assert_refused(&get(&s, "/auth", &[bearer(&expired)]), 401, "token-expired");
    let other_origin =
        sign(TokenBuilder::session("user_1", now_unix()).claim("azp", "https://evil.example"));
    assert_refused(
        &get(&s, "/auth", &[bearer(&other_origin)]),
        401,
        "token-invalid-authorized-parties",
    );
    let foreign = TokenBuilder::session("user_1", now_unix()).sign(fixtures::rsa2048_b());
    let r = get(&s, "/auth", &[bearer(&foreign)]);
    assert_eq!(r.status, 401, "{r:?}");
}

#[test]
fn machine_tokens_are_never_signed_in_as_users() {
    // Clerk's machine tokens in JWT form, signed by the instance's key: an M2M token by its
    // `sub` (with or without its `cat`), an OAuth access token by its `typ`. From the header
    // and from the session cookie, on a plain and on a role location.
    let (_jwks, s) = start_remote(&[]);
    let now = now_unix();
    let m2m = || TokenBuilder::session("mch_2vYVtestmachine", now);
    for token in [
        sign(m2m()),
        sign(m2m().header("cat", "cl_B7d4PD333AAA")),
        sign(TokenBuilder::session("user_1", now).header("typ", "at+jwt")),
    ] {
        let cookie = (
            "Cookie",
            format!("__session={token}; __client_uat={}", now - 60),
        );
        for path in ["/auth", "/auth?role=org:admin"] {
            for carrier in [bearer(&token), cookie.clone()] {
                let r = get(&s, path, &[carrier]);
                assert_refused(&r, 401, "token-type-mismatch");
            }
        }
    }
}

#[test]
fn auth_reads_the_session_cookie_with_clerks_client_uat_rules() {
    let (_jwks, s) = start_remote(&[]);
    let now = now_unix();
    let t = sign(TokenBuilder::session("user_cookie", now));
    let cookie = |c: String| [("Cookie", c)];
    let r = get(
        &s,
        "/auth",
        &cookie(format!(
            "theme=dark; __session={t}; __client_uat={}",
            now - 30
        )),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-clerk-user-id"), Some("user_cookie"));
    // Several Cookie headers (HTTP/2 proxies split them) are joined.
    let r = get(
        &s,
        "/auth",
        &[
            ("Cookie", format!("__session={t}")),
            ("Cookie", format!("__client_uat={}", now - 30)),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    // A browser Clerk signed out keeps its old cookie: refused.
    for (c, reason) in [
        (format!("__session={t}"), "session-token-but-no-client-uat"),
        (
            format!("__session={t}; __client_uat=0"),
            "session-token-but-no-client-uat",
        ),
        (
            format!("__session={t}; __client_uat={}", now + 60),
            "session-token-iat-before-client-uat",
        ),
        (
            format!("__client_uat={}", now - 30),
            "client-uat-but-no-session-token",
        ),
    ] {
        assert_refused(&get(&s, "/auth", &cookie(c)), 401, reason);
    }
    // The header wins over the cookie.
    let r = get(
        &s,
        "/auth",
        &[
            bearer(&user("user_header")),
            (
                "Cookie",
                format!("__session={t}; __client_uat={}", now - 30),
            ),
        ],
    );
    assert_eq!(r.header("x-clerk-user-id"), Some("user_header"));
}

#[test]
fn per_location_policy_from_the_query() {
    let (_jwks, s) = start_remote(&[]);
    let (member, admin, plain) = (member(), admin(), user("user_plain"));

    let r = get(&s, "/auth?role=org:admin", &[bearer(&member)]);
    assert_refused(&r, 403, "missing-role");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer error=\"insufficient_scope\"")
    );
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-in"));
    assert_eq!(r.json()["error"], "forbidden");
    let r = get(&s, "/auth?role=org%3Aadmin", &[bearer(&admin)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-clerk-org-role"), Some("org:admin"));
    // Not signed in is still 401, not 403.
    assert_refused(
        &get(&s, "/auth?role=org:admin", &[]),
        401,
        "session-token-and-uat-missing",
    );

    let both = "/auth?permission=org:invoices:read&permission=org:invoices:write";
    assert_eq!(get(&s, both, &[bearer(&member)]).status, 200);
    let r = get(
        &s,
        "/auth?permission=org:invoices:read&permission=org:invoices:delete",
        &[bearer(&member)],
    );
    assert_refused(&r, 403, "missing-permission");
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("org:invoices:delete"));

    assert_refused(
        &get(&s, "/auth?org=required", &[bearer(&plain)]),
        403,
        "missing-organization",
    );
    assert_eq!(
        get(&s, "/auth?org=required", &[bearer(&member)]).status,
        200
    );

    // A typo in the proxy's configuration fails closed for everyone, with a generic message;
    // the cause is in the log.
    for bad in ["/auth?roles=org:admin", "/auth?org=maybe", "/auth?role="] {
        let r = get(&s, bad, &[bearer(&admin)]);
        assert_refused(&r, 500, "config-invalid");
        assert!(!r.json()["message"].as_str().unwrap().contains("roles"));
    }
    let log = s.log_when(|log| log.contains("unknown query parameter \\\"roles\\\""));
    assert!(
        log.contains("unknown query parameter \\\"roles\\\""),
        "{log}"
    );
}

#[test]
fn cors_preflights_pass_only_as_browsers_send_them() {
    let (_jwks, s) = start_remote(&[]);
    let browser = |method_header: &'static str, method: &str| {
        vec![
            (method_header, method.to_owned()),
            ("Access-Control-Request-Method", "POST".to_owned()),
            ("Origin", "https://app.example.com".to_owned()),
        ]
    };
    for forwarded in ["X-Original-Method", "X-Forwarded-Method"] {
        let r = get(&s, "/auth", &browser(forwarded, "OPTIONS"));
        assert_eq!(r.status, 200, "{forwarded}: {r:?}");
        assert_eq!(
            clerk_headers(&r),
            [("x-clerk-auth-status".to_owned(), "signed-out".to_owned())]
        );
        // Even with a token, on a role= location: a preflight is answered without looking at
        // credentials.
        let mut h = browser(forwarded, "OPTIONS");
        h.push(bearer(&user("u")));
        let r = get(&s, "/auth?role=org:admin", &h);
        assert_eq!(r.status, 200);
        assert!(r.header("x-clerk-user-id").is_none());
        // Methods are case-sensitive: `options` is not OPTIONS, and goes through the check.
        let r = get(&s, "/auth?role=org:admin", &browser(forwarded, "options"));
        assert_refused(&r, 401, "session-token-and-uat-missing");
    }
    // Envoy forwards the method itself.
    let r = s.request(
        "OPTIONS",
        "/ext-authz/api/x",
        &[
            ("Access-Control-Request-Method", "PUT"),
            ("Origin", "https://app.example.com"),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    // Without Origin, without Access-Control-Request-Method, or with either twice: no
    // preflight, the token check.
    for headers in [
        vec![("X-Original-Method", "OPTIONS".to_owned())],
        vec![
            ("X-Original-Method", "OPTIONS".to_owned()),
            ("Access-Control-Request-Method", "POST".to_owned()),
        ],
        vec![
            ("X-Original-Method", "OPTIONS".to_owned()),
            ("Origin", "https://app.example.com".to_owned()),
        ],
        vec![
            ("X-Original-Method", "OPTIONS".to_owned()),
            ("Access-Control-Request-Method", "POST".to_owned()),
            ("Origin", "https://app.example.com".to_owned()),
            ("Origin", "https://evil.example".to_owned()),
        ],
    ] {
        let r = get(&s, "/auth", &headers);
        assert_refused(&r, 401, "session-token-and-uat-missing");
    }
    let r = s.request(
        "OPTIONS",
        "/ext-authz/api/x",
        &[("Access-Control-Request-Method", "PUT")],
    );
    assert_refused(&r, 401, "session-token-and-uat-missing");
    assert_eq!(
        metric(
            &s,
            "clerk_verify_requests_total{result=\"preflight\",reason=\"none\"}"
        ),
        5
    );
}

/// Issue 19: behind a proxy that sets X-Forwarded-Method and passes the client's headers
/// (Traefik's forwardAuth and Caddy's forward_auth both do), a client's own X-Original-Method
/// made a GET look like a preflight: 200 before any check, even on a role= location.
#[test]
fn headers_that_disagree_on_the_request_are_refused_never_resolved() {
    let (_jwks, s) = start_remote(&[]);
    let issue = [
        ("X-Forwarded-Method", "GET"),
        ("X-Original-Method", "OPTIONS"),
        ("Access-Control-Request-Method", "GET"),
    ];
    let with_origin = [
        issue[0],
        issue[1],
        issue[2],
        ("Origin", "https://evil.example"),
    ];
    let t = member();
    let member_auth = format!("Bearer {t}");
    for headers in [
        &issue[..],
        &with_origin[..],
        &[issue[0], issue[1], ("Authorization", member_auth.as_str())][..],
    ] {
        for path in ["/auth?role=org:admin", "/auth"] {
            let r = s.get(path, headers);
            assert_refused(&r, 400, "forwarded-headers-invalid");
            assert_eq!(r.json()["error"], "bad_request");
            assert!(
                r.json()["message"]
                    .as_str()
                    .unwrap()
                    .contains("X-Original-Method and X-Forwarded-Method disagree"),
                "{r:?}"
            );
            assert!(r.header("www-authenticate").is_none(), "{r:?}");
            assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
        }
    }
    // Every kind of disagreement, repetition or malformed value.
    for headers in [
        vec![("X-Original-URI", "/a"), ("X-Forwarded-Uri", "/b")],
        vec![("X-Forwarded-Uri", "/a"), ("X-Envoy-Original-Path", "/b")],
        vec![("X-Forwarded-Method", "GET"), ("x-forwarded-method", "GET")],
        vec![("X-Forwarded-Method", "GET, OPTIONS")],
        vec![("X-Forwarded-Host", "a.example, b.example")],
        vec![
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Proto", "https"),
        ],
        vec![
            ("X-Original-Method", "options"),
            ("X-Forwarded-Method", "OPTIONS"),
        ],
    ] {
        let r = s.get("/auth", &headers);
        assert_refused(&r, 400, "forwarded-headers-invalid");
    }
    // On /ext-authz the request's own method and path are Envoy's: a header claiming others is
    // refused.
    let r = s.request(
        "GET",
        "/ext-authz/api/x",
        &[
            ("X-Original-Method", "OPTIONS"),
            ("Access-Control-Request-Method", "GET"),
            ("Origin", "https://evil.example"),
        ],
    );
    assert_refused(&r, 400, "forwarded-headers-invalid");
    let r = s.get("/ext-authz/api/x", &[("X-Forwarded-Uri", "/public")]);
    assert_refused(&r, 400, "forwarded-headers-invalid");
    // Headers that agree are fine.
    let r = s.get(
        "/auth",
        &[
            ("X-Original-Method", "DELETE"),
            ("X-Forwarded-Method", "DELETE"),
            ("X-Original-URI", "/admin/users/7"),
            ("X-Forwarded-Uri", "/admin/users/7"),
            ("Authorization", member_auth.as_str()),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");

    assert_eq!(
        metric(
            &s,
            "clerk_verify_requests_total{result=\"bad-request\",reason=\"forwarded-headers-invalid\"}"
        ),
        15
    );
    // The log says why, at warn, without a token.
    let wanted = "level=warn target=clerk_verify::serve event=auth status=400 result=bad-request";
    let log = s.log_when(|log| log.matches(wanted).count() >= 15);
    assert_eq!(log.matches(wanted).count(), 15, "{log}");
    assert!(log.contains("detail=\"the forwarded request's headers cannot be trusted: X-Original-URI and X-Forwarded-Uri disagree on the URI\""), "{log}");
    assert!(!log.contains(t.rsplit('.').next().unwrap()), "{log}");
}

/// With `--proxy`, serve reads that proxy's headers only, and they must be there.
#[test]
fn a_named_proxy_s_headers_are_required() {
    let jwks = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let url = jwks.jwks_url();
    let t = member();
    let auth = format!("Bearer {t}");
    let traefik = [
        ("X-Forwarded-Method", "DELETE"),
        ("X-Forwarded-Uri", "/admin/users/7"),
        ("X-Forwarded-Host", "app.example.com"),
        ("X-Forwarded-Proto", "https"),
        ("Authorization", auth.as_str()),
    ];
    let nginx = [
        ("X-Original-Method", "DELETE"),
        ("X-Original-URI", "/admin/users/7"),
        ("Authorization", auth.as_str()),
    ];
    for (proxy, ok, other) in [
        ("traefik", &traefik[..], &nginx[..]),
        ("caddy", &traefik[..], &nginx[..]),
        ("nginx", &nginx[..], &traefik[..]),
    ] {
        let s = Serve::start(&["--proxy", proxy, "--jwks", &url]);
        s.wait_ready();
        let r = s.get("/auth", ok);
        assert_eq!(r.status, 200, "{proxy}: {r:?}");
        let r = s.get("/auth", other);
        assert_refused(&r, 400, "forwarded-headers-invalid");
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains(&format!("is missing, and --proxy {proxy} always sends it")),
            "{r:?}"
        );
        // Nothing at all (a direct call) is refused too.
        let r = s.get("/auth", &[("Authorization", auth.as_str())]);
        assert_refused(&r, 400, "forwarded-headers-invalid");
        let log = s.log_when(|log| log.contains("status=200"));
        assert!(
            log.contains(&format!("proxy={proxy}"))
                && log.contains("method=DELETE path=/admin/users/7"),
            "{log}"
        );
    }
    // Envoy's: the check's own method, path and Host; /auth is not Envoy's route (500).
    let s = Serve::start_with_env(&["--jwks", &url], &[("CLERK_PROXY", "envoy")]);
    s.wait_ready();
    let r = s.request(
        "DELETE",
        "/ext-authz/admin/users/7",
        &[
            ("Host", "app.example.com"),
            ("Authorization", auth.as_str()),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let r = s.get("/auth", &[("Authorization", auth.as_str())]);
    assert_refused(&r, 500, "config-invalid");
    let wanted = "method=DELETE path=/admin/users/7 user=user_member";
    let refused = "--proxy envoy: Envoy's ext_authz asks on /ext-authz";
    // Wait for both lines: the log is read as it comes.
    let log = s.log_when(|log| log.contains(wanted) && log.contains(refused));
    assert!(
        log.contains(wanted) && log.contains("host=app.example.com"),
        "{log}"
    );
    assert!(log.contains(refused), "{log}");
}

#[test]
fn envoy_ext_authz_prefix_ignores_the_clients_query() {
    let (_jwks, s) = start_remote(&[]);
    // Envoy appends the client's path and query: `?role=` there is the client's, not a policy.
    let r = get(
        &s,
        "/ext-authz/api/orders?role=org:admin&page=2",
        &[bearer(&member())],
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-clerk-user-id"), Some("user_member"));
    assert_refused(
        &get(&s, "/ext-authz/", &[]),
        401,
        "session-token-and-uat-missing",
    );
    assert_eq!(get(&s, "/ext-authz", &[bearer(&user("u"))]).status, 200);
    // Only /auth and /ext-authz/… check; look-alikes are 404.
    for path in ["/auth/", "/auth/x", "/authz", "/ext-authzz", "/"] {
        assert_eq!(get(&s, path, &[bearer(&user("u"))]).status, 404, "{path}");
    }
}

#[test]
fn health_readiness_metrics_and_logs() {
    let (jwks, s) = start_remote(&[]);
    assert_eq!(s.get("/healthz", &[]).status, 200);
    assert_eq!(s.get("/readyz", &[]).body, "ready\n");
    assert_eq!(s.request("POST", "/healthz", &[]).status, 405);
    assert_eq!(s.get("/nope", &[]).status, 404);
    assert_eq!(s.request("HEAD", "/metrics", &[]).status, 200);

    let token = user("user_logged");
    let r = get(
        &s,
        "/auth",
        &[
            bearer(&token),
            ("X-Original-URI", "/orders/7?secret=shh&x=1".to_owned()),
        ],
    );
    assert_eq!(r.status, 200);
    assert_eq!(get(&s, "/auth", &[]).status, 401);
    // Tamper with the signature away from its last character (whose trailing bits must stay
    // zero for the base64url to be canonical).
    let at = token.len() - 10;
    let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
    let bad_sig = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
    assert_eq!(get(&s, "/auth", &[bearer(&bad_sig)]).status, 401);
    assert_eq!(
        get(&s, "/auth?role=org:admin", &[bearer(&token)]).status,
        403
    );

    let m = s.get("/metrics", &[]);
    assert_eq!(
        m.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let line = |l: &str| metric(&s, l);
    assert_eq!(
        line("clerk_verify_requests_total{result=\"signed-in\",reason=\"none\"}"),
        1
    );
    assert_eq!(
        line("clerk_verify_requests_total{result=\"unauthorized\",reason=\"session-token-and-uat-missing\"}"),
        1
    );
    assert_eq!(
        line("clerk_verify_requests_total{result=\"unauthorized\",reason=\"token-invalid-signature\"}"),
        1
    );
    assert_eq!(
        line("clerk_verify_requests_total{result=\"forbidden\",reason=\"missing-role\"}"),
        1
    );
    assert_eq!(line("clerk_verify_request_duration_seconds_count"), 4);
    assert_eq!(
        line("clerk_verify_request_duration_seconds_bucket{le=\"+Inf\"}"),
        4
    );
    // The warm-up fetched once; verification used the cached key.
    assert_eq!(
        line("clerk_verify_jwks_fetches_total{outcome=\"success\"}"),
        1
    );
    assert_eq!(
        line("clerk_verify_jwks_fetches_total{outcome=\"failure\"}"),
        0
    );
    assert_eq!(jwks.hits(), 1);

    // One key=value line per decision; never a token, never the query.
    let log = s.log_when(|log| log.matches("event=auth ").count() >= 4);
    let decisions: Vec<&str> = log.lines().filter(|l| l.contains("event=auth ")).collect();
    assert_eq!(decisions.len(), 4, "{log}");
    assert!(decisions[0].contains(
        "status=200 result=signed-in method=GET path=/orders/7 user=user_logged session=sess_test123"
    ));
    assert!(
        decisions[1].contains("status=401 result=unauthorized")
            && decisions[1].contains("reason=session-token-and-uat-missing")
    );
    assert!(decisions[3].contains("reason=missing-role"));
    for l in &decisions {
        assert!(
            l.starts_with("ts=") && l.contains(" level=info target=clerk_verify::serve "),
            "{l}"
        );
    }
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !log.contains(signature) && !log.contains("secret=shh"),
        "{log}"
    );
    assert!(!log.contains(bad_sig.rsplit('.').next().unwrap()));
}

/// A session with these billing claims (`fea`, `pla`) and factor ages (`fva`), in org_1.
fn subscriber(sub: &str, fea: &str, pla: &str, fva: [i64; 2]) -> String {
    sign(
        TokenBuilder::session(sub, now_unix())
            .claim("fea", fea)
            .claim("pla", pla)
            .claim("fva", json!(fva))
            .claim("o", json!({"id": "org_1", "rol": "member"})),
    )
}

#[test]
fn features_plans_and_reverification_from_the_query() {
    let (_jwks, s) = start_remote(&[]);
    // Verified a minute ago with both factors; an organization feature and plan.
    let entitled = subscriber("user_e", "o:reports,u:export", "o:pro", [1, 1]);
    // First factor 30 minutes ago, no second factor; user items only.
    let stale = subscriber("user_s", "u:reports", "u:free", [30, -1]);
    for path in [
        "/auth?feature=reports",
        "/auth?feature=o%3Areports&feature=user:export",
        "/auth?plan=pro",
        "/auth?plan=organization:pro",
        "/auth?reverification=strict_mfa",
        "/auth?reverification=first_factor%3A5",
        "/auth?org=required&role=member&feature=reports&plan=o:pro&reverification=strict",
    ] {
        let r = get(&s, path, &[bearer(&entitled)]);
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.header("x-clerk-user-id"), Some("user_e"));
    }
    for (path, reason) in [
        ("/auth?feature=o:reports", "missing-feature"),
        ("/auth?feature=reports&feature=export", "missing-feature"),
        ("/auth?plan=pro", "missing-plan"),
        ("/auth?plan=o:free", "missing-plan"),
        ("/auth?reverification=strict", "reverification-error"),
        // The plan is checked before the reverification.
        ("/auth?plan=pro&reverification=strict", "missing-plan"),
    ] {
        let r = get(&s, path, &[bearer(&stale)]);
        assert_refused(&r, 403, reason);
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer error=\"insufficient_scope\""),
            "{path}"
        );
    }
    assert_eq!(
        get(
            &s,
            "/auth?feature=u:reports&plan=free&reverification=moderate",
            &[bearer(&stale)]
        )
        .status,
        200
    );
    // A failed reverification answers with Clerk's hint after our three members.
    let r = get(&s, "/auth?reverification=strict", &[bearer(&stale)]);
    assert!(
        r.body
            .starts_with(r#"{"error":"forbidden","reason":"reverification-error","message":"#),
        "{r:?}"
    );
    assert_eq!(
        r.json()["clerk_error"],
        json!({"type": "forbidden", "reason": "reverification-error",
            "metadata": {"reverification": "strict"}})
    );
    let r = get(
        &s,
        "/auth?reverification=second_factor:5",
        &[bearer(&stale)],
    );
    assert_eq!(
        r.json()["clerk_error"]["metadata"]["reverification"],
        json!({"level": "second_factor", "afterMinutes": 5})
    );
    // Not signed in is still 401.
    assert_refused(
        &get(&s, "/auth?reverification=lax", &[]),
        401,
        "session-token-and-uat-missing",
    );
    // A value that can never match is the proxy configuration's mistake: 500 for everyone,
    // never a requirement dropped.
    for bad in [
        "/auth?feature=team:reports",
        "/auth?features=reports",
        "/auth?plan=",
        "/auth?plan=o:pro:x",
        "/auth?reverification=sometimes",
        "/auth?reverification=second_factor:0",
        "/auth?reverification=strict&reverification=lax",
    ] {
        let r = get(&s, bad, &[bearer(&entitled)]);
        assert_refused(&r, 500, "config-invalid");
    }
    let log = s.log_when(|log| log.contains("sometimes"));
    assert!(log.contains("reverification \\\"sometimes\\\""), "{log}");
}

#[test]
fn allow_unauthenticated_lets_anonymous_requests_through_without_identity() {
    let (_jwks, s) = start_remote(&["--allow-unauthenticated"]);
    for (headers, reason) in [
        (vec![], "session-token-and-uat-missing"),
        (
            vec![("Authorization", "Bearer nope".to_owned())],
            "token-invalid",
        ),
        (
            vec![("X-Clerk-User-Id", "user_evil".to_owned())],
            "session-token-and-uat-missing",
        ),
    ] {
        let r = get(&s, "/auth", &headers);
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(
            clerk_headers(&r),
            [
                ("x-clerk-auth-status".to_owned(), "signed-out".to_owned()),
                ("x-clerk-auth-reason".to_owned(), reason.to_owned()),
            ]
        );
    }
    // Signed-in users still get their identity.
    assert_eq!(
        get(&s, "/auth", &[bearer(&user("user_1"))]).header("x-clerk-user-id"),
        Some("user_1")
    );
    // A location that requires something requires a session.
    assert_refused(
        &get(&s, "/auth?org=required", &[]),
        401,
        "session-token-and-uat-missing",
    );
    assert_eq!(
        metric(
            &s,
            "clerk_verify_requests_total{result=\"signed-out\",reason=\"session-token-and-uat-missing\"}"
        ),
        2
    );
    // So does one that requires a feature, a plan or a recent verification.
    for path in [
        "/auth?feature=reports",
        "/auth?plan=pro",
        "/auth?reverification=lax",
    ] {
        assert_refused(&get(&s, path, &[]), 401, "session-token-and-uat-missing");
    }
}

#[test]
fn key_source_down_is_503_never_200_and_readiness_follows_the_keys() {
    let jwks = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    jwks.set_fault(Fault::Status(500));
    let url = jwks.jwks_url();
    for extra in [&[][..], &["--allow-unauthenticated"][..]] {
        let mut args = vec!["--jwks", url.as_str(), "--fetch-timeout-ms", "1000"];
        args.extend_from_slice(extra);
        let s = Serve::start(&args);
        assert_eq!(s.get("/healthz", &[]).status, 200);
        let r = s.get("/readyz", &[]);
        assert_eq!(
            (r.status, r.body.as_str()),
            (503, "not ready: the keys are not loaded\n")
        );
        let r = get(&s, "/auth", &[bearer(&user("user_1"))]);
        assert_refused(&r, 503, "jwk-remote-failed-to-load");
        assert_eq!(r.json()["error"], "service_unavailable");
        // The client gets a generic message; the operator's log gets the cause.
        assert!(
            !r.body.contains("127.0.0.1") && !r.body.contains("500"),
            "{r:?}"
        );
        assert!(r.header("www-authenticate").is_none());
        let wanted = "level=warn target=clerk_verify::serve event=auth status=503";
        assert!(s.log_when(|log| log.contains(wanted)).contains(wanted));
        assert!(metric(&s, "clerk_verify_jwks_fetches_total{outcome=\"failure\"}") >= 1);
        assert_eq!(
            metric(
                &s,
                "clerk_verify_requests_total{result=\"unavailable\",reason=\"jwk-remote-failed-to-load\"}"
            ),
            1
        );
    }

    // A hanging key source: bounded by --fetch-timeout-ms, still 503.
    jwks.set_fault(Fault::Hang);
    let s = Serve::start(&["--jwks", &url, "--fetch-timeout-ms", "500"]);
    let started = Instant::now();
    assert_eq!(get(&s, "/auth", &[bearer(&user("u"))]).status, 503);
    assert!(started.elapsed() < Duration::from_secs(5));

    // The source recovers: the background retry loads the keys, /readyz turns 200, users pass.
    jwks.set_fault(Fault::None);
    s.wait_ready();
    assert_eq!(get(&s, "/auth", &[bearer(&user("u"))]).status, 200);
    assert!(s
        .log_when(|log| log.contains("event=keys-loaded keys=1"))
        .contains("event=keys-loaded keys=1"));
}

#[test]
fn fixed_keys_are_ready_at_once() {
    let dir = std::env::temp_dir().join(format!("clerk-serve-fixed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("key.pem");
    std::fs::write(&pem, fixtures::rsa2048().public_pem()).unwrap();
    let s = Serve::start(&["--pem", pem.to_str().unwrap()]);
    assert_eq!(s.get("/readyz", &[]).status, 200);
    assert_eq!(
        get(&s, "/auth", &[bearer(&user("user_pem"))]).header("x-clerk-user-id"),
        Some("user_pem")
    );
    assert!(s
        .log_when(|log| log.contains("keys=fixed"))
        .contains("keys=fixed"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn frontend_api_url_from_the_flag_or_the_environment() {
    let jwks = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let s = Serve::start(&["--frontend-api-url", &jwks.url()]);
    s.wait_ready();
    assert_eq!(get(&s, "/auth", &[bearer(&user("user_fe"))]).status, 200);
    let s = Serve::start_with_env(
        &[],
        &[
            ("CLERK_FRONTEND_API_URL", &jwks.url()),
            ("CLERK_AUTHORIZED_PARTIES", "https://app.example"),
        ],
    );
    s.wait_ready();
    let wanted = format!("keys={}/.well-known/jwks.json", jwks.url());
    assert!(s.log_when(|log| log.contains(&wanted)).contains(&wanted));
    // CLERK_AUTHORIZED_PARTIES applies: the fixture's azp is http://localhost:3000.
    assert_refused(
        &get(&s, "/auth", &[bearer(&user("user_fe"))]),
        401,
        "token-invalid-authorized-parties",
    );
}

#[test]
fn sigterm_lets_the_requests_in_flight_finish() {
    let jwks = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    // The first fetch takes 1.5 s: a request arriving now waits for it on the blocking pool.
    jwks.set_fault(Fault::Delay(Duration::from_millis(1500)));
    let mut s = Serve::start(&["--jwks", &jwks.jwks_url()]);
    let addr = s.addr;
    let token = user("user_in_flight");
    let in_flight = std::thread::spawn(move || {
        support::request(
            addr,
            "GET",
            "/auth",
            &[("Authorization", &format!("Bearer {token}"))],
        )
    });
    std::thread::sleep(Duration::from_millis(400));
    s.sigterm();
    // New connections are refused once the listener is closed; the one in flight is answered.
    let start = Instant::now();
    while std::net::TcpStream::connect(addr).is_ok() {
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "still accepting after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = in_flight.join().unwrap();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-clerk-user-id"), Some("user_in_flight"));
    let status = s.wait_exit();
    assert!(status.success(), "{status}");
    let log = s.log_when(|log| log.contains("event=stopped"));
    let shutting = log.find("event=shutting-down").expect(&log);
    let answered = log.find("event=auth status=200").expect(&log);
    let stopped = log.find("event=stopped").expect(&log);
    assert!(shutting < answered && answered < stopped, "{log}");
}

#[test]
fn help_and_usage_errors() {
    let bin = env!("CARGO_BIN_EXE_clerk-verify");
    let help = std::process::Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8(help.stdout).unwrap();
    for needle in [
        "--listen <ADDR>",
        "127.0.0.1:8787",
        "--frontend-api-url <URL>",
        "--authorized-party <URL>",
        "--audience <AUD>",
        "--issuer <ISS>",
        "--clock-skew-ms <N>",
        "--allow-unauthenticated",
        "--jwks <FILE|URL>",
        "--secret-key-file <FILE>",
        "--fetch-timeout-ms <N>",
        "--proxy <PROXY>",
        "CLERK_PROXY",
        "forwarded-headers-invalid",
        "CLERK_FRONTEND_API_URL",
        "CLERK_AUTHORIZED_PARTIES",
        "CLERK_AUDIENCE",
        "CLERK_ISSUER",
        "CLERK_CLOCK_SKEW_MS",
        "CLERK_JWT_KEY",
        "CLERK_JWKS_URL",
        "CLERK_SECRET_KEY",
        "CLERK_PUBLISHABLE_KEY",
        "CLERK_API_URL",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .args(args)
            .env_remove("CLERK_JWT_KEY")
            .env_remove("CLERK_JWKS_URL")
            .env_remove("CLERK_FRONTEND_API_URL")
            .env_remove("CLERK_SECRET_KEY")
            .env_remove("CLERK_PUBLISHABLE_KEY")
            .output()
            .unwrap()
    };
    // Two key sources, no key source, a port in use: exit 2 with one line.
    let two = run(&[
        "serve",
        "--frontend-api-url",
        "https://clerk.example.com",
        "--jwks",
        "x.json",
    ]);
    assert_eq!(two.status.code(), Some(2));
    let none = run(&["serve"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no key given"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().to_string();
    let busy = run(&[
        "serve",
        "--listen",
        &port,
        "--frontend-api-url",
        "https://clerk.example.com",
    ]);
    assert_eq!(busy.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("cannot listen on"));
}

/// The number of threads of process `pid`, from `/proc/<pid>/status`.
#[cfg(target_os = "linux")]
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no thread count in {status}"))
}

/// Issue 19, item 8: the key source accepts connections but never answers. A few hundred
/// concurrent requests signed by a key it does not publish share one fetch; each gets its 503
/// within the fetch timeout plus the core's `KEY_WAIT_SLACK`, and `serve` does not grow a thread
/// per waiting request (it grew to the blocking pool's 512 before).
#[cfg(target_os = "linux")]
#[test]
fn a_hanging_key_source_answers_within_the_timeout_without_a_thread_per_request() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Barrier;

    const CONNECTIONS: usize = 300;
    // Far fewer than the connections: the runtime's workers, a blocking thread for the
    // background refresh, and a couple for the one fetch.
    const MAX_THREADS: usize = 40;
    let timeout = Duration::from_millis(1000);
    let jwks = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let s = Serve::start(&["--jwks", &jwks.jwks_url(), "--fetch-timeout-ms", "1000"]);
    s.wait_ready();
    let loads = jwks.hits();
    jwks.set_fault(Fault::Hang);
    // An unknown kid refetches once the refetch interval (5 s) since the load has passed.
    std::thread::sleep(Duration::from_millis(5100));
    let before = threads(s.pid());
    let stranger = TokenBuilder::session("user_1", now_unix()).sign(fixtures::rsa2048_b());
    let header = format!("Bearer {stranger}");

    let peak = AtomicUsize::new(before);
    let done = AtomicBool::new(false);
    let barrier = Barrier::new(CONNECTIONS);
    let answers: Vec<(u16, String, Duration)> = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                peak.fetch_max(threads(s.pid()), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let clients: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let started = Instant::now();
                    let r = s.get("/auth", &[("Authorization", &header)]);
                    let reason = r.json()["reason"].as_str().unwrap_or_default().to_owned();
                    (r.status, reason, started.elapsed())
                })
            })
            .collect();
        let answers = clients.into_iter().map(|c| c.join().unwrap()).collect();
        done.store(true, Ordering::SeqCst);
        answers
    });
    let after = threads(s.pid());
    let slowest = answers.iter().map(|(_, _, took)| *took).max().unwrap();
    let peak = peak.into_inner();
    // The server's own measure of each decision (`us=`, as an operator reads it).
    let wanted = "event=auth status=503";
    let log = s.log_when(|log| log.matches(wanted).count() >= CONNECTIONS);
    let server_slowest = log
        .lines()
        .filter(|l| l.contains(wanted))
        .filter_map(|l| l.split(" us=").nth(1)?.split(' ').next()?.parse().ok())
        .map(Duration::from_micros)
        .max()
        .unwrap();
    eprintln!(
        "{CONNECTIONS} connections: slowest answer {slowest:?} ({server_slowest:?} in serve's \
         log); threads {before} before, {peak} at the peak, {after} after"
    );
    for (status, reason, _) in &answers {
        assert_eq!(
            (*status, reason.as_str()),
            (503, "jwk-remote-failed-to-load")
        );
    }
    assert_eq!(log.matches(wanted).count(), CONNECTIONS, "{log}");
    let bound = timeout + clerk_verify::remote::KEY_WAIT_SLACK;
    assert!(server_slowest <= bound, "{server_slowest:?}");
    // Seen from the clients, plus 300 connections' setup on a shared machine.
    assert!(slowest <= bound + Duration::from_millis(500), "{slowest:?}");
    assert_eq!(jwks.hits(), loads + 1, "one fetch for all of them");
    assert!(peak < MAX_THREADS, "{peak} threads at the peak");
    assert!(after < MAX_THREADS, "{after} threads after");
}
