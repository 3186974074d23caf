//! The filters. Every token rule is the core's, so a filter only copies two header values out of
//! the request and hands them to the [`Verifier`]; the required filters turn anything but a
//! signed-in user into a [`ClerkRejection`].

use crate::rejection::ClerkRejection;
use clerk_verify::{Auth, Authentication, Error, Refusal, SignedOut, Verifier};
use std::convert::Infallible;
use std::sync::Arc;
use warp::http::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE};
use warp::reject::Rejection;
use warp::Filter;

/// Reason code of a 500 for an authentication state this version of the crate does not know (a
/// newer `clerk-verify`): never a signed-in user.
const REASON_INTERNAL: &str = "internal-error";

/// Log target of server-side problems (error level).
const LOG_TARGET: &str = "clerk_warp";

/// The request's authentication state, whatever it is; never rejects.
///
/// This is the building block of the other filters: it reads the `Authorization` header and
/// the `Cookie` header(s), and lets [`Verifier::find_token`] and
/// [`Verifier::try_authenticate`] / [`Verifier::authenticate`] decide. Use it when a handler
/// wants the signed-out reason, and [`with_auth_headers`] to put the debug headers on its reply.
///
/// [`with_auth_headers`]: crate::with_auth_headers
pub fn authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (Authentication,), Error = Infallible> + Clone {
    warp::header::headers_cloned().and_then(move |headers: HeaderMap| {
        let verifier = verifier.clone();
        let (authorization, cookie) = credentials(&headers);
        async move { Ok::<_, Infallible>(authenticate(verifier, authorization, cookie).await) }
    })
}

/// Required authentication: extracts the signed-in [`Auth`], or rejects with a
/// [`ClerkRejection`] (401; 503 when the key source is down or the verification task did not
/// complete; 500 when the verifier is misconfigured).
///
/// Put it after the route's path and method filters, so that it only runs for requests the
/// route would serve.
pub fn clerk_auth(verifier: Verifier) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    authentication(verifier).and_then(|state: Authentication| async move {
        signed_in(state).map_err(warp::reject::custom)
    })
}

/// Optional authentication: `Some(auth)` when signed in, `None` otherwise: no token, a bad
/// token, or a key source that is down. Never rejects.
///
/// The reply gets no debug headers; for those (as the other Clerk adapters give an optional
/// route), take the [`authentication`] state and answer through [`with_auth_headers`].
///
/// [`with_auth_headers`]: crate::with_auth_headers
pub fn optional_auth(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Infallible> + Clone {
    authentication(verifier).map(Authentication::into_auth)
}

/// Required authentication plus an organization role (e.g. `"org:admin"`, decided by
/// [`Auth::require_role`]): 401 as [`clerk_auth`] when signed out, then 403 (reason
/// [`REASON_MISSING_ROLE`]) when the active organization role differs.
///
/// [`REASON_MISSING_ROLE`]: crate::REASON_MISSING_ROLE
pub fn require_role(
    verifier: Verifier,
    role: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    let role: Arc<str> = role.into().into();
    clerk_auth(verifier).and_then(move |auth: Auth| {
        let role = role.clone();
        async move {
            match auth.require_role(&role) {
                Ok(()) => Ok(auth),
                Err(forbidden) => Err(warp::reject::custom(ClerkRejection::from(forbidden))),
            }
        }
    })
}

/// Required authentication plus an organization permission (e.g. `"org:invoices:read"`, as
/// [`Auth::require_permission`] decides): 401 as [`clerk_auth`] when signed out, then 403 (reason
/// [`REASON_MISSING_PERMISSION`]) when the active organization does not grant it.
///
/// [`REASON_MISSING_PERMISSION`]: crate::REASON_MISSING_PERMISSION
pub fn require_permission(
    verifier: Verifier,
    permission: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    let permission: Arc<str> = permission.into().into();
    clerk_auth(verifier).and_then(move |auth: Auth| {
        let permission = permission.clone();
        async move {
            match auth.require_permission(&permission) {
                Ok(()) => Ok(auth),
                Err(forbidden) => Err(warp::reject::custom(ClerkRejection::from(forbidden))),
            }
        }
    })
}

/// The two header values the core needs. Several `Cookie` headers are joined with `"; "`
/// (RFC 6265 §5.4); non-UTF-8 bytes are replaced, so such a token fails verification instead of
/// silently counting as absent.
fn credentials(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let authorization = headers.get(AUTHORIZATION).map(text);
    let cookies: Vec<String> = headers.get_all(COOKIE).iter().map(text).collect();
    let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
    (authorization, cookie)
}

/// Without blocking the executor: inline when the key is cached, else on the blocking pool.
async fn authenticate(
    verifier: Verifier,
    authorization: Option<String>,
    cookie: Option<String>,
) -> Authentication {
    let token = match verifier.find_token(authorization.as_deref(), cookie.as_deref()) {
        Ok(token) => token,
        Err(signed_out) => return signed_out,
    };
    if let Some(state) = verifier.try_authenticate(&token) {
        return state;
    }
    match tokio::task::spawn_blocking(move || verifier.authenticate(&token)).await {
        Ok(state) => state,
        // Cancelled (the runtime shuts down under the request) or panicked.
        Err(e) => {
            log::error!(target: LOG_TARGET, "the verification task did not complete: {e}");
            unfinished()
        }
    }
}

/// The signed-out state for a verification that did not complete: the keys could not be had,
/// so 503, never a panic.
fn unfinished() -> Authentication {
    Authentication::SignedOut(SignedOut::from_error(Error::JwkRemoteFailedToLoad(
        "the verification task did not complete".into(),
    )))
}

fn signed_in(state: Authentication) -> Result<Auth, ClerkRejection> {
    match state {
        Authentication::SignedIn(auth) => Ok(auth),
        Authentication::SignedOut(out) => Err(out.into()),
        // `Authentication` is non-exhaustive: a state added later is not a signed-in user.
        _ => Err(Refusal::internal(
            REASON_INTERNAL,
            "unknown authentication state (is clerk-warp older than clerk-verify?)",
        )
        .into()),
    }
}
