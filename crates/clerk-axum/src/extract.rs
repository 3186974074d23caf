//! The extractors ([`ClerkAuth`], `Option<ClerkAuth>`, [`Require`]) and [`authenticate`], the
//! once-per-request authentication they and the layer share.

use crate::rejection::ClerkRejection;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use clerk_verify::adapter::{self, Answers};
use clerk_verify::request::Requirement;
use clerk_verify::{Authentication, Verifier};
use std::any::Any;

/// How to give the extractors a [`Verifier`]: the 500 `verifier-missing` says it (in the log,
/// and in the body of debug builds).
const VERIFIER_MISSING_FIX: &str = "add .layer(clerk_axum::ClerkLayer::new(verifier)), \
     .layer(axum::Extension(verifier)) or .with_state(verifier) (the extractors look in the \
     request extensions, then in the router state)";

clerk_verify::adapter_auth! {
    /// The signed-in user: an extractor that answers 401 (or 503 when the keys cannot be had, 500
    /// when the verifier is misconfigured or missing) for any other request. Dereferences to
    /// [`Auth`](crate::Auth), so `auth.require_role("org:admin")?` works in a handler returning
    /// `Result<_, ClerkRejection>`.
    ///
    /// `Option<ClerkAuth>` is for routes that also serve signed-out visitors: `None` when the
    /// request has no valid session (no token, a bad or expired token), but a key source that is
    /// down (503) or a misconfigured verifier (500) still refuses the request, so an outage never
    /// silently turns signed-in users into anonymous ones.
    ///
    /// The [crate example](crate) uses both, and `require_role` with `?`.
    pub struct ClerkAuth;
}

impl<S: Send + Sync + 'static> FromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClerkAuth(adapter::signed_in(
            authenticate(parts, state).await?,
        )?))
    }
}

impl<S: Send + Sync + 'static> OptionalFromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(adapter::optional(authenticate(parts, state).await?)?.map(ClerkAuth))
    }
}

clerk_verify::adapter_require! {
    /// A signed-in user who meets the [`Requirement`] `R`: 401 (like [`ClerkAuth`]) when signed
    /// out, then 403 with `R`'s reason. Dereferences to [`Auth`](crate::Auth). [`RequireRole`],
    /// [`RequirePermission`], [`RequireFeature`], [`RequirePlan`] and [`RequireReverification`]
    /// (403 `reverification-error` with Clerk's hint) name the usual requirements (a
    /// [`Permission`](crate::Permission), [`Feature`](crate::Feature), [`Plan`](crate::Plan) or
    /// [`ReverificationLevel`](crate::ReverificationLevel) is declared as the
    /// [`Role`](crate::Role) below).
    ///
    /// ```
    /// use axum::{routing::get, Router};
    /// use clerk_axum::{ClerkLayer, RequireRole, Role};
    /// # let verifier = clerk_verify::Verifier::from_jwks(
    /// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
    ///
    /// struct Admin;
    /// impl Role for Admin {
    ///     const ROLE: &'static str = "org:admin";
    /// }
    ///
    /// async fn admin(admin: RequireRole<Admin>) -> String {
    ///     format!("hello admin {}", admin.user_id())
    /// }
    ///
    /// let app: Router = Router::new()
    ///     .route("/admin", get(admin))
    ///     .layer(ClerkLayer::new(verifier));
    /// ```
    pub struct Require;
}

impl<R: Requirement, S: Send + Sync + 'static> FromRequestParts<S> for Require<R> {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Require::new(adapter::required::<R>(
            authenticate(parts, state).await?,
        )?))
    }
}

/// Authenticates the request once: the first call reads the token, verifies it and keeps the
/// [`Authentication`] in the request's extensions; later calls (other extractors, the layer)
/// return that kept result. Use it to write extractors of your own.
///
/// The [`Verifier`] is a request extension (put there by [`crate::ClerkLayer`], or by
/// `axum::Extension(verifier)`), else the router state when the state is a `Verifier`
/// (`.with_state(verifier)`). Verification runs inline when the key is in memory and on
/// tokio's blocking pool otherwise ([`clerk_verify::request::Step`]), so a JWKS fetch never
/// stalls the executor. `Err` is a server-side problem only (no verifier to be found, logged at
/// error level with the fix); a missing or bad token is `Ok(Authentication::SignedOut(..))`,
/// and so is a verification that could not complete on the blocking pool
/// (`jwk-remote-failed-to-load`, answered 503 like a key source that is down).
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
    let spawn = tokio::task::spawn_blocking;
    Ok(answers
        .authenticate_session(verifier, authorization, cookies, spawn)
        .await)
}

/// The request's [`Answers`], shared by every extractor and [`crate::ClerkLayer`] (which puts
/// them in before the handler runs and reads them afterwards).
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
