//! Authenticating an HTTP request the way Clerk's `authenticateRequest()` does: where the
//! session token is found, which cookie wins, what the `__client_uat` cookie says, what
//! signed-in / signed-out means, and, for server-rendered pages, Clerk's handshake; then how a
//! refusal is answered.
//!
//! - `credentials`: the `Authorization` header and the cookies, read as Clerk reads them;
//! - here: [`Auth`] (the signed-in user), [`Authentication`] (signed in or out, and why, or a
//!   handshake to send);
//! - `page` and `handshake`: [`PageRequest`], a browser's page request, and [`Handshake`], the
//!   redirect through Clerk's Frontend API that refreshes its cookies
//!   ([`Verifier::authenticate_page`]); API requests never get one;
//! - `step`: [`Step`], the non-blocking start every async adapter shares, with the blocking
//!   remainder for a cold key cache;
//! - `require`: [`Requirement`] and [`Policy`], organization roles and permissions (403);
//! - `refusal`: [`Refusal`], the status, body and headers every adapter answers with.
//!
//! Framework adapters copy two header values in and render a [`Refusal`] out; every rule lives
//! here so the adapters cannot drift apart.

use crate::claims::{Claims, Org};
use crate::error::{Category, Error};
use crate::reason;
use crate::verify::Verifier;
use std::sync::Arc;

mod credentials;
mod handshake;
mod page;
mod refusal;
mod require;
mod step;

pub use handshake::{
    Handshake, HandshakeOptions, DEV_BROWSER_COOKIE, HANDSHAKE_NONCE_PARAM, HANDSHAKE_PARAM,
    MAX_HANDSHAKE_REDIRECTS, REDIRECT_COUNT_COOKIE,
};
pub(crate) use handshake::{Io, Pages};
pub use page::PageRequest;
pub use refusal::Refusal;
pub use require::{HasPermission, HasRole, Permission, Policy, Requirement, Role};
pub use step::{Blocking, Step};

/// Name of Clerk's session cookie.
pub const SESSION_COOKIE: &str = "__session";
/// Name of Clerk's "client updated at" cookie: Unix seconds of the client's last sign-in change,
/// `0` when signed out.
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// `x-clerk-auth-status` debug header name.
pub const AUTH_STATUS_HEADER: &str = "x-clerk-auth-status";
/// `x-clerk-auth-reason` debug header name.
pub const AUTH_REASON_HEADER: &str = "x-clerk-auth-reason";

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
    /// The cookie flow's `__client_uat` (positive: the client is signed in).
    client_uat: Option<i64>,
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

/// The signed-in user, handed to request handlers. Cheap to clone (the claims are shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    claims: Arc<Claims>,
    carrier: TokenCarrier,
}

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
    pub fn org(&self) -> Option<&Org> {
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
        Policy::new().role(role).check(self)
    }

    /// `Ok` if the active organization grants `permission`, else a [`Forbidden`] (403).
    pub fn require_permission(&self, permission: &str) -> Result<(), Forbidden> {
        Policy::new().permission(permission).check(self)
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

    /// [`reason::MISSING_ROLE`], [`reason::MISSING_PERMISSION`],
    /// [`reason::MISSING_ORGANIZATION`] or your own code.
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

/// The outcome of authenticating a request. A missing or bad token is not a Rust error: it is
/// the signed-out state, with a reason; the route decides whether that means 401.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Authentication {
    /// A valid session token.
    SignedIn(Auth),
    /// No acceptable session token.
    SignedOut(SignedOut),
    /// Page requests only ([`Verifier::authenticate_page`]): redirect the browser (307) to
    /// refresh its session cookies, or back to the page once they are refreshed.
    Handshake(Handshake),
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

    /// The signed-out state for a refused token.
    pub fn from_error(e: Error) -> SignedOut {
        SignedOut {
            reason: e.reason(),
            message: e.to_string(),
            error: Some(e),
            token_sent: true,
        }
    }

    /// The signed-out state for a verification that did not complete (the blocking task was
    /// cancelled or panicked, the pool is gone): the keys could not be had, so the answer is
    /// 503 (`jwk-remote-failed-to-load`), never a signed-in user and never a panic.
    pub fn unfinished() -> SignedOut {
        SignedOut::from_error(Error::JwkRemoteFailedToLoad(
            "the verification task did not complete".into(),
        ))
    }

    /// Stable reason code: an [`Error::reason`], or one of the request reasons in
    /// [`crate::reason`] (`session-token-and-uat-missing`, `session-pending`, ...).
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// What went wrong and what to fix (never contains the token). For a key source that is
    /// down or a misconfigured verifier this is the operator's detail: log it, but answer the
    /// client with [`Refusal::message`], which is generic.
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
        self.category() == Some(Category::KeysUnavailable)
    }

    /// Whether the verifier is misconfigured (answer 500).
    pub fn misconfigured(&self) -> bool {
        self.category() == Some(Category::Configuration)
    }

    /// Whether the server, not the request, is at fault: the key source is down or the
    /// verifier misconfigured. Such a request must not be treated as anonymous.
    pub fn server_fault(&self) -> bool {
        self.keys_unavailable() || self.misconfigured()
    }

    fn category(&self) -> Option<Category> {
        self.error.as_ref().map(Error::category)
    }
}

