//! [`FrontendApi`]: the parts of Clerk's Frontend and Backend APIs that Clerk's handshake uses,
//! emulated on the dev issuer's [`crate::JwksServer`], so server-rendered pages can be tested
//! offline, in a real browser too:
//!
//! - `GET /v1/client/handshake?redirect_url=…&__session=…[&format=nonce]` (Frontend API): the
//!   browser's session (named by the expired or stale token the app passes along, whose
//!   signature is checked) gets a fresh session token, or, when there is none or it was
//!   revoked, signed-out cookies; the browser goes back to `redirect_url` with a signed
//!   handshake token (`__clerk_handshake`) or, with `format=nonce`, a one-time nonce
//!   (`__clerk_handshake_nonce`);
//! - `GET /v1/clients/handshake_payload?nonce=…` (Backend API, bearer secret): the nonce's
//!   cookie directives, once;
//! - `GET /dev/sign-in?user_id=…&redirect_url=…[&expired=1]` (ours): signs a browser in by
//!   setting `__session` and `__client_uat` on this host (cookies ignore ports, so an app on
//!   another 127.0.0.1 port sees them) and sends it to `redirect_url`; `expired=1` sets a
//!   session token that expired a minute ago, the state a handshake repairs. Without
//!   `user_id` it shows a small sign-in form.

use crate::keys::DevKey;
use crate::mint::{b64url_decode, now_unix, TokenBuilder};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Lifetime of a nonce and of a handshake token, in seconds.
const HANDSHAKE_TTL: i64 = 60;
/// Lifetime of the session tokens it mints (Clerk's: 60 s).
const SESSION_TTL: i64 = 60;
/// Most nonces kept at once.
const MAX_NONCES: usize = 10_000;

/// The handshake endpoints of a dev issuer. Build one, then hand it to
/// [`crate::JwksServer::serve_frontend_api`].
///
/// ```
/// use clerk_dev::{fixtures, FrontendApi, JwksServer};
///
/// let server = JwksServer::start_with(fixtures::rsa2048().jwks_json());
/// let fapi = server.serve_frontend_api(FrontendApi::new(fixtures::rsa2048().clone()));
/// assert_eq!(fapi.handshakes(), 0);
/// ```
#[derive(Debug)]
pub struct FrontendApi {
    key: DevKey,
    issuer: Mutex<Option<String>>,
    cookie_suffix: Option<String>,
    secret_key: Option<String>,
    nonces: Mutex<HashMap<String, (Vec<String>, i64)>>,
    revoked: Mutex<HashSet<String>>,
    /// The handshake answers with only this list of directives (tests of a broken instance).
    forced: Mutex<Option<Vec<String>>>,
    handshakes: AtomicUsize,
    exchanges: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A response from one of the endpoints: status, headers, body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) content_type: &'static str,
    pub(crate) body: String,
}

impl Reply {
    fn redirect(location: String, cookies: Vec<String>) -> Reply {
        let mut headers = vec![
            ("Location", location),
            ("Cache-Control", "no-store".to_owned()),
        ];
        headers.extend(cookies.into_iter().map(|c| ("Set-Cookie", c)));
        Reply {
            status: 307,
            headers,
            content_type: "text/plain",
            body: String::new(),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "application/json",
            body: json!({ "errors": [{ "code": code, "message": message }] }).to_string(),
        }
    }
}

impl FrontendApi {
    /// Endpoints that sign with `key` (the key whose JWKS the server serves).
    pub fn new(key: DevKey) -> FrontendApi {
        FrontendApi {
            key,
            issuer: Mutex::new(None),
            cookie_suffix: None,
            secret_key: None,
            nonces: Mutex::new(HashMap::new()),
            revoked: Mutex::new(HashSet::new()),
            forced: Mutex::new(None),
            handshakes: AtomicUsize::new(0),
            exchanges: AtomicUsize::new(0),
        }
    }

    /// The `iss` of the tokens it mints (default: the server's own URL).
    #[must_use]
    pub fn issuer(self, issuer: impl Into<String>) -> FrontendApi {
        *lock(&self.issuer) = Some(issuer.into());
        self
    }

    /// The cookie suffix (of the app's publishable key) for `suffixed_cookies=true` handshakes.
    #[must_use]
    pub fn cookie_suffix(mut self, suffix: impl Into<String>) -> FrontendApi {
        self.cookie_suffix = Some(suffix.into());
        self
    }

