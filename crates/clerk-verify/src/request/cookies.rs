//! Every cookie Clerk's request authentication reads or writes, in one room: the names, the
//! `Cookie` header parser, the instance's name suffix and Clerk's rule for choosing between the
//! suffixed and unsuffixed cookies, the cookies a handshake may set, and the ones we clear.
//!
//! Suffixes: Clerk names each instance's cookies `<name>_<suffix>` beside the unsuffixed ones
//! (several apps on one host each have their own), and `shouldUseSuffixed` decides, per request,
//! which of the two sets to read ([`CookieRules::choose`]).

use crate::host::host_of;
use crate::options::PublishableKey;
use base64::Engine;
use serde_json::Value;
use std::borrow::Cow;

/// Name of Clerk's session cookie.
pub const SESSION_COOKIE: &str = "__session";
/// Name of Clerk's "client updated at" cookie: Unix seconds of the client's last sign-in change,
/// `0` when signed out.
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";
/// Clerk's refresh-token cookie (always suffixed).
pub const REFRESH_COOKIE: &str = "__refresh";
/// The handshake token's query parameter and cookie (Clerk's `__clerk_handshake`).
pub const HANDSHAKE_PARAM: &str = "__clerk_handshake";
/// The handshake nonce's query parameter and cookie (Clerk's `__clerk_handshake_nonce`).
pub const HANDSHAKE_NONCE_PARAM: &str = "__clerk_handshake_nonce";
/// Clerk's redirect-loop counter cookie.
pub const REDIRECT_COUNT_COOKIE: &str = "__clerk_redirect_count";
/// The development-browser token (cookie and query parameter), passed on to the Frontend API.
pub const DEV_BROWSER_COOKIE: &str = "__clerk_db_jwt";

/// Cookies a handshake may set: Clerk's, and nothing else (a handshake that tries to set any
/// other cookie has that directive dropped).
const CLERK_COOKIES: [&str; 7] = [
    SESSION_COOKIE,
    CLIENT_UAT_COOKIE,
    REFRESH_COOKIE,
    DEV_BROWSER_COOKIE,
    HANDSHAKE_PARAM,
    HANDSHAKE_NONCE_PARAM,
    REDIRECT_COUNT_COOKIE,
];
/// Most cookie directives one handshake may carry, and the longest one.
const MAX_DIRECTIVES: usize = 16;
const MAX_DIRECTIVE_LEN: usize = 8 * 1024;
/// Most parent domains a stray cookie is cleared on.
const MAX_CLEARED_DOMAINS: usize = 8;