impl Authentication {
    /// `"signed-in"`, `"signed-out"` or `"handshake"`: the `x-clerk-auth-status` header value.
    pub fn status(&self) -> &'static str {
        match self {
            Authentication::SignedIn(_) => "signed-in",
            Authentication::SignedOut(_) => "signed-out",
            Authentication::Handshake(_) => "handshake",
        }
    }

    /// The `x-clerk-auth-reason` header value: empty when signed in.
    pub fn reason(&self) -> &'static str {
        match self {
            Authentication::SignedIn(_) => "",
            Authentication::SignedOut(s) => s.reason,
            Authentication::Handshake(h) => h.reason(),
        }
    }

    /// The signed-in user, if any.
    pub fn auth(&self) -> Option<&Auth> {
        match self {
            Authentication::SignedIn(a) => Some(a),
            _ => None,
        }
    }

    /// Consumes `self` into the signed-in user, if any. This treats an outage like a missing
    /// token; for optional authentication use [`Authentication::into_optional`].
    pub fn into_auth(self) -> Option<Auth> {
        match self {
            Authentication::SignedIn(a) => Some(a),
            _ => None,
        }
    }

    /// Optional authentication, meaning "no valid session" and nothing more: `Ok(Some(user))`
    /// when signed in, `Ok(None)` when the token is missing or refused, and `Err` when the
    /// server is at fault (key source down: 503; misconfigured: 500), so that an outage never
    /// silently turns signed-in users into anonymous ones.
    ///
    /// ```
    /// # use clerk_verify::{Authentication, Verifier, VerifyOptions};
    /// # let v = Verifier::from_jwks(&clerk_dev::fixtures::rsa2048().jwks_json(), VerifyOptions::default())?;
    /// let anonymous = v.authenticate_request(None, None);
    /// assert!(matches!(anonymous.into_optional(), Ok(None)));
    /// let bad = v.authenticate_request(Some("Bearer nope"), None);
    /// assert!(matches!(bad.into_optional(), Ok(None)));
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn into_optional(self) -> Result<Option<Auth>, SignedOut> {
        match self {
            Authentication::SignedIn(a) => Ok(Some(a)),
            Authentication::SignedOut(s) if s.server_fault() => Err(s),
            Authentication::SignedOut(_) | Authentication::Handshake(_) => Ok(None),
        }
    }

    /// The debug headers for a response to this request: `x-clerk-auth-status`, and
    /// `x-clerk-auth-reason` when signed out.
    pub fn debug_headers(&self) -> Vec<(&'static str, &'static str)> {
        match self {
            Authentication::SignedIn(_) => vec![(AUTH_STATUS_HEADER, "signed-in")],
            Authentication::SignedOut(s) => vec![
                (AUTH_STATUS_HEADER, "signed-out"),
                (AUTH_REASON_HEADER, s.reason()),
            ],
            Authentication::Handshake(h) => vec![
                (AUTH_STATUS_HEADER, "handshake"),
                (AUTH_REASON_HEADER, h.reason()),
            ],
        }
    }

    /// The signed-out state of [`SignedOut::unfinished`].
    pub fn unfinished() -> Authentication {
        Authentication::SignedOut(SignedOut::unfinished())
    }
}

