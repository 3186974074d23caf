//! The client-forged headers every gateway test sends through its proxy. Each set tries to
//! change which method, URI, host or scheme `serve` judges (a forwarded `OPTIONS` with
//! `Access-Control-Request-Method` and `Origin` is a CORS preflight, let through without a
//! token), with duplicates, comma lists, other cases of names and values, look-alike names, and
//! a `Connection` header asking the proxy to drop its own headers.

/// A request as a client sends it to the proxy.
#[derive(Debug, Clone)]
pub struct Client {
    pub method: &'static str,
    /// Origin form, with the query.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(method: &'static str, path: &str, headers: &[(&str, &str)]) -> Client {
        Client {
            method,
            path: path.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The headers as the test client takes them.
    pub fn header_refs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

const PREFLIGHT: [(&str, &str); 2] = [
    ("Access-Control-Request-Method", "GET"),
    ("Origin", "https://evil.example"),
];

/// Every forged set of headers, with what it tries.
pub fn forgeries() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let preflight = |forged: &[(&'static str, &'static str)]| {
        let mut v = forged.to_vec();
        v.extend_from_slice(&PREFLIGHT);
        v
    };
    let mut sets =
        vec![
        (
            "issue 19's request: X-Original-Method OPTIONS and Access-Control-Request-Method",
            vec![
                ("X-Original-Method", "OPTIONS"),
                ("Access-Control-Request-Method", "GET"),
            ],
        ),
        (
            "X-Original-Method OPTIONS as a browser's preflight",
            preflight(&[("X-Original-Method", "OPTIONS")]),
        ),
        (
            "X-Forwarded-Method OPTIONS as a browser's preflight",
            preflight(&[("X-Forwarded-Method", "OPTIONS")]),
        ),
        (
            "both method headers OPTIONS, lower-case names",
            vec![
                ("x-original-method", "OPTIONS"),
                ("x-forwarded-method", "OPTIONS"),
                ("access-control-request-method", "GET"),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "upper-case names, lower-case values",
            vec![
                ("X-ORIGINAL-METHOD", "options"),
                ("X-FORWARDED-METHOD", "options"),
                ("ACCESS-CONTROL-REQUEST-METHOD", "get"),
                ("ORIGIN", "https://evil.example"),
            ],
        ),
        (
            "X-Original-Method twice",
            preflight(&[
                ("X-Original-Method", "OPTIONS"),
                ("x-original-method", "OPTIONS"),
            ]),
        ),
        (
            "X-Forwarded-Method twice, disagreeing",
            preflight(&[
                ("X-Forwarded-Method", "OPTIONS"),
                ("X-Forwarded-Method", "GET"),
            ]),
        ),
        (
            "comma-joined methods",
            preflight(&[
                ("X-Original-Method", "OPTIONS, GET"),
                ("X-Forwarded-Method", "OPTIONS,GET"),
            ]),
        ),
        (
            "underscore look-alikes",
            preflight(&[
                ("X_Original_Method", "OPTIONS"),
                ("X_Forwarded_Method", "OPTIONS"),
            ]),
        ),
        (
            "X-Original-URI elsewhere",
            vec![("X-Original-URI", "/public/feed")],
        ),
        (
            "X-Forwarded-Uri elsewhere",
            vec![("X-Forwarded-Uri", "/public/feed")],
        ),
        (
            "X-Envoy-Original-Path elsewhere",
            vec![("X-Envoy-Original-Path", "/public/feed")],
        ),
        (
            "every URI header twice",
            vec![
                ("X-Original-URI", "/public/feed"),
                ("x-original-uri", "/public/feed"),
                ("X-Forwarded-Uri", "/public/feed"),
                ("X-FORWARDED-URI", "/admin/users"),
                ("X-Envoy-Original-Path", "/public/feed"),
                ("x-envoy-original-path", "/public/feed"),
            ],
        ),
        (
            "X-Forwarded-Host",
            vec![("X-Forwarded-Host", "evil.example")],
        ),
        (
            "X-Forwarded-Host twice and a list",
            vec![
                ("X-Forwarded-Host", "evil.example, app.example.com"),
                ("x-forwarded-host", "evil.example"),
            ],
        ),
        (
            "X-Forwarded-Proto",
            vec![("X-Forwarded-Proto", "https")],
        ),
        (
            "X-Forwarded-Proto twice, other cases",
            vec![("X-Forwarded-Proto", "https"), ("x-forwarded-proto", "HTTPS")],
        ),
        ("a preflight's headers on another method", PREFLIGHT.to_vec()),
        ("Origin alone", vec![("Origin", "https://app.example.com")]),
        (
            "Access-Control-Request-Method twice",
            vec![
                ("Access-Control-Request-Method", "GET"),
                ("access-control-request-method", "POST"),
                ("Origin", "https://evil.example"),
            ],
        ),
        (
            "Connection naming the proxy's own headers",
            preflight(&[
                (
                    "Connection",
                    "X-Forwarded-Method, X-Forwarded-Uri, X-Forwarded-Host, X-Forwarded-Proto, \
                     X-Original-Method, X-Original-URI",
                ),
                ("X-Original-Method", "OPTIONS"),
            ]),
        ),
    ];
    let everything: Vec<_> = sets
        .iter()
        .flat_map(|(_, headers)| headers.iter().copied())
        .collect();
    sets.push(("everything at once", everything));
    sets
}

/// A forged request, and the status the same request gets without the forgery.
#[derive(Debug, Clone)]
pub struct Forged {
    pub what: String,
    pub client: Client,
    pub baseline: u16,
}

/// Every forged request: each forgery, as `GET` and as `DELETE`, on `protected` and on
/// `admin` (a `role=org:admin` location) without a token (401 without the forgery), and on
/// `admin` with a member's token (403).
pub fn forged_requests(protected: &str, admin: &str, member_token: &str) -> Vec<Forged> {
    let member = format!("Bearer {member_token}");
    let contexts: [(&str, &str, Option<&str>, u16); 3] = [
        ("protected, no token", protected, None, 401),
        ("role=org:admin, no token", admin, None, 401),
        (
            "role=org:admin, a member's token",
            admin,
            Some(&member),
            403,
        ),
    ];
    let mut out = Vec::new();
    for (label, forged) in forgeries() {
        for method in ["GET", "DELETE"] {
            for (context, path, auth, baseline) in contexts {
                let mut client = Client::new(method, path, &forged);
                if let Some(auth) = auth {
                    client
                        .headers
                        .push(("Authorization".into(), auth.to_owned()));
                }
                out.push(Forged {
                    what: format!("{method} {path} ({context}) with {label}"),
                    client,
                    baseline,
                });
            }
        }
    }
    out
}
