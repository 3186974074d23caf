//! [`ClerkError`]: the one refusal type. What a refusal says (status, body, challenge, debug
//! headers) is the core's [`Refusal`], so that every Clerk adapter answers alike; this file only
//! hands it to Rocket as a [`Responder`].

use crate::fairing::set_debug_headers;
use clerk_verify::{
    Authentication, Forbidden, Refusal, SignedOut, REASON_MISSING_PERMISSION, REASON_MISSING_ROLE,
};
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::fmt;
use std::io::Cursor;
use std::sync::Arc;

/// Reason code of a 500 when no [`Verifier`](crate::Verifier) is managed by the Rocket instance.
pub const REASON_VERIFIER_MISSING: &str = "verifier-not-managed";
/// Reason code of a 500 for an authentication state this version of the crate does not know (a
/// newer `clerk-verify`): never a signed-in user.
const REASON_INTERNAL: &str = "internal-error";

/// Log target of server-side problems (error level).
pub(crate) const LOG_TARGET: &str = "clerk_rocket";
/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_rocket::rejection";

/// Why a Clerk guard refused a request: the guards' `Error` type and a [`Responder`].
///
/// It holds the core's [`Refusal`] and renders only that, so the response is the one every Clerk
/// adapter gives: a JSON body `{"error": …, "reason": …, "message": …}` with the status,
///
/// | status | `error` | `WWW-Authenticate` | when |
/// |---|---|---|---|
/// | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent | signed out: no token, or a token that was refused (`reason` says why) |
/// | 403 | `forbidden` | `Bearer error="insufficient_scope"` | signed in without the required role or permission |
/// | 503 | `service_unavailable` | none | the key source could not be reached, or the verification task did not complete |
/// | 500 | `internal_server_error` | none | the verifier is misconfigured, or none is managed |
///
/// and the `x-clerk-auth-status` / `x-clerk-auth-reason` debug headers
/// ([`Refusal::debug_headers`]).
///
/// Neither the `Display` text nor the body ever contains the token.
#[derive(Clone)]
pub struct ClerkError {
    refusal: Refusal,
    signed_out: Option<Arc<SignedOut>>,
}

impl ClerkError {
    /// The refusal for a signed-out request: 401, or 503 / 500 for a key source that is down or
    /// a misconfigured verifier ([`Refusal::from_signed_out`]).
    pub fn signed_out(signed_out: SignedOut) -> ClerkError {
        ClerkError {
            refusal: Refusal::from_signed_out(&signed_out),
            signed_out: Some(Arc::new(signed_out)),
        }
    }

    /// 403 ([`REASON_MISSING_ROLE`]) for a signed-in user whose active organization lacks
    /// `role`. [`ClerkAuth::require_role`] and [`RequireRole`] decide with
    /// [`Auth::require_role`]; this is for refusing without an [`Auth`] at hand.
    ///
    /// [`ClerkAuth::require_role`]: crate::ClerkAuth::require_role
    /// [`RequireRole`]: crate::RequireRole
    /// [`Auth::require_role`]: crate::Auth::require_role
    /// [`Auth`]: crate::Auth
    pub fn missing_role(role: &str) -> ClerkError {
        Forbidden::new(
            REASON_MISSING_ROLE,
            format!("this route requires the organization role {role:?}"),
        )
        .into()
    }

    /// 403 ([`REASON_MISSING_PERMISSION`]) for a signed-in user whose active organization lacks
    /// `permission`. [`ClerkAuth::require_permission`] and [`RequirePermission`] decide with
    /// [`Auth::require_permission`]; this is for refusing without an [`Auth`] at hand.
    ///
    /// [`ClerkAuth::require_permission`]: crate::ClerkAuth::require_permission
    /// [`RequirePermission`]: crate::RequirePermission
    /// [`Auth::require_permission`]: crate::Auth::require_permission
    /// [`Auth`]: crate::Auth
    pub fn missing_permission(permission: &str) -> ClerkError {
        Forbidden::new(
            REASON_MISSING_PERMISSION,
            format!("this route requires the organization permission {permission:?}"),
        )
        .into()
    }

    pub(crate) fn verifier_missing() -> ClerkError {
        Refusal::internal(
            REASON_VERIFIER_MISSING,
            "no clerk_verify::Verifier is managed by this Rocket instance: call `.manage(verifier)`",
        )
        .into()
    }

    /// For a request that authentication left in a state other than signed in.
    pub(crate) fn from_authentication(authn: &Authentication) -> ClerkError {
        match authn {
            Authentication::SignedOut(s) => ClerkError::signed_out(s.clone()),
            // Authentication is non-exhaustive: whatever a future state is, it is not signed in.
            _ => Refusal::internal(
                REASON_INTERNAL,
                "unknown authentication state (is clerk-rocket older than clerk-verify?)",
            )
            .into(),
        }
    }

    /// The response status: 401, 403, 500 or 503.
    pub fn status(&self) -> Status {
        Status::new(self.refusal.status())
    }

    /// The stable reason code: the core's (e.g. `token-expired`, `session-token-and-uat-missing`,
    /// `jwk-remote-failed-to-load`), or [`REASON_MISSING_ROLE`], [`REASON_MISSING_PERMISSION`],
    /// [`REASON_VERIFIER_MISSING`], or `internal-error` for an authentication state this crate
    /// does not know (a newer `clerk-verify`).
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong, in words (never contains the token).
    pub fn message(&self) -> &str {
        self.refusal.message()
    }

    /// The body's `error` member: `unauthorized`, `forbidden`, `service_unavailable` or
    /// `internal_server_error`.
    pub fn error_code(&self) -> &'static str {
        self.refusal.error()
    }

    /// Whether the request carried a token (a 401 then says `error="invalid_token"`; a 403 is
    /// always about a token that was sent and accepted).
    pub fn token_sent(&self) -> bool {
        match &self.signed_out {
            Some(s) => s.token_sent(),
            None => self.refusal.status() == Status::Forbidden.code,
        }
    }

    /// The core's signed-out state, when that is what this refusal is about.
    pub fn signed_out_state(&self) -> Option<&SignedOut> {
        self.signed_out.as_deref()
    }

    /// The core's [`Refusal`] this error renders.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }
}

impl From<Refusal> for ClerkError {
    fn from(refusal: Refusal) -> ClerkError {
        ClerkError {
            refusal,
            signed_out: None,
        }
    }
}

/// A 403, e.g. `auth.require_role("org:admin")?` on an [`Auth`](crate::Auth).
impl From<Forbidden> for ClerkError {
    fn from(forbidden: Forbidden) -> ClerkError {
        Refusal::from_forbidden(&forbidden).into()
    }
}

impl fmt::Debug for ClerkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rocket logs a failed guard's error with `{:?}`: keep it to the code and reason.
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
            "clerk_rocket: refused with {} ({}): {}",
            refusal.status(),
            refusal.reason(),
            refusal.message()
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
        Ok(res)
    }
}