impl Verifier {
    /// Finds the session token in a request, as Clerk does: the `Authorization` header first
    /// (`Bearer <token>` with any capitalisation of the scheme, or a bare value with no scheme),
    /// then the `__session` cookie (or `__session_<suffix>` when a publishable key is configured
    /// and Clerk's rules pick the suffixed cookies). A header token wins outright.
    ///
    /// A cookie token needs the `__client_uat` cookie Clerk sets beside it: without it, or with
    /// `__client_uat=0` (Clerk signed the browser out), the request is signed out
    /// (`session-token-but-no-client-uat`); a `__client_uat` without a session cookie is
    /// `client-uat-but-no-session-token`.
    ///
    /// `cookie` is the raw `Cookie` header (join several with `"; "`). `Err` is the signed-out
    /// state for a request with no usable token.
    pub fn find_token(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<SessionToken, Authentication> {
        credentials::find(self, authorization, cookie).map_err(Authentication::SignedOut)
    }

    /// Authenticates a found token without blocking. `None`: the key is not cached; call
    /// [`Verifier::authenticate`] where blocking is allowed (e.g. `spawn_blocking`).
    pub fn try_authenticate(&self, token: &SessionToken) -> Option<Authentication> {
        self.try_verify_as(&token.token, true)
            .map(|r| self.conclude(r, token))
    }

    /// Authenticates a found token, fetching keys if needed (may block).
    pub fn authenticate(&self, token: &SessionToken) -> Authentication {
        self.conclude(self.verify_as(&token.token, true), token)
    }

    /// Both steps, for blocking code: [`Verifier::find_token`] then [`Verifier::authenticate`].
    ///
    /// ```
    /// # use clerk_verify::{Verifier, VerifyOptions, Authentication};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let now = clerk_dev::now_unix();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", now).sign(key);
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// let header = format!("Bearer {token}");
    /// match verifier.authenticate_request(Some(&header), None) {
    ///     Authentication::SignedIn(auth) => assert_eq!(auth.user_id(), "user_1"),
    ///     other => panic!("{}", other.reason()),
    /// }
    /// // A browser sends the cookie pair Clerk sets: `__session` and `__client_uat`.
    /// let cookie = format!("__session={token}; __client_uat={}", now - 30);
    /// assert!(verifier.authenticate_request(None, Some(&cookie)).auth().is_some());
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

    fn conclude(&self, result: Result<Claims, Error>, token: &SessionToken) -> Authentication {
        let claims = match result {
            Ok(claims) => claims,
            Err(e) => return Authentication::SignedOut(SignedOut::from_error(e)),
        };
        if let (Some(uat), Some(iat)) = (token.client_uat, claims.iat) {
            if iat < uat {
                return Authentication::SignedOut(SignedOut::new(
                    reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT,
                    "the __session token was issued before the client's last sign-in change \
                     (__client_uat): it is stale, and the browser must fetch a fresh one",
                    true,
                ));
            }
        }
        if claims.is_pending() && !self.options().accept_pending_sessions {
            return Authentication::SignedOut(SignedOut::new(
                reason::SESSION_PENDING,
                "the session is pending (sts) and pending sessions are treated as signed out",
                true,
            ));
        }
        Authentication::SignedIn(Auth {
            claims: Arc::new(claims),
            carrier: token.carrier,
        })
    }
}

#[cfg(test)]
mod tests {
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
        let cookie = format!(
            "__session={other}; __client_uat=1; __session_r_77EQdK={mine}; __client_uat_r_77EQdK=1"
        );
        match v.authenticate_request(None, Some(&cookie)) {
            Authentication::SignedIn(a) => assert_eq!(a.user_id(), "user_mine"),
            other => panic!("{}", other.reason()),
        }
        // The suffixed pair follows the same __client_uat rules: a signed-out suffixed uat.
        let signed_out =
            format!("__client_uat=0; __session_r_77EQdK={mine}; __client_uat_r_77EQdK=0");
        assert_eq!(
            v.authenticate_request(None, Some(&signed_out)).reason(),
            "session-token-but-no-client-uat"
        );
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
        for cat in ["cl_B7d4PD222AAA", "cl_B7d4PD333AAA", "something-else"] {
            let other = TokenBuilder::session("u", now)
                .header("cat", cat)
                .sign(fixtures::rsa2048());
            let a = v.authenticate_request(Some(&format!("Bearer {other}")), None);
            assert_eq!(a.reason(), "token-type-mismatch", "{cat}");
        }
        // verify() itself accepts a JWT-template token and refuses a machine token.
        let template = TokenBuilder::session("u", now)
            .header("cat", "cl_B7d4PD222AAA")
            .sign(fixtures::rsa2048());
        assert!(v.verify(&template).is_ok());
        let m2m = TokenBuilder::session("u", now)
            .header("cat", "cl_B7d4PD333AAA")
            .sign(fixtures::rsa2048());
        assert_eq!(v.verify(&m2m).unwrap_err().reason(), "token-type-mismatch");
    }
}
