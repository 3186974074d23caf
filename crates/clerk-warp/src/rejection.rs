//! [`ClerkRejection`], the one refusal type, and [`handle_rejection`], which answers it; what a
//! refusal says is the core's [`Refusal`]. Not `clerk_verify::adapter_refusal!`: a warp
//! rejection also keeps the signed-out state it was made from ([`ClerkRejection::signed_out`]).

use clerk_verify::request::{Forbidden, SignedOut};
use clerk_verify::{Authentication, Refusal};
use std::fmt;
use warp::http::header::{HeaderMap, HeaderName, HeaderValue};
use warp::http::StatusCode;
use warp::reject::{Reject, Rejection};
use warp::reply::{Reply, Response};

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_warp::rejection";

/// A `recover` handler: answers a [`ClerkRejection`] (found anywhere in the rejection) with
/// [`ClerkRejection::to_response`] and hands every other rejection on (warp's 404, 405, ...).
pub async fn handle_rejection(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<ClerkRejection>() {
        Some(refusal) => Ok(refusal.to_response()),
        None => Err(rejection),
    }
}

/// Why a Clerk filter refused a request: a warp [`Reject`]ion holding the core's [`Refusal`],
/// answered only from it (statuses, bodies, headers: its docs). Find it with
/// `rejection.find::<ClerkRejection>()`; its `Display` has the cause of a 500 or 503, for logs.
#[derive(Debug)]
pub struct ClerkRejection {
    refusal: Refusal,
    /// Boxed: a rejection travels in `Result`s and warp's `Rejection`.
    out: Option<Box<SignedOut>>,
}

impl ClerkRejection {
    /// A 403 for your own guards, e.g. `ClerkRejection::forbidden("missing-plan", "…")`, to
    /// reject with through `warp::reject::custom`; a [`Forbidden`] converts with `From`, too.
    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> ClerkRejection {
        Forbidden::new(reason, message).into()
    }

    /// The HTTP status to answer ([`Refusal::status`]).
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The body's `error` field ([`Refusal::error`]).
    pub fn error(&self) -> &'static str {
        self.refusal.error()
    }

    /// The stable reason code: one of [`clerk_verify::reason`], or yours from
    /// [`ClerkRejection::forbidden`].
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong, as the client sees it (never the token; generic for 500 and 503).
    pub fn message(&self) -> &str {
        self.refusal.message()
    }

    /// The signed-out state behind a 401, 500 or 503, or behind a redirect to the sign-in page.
    pub fn signed_out(&self) -> Option<&SignedOut> {
        self.out.as_deref()
    }

    /// Whether this is a 403: signed in, but missing a role, permission or organization.
    pub fn is_forbidden(&self) -> bool {
        self.status() == StatusCode::FORBIDDEN
    }

    /// The core's [`Refusal`] this rejection answers with.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }

    /// The response: [`Refusal::json_body`] with the status and every one of
    /// [`Refusal::response_headers`], in order (a `Set-Cookie` each its own header).
    pub fn to_response(&self) -> Response {
        let refusal = &self.refusal;
        log::debug!(target: LOG_TARGET_REJECTION, "refused with {}: {refusal}", refusal.status());
        let mut response = Response::new(refusal.json_body().into());
        *response.status_mut() = self.status();
        // Collected, so appended: a handshake's cookies are several headers of one name.
        *response.headers_mut() = refusal
            .response_headers()
            .into_iter()
            .filter_map(|(name, value)| {
                let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
                Some((name, HeaderValue::from_str(value).ok()?))
            })
            .collect::<HeaderMap>();
        response
    }
}

/// `decide(state)` (one of [`clerk_verify::adapter`]'s functions), its refusal as a rejection
/// that keeps the signed-out state behind it: the cause of a 503 or 500, for the log.
pub(crate) fn answer<T>(
    state: Authentication,
    decide: impl FnOnce(Authentication) -> Result<T, Refusal>,
) -> Result<T, Rejection> {
    let out = match &state {
        Authentication::SignedOut(out) => Some(Box::new(out.clone())),
        _ => None,
    };
    decide(state).map_err(|refusal| warp::reject::custom(ClerkRejection { refusal, out }))
}

/// A refusal (a [`Refusal`], [`SignedOut`] or [`Forbidden`]) as warp's rejection.
pub(crate) fn reject(refusal: impl Into<ClerkRejection>) -> Rejection {
    warp::reject::custom(refusal.into())
}

/// 401, 503 or 500 ([`Refusal::from_signed_out`]).
impl From<SignedOut> for ClerkRejection {
    fn from(out: SignedOut) -> ClerkRejection {
        let refusal = Refusal::from_signed_out(&out);
        let out = Some(Box::new(out));
        ClerkRejection { refusal, out }
    }
}

/// A 403, e.g. from [`Policy::check`](clerk_verify::request::Policy::check).
impl From<Forbidden> for ClerkRejection {
    fn from(forbidden: Forbidden) -> ClerkRejection {
        Refusal::from_forbidden(&forbidden).into()
    }
}

impl From<Refusal> for ClerkRejection {
    fn from(refusal: Refusal) -> ClerkRejection {
        ClerkRejection { refusal, out: None }
    }
}

impl Reject for ClerkRejection {}

impl Reply for ClerkRejection {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

/// `error (reason): detail`, for logs (for 500 and 503, the cause the client is not told).
impl fmt::Display for ClerkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.refusal.fmt(f)
    }
}

impl std::error::Error for ClerkRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.signed_out().and_then(SignedOut::error).map(|e| e as _)
    }
}
