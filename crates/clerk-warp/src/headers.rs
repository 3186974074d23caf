//! Clerk's debug headers (`x-clerk-auth-status`, `x-clerk-auth-reason`) on replies. Filters
//! cannot touch the reply, so a successful one gets them where it is made; a refusal gets them
//! from [`ClerkRejection::to_response`](crate::ClerkRejection::to_response).

use clerk_verify::request::{AUTH_REASON_HEADER, AUTH_STATUS_HEADER};
use clerk_verify::Authentication;
use warp::http::header::{HeaderMap, HeaderName, HeaderValue};
use warp::reply::{Reply, Response};

/// A reply wrapper for routes guarded by [`clerk_auth`] or [`require`] (and its
/// [`require_role`] / [`require_permission`]): their successful replies get
/// `x-clerk-auth-status: signed-in` and no `x-clerk-auth-reason`, as
/// [`Authentication::debug_headers`] lists them for a signed-in request (refusals get their
/// debug headers from [`handle_rejection`]).
///
/// ```
/// # use clerk_verify::{Auth, Verifier};
/// # use warp::Filter;
/// # fn routes(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// warp::path("me")
///     .and(clerk_warp::clerk_auth(verifier))
///     .map(|auth: Auth| auth.user_id().to_owned())
///     .with(clerk_warp::signed_in_headers())
/// # }
/// ```
///
/// Only wrap routes that cannot succeed signed out; for others, use [`with_auth_headers`].
///
/// [`clerk_auth`]: crate::clerk_auth
/// [`require`]: crate::require
/// [`require_role`]: crate::require_role
/// [`require_permission`]: crate::require_permission
/// [`handle_rejection`]: crate::handle_rejection
pub fn signed_in_headers() -> warp::reply::with::WithHeader {
    warp::reply::with::header(AUTH_STATUS_HEADER, "signed-in")
}

/// Adds Clerk's debug headers for `state` to `reply` ([`Authentication::debug_headers`]):
/// `x-clerk-auth-status`, and `x-clerk-auth-reason` when signed out. For handlers that take the
/// state from [`optional_authentication`] (routes that also serve signed-out visitors) or
/// [`authentication`].
///
/// ```
/// # use clerk_verify::{Authentication, Verifier};
/// # use warp::Filter;
/// # fn route(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// warp::path!("hello")
///     .and(clerk_warp::optional_authentication(verifier))
///     .map(|state: Authentication| {
///         let who = state.auth().map_or("stranger", |auth| auth.user_id());
///         clerk_warp::with_auth_headers(format!("hello, {who}"), &state)
///     })
/// # }
/// ```
///
/// [`optional_authentication`]: crate::optional_authentication
/// [`authentication`]: crate::authentication
pub fn with_auth_headers(reply: impl Reply, state: &Authentication) -> Response {
    let mut response = reply.into_response();
    insert_debug_headers(response.headers_mut(), &state.debug_headers());
    response
}

/// Sets Clerk's debug headers as the core lists them, replacing any already set: a signed-in
/// state leaves no `x-clerk-auth-reason` behind.
pub(crate) fn insert_debug_headers(
    headers: &mut HeaderMap,
    debug: &[(&'static str, &'static str)],
) {
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
