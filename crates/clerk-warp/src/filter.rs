//! The filters. Every token rule is the core's: [`authentication`] copies two header values out
//! of the request into [`Verifier::authenticate_headers`] and finishes the [`Step`] on tokio's
//! blocking pool; the other filters only decide which states they let through.

use crate::rejection::ClerkRejection;
use clerk_verify::request::{Policy, Step};
use clerk_verify::{reason, Auth, Authentication, Refusal, Verifier};
use std::convert::Infallible;
use std::future::ready;
use std::sync::Arc;
use warp::http::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE};
use warp::reject::Rejection;
use warp::Filter;

/// The request's authentication state, whatever it is; never rejects, not even during an
/// outage (a key source that is down is the signed-out state `jwk-remote-failed-to-load`).
///
/// The building block of the other filters: it hands the `Authorization` header and the
/// `Cookie` header(s) to [`Verifier::authenticate_headers`], which decides everything (header
/// token first, then the `__session` cookie with Clerk's `__client_uat` rules). A token whose
/// key is cached is checked inline; one that needs a key fetch on tokio's blocking pool
/// ([`Step::finish`]), so the executor never blocks.
///
/// For a route that also serves signed-out visitors take [`optional_authentication`] instead:
/// it is this state minus the server faults, which it refuses (503/500).
pub fn authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (Authentication,), Error = Infallible> + Clone {
    warp::header::headers_cloned().and_then(move |headers: HeaderMap| {
        let step = verifier.authenticate_headers(
            headers.get(AUTHORIZATION).map(HeaderValue::as_bytes),
            headers.get_all(COOKIE).iter().map(HeaderValue::as_bytes),
        );
        finish(step)
    })
}

/// Runs what is left of `step`; the future owns everything it needs, so it is `Send`.
async fn finish(step: Step) -> Result<Authentication, Infallible> {
    Ok(step.finish(tokio::task::spawn_blocking).await)
}

/// The authentication state of a route that also serves signed-out visitors: signed in, or
/// signed out because the token is missing or refused (with the reason, for
/// [`with_auth_headers`]). Rejects with a [`ClerkRejection`] when the server is at fault: 503
/// when the key source is down (or the verification task did not complete), 500 when the
/// verifier is misconfigured, so that an outage never silently turns signed-in users into
/// anonymous ones.
///
/// ```
/// use clerk_verify::{Auth, Authentication, Verifier};
/// use clerk_warp::{optional_authentication, with_auth_headers};
/// use warp::Filter;
///
/// # fn route(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// warp::path!("clerk-jwt")
///     .and(warp::get())
///     .and(optional_authentication(verifier))
///     .map(|state: Authentication| {
///         let body = serde_json::json!({ "userId": state.auth().map(Auth::user_id) });
///         with_auth_headers(warp::reply::json(&body), &state)
///     })
/// # }
/// ```
///
/// [`with_auth_headers`]: crate::with_auth_headers
pub fn optional_authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (Authentication,), Error = Rejection> + Clone {
    authentication(verifier).and_then(|state: Authentication| {
        ready(match state {
            Authentication::SignedOut(out) if out.server_fault() => {
                Err(warp::reject::custom(ClerkRejection::from(out)))
            }
            // Only the page filters' flow makes one; should one come, the browser must follow it.
            Authentication::Handshake(handshake) => Err(warp::reject::custom(
                ClerkRejection::from(Refusal::from_handshake(&handshake)),
            )),
            state => Ok(state),
        })
    })
}

/// Optional authentication: `Some(auth)` when signed in, `None` when the request has no valid
/// session (no token, a bad or expired token: [`Authentication::into_optional`]). Rejects, as
/// [`optional_authentication`] does, with 503 when the key source is down and 500 when the
/// verifier is misconfigured.
///
/// The reply gets no debug headers; for those, take [`optional_authentication`] and answer
/// through [`with_auth_headers`].
///
/// [`with_auth_headers`]: crate::with_auth_headers
pub fn optional_auth(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Rejection> + Clone {
    authentication(verifier).and_then(|state: Authentication| {
        ready(
            state
                .into_optional()
                .map_err(|server_fault| warp::reject::custom(ClerkRejection::from(server_fault))),
        )
    })
}

/// Required authentication: extracts the signed-in [`Auth`], or rejects with a
/// [`ClerkRejection`] (401; 503 when the key source is down or the verification task did not
/// complete; 500 when the verifier is misconfigured).
///
/// Put it after the route's path and method filters, so that it only runs for requests the
/// route would serve.
pub fn clerk_auth(verifier: Verifier) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    authentication(verifier).and_then(|state: Authentication| ready(signed_in(state)))
}

/// Required authentication plus a [`Policy`] (organization role, permissions, an active
/// organization): 401 as [`clerk_auth`] when signed out, then 403 with the reason of the first
/// requirement missing ([`reason::MISSING_ORGANIZATION`], [`reason::MISSING_ROLE`],
/// [`reason::MISSING_PERMISSION`]).
///
/// ```
/// use clerk_verify::{Auth, Verifier};
/// use clerk_warp::{require, signed_in_headers, Policy};
/// use warp::Filter;
///
/// # fn route(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// let billing = Policy::new().role("org:admin").permission("org:invoices:read");
/// warp::path!("billing")
///     .and(warp::get())
///     .and(require(verifier, billing))
///     .map(|auth: Auth| format!("invoices of {}", auth.user_id()))
///     .with(signed_in_headers())
/// # }
/// ```
pub fn require(
    verifier: Verifier,
    policy: Policy,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    let policy = Arc::new(policy);
    clerk_auth(verifier).and_then(move |auth: Auth| {
        ready(match policy.check(&auth) {
            Ok(()) => Ok(auth),
            Err(forbidden) => Err(warp::reject::custom(ClerkRejection::from(forbidden))),
        })
    })
}

/// [`require`] the organization role `role` (e.g. `"org:admin"`): 403
/// [`reason::MISSING_ROLE`] when the active organization role differs.
pub fn require_role(
    verifier: Verifier,
    role: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    require(verifier, Policy::new().role(role))
}

/// [`require`] the organization permission `permission` (e.g. `"org:invoices:read"`): 403
/// [`reason::MISSING_PERMISSION`] when the active organization does not grant it.
pub fn require_permission(
    verifier: Verifier,
    permission: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    require(verifier, Policy::new().permission(permission))
}

/// The signed-in user, or the rejection for any other state.
fn signed_in(state: Authentication) -> Result<Auth, Rejection> {
    let refusal = match state {
        Authentication::SignedIn(auth) => return Ok(auth),
        Authentication::SignedOut(out) => ClerkRejection::from(out),
        Authentication::Handshake(handshake) => Refusal::from_handshake(&handshake).into(),
        // `Authentication` is non-exhaustive: a state added later is not a signed-in user.
        _ => Refusal::internal(
            reason::INTERNAL_ERROR,
            "unknown authentication state (is clerk-warp older than clerk-verify?)",
        )
        .into(),
    };
    Err(warp::reject::custom(refusal))
}
