//! Traefik and Envoy are not installed here: these tests send `clerk-verify serve` the check
//! requests those proxies build for each client request, header by header as their source
//! builds them, with docs/gateway.md's configurations (and with ones that pass every client
//! header), and hold them to what nginx and Caddy are held to over a real proxy: valid requests
//! pass with their identity, a browser's preflight passes, and every client-forged header gets
//! the answer the same request gets without it (never a 2xx).
//!
//! - Traefik's `forwardAuth` (pkg/middlewares/auth/forward.go, `writeHeader` with
//!   `trustForwardHeader: false`): a `GET` to `address`; the client's headers (Go merges names
//!   in any case into one, keeping every value), less the hop-by-hop ones, the ones its
//!   `Connection` header names and Traefik's `X-Forwarded-*` set; only `authRequestHeaders` when
//!   the list is given; then its own `X-Forwarded-For`, `-Method`, `-Proto`, `-Port`, `-Host`
//!   and `-Uri`, from the request.
//! - Envoy's `ext_authz` HTTP service (ext_authz_http_impl.cc, check_request_utils.cc): the
//!   client's method, `path_prefix` + its path and query, its `Host`, `Content-Length: 0`,
//!   `Authorization`, and the headers `allowed_headers` matches, names in lower case, repeated
//!   ones joined with `,`.

mod support;

use clerk_dev::{fixtures, now_unix, JwksServer, TokenBuilder};
use serde_json::json;
use support::forgery::{forged_requests, Client};
use support::{Reply, Serve};

/// The client's `Host`, as the proxy received it.
const HOST: &str = "app.example.com";

/// docs/gateway.md's `authRequestHeaders` for Traefik, in each `forwardAuth`.
const TRAEFIK_AUTH_REQUEST_HEADERS: &str = "        trustForwardHeader: false
        authRequestHeaders:    # the only client headers /auth receives
          - Authorization
          - Cookie
          - Origin
          - Access-Control-Request-Method
";
/// The same list, as the test uses it.
const TRAEFIK_ALLOWED: [&str; 4] = [
    "Authorization",
    "Cookie",
    "Origin",
    "Access-Control-Request-Method",
];

/// docs/gateway.md's `allowed_headers` for Envoy.
const ENVOY_ALLOWED_HEADERS: &str =
    "                  allowed_headers:     # Authorization, Host, Method and Path are always sent
                    patterns:
                    - exact: cookie
                    - exact: origin
                    - exact: access-control-request-method
";
/// Those patterns, with what Envoy always adds.
const ENVOY_ALLOWED: [&str; 4] = [
    "authorization",
    "cookie",
    "origin",
    "access-control-request-method",
];

#[test]
fn the_docs_show_the_tested_traefik_and_envoy_header_lists() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/gateway.md"
    ))
    .expect("docs/gateway.md");
    assert_eq!(
        doc.matches(TRAEFIK_AUTH_REQUEST_HEADERS).count(),
        2,
        "both forwardAuth middlewares of docs/gateway.md list:\n{TRAEFIK_AUTH_REQUEST_HEADERS}"
    );
    assert_eq!(
        doc.matches("forwardAuth:\n").count(),
        2,
        "docs/gateway.md has another forwardAuth"
    );
    assert!(
        doc.contains(ENVOY_ALLOWED_HEADERS),
        "docs/gateway.md lacks:\n{ENVOY_ALLOWED_HEADERS}"
    );
    for proxy in ["nginx", "traefik", "caddy", "envoy"] {
        let run = format!("Run `clerk-verify serve --proxy {proxy} …`");
        assert!(doc.contains(&run), "docs/gateway.md lacks {run:?}");
    }
}

/// Go's canonical form of a header name (`x-original-method` → `X-Original-Method`).
fn canonical(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let c = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            c
        })
        .collect()
}