/// The request's cookies; the first of equal names wins (RFC 6265 §5.4 ordering).
pub(crate) struct Cookies<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Cookies<'a> {
    pub(crate) fn parse(header: &'a str) -> Cookies<'a> {
        Cookies(
            header
                .split(';')
                .filter_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    let value = value.trim();
                    let value = value
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .unwrap_or(value);
                    Some((name.trim(), value))
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Clerk's loop counter: how many handshakes in a row this browser has made.
    pub(crate) fn redirect_count(&self) -> u32 {
        self.get(REDIRECT_COUNT_COOKIE)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

/// An instance's cookie names, decided once from its publishable key.
#[derive(Debug, Clone)]
pub(crate) struct CookieRules {
    suffix: String,
    frontend_api_host: String,
    production: bool,
}

impl CookieRules {
    pub(crate) fn new(pk: &PublishableKey) -> CookieRules {
        CookieRules {
            suffix: cookie_suffix(pk.as_str()),
            frontend_api_host: pk.frontend_api_host().to_owned(),
            production: pk.is_production(),
        }
    }

    /// Which of `name`'s cookies to read: `name_<suffix>` when Clerk's rules pick the suffixed
    /// set for this jar, else `name`. Without rules (no publishable key), always `name`.
    pub(crate) fn choose<'n>(
        rules: Option<&CookieRules>,
        jar: &Cookies<'_>,
        now: i64,
        name: &'n str,
    ) -> Cow<'n, str> {
        match rules {
            Some(rules) if uses_suffixed(jar, rules, now) => rules.suffixed(name),
            _ => Cow::Borrowed(name),
        }
    }

    /// Whether Clerk's rules pick the suffixed cookies for this jar.
    pub(crate) fn picks_suffixed(rules: Option<&CookieRules>, jar: &Cookies<'_>, now: i64) -> bool {
        rules.is_some_and(|rules| uses_suffixed(jar, rules, now))
    }

    /// `name_<suffix>`.
    pub(crate) fn suffixed<'n>(&self, name: &str) -> Cow<'n, str> {
        Cow::Owned(format!("{name}_{}", self.suffix))
    }
}

/// Clerk's cookie-name suffix for an instance (`getCookieSuffix`): the first 8 characters of the
/// base64 SHA-1 of the publishable key, with `+` → `-` and `/` → `_`. Suffixed cookies are named
/// `<name>_<suffix>`, e.g. `__session_r_77EQdK`.
///
/// The key is hashed exactly as given; pass the same string the frontend uses.
///
/// ```
/// let suffix = clerk_verify::request::cookie_suffix("pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk");
/// assert_eq!(suffix, "r_77EQdK");
/// ```
pub fn cookie_suffix(publishable_key: &str) -> String {
    let digest = crate::crypto::sha1_for_cookie_suffix(publishable_key.as_bytes());
    base64::engine::general_purpose::STANDARD
        .encode(digest)
        .chars()
        .take(8)
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

/// Reads a claim from a token's payload **without verifying it**: only for choosing between two
/// cookies, or whether a cookie is worth a handshake, exactly as Clerk does, never for trusting
/// anything.
pub(crate) fn peek_claim(token: &str, name: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = crate::token::B64URL.decode(payload).ok()?;
    crate::token::parse_object(&bytes).ok()?.remove(name)
}

/// Clerk's `shouldUseSuffixed()`, decision for decision.
fn uses_suffixed(jar: &Cookies<'_>, rules: &CookieRules, now: i64) -> bool {
    let suffixed = |n: &str| jar.get(&format!("{n}_{}", rules.suffix));
    let suffixed_uat = suffixed(CLIENT_UAT_COOKIE);
    let uat = jar.get(CLIENT_UAT_COOKIE);
    let suffixed_session = suffixed(SESSION_COOKIE).unwrap_or("");
    let session = jar.get(SESSION_COOKIE).unwrap_or("");

    if !session.is_empty() {
        // Clerk: a token without an issuer (undecodable, or an `iss` JavaScript calls falsy)
        // is malformed: unsuffixed, to sign it out rather than start a handshake. Any other
        // issuer that is not this instance's Frontend API (another string, or a value that is
        // not a string at all) belongs to another app on this host: trust the suffixed pair.
        match peek_claim(session, "iss") {
            None | Some(Value::Null | Value::Bool(false)) => return false,
            Some(Value::String(iss)) if iss.is_empty() => return false,
            Some(Value::Number(n)) if n.as_f64() == Some(0.0) => return false,
            Some(Value::String(iss)) => {
                let host = iss
                    .strip_prefix("https://")
                    .or_else(|| iss.strip_prefix("http://"))
                    .unwrap_or(&iss);
                if host != rules.frontend_api_host {
                    return true;
                }
            }
            Some(_) => return true,
        }
    }
    if suffixed_uat.is_none() && suffixed_session.is_empty() {
        return false;
    }
    let iat = |t: &str| peek_claim(t, "iat").and_then(|v| v.as_f64()).unwrap_or(0.0);
    if suffixed_uat != Some("0") && uat != Some("0") && iat(session) > iat(suffixed_session) {
        return false;
    }
    if suffixed_uat == Some("0") && uat != Some("0") {
        return false;
    }
    if !rules.production {
        let expired = peek_claim(suffixed_session, "exp")
            .and_then(|v| v.as_f64())
            .is_some_and(|exp| exp <= now as f64);
        if suffixed_uat != Some("0") && uat == Some("0") && expired {
            return false;
        }
    }
    if suffixed_uat.is_none() && !suffixed_session.is_empty() {
        return false;
    }
    true
}

/// The directives a handshake may apply: well-formed `Set-Cookie` values for Clerk's cookies
/// (suffixed or not); the rest is dropped, and logged.
pub(crate) fn handshake_cookies(directives: &[String]) -> Vec<String> {
    directives
        .iter()
        .take(MAX_DIRECTIVES)
        .filter(|d| {
            let ok = d.len() <= MAX_DIRECTIVE_LEN
                && d.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
                && cookie_pair(d).is_some_and(|(name, _)| is_clerk_cookie(name));
            if !ok {
                log::warn!(
                    target: "clerk_verify::handshake",
                    "a handshake directive was dropped: not one of Clerk's cookies, or malformed"
                );
            }
            ok
        })
        .cloned()
        .collect()
}

fn is_clerk_cookie(name: &str) -> bool {
    CLERK_COOKIES.iter().any(|clerk| {
        name == *clerk
            || name
                .strip_prefix(clerk)
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|suffix| {
                    !suffix.is_empty()
                        && suffix.len() <= 16
                        && suffix
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
    })
}

/// `name` and `value` of a `Set-Cookie` value.
pub(crate) fn cookie_pair(directive: &str) -> Option<(&str, &str)> {
    let first = directive.split(';').next()?;
    let (name, value) = first.split_once('=')?;
    let name = name.trim();
    (!name.is_empty()).then_some((name, value.trim()))
}

/// `Set-Cookie` values that expire each of `names` on the page's host (a host-only cookie) and
/// on every parent domain a sibling could have set it on (`Domain=`), for `Path=/`.
pub(crate) fn clearing_cookies(names: &[&str], url: &str) -> Vec<String> {
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = host_of(authority).unwrap_or("");
    let is_name = host.contains('.') && host.parse::<std::net::IpAddr>().is_err();
    let labels: Vec<&str> = host.split('.').collect();
    let domains: Vec<String> = if is_name {
        (0..labels.len().saturating_sub(1))
            .map(|i| labels[i..].join("."))
            .take(MAX_CLEARED_DOMAINS)
            .collect()
    } else {
        Vec::new()
    };
    const GONE: &str = "Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    names
        .iter()
        .flat_map(|name| {
            std::iter::once(format!("{name}=; {GONE}")).chain(
                domains
                    .iter()
                    .map(move |d| format!("{name}=; Domain={d}; {GONE}")),
            )
        })
        .collect()
}

/// The loop counter cookie for the next redirect, after `count` of them.
pub(crate) fn redirect_counter(count: u32) -> String {
    format!(
        "{REDIRECT_COUNT_COOKIE}={}; SameSite=Lax; HttpOnly; Max-Age=2",
        count + 1
    )
}

/// Expires a cookie on this host (the handshake cookies, once used).
pub(crate) fn expired(name: &str) -> String {
    format!("{name}=; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";

    #[test]
    fn suffix_of_the_facts_example() {
        assert_eq!(cookie_suffix(EXAMPLE), "r_77EQdK");
    }

    #[test]
    fn cookie_parsing() {
        let j = Cookies::parse("a=1; __session=tok; __session=second; b=\"q\"");
        assert_eq!(j.get("__session"), Some("tok"));
        assert_eq!(j.get("b"), Some("q"));
        assert_eq!(j.get("c"), None);
    }

    fn tok(payload: &str) -> String {
        use base64::Engine;
        let e = |s: &str| crate::token::B64URL.encode(s);
        format!("{}.{}.{}", e(r#"{"alg":"RS256"}"#), e(payload), e("sig"))
    }

    #[test]
    fn suffix_choice() {
        let rules = CookieRules::new(&PublishableKey::parse(EXAMPLE).unwrap());
        let mine = tok(r#"{"iss":"https://fond-koala-12.clerk.accounts.dev","iat":10}"#);
        let other = tok(r#"{"iss":"https://other.clerk.accounts.dev","iat":10}"#);
        let no_iss = tok(r#"{"iat":10}"#);
        let newer = tok(r#"{"iss":"https://fond-koala-12.clerk.accounts.dev","iat":20,"exp":99}"#);
        let c = |s: String| uses_suffixed(&Cookies::parse(&s), &rules, 50);
        // Only an unsuffixed cookie: unsuffixed.
        assert!(!c(format!("__session={mine}")));
        // Unsuffixed token of another instance: trust suffixed.
        assert!(c(format!("__session={other}; __session_r_77EQdK={newer}")));
        // Unsuffixed token without iss: unsuffixed.
        assert!(!c(format!(
            "__session={no_iss}; __session_r_77EQdK={newer}; __client_uat_r_77EQdK=5"
        )));
        // An iss JavaScript calls falsy is no issuer; any other non-string is not this
        // instance's: the suffixed pair.
        for falsy in ["null", "false", "0", "\"\""] {
            let t = tok(&format!(r#"{{"iss":{falsy},"iat":10}}"#));
            assert!(
                !c(format!("__session={t}; __session_r_77EQdK={newer}")),
                "{falsy}"
            );
        }
        for other in [
            "123",
            "true",
            "{}",
            "[\"https://fond-koala-12.clerk.accounts.dev\"]",
        ] {
            let t = tok(&format!(r#"{{"iss":{other},"iat":10}}"#));
            assert!(
                c(format!("__session={t}; __session_r_77EQdK={newer}")),
                "{other}"
            );
        }
        // Both signed in, suffixed newer: suffixed.
        assert!(c(format!(
            "__session={mine}; __client_uat=1; __session_r_77EQdK={newer}; __client_uat_r_77EQdK=5"
        )));
        // Suffixed session without its uat cookie: unsuffixed.
        assert!(!c(format!("__session={mine}; __session_r_77EQdK={newer}")));
        // Suffixed says signed out, unsuffixed signed in: unsuffixed.
        assert!(!c(format!(
            "__session={mine}; __client_uat=1; __session_r_77EQdK={newer}; __client_uat_r_77EQdK=0"
        )));
        // Only suffixed cookies: suffixed.
        assert!(c(format!(
            "__session_r_77EQdK={newer}; __client_uat_r_77EQdK=5"
        )));
    }

    #[test]
    fn only_clerk_cookies() {
        let d = |s: &str| s.to_owned();
        let kept = handshake_cookies(&[
            d("__session=abc; Path=/; SameSite=Lax"),
            d("__session_r_77EQdK=abc; Path=/"),
            d("__client_uat=1700000000; Path=/; Max-Age=31536000"),
            d("__clerk_handshake=; Max-Age=0"),
            d("session_id=steal; Path=/"),
            d("__sessionX=1"),
            d("__session_=1"),
            d("__session=a\r\nSet-Cookie: evil=1"),
            d("=noname"),
        ]);
        assert_eq!(kept.len(), 4, "{kept:?}");
        assert!(kept
            .iter()
            .all(|k| !k.contains("steal") && !k.contains("evil")));
    }
}
