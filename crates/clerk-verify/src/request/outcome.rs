//! What request authentication hands back: [`Authentication`] (signed in as [`Auth`], a
//! machine as [`MachineAuth`], signed out and why as [`SignedOut`], or a [`Handshake`] to send),
//! [`Principal`] (a session or a machine), and [`Forbidden`] when a signed-in user or a machine
//! lacks what a route requires. What adapters do with each is here too, once:
//! [`Authentication::into_signed_in`], [`Authentication::into_optional`],
//! [`Authentication::into_page`], [`Authentication::require_sign_in`],
//! [`Authentication::into_machine`], [`Authentication::into_principal`].

use crate::claims::{Claims, Has, Org, Reverification};
use crate::error::{Category, Error};
use crate::machine::{not_accepted, MachineAuth};
use crate::options::{AcceptsToken, TokenKind};
use crate::reason;
use crate::request::credentials::TokenCarrier;
use crate::request::handshake::Handshake;
use crate::request::{Policy, Refusal, AUTH_REASON_HEADER, AUTH_STATUS_HEADER};
use std::sync::Arc;

/// The signed-in user, handed to request handlers. Cheap to clone (the claims are shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    claims: Arc<Claims>,
    carrier: TokenCarrier,
    cookies: SetCookies,
}

/// `Set-Cookie` values for the response; they carry session tokens, so `Debug` counts them.
#[derive(Clone, Default, PartialEq, Eq)]
struct SetCookies(Arc<[String]>);

impl std::fmt::Debug for SetCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} cookies]", self.0.len())
    }
}

impl Auth {
    pub(crate) fn new(claims: Arc<Claims>, carrier: TokenCarrier) -> Auth {
        Auth {
            claims,
            carrier,
            cookies: SetCookies::default(),
        }
    }

    /// The same user, with cookies the response must set.
    pub(crate) fn with_cookies(mut self, cookies: Vec<String>) -> Auth {
        self.cookies = SetCookies(cookies.into());
        self
    }

    /// `Set-Cookie` values to send with the response to this request, one header each: the
    /// cookies of a session refreshed on this request through the Backend API (the new
    /// `__session`, `__client_uat`, ...), when the page request said it sends them
    /// ([`crate::request::PageRequest::delivers_cookies`]). Empty otherwise, and always for API
    /// requests.
    pub fn set_cookies(&self) -> &[String] {
        &self.cookies.0
    }

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

