//! Where a request's session token is, read exactly as Clerk reads it: the `Authorization`
//! header, else the `__session` cookie (suffixed or not, by the cookie rules), with the
//! `__client_uat` cookie saying whether the browser is signed in at all.

use crate::reason;
use crate::request::cookies::{
    peek_claim, CookieRules, Cookies, CLIENT_UAT_COOKIE, SESSION_COOKIE,
};
use crate::request::{Authenticator, SignedOut};
use serde_json::Value;

/// Where the session token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCarrier {
    /// `Authorization` header.
    Header,
    /// `__session` (or `__session_<suffix>`) cookie.
    Cookie,
}

/// A session token found in a request, not yet verified.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken {
    pub(crate) token: String,
    pub(crate) carrier: TokenCarrier,
    /// The cookie flow's `__client_uat` (positive: the client is signed in).
    pub(crate) client_uat: Option<i64>,
}

impl SessionToken {
    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// Where it was found.
    pub fn carrier(&self) -> TokenCarrier {
        self.carrier
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a bearer credential: never print it.
        f.debug_struct("SessionToken")
            .field("carrier", &self.carrier)
            .field("len", &self.token.len())
            .finish()
    }
}

/// The token of a request, or why it has none.
pub(crate) fn find(
    auth: &Authenticator,
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
    let now = auth.now();
    let named = |name: &str| jar.get(&CookieRules::choose(auth.cookies.as_ref(), &jar, now, name));
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
pub(crate) fn bearer_token(value: &str) -> Option<&str> {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            Some(rest.trim()).filter(|t| !t.is_empty())
        }
        Some(_) => None,
        None => Some(value).filter(|t| !t.is_empty()),
    }
}

/// Whether the token (read **without verifying**) looks like a session token, so that a
/// JWT-template or machine token never starts a handshake: a session category, not a machine's
/// header, and not a machine's `sub`.
pub(crate) fn peek_is_session(token: &str) -> bool {
    let header_ok = crate::token::Token::parse(token, usize::MAX)
        .is_ok_and(|t| t.is_session_category() && !t.is_machine_token());
    header_ok
        && !peek_claim(token, "sub")
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(|sub| sub.starts_with(crate::token::MACHINE_SUB_PREFIX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::VerifyOptions;

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

    fn reason_of(cookie: &str) -> &'static str {
        let auth = Authenticator::for_tests(VerifyOptions::default());
        match find(&auth, None, Some(cookie)) {
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
        let auth = Authenticator::for_tests(VerifyOptions::default());
        let found = find(&auth, Some("Bearer t"), Some("__client_uat=0")).unwrap();
        assert_eq!(found.carrier(), TokenCarrier::Header);
    }
}
