//! [`ClerkError`]: the one refusal type. What a refusal says (status, body, challenge, debug
//! headers) is the core's [`Refusal`], so that every Clerk adapter answers alike; this file only
//! hands it to Rocket as a [`Responder`].

use clerk_verify::reason;
use clerk_verify::request::{Forbidden, SignedOut, AUTH_REASON_HEADER};
use clerk_verify::{Authentication, Refusal};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::fmt;
use std::io::Cursor;

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_rocket::rejection";
/// Log target of server-side problems (error level).
pub(crate) const LOG_TARGET: &str = "clerk_rocket";

/// Why a Clerk guard refused a request: the guards' `Error` type and a [`Responder`].
///
/// It holds the core's [`Refusal`] and renders only that, so the response is the one every Clerk
/// adapter gives: JSON `{"error": "...", "reason": "<code>", "message": "..."}` with the status,
/// a `WWW-Authenticate` challenge on 401 and 403 (RFC 6750), and Clerk's `x-clerk-auth-status` /
/// `x-clerk-auth-reason` debug headers. A page guard's redirect (307) also carries its
/// `Location`, `Cache-Control: no-store` and every `Set-Cookie` of Clerk's handshake.
///
/// | status | `error` | `WWW-Authenticate` | when |
/// |---|---|---|---|
/// | 307 | `redirect` | none | a page guard ([`crate::ClerkPage`], [`crate::RequireSignIn`]): Clerk's handshake, or the sign-in page |
/// | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent | no token, or the token was refused (`reason` is Clerk's code) |
/// | 403 | `forbidden` | `Bearer error="insufficient_scope"` | signed in, but a role or permission requirement failed |
/// | 400 | `bad_request` | none | a webhook delivery that is unsigned, forged, stale, oversized or not a Clerk event ([`crate::ClerkWebhook`]; no debug headers) |
/// | 503 | `service_unavailable` | none | the key source is down (`jwk-remote-failed-to-load`, ...), or the verification task did not complete |
/// | 500 | `internal_server_error` | none | the verifier is misconfigured, or none is managed |
///
/// The message says what to fix; it never contains the token. For 500 and 503 it is generic:
/// the cause goes to the log ([`Refusal::detail`], which `Display` shows).
#[derive(Clone)]
pub struct ClerkError {
    refusal: Refusal,
}

impl ClerkError {
    /// The refusal for a signed-out request: 401, or 503 when the keys could not be had, or 500
    /// when the verifier is misconfigured ([`Refusal::from_signed_out`]).
    pub fn signed_out(signed_out: &SignedOut) -> ClerkError {
        Refusal::from_signed_out(signed_out).into()
    }

    /// A 403 for a signed-in user who lacks something: use it to write your own checks (or
    /// return the [`Forbidden`] of [`clerk_verify::Auth::require_role`] with `?`).
    ///
    /// ```
    /// let e = clerk_rocket::ClerkError::forbidden("plan-missing", "this route needs the pro plan");
    /// assert_eq!(e.status().code, 403);
    /// assert_eq!(e.reason(), "plan-missing");
    /// ```
    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> ClerkError {
        Forbidden::new(reason, message).into()
    }

    /// The 500 for a Rocket instance that manages no [`clerk_verify::Verifier`].
    pub(crate) fn verifier_missing() -> ClerkError {
        Refusal::internal(
            reason::VERIFIER_MISSING,
            "no clerk_verify::Verifier is managed by this Rocket instance: call `.manage(verifier)`",
        )
        .into()
    }

    /// The HTTP status: 400, 401, 403, 500 or 503, or 307 for a page guard's redirect.
    pub fn status(&self) -> Status {
        Status::new(self.refusal.status())
    }

    /// The status a failing guard hands Rocket, which picks the catcher by it. Rocket's
    /// catchers only take error statuses, so a redirect travels as a 401 (the visitor is not
    /// signed in, yet) and the 401 catcher answers with the redirect: without the catchers a
    /// page is refused, never redirected to nowhere.
    pub(crate) fn guard_status(&self) -> Status {
        match self.status() {
            status if status.class().is_redirection() => Status::Unauthorized,
            status => status,
        }
    }

    /// The stable reason code: one of [`clerk_verify::reason`] (e.g. `token-expired`,
    /// `missing-role`, `verifier-missing`), or your own from [`ClerkError::forbidden`].
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong, as the client sees it.
    pub fn message(&self) -> &str {
        self.refusal.message()
    }

    /// The core's [`Refusal`] this error renders.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

impl From<Refusal> for ClerkError {
    fn from(refusal: Refusal) -> ClerkError {
        ClerkError { refusal }
    }
}

/// A 403, e.g. `auth.require_role("org:admin")?` on a [`clerk_verify::Auth`].
impl From<Forbidden> for ClerkError {
    fn from(forbidden: Forbidden) -> ClerkError {
        Refusal::from_forbidden(&forbidden).into()
    }
}

impl fmt::Debug for ClerkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rocket logs a failed guard's error with `{:?}` on every refused request: keep it to
        // the status and reason.
        f.debug_struct("ClerkError")
            .field("status", &self.refusal.status())
            .field("reason", &self.refusal.reason())
            .finish()
    }
}

impl fmt::Display for ClerkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refusal.fmt(f)
    }
}

impl std::error::Error for ClerkError {}

impl<'r> Responder<'r, 'static> for ClerkError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let refusal = &self.refusal;
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "clerk_rocket: refused with {}: {refusal}",
            refusal.status()
        );
        let body = refusal.json_body();
        let mut res = Response::build();
        res.status(self.status())
            .header(ContentType::JSON)
            .sized_body(body.len(), Cursor::new(body));
        if let Some(challenge) = refusal.www_authenticate() {
            res.raw_header("WWW-Authenticate", challenge);
        }
        let mut res = res.finalize();
        set_debug_headers(&mut res, &refusal.debug_headers());
        // Adjoined, not set: a handshake may carry several cookies, each its own `Set-Cookie`.
        for (name, value) in refusal.headers() {
            if is_header_value(value) {
                res.adjoin_header(Header::new(*name, value.clone()));
            }
        }
        Ok(res)
    }
}

/// The refusal for a request that authentication left in another state than signed in.
pub(crate) fn not_signed_in(authentication: &Authentication) -> ClerkError {
    match authentication {
        Authentication::SignedOut(s) => ClerkError::signed_out(s),
        Authentication::Handshake(h) => Refusal::from_handshake(h).into(),
        // `Authentication` is non-exhaustive: a state added later is not a signed-in user.
        _ => Refusal::internal(
            reason::INTERNAL_ERROR,
            "unknown authentication state (is clerk-rocket older than clerk-verify?)",
        )
        .into(),
    }
}

/// Sets Clerk's debug headers as the core lists them ([`Authentication::debug_headers`],
/// [`Refusal::debug_headers`]), replacing any already set: a signed-in state leaves no
/// `x-clerk-auth-reason` behind.
pub(crate) fn set_debug_headers(res: &mut Response<'_>, debug: &[(&'static str, &'static str)]) {
    res.remove_header(AUTH_REASON_HEADER);
    for &(name, value) in debug {
        // Reason codes of custom refusals are the caller's: skip one that is no header value.
        if !value.is_empty() && is_header_value(value) {
            res.set_header(Header::new(name, value));
        }
    }
}

/// Whether hyper will send `value`: it refuses the whole response over one bad header value.
fn is_header_value(value: &str) -> bool {
    !value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f)
}
