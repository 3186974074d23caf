//! `clerk-verify serve --proxy caddy` behind a real Caddy (`forward_auth`), running
//! docs/gateway.md's Caddyfile as written (only its three addresses changed): the upstream sees
//! the user only when `/auth` says so, never a client's own `X-Clerk-*` headers nor Caddy's
//! unresolved placeholders, is never reached by a refused request, and no header a client forges
//! changes the answer.
//!
//! Caddy comes from the distribution (`.ci/run` installs it; Debian has 2.6.2). Without it the
//! test fails under CI (`CI` set) and, run by hand, prints a loud notice and passes without
//! checking anything.

mod support;

use clerk_dev::{fixtures, now_unix, JwksServer, TokenBuilder};
use std::path::Path;
use support::forgery::forged_requests;
use support::{admin, member, refused, seen, sign, Caddy, Reply, Serve, Upstream};

/// The Caddyfile of docs/gateway.md, verbatim.
fn documented_caddyfile() -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/gateway.md"
    ))
    .expect("docs/gateway.md");
    let section = &doc[doc.find("### Caddy").expect("a Caddy section")..];
    let start = section.find("```caddyfile\n").expect("a caddyfile block") + 13;
    let end = start + section[start..].find("\n```").expect("the block's end");
    section[start..end].to_owned() + "\n"
}

/// Caddy running the documented Caddyfile in front of `up`, asking `serve`.
fn documented_caddy(binary: &Path, name: &str, serve: &Serve, up: &Upstream) -> Caddy {
    let documented = documented_caddyfile();
    assert!(
        documented.starts_with("app.example.com {\n"),
        "{documented}"
    );
    let site = documented
        .replacen("app.example.com {", "ADDR {", 1)
        .replace("127.0.0.1:8787", &serve.addr.to_string())
        .replace("127.0.0.1:3000", &format!("127.0.0.1:{}", up.port));
    Caddy::start(binary, name, &site)
}

/// The `X-Clerk-*` lines of the upstream's echo, sorted.
fn clerk_lines(r: &Reply) -> Vec<&str> {
    let mut clerk: Vec<&str> = r
        .body
        .lines()
        .filter(|l| l.starts_with("x-clerk-"))
        .collect();
    clerk.sort_unstable();
    clerk
}

/// Asserts the request went through to the upstream (one more hit) and that no header there
/// holds a placeholder Caddy left unresolved; returns the upstream's echo.
fn passed(up: &Upstream, before: usize, r: Reply) -> Reply {
    let r = support::passed(up, before, r);
    assert!(
        !r.body.contains('{'),
        "a placeholder reached the upstream: {r:?}"
    );
    r
}