/// Traefik's `X-Forwarded-*` set, and the underscore forms it also deletes.
const TRAEFIK_X_HEADERS: [&str; 13] = [
    "X-Forwarded-Proto",
    "X-Forwarded-Scheme",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Server",
    "X-Forwarded-Uri",
    "X-Forwarded-Method",
    "X-Forwarded-Prefix",
    "X-Forwarded-Tls-Client-Cert",
    "X-Forwarded-Tls-Client-Cert-Info",
    "X-Scheme",
    "X-Real-Ip",
];

/// The headers of Traefik's check request for `client`; `allowed` is `authRequestHeaders`
/// (empty: every header).
fn traefik(client: &Client, allowed: &[&str]) -> Vec<(String, String)> {
    // Go's server: one canonical name per header, every value kept, in first-seen order.
    let mut headers: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in &client.headers {
        let name = canonical(name);
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.clone()),
            None => headers.push((name, vec![value.clone()])),
        }
    }
    let delete = |headers: &mut Vec<(String, Vec<String>)>, name: &str| {
        let name = canonical(name);
        headers.retain(|(n, _)| *n != name);
    };
    // RemoveConnectionHeaders, then the hop-by-hop headers.
    let named: Vec<String> = headers
        .iter()
        .filter(|(n, _)| n == "Connection")
        .flat_map(|(_, values)| values.iter().flat_map(|v| v.split(',')))
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .collect();
    for name in named.iter().map(String::as_str).chain([
        "Connection",
        "Keep-Alive",
        "Te",
        "Trailers",
        "Transfer-Encoding",
        "Upgrade",
    ]) {
        delete(&mut headers, name);
    }
    // trustForwardHeader false: forwardedheaders.DeleteXForwardedHeaders, which also deletes
    // names that are one of them with '_' for '-'.
    headers.retain(|(n, _)| {
        let dashed = canonical(&n.replace('_', "-"));
        !TRAEFIK_X_HEADERS.contains(&dashed.as_str())
    });
    if !allowed.is_empty() {
        headers.retain(|(n, _)| allowed.iter().any(|a| canonical(a) == *n));
    }
    let mut out: Vec<(String, String)> = headers
        .into_iter()
        .flat_map(|(n, values)| values.into_iter().map(move |v| (n.clone(), v)))
        .collect();
    for (name, value) in [
        ("X-Forwarded-For", "192.0.2.10"),
        ("X-Forwarded-Method", client.method),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Port", "80"),
        ("X-Forwarded-Host", HOST),
        ("X-Forwarded-Uri", &client.path),
    ] {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

/// Envoy's check request for `client`: method, path and headers; `allowed` are the lower-case
/// names `allowed_headers` matches (with Authorization), `None` for every header.
fn envoy(
    client: &Client,
    allowed: Option<&[&str]>,
) -> (&'static str, String, Vec<(String, String)>) {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in &client.headers {
        let name = name.to_ascii_lowercase();
        // Hop-by-hop headers never reach the filter; Host is the :authority, sent below.
        if matches!(
            name.as_str(),
            "connection" | "keep-alive" | "te" | "transfer-encoding" | "upgrade" | "host"
        ) {
            continue;
        }
        if allowed.is_some_and(|a| !a.contains(&name.as_str())) {
            continue;
        }
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(value);
            }
            None => headers.push((name, value.clone())),
        }
    }
    headers.push(("host".into(), HOST.into()));
    headers.push(("content-length".into(), "0".into()));
    (client.method, format!("/ext-authz{}", client.path), headers)
}

fn refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// A proxy in front of `serve`: what it makes of a client's request.
#[derive(Clone, Copy, Debug)]
enum Proxy {
    /// Traefik, with the docs' `authRequestHeaders` or without any.
    Traefik { documented: bool },
    /// Envoy, with the docs' `allowed_headers` or allowing every header.
    Envoy { documented: bool },
}

impl Proxy {
    /// Sends serve the check `self` makes of `client`; the check's path on `/auth` is the
    /// location's, as configured (Traefik's `address`).
    fn ask(self, serve: &Serve, client: &Client, location: &str) -> Reply {
        match self {
            Proxy::Traefik { documented } => {
                let allowed: &[&str] = if documented { &TRAEFIK_ALLOWED } else { &[] };
                let headers = traefik(client, allowed);
                serve.request("GET", location, &refs(&headers))
            }
            Proxy::Envoy { documented } => {
                let allowed = documented.then_some(&ENVOY_ALLOWED[..]);
                let (method, path, headers) = envoy(client, allowed);
                serve.request(method, &path, &refs(&headers))
            }
        }
    }

