//! [`ClerkRejection`]: the one rejection type. What a refusal says (status, body, challenge,
//! debug headers) is the core's [`Refusal`]; this file only hands it to axum.

use axum::http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use clerk_verify::reason;
use clerk_verify::request::{Forbidden, SignedOut, AUTH_REASON_HEADER};
use clerk_verify::{Authentication, Refusal};
use std::fmt;

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_axum::rejection";
/// Log target of server-side problems (error level).
pub(crate) const LOG_TARGET: &str = "clerk_axum";

/// What the log and the 500 say when no [`clerk_verify::Verifier`] is to be found.
pub(crate) const VERIFIER_MISSING_FIX: &str = "no clerk_verify::Verifier in the request \
     extensions or the router state: add .layer(clerk_axum::ClerkLayer::new(verifier)), \
     .layer(axum::Extension(verifier)) or .with_state(verifier)";

/// Why a request was refused: a [`Refusal`] of [`clerk_verify`] answered through axum's
/// [`IntoResponse`]. The response is the one every Clerk adapter gives: JSON
/// `{"error": "...", "reason": "...", "message": "..."}` with the status, a `WWW-Authenticate`
/// challenge on 401 and 403 (RFC 6750), and Clerk's `x-clerk-auth-status` /
/// `x-clerk-auth-reason` debug headers.
///
/// | status | `error` | `WWW-Authenticate` | when |
/// |---|---|---|---|
/// | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent | no token, or the token was refused (`reason` is Clerk's code) |
/// | 403 | `forbidden` | `Bearer error="insufficient_scope"` | signed in, but a role or permission requirement failed |
/// | 503 | `service_unavailable` | none | the key source is down (`jwk-remote-failed-to-load`, ...), or the verification task did not complete |
/// | 500 | `internal_server_error` | none | the verifier is misconfigured or missing |
/// | 307 | `redirect` | none | page routes only ([`crate::ClerkPage`], [`crate::RequireSignIn`]): Clerk's handshake, or the sign-in page; `Location`, `Cache-Control: no-store` and any `Set-Cookie` |
///
/// The message says what to fix; it never contains the token. For 500 and 503 it is generic:
/// the cause goes to the log ([`Refusal::detail`]).
#[derive(Debug, Clone)]
pub struct ClerkRejection {
    refusal: Refusal,
}

impl ClerkRejection {
    /// The refusal for a signed-out request: 401, or 503 when the keys could not be had, or 500
    /// when the verifier is misconfigured ([`Refusal::from_signed_out`]).
    pub fn signed_out(signed_out: &SignedOut) -> ClerkRejection {
        Refusal::from_signed_out(signed_out).into()
    }

    /// A 403 for a signed-in user who lacks something: use it to write your own guards (or
    /// return the [`Forbidden`] of [`clerk_verify::Auth::require_role`] with `?`).
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// let e = clerk_axum::ClerkRejection::forbidden("plan-missing", "this route needs the pro plan");
    /// assert_eq!(e.reason(), "plan-missing");
    /// assert_eq!(e.into_response().status(), 403);
    /// ```
    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> ClerkRejection {
        Forbidden::new(reason, message).into()
    }

    /// The 500 for an app without a [`clerk_verify::Verifier`] where the extractors look.
    pub(crate) fn verifier_missing() -> ClerkRejection {
        Refusal::internal(reason::VERIFIER_MISSING, VERIFIER_MISSING_FIX).into()
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The stable reason code: one of [`clerk_verify::reason`] (e.g. `token-expired`,
    /// `missing-role`, `verifier-missing`), or your own from [`ClerkRejection::forbidden`].
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong, as the client sees it.
    pub fn message(&self) -> &str {
        self.refusal.message()
    }

    /// The core's [`Refusal`] this rejection renders.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

impl From<Refusal> for ClerkRejection {
    fn from(refusal: Refusal) -> ClerkRejection {
        ClerkRejection { refusal }
    }
}

/// A 403, e.g. `auth.require_role("org:admin")?` on a [`clerk_verify::Auth`].
impl From<Forbidden> for ClerkRejection {
    fn from(forbidden: Forbidden) -> ClerkRejection {
        Refusal::from_forbidden(&forbidden).into()
    }
}

impl fmt::Display for ClerkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refusal.fmt(f)
    }
}

impl std::error::Error for ClerkRejection {}

impl IntoResponse for ClerkRejection {
    fn into_response(self) -> Response {
        let refusal = &self.refusal;
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "refused with {}: {refusal}",
            refusal.status()
        );
        let mut res = (self.status(), refusal.json_body()).into_response();
        let headers = res.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(challenge) = refusal.www_authenticate() {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        set_debug_headers(headers, &refusal.debug_headers());
        // A redirect's location, cache-control and cookies (each set-cookie its own header).
        for (name, value) in refusal.headers() {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        res
    }
}

/// The refusal for a request that authentication left in another state than signed in.
pub(crate) fn not_signed_in(authentication: Authentication) -> ClerkRejection {
    match authentication {
        Authentication::SignedOut(s) => ClerkRejection::signed_out(&s),
        Authentication::Handshake(h) => Refusal::from_handshake(&h).into(),
        // `Authentication` is non-exhaustive: a state added later is not a signed-in user.
        _ => Refusal::internal(
            reason::INTERNAL_ERROR,
            "unknown authentication state (is clerk-axum older than clerk-verify?)",
        )
        .into(),
    }
}

/// Sets Clerk's debug headers as the core lists them ([`Authentication::debug_headers`],
/// [`Refusal::debug_headers`]), replacing any already set: a signed-in state leaves no
/// `x-clerk-auth-reason` behind.
pub(crate) fn set_debug_headers(headers: &mut HeaderMap, debug: &[(&'static str, &'static str)]) {
    headers.remove(AUTH_REASON_HEADER);
    for &(name, value) in debug {
        // Reason codes of custom refusals are the caller's: skip one that is no header value.
        if let Ok(value) = HeaderValue::from_str(value) {
            if !value.is_empty() {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}