    /// Clerk's `has()` ([`Claims::has`]): whether the user meets everything `ask` asks (a
    /// role, a permission, a feature, a plan, a recent verification), at least one asked.
    ///
    /// ```
    /// # use clerk_verify::{Authentication, Verifier, VerifyOptions};
    /// use clerk_verify::claims::{Has, Reverification};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let v = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix())
    /// #     .claim("v", 2).claim("pla", "u:pro").claim("fva", serde_json::json!([30, -1]))
    /// #     .sign(key);
    /// # let Authentication::SignedIn(auth) = v.authenticate_request(Some(&format!("Bearer {token}")), None)
    /// # else { unreachable!() };
    /// assert!(auth.has(&Has::new().plan("pro")));
    /// // Verified 30 minutes ago: not recent enough for `strict` (10 minutes).
    /// assert!(!auth.has(&Has::new().plan("pro").reverification(Reverification::Strict)));
    /// let refused = auth.require_reverification(Reverification::Strict).unwrap_err();
    /// assert_eq!(refused.reason(), "reverification-error");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn has(&self, ask: &Has) -> bool {
        self.claims.has(ask)
    }

    /// Whether the active organization role is `role` (`"org:admin"`, or `"admin"`: `org:` is
    /// added where missing, as in Clerk's `has({ role })`).
    pub fn has_role(&self, role: &str) -> bool {
        self.claims.has_role(role)
    }

    /// Whether the active organization grants `permission` (e.g. `"org:invoices:read"`).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.claims.has_permission(permission)
    }

    /// Whether the session has the feature ([`Claims::has_feature`]: `name`, `o:name`, `u:name`).
    pub fn has_feature(&self, feature: &str) -> bool {
        self.claims.has_feature(feature)
    }

    /// Whether the session has the plan ([`Claims::has_plan`]: `name`, `o:name`, `u:name`).
    pub fn has_plan(&self, plan: &str) -> bool {
        self.claims.has_plan(plan)
    }

    /// Whether the user verified recently enough ([`Claims::is_reverified`]).
    pub fn is_reverified(&self, reverification: Reverification) -> bool {
        self.claims.is_reverified(reverification)
    }

    /// `Ok` if the active organization role is `role`, else a [`Forbidden`] to answer with 403.
    pub fn require_role(&self, role: &str) -> Result<(), Forbidden> {
        Policy::new().role(role).check(self)
    }

    /// `Ok` if the active organization grants `permission`, else a [`Forbidden`] (403).
    pub fn require_permission(&self, permission: &str) -> Result<(), Forbidden> {
        Policy::new().permission(permission).check(self)
    }

    /// `Ok` if the session has the feature, else a [`Forbidden`] (403 `missing-feature`).
    pub fn require_feature(&self, feature: &str) -> Result<(), Forbidden> {
        Policy::new().feature(feature).check(self)
    }

    /// `Ok` if the session has the plan, else a [`Forbidden`] (403 `missing-plan`).
    pub fn require_plan(&self, plan: &str) -> Result<(), Forbidden> {
        Policy::new().plan(plan).check(self)
    }

    /// `Ok` if the user verified recently enough, else [`Forbidden::reverification`] (403
    /// `reverification-error` with Clerk's hint, for the frontend's `useReverification()`).
    pub fn require_reverification(&self, reverification: Reverification) -> Result<(), Forbidden> {
        Policy::new().reverification(reverification).check(self)
    }

    /// All verified claims.
    pub fn claims(&self) -> &Claims {
        &self.claims
    }

    /// The verified claims, shared (no copy): to keep them past the request.
    pub fn shared_claims(&self) -> Arc<Claims> {
        Arc::clone(&self.claims)
    }

    /// Where the token was found.
    pub fn token_carrier(&self) -> TokenCarrier {
        self.carrier
    }
}

/// A signed-in user lacks what a route requires (a role, a permission, a feature, a plan, a
/// recent verification): answer 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forbidden {
    reason: &'static str,
    message: String,
    reverification: Option<Reverification>,
}

impl Forbidden {
    /// A refusal of your own (e.g. a custom guard), with your reason code.
    pub fn new(reason: &'static str, message: impl Into<String>) -> Forbidden {
        Forbidden {
            reason,
            message: message.into(),
            reverification: None,
        }
    }

    /// The user must verify again, as recently as `missing`: reason
    /// [`crate::reason::REVERIFICATION_ERROR`], and the 403's body carries Clerk's hint
    /// ([`crate::Refusal::json_body`]), as Clerk's `reverificationErrorResponse(missing)` does.
    ///
    /// ```
    /// use clerk_verify::claims::Reverification;
    /// use clerk_verify::request::Forbidden;
    /// use clerk_verify::Refusal;
    ///
    /// let refusal = Refusal::from_forbidden(&Forbidden::reverification(Reverification::Strict));
    /// let body: serde_json::Value = serde_json::from_str(&refusal.json_body()).unwrap();
    /// assert_eq!(body["reason"], "reverification-error");
    /// assert_eq!(body["clerk_error"]["metadata"]["reverification"], "strict");
    /// ```
    pub fn reverification(missing: Reverification) -> Forbidden {
        let how = format!(
            "{} within {} minutes",
            missing.level().as_str(),
            missing.after_minutes()
        );
        let how = match missing.preset() {
            Some(preset) => format!("{preset}: {how}"),
            None => how,
        };
        Forbidden {
            reason: reason::REVERIFICATION_ERROR,
            message: format!(
                "this route requires a recent verification ({how}); verify your identity again"
            ),
            reverification: Some(missing),
        }
    }