    /// The secret key the nonce exchange requires as `Authorization: Bearer` (default: any
    /// bearer is accepted).
    #[must_use]
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> FrontendApi {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// Revokes a session (by `sid`): its next handshake signs the browser out.
    pub fn revoke(&self, sid: &str) {
        lock(&self.revoked).insert(sid.to_owned());
    }

    /// From now on every handshake answers with exactly these directives (`None`: normal).
    /// Empty directives emulate an instance whose keys do not match the app's, which loops.
    pub fn force_directives(&self, directives: Option<Vec<String>>) {
        *lock(&self.forced) = directives;
    }

    /// Handshakes started so far.
    pub fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    /// Nonces exchanged so far (successfully or not).
    pub fn exchanges(&self) -> usize {
        self.exchanges.load(Ordering::SeqCst)
    }

    /// Handles `path` (with `query`), or `None` when it is not one of its endpoints.
    pub(crate) fn handle(
        &self,
        base_url: &str,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(String, String)],
    ) -> Option<Reply> {
        let params = Params::parse(query);
        let reply = match path {
            "/v1/client/handshake" => self.handshake(base_url, &params),
            "/v1/clients/handshake_payload" => self.exchange(&params, headers),
            "/dev/sign-in" => self.sign_in(base_url, &params),
            _ => return None,
        };
        if method != "GET" {
            return Some(Reply::error(
                405,
                "method_not_allowed",
                "method not allowed",
            ));
        }
        Some(reply)
    }

    fn issuer_for(&self, base_url: &str) -> String {
        lock(&self.issuer)
            .clone()
            .unwrap_or_else(|| base_url.to_owned())
    }

    fn handshake(&self, base_url: &str, params: &Params) -> Reply {
        self.handshakes.fetch_add(1, Ordering::SeqCst);
        let Some(back) = params.get("redirect_url").filter(|u| is_http_url(u)) else {
            return Reply::error(
                400,
                "form_param_missing",
                "redirect_url is missing or not http(s)",
            );
        };
        let suffix = match (params.get("suffixed_cookies"), &self.cookie_suffix) {
            (Some("true"), Some(suffix)) => Some(suffix.as_str()),
            _ => None,
        };
        let forced = lock(&self.forced).clone();
        let directives = match forced {
            Some(directives) => directives,
            None => {
                let previous = params.get("__session").and_then(|t| self.own_claims(t));
                let previous = previous.filter(|c| {
                    let sid = c.get("sid").and_then(Value::as_str).unwrap_or("");
                    !lock(&self.revoked).contains(sid)
                });
                let azp = origin_of(back);
                let now = now_unix();
                match previous {
                    Some(claims) => {
                        let token = self.refresh(base_url, &claims, azp, now);
                        session_directives(suffix, &token, now)
                    }
                    None => signed_out_directives(suffix),
                }
            }
        };
        let now = now_unix();
        let (name, value) = if params.get("format") == Some("nonce") {
            let nonce = random_id("nonce");
            let mut nonces = lock(&self.nonces);
            nonces.retain(|_, (_, until)| *until > now);
            if nonces.len() >= MAX_NONCES {
                return Reply::error(429, "too_many_requests", "too many pending handshakes");
            }
            nonces.insert(nonce.clone(), (directives, now + HANDSHAKE_TTL));
            ("__clerk_handshake_nonce", nonce)
        } else {
            let token = TokenBuilder::empty()
                .header("typ", "JWT")
                // Unique, as every real handshake is: the app refuses one it has seen.
                .claim("jti", random_id("hs"))
                .claim("handshake", directives)
                .claim("iat", now)
                .claim("exp", now + HANDSHAKE_TTL)
                .sign(&self.key);
            ("__clerk_handshake", token)
        };
        Reply::redirect(with_param(back, name, &value), Vec::new())
    }

    fn exchange(&self, params: &Params, headers: &[(String, String)]) -> Reply {
        self.exchanges.fetch_add(1, Ordering::SeqCst);
        let bearer = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .and_then(|(_, v)| v.strip_prefix("Bearer "));
        let authorized = match (&self.secret_key, bearer) {
            (Some(secret), Some(bearer)) => secret == bearer,
            (None, Some(bearer)) => !bearer.is_empty(),
            _ => false,
        };
        if !authorized {
            return Reply::error(
                401,
                "clerk_key_invalid",
                "The provided Clerk Secret Key is invalid.",
            );
        }
        let taken = params
            .get("nonce")
            .and_then(|nonce| lock(&self.nonces).remove(nonce));
        match taken {
            Some((directives, until)) if until > now_unix() => Reply {
                status: 200,
                headers: Vec::new(),
                content_type: "application/json",
                body: json!({ "directives": directives }).to_string(),
            },
            _ => Reply::error(
                400,
                "invalid_nonce",
                "The nonce provided is invalid or has expired",
            ),
        }
    }

