//! Authenticating an HTTP request the way Clerk's `authenticateRequest()` does, minus handshakes:
//! where the session token is found, which cookie wins, and what signed-in / signed-out means.
//!
//! Framework adapters only copy two header values in and map [`Authentication`] out; every rule
//! lives here so the three adapters cannot drift apart.

use crate::claims::Claims;
use crate::error::{Category, Error};
use crate::verify::Verifier;
use serde_json::Value;
use std::sync::Arc;

/// Name of Clerk's session cookie.
pub const SESSION_COOKIE: &str = "__session";
/// Name of Clerk's "client updated at" cookie.
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// `x-clerk-auth-status` debug header name.
pub const AUTH_STATUS_HEADER: &str = "x-clerk-auth-status";
/// `x-clerk-auth-reason` debug header name.
pub const AUTH_REASON_HEADER: &str = "x-clerk-auth-reason";

/// Reason when the request carries no session token (Clerk's).
pub const REASON_TOKEN_MISSING: &str = "session-token-and-uat-missing";
/// Reason when the token is not a session token by its `cat` header (Clerk's).
pub const REASON_TYPE_MISMATCH: &str = "token-type-mismatch";
/// Reason when the session is `pending` and pending sessions are not accepted (ours).
pub const REASON_SESSION_PENDING: &str = "session-pending";

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
    token: String,
    carrier: TokenCarrier,
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

/// Reason for a 403 from a role guard (ours).
pub const REASON_MISSING_ROLE: &str = "missing-role";
/// Reason for a 403 from a permission guard (ours).
pub const REASON_MISSING_PERMISSION: &str = "missing-permission";

/// The signed-in user, handed to request handlers. Cheap to clone (the claims are shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    claims: Arc<Claims>,
    carrier: TokenCarrier,
}

/// A signed-in user lacks the role or permission a route requires: answer 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    reason: &'static str,
    message: String,
}

impl Forbidden {
    /// A refusal of your own (e.g. a custom guard), with your reason code.
    pub fn new(reason: &'static str, message: impl Into<String>) -> Forbidden {
        Forbidden {
            reason,
            message: message.into(),
        }
    }

    /// [`REASON_MISSING_ROLE`], [`REASON_MISSING_PERMISSION`] or your own code.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// What is missing.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Forbidden {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Forbidden {}

impl Auth {
    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        self.claims.user_id()
    }

    /// The session id (`sid`).
    pub fn session_id(&self) -> Option<&str> {
        self.claims.session_id()
    }

    /// The active organization, if any (id, `org:`-prefixed role, slug, permissions).
    pub fn org(&self) -> Option<&crate::Org> {
        self.claims.org.as_ref()
    }

    /// Whether the active organization role is exactly `role` (e.g. `"org:admin"`).
    pub fn has_role(&self, role: &str) -> bool {
        self.claims.has_role(role)
    }

    /// Whether the active organization grants `permission` (e.g. `"org:invoices:read"`).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.claims.has_permission(permission)
    }

    /// `Ok` if the active organization role is `role`, else a [`Forbidden`] to answer with 403.
    pub fn require_role(&self, role: &str) -> Result<(), Forbidden> {
        if self.has_role(role) {
            Ok(())
        } else {
            Err(Forbidden::new(
                REASON_MISSING_ROLE,
                format!("this route requires the organization role {role:?}"),
            ))
        }
    }

    /// `Ok` if the active organization grants `permission`, else a [`Forbidden`] (403).
    pub fn require_permission(&self, permission: &str) -> Result<(), Forbidden> {
        if self.has_permission(permission) {
            Ok(())
        } else {
            Err(Forbidden::new(
                REASON_MISSING_PERMISSION,
                format!("this route requires the organization permission {permission:?}"),
            ))
        }
    }

    /// All verified claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// Where the token was found.
    pub fn token_carrier(&self) -> TokenCarrier {
        self.carrier
    }
}

/// The outcome of authenticating a request. A missing or bad token is not a Rust error: it is
/// the signed-out state, with a reason; the route decides whether that means 401.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Authentication {
    /// A valid session token.
    SignedIn(Auth),
    /// No acceptable session token.
    SignedOut(SignedOut),
}

/// Why a request is signed out.
#[derive(Debug, Clone)]
pub struct SignedOut {
    reason: &'static str,
    message: String,
    error: Option<Error>,
    token_sent: bool,
}

