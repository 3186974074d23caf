//! Which request the proxy asks about: the forwarded request's method, URI, host and scheme,
//! read from the headers the proxy sets, never from a client's copies of them.
//!
//! A client can send any header, and the proxies pass on to the check whatever they do not set
//! themselves (nginx's `auth_request`, Traefik's `forwardAuth` and Caddy's `forward_auth` pass
//! every header unless told otherwise). So no fact is ever taken by precedence among headers:
//!
//! - with `--proxy NAME`, each fact comes from the one source that proxy sets, and a required
//!   source that is missing is refused (the proxy is not configured as documented);
//! - in every mode, each header that carries the same fact and is present must be there once,
//!   be well formed, and say exactly what the chosen source says (a method is compared case
//!   sensitively, as methods are);
//! - `auto` (the default) chooses no header over another: whichever carriers are present must
//!   agree.
//!
//! Anything else is a 400 `forwarded-headers-invalid`, before the token is looked at.
//!
//! | fact | carriers | nginx | Traefik, Caddy | Envoy | auto |
//! |---|---|---|---|---|---|
//! | method | `X-Original-Method`, `X-Forwarded-Method`; on `/ext-authz` the check's own | `X-Original-Method` | `X-Forwarded-Method` | own | the carriers present, else own |
//! | URI | `X-Original-URI`, `X-Forwarded-Uri`, `X-Envoy-Original-Path`; on `/ext-authz` the path after the prefix | `X-Original-URI` | `X-Forwarded-Uri` | own | the carriers present |
//! | host | `X-Forwarded-Host`; on `/ext-authz` the check's `Host` | `X-Forwarded-Host` if sent | `X-Forwarded-Host` | own `Host` | the carriers present |
//! | scheme | `X-Forwarded-Proto` | if sent | `X-Forwarded-Proto` | if sent | if sent |
//!
//! The check's own method, path and `Host` describe the client's request only for Envoy
//! (`ext_authz` sends the original method and path under its prefix); nginx, Traefik and Caddy
//! ask with a `GET` of their own, so on `/auth` the own method is used only when no carrier is
//! present at all (a direct call).

use clerk_verify::{reason, Refusal};
use hyper::header::{HeaderMap, HeaderName, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};

/// The proxy in front, whose headers `serve` reads (`--proxy`, `CLERK_PROXY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Proxy {
    /// No proxy named: every carrier present must agree.
    #[default]
    Auto,
    /// nginx's `auth_request` with docs/gateway.md's `clerk-auth.conf`.
    Nginx,
    /// Traefik's `forwardAuth`.
    Traefik,
    /// Caddy's `forward_auth`.
    Caddy,
    /// Envoy's `ext_authz` HTTP service, on `/ext-authz/…`.
    Envoy,
}

impl Proxy {
    /// The value's spelling, as `--proxy` and `CLERK_PROXY` take it.
    pub fn name(self) -> &'static str {
        match self {
            Proxy::Auto => "auto",
            Proxy::Nginx => "nginx",
            Proxy::Traefik => "traefik",
            Proxy::Caddy => "caddy",
            Proxy::Envoy => "envoy",
        }
    }

    /// Reads `CLERK_PROXY`'s value (exact spelling, as the flag).
    pub fn parse(text: &str) -> Option<Proxy> {
        <Proxy as clap::ValueEnum>::from_str(text.trim(), false).ok()
    }
}

/// The route the proxy asked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'r> {
    /// `/auth`: the forwarded request is described by headers only.
    Auth,
    /// `/ext-authz/…`: Envoy's check, whose method, path after the prefix (`uri`, `None` when
    /// nothing follows the prefix) and `Host` are the client's.
    ExtAuthz { uri: Option<&'r str> },
}

/// The check request as `serve` received it.
#[derive(Debug, Clone, Copy)]
pub struct Check<'r> {
    pub route: Route<'r>,
    /// The check request's own method.
    pub method: &'r str,
    pub headers: &'r HeaderMap,
}

/// What the forwarded request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarded<'r> {
    pub method: &'r str,
    /// Origin form (`/path?query`) or `*`; for the log, without its query.
    pub uri: Option<&'r str>,
    /// `host[:port]`; for the log.
    pub host: Option<&'r str>,
    /// `http`, `https`, `ws` or `wss`; checked like the others, used by nothing yet.
    pub scheme: Option<&'r str>,
}

/// Why the forwarded request cannot be known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// A carrier is missing (for the proxy named), repeated, malformed or disagrees: 400.
    Headers(String),
    /// The route does not fit the proxy named (Envoy asked on `/auth`): a configuration error.
    Route(String),
}

