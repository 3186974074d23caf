//! Which kind a token is, read as Clerk's SDK reads it (`getMachineTokenType`, `isM2MJwt`,
//! `isOAuthJwt`), **without verifying anything**: only to route the token to the verification
//! its kind needs; and whether an opaque token can be Clerk's at all.

use crate::error::Error;
use crate::options::{TokenKind, DEFAULT_MAX_TOKEN_LEN};
use crate::token::{Token, MACHINE_SUB_PREFIX, OAUTH_TYPS};
use std::borrow::Cow;

/// Prefix of an opaque API key.
pub(crate) const API_KEY_PREFIX: &str = "ak_";
/// Prefix of an opaque machine-to-machine token.
pub(crate) const M2M_PREFIX: &str = "mt_";
/// Prefix of an opaque OAuth access token.
pub(crate) const OAUTH_PREFIX: &str = "oat_";

/// Fewest characters after the prefix of an opaque token we send to the Backend API.
pub const MIN_OPAQUE_LEN: usize = 16;
/// Most characters after the prefix of an opaque token we send to the Backend API.
pub const MAX_OPAQUE_LEN: usize = 128;

/// The kind of `token`, as Clerk's SDK decides it: the prefix `ak_` (API key), `mt_` (M2M) or
/// `oat_` (OAuth access token) for opaque tokens; a JWT whose header `typ` is `at+jwt` or
/// `application/at+jwt` is an OAuth access token, one whose payload `sub` starts with `mch_` an
/// M2M token; anything else is a session token (which verification may still refuse).
///
/// Nothing is verified here: this only says which verification the token needs.
///
/// ```
/// use clerk_verify::machine::kind_of;
/// use clerk_verify::options::TokenKind;
///
/// assert_eq!(kind_of("ak_2xYw4CmzVbq3nT8pLsR6dQ"), TokenKind::ApiKey);
/// assert_eq!(kind_of("oat_2xYw4CmzVbq3nT8pLsR6dQ"), TokenKind::OauthToken);
/// assert_eq!(kind_of("not a token"), TokenKind::SessionToken);
/// # let m2m = clerk_dev::TokenBuilder::m2m("mch_2vYV", clerk_dev::now_unix())
/// #     .sign(clerk_dev::fixtures::rsa2048());
/// assert_eq!(kind_of(&m2m), TokenKind::M2mToken); // a JWT whose sub is mch_…
/// ```
pub fn kind_of(token: &str) -> TokenKind {
    opaque_kind(token)
        .or_else(|| jwt_kind(token, DEFAULT_MAX_TOKEN_LEN))
        .unwrap_or(TokenKind::SessionToken)
}

/// The kind of an opaque token, by its prefix alone (no other byte is read).
pub(crate) fn opaque_kind(token: &str) -> Option<TokenKind> {
    let bytes = token.as_bytes();
    if bytes.starts_with(API_KEY_PREFIX.as_bytes()) {
        Some(TokenKind::ApiKey)
    } else if bytes.starts_with(M2M_PREFIX.as_bytes()) {
        Some(TokenKind::M2mToken)
    } else if bytes.starts_with(OAUTH_PREFIX.as_bytes()) {
        Some(TokenKind::OauthToken)
    } else {
        None
    }
}

/// The machine kind of a JWT (an OAuth access token by its `typ`, an M2M token by its `sub`),
/// or `None`: not a machine's JWT, or not a JWT at all.
pub(crate) fn jwt_kind(token: &str, max_len: usize) -> Option<TokenKind> {
    let parsed = Token::parse(token, max_len).ok()?;
    if parsed.typ().is_some_and(|t| OAUTH_TYPS.contains(&t)) {
        return Some(TokenKind::OauthToken);
    }
    #[derive(serde::Deserialize)]
    struct Subject<'a> {
        #[serde(borrow)]
        sub: Option<Cow<'a, str>>,
    }
    let subject: Subject<'_> = serde_json::from_slice(parsed.payload()).ok()?;
    subject
        .sub
        .filter(|sub| sub.starts_with(MACHINE_SUB_PREFIX))
        .map(|_| TokenKind::M2mToken)
}

