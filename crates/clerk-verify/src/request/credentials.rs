//! Where a request's session token is, read exactly as Clerk reads it: the `Authorization`
//! header, else the `__session` cookie (suffixed or not, by Clerk's `shouldUseSuffixed`), with
//! the `__client_uat` cookie saying whether the browser is signed in at all.

use crate::reason;
use crate::remote::PublishableKey;
use crate::request::{SessionToken, SignedOut, TokenCarrier, CLIENT_UAT_COOKIE, SESSION_COOKIE};
use crate::verify::Verifier;
use serde_json::Value;

/// The token of a request, or why it has none.
pub(super) fn find(
    verifier: &Verifier,
    authorization: Option<&str>,
    cookie: Option<&str>,
) -> Result<SessionToken, SignedOut> {
    if let Some(token) = authorization.and_then(bearer_token) {
        return Ok(SessionToken {
            token: token.to_owned(),
            carrier: TokenCarrier::Header,
            client_uat: None,
        });
    }
    let jar = Cookies::parse(cookie.unwrap_or(""));
    let now = verifier.options().clock.unix_seconds();
    let suffix = verifier
        .publishable_key()
        .filter(|pk| uses_suffixed(&jar, pk, now))
        .map(PublishableKey::cookie_suffix);
    let named = |name: &str| match suffix {
        Some(suffix) => jar.get(&format!("{name}_{suffix}")),
        None => jar.get(name),
    };
    let session = named(SESSION_COOKIE).filter(|v| !v.is_empty());
    // Clerk: `Number.parseInt(uat) || 0`; anything but a positive number means signed out.
    let uat = named(CLIENT_UAT_COOKIE)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|uat| *uat > 0);
    match (session, uat) {
        (Some(token), Some(uat)) => Ok(SessionToken {
            token: token.to_owned(),
            carrier: TokenCarrier::Cookie,
            client_uat: Some(uat),
        }),
        (Some(_), None) => Err(SignedOut::new(
            reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT,
            "a __session cookie came without a signed-in __client_uat cookie: Clerk has signed \
             this browser out (or the cookie was copied on its own); sign in again",
            true,
        )),
        (None, Some(_)) => Err(SignedOut::new(
            reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN,
            "the browser is signed in (__client_uat) but sent no __session cookie; Clerk's \
             frontend refreshes it, or send Authorization: Bearer <token>",
            false,
        )),
        (None, None) => Err(SignedOut::new(
            reason::SESSION_TOKEN_AND_UAT_MISSING,
            "no session token: send Authorization: Bearer <token> or the __session cookie",
            false,
        )),
    }
}

/// `Bearer <t>` (scheme case-insensitive) gives `t`; a value with no space is the token itself;
/// any other scheme gives nothing.
pub(super) fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(rest.trim()).filter(|t| !t.is_empty())
        }
        Some(_) => None,
        None => Some(value).filter(|t| !t.is_empty()),
    }
}