impl Invalid {
    /// The answer: 400 `forwarded-headers-invalid`, or 500 `config-invalid` for the route.
    pub fn refusal(&self) -> Refusal {
        match self {
            Invalid::Headers(why) => Refusal::bad_request(
                reason::FORWARDED_HEADERS_INVALID,
                format!("the forwarded request's headers cannot be trusted: {why}"),
            ),
            Invalid::Route(why) => Refusal::internal(reason::CONFIG_INVALID, why.clone()),
        }
    }
}

/// Judges the facts of the forwarded request.
pub fn judge<'r>(proxy: Proxy, check: &Check<'r>) -> Result<Forwarded<'r>, Invalid> {
    if proxy == Proxy::Envoy && check.route == Route::Auth {
        return Err(Invalid::Route(
            "--proxy envoy: Envoy's ext_authz asks on /ext-authz/…, not /auth".into(),
        ));
    }
    Ok(Forwarded {
        method: fact(proxy, check, Fact::Method)?.unwrap_or(check.method),
        uri: fact(proxy, check, Fact::Uri)?,
        host: fact(proxy, check, Fact::Host)?,
        scheme: fact(proxy, check, Fact::Scheme)?,
    })
}

impl Forwarded<'_> {
    /// A CORS preflight, let through without credentials: the forwarded method is exactly
    /// `OPTIONS` and the request has one `Origin` and one `Access-Control-Request-Method`, as
    /// a browser sends them. Anything short of that goes through the token check.
    pub fn is_preflight(&self, headers: &HeaderMap) -> bool {
        self.method == "OPTIONS"
            && single(headers, ORIGIN).is_some_and(|o| {
                !o.is_empty() && o.bytes().all(|b| b.is_ascii_graphic() && b != b',')
            })
            && single(headers, ACCESS_CONTROL_REQUEST_METHOD).is_some_and(is_method)
    }
}

/// One fact of the forwarded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fact {
    Method,
    Uri,
    Host,
    Scheme,
}

/// Where a fact is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Header(&'static str),
    /// The check request's own method, path after `/ext-authz`, or `Host`.
    Own,
}

impl Fact {
    fn noun(self) -> &'static str {
        match self {
            Fact::Method => "method",
            Fact::Uri => "URI",
            Fact::Host => "host",
            Fact::Scheme => "scheme",
        }
    }

    /// Every header that carries the fact, spelled as the proxies do.
    fn carriers(self) -> &'static [&'static str] {
        match self {
            Fact::Method => &["X-Original-Method", "X-Forwarded-Method"],
            Fact::Uri => &["X-Original-URI", "X-Forwarded-Uri", "X-Envoy-Original-Path"],
            Fact::Host => &["X-Forwarded-Host"],
            Fact::Scheme => &["X-Forwarded-Proto"],
        }
    }

    fn is_valid(self, value: &str) -> bool {
        match self {
            Fact::Method => is_method(value),
            // Origin form or `*`: one URI, no spaces (a comma may be part of a path).
            Fact::Uri => {
                value == "*"
                    || (value.starts_with('/') && value.bytes().all(|b| b.is_ascii_graphic()))
            }
            // `host[:port]`, an IPv6 literal in brackets: never a list, a path or user info.
            Fact::Host => {
                !value.is_empty()
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+;=:[]".contains(&b))
            }
            Fact::Scheme => matches!(value, "http" | "https" | "ws" | "wss"),
        }
    }

    /// The source `proxy` sets for this fact, and whether it must be there.
    fn authority(self, proxy: Proxy, route: Route<'_>) -> (Option<Source>, bool) {
        use Source::{Header, Own};
        let ext = matches!(route, Route::ExtAuthz { .. });
        match (proxy, self) {
            (Proxy::Nginx, Fact::Method) => (Some(Header("X-Original-Method")), true),
            (Proxy::Nginx, Fact::Uri) => (Some(Header("X-Original-URI")), true),
            (Proxy::Traefik | Proxy::Caddy, Fact::Method) => {
                (Some(Header("X-Forwarded-Method")), true)
            }
            (Proxy::Traefik | Proxy::Caddy, Fact::Uri) => (Some(Header("X-Forwarded-Uri")), true),
            (Proxy::Traefik | Proxy::Caddy, Fact::Host) => (Some(Header("X-Forwarded-Host")), true),
            (Proxy::Traefik | Proxy::Caddy, Fact::Scheme) => {
                (Some(Header("X-Forwarded-Proto")), true)
            }
            (Proxy::Envoy, Fact::Method | Fact::Uri | Fact::Host) => (Some(Own), true),
            (Proxy::Auto, Fact::Method | Fact::Uri | Fact::Host) if ext => (Some(Own), false),
            // nginx's host and scheme, Envoy's scheme, and auto on /auth: whichever carriers
            // are present, none required.
            _ => (None, false),
        }
    }
}

