//! Clerk's debug headers (`x-clerk-auth-status`, `x-clerk-auth-reason`) on replies. Filters
//! cannot touch the reply, so a successful one gets them where it is made; a refusal gets them
//! from [`ClerkRejection::to_response`](crate::ClerkRejection::to_response).

use clerk_verify::request::{AUTH_REASON_HEADER, AUTH_STATUS_HEADER};
use clerk_verify::Authentication;
use warp::http::header::{HeaderName, HeaderValue};
use warp::reply::{Reply, Response};

/// A reply wrapper for routes guarded by [`clerk_auth`](crate::clerk_auth) or
/// [`require`](crate::require) and its kin: their successful replies get
/// `x-clerk-auth-status: signed-in` and no `x-clerk-auth-reason`, as
/// [`Authentication::debug_headers`] lists them for a signed-in request. Only wrap routes that
/// cannot succeed signed out; for others, use [`with_auth_headers`].
pub fn signed_in_headers() -> warp::reply::with::WithHeader {
    warp::reply::with::header(AUTH_STATUS_HEADER, "signed-in")
}

/// Adds Clerk's debug headers for `state` to `reply` ([`Authentication::debug_headers`]):
/// `x-clerk-auth-status`, and `x-clerk-auth-reason` when signed out, replacing any the reply
/// set. For handlers that take the state from [`optional_authentication`] (routes that also
/// serve signed-out visitors) or [`authentication`].
///
/// [`optional_authentication`]: crate::optional_authentication
/// [`authentication`]: crate::authentication
pub fn with_auth_headers(reply: impl Reply, state: &Authentication) -> Response {
    let mut response = reply.into_response();
    let headers = response.headers_mut();
    // A signed-in state leaves no `x-clerk-auth-reason` behind.
    headers.remove(AUTH_REASON_HEADER);
    for (name, value) in state.debug_headers() {
        if let Ok(value) = HeaderValue::from_str(value) {
            if !value.is_empty() {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
    response
}