/// The prefix of an opaque token of `kind`.
pub(crate) fn prefix(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::M2mToken => M2M_PREFIX,
        TokenKind::OauthToken => OAUTH_PREFIX,
        _ => API_KEY_PREFIX,
    }
}

/// Whether an opaque token can be Clerk's: after its prefix, 16 to 128 ASCII letters and
/// digits. Clerk's SDK sends anything with the prefix to the Backend API; we refuse the rest
/// without a call, so that junk spends neither the instance's quota nor our memory.
pub(crate) fn check_shape(token: &str, kind: TokenKind) -> Result<(), Error> {
    let rest = &token.as_bytes()[prefix(kind).len().min(token.len())..];
    let fits = (MIN_OPAQUE_LEN..=MAX_OPAQUE_LEN).contains(&rest.len())
        && rest.iter().all(u8::is_ascii_alphanumeric);
    if fits {
        Ok(())
    } else {
        Err(Error::MachineTokenInvalid(Cow::Owned(format!(
            "this cannot be a Clerk {kind}: after {} it must have {MIN_OPAQUE_LEN} to \
             {MAX_OPAQUE_LEN} ASCII letters and digits",
            prefix(kind)
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clerk_dev::{fixtures, TokenBuilder};

    #[test]
    fn prefixes_and_shapes() {
        let body = "a1B2c3D4e5F6g7H8";
        for (kind, prefix) in [
            (TokenKind::ApiKey, "ak_"),
            (TokenKind::M2mToken, "mt_"),
            (TokenKind::OauthToken, "oat_"),
        ] {
            let token = format!("{prefix}{body}");
            assert_eq!(kind_of(&token), kind);
            assert!(check_shape(&token, kind).is_ok());
            for bad in [
                format!("{prefix}{}", &body[..15]),
                format!("{prefix}{}", "a".repeat(129)),
                format!("{prefix}{body}-"),
                format!("{prefix}{body}_x"),
                format!("{prefix}{body} "),
                format!("{prefix}{body}é"),
                prefix.to_owned(),
            ] {
                let e = check_shape(&bad, kind).unwrap_err();
                assert_eq!(e.reason(), "token-invalid", "{bad}");
                assert!(!e.to_string().contains(body), "no token in messages");
            }
            assert!(check_shape(&format!("{prefix}{}", "Z".repeat(128)), kind).is_ok());
        }
        // Case matters, as in Clerk's `startsWith`.
        assert_eq!(kind_of("AK_a1B2c3D4e5F6g7H8"), TokenKind::SessionToken);
        assert_eq!(kind_of(""), TokenKind::SessionToken);
    }

    #[test]
    fn jwt_forms() {
        let key = fixtures::rsa2048();
        let session = TokenBuilder::session("user_1", 1_700_000_000).sign(key);
        assert_eq!(kind_of(&session), TokenKind::SessionToken);
        let m2m = TokenBuilder::session("mch_1", 1_700_000_000).sign(key);
        assert_eq!(kind_of(&m2m), TokenKind::M2mToken);
        for typ in ["at+jwt", "application/at+jwt"] {
            let oauth = TokenBuilder::session("user_1", 1_700_000_000)
                .header("typ", typ)
                .sign(key);
            assert_eq!(kind_of(&oauth), TokenKind::OauthToken);
        }
        // A sub that is not a string, or a payload that is not JSON: not a machine's.
        let odd = TokenBuilder::session("x", 1).claim("sub", 5).sign(key);
        assert_eq!(kind_of(&odd), TokenKind::SessionToken);
        let junk = TokenBuilder::session("x", 1).raw_payload("mch_").sign(key);
        assert_eq!(kind_of(&junk), TokenKind::SessionToken);
    }
}