#[test]
fn the_docs_caddyfile_holds_behind_a_real_caddy() {
    let Some(caddy_bin) = support::required_proxy("caddy", support::caddy_binary()) else {
        return;
    };
    let keys = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let serve = Serve::start(&["--proxy", "caddy", "--jwks", &keys.jwks_url()]);
    serve.wait_ready();
    let up = Upstream::start();
    let caddy = documented_caddy(&caddy_bin, "gateway", &serve, &up);
    let (member, admin) = (member(), admin());
    let member_auth = format!("Bearer {member}");
    let admin_auth = format!("Bearer {admin}");

    // A valid token: the upstream sees the user, the org and the status, and no reason.
    let n = up.hits();
    let r = passed(
        &up,
        n,
        caddy.request(
            "GET",
            "/api/orders?page=2",
            &[("Authorization", &member_auth)],
        ),
    );
    assert_eq!(seen(&r, "x-clerk-user-id"), ["user_member"]);
    assert_eq!(seen(&r, "x-clerk-session-id"), ["sess_test123"]);
    assert_eq!(seen(&r, "x-clerk-org-id"), ["org_1"]);
    assert_eq!(seen(&r, "x-clerk-org-role"), ["org:member"]);
    assert_eq!(seen(&r, "x-clerk-org-permissions"), ["org:invoices:read"]);
    assert_eq!(seen(&r, "x-clerk-auth-status"), ["signed-in"]);
    assert!(seen(&r, "x-clerk-auth-reason").is_empty(), "{r:?}");
    // /auth judged Caddy's method, URI and host.
    let wanted = "status=200 result=signed-in method=GET path=/api/orders user=user_member";
    let log = serve.log_when(|log| log.contains(wanted));
    let line = log.lines().find(|l| l.contains(wanted)).expect(&log);
    assert!(
        line.contains(&format!(" host=127.0.0.1:{} ", caddy.port)),
        "{line}"
    );

    // A user without an organization: no org header reaches the upstream, not even the text
    // of Caddy's placeholder, nor the client's own.
    let plain = sign(TokenBuilder::session("user_plain", now_unix()));
    let n = up.hits();
    let r = passed(
        &up,
        n,
        caddy.request(
            "POST",
            "/api/orders",
            &[
                ("Authorization", &format!("Bearer {plain}")),
                ("X-Clerk-Org-Id", "org_evil"),
                ("x-clerk-org-role", "org:admin"),
                ("X-CLERK-ORG-PERMISSIONS", "org:everything:manage"),
                ("X-Clerk-Auth-Reason", "trust-me"),
                ("X-Clerk-User-Id", "user_evil"),
            ],
        ),
    );
    assert_eq!(seen(&r, "x-clerk-user-id"), ["user_plain"]);
    assert_eq!(
        clerk_lines(&r),
        [
            "x-clerk-auth-status: signed-in",
            "x-clerk-session-id: sess_test123",
            "x-clerk-user-id: user_plain"
        ],
        "{r:?}"
    );
    let wanted = "status=200 result=signed-in method=POST path=/api/orders user=user_plain";
    assert!(serve.log_when(|log| log.contains(wanted)).contains(wanted));

    // Missing or invalid: 401 with serve's JSON and challenge; the upstream never reached.
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
        let r = caddy.request("GET", "/api/orders", &headers);
        refused(&up, n, &r, 401);
        assert_eq!(r.json()["reason"], reason, "{r:?}");
        assert!(r
            .header("www-authenticate")
            .is_some_and(|c| c.starts_with("Bearer")));
    }

    // A role= location: 403 to a member, 200 to an admin.
    let n = up.hits();
    let r = caddy.request(
        "DELETE",
        "/admin/users/7",
        &[("Authorization", &member_auth)],
    );
    refused(&up, n, &r, 403);
    assert_eq!(r.json()["reason"], "missing-role");
    let r = passed(
        &up,
        n,
        caddy.request(
            "DELETE",
            "/admin/users/7",
            &[("Authorization", &admin_auth)],
        ),
    );
    assert_eq!(seen(&r, "x-clerk-org-role"), ["org:admin"]);
    let wanted = "status=200 result=signed-in method=DELETE path=/admin/users/7 user=user_admin";
    assert!(serve.log_when(|log| log.contains(wanted)).contains(wanted));

    // A browser's CORS preflight passes, on a role= location too, without identity.
    for path in ["/api/orders", "/admin/users/7"] {
        let n = up.hits();
        let r = caddy.request(
            "OPTIONS",
            path,
            &[
                ("Origin", "https://app.example.com"),
                ("Access-Control-Request-Method", "DELETE"),
                ("X-Clerk-User-Id", "user_evil"),
            ],
        );
        let r = passed(&up, n, r);
        assert!(seen(&r, "x-clerk-user-id").is_empty(), "{r:?}");
        assert_eq!(seen(&r, "x-clerk-auth-status"), ["signed-out"]);
    }
    // An OPTIONS without Origin is no preflight.
    let n = up.hits();
    let r = caddy.request(
        "OPTIONS",
        "/api/orders",
        &[("Access-Control-Request-Method", "GET")],
    );
    refused(&up, n, &r, 401);

    // Issue 19's request, through Caddy as the docs configure it, then every forged header:
    // Caddy removes or overwrites each, so the answer is the one the same request gets without
    // them, and the upstream never sees it.
    let n = up.hits();
    let r = caddy.request(
        "GET",
        "/admin/users",
        &[
            ("X-Forwarded-Method", "GET"),
            ("X-Original-Method", "OPTIONS"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    refused(&up, n, &r, 401);
    let preflights = serve.log().matches("result=preflight").count();
    for f in forged_requests("/api/orders/7", "/admin/users/7", &member) {
        let n = up.hits();
        let r = caddy.request(f.client.method, &f.client.path, &f.client.header_refs());
        assert_eq!(r.status, f.baseline, "{}: {r:?}", f.what);
        assert_eq!(up.hits(), n, "{} reached the upstream", f.what);
    }
    let log = serve.log();
    assert!(!log.contains("result=bad-request"), "{log}");
    assert_eq!(
        log.matches("result=preflight").count(),
        preflights,
        "a forged request was judged a preflight: {log}"
    );
}

/// Machine tokens through the same Caddyfile: the upstream sees the kind, the subject and the
/// scopes from `/auth`, never a client's copies (nor Caddy's placeholders for the headers an
/// answer lacks), and a session there is marked as one. JWT forms: no Backend API needed.
#[test]
fn the_docs_caddyfile_carries_machine_identities() {
    let Some(caddy_bin) = support::required_proxy("caddy", support::caddy_binary()) else {
        return;
    };
    let keys = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let serve = Serve::start(&[
        "--proxy",
        "caddy",
        "--jwks",
        &keys.jwks_url(),
        "--accepts-token",
        "any",
    ]);
    serve.wait_ready();
    let up = Upstream::start();
    let caddy = documented_caddy(&caddy_bin, "machines", &serve, &up);
    let forged = [
        ("X-Clerk-Token-Type", "session_token"),
        ("x-clerk-subject", "user_admin"),
        ("X-CLERK-SCOPES", "admin"),
        ("X-Clerk-User-Id", "user_admin"),
        ("X-Clerk-Session-Id", "sess_evil"),
    ];
    let now = now_unix();
    let m2m = sign(TokenBuilder::m2m("mch_1", now).claim("scopes", "read write"));
    let oauth = sign(TokenBuilder::oauth("user_4", now).claim("scp", serde_json::json!(["email"])));
    let session = sign(TokenBuilder::session("user_5", now));
    for (token, expected) in [
        (
            &m2m,
            &[
                "x-clerk-auth-status: signed-in",
                "x-clerk-scopes: read write",
                "x-clerk-subject: mch_1",
                "x-clerk-token-type: m2m_token",
            ][..],
        ),
        (
            &oauth,
            &[
                "x-clerk-auth-status: signed-in",
                "x-clerk-scopes: email",
                "x-clerk-subject: user_4",
                "x-clerk-token-type: oauth_token",
                "x-clerk-user-id: user_4",
            ][..],
        ),
        (
            &session,
            &[
                "x-clerk-auth-status: signed-in",
                "x-clerk-session-id: sess_test123",
                "x-clerk-token-type: session_token",
                "x-clerk-user-id: user_5",
            ][..],
        ),
    ] {
        let auth = format!("Bearer {token}");
        let mut headers = vec![("Authorization", auth.as_str())];
        headers.extend_from_slice(&forged);
        let n = up.hits();
        let r = passed(&up, n, caddy.request("GET", "/api/orders", &headers));
        assert_eq!(clerk_lines(&r), expected, "{r:?}");
    }
    // A machine on the role= location: 403, the upstream never reached.
    let n = up.hits();
    let auth = format!("Bearer {m2m}");
    let r = caddy.request("GET", "/admin/users", &[("Authorization", &auth)]);
    refused(&up, n, &r, 403);
    assert_eq!(r.json()["reason"], "missing-role");
}
