//! The session extractors ([`ClerkAuth`], `Option<ClerkAuth>`, [`Require`]) and what every
//! extractor shares: [`authenticate`], [`authenticate_accepting`], the answers, the verifier.

use crate::rejection::ClerkRejection;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use clerk_verify::adapter::{self, Answers};
use clerk_verify::options::AcceptsToken;
use clerk_verify::request::Requirement;
use clerk_verify::{Authentication, Verifier};
use std::any::Any;
use tokio::task::spawn_blocking;

/// How to give the extractors a [`Verifier`], as the 500 `verifier-missing` says it.
const VERIFIER_MISSING_FIX: &str = "add .layer(clerk_axum::ClerkLayer::new(verifier)), \
     .layer(axum::Extension(verifier)) or .with_state(verifier) (the extractors look in the \
     request extensions, then in the router state)";

clerk_verify::adapter_auth! {
    /// `Option<ClerkAuth>` (axum's optional extractor) also serves signed-out visitors: `None`
    /// when the request has no valid session (no token, a bad or expired token, a pending
    /// session), but a key source that is down (503) or a misconfigured or missing verifier
    /// (500) still refuses the request, so an outage never turns signed-in users into anonymous
    /// ones. The [crate example](crate) uses both, and `require_role` with `?`.
    pub struct ClerkAuth;
}

/// Implements axum's `FromRequestParts` (or `OptionalFromRequestParts`) for an extractor:
/// `|parts, state| body` (names given, as macro hygiene wants) answers, or `?` rejects.
macro_rules! from_request_parts {
    ([$($generics:tt)*] $ty:ty, |$parts:ident, $state:ident| $body:expr) => {
        from_request_parts!(FromRequestParts [$($generics)*] $ty => Self, |$parts, $state| $body);
    };
    ($trait:ident [$($generics:tt)*] $ty:ty => $out:ty,
        |$parts:ident, $state:ident| $body:expr) => {
        impl<S: Send + Sync + 'static, $($generics)*> axum::extract::$trait<S> for $ty {
            type Rejection = crate::ClerkRejection;

            async fn from_request_parts(
                $parts: &mut axum::http::request::Parts,
                $state: &S,
            ) -> Result<$out, Self::Rejection> {
                Ok($body)
            }
        }
    };
}
pub(crate) use from_request_parts;

from_request_parts!([] ClerkAuth, |parts, state| {
    ClerkAuth(adapter::signed_in(authenticate(parts, state).await?)?)
});

from_request_parts!(OptionalFromRequestParts [] ClerkAuth => Option<Self>, |parts, state| {
    adapter::optional(authenticate(parts, state).await?)?.map(ClerkAuth)
});

clerk_verify::adapter_require! {
    /// [`ClerkLayer`](crate::ClerkLayer)'s example has one.
    pub struct Require;
}

from_request_parts!([R: Requirement] Require<R>, |parts, state| {
    Require::new(adapter::required::<R>(authenticate(parts, state).await?)?)
});

/// Authenticates the request once, for extractors of your own: the first call (an extractor,
/// the layer) verifies the session token and keeps the [`Authentication`] in the request's
/// extensions; later calls get it. The [`Verifier`] is found as the [crate docs](crate) say.
/// `Err` is a server-side problem only (no verifier, logged at error level with the fix); a
/// missing or bad token is `Ok(Authentication::SignedOut(..))`, and so is a verification that
/// could not complete on the blocking pool (`jwk-remote-failed-to-load`, answered 503).
pub async fn authenticate<S: Send + Sync + 'static>(
    parts: &mut Parts,
    state: &S,
) -> Result<Authentication, ClerkRejection> {
    let answers = answers(parts);
    if let Some(known) = answers.session() {
        return Ok(known.clone());
    }
    let verifier = verifier(parts, state)?;
    let authorization = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());
    let cookies = parts.headers.get_all(COOKIE).iter().map(|v| v.as_bytes());
    let answer = answers.authenticate_session(verifier, authorization, cookies, spawn_blocking);
    Ok(answer.await)
}

/// [`authenticate`] for a route that accepts the kinds `accepts` names (`Err` as there):
/// verified once per request and set of kinds (an opaque token's Backend API call awaited
/// without holding an executor thread) and kept. For extractors of your own.
pub async fn authenticate_accepting<S: Send + Sync + 'static>(
    parts: &mut Parts,
    state: &S,
    accepts: AcceptsToken,
) -> Result<Authentication, ClerkRejection> {
    let answers = answers(parts);
    let verifier = verifier(parts, state)?;
    let authorization = parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes());
    let cookies = parts.headers.get_all(COOKIE).iter().map(|v| v.as_bytes());
    let answer = answers.authenticate(verifier, accepts, authorization, cookies, spawn_blocking);
    Ok(answer.await)
}

/// The request's [`Answers`], shared by every extractor and [`crate::ClerkLayer`].
pub(crate) fn answers(parts: &mut Parts) -> Answers {
    parts.extensions.get_or_insert_default::<Answers>().clone()
}

/// The [`Verifier`] of the request extensions, else of the router state, else the 500
/// `verifier-missing` with the fix.
pub(crate) fn verifier<'a, S: 'static>(
    parts: &'a Parts,
    state: &'a S,
) -> Result<&'a Verifier, ClerkRejection> {
    // A state of another type cannot be asked for a Verifier without a `FromRef` bound, which
    // would make every extractor unusable in routers whose state has no Verifier (the layer's
    // case); such apps add the layer or an `Extension`.
    let found = parts.extensions.get::<Verifier>();
    let found = found.or_else(|| (state as &dyn Any).downcast_ref::<Verifier>());
    found.ok_or_else(|| adapter::verifier_missing(VERIFIER_MISSING_FIX).into())
}
