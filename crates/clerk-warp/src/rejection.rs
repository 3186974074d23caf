//! [`ClerkRejection`], the one refusal type, and [`handle_rejection`], which answers it. What a
//! refusal says (status, body, challenge, debug headers) is the core's [`Refusal`], so that every
//! Clerk adapter answers alike; this file only hands it to warp.

use crate::headers::insert_debug_headers;
use clerk_verify::request::{Forbidden, SignedOut};
use clerk_verify::Refusal;
use std::fmt;
use warp::http::header::{HeaderName, HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use warp::http::StatusCode;
use warp::reject::{Reject, Rejection};
use warp::reply::{Reply, Response};

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_warp::rejection";

/// A `recover` handler: answers a [`ClerkRejection`] (found anywhere in the rejection) with its
/// response ([`ClerkRejection::to_response`]) and hands every other rejection on, for warp's
/// default answers (404, 405, ...) or a later `recover` of yours.
///
/// ```
/// # use warp::Filter;
/// # fn app(routes: impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone + Send + Sync + 'static) {
/// let routes = routes.recover(clerk_warp::handle_rejection);
/// # }
/// ```
pub async fn handle_rejection(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<ClerkRejection>() {
        Some(refusal) => Ok(refusal.to_response()),
        None => Err(rejection),
    }
}

/// Why a Clerk filter refused a request. A warp [`Reject`]ion: find it with
/// `rejection.find::<ClerkRejection>()`, or let [`handle_rejection`] answer it.
///
/// It holds the core's [`Refusal`] and answers only from it, as every Clerk adapter does:
///
/// | Case | Status | `error` | `WWW-Authenticate` |
/// |---|---|---|---|
/// | signed out (no token, bad token) | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent |
/// | signed in, but a [`Policy`](clerk_verify::request::Policy) requirement failed | 403 | `forbidden` | `Bearer error="insufficient_scope"` |
/// | a webhook delivery that is unsigned, forged, stale, oversized or not a Clerk event ([`webhook`](crate::webhook)) | 400 | `bad_request` | none (nor debug headers) |
/// | key source unavailable, verification task did not complete | 503 | `service_unavailable` | none |
/// | verifier misconfigured | 500 | `internal_server_error` | none |
/// | page filters only ([`page`](crate::page), [`require_sign_in`](crate::require_sign_in)): Clerk's handshake, or a signed-out browser sent to the sign-in page | 307 | `redirect` | none; `Location`, `Cache-Control: no-store` and any `Set-Cookie`s instead |
///
/// The message says what to fix and never contains the token. For 500 and 503 it is generic:
/// the cause (URL, network error, ...) is for the log ([`Refusal::detail`], and this type's
/// `Display`), not for the client.
#[derive(Debug)]
pub struct ClerkRejection {
    refusal: Refusal,
    /// Boxed: a rejection travels in `Result`s and warp's `Rejection`.
    signed_out: Option<Box<SignedOut>>,
}

impl ClerkRejection {
    /// A 403 for your own guards, e.g. `ClerkRejection::forbidden("missing-plan", "…")`.
    /// Reject with it through `warp::reject::custom`. A [`Forbidden`] from
    /// [`Auth::require_role`] or [`Policy::check`] converts with `From`, too.
    ///
    /// [`Auth::require_role`]: clerk_verify::Auth::require_role
    /// [`Policy::check`]: clerk_verify::request::Policy::check
    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> ClerkRejection {
        Forbidden::new(reason, message).into()
    }

    /// The HTTP status to answer: 307 (page filters only), 400, 401, 403, 500 or 503.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The body's `error` field: `redirect` (307), `unauthorized`, `forbidden`, `bad_request`,
    /// `service_unavailable` or `internal_server_error`.
    pub fn error(&self) -> &'static str {
        self.refusal.error()
    }

    /// The stable reason code: one of [`clerk_verify::reason`] (e.g. `token-expired`,
    /// `jwk-remote-failed-to-load`, `missing-role`), or yours from [`ClerkRejection::forbidden`].
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong, as the client sees it (never contains the token; generic for 500 and
    /// 503).
    pub fn message(&self) -> &str {
        self.refusal.message()
    }

    /// The signed-out state behind a 401, 500 or 503, or behind a redirect to the sign-in page.
    pub fn signed_out(&self) -> Option<&SignedOut> {
        self.signed_out.as_deref()
    }

    /// Whether this is a 403: signed in, but missing a role, permission or organization.
    pub fn is_forbidden(&self) -> bool {
        self.refusal.status() == StatusCode::FORBIDDEN.as_u16()
    }

    /// The core's [`Refusal`] this rejection answers with.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }

    /// The response: [`Refusal::json_body`] with the status, the
    /// [`Refusal::www_authenticate`] challenge (RFC 6750 §3.1), the
    /// [`Refusal::debug_headers`], and a redirect's [`Refusal::headers`].
    pub fn to_response(&self) -> Response {
        let refusal = &self.refusal;
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "refused with {}: {refusal}",
            refusal.status()
        );
        let mut response = refusal.json_body().into_response();
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(challenge) = refusal.www_authenticate() {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        insert_debug_headers(headers, &refusal.debug_headers());
        // Appended, never inserted: a handshake sets several cookies, each its own header.
        for (name, value) in refusal.headers() {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        response
    }

    /// `refusal`, keeping the signed-out state it was made from (its cause, for the log).
    pub(crate) fn with_signed_out(
        refusal: Refusal,
        signed_out: Option<SignedOut>,
    ) -> ClerkRejection {
        ClerkRejection {
            refusal,
            signed_out: signed_out.map(Box::new),
        }
    }
}

/// 401 for a missing or refused token, 503 when the key source is down, 500 when the verifier
/// is misconfigured ([`Refusal::from_signed_out`]).
impl From<SignedOut> for ClerkRejection {
    fn from(out: SignedOut) -> ClerkRejection {
        ClerkRejection {
            refusal: Refusal::from_signed_out(&out),
            signed_out: Some(Box::new(out)),
        }
    }
}

/// A 403, e.g. from [`Auth::require_role`](clerk_verify::Auth::require_role) or
/// [`Policy::check`](clerk_verify::request::Policy::check).
impl From<Forbidden> for ClerkRejection {
    fn from(forbidden: Forbidden) -> ClerkRejection {
        Refusal::from_forbidden(&forbidden).into()
    }
}

impl From<Refusal> for ClerkRejection {
    fn from(refusal: Refusal) -> ClerkRejection {
        ClerkRejection {
            refusal,
            signed_out: None,
        }
    }
}

impl Reject for ClerkRejection {}

impl Reply for ClerkRejection {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// `error (reason): detail`, for logs: for 500 and 503 the detail names the cause the client
/// is not told.
impl fmt::Display for ClerkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refusal.fmt(f)
    }
}

impl std::error::Error for ClerkRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.signed_out
            .as_deref()
            .and_then(SignedOut::error)
            .map(|e| e as _)
    }
}