/// The fact's value: from its authority when present, else (when none is required) from the
/// carriers present; every carrier present must say exactly the same.
fn fact<'r>(proxy: Proxy, check: &Check<'r>, fact: Fact) -> Result<Option<&'r str>, Invalid> {
    // (who says it, what it says), for every carrier present, each read once and checked: at
    // most three headers and the check's own.
    let mut present: [Option<(Source, &'r str)>; 4] = [None; 4];
    for (slot, &name) in present.iter_mut().zip(fact.carriers()) {
        *slot = carrier(check.headers, name, fact)?.map(|value| (Source::Header(name), value));
    }
    let own_counts = matches!(proxy, Proxy::Auto | Proxy::Envoy);
    if let (Route::ExtAuthz { uri }, true) = (check.route, own_counts) {
        let own = match fact {
            Fact::Method => Some(check.method),
            Fact::Uri => match uri {
                Some(uri) if !fact.is_valid(uri) => {
                    return Err(Invalid::Headers(
                        "the path after /ext-authz is not a valid URI".into(),
                    ))
                }
                uri => uri,
            },
            Fact::Host => carrier(check.headers, "Host", fact)?,
            Fact::Scheme => None,
        };
        present[3] = own.map(|value| (Source::Own, value));
    }
    let present = present.iter().flatten();

    let (authority, required) = fact.authority(proxy, check.route);
    let chosen = match authority {
        Some(source) => present.clone().find(|(s, _)| *s == source).copied(),
        None => None,
    };
    let chosen = match (chosen, required) {
        (Some(c), _) => Some(c),
        (None, true) => {
            let source = authority.map_or("?".into(), |s| describe(s, fact));
            return Err(Invalid::Headers(format!(
                "{source} is missing, and --proxy {} always sends it: is the proxy configured \
                 as docs/gateway.md shows?",
                proxy.name()
            )));
        }
        (None, false) => present.clone().next().copied(),
    };
    if let Some((source, value)) = chosen {
        if let Some((other, _)) = present.clone().find(|(_, v)| *v != value) {
            return Err(Invalid::Headers(format!(
                "{} and {} disagree on the {}",
                describe(source, fact),
                describe(*other, fact),
                fact.noun()
            )));
        }
    }
    Ok(chosen.map(|(_, value)| value))
}

/// A carrier's value when present: once, and well formed.
fn carrier<'r>(
    headers: &'r HeaderMap,
    name: &'static str,
    fact: Fact,
) -> Result<Option<&'r str>, Invalid> {
    let mut values = headers.get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Invalid::Headers(format!(
            "{name} is repeated (a proxy sends it once)"
        )));
    }
    match value.to_str() {
        Ok(text) if fact.is_valid(text) => Ok(Some(text)),
        _ => Err(Invalid::Headers(format!(
            "{name} is not a valid {} (one value, no list)",
            fact.noun()
        ))),
    }
}

fn describe(source: Source, fact: Fact) -> String {
    match (source, fact) {
        (Source::Header(name), _) => name.to_owned(),
        (Source::Own, Fact::Method) => "the /ext-authz request's own method".into(),
        (Source::Own, Fact::Uri) => "the path after /ext-authz".into(),
        (Source::Own, _) => "the /ext-authz request's Host".into(),
    }
}

/// The only value of header `name`, as text.
fn single(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    values
        .next()
        .is_none()
        .then(|| value.to_str().ok())
        .flatten()
}