    /// [`crate::reason::MISSING_ROLE`], [`crate::reason::MISSING_PERMISSION`],
    /// [`crate::reason::MISSING_ORGANIZATION`], [`crate::reason::MISSING_FEATURE`],
    /// [`crate::reason::MISSING_PLAN`], [`crate::reason::REVERIFICATION_ERROR`] or your own code.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The verification asked for, when this is [`Forbidden::reverification`].
    pub fn missing_reverification(&self) -> Option<Reverification> {
        self.reverification
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
    /// Page requests only ([`crate::Verifier::authenticate_page`]): redirect the browser (307) to
    /// refresh its session cookies, or back to the page once they are refreshed; also the other
    /// redirects of Clerk's page flow (a satellite's sync, the primary's answer to it, a session
    /// refreshed through the Backend API), each under Clerk's loop counter.
    Handshake(Handshake),
    /// A valid machine token (API key, M2M or OAuth access token), when the route accepts its
    /// kind ([`crate::Verifier::authenticate_headers_accepting`]). Never a signed-in user:
    /// [`Authentication::auth`] is `None` and [`Authentication::into_signed_in`] refuses it.
    Machine(MachineAuth),
}

/// Who sent a request a route that takes either accepted: a signed-in user's session, or a
/// machine ([`Authentication::into_principal`], [`crate::adapter::session_or_machine`]).
///
/// ```
/// use clerk_verify::request::Principal;
///
/// fn greet(principal: &Principal) -> String {
///     match principal {
///         Principal::Session(auth) => format!("hello {}", auth.user_id()),
///         Principal::Machine(machine) => format!("hello {} ({})", machine.subject(), machine.token_type()),
///         _ => "hello".to_owned(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Principal {
    /// A signed-in user.
    Session(Auth),
    /// A machine.
    Machine(MachineAuth),
}

