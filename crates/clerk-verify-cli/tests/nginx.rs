//! `clerk-verify serve --proxy nginx` behind a real nginx (`auth_request`), as docs/gateway.md
//! configures it: the upstream sees the user only when `/auth` says so, never a client's own
//! `X-Clerk-*` headers, and is never reached by a refused request; no header a client forges
//! changes the answer.
//!
//! nginx comes from the distribution (`.ci/run` installs it). Without it the test fails under
//! CI (`CI` set) and, run by hand, prints a loud notice and passes without checking anything.

mod support;

use clerk_dev::{fixtures, now_unix, Fault, JwksServer, TokenBuilder};
use support::forgery::forged_requests;
use support::{
    admin, member, nginx_gateway, passed, refused, seen, sign, AuthLocation, Serve, Upstream,
    NGINX_AUTH_CONF, NGINX_IDENTITY_CONF,
};

/// docs/gateway.md shows exactly the snippets this test runs.
#[test]
fn the_docs_show_the_tested_nginx_snippets() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/gateway.md"
    ))
    .expect("docs/gateway.md");
    for snippet in [NGINX_IDENTITY_CONF, NGINX_AUTH_CONF] {
        let fenced = format!("```nginx\n{snippet}```");
        assert!(doc.contains(&fenced), "docs/gateway.md lacks:\n{snippet}");
    }
}