/// An HTTP method: a token (RFC 9110), case as sent.
fn is_method(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
        }
        h
    }

    /// The facts as text: method, URI, host, scheme.
    type Facts = [Option<String>; 4];

    fn facts(m: &str, u: Option<&str>, h: Option<&str>, s: Option<&str>) -> Facts {
        [Some(m), u, h, s].map(|f| f.map(str::to_owned))
    }

    /// What `judge` says: the facts, or the message of a refusal.
    fn run(
        proxy: Proxy,
        route: Route<'_>,
        method: &str,
        pairs: &[(&str, &str)],
    ) -> Result<Facts, String> {
        let h = headers(pairs);
        let check = Check {
            route,
            method,
            headers: &h,
        };
        match judge(proxy, &check) {
            Ok(f) => Ok(facts(f.method, f.uri, f.host, f.scheme)),
            Err(Invalid::Headers(m) | Invalid::Route(m)) => Err(m),
        }
    }

    /// (proxy, route, the check's own method, headers, the facts or a fragment of the refusal)
    type Case = (
        Proxy,
        Route<'static>,
        &'static str,
        Vec<(&'static str, &'static str)>,
        Result<Facts, &'static str>,
    );

    const AUTH: Route<'static> = Route::Auth;
    fn ext(uri: Option<&'static str>) -> Route<'static> {
        Route::ExtAuthz { uri }
    }

    #[test]
    fn each_proxy_reads_its_own_headers_and_every_carrier_must_agree() {
        use Proxy::{Auto, Caddy, Envoy, Nginx, Traefik};
        let ok = |m, u, h, s| Ok(facts(m, u, h, s));
        let traefik_set: &[(&str, &str)] = &[
            ("X-Forwarded-Method", "DELETE"),
            ("X-Forwarded-Uri", "/admin/users/7?x=1"),
            ("X-Forwarded-Host", "app.example.com:8443"),
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Port", "8443"),
            ("X-Forwarded-For", "192.0.2.1"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = traefik_set.to_vec();
            v.extend_from_slice(extra);
            v
        };
        let nginx_set: &[(&str, &str)] = &[
            ("X-Original-Method", "DELETE"),
            ("X-Original-URI", "/admin/users/7"),
        ];
        let nginx_with = |extra: &[(&'static str, &'static str)]| {
            let mut v = nginx_set.to_vec();
            v.extend_from_slice(extra);
            v
        };
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            // nginx: X-Original-*, required; its host and scheme when the config sends them.
            (Nginx, AUTH, "GET", nginx_set.to_vec(), ok("DELETE", Some("/admin/users/7"), None, None)),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Forwarded-Host", "app.example.com"), ("X-Forwarded-Proto", "https")]),
                ok("DELETE", Some("/admin/users/7"), Some("app.example.com"), Some("https"))),
            (Nginx, AUTH, "GET", vec![("X-Original-URI", "/x")], Err("X-Original-Method is missing, and --proxy nginx")),
            (Nginx, AUTH, "GET", vec![("X-Original-Method", "GET")], Err("X-Original-URI is missing")),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Forwarded-Method", "OPTIONS")]), Err("X-Original-Method and X-Forwarded-Method disagree on the method")),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Forwarded-Method", "DELETE")]), ok("DELETE", Some("/admin/users/7"), None, None)),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Forwarded-Method", "delete")]), Err("disagree on the method")),
            (Nginx, AUTH, "GET", nginx_with(&[("x-original-method", "OPTIONS")]), Err("X-Original-Method is repeated")),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Envoy-Original-Path", "/public")]), Err("X-Original-URI and X-Envoy-Original-Path disagree on the URI")),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Forwarded-Uri", "/admin/users/7?")]), Err("disagree on the URI")),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Forwarded-Host", "a.example, b.example")]), Err("X-Forwarded-Host is not a valid host")),
            (Nginx, AUTH, "GET", nginx_with(&[("X-Forwarded-Proto", "HTTPS")]), Err("X-Forwarded-Proto is not a valid scheme")),
            (Nginx, AUTH, "GET", vec![("X-Original-Method", "GET, OPTIONS"), ("X-Original-URI", "/x")], Err("X-Original-Method is not a valid method")),
            (Nginx, AUTH, "GET", vec![("X-Original-Method", "G\u{c9}T"), ("X-Original-URI", "/x")], Err("not a valid method")),
            (Nginx, AUTH, "GET", vec![("X-Original-Method", ""), ("X-Original-URI", "/x")], Err("not a valid method")),
            (Nginx, AUTH, "GET", vec![("X-Original-Method", "GET"), ("X-Original-URI", "http://evil/")], Err("X-Original-URI is not a valid URI")),
            (Nginx, AUTH, "GET", vec![("X-Original-Method", "GET"), ("X-Original-URI", "/a /")], Err("not a valid URI")),
            // Traefik and Caddy: X-Forwarded-*, all four required.
            (Traefik, AUTH, "GET", traefik_set.to_vec(), ok("DELETE", Some("/admin/users/7?x=1"), Some("app.example.com:8443"), Some("https"))),
            (Caddy, AUTH, "GET", traefik_set.to_vec(), ok("DELETE", Some("/admin/users/7?x=1"), Some("app.example.com:8443"), Some("https"))),
            // The request, through a proxy that passes the client's X-Original-Method.
            (Traefik, AUTH, "GET", with(&[("X-Original-Method", "OPTIONS"), ("Access-Control-Request-Method", "GET")]),
                Err("X-Forwarded-Method and X-Original-Method disagree on the method")),
            (Caddy, AUTH, "GET", with(&[("X-Original-URI", "/public")]), Err("X-Forwarded-Uri and X-Original-URI disagree")),
            (Caddy, AUTH, "GET", with(&[("X-Original-URI", "/admin/users/7?x=1")]), ok("DELETE", Some("/admin/users/7?x=1"), Some("app.example.com:8443"), Some("https"))),
            (Traefik, AUTH, "GET", vec![("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/"), ("X-Forwarded-Proto", "http")], Err("X-Forwarded-Host is missing, and --proxy traefik")),
            (Caddy, AUTH, "GET", vec![("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/"), ("X-Forwarded-Host", "h")], Err("X-Forwarded-Proto is missing")),
            (Caddy, AUTH, "GET", with(&[("X-Forwarded-Method", "DELETE")]), Err("X-Forwarded-Method is repeated")),
            // Their check is a GET of their own: /ext-authz's own method is not theirs.
            (Traefik, ext(Some("/x")), "GET", traefik_set.to_vec(), ok("DELETE", Some("/admin/users/7?x=1"), Some("app.example.com:8443"), Some("https"))),
            // Envoy: the check's own method, path after the prefix and Host.
            (Envoy, ext(Some("/api/x?y=1")), "POST", vec![("Host", "app.example.com")], ok("POST", Some("/api/x?y=1"), Some("app.example.com"), None)),
            (Envoy, ext(Some("/api/x")), "GET", vec![("Host", "app.example.com"), ("X-Forwarded-Proto", "https")], ok("GET", Some("/api/x"), Some("app.example.com"), Some("https"))),
            (Envoy, AUTH, "GET", vec![("Host", "app.example.com")], Err("--proxy envoy: Envoy's ext_authz asks on /ext-authz")),
            (Envoy, ext(None), "GET", vec![("Host", "h")], Err("the path after /ext-authz is missing")),
            (Envoy, ext(Some("/a")), "GET", vec![], Err("the /ext-authz request's Host is missing")),
            (Envoy, ext(Some("/a")), "GET", vec![("Host", "h"), ("X-Original-Method", "OPTIONS")], Err("the /ext-authz request's own method and X-Original-Method disagree")),
            (Envoy, ext(Some("/a")), "OPTIONS", vec![("Host", "h"), ("X-Forwarded-Method", "OPTIONS")], ok("OPTIONS", Some("/a"), Some("h"), None)),
            (Envoy, ext(Some("/a")), "GET", vec![("Host", "h"), ("X-Envoy-Original-Path", "/")], Err("the path after /ext-authz and X-Envoy-Original-Path disagree")),
            (Envoy, ext(Some("/a")), "GET", vec![("Host", "h"), ("X-Forwarded-Host", "evil")], Err("the /ext-authz request's Host and X-Forwarded-Host disagree")),
            (Envoy, ext(Some("/a")), "GET", vec![("Host", "h"), ("Host", "h")], Err("Host is repeated")),
            (Envoy, ext(Some("a")), "GET", vec![("Host", "h")], Err("the path after /ext-authz is not a valid URI")),
            // auto: whichever carriers are present, agreeing; on /auth the own method last.
            (Auto, AUTH, "GET", vec![], ok("GET", None, None, None)),
            (Auto, AUTH, "HEAD", vec![], ok("HEAD", None, None, None)),
            (Auto, AUTH, "GET", vec![("X-Forwarded-Method", "GET"), ("X-Original-Method", "OPTIONS"), ("Access-Control-Request-Method", "GET")],
                Err("X-Original-Method and X-Forwarded-Method disagree on the method")),
            (Auto, AUTH, "GET", vec![("X-Original-Method", "DELETE"), ("X-Forwarded-Method", "DELETE"), ("X-Original-URI", "/x"), ("X-Forwarded-Uri", "/x")],
                ok("DELETE", Some("/x"), None, None)),
            (Auto, AUTH, "GET", vec![("X-Forwarded-Method", "PUT")], ok("PUT", None, None, None)),
            (Auto, AUTH, "GET", vec![("X-Forwarded-Uri", "/a"), ("X-Envoy-Original-Path", "/")], Err("X-Forwarded-Uri and X-Envoy-Original-Path disagree")),
            (Auto, AUTH, "GET", vec![("X-Forwarded-Host", "h"), ("x-forwarded-host", "h")], Err("X-Forwarded-Host is repeated")),
            (Auto, AUTH, "GET", vec![("X-Forwarded-Method", "")], Err("X-Forwarded-Method is not a valid method")),
            (Auto, AUTH, "GET", traefik_set.to_vec(), ok("DELETE", Some("/admin/users/7?x=1"), Some("app.example.com:8443"), Some("https"))),
            (Auto, ext(Some("/x")), "OPTIONS", vec![("X-Forwarded-Method", "GET")], Err("the /ext-authz request's own method and X-Forwarded-Method disagree")),
            (Auto, ext(Some("/x")), "GET", vec![("Host", "h"), ("X-Forwarded-Uri", "/x")], ok("GET", Some("/x"), Some("h"), None)),
            (Auto, ext(None), "GET", vec![], ok("GET", None, None, None)),
            (Auto, ext(None), "GET", vec![("X-Original-URI", "/z")], ok("GET", Some("/z"), None, None)),
        ];
        for (proxy, route, method, pairs, want) in cases {
            let got = run(proxy, route, method, &pairs);
            match (&got, want.clone()) {
                (Ok(got), Ok(wanted)) => assert_eq!(*got, wanted, "{proxy:?} {route:?} {pairs:?}"),
                (Err(message), Err(fragment)) => assert!(
                    message.contains(fragment),
                    "{proxy:?} {route:?} {pairs:?}: {message:?} lacks {fragment:?}"
                ),
                _ => panic!("{proxy:?} {route:?} {method} {pairs:?}: got {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn refusals() {
        let r = Invalid::Headers("X-Forwarded-Uri is repeated".into()).refusal();
        assert_eq!((r.status(), r.reason()), (400, "forwarded-headers-invalid"));
        assert!(r.message().ends_with("X-Forwarded-Uri is repeated"), "{r}");
        let r = Invalid::Route("--proxy envoy".into()).refusal();
        assert_eq!((r.status(), r.reason()), (500, "config-invalid"));
    }

    #[test]
    fn a_preflight_is_exactly_options_with_origin_and_a_requested_method() {
        let judged = |method| Forwarded {
            method,
            uri: None,
            host: None,
            scheme: None,
        };
        let browser: &[(&str, &str)] = &[
            ("Origin", "https://app.example.com"),
            ("Access-Control-Request-Method", "DELETE"),
        ];
        assert!(judged("OPTIONS").is_preflight(&headers(browser)));
        assert!(judged("OPTIONS").is_preflight(&headers(&[
            ("Origin", "null"),
            ("Access-Control-Request-Method", "GET")
        ])));
        for method in ["GET", "options", "Options", "POST"] {
            assert!(!judged(method).is_preflight(&headers(browser)), "{method}");
        }
        for pairs in [
            &[("Access-Control-Request-Method", "GET")][..],
            &[("Origin", "https://a.example")][..],
            &[
                ("Origin", "https://a.example"),
                ("Origin", "https://b.example"),
                ("Access-Control-Request-Method", "GET"),
            ][..],
            &[
                ("Origin", "https://a.example"),
                ("Access-Control-Request-Method", "GET"),
                ("access-control-request-method", "GET"),
            ][..],
            &[
                ("Origin", "https://a.example,https://b.example"),
                ("Access-Control-Request-Method", "GET"),
            ][..],
            &[
                ("Origin", "https://a.example"),
                ("Access-Control-Request-Method", "GET, POST"),
            ][..],
            &[("Origin", ""), ("Access-Control-Request-Method", "GET")][..],
        ] {
            assert!(
                !judged("OPTIONS").is_preflight(&headers(pairs)),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn proxy_names() {
        for proxy in [
            Proxy::Auto,
            Proxy::Nginx,
            Proxy::Traefik,
            Proxy::Caddy,
            Proxy::Envoy,
        ] {
            assert_eq!(Proxy::parse(proxy.name()), Some(proxy));
        }
        assert_eq!(Proxy::parse(" caddy "), Some(Proxy::Caddy));
        assert_eq!(Proxy::parse("Nginx"), None);
        assert_eq!(Proxy::parse("haproxy"), None);
        assert_eq!(Proxy::default(), Proxy::Auto);
    }
}