impl Principal {
    /// Clerk's `tokenType`: `session_token`, `api_key`, `m2m_token` or `oauth_token`.
    pub fn token_type(&self) -> &'static str {
        match self {
            Principal::Session(_) => TokenKind::SessionToken.as_str(),
            Principal::Machine(m) => m.token_type(),
        }
    }

    /// The user id of a session, a machine token's subject.
    pub fn subject(&self) -> &str {
        match self {
            Principal::Session(auth) => auth.user_id(),
            Principal::Machine(m) => m.subject(),
        }
    }

    /// The signed-in user, if this is one.
    pub fn session(&self) -> Option<&Auth> {
        match self {
            Principal::Session(auth) => Some(auth),
            Principal::Machine(_) => None,
        }
    }

    /// The machine, if this is one.
    pub fn machine(&self) -> Option<&MachineAuth> {
        match self {
            Principal::Machine(m) => Some(m),
            Principal::Session(_) => None,
        }
    }

    /// Whether a machine was granted `scope` (a session has no scopes: `false`).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.machine().is_some_and(|m| m.has_scope(scope))
    }
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
    pub(crate) fn new(
        reason: &'static str,
        message: impl Into<String>,
        token_sent: bool,
    ) -> SignedOut {
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
    /// `"signed-in"` (a session or a machine), `"signed-out"` or `"handshake"`: the
    /// `x-clerk-auth-status` header value.
    pub fn status(&self) -> &'static str {
        match self {
            Authentication::SignedIn(_) | Authentication::Machine(_) => "signed-in",
            Authentication::SignedOut(_) => "signed-out",
            Authentication::Handshake(_) => "handshake",
        }
    }

    /// The `x-clerk-auth-reason` header value: empty when signed in.
    pub fn reason(&self) -> &'static str {
        match self {
            Authentication::SignedIn(_) | Authentication::Machine(_) => "",
            Authentication::SignedOut(s) => s.reason,
            Authentication::Handshake(h) => h.reason(),
        }
    }

    /// Clerk's `tokenType` of what was verified: `session_token` when signed in, the machine
    /// token's kind; `None` otherwise (as Clerk's, also for a kind not accepted).
    pub fn token_type(&self) -> Option<&'static str> {
        match self {
            Authentication::SignedIn(_) => Some(TokenKind::SessionToken.as_str()),
            Authentication::Machine(m) => Some(m.token_type()),
            _ => None,
        }
    }

    /// The machine, if a machine token was verified.
    pub fn machine(&self) -> Option<&MachineAuth> {
        match self {
            Authentication::Machine(m) => Some(m),
            _ => None,
        }
    }

    /// What a route that takes only machine tokens does with this: `Ok(machine)`, or the
    /// [`Refusal`] to answer: 401 for a missing or refused token (a session token included:
    /// `token-type-mismatch`), 503 when the Backend API (or the key source) cannot answer, 500
    /// when misconfigured.
    pub fn into_machine(self) -> Result<MachineAuth, Refusal> {
        match self {
            Authentication::Machine(m) => Ok(m),
            Authentication::SignedIn(_) => Err(Refusal::from_signed_out(&SignedOut::from_error(
                not_accepted(TokenKind::SessionToken, AcceptsToken::MACHINES),
            ))),
            Authentication::SignedOut(s) => Err(Refusal::from_signed_out(&s)),
            Authentication::Handshake(h) => Err(Refusal::from_handshake(&h)),
        }
    }

    /// What a route that takes a session or a machine does with this: the [`Principal`], or
    /// the [`Refusal`] to answer (401, 503, 500, as [`Authentication::into_signed_in`]).
    pub fn into_principal(self) -> Result<Principal, Refusal> {
        match self {
            Authentication::SignedIn(auth) => Ok(Principal::Session(auth)),
            Authentication::Machine(m) => Ok(Principal::Machine(m)),
            Authentication::SignedOut(s) => Err(Refusal::from_signed_out(&s)),
            Authentication::Handshake(h) => Err(Refusal::from_handshake(&h)),
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
            // A machine has no session.
            Authentication::SignedOut(_)
            | Authentication::Handshake(_)
            | Authentication::Machine(_) => Ok(None),
        }
    }

    /// The debug headers for a response to this request: `x-clerk-auth-status`, and
    /// `x-clerk-auth-reason` when signed out.
    pub fn debug_headers(&self) -> Vec<(&'static str, &'static str)> {
        match self {
            Authentication::SignedIn(_) | Authentication::Machine(_) => {
                vec![(AUTH_STATUS_HEADER, "signed-in")]
            }
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

    /// The handshake to send, if this is one.
    pub fn handshake(&self) -> Option<&Handshake> {
        match self {
            Authentication::Handshake(h) => Some(h),
            _ => None,
        }
    }

    /// What a page that serves everyone does with this: `Ok(Some(user))` to render for a
    /// signed-in user, `Ok(None)` to render the signed-out page, `Err` to answer with the
    /// [`Refusal`] instead: the handshake's 307, or 503/500 when the server is at fault (an
    /// outage never renders signed-in users a signed-out page).
    pub fn into_page(self) -> Result<Option<Auth>, Refusal> {
        match self {
            Authentication::SignedIn(auth) => Ok(Some(auth)),
            Authentication::Handshake(h) => Err(Refusal::from_handshake(&h)),
            Authentication::SignedOut(s) if s.server_fault() => Err(Refusal::from_signed_out(&s)),
            Authentication::SignedOut(_) | Authentication::Machine(_) => Ok(None),
        }
    }

    /// What a page that requires sign-in does with this: `Ok(user)`, or the [`Refusal`] to
    /// answer: the handshake's 307; for a signed-out browser a 307 to `sign_in_redirect`
    /// (Clerk's `redirectToSignIn`: [`crate::Verifier::sign_in_redirect`] of the page), or a 401
    /// when there is none; 503/500 when the server is at fault.
    pub fn require_sign_in(self, sign_in_redirect: Option<String>) -> Result<Auth, Refusal> {
        match self {
            Authentication::SignedIn(auth) => Ok(auth),
            Authentication::SignedOut(s) if !s.server_fault() => Err(match sign_in_redirect {
                Some(location) => Refusal::sign_in_redirect(&s, location),
                None => Refusal::from_signed_out(&s),
            }),
            other => other.into_signed_in(),
        }
    }

    /// What a route that requires a signed-in user does with this: `Ok(user)`, or the
    /// [`Refusal`] to answer (401 signed out, 503/500 when the server is at fault, the 307 of a
    /// handshake). The one place a state that a later version adds is refused rather than
    /// mistaken for a user.
    pub fn into_signed_in(self) -> Result<Auth, Refusal> {
        match self {
            Authentication::SignedIn(auth) => Ok(auth),
            Authentication::SignedOut(s) => Err(Refusal::from_signed_out(&s)),
            Authentication::Handshake(h) => Err(Refusal::from_handshake(&h)),
            // A route that wants a user got a machine (its verifier accepts machines by
            // default): a token of the wrong kind.
            Authentication::Machine(m) => Err(Refusal::from_signed_out(&SignedOut::from_error(
                not_accepted(m.kind(), AcceptsToken::SESSION_TOKEN),
            ))),
        }
    }
}