#[test]
fn nginx_auth_request_puts_clerk_in_front_of_a_service() {
    let Some(nginx_bin) = support::required_proxy("nginx", support::nginx_binary()) else {
        return;
    };

    let keys = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let dead = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    dead.set_fault(Fault::Status(500));
    let strict = Serve::start(&[
        "--proxy",
        "nginx",
        "--jwks",
        &keys.jwks_url(),
        "--authorized-party",
        "http://localhost:3000",
    ]);
    let optional = Serve::start_with_env(
        &["--jwks", &keys.jwks_url(), "--allow-unauthenticated"],
        &[("CLERK_PROXY", "nginx")],
    );
    let down = Serve::start(&[
        "--proxy",
        "nginx",
        "--jwks",
        &dead.jwks_url(),
        "--fetch-timeout-ms",
        "1000",
    ]);
    strict.wait_ready();
    optional.wait_ready();
    let up = Upstream::start();

    let auth = |name, serve: &Serve, query| AuthLocation {
        name,
        serve: serve.addr,
        query,
    };
    let nginx = nginx_gateway(
        &nginx_bin,
        "gateway",
        &[
            auth("auth", &strict, ""),
            auth("admin", &strict, "?role=org:admin"),
            auth("optional", &optional, ""),
            auth("down", &down, ""),
        ],
        &[
            ("/", "auth"),
            ("/admin/", "admin"),
            ("/public/", "optional"),
            ("/down/", "down"),
        ],
        up.port,
    );
    let go = |path: &str, headers: &[(&str, &str)]| nginx.request("GET", path, headers);
    let (member, admin) = (member(), admin());
    let member_auth = format!("Bearer {member}");
    let admin_auth = format!("Bearer {admin}");

    // A valid token: the upstream sees the user, the org and the status.
    let n = up.hits();
    let r = passed(
        &up,
        n,
        go("/api/orders?page=2", &[("Authorization", &member_auth)]),
    );
    assert_eq!(seen(&r, "x-clerk-user-id"), ["user_member"]);
    assert_eq!(seen(&r, "x-clerk-session-id"), ["sess_test123"]);
    assert_eq!(seen(&r, "x-clerk-org-id"), ["org_1"]);
    assert_eq!(seen(&r, "x-clerk-org-role"), ["org:member"]);
    assert_eq!(seen(&r, "x-clerk-org-permissions"), ["org:invoices:read"]);
    assert_eq!(seen(&r, "x-clerk-auth-status"), ["signed-in"]);
    assert!(seen(&r, "x-clerk-auth-reason").is_empty());
    // /auth saw the original method, URI and host.
    let wanted = "status=200 result=signed-in method=GET path=/api/orders user=user_member";
    let log = strict.log_when(|log| log.contains(wanted));
    let line = log.lines().find(|l| l.contains(wanted)).expect(&log);
    assert!(line.contains(" host=127.0.0.1 "), "{line}");

    // Missing or invalid: 401 with the challenge and the reason, and the upstream never reached.
    for (headers, reason) in [
        (vec![], "session-token-and-uat-missing"),
        (vec![("Authorization", "Bearer nope")], "token-invalid"),
        (
            vec![
                ("X-Clerk-User-Id", "user_evil"),
                ("X-Clerk-Auth-Status", "signed-in"),
            ],
            "session-token-and-uat-missing",
        ),
    ] {
        let n = up.hits();
        let r = go("/api/orders", &headers);
        refused(&up, n, &r, 401);
        assert!(
            r.header("www-authenticate")
                .is_some_and(|c| c.starts_with("Bearer")),
            "{r:?}"
        );
        assert_eq!(r.header("x-clerk-auth-reason"), Some(reason));
    }

    // Spoofing: whatever the client sends under X-Clerk-* names (any case) is overwritten.
    let n = up.hits();
    let r = passed(
        &up,
        n,
        go(
            "/api/orders",
            &[
                ("Authorization", &member_auth),
                ("X-Clerk-User-Id", "user_evil"),
                ("x-clerk-org-role", "org:admin"),
                ("X-CLERK-ORG-PERMISSIONS", "org:everything:manage"),
                ("X-Clerk-Auth-Reason", "trust-me"),
            ],
        ),
    );
    assert_eq!(seen(&r, "x-clerk-user-id"), ["user_member"]);
    assert_eq!(seen(&r, "x-clerk-org-role"), ["org:member"]);
    assert_eq!(seen(&r, "x-clerk-org-permissions"), ["org:invoices:read"]);
    assert!(seen(&r, "x-clerk-auth-reason").is_empty());

    // A role= location: 403 to a member (upstream not reached), 200 to an admin.
    let n = up.hits();
    let r = go("/admin/users", &[("Authorization", &member_auth)]);
    refused(&up, n, &r, 403);
    let r = passed(
        &up,
        n,
        go("/admin/users", &[("Authorization", &admin_auth)]),
    );
    assert_eq!(seen(&r, "x-clerk-org-role"), ["org:admin"]);

    // A browser's cookie session (with Clerk's __client_uat) passes; without it, refused.
    let now = now_unix();
    let cookie_token = sign(TokenBuilder::session("user_cookie", now));
    let cookie = format!("__session={cookie_token}; __client_uat={}", now - 30);
    let n = up.hits();
    let r = passed(&up, n, go("/api/me", &[("Cookie", &cookie)]));
    assert_eq!(seen(&r, "x-clerk-user-id"), ["user_cookie"]);
    let n = up.hits();
    let stale = format!("__session={cookie_token}");
    let r = go("/api/me", &[("Cookie", &stale)]);
    refused(&up, n, &r, 401);
    assert_eq!(
        r.header("x-clerk-auth-reason"),
        Some("session-token-but-no-client-uat")
    );

    // --allow-unauthenticated: anonymous requests pass without identity, spoofed or not.
    let n = up.hits();
    let r = passed(
        &up,
        n,
        go(
            "/public/feed",
            &[
                ("X-Clerk-User-Id", "user_evil"),
                ("X-Clerk-Org-Id", "org_evil"),
            ],
        ),
    );
    assert!(seen(&r, "x-clerk-user-id").is_empty(), "{r:?}");
    assert!(seen(&r, "x-clerk-org-id").is_empty(), "{r:?}");
    assert_eq!(seen(&r, "x-clerk-auth-status"), ["signed-out"]);
    assert_eq!(
        seen(&r, "x-clerk-auth-reason"),
        ["session-token-and-uat-missing"]
    );
    let n = up.hits();
    let r = passed(
        &up,
        n,
        go("/public/feed", &[("Authorization", &admin_auth)]),
    );
    assert_eq!(seen(&r, "x-clerk-user-id"), ["user_admin"]);

    // A browser's CORS preflight passes to the service's own CORS handling, without identity,
    // on a role= location too.
    for path in ["/api/orders", "/admin/users/7"] {
        let n = up.hits();
        let r = nginx.request(
            "OPTIONS",
            path,
            &[
                ("Origin", "http://localhost:3000"),
                ("Access-Control-Request-Method", "DELETE"),
                ("X-Clerk-User-Id", "user_evil"),
            ],
        );
        let r = passed(&up, n, r);
        assert!(seen(&r, "x-clerk-user-id").is_empty());
        assert_eq!(seen(&r, "x-clerk-auth-status"), ["signed-out"]);
    }
    // An OPTIONS without Origin is no preflight: it needs a token.
    let n = up.hits();
    let r = nginx.request(
        "OPTIONS",
        "/api/orders",
        &[("Access-Control-Request-Method", "POST")],
    );
    refused(&up, n, &r, 401);

    // Every header a client forges to change the method, URI, host or scheme /auth judges (a
    // preflight skips the token): nginx overwrites or removes each, so the answer is the one
    // the same request gets without them, and the upstream never sees it.
    let forged = forged_requests("/api/orders/7", "/admin/users/7", &member);
    for f in &forged {
        let n = up.hits();
        let r = nginx.request(f.client.method, &f.client.path, &f.client.header_refs());
        assert_eq!(r.status, f.baseline, "{}: {r:?}", f.what);
        assert_eq!(up.hits(), n, "{} reached the upstream", f.what);
    }
    // serve saw nginx's facts only: not one forged request was judged a preflight, or a 400.
    let log = strict.log();
    assert!(!log.contains("result=preflight method=GET"), "{log}");
    assert!(!log.contains("result=bad-request"), "{log}");
    assert!(
        log.contains("status=401 result=unauthorized method=DELETE path=/admin/users/7"),
        "{log}"
    );

    // The key source is down: /auth answers 503, which auth_request turns into 500. Never 200,
    // and the upstream is never reached, even with a valid token.
    let admin_token = admin.clone();
    let n = up.hits();
    let r = go(
        "/down/x",
        &[("Authorization", &format!("Bearer {admin_token}"))],
    );
    refused(&up, n, &r, 500);
    let wanted = "event=auth status=503 result=unavailable";
    assert!(down.log_when(|log| log.contains(wanted)).contains(wanted));

    // Nothing went wrong inside nginx besides the expected refusals.
    let errors = nginx.error_log();
    assert!(
        !errors.contains("[crit]") && !errors.contains("[emerg]"),
        "{errors}"
    );
}
