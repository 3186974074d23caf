//! Clerk's debug headers (`x-clerk-auth-status`, `x-clerk-auth-reason`) on successful replies,
//! which filters cannot touch; a refusal gets them from [`crate::ClerkRejection::to_response`].

use clerk_verify::request::{AUTH_REASON_HEADER, AUTH_STATUS_HEADER};
use clerk_verify::Authentication;
use warp::http::header::{HeaderName, HeaderValue};
use warp::reply::{Reply, Response};

/// A reply wrapper for routes guarded by [`crate::clerk_auth`], [`crate::require`] and their
/// kin: `x-clerk-auth-status: signed-in` on their replies, as [`Authentication::debug_headers`]
/// gives it. Only for routes that cannot succeed signed out; others: [`with_auth_headers`].
pub fn signed_in_headers() -> warp::reply::with::WithHeader {
    warp::reply::with::header(AUTH_STATUS_HEADER, "signed-in")
}

/// Adds Clerk's debug headers for `state` to `reply` ([`Authentication::debug_headers`]),
/// replacing any the reply set; for handlers that take the state from
/// [`crate::optional_authentication`] or [`crate::authentication`].
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
