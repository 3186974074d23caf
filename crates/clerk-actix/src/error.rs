//! [`ClerkError`]: the one rejection type. What a refusal says (status, body, challenge, debug
//! headers) is the core's [`Refusal`]; this file only hands it to actix-web.

use crate::middleware::set_debug_headers;
use actix_web::http::header::{HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use clerk_verify::{Forbidden, Refusal, SignedOut};
use std::fmt;

/// Reason of a 500 when no [`clerk_verify::Verifier`] is in the app data.
pub const REASON_VERIFIER_MISSING: &str = "verifier-missing";
/// Reason of a 500 for an authentication state this version of the crate does not know (a
/// newer `clerk-verify`): never a signed-in user.
pub const REASON_INTERNAL: &str = "internal-error";

/// Log target of refusals (debug level).
pub(crate) const LOG_TARGET_REJECTION: &str = "clerk_actix::rejection";
/// Log target of server-side problems (error level).
pub(crate) const LOG_TARGET: &str = "clerk_actix";

/// Why a request was refused: a [`Refusal`] of [`clerk_verify`] answered as an actix-web
/// [`ResponseError`]. The response is the one every Clerk adapter gives: JSON
/// `{"error": "...", "reason": "<code>", "message": "..."}` with the status, a
/// `WWW-Authenticate` challenge on 401 and 403 (RFC 6750), and Clerk's `x-clerk-auth-status` /
/// `x-clerk-auth-reason` debug headers.
///
/// | status | `error` | `WWW-Authenticate` | when |
/// |---|---|---|---|
/// | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent | no token, or the token was refused (`reason` is Clerk's code) |
/// | 403 | `forbidden` | `Bearer error="insufficient_scope"` | signed in, but a role or permission guard failed |
/// | 503 | `service_unavailable` | none | the key source is down (`jwk-remote-failed-to-load`, ...), or the verification task did not complete |
/// | 500 | `internal_server_error` | none | the verifier is misconfigured or missing |
///
/// The message says what to fix; it never contains the token.
#[derive(Debug, Clone)]
pub struct ClerkError {
    refusal: Refusal,
}

impl ClerkError {
    /// The refusal for a signed-out request: 401, or 503 when the keys could not be had, or 500
    /// when the verifier is misconfigured ([`Refusal::from_signed_out`]).
    pub fn signed_out(signed_out: &SignedOut) -> ClerkError {
        Refusal::from_signed_out(signed_out).into()
    }

    /// A 403 for a signed-in user who lacks something: use it to write your own guards (or
    /// return a [`Forbidden`] from [`clerk_verify::Auth::require_role`] with `?`).
    ///
    /// ```
    /// use actix_web::ResponseError;
    /// let e = clerk_actix::ClerkError::forbidden("plan-missing", "this route needs the pro plan");
    /// assert_eq!(e.status_code(), 403);
    /// assert_eq!(e.reason(), "plan-missing");
    /// ```
    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> ClerkError {
        Forbidden::new(reason, message).into()
    }

    /// A 500 for a server-side problem outside verification ([`Refusal::internal`]).
    pub(crate) fn internal(reason: &'static str, message: &'static str) -> ClerkError {
        Refusal::internal(reason, message).into()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The stable reason code: Clerk's (e.g. `token-expired`) for a signed-out request, or one of
    /// [`REASON_MISSING_ROLE`](crate::REASON_MISSING_ROLE),
    /// [`REASON_MISSING_PERMISSION`](crate::REASON_MISSING_PERMISSION),
    /// [`REASON_VERIFIER_MISSING`], [`REASON_INTERNAL`], or your own from
    /// [`ClerkError::forbidden`].
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong and what to fix.
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

impl fmt::Display for ClerkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refusal.fmt(f)
    }
}

impl std::error::Error for ClerkError {}

impl ResponseError for ClerkError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let refusal = &self.refusal;
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "refused with {}: {refusal}",
            refusal.status()
        );
        let mut res = HttpResponse::build(self.status());
        res.insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        if let Some(challenge) = refusal.www_authenticate() {
            res.insert_header((WWW_AUTHENTICATE, HeaderValue::from_static(challenge)));
        }
        let mut res = res.body(refusal.json_body());
        set_debug_headers(res.headers_mut(), &refusal.debug_headers());
        res
    }
}
