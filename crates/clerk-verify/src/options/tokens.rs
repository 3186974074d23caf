//! Which kinds of token a verifier (or one route) accepts, with Clerk's names: [`TokenKind`]
//! and [`AcceptsToken`] (Clerk's `acceptsToken`), and [`Accepts`], the same named by a type for
//! extractors that take it as a type parameter.

use crate::error::Error;
use std::fmt;
use std::str::FromStr;

/// A kind of Clerk token, by Clerk's name (`tokenType` in Clerk's SDKs).
///
/// ```
/// use clerk_verify::options::TokenKind;
/// assert_eq!(TokenKind::ApiKey.as_str(), "api_key");
/// assert_eq!(TokenKind::from_name("m2m_token"), Some(TokenKind::M2mToken));
/// assert!(TokenKind::OauthToken.is_machine());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TokenKind {
    /// A session token: the short-lived JWT of a signed-in browser (`session_token`).
    SessionToken,
    /// An API key, `ak_…`, always opaque (`api_key`).
    ApiKey,
    /// A machine-to-machine token: opaque `mt_…`, or a JWT whose `sub` is a machine (`mch_…`)
    /// (`m2m_token`).
    M2mToken,
    /// An OAuth access token: opaque `oat_…`, or a JWT with `typ: at+jwt` (`oauth_token`).
    OauthToken,
}

impl TokenKind {
    /// Every kind, in Clerk's order.
    pub const ALL: [TokenKind; 4] = [
        TokenKind::SessionToken,
        TokenKind::ApiKey,
        TokenKind::M2mToken,
        TokenKind::OauthToken,
    ];

