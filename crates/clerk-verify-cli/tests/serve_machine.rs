//! Machine tokens (API keys, M2M and OAuth access tokens) through `clerk-verify serve`: every
//! kind, opaque and JWT, straight to `/auth` and behind a real nginx running docs/gateway.md's
//! snippets, against clerk-dev's fake Backend API on 127.0.0.1: valid, wrong kind, revoked,
//! expired, unknown, forged, scopes, the identity the upstream receives (and never a client's),
//! the Backend API down or slow, one call for many requests with one token, a flood of made-up
//! keys, the metrics, and the query's strictness.
//!
//! Each scenario runs twice, through a [`Gateway`]: `Direct` asks `/auth?<query>` itself; `Nginx`
//! sends a client's request to nginx, whose `auth_request` asks the same `serve` (nginx answers
//! `/auth`'s 503 with 500, and keeps only the status and `X-Clerk-Auth-Reason` of a refusal).
//! nginx comes from the distribution (`.ci/run` installs it): without it the nginx tests fail
//! under CI and, run by hand, print a loud notice and pass without checking anything.

mod support;

use clerk_dev::{fixtures, now_unix, BackendApi, Fault, JwksServer, OpaqueToken, TokenBuilder};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};
use support::{nginx_gateway, seen, sign, AuthLocation, Nginx, Reply, Serve, Upstream};

const SECRET: &str = "sk_test_serveMachineSECRET";
const MACHINE_SECRET: &str = "ak_serveMachineSECRETm2m";
const MACHINES: &str = "api_key,m2m_token,oauth_token";

/// The locations every scenario asks about: a name (nginx's `/NAME/…` and `/_clerk/NAME`) and
/// `/auth`'s query.
const LOCATIONS: [(&str, &str); 6] = [
    ("sessions", ""),
    ("machines", "?accepts=api_key,m2m_token,oauth_token"),
    (
        "scoped",
        "?accepts=api_key%2Cm2m_token%2Coauth_token&scope=write&scope=read",
    ),
    ("keys", "?accepts=api_key"),
    ("any", "?accepts=any"),
    ("orgs", "?accepts=api_key&org=required"),
];

/// The fixture key's JWKS, and a Backend API on its own server (so it can go down alone).
struct Issuer {
    keys: JwksServer,
    api_server: Option<JwksServer>,
    api: Arc<BackendApi>,
    api_url: String,
    machine_secret_file: PathBuf,
}

impl Issuer {
    fn new(name: &str) -> Issuer {
        let keys = JwksServer::start_with(fixtures::rsa2048().jwks_json());
        let api_server = JwksServer::start();
        let api = api_server.serve_backend_api(
            BackendApi::new()
                .secret_key(SECRET)
                .machine_secret_key(MACHINE_SECRET),
        );
        let machine_secret_file = std::env::temp_dir().join(format!(
            "clerk-serve-machine-{}-{name}.key",
            std::process::id()
        ));
        std::fs::write(&machine_secret_file, format!("{MACHINE_SECRET}\n")).unwrap();
        Issuer {
            api_url: api_server.url(),
            keys,
            api_server: Some(api_server),
            api,
            machine_secret_file,
        }
    }

    /// `serve --jwks <keys> --api-url <api> --machine-secret-key-file <file>` with
    /// `CLERK_SECRET_KEY`, and `extra` flags.
    fn serve(&self, extra: &[&str]) -> Serve {
        let jwks = self.keys.jwks_url();
        let file = self.machine_secret_file.to_string_lossy().into_owned();
        let mut args = vec![
            "--jwks",
            jwks.as_str(),
            "--api-url",
            self.api_url.as_str(),
            "--machine-secret-key-file",
            file.as_str(),
        ];
        args.extend_from_slice(extra);
        let serve = Serve::start_with_env(&args, &[("CLERK_SECRET_KEY", SECRET)]);
        serve.wait_ready();
        serve
    }

    /// The Backend API stops listening.
    fn take_down(&mut self) {
        drop(self.api_server.take());
    }
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.machine_secret_file);
    }
}

/// How a test reaches `/auth`: straight, or as a client of nginx.
enum Gateway {
    Direct,
    Nginx { nginx: Nginx, up: Upstream },
}