impl SignedOut {
    fn new(reason: &'static str, message: impl Into<String>, token_sent: bool) -> SignedOut {
        SignedOut {
            reason,
            message: message.into(),
            error: None,
            token_sent,
        }
    }

    /// The signed-out state for a refused token (also for adapters whose blocking verification
    /// task failed: pass the error that best describes it).
    pub fn from_error(e: Error) -> SignedOut {
        SignedOut {
            reason: e.reason(),
            message: e.to_string(),
            error: Some(e),
            token_sent: true,
        }
    }

    /// Stable reason code: an [`Error::reason`], or [`REASON_TOKEN_MISSING`],
    /// [`REASON_TYPE_MISMATCH`], [`REASON_SESSION_PENDING`].
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// What went wrong, for the response body or logs (never contains the token).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The verification error, when a token was sent and refused.
    pub fn error(&self) -> Option<&Error> {
        self.error.as_ref()
    }

    /// Whether the request carried a token at all (RFC 6750: `error="invalid_token"` then).
    pub fn token_sent(&self) -> bool {
        self.token_sent
    }

    /// Whether the key source was unavailable (answer 503, not 401).
    pub fn keys_unavailable(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.category() == Category::KeysUnavailable)
    }

    /// Whether the verifier is misconfigured (answer 500).
    pub fn misconfigured(&self) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.category() == Category::Configuration)
    }
}

impl Authentication {
    /// `"signed-in"` or `"signed-out"`: the `x-clerk-auth-status` header value.
    pub fn status(&self) -> &'static str {
        match self {
            Authentication::SignedIn(_) => "signed-in",
            Authentication::SignedOut(_) => "signed-out",
        }
    }

    /// The `x-clerk-auth-reason` header value: empty when signed in.
    pub fn reason(&self) -> &'static str {
        match self {
            Authentication::SignedIn(_) => "",
            Authentication::SignedOut(s) => s.reason,
        }
    }

    /// The signed-in user, if any.
    pub fn auth(&self) -> Option<&Auth> {
        match self {
            Authentication::SignedIn(a) => Some(a),
            Authentication::SignedOut(_) => None,
        }
    }

    /// Consumes `self` into the signed-in user, if any.
    pub fn into_auth(self) -> Option<Auth> {
        match self {
            Authentication::SignedIn(a) => Some(a),
            Authentication::SignedOut(_) => None,
        }
    }
}

/// What the cookie rules need to know about the Clerk instance (from its publishable key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CookieContext {
    /// `getCookieSuffix(publishableKey)`.
    pub suffix: String,
    /// The Frontend API host, e.g. `clerk.example.com`.
    pub frontend_api: String,
    /// `pk_live_` keys.
    pub production: bool,
}

impl CookieContext {
    pub(crate) fn from_publishable_key(pk: &str) -> Result<CookieContext, Error> {
        let pk = crate::PublishableKey::parse(pk)?;
        Ok(CookieContext {
            suffix: pk.cookie_suffix(),
            frontend_api: pk.frontend_api_host().to_owned(),
            production: pk.is_production(),
        })
    }
}