    fn sign_in(&self, base_url: &str, params: &Params) -> Reply {
        let Some(user) = params.get("user_id").filter(|u| is_id(u)) else {
            let back = params.get("redirect_url").unwrap_or("");
            let back = html_escape(back);
            return Reply {
                status: 200,
                headers: Vec::new(),
                content_type: "text/html; charset=utf-8",
                body: format!(
                    "<!doctype html><title>Sign in (dev issuer)</title><h1>Sign in</h1>\
                     <p>Development issuer: no password, pick a user id.</p>\
                     <form method=get action=/dev/sign-in><input name=user_id value=user_dev>\
                     <input type=hidden name=redirect_url value=\"{back}\">\
                     <button>Sign in</button></form>"
                ),
            };
        };
        let now = now_unix();
        let expired = params.get("expired") == Some("1");
        let iat = if expired { now - 2 * SESSION_TTL } else { now };
        let back = params.get("redirect_url").filter(|u| is_http_url(u));
        let azp = back.map(origin_of).unwrap_or("http://localhost:3000");
        let mut claims = Map::new();
        claims.insert("sub".into(), user.into());
        claims.insert("sid".into(), random_id("sess").into());
        if let Some(org) = params.get("org_id").filter(|o| is_id(o)) {
            claims.insert("org_id".into(), org.into());
            let role = params
                .get("org_role")
                .filter(|r| is_id(r))
                .unwrap_or("org:member");
            claims.insert("org_role".into(), role.into());
        }
        let token = self.refresh(base_url, &claims, azp, iat);
        let cookies = session_directives(None, &token, iat);
        match back {
            Some(back) => Reply::redirect(back.to_owned(), cookies),
            None => {
                let mut reply = Reply::redirect(format!("{base_url}/dev/signed-in"), cookies);
                reply.status = 303;
                reply
            }
        }
    }

    /// A new session token for `claims`' user and session, issued at `iat`.
    fn refresh(&self, base_url: &str, claims: &Map<String, Value>, azp: &str, iat: i64) -> String {
        let mut builder = TokenBuilder::session("", iat)
            .claim("iss", self.issuer_for(base_url))
            .claim("azp", azp)
            .claim("exp", iat + SESSION_TTL);
        for (name, value) in claims {
            if !matches!(name.as_str(), "iat" | "exp" | "nbf" | "iss" | "azp" | "jti") {
                builder = builder.claim(name, value.clone());
            }
        }
        builder.sign(&self.key)
    }

    /// The claims of a token this issuer signed (expired or not); `None` for anything else.
    fn own_claims(&self, token: &str) -> Option<Map<String, Value>> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let head: Value = serde_json::from_slice(&b64url_decode(header)?).ok()?;
        if head.get("alg") != Some(&json!("RS256"))
            || head.get("kid") != Some(&json!(self.key.kid()))
        {
            return None;
        }
        // PKCS #1 v1.5 signatures are deterministic: signing the same input again gives the
        // same bytes exactly when the token is genuine.
        let input = format!("{header}.{payload}");
        if self.key.sign("RS256", input.as_bytes()) != b64url_decode(signature)? {
            return None;
        }
        serde_json::from_slice(&b64url_decode(payload)?).ok()
    }
}

fn session_directives(suffix: Option<&str>, token: &str, uat: i64) -> Vec<String> {
    let name = |n: &str| match suffix {
        Some(s) => format!("{n}_{s}"),
        None => n.to_owned(),
    };
    vec![
        format!("{}={token}; Path=/; SameSite=Lax", name("__session")),
        format!(
            "{}={uat}; Path=/; SameSite=Lax; Max-Age=315360000",
            name("__client_uat")
        ),
    ]
}

fn signed_out_directives(suffix: Option<&str>) -> Vec<String> {
    let name = |n: &str| match suffix {
        Some(s) => format!("{n}_{s}"),
        None => n.to_owned(),
    };
    vec![
        format!("{}=; Path=/; SameSite=Lax; Max-Age=0", name("__session")),
        format!(
            "{}=0; Path=/; SameSite=Lax; Max-Age=315360000",
            name("__client_uat")
        ),
    ]
}

/// A random id with a prefix, e.g. `sess_…`.
fn random_id(prefix: &str) -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}_{}",
        crate::mint::b64url(&bytes).replace(['-', '_'], "x")
    )
}

fn is_http_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && !url.bytes().any(|b| b.is_ascii_control() || b == b' ')
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-:".contains(&b))
}

fn origin_of(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    match url[after..].find(['/', '?', '#']) {
        Some(end) => &url[..after + end],
        None => url,
    }
}

fn with_param(url: &str, name: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let mut out = format!("{base}{sep}{name}={value}");
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Decoded query parameters (the first of equal names wins).
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &str) -> Params {
        Params(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip() {
        let url = with_param("http://a/p?x=1#f", "n", "a b&c=d/é");
        let query = url.split_once('?').unwrap().1.split('#').next().unwrap();
        let p = Params::parse(query);
        assert_eq!(p.get("x"), Some("1"));
        assert_eq!(p.get("n"), Some("a b&c=d/é"));
        assert_eq!(Params::parse("a=%zz%4").get("a"), Some("%zz%4"));
    }

    #[test]
    fn recognises_only_its_own_tokens() {
        let key = crate::fixtures::rsa2048().clone();
        let other = crate::fixtures::rsa3072().clone();
        let fapi = FrontendApi::new(key.clone());
        let mine = TokenBuilder::session("user_1", 1).sign(&key);
        let theirs = TokenBuilder::session("user_1", 1).sign(&other);
        assert_eq!(fapi.own_claims(&mine).unwrap()["sub"], "user_1");
        assert!(fapi.own_claims(&theirs).is_none());
        let tampered = mine.replace(
            mine.split('.').nth(1).unwrap(),
            &crate::mint::b64url(br#"{"sub":"admin"}"#),
        );
        assert!(fapi.own_claims(&tampered).is_none());
    }
}