impl Gateway {
    /// nginx in front of `serve` with docs/gateway.md's snippets and one location per
    /// [`LOCATIONS`] entry; `None` (after the notice) without nginx outside CI.
    fn nginx(serve: &Serve, name: &str) -> Option<Gateway> {
        let binary = support::required_proxy("nginx", support::nginx_binary())?;
        let up = Upstream::start();
        let auths: Vec<AuthLocation<'_>> = LOCATIONS
            .iter()
            .map(|(name, query)| AuthLocation {
                name,
                serve: serve.addr,
                query,
            })
            .collect();
        let prefixes: Vec<String> = LOCATIONS.iter().map(|(n, _)| format!("/{n}/")).collect();
        let protected: Vec<(&str, &str)> = prefixes
            .iter()
            .zip(LOCATIONS)
            .map(|(p, (n, _))| (p.as_str(), n))
            .collect();
        let nginx = nginx_gateway(&binary, name, &auths, &protected, up.port);
        Some(Gateway::Nginx { nginx, up })
    }

    /// A request at `location` with `headers`: `/auth?<query>` to `serve`, or
    /// `GET /<location>/orders` to nginx (checking that the upstream was reached exactly when
    /// the answer is a 200: no other request may run meanwhile).
    fn ask(&self, serve: &Serve, location: &str, headers: &[(&str, &str)]) -> Answer {
        self.request(serve, location, headers, true)
    }

    /// [`Gateway::ask`] among other requests: whether the upstream was reached is the status
    /// (check the upstream's hits with [`Gateway::hits`] once they are all answered).
    fn ask_among(&self, serve: &Serve, location: &str, headers: &[(&str, &str)]) -> Answer {
        self.request(serve, location, headers, false)
    }

    /// Requests the upstream received (0 straight to `serve`).
    fn hits(&self) -> usize {
        match self {
            Gateway::Direct => 0,
            Gateway::Nginx { up, .. } => up.hits(),
        }
    }

    fn request(
        &self,
        serve: &Serve,
        location: &str,
        headers: &[(&str, &str)],
        alone: bool,
    ) -> Answer {
        let query = LOCATIONS
            .iter()
            .find(|(n, _)| *n == location)
            .unwrap_or_else(|| panic!("no location {location}"))
            .1;
        match self {
            Gateway::Direct => {
                let reply = serve.get(&format!("/auth{query}"), headers);
                Answer {
                    reached: reply.status == 200,
                    reply,
                    via_nginx: false,
                }
            }
            Gateway::Nginx { nginx, up } => {
                let before = up.hits();
                let reply = nginx.request("GET", &format!("/{location}/orders"), headers);
                if alone {
                    let reached = up.hits() - before;
                    assert!(reached <= 1, "{reply:?}");
                    // Only a 200 reaches the upstream, and every 200 does.
                    assert_eq!(reached == 1, reply.status == 200, "{reply:?}");
                }
                Answer {
                    reached: reply.status == 200,
                    reply,
                    via_nginx: true,
                }
            }
        }
    }
}

/// One answer, as the client (and the upstream) saw it.
#[derive(Debug)]
struct Answer {
    reply: Reply,
    /// Whether the request went through (to the upstream, behind nginx).
    reached: bool,
    via_nginx: bool,
}

impl Answer {
    /// The `X-Clerk-*` identity that reaches the service: `/auth`'s own headers straight, the
    /// upstream's echo behind nginx. Sorted `name: value` lines.
    fn identity(&self) -> Vec<String> {
        assert!(self.reached, "{self:?}");
        let mut lines: Vec<String> = if self.via_nginx {
            self.reply
                .body
                .lines()
                .filter(|l| l.starts_with("x-clerk-"))
                .map(str::to_owned)
                .collect()
        } else {
            self.reply
                .headers_starting("x-clerk-")
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect()
        };
        lines.sort_unstable();
        lines
    }