impl Verifier {
    /// Finds the session token in a request, as Clerk does: the `Authorization` header first
    /// (`Bearer <token>` with any capitalisation of the scheme, or a bare value with no scheme),
    /// then the `__session` cookie (or `__session_<suffix>` when a publishable key is
    /// configured and Clerk's rules pick the suffixed cookies). A header token wins outright.
    ///
    /// `cookie` is the raw `Cookie` header (join several with `"; "`). `Err` is the signed-out
    /// state for a request with no token.
    pub fn find_token(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<SessionToken, Authentication> {
        if let Some(token) = authorization.and_then(bearer_token) {
            return Ok(SessionToken {
                token: token.to_owned(),
                carrier: TokenCarrier::Header,
            });
        }
        let jar = Cookies::parse(cookie.unwrap_or(""));
        let name_suffix = self
            .cookie_context()
            .filter(|ctx| uses_suffixed(&jar, ctx, self.options().clock.unix_seconds()))
            .map(|ctx| ctx.suffix.as_str());
        let value = match name_suffix {
            Some(suffix) => jar.get(&format!("{SESSION_COOKIE}_{suffix}")),
            None => jar.get(SESSION_COOKIE),
        };
        match value.filter(|v| !v.is_empty()) {
            Some(token) => Ok(SessionToken {
                token: token.to_owned(),
                carrier: TokenCarrier::Cookie,
            }),
            None => Err(Authentication::SignedOut(SignedOut::new(
                REASON_TOKEN_MISSING,
                "no session token: send Authorization: Bearer <token> or the __session cookie",
                false,
            ))),
        }
    }

    /// Authenticates a found token without blocking. `None`: the key is not cached; call
    /// [`Verifier::authenticate`] where blocking is allowed (e.g. `spawn_blocking`).
    pub fn try_authenticate(&self, token: &SessionToken) -> Option<Authentication> {
        self.try_verify_as(&token.token, true)
            .map(|r| self.conclude(r, token.carrier))
    }

    /// Authenticates a found token, fetching keys if needed (may block).
    pub fn authenticate(&self, token: &SessionToken) -> Authentication {
        self.conclude(self.verify_as(&token.token, true), token.carrier)
    }

    /// Both steps, for blocking code: [`Verifier::find_token`] then [`Verifier::authenticate`].
    ///
    /// ```
    /// # use clerk_verify::{Verifier, VerifyOptions, Authentication};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// let header = format!("Bearer {token}");
    /// match verifier.authenticate_request(Some(&header), None) {
    ///     Authentication::SignedIn(auth) => assert_eq!(auth.user_id(), "user_1"),
    ///     other => panic!("{}", other.reason()),
    /// }
    /// let anonymous = verifier.authenticate_request(None, Some("theme=dark"));
    /// assert_eq!(anonymous.reason(), "session-token-and-uat-missing");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn authenticate_request(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Authentication {
        match self.find_token(authorization, cookie) {
            Ok(token) => self.authenticate(&token),
            Err(signed_out) => signed_out,
        }
    }

    fn conclude(&self, result: Result<Claims, Error>, carrier: TokenCarrier) -> Authentication {
        match result {
            Ok(claims) if claims.is_pending() && !self.options().accept_pending_sessions => {
                Authentication::SignedOut(SignedOut::new(
                    REASON_SESSION_PENDING,
                    "the session is pending (sts) and pending sessions are treated as signed out",
                    true,
                ))
            }
            Ok(claims) => Authentication::SignedIn(Auth {
                claims: Arc::new(claims),
                carrier,
            }),
            Err(e) => Authentication::SignedOut(SignedOut::from_error(e)),
        }
    }
}