    /// Clerk's name: `session_token`, `api_key`, `m2m_token` or `oauth_token`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::SessionToken => "session_token",
            TokenKind::ApiKey => "api_key",
            TokenKind::M2mToken => "m2m_token",
            TokenKind::OauthToken => "oauth_token",
        }
    }

    /// The kind Clerk names `name` (exactly, lower case).
    pub fn from_name(name: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether this is a machine's token (anything but a session token).
    pub const fn is_machine(self) -> bool {
        !matches!(self, TokenKind::SessionToken)
    }

    const fn bit(self) -> u8 {
        match self {
            TokenKind::SessionToken => 1,
            TokenKind::ApiKey => 2,
            TokenKind::M2mToken => 4,
            TokenKind::OauthToken => 8,
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of token accepted: Clerk's `acceptsToken`, a set of [`TokenKind`]s. The default is
/// [`AcceptsToken::SESSION_TOKEN`], as in Clerk's SDKs, so that nothing changes for session
/// users; `any` is every kind.
///
/// A small `Copy` value: routes that accept other kinds than the verifier's default pass one
/// per call ([`crate::Verifier::authenticate_headers_accepting`]).
///
/// ```
/// use clerk_verify::options::{AcceptsToken, TokenKind};
///
/// let machines: AcceptsToken = "api_key, m2m_token".parse()?;
/// assert!(machines.accepts(TokenKind::ApiKey) && !machines.accepts(TokenKind::SessionToken));
/// assert_eq!(machines.to_string(), "api_key,m2m_token");
/// assert_eq!("any".parse::<AcceptsToken>()?, AcceptsToken::ANY);
/// assert_eq!(AcceptsToken::default(), AcceptsToken::SESSION_TOKEN);
/// assert!("cookie".parse::<AcceptsToken>().is_err());
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AcceptsToken(u8);

impl AcceptsToken {
    /// Session tokens only (the default).
    pub const SESSION_TOKEN: AcceptsToken = AcceptsToken::only(TokenKind::SessionToken);
    /// API keys only.
    pub const API_KEY: AcceptsToken = AcceptsToken::only(TokenKind::ApiKey);
    /// Machine-to-machine tokens only.
    pub const M2M_TOKEN: AcceptsToken = AcceptsToken::only(TokenKind::M2mToken);
    /// OAuth access tokens only.
    pub const OAUTH_TOKEN: AcceptsToken = AcceptsToken::only(TokenKind::OauthToken);
    /// The three machine kinds: API keys, M2M tokens and OAuth access tokens.
    pub const MACHINES: AcceptsToken = AcceptsToken::API_KEY
        .with(TokenKind::M2mToken)
        .with(TokenKind::OauthToken);
    /// Every kind (Clerk's `any`).
    pub const ANY: AcceptsToken = AcceptsToken::MACHINES.with(TokenKind::SessionToken);

    /// One kind.
    pub const fn only(kind: TokenKind) -> AcceptsToken {
        AcceptsToken(kind.bit())
    }

    /// These kinds and `kind`.
    #[must_use]
    pub const fn with(self, kind: TokenKind) -> AcceptsToken {
        AcceptsToken(self.0 | kind.bit())
    }

    /// Whether `kind` is accepted.
    pub const fn accepts(self, kind: TokenKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Whether any machine kind is accepted.
    pub const fn accepts_machines(self) -> bool {
        self.0 & AcceptsToken::MACHINES.0 != 0
    }

    /// Whether a machine kind that has a JWT form (M2M, OAuth) is accepted: only then must a
    /// JWT be read further than its header to tell a machine's from a session's.
    pub(crate) const fn accepts_machine_jwts(self) -> bool {
        self.0 & (TokenKind::M2mToken.bit() | TokenKind::OauthToken.bit()) != 0
    }

    /// Whether nothing is accepted (only from code: [`AcceptsToken::parse`] refuses it).
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds accepted, in Clerk's order.
    pub fn kinds(self) -> impl Iterator<Item = TokenKind> {
        TokenKind::ALL.into_iter().filter(move |k| self.accepts(*k))
    }

    /// The accepted kinds from `kinds`.
    pub fn from_kinds(kinds: impl IntoIterator<Item = TokenKind>) -> AcceptsToken {
        kinds
            .into_iter()
            .fold(AcceptsToken(0), |set, kind| set.with(kind))
    }

    /// Clerk's values: `any`, or a comma-separated list of kinds (`session_token`, `api_key`,
    /// `m2m_token`, `oauth_token`; surrounding spaces ignored). An empty list, or an unknown
    /// name, is `config-invalid`.
    pub fn parse(list: &str) -> Result<AcceptsToken, Error> {
        let mut set = AcceptsToken(0);
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            set = match (name, TokenKind::from_name(name)) {
                ("any", _) => AcceptsToken::ANY,
                (_, Some(kind)) => set.with(kind),
                (_, None) => {
                    return Err(Error::config(format!(
                        "accepted token kind {:?} is not one of session_token, api_key, \
                         m2m_token, oauth_token or any",
                        crate::error::shorten(name)
                    )))
                }
            }
            .union(set);
        }
        if set.is_empty() {
            return Err(Error::config(
                "the accepted token kinds are empty: name session_token, api_key, m2m_token, \
                 oauth_token, or any",
            ));
        }
        Ok(set)
    }

    const fn union(self, other: AcceptsToken) -> AcceptsToken {
        AcceptsToken(self.0 | other.0)
    }
}

impl Default for AcceptsToken {
    fn default() -> Self {
        AcceptsToken::SESSION_TOKEN
    }
}

impl FromStr for AcceptsToken {
    type Err = Error;

    fn from_str(s: &str) -> Result<AcceptsToken, Error> {
        AcceptsToken::parse(s)
    }
}

impl fmt::Display for AcceptsToken {
    /// `any`, or the kinds' names joined by commas (`none` for an empty set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == AcceptsToken::ANY {
            return f.write_str("any");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, kind) in self.kinds().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(kind.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for AcceptsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AcceptsToken({self})")
    }
}

/// Accepted kinds named by a type, for extractors that take them as a type parameter
/// (`ClerkMachine<ApiKeys>` in an adapter). Define your own for another set:
///
/// ```
/// use clerk_verify::options::{Accepts, AcceptsToken, TokenKind};
///
/// /// API keys and M2M tokens, not OAuth access tokens.
/// struct KeysAndM2m;
/// impl Accepts for KeysAndM2m {
///     const ACCEPTS: AcceptsToken = AcceptsToken::API_KEY.with(TokenKind::M2mToken);
/// }
/// ```
pub trait Accepts: Send + Sync + 'static {
    /// The kinds accepted.
    const ACCEPTS: AcceptsToken;
}

/// [`Accepts`] the three machine kinds ([`AcceptsToken::MACHINES`]).
#[derive(Debug, Clone, Copy)]
pub struct AnyMachine;
/// [`Accepts`] every kind, sessions included ([`AcceptsToken::ANY`]).
#[derive(Debug, Clone, Copy)]
pub struct AnyToken;
/// [`Accepts`] API keys only.
#[derive(Debug, Clone, Copy)]
pub struct ApiKeys;
/// [`Accepts`] M2M tokens only.
#[derive(Debug, Clone, Copy)]
pub struct M2mTokens;
/// [`Accepts`] OAuth access tokens only.
#[derive(Debug, Clone, Copy)]
pub struct OauthTokens;

impl Accepts for AnyMachine {
    const ACCEPTS: AcceptsToken = AcceptsToken::MACHINES;
}
impl Accepts for AnyToken {
    const ACCEPTS: AcceptsToken = AcceptsToken::ANY;
}
impl Accepts for ApiKeys {
    const ACCEPTS: AcceptsToken = AcceptsToken::API_KEY;
}
impl Accepts for M2mTokens {
    const ACCEPTS: AcceptsToken = AcceptsToken::M2M_TOKEN;
}
impl Accepts for OauthTokens {
    const ACCEPTS: AcceptsToken = AcceptsToken::OAUTH_TOKEN;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_names() {
        let p = |s: &str| AcceptsToken::parse(s).map(|a| a.to_string());
        assert_eq!(p("session_token").unwrap(), "session_token");
        assert_eq!(p(" oauth_token ,api_key,,").unwrap(), "api_key,oauth_token");
        assert_eq!(p("api_key,any").unwrap(), "any");
        assert_eq!(
            p("session_token,api_key,m2m_token,oauth_token").unwrap(),
            "any"
        );
        for bad in ["", " , ", "API_KEY", "apikey", "any_key"] {
            assert_eq!(p(bad).unwrap_err().reason(), "config-invalid", "{bad:?}");
        }
        for kind in TokenKind::ALL {
            assert_eq!(TokenKind::from_name(kind.as_str()), Some(kind));
            assert!(AcceptsToken::only(kind).accepts(kind));
            assert!(AcceptsToken::ANY.accepts(kind));
        }
        assert!(!AcceptsToken::MACHINES.accepts(TokenKind::SessionToken));
        assert!(!AcceptsToken::SESSION_TOKEN.accepts_machines());
        assert!(AcceptsToken::API_KEY.accepts_machines());
        assert!(!AcceptsToken::API_KEY.accepts_machine_jwts());
        assert!(AcceptsToken::OAUTH_TOKEN.accepts_machine_jwts());
        assert_eq!(
            AcceptsToken::from_kinds([TokenKind::M2mToken, TokenKind::ApiKey]),
            AcceptsToken::API_KEY.with(TokenKind::M2mToken)
        );
        assert_eq!(AcceptsToken::from_kinds([]).to_string(), "none");
    }
}