    /// Asserts a refusal with `status` (nginx: 500 for a 5xx) and `reason` (nginx keeps it
    /// only in `X-Clerk-Auth-Reason`, which a 403 has not).
    fn refused(&self, status: u16, reason: &str) {
        assert!(!self.reached, "{self:?}");
        let r = &self.reply;
        if self.via_nginx {
            let status = if status >= 500 { 500 } else { status };
            assert_eq!(r.status, status, "{r:?}");
            if status == 401 {
                assert_eq!(r.header("x-clerk-auth-reason"), Some(reason), "{r:?}");
            }
        } else {
            assert_eq!(r.status, status, "{r:?}");
            assert_eq!(r.json()["reason"], reason, "{r:?}");
            if status == 401 {
                assert_eq!(r.header("x-clerk-auth-reason"), Some(reason), "{r:?}");
                assert!(r
                    .header("www-authenticate")
                    .is_some_and(|c| c.starts_with("Bearer")));
            }
            // No identity in a refusal.
            assert!(r.header("x-clerk-subject").is_none(), "{r:?}");
            assert!(r.header("x-clerk-token-type").is_none(), "{r:?}");
        }
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn lines(expected: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    v.sort_unstable();
    v
}

fn metric(serve: &Serve, line_start: &str) -> u64 {
    let text = serve.get("/metrics", &[]).body;
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .map_or(0, |v| v.trim().parse().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Every kind.

fn every_kind(gw: &Gateway, serve: &Serve, issuer: &Issuer) {
    let api = &issuer.api;
    let now = now_unix();
    let key = api.mint(OpaqueToken::api_key("user_1").scopes(["read", "write"]));
    let org_key = api.mint(OpaqueToken::api_key("org_2").scopes(["read"]));
    let m2m = api.mint(OpaqueToken::m2m("mch_1").scopes(["read", "write"]));
    let oauth = api.mint(OpaqueToken::oauth("user_3", "app_1").scopes(["read", "write"]));
    let m2m_jwt = sign(TokenBuilder::m2m("mch_9", now).claim("scopes", "read write"));
    let oauth_jwt =
        sign(TokenBuilder::oauth("user_4", now).claim("scp", serde_json::json!(["read"])));
    let session = sign(TokenBuilder::session("user_5", now));
    let ask =
        |location: &str, token: &str| gw.ask(serve, location, &[("Authorization", &bearer(token))]);

    // Valid, each kind, opaque and JWT: the kind, the subject, the scopes, the user or the
    // organization where the kind has one.
    for (token, identity) in [
        (
            &key,
            &[
                "x-clerk-token-type: api_key",
                "x-clerk-subject: user_1",
                "x-clerk-scopes: read write",
                "x-clerk-user-id: user_1",
                "x-clerk-auth-status: signed-in",
            ][..],
        ),
        (
            &org_key,
            &[
                "x-clerk-token-type: api_key",
                "x-clerk-subject: org_2",
                "x-clerk-scopes: read",
                "x-clerk-org-id: org_2",
                "x-clerk-auth-status: signed-in",
            ][..],
        ),
        (
            &m2m,
            &[
                "x-clerk-token-type: m2m_token",
                "x-clerk-subject: mch_1",
                "x-clerk-scopes: read write",
                "x-clerk-auth-status: signed-in",
            ][..],
        ),
        (
            &oauth,
            &[
                "x-clerk-token-type: oauth_token",
                "x-clerk-subject: user_3",
                "x-clerk-scopes: read write",
                "x-clerk-user-id: user_3",
                "x-clerk-auth-status: signed-in",
            ][..],
        ),
        (
            &m2m_jwt,
            &[
                "x-clerk-token-type: m2m_token",
                "x-clerk-subject: mch_9",
                "x-clerk-scopes: read write",
                "x-clerk-auth-status: signed-in",
            ][..],
        ),
        (
            &oauth_jwt,
            &[
                "x-clerk-token-type: oauth_token",
                "x-clerk-subject: user_4",
                "x-clerk-scopes: read",
                "x-clerk-user-id: user_4",
                "x-clerk-auth-status: signed-in",
            ][..],
        ),
    ] {
        for location in ["machines", "any"] {
            let a = ask(location, token);
            assert_eq!(a.identity(), lines(identity), "{location}: {a:?}");
        }
    }
    // M2M calls went with the machine secret key, the others with the secret key (the fake API
    // refuses any other bearer): one call per opaque token so far.
    assert_eq!(
        (
            api.calls_for("api_key"),
            api.calls_for("m2m_token"),
            api.calls_for("oauth_token")
        ),
        (4, 2, 2),
        "one call per opaque token and location (the result cache is off)"
    );

    // A session where machines are accepted too: its headers, and the kind, so that the
    // service can tell it from a machine acting for a user.
    assert_eq!(
        ask("any", &session).identity(),
        lines(&[
            "x-clerk-user-id: user_5",
            "x-clerk-session-id: sess_test123",
            "x-clerk-token-type: session_token",
            "x-clerk-auth-status: signed-in",
        ])
    );
    // Where only sessions are accepted (the default), exactly today's headers.
    assert_eq!(
        ask("sessions", &session).identity(),
        lines(&[
            "x-clerk-user-id: user_5",
            "x-clerk-session-id: sess_test123",
            "x-clerk-auth-status: signed-in",
        ])
    );

    // Wrong kind: a session token where only machines are accepted, a machine token where only
    // sessions are, an M2M token where only API keys are; none costs a call.
    let calls = api.calls();
    ask("machines", &session).refused(401, "token-type-mismatch");
    for token in [&key, &m2m, &oauth, &m2m_jwt, &oauth_jwt] {
        ask("sessions", token).refused(401, "token-type-mismatch");
    }
    ask("keys", &m2m).refused(401, "token-type-mismatch");
    ask("keys", &oauth_jwt).refused(401, "token-type-mismatch");
    // No token at a machines-only location.
    gw.ask(serve, "machines", &[])
        .refused(401, "machine-token-missing");
    // A machine token is never read from a cookie.
    let cookie = format!("__session={key}; __client_uat={}", now - 30);
    gw.ask(serve, "machines", &[("Cookie", &cookie)])
        .refused(401, "machine-token-missing");
    assert_eq!(api.calls(), calls);

    // Revoked, expired, unknown: 401 token-invalid, after one call each.
    let revoked = api.mint(OpaqueToken::api_key("user_1"));
    api.revoke(&revoked);
    let expired_m2m = api.mint(OpaqueToken::m2m("mch_1").expires_at((now - 60) * 1000));
    let expired_oauth =
        api.mint(OpaqueToken::oauth("user_1", "app_1").expires_at((now - 60) * 1000));
    let calls = api.calls();
    for token in [
        revoked.as_str(),
        &expired_m2m,
        &expired_oauth,
        "ak_unknownTOKEN0123456789",
        "mt_unknownTOKEN0123456789",
        "oat_unknownTOKEN0123456789",
    ] {
        ask("machines", token).refused(401, "token-invalid");
    }
    assert_eq!(api.calls(), calls + 6);
    // One that cannot be Clerk's: refused without a call.
    ask("machines", "ak_not-one-of-Clerks").refused(401, "token-invalid");
    ask("machines", "ak_short").refused(401, "token-invalid");
    assert_eq!(api.calls(), calls + 6);
    // Forged and expired JWT forms: verified locally, refused.
    let forged_m2m = TokenBuilder::m2m("mch_1", now)
        .header("kid", fixtures::rsa2048().kid())
        .sign(fixtures::rsa2048_b());
    let forged_oauth = TokenBuilder::oauth("user_1", now)
        .header("kid", fixtures::rsa2048().kid())
        .sign(fixtures::rsa2048_b());
    let old_m2m = sign(TokenBuilder::m2m("mch_1", now - 7200));
    for token in [&forged_m2m, &forged_oauth, &old_m2m] {
        let a = ask("machines", token);
        assert_eq!(a.reply.status, 401, "{a:?}");
        assert!(!a.reached);
    }
    ask("machines", &forged_m2m).refused(401, "token-verification-failed");
    assert_eq!(api.calls(), calls + 6);

    // Scopes: every one required must have been granted (403 missing-scope otherwise).
    for token in [&key, &m2m, &oauth, &m2m_jwt] {
        let a = ask("scoped", token);
        assert!(a.reached, "{a:?}");
    }
    for token in [&org_key, &oauth_jwt] {
        ask("scoped", token).refused(403, "missing-scope");
    }
    // org=required: an API key of an organization has one, a user's has not.
    assert!(ask("orgs", &org_key).reached);
    ask("orgs", &key).refused(403, "missing-organization");

    // A client's own X-Clerk-* headers never reach the service, nor change the answer: each is
    // overwritten by /auth's, or removed where /auth has none (an M2M token has no user).
    let forged = [
        ("X-Clerk-Token-Type", "session_token"),
        ("x-clerk-subject", "user_admin"),
        ("X-CLERK-SCOPES", "admin write"),
        ("X-Clerk-User-Id", "user_admin"),
        ("X-Clerk-Org-Id", "org_evil"),
        ("X-Clerk-Org-Role", "org:admin"),
        ("X-Clerk-Session-Id", "sess_evil"),
        ("X-Clerk-Auth-Status", "signed-in"),
    ];
    let auth = bearer(&m2m);
    let mut headers = vec![("Authorization", auth.as_str())];
    headers.extend_from_slice(&forged);
    let a = gw.ask(serve, "machines", &headers);
    assert_eq!(
        a.identity(),
        lines(&[
            "x-clerk-token-type: m2m_token",
            "x-clerk-subject: mch_1",
            "x-clerk-scopes: read write",
            "x-clerk-auth-status: signed-in",
        ])
    );
    // A session at a sessions-only location: no machine header reaches the service.
    let auth = bearer(&session);
    let mut headers = vec![("Authorization", auth.as_str())];
    headers.extend_from_slice(&forged);
    let a = gw.ask(serve, "sessions", &headers);
    assert_eq!(
        a.identity(),
        lines(&[
            "x-clerk-user-id: user_5",
            "x-clerk-session-id: sess_test123",
            "x-clerk-auth-status: signed-in",
        ])
    );
    if let Gateway::Nginx { .. } = gw {
        assert!(seen(&a.reply, "x-clerk-scopes").is_empty());
    }
    // Nor does a refused request: without a token, the forged headers get a 401.
    gw.ask(serve, "machines", &forged)
        .refused(401, "machine-token-missing");

    // The log names the kind and the subject, never a token.
    let log = serve.log_when(|l| l.contains("token_type=oauth_token subject=user_4"));
    assert!(log.contains("result=signed-in"), "{log}");
    assert!(log.contains("token_type=api_key subject=org_2"), "{log}");
    for token in [&key, &m2m, &oauth, &revoked] {
        assert!(!log.contains(token.as_str()), "a token in the log:\n{log}");
    }
}

#[test]
fn every_kind_straight_to_serve() {
    let issuer = Issuer::new("kinds-direct");
    let serve = issuer.serve(&[]);
    every_kind(&Gateway::Direct, &serve, &issuer);

    // The metrics count the machine tokens by kind and answer, and the Backend API's calls.
    let m = |line: &str| metric(&serve, line);
    assert_eq!(
        m("clerk_verify_machine_requests_total{token_type=\"api_key\",result=\"signed-in\",reason=\"none\"}"),
        6
    );
    assert_eq!(
        m("clerk_verify_machine_requests_total{token_type=\"m2m_token\",result=\"unauthorized\",reason=\"token-type-mismatch\"}"),
        1,
        "counted where machines are accepted"
    );
    assert!(
        m("clerk_verify_machine_requests_total{token_type=\"oauth_token\",result=\"forbidden\",reason=\"missing-scope\"}")
            >= 1
    );
    let calls = issuer.api.calls() as u64;
    let verified = m("clerk_verify_backend_api_calls_total{outcome=\"verified\"}");
    let refused = m("clerk_verify_backend_api_calls_total{outcome=\"refused\"}");
    assert_eq!(refused, 6, "revoked, two expired, three unknown");
    assert_eq!(verified + refused, calls);
    assert_eq!(
        m("clerk_verify_backend_api_calls_total{outcome=\"failed\"}"),
        0
    );
    assert_eq!(
        m("clerk_verify_machine_answers_without_call_total{why=\"malformed\"}"),
        2
    );
    assert_eq!(m("clerk_verify_machine_refused_remembered"), 6);
    assert_eq!(m("clerk_verify_backend_api_calls_in_flight"), 0);
    // A refused token asked again is answered from memory, without a call.
    let again = issuer.api.calls();
    let r = serve.get(
        "/auth?accepts=api_key",
        &[("Authorization", "Bearer ak_unknownTOKEN0123456789")],
    );
    assert_eq!(r.status, 401);
    assert_eq!(issuer.api.calls(), again);
    assert_eq!(
        m("clerk_verify_machine_answers_without_call_total{why=\"refused-before\"}"),
        1
    );
}

#[test]
fn every_kind_behind_nginx() {
    let issuer = Issuer::new("kinds-nginx");
    let serve = issuer.serve(&["--proxy", "nginx"]);
    let Some(gw) = Gateway::nginx(&serve, "machine-kinds") else {
        return;
    };
    every_kind(&gw, &serve, &issuer);
    // serve judged nginx's forwarded request.
    let wanted = "result=signed-in method=GET path=/machines/orders token_type=m2m_token";
    assert!(serve.log_when(|l| l.contains(wanted)).contains(wanted));
}

// ---------------------------------------------------------------------------------------------
// Outages.

fn outages(gw: &Gateway, serve: &Serve, issuer: &mut Issuer) {
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    let auth = bearer(&key);
    let session = sign(TokenBuilder::session("user_5", now_unix()));
    let session_auth = bearer(&session);
    let ask = |location: &str, auth: &str| gw.ask(serve, location, &[("Authorization", auth)]);

    // 5xx: 503, never a sign-out, never a 200 (also where sessions pass without identity).
    issuer.api.set_fault(Fault::Status(502));
    ask("machines", &auth).refused(503, "backend-api-unavailable");
    issuer.api.set_fault(Fault::Status(429));
    ask("any", &auth).refused(503, "backend-api-unavailable");

    // Slow: answered within --fetch-timeout-ms (3 s) and slack, not the API's 20 s; meanwhile
    // a session is answered at once (the call holds no thread of the server's).
    issuer.api.set_fault(Fault::Delay(Duration::from_secs(20)));
    let fresh = issuer.api.mint(OpaqueToken::api_key("user_2"));
    let fresh_auth = bearer(&fresh);
    let started = Instant::now();
    let slow = thread::scope(|s| {
        let slow = s.spawn(|| gw.ask_among(serve, "machines", &[("Authorization", &fresh_auth)]));
        thread::sleep(Duration::from_millis(200));
        let quick = Instant::now();
        let a = gw.ask_among(serve, "any", &[("Authorization", &session_auth)]);
        assert!(a.reached, "{a:?}");
        assert!(
            quick.elapsed() < Duration::from_millis(1500),
            "a session waited for another request's Backend API call: {:?}",
            quick.elapsed()
        );
        slow.join().unwrap()
    });
    slow.refused(503, "backend-api-unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "a slow Backend API held the request {:?}",
        started.elapsed()
    );

    // Secret key refused by the API: the configuration's fault (500 class).
    issuer.api.set_fault(Fault::Status(401));
    ask("machines", &auth).refused(500, "secret-key-invalid");

    // Healed: the same key passes (an outage was not remembered as a refusal).
    issuer.api.set_fault(Fault::None);
    assert!(ask("machines", &auth).reached);

    // Down: nothing listens. JWT forms and sessions are unaffected.
    let other = issuer.api.mint(OpaqueToken::api_key("user_3"));
    issuer.take_down();
    ask("machines", &bearer(&other)).refused(503, "backend-api-unavailable");
    let m2m_jwt = sign(TokenBuilder::m2m("mch_9", now_unix()));
    assert!(ask("machines", &bearer(&m2m_jwt)).reached);
    assert!(ask("sessions", &session_auth).reached);
    let wanted = "status=503 result=unavailable";
    assert!(serve.log_when(|l| l.contains(wanted)).contains(wanted));
}

#[test]
fn outages_straight_to_serve() {
    let mut issuer = Issuer::new("outage-direct");
    let serve = issuer.serve(&["--fetch-timeout-ms", "3000"]);

    // Where requests pass without identity (--allow-unauthenticated), a refused machine token
    // passes as signed out, but an outage is still 503: never an anonymous pass.
    let open = issuer.serve(&["--allow-unauthenticated"]);
    let key = issuer.api.mint(OpaqueToken::api_key("user_1"));
    let revoked = issuer.api.mint(OpaqueToken::api_key("user_2"));
    issuer.api.revoke(&revoked);
    let location = "/auth?accepts=api_key";
    let r = open.get(location, &[("Authorization", &bearer(&revoked))]);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.headers_starting("x-clerk-"),
        [
            ("x-clerk-auth-status".to_owned(), "signed-out".to_owned()),
            ("x-clerk-auth-reason".to_owned(), "token-invalid".to_owned()),
        ]
    );
    issuer.api.set_fault(Fault::Status(503));
    let r = open.get(location, &[("Authorization", &bearer(&key))]);
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (503, Some("backend-api-unavailable"))
    );
    issuer.api.set_fault(Fault::None);
    drop(open);

    outages(&Gateway::Direct, &serve, &mut issuer);
    assert!(
        metric(
            &serve,
            "clerk_verify_backend_api_calls_total{outcome=\"failed\"}"
        ) >= 4,
        "{}",
        serve.get("/metrics", &[]).body
    );
}

#[test]
fn outages_behind_nginx() {
    let mut issuer = Issuer::new("outage-nginx");
    let serve = issuer.serve(&["--proxy", "nginx", "--fetch-timeout-ms", "3000"]);
    let Some(gw) = Gateway::nginx(&serve, "machine-outage") else {
        return;
    };
    outages(&gw, &serve, &mut issuer);
}

// ---------------------------------------------------------------------------------------------
// Shared calls and floods.

fn shared_calls_and_floods(gw: &Gateway, serve: &Serve, issuer: &Issuer) {
    let api = &issuer.api;
    // 50 concurrent requests with one opaque token, while the API takes 500 ms: one call.
    api.set_fault(Fault::Delay(Duration::from_millis(500)));
    let key = api.mint(OpaqueToken::api_key("user_1").scopes(["read"]));
    let auth = bearer(&key);
    api.reset_calls();
    let hits = gw.hits();
    let answers: Vec<Answer> = thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|_| s.spawn(|| gw.ask_among(serve, "keys", &[("Authorization", &auth)])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    if !matches!(gw, Gateway::Direct) {
        assert_eq!(gw.hits(), hits + 50);
    }
    for a in &answers {
        assert_eq!(
            a.identity(),
            lines(&[
                "x-clerk-token-type: api_key",
                "x-clerk-subject: user_1",
                "x-clerk-scopes: read",
                "x-clerk-user-id: user_1",
                "x-clerk-auth-status: signed-in",
            ])
        );
    }
    assert_eq!(api.calls(), 1, "50 requests with one token share one call");
    api.set_fault(Fault::None);

    // A flood of made-up API keys from 8 clients: those that cannot be Clerk's cost no call;
    // the rest cost at most the calls-per-second budget (100/s by default), and what exceeds
    // it is shed (503), not queued without bound; the memory of refused keys stays bounded.
    let rss_before = rss_kib(serve.pid());
    let hits = gw.hits();
    api.reset_calls();
    let total = 600;
    let started = Instant::now();
    let answers: Vec<(usize, u16)> = thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                s.spawn(move || {
                    (t..total)
                        .step_by(8)
                        .map(|i| {
                            let made_up = if i % 2 == 0 {
                                format!("ak_{i}+madeUp")
                            } else {
                                format!("ak_madeUp{i:0>16}")
                            };
                            let auth = bearer(&made_up);
                            let a = gw.ask_among(serve, "machines", &[("Authorization", &auth)]);
                            assert!(!a.reached, "a made-up key passed: {a:?}");
                            (i, a.reply.status)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let seconds = started.elapsed().as_secs() as usize + 1;
    assert_eq!(gw.hits(), hits, "a made-up key reached the upstream");
    let calls = api.calls();
    assert!(calls <= 100 * (seconds + 1), "{calls} calls in {seconds} s");
    let unavailable = if matches!(gw, Gateway::Direct) {
        503
    } else {
        500
    };
    for (i, status) in &answers {
        if i % 2 == 0 {
            assert_eq!(*status, 401, "the malformed key {i}");
        } else {
            assert!(*status == 401 || *status == unavailable, "{i}: {status}");
        }
    }
    let refused = answers
        .iter()
        .filter(|(i, s)| i % 2 == 1 && *s == 401)
        .count();
    let shed = answers.len() / 2 - refused;
    assert_eq!(
        calls, refused,
        "every well-formed key was called once or shed ({shed})"
    );
    let remembered = metric(serve, "clerk_verify_machine_refused_remembered") as usize;
    assert!(
        remembered <= calls,
        "{remembered} remembered, {calls} calls"
    );
    assert!(
        metric(
            serve,
            "clerk_verify_machine_answers_without_call_total{why=\"malformed\"}"
        ) >= (total / 2) as u64
    );
    if let (Some(before), Some(after)) = (rss_before, rss_kib(serve.pid())) {
        assert!(
            after < before + 32 * 1024,
            "serve grew from {before} KiB to {after} KiB"
        );
    }

    // The same flood again: every key the API refused is refused from memory, without a call.
    api.reset_calls();
    let refused_keys: Vec<String> = answers
        .iter()
        .filter(|(i, s)| i % 2 == 1 && *s == 401)
        .map(|(i, _)| format!("ak_madeUp{i:0>16}"))
        .collect();
    for made_up in refused_keys.iter().take(50) {
        let a = gw.ask(serve, "machines", &[("Authorization", &bearer(made_up))]);
        a.refused(401, "token-invalid");
    }
    assert_eq!(api.calls(), 0, "refused keys are remembered");
}

/// The resident memory of a process, from /proc (Linux); `None` elsewhere.
fn rss_kib(pid: u32) -> Option<usize> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn shared_calls_and_floods_straight_to_serve() {
    let issuer = Issuer::new("flood-direct");
    let serve = issuer.serve(&[]);
    shared_calls_and_floods(&Gateway::Direct, &serve, &issuer);
    assert!(
        metric(
            &serve,
            "clerk_verify_machine_answers_without_call_total{why=\"joined\"}"
        ) >= 1
    );
}

#[test]
fn shared_calls_and_floods_behind_nginx() {
    let issuer = Issuer::new("flood-nginx");
    let serve = issuer.serve(&["--proxy", "nginx"]);
    let Some(gw) = Gateway::nginx(&serve, "machine-flood") else {
        return;
    };
    shared_calls_and_floods(&gw, &serve, &issuer);
}

// ---------------------------------------------------------------------------------------------
// Configuration.

#[test]
fn the_query_and_the_flags_are_read_strictly() {
    let issuer = Issuer::new("config");
    let serve = issuer.serve(&[]);
    let key = issuer
        .api
        .mint(OpaqueToken::api_key("user_1").scopes(["read"]));
    let auth = bearer(&key);
    // Mistakes in a location's query: 500 config-invalid for every caller, never a requirement
    // dropped; no Backend API call.
    for query in [
        "accepts=cookie",
        "accepts=",
        "accepts=API_KEY",
        "accepts=api_key&accepts=api_key",
        "accepts=api_key&accepts=m2m_token",
        "accept=api_key",
        "scope=",
        "scopes=read",
        // A scope where only sessions are accepted (the server's default here).
        "scope=read",
        "accepts=session_token&scope=read",
        // A session's requirement where only machines are accepted.
        "accepts=api_key&role=org:admin",
        "accepts=m2m_token&permission=org:a:read",
    ] {
        let r = serve.get(&format!("/auth?{query}"), &[("Authorization", &auth)]);
        assert_eq!(r.status, 500, "{query}: {r:?}");
        assert_eq!(r.json()["reason"], "config-invalid", "{query}");
    }
    assert_eq!(issuer.api.calls(), 0);
    // Percent-encoded, in any order.
    let r = serve.get(
        "/auth?scope=read&accepts=api%5Fkey%2Cm2m_token",
        &[("Authorization", &auth)],
    );
    assert_eq!(r.status, 200, "{r:?}");

    // --accepts-token, else CLERK_ACCEPTS_TOKEN, is every location's default; the query's
    // accepts= replaces it.
    let jwks = issuer.keys.jwks_url();
    let base = [
        "--jwks",
        jwks.as_str(),
        "--api-url",
        issuer.api_url.as_str(),
    ];
    let secret = ("CLERK_SECRET_KEY", SECRET);
    let by_flag = Serve::start_with_env(
        &[&base[..], &["--accepts-token", "api_key"]].concat(),
        &[secret, ("CLERK_ACCEPTS_TOKEN", "session_token")],
    );
    let by_env = Serve::start_with_env(&base, &[secret, ("CLERK_ACCEPTS_TOKEN", "any")]);
    let session = bearer(&sign(TokenBuilder::session("user_5", now_unix())));
    for s in [&by_flag, &by_env] {
        s.wait_ready();
        let r = s.get("/auth", &[("Authorization", &auth)]);
        assert_eq!(r.header("x-clerk-token-type"), Some("api_key"), "{r:?}");
        let r = s.get("/auth?scope=read", &[("Authorization", &auth)]);
        assert_eq!(r.status, 200, "{r:?}");
        let r = s.get("/auth?accepts=session_token", &[("Authorization", &auth)]);
        assert_eq!(r.json()["reason"], "token-type-mismatch", "{r:?}");
    }
    assert_eq!(
        by_flag.get("/auth", &[("Authorization", &session)]).json()["reason"],
        "token-type-mismatch"
    );
    assert_eq!(
        by_env.get("/auth", &[("Authorization", &session)]).status,
        200
    );
    assert!(
        by_flag.log().contains(" accepts=api_key "),
        "{}",
        by_flag.log()
    );
    // Opaque tokens without a secret key: the configuration's fault (500), never a sign-in or
    // a sign-out, and no call.
    let calls = issuer.api.calls();
    let keyless = Serve::start(&["--jwks", &jwks, "--accepts-token", MACHINES]);
    keyless.wait_ready();
    let log = keyless.log_when(|l| l.contains("event=no-secret-key"));
    assert!(
        log.lines()
            .any(|l| l.contains("level=warn") && l.contains("event=no-secret-key")),
        "{log}"
    );
    assert!(!serve.log().contains("event=no-secret-key"));
    let r = keyless.get("/auth", &[("Authorization", &auth)]);
    assert_eq!(
        (r.status, r.json()["reason"].as_str()),
        (500, Some("config-invalid"))
    );
    assert_eq!(issuer.api.calls(), calls);
    // A bad --accepts-token or CLERK_ACCEPTS_TOKEN: a usage error at start (exit 2).
    for (args, env) in [
        (vec!["--accepts-token", "cookies"], vec![]),
        (vec![], vec![("CLERK_ACCEPTS_TOKEN", "cookies")]),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_clerk-verify"))
            .args(["serve", "--listen", "127.0.0.1:0", "--jwks", &jwks])
            .args(args)
            .env_remove("CLERK_ACCEPTS_TOKEN")
            .envs(env)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
    }
}