/// `Bearer <t>` (scheme case-insensitive) gives `t`; a value with no space is the token itself;
/// any other scheme gives nothing.
fn bearer_token(value: &str) -> Option<&str> {
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
struct Cookies<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Cookies<'a> {
    fn parse(header: &'a str) -> Cookies<'a> {
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

    fn get(&self, name: &str) -> Option<&'a str> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// Reads a claim from a token's payload **without verifying it**: only for choosing between two
/// cookies, exactly as Clerk's `shouldUseSuffixed` does, never for trusting anything.
fn peek_claim(token: &str, name: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::Engine::decode(&crate::token::B64URL, payload).ok()?;
    crate::json::parse_object(&bytes).ok()?.remove(name)
}

/// Clerk's `shouldUseSuffixed()`, decision for decision.
fn uses_suffixed(jar: &Cookies<'_>, ctx: &CookieContext, now: i64) -> bool {
    let suffixed = |n: &str| jar.get(&format!("{n}_{}", ctx.suffix));
    let suffixed_uat = suffixed(CLIENT_UAT_COOKIE);
    let uat = jar.get(CLIENT_UAT_COOKIE);
    let suffixed_session = suffixed(SESSION_COOKIE).unwrap_or("");
    let session = jar.get(SESSION_COOKIE).unwrap_or("");

    if !session.is_empty() {
        let iss = peek_claim(session, "iss");
        let Some(iss) = iss
            .as_ref()
            .and_then(Value::as_str)
            .filter(|i| !i.is_empty())
        else {
            return false;
        };
        let host = iss
            .strip_prefix("https://")
            .or_else(|| iss.strip_prefix("http://"))
            .unwrap_or(iss);
        if host != ctx.frontend_api {
            return true;
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
    if !ctx.production {
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

    fn tok(payload: &str) -> String {
        use base64::Engine;
        let e = |s: &str| crate::token::B64URL.encode(s);
        format!("{}.{}.{}", e(r#"{"alg":"RS256"}"#), e(payload), e("sig"))
    }

    fn ctx() -> CookieContext {
        CookieContext {
            suffix: "r_77EQdK".into(),
            frontend_api: "fond-koala-12.clerk.accounts.dev".into(),
            production: false,
        }
    }

    #[test]
    fn suffix_choice() {
        let mine = tok(r#"{"iss":"https://fond-koala-12.clerk.accounts.dev","iat":10}"#);
        let other = tok(r#"{"iss":"https://other.clerk.accounts.dev","iat":10}"#);
        let no_iss = tok(r#"{"iat":10}"#);
        let newer = tok(r#"{"iss":"https://fond-koala-12.clerk.accounts.dev","iat":20,"exp":99}"#);
        let c = |s: String| uses_suffixed(&Cookies::parse(&s), &ctx(), 50);
        // Only an unsuffixed cookie: unsuffixed.
        assert!(!c(format!("__session={mine}")));
        // Unsuffixed token of another instance: trust suffixed.
        assert!(c(format!("__session={other}; __session_r_77EQdK={newer}")));
        // Unsuffixed token without iss: unsuffixed.
        assert!(!c(format!(
            "__session={no_iss}; __session_r_77EQdK={newer}; __client_uat_r_77EQdK=5"
        )));
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

#[cfg(test)]
mod verifier_tests {
    use crate::{Authentication, Verifier, VerifyOptions};
    use clerk_dev::{fixtures, TokenBuilder};

    const PK: &str = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";

    #[test]
    fn publishable_key_selects_the_suffixed_cookie() {
        let now = clerk_dev::now_unix();
        let v = Verifier::from_jwks(
            &fixtures::rsa2048().jwks_json(),
            VerifyOptions::default().publishable_key(PK),
        )
        .unwrap();
        let other = TokenBuilder::session("user_other", now)
            .claim("iss", "https://other.clerk.accounts.dev")
            .sign(fixtures::rsa2048());
        let mine = TokenBuilder::session("user_mine", now)
            .claim("iss", "https://fond-koala-12.clerk.accounts.dev")
            .sign(fixtures::rsa2048());
        let cookie =
            format!("__session={other}; __session_r_77EQdK={mine}; __client_uat_r_77EQdK=1");
        match v.authenticate_request(None, Some(&cookie)) {
            Authentication::SignedIn(a) => assert_eq!(a.user_id(), "user_mine"),
            other => panic!("{}", other.reason()),
        }
        // Without the publishable key only the unsuffixed cookie is read.
        let plain = Verifier::from_jwks(&fixtures::rsa2048().jwks_json(), VerifyOptions::default())
            .unwrap();
        let a = plain.authenticate_request(None, Some(&cookie));
        assert_eq!(a.auth().map(|a| a.user_id()), Some("user_other"));
        // A malformed publishable key is a configuration error at build time.
        let bad = Verifier::from_jwks(
            &fixtures::rsa2048().jwks_json(),
            VerifyOptions::default().publishable_key("pk_test_nope"),
        );
        assert_eq!(bad.unwrap_err().reason(), "config-invalid");
    }

    #[test]
    fn pending_and_category() {
        let now = clerk_dev::now_unix();
        let jwks = fixtures::rsa2048().jwks_json();
        let v = Verifier::from_jwks(&jwks, VerifyOptions::default()).unwrap();
        let pending = TokenBuilder::session("u", now)
            .claim("sts", "pending")
            .sign(fixtures::rsa2048());
        let bearer = format!("Bearer {pending}");
        assert_eq!(
            v.authenticate_request(Some(&bearer), None).reason(),
            "session-pending"
        );
        let accepting = Verifier::from_jwks(
            &jwks,
            VerifyOptions::default().accept_pending_sessions(true),
        )
        .unwrap();
        assert!(accepting
            .authenticate_request(Some(&bearer), None)
            .auth()
            .is_some());
        let template = TokenBuilder::session("u", now)
            .header("cat", "cl_B7d4PD222AAA")
            .sign(fixtures::rsa2048());
        let a = v.authenticate_request(Some(&format!("Bearer {template}")), None);
        assert_eq!(a.reason(), "token-type-mismatch");
        // verify() itself accepts a JWT-template token: only request authentication is stricter.
        assert!(v.verify(&template).is_ok());
    }
}