/// The request's cookies; the first of equal names wins (RFC 6265 §5.4 ordering).
pub(super) struct Cookies<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Cookies<'a> {
    pub(super) fn parse(header: &'a str) -> Cookies<'a> {
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

    pub(super) fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// Reads a claim from a token's payload **without verifying it**: only for choosing between two
/// cookies, exactly as Clerk's `shouldUseSuffixed` does, never for trusting anything.
pub(super) fn peek_claim(token: &str, name: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::Engine::decode(&crate::token::B64URL, payload).ok()?;
    crate::token::parse_object(&bytes).ok()?.remove(name)
}

/// Whether the token (read **without verifying**) looks like a session token, so that a
/// JWT-template or machine token never starts a handshake: a session category, not a machine's
/// header, and not a machine's `sub`.
pub(super) fn peek_is_session(token: &str) -> bool {
    let header_ok = crate::token::Token::parse(token, usize::MAX)
        .is_ok_and(|t| t.is_session_category() && !t.is_machine_token());
    header_ok
        && !peek_claim(token, "sub")
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|sub| sub.starts_with(crate::token::MACHINE_SUB_PREFIX))
}

impl Verifier {
    /// Whether Clerk's rules pick the suffixed cookies for this `Cookie` header.
    pub(super) fn uses_suffixed(&self, cookie: &str) -> bool {
        let now = self.options().clock.unix_seconds();
        self.publishable_key()
            .is_some_and(|pk| uses_suffixed(&Cookies::parse(cookie), pk, now))
    }
}

/// Clerk's `shouldUseSuffixed()`, decision for decision.
fn uses_suffixed(jar: &Cookies<'_>, pk: &PublishableKey, now: i64) -> bool {
    let suffixed = |n: &str| jar.get(&format!("{n}_{}", pk.cookie_suffix()));
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
                if host != pk.frontend_api_host() {
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
    if !pk.is_production() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Verifier, VerifyOptions};

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer abc"), Some("abc"));
        assert_eq!(bearer_token("BEARER  abc "), Some("abc"));
        assert_eq!(bearer_token("abc"), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer"), Some("Bearer"));
        assert_eq!(bearer_token("Bearer "), Some("Bearer"));
        assert_eq!(bearer_token(""), None);
    }

    #[test]
    fn cookie_parsing() {
        let j = Cookies::parse("a=1; __session=tok; __session=second; b=\"q\"");
        assert_eq!(j.get("__session"), Some("tok"));
        assert_eq!(j.get("b"), Some("q"));
        assert_eq!(j.get("c"), None);
    }

    fn reason_of(cookie: &str) -> &'static str {
        let v = Verifier::from_jwks(
            &clerk_dev::fixtures::rsa2048().jwks_json(),
            VerifyOptions::default(),
        )
        .unwrap();
        match find(&v, None, Some(cookie)) {
            Ok(_) => "found",
            Err(s) => s.reason(),
        }
    }

    #[test]
    fn client_uat_rules() {
        assert_eq!(reason_of(""), "session-token-and-uat-missing");
        assert_eq!(reason_of("__client_uat=0"), "session-token-and-uat-missing");
        assert_eq!(
            reason_of("__client_uat=1700000000"),
            "client-uat-but-no-session-token"
        );
        for no_uat in [
            "__session=t",
            "__session=t; __client_uat=0",
            "__session=t; __client_uat=x",
        ] {
            assert_eq!(
                reason_of(no_uat),
                "session-token-but-no-client-uat",
                "{no_uat}"
            );
        }
        assert_eq!(
            reason_of("__session=t; __client_uat=-5"),
            "session-token-but-no-client-uat"
        );
        assert_eq!(reason_of("__session=t; __client_uat=1700000000"), "found");
        // A header token does not need the cookie.
        let v = Verifier::from_jwks(
            &clerk_dev::fixtures::rsa2048().jwks_json(),
            VerifyOptions::default(),
        )
        .unwrap();
        let found = find(&v, Some("Bearer t"), Some("__client_uat=0")).unwrap();
        assert_eq!(found.carrier(), TokenCarrier::Header);
    }

    fn tok(payload: &str) -> String {
        use base64::Engine;
        let e = |s: &str| crate::token::B64URL.encode(s);
        format!("{}.{}.{}", e(r#"{"alg":"RS256"}"#), e(payload), e("sig"))
    }

    #[test]
    fn suffix_choice() {
        let pk =
            PublishableKey::parse("pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk").unwrap();
        let mine = tok(r#"{"iss":"https://fond-koala-12.clerk.accounts.dev","iat":10}"#);
        let other = tok(r#"{"iss":"https://other.clerk.accounts.dev","iat":10}"#);
        let no_iss = tok(r#"{"iat":10}"#);
        let newer = tok(r#"{"iss":"https://fond-koala-12.clerk.accounts.dev","iat":20,"exp":99}"#);
        let c = |s: String| uses_suffixed(&Cookies::parse(&s), &pk, 50);
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
}