    fn is_envoy(self) -> bool {
        matches!(self, Proxy::Envoy { .. })
    }
}

fn sign(b: TokenBuilder) -> String {
    b.sign(fixtures::rsa2048())
}

fn member() -> String {
    sign(TokenBuilder::session("user_member", now_unix()).claim(
        "o",
        json!({"id": "org_1", "rol": "member", "per": "read", "fpm": "1"}),
    ))
}

fn admin() -> String {
    sign(
        TokenBuilder::session("user_admin", now_unix())
            .claim("o", json!({"id": "org_1", "rol": "admin"})),
    )
}

/// Runs every check of a proxy against one `serve` started with `serve_args`.
fn holds(proxy: Proxy, serve_args: &[&str], documented: bool) {
    let keys = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let mut args = vec!["--jwks".to_owned(), keys.jwks_url()];
    args.extend(serve_args.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let serve = Serve::start(&args);
    serve.wait_ready();
    // Which location asks: Traefik's address names it; Envoy has one check, no role.
    let location = |path: &str| {
        if path.starts_with("/admin/") {
            "/auth?role=org:admin"
        } else {
            "/auth"
        }
    };
    let ask = |client: &Client| proxy.ask(&serve, client, location(&client.path));
    let (member, admin) = (member(), admin());
    let bearer = |t: &str| format!("Bearer {t}");

    // Valid requests pass, with the identity for the proxy to copy; the judged request in the log.
    let r = ask(&Client::new(
        "DELETE",
        "/api/orders/7?x=1",
        &[("Authorization", &bearer(&member))],
    ));
    assert_eq!(r.status, 200, "{proxy:?}: {r:?}");
    assert_eq!(r.header("x-clerk-user-id"), Some("user_member"));
    let wanted = "method=DELETE path=/api/orders/7 user=user_member";
    let log = serve.log_when(|log| log.contains(wanted));
    let line = log.lines().find(|l| l.contains(wanted)).expect(&log);
    assert!(line.contains(" host=app.example.com "), "{line}");
    if !proxy.is_envoy() {
        let r = ask(&Client::new(
            "GET",
            "/admin/users/7",
            &[("Authorization", &bearer(&admin))],
        ));
        assert_eq!(r.header("x-clerk-org-role"), Some("org:admin"), "{r:?}");
        let r = ask(&Client::new(
            "GET",
            "/admin/users/7",
            &[("Authorization", &bearer(&member))],
        ));
        assert_eq!(r.status, 403, "{r:?}");
    }
    // A browser's preflight passes without identity; a header short of one is no preflight.
    let r = ask(&Client::new(
        "OPTIONS",
        "/admin/users/7",
        &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
    ));
    assert_eq!(r.status, 200, "{proxy:?}: {r:?}");
    assert!(r.header("x-clerk-user-id").is_none());
    assert_eq!(r.header("x-clerk-auth-status"), Some("signed-out"));
    let r = ask(&Client::new(
        "OPTIONS",
        "/admin/users/7",
        &[("Access-Control-Request-Method", "DELETE")],
    ));
    assert_eq!(r.status, 401, "{proxy:?}: {r:?}");

    // Every forged request: exactly the answer it gets without the forgery behind the
    // documented configuration; never a 2xx behind one that passes every header (a 400 where
    // the client's copy disagrees with the proxy's).
    let admin_path = if proxy.is_envoy() {
        "/api/admin/users/7"
    } else {
        "/admin/users/7"
    };
    for f in forged_requests("/api/orders/7", admin_path, &member) {
        // Envoy has no role= location: a member passes there, so only tokenless checks count.
        if proxy.is_envoy() && f.baseline == 403 {
            continue;
        }
        let r = ask(&f.client);
        if documented {
            assert_eq!(r.status, f.baseline, "{proxy:?}: {}: {r:?}", f.what);
        } else {
            assert!(
                r.status == f.baseline || r.status == 400,
                "{proxy:?}: {}: {r:?}",
                f.what
            );
        }
    }
    let log = serve.log();
    assert_eq!(
        log.matches("result=preflight").count(),
        1,
        "a forged request was judged a preflight: {log}"
    );
    if documented {
        assert!(!log.contains("result=bad-request"), "{log}");
    }
}

#[test]
fn traefik_as_documented() {
    holds(
        Proxy::Traefik { documented: true },
        &["--proxy", "traefik"],
        true,
    );
    holds(Proxy::Traefik { documented: true }, &[], true);
}

/// Issue 19's setup: Traefik without `authRequestHeaders` passes the client's X-Original-Method
/// beside its own X-Forwarded-Method.
#[test]
fn traefik_passing_every_client_header() {
    holds(
        Proxy::Traefik { documented: false },
        &["--proxy", "traefik"],
        false,
    );
    holds(Proxy::Traefik { documented: false }, &[], false);
    // The request, exactly as Traefik sent it: 400, where it was a 200 preflight.
    let keys = JwksServer::start_with(fixtures::rsa2048().jwks_json());
    let serve = Serve::start(&["--jwks", &keys.jwks_url()]);
    serve.wait_ready();
    let client = Client::new(
        "DELETE",
        "/admin/users/7",
        &[
            ("X-Original-Method", "OPTIONS"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    let r = Proxy::Traefik { documented: false }.ask(&serve, &client, "/auth?role=org:admin");
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.json()["reason"], "forwarded-headers-invalid");
}

#[test]
fn envoy_as_documented() {
    holds(
        Proxy::Envoy { documented: true },
        &["--proxy", "envoy"],
        true,
    );
    holds(Proxy::Envoy { documented: true }, &[], true);
}

#[test]
fn envoy_allowing_every_client_header() {
    holds(
        Proxy::Envoy { documented: false },
        &["--proxy", "envoy"],
        false,
    );
    holds(Proxy::Envoy { documented: false }, &[], false);
}

#[test]
fn the_simulated_proxies_build_what_their_source_builds() {
    let client = Client::new(
        "DELETE",
        "/admin/users/7?x=1",
        &[
            ("x-original-method", "OPTIONS"),
            ("X-Forwarded-Method", "GET"),
            ("X_Forwarded_Host", "evil"),
            ("Connection", "Cookie"),
            ("Cookie", "a=1"),
            ("Origin", "https://a.example"),
            ("origin", "https://b.example"),
            ("Authorization", "Bearer t"),
        ],
    );
    let pairs = |v: Vec<(String, String)>| -> Vec<String> {
        v.into_iter()
            .map(|(k, val)| format!("{k}: {val}"))
            .collect()
    };
    assert_eq!(
        pairs(traefik(&client, &[])),
        [
            "X-Original-Method: OPTIONS",
            "Origin: https://a.example",
            "Origin: https://b.example",
            "Authorization: Bearer t",
            "X-Forwarded-For: 192.0.2.10",
            "X-Forwarded-Method: DELETE",
            "X-Forwarded-Proto: http",
            "X-Forwarded-Port: 80",
            "X-Forwarded-Host: app.example.com",
            "X-Forwarded-Uri: /admin/users/7?x=1",
        ]
    );
    assert_eq!(
        pairs(traefik(&client, &TRAEFIK_ALLOWED))[..3],
        [
            "Origin: https://a.example",
            "Origin: https://b.example",
            "Authorization: Bearer t",
        ]
    );
    let (method, path, headers) = envoy(&client, Some(&ENVOY_ALLOWED));
    assert_eq!(
        (method, path.as_str()),
        ("DELETE", "/ext-authz/admin/users/7?x=1")
    );
    assert_eq!(
        pairs(headers),
        [
            "cookie: a=1",
            "origin: https://a.example,https://b.example",
            "authorization: Bearer t",
            "host: app.example.com",
            "content-length: 0",
        ]
    );
}
