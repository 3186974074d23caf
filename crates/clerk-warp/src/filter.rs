//! The filters. Every token rule is the core's: [`authentication`] copies two header values out
//! of the request into [`Verifier::authenticate_headers`] and finishes the [`Step`] on tokio's
//! blocking pool; the others hand the state to [`clerk_verify::adapter`], which decides.

use crate::rejection::{answer, ClerkRejection};
use clerk_verify::adapter;
use clerk_verify::claims::Reverification;
use clerk_verify::request::{Policy, Step};
use clerk_verify::{Auth, Authentication, Refusal, Verifier};
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
pub(crate) async fn finish(step: Step) -> Result<Authentication, Infallible> {
    Ok(step.finish(tokio::task::spawn_blocking).await)
}

/// The state of a route that also serves signed-out visitors: signed in, or signed out because
/// the token is missing or refused (with the reason, for [`with_auth_headers`]). Rejects when
/// the server is at fault (503 key source down, 500 misconfigured), so that an outage never
/// silently turns signed-in users into anonymous ones.
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

/// `Some(auth)` when signed in, `None` when the request has no valid session
/// ([`adapter::optional`]); rejects server faults as [`optional_authentication`] does. The reply
/// gets no debug headers: for those, take [`optional_authentication`].
pub fn optional_auth(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Rejection> + Clone {
    authentication(verifier)
        .and_then(|state: Authentication| ready(answer(state, adapter::optional)))
}

/// The signed-in [`Auth`] ([`adapter::signed_in`]), or a [`ClerkRejection`]: 401; 503 when the
/// key source is down or the verification task did not complete; 500 when misconfigured.
///
/// Put it after the route's path and method filters, so that it only runs for requests the
/// route would serve.
pub fn clerk_auth(verifier: Verifier) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    authentication(verifier)
        .and_then(|state: Authentication| ready(answer(state, adapter::signed_in)))
}

/// [`clerk_auth`] plus a [`Policy`] (organization role, permissions, an active organization,
/// features, plans, a recent verification): then 403 with the reason of the first requirement
/// missing (`missing-organization`, `missing-role`, `missing-permission`, `missing-feature`,
/// `missing-plan`, `reverification-error` with Clerk's reverification hint in the body).
pub fn require(
    verifier: Verifier,
    policy: Policy,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    let policy = Arc::new(policy);
    clerk_auth(verifier).and_then(move |auth: Auth| {
        let checked = policy.check(&auth).map(|()| auth);
        ready(checked.map_err(|forbidden| warp::reject::custom(ClerkRejection::from(forbidden))))
    })
}

/// [`require`] the organization role `role` (e.g. `"org:admin"`): 403 `missing-role`.
pub fn require_role(
    verifier: Verifier,
    role: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    require(verifier, Policy::new().role(role))
}

/// [`require`] the organization permission `permission` (e.g. `"org:invoices:read"`): 403
/// `missing-permission`.
pub fn require_permission(
    verifier: Verifier,
    permission: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    require(verifier, Policy::new().permission(permission))
}

/// [`require`] the feature `feature` (`reports`, `o:reports`, `u:export`): 403 `missing-feature`.
pub fn require_feature(
    verifier: Verifier,
    feature: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    require(verifier, Policy::new().feature(feature))
}

/// [`require`] the plan `plan` (`pro`, `o:pro`, `u:free`): 403 `missing-plan`.
pub fn require_plan(
    verifier: Verifier,
    plan: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    require(verifier, Policy::new().plan(plan))
}

/// [`require`] a verification as recent as `reverification`: 403 `reverification-error`, whose
/// body carries Clerk's hint for the frontend's `useReverification()`.
pub fn require_reverification(
    verifier: Verifier,
    reverification: Reverification,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    require(verifier, Policy::new().reverification(reverification))
}
