//! The extractors ([`ClerkAuth`], `Option<ClerkAuth>`, [`Require`]) and [`authenticate`], the
//! once-per-request authentication they and the layer share.

use crate::rejection::{not_signed_in, ClerkRejection, LOG_TARGET, VERIFIER_MISSING_FIX};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use clerk_verify::request::{HasPermission, HasRole, Requirement};
use clerk_verify::{Auth, Authentication, Verifier};
use std::any::Any;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

/// The signed-in user: an extractor that answers 401 (or 503 when the keys cannot be had, 500
/// when the verifier is misconfigured or missing) for any other request. Dereferences to
/// [`Auth`], so `auth.require_role("org:admin")?` works in a handler returning
/// `Result<_, ClerkRejection>`.
///
/// `Option<ClerkAuth>` is for routes that also serve signed-out visitors: `None` when the
/// request has no valid session (no token, a bad or expired token), but a key source that is
/// down (503) or a misconfigured verifier (500) still refuses the request, so an outage never
/// silently turns signed-in users into anonymous ones.
///
/// ```
/// use axum::{routing::get, Router};
/// use clerk_axum::{ClerkAuth, ClerkLayer, ClerkRejection};
/// # let verifier = clerk_verify::Verifier::from_jwks(
/// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
///
/// async fn me(auth: ClerkAuth) -> String {
///     auth.user_id().to_owned()
/// }
///
/// async fn hello(auth: Option<ClerkAuth>) -> String {
///     format!("hello, {}", auth.as_ref().map_or("stranger", |a| a.user_id()))
/// }
///
/// async fn admin(auth: ClerkAuth) -> Result<&'static str, ClerkRejection> {
///     auth.require_role("org:admin")?;
///     Ok("hello, admin")
/// }
///
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .route("/hello", get(hello))
///     .route("/admin", get(admin))
///     .layer(ClerkLayer::new(verifier));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClerkAuth(pub Auth);

impl ClerkAuth {
    /// The [`Auth`] inside.
    pub fn into_inner(self) -> Auth {
        self.0
    }
}

impl Deref for ClerkAuth {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl From<ClerkAuth> for Auth {
    fn from(auth: ClerkAuth) -> Auth {
        auth.0
    }
}

impl<S: Send + Sync + 'static> FromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        signed_in(authenticate(parts, state).await?)
    }
}

impl<S: Send + Sync + 'static> OptionalFromRequestParts<S> for ClerkAuth {
    type Rejection = ClerkRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match authenticate(parts, state).await?.into_optional() {
            Ok(auth) => Ok(auth.map(ClerkAuth)),
            Err(server_fault) => Err(ClerkRejection::signed_out(&server_fault)),
        }
    }
}

/// A signed-in user who meets the [`Requirement`] `R`: 401 (like [`ClerkAuth`]) when signed
/// out, then 403 with `R`'s reason. Dereferences to [`Auth`]. [`RequireRole`] and
/// [`RequirePermission`] name the usual requirements.
///
/// ```
/// use axum::{routing::get, Router};
/// use clerk_axum::{ClerkLayer, Permission, RequirePermission, RequireRole, Role};
/// # let verifier = clerk_verify::Verifier::from_jwks(
/// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
///
/// struct Admin;
/// impl Role for Admin {
///     const ROLE: &'static str = "org:admin";
/// }
///
/// struct ReadInvoices;
/// impl Permission for ReadInvoices {
///     const PERMISSION: &'static str = "org:invoices:read";
/// }
///
/// async fn admin(admin: RequireRole<Admin>) -> String {
///     format!("hello admin {}", admin.user_id())
/// }
///
/// async fn invoices(_reader: RequirePermission<ReadInvoices>) -> &'static str {
///     "[]"
/// }
///
/// let app: Router = Router::new()
///     .route("/admin", get(admin))
///     .route("/invoices", get(invoices))
///     .layer(ClerkLayer::new(verifier));
/// ```
pub struct Require<R: Requirement> {
    auth: Auth,
    requirement: PhantomData<fn() -> R>,
}

/// [`Require`] the organization role `R::ROLE` (403 `missing-role`).
pub type RequireRole<R> = Require<HasRole<R>>;
/// [`Require`] the organization permission `P::PERMISSION` (403 `missing-permission`).
pub type RequirePermission<P> = Require<HasPermission<P>>;

impl<R: Requirement> Require<R> {
    /// The [`Auth`] inside.
    pub fn into_inner(self) -> Auth {
        self.auth
    }
}

impl<R: Requirement> Deref for Require<R> {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.auth
    }
}

impl<R: Requirement> std::fmt::Debug for Require<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Require")
            .field("requirement", &std::any::type_name::<R>())
            .field("auth", &self.auth)
            .finish()
    }
}

impl<R: Requirement, S: Send + Sync + 'static> FromRequestParts<S> for Require<R> {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ClerkAuth(auth) = signed_in(authenticate(parts, state).await?)?;
        R::check(&auth)?;
        Ok(Require {
            auth,
            requirement: PhantomData,
        })
    }
}

pub(crate) fn signed_in(authentication: Authentication) -> Result<ClerkAuth, ClerkRejection> {
    match authentication {
        Authentication::SignedIn(auth) => Ok(ClerkAuth(auth)),
        other => Err(not_signed_in(other)),
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
    let kept = parts
        .extensions
        .get_or_insert_default::<Authenticated>()
        .clone();
    if let Some(known) = kept.get() {
        return Ok(known.clone());
    }
    let Some(verifier) = verifier(parts, state) else {
        log::error!(target: LOG_TARGET, "{VERIFIER_MISSING_FIX}");
        return Err(ClerkRejection::verifier_missing());
    };
    let step = verifier.authenticate_headers(
        parts.headers.get(AUTHORIZATION).map(|v| v.as_bytes()),
        parts.headers.get_all(COOKIE).iter().map(|v| v.as_bytes()),
    );
    let authentication = step.finish(tokio::task::spawn_blocking).await;
    Ok(kept.get_or_init(|| authentication).clone())
}

/// The request's authentication once known, shared by every extractor and [`crate::ClerkLayer`]
/// (which puts an empty one in before the handler runs and reads it from the response's side).
#[derive(Debug, Clone, Default)]
pub(crate) struct Authenticated(Arc<OnceLock<Authentication>>);

impl Deref for Authenticated {
    type Target = OnceLock<Authentication>;

    fn deref(&self) -> &OnceLock<Authentication> {
        &self.0
    }
}

pub(crate) fn verifier<'a, S: 'static>(parts: &'a Parts, state: &'a S) -> Option<&'a Verifier> {
    // A state of another type cannot be asked for a Verifier without a `FromRef` bound, which
    // would make every extractor unusable in routers whose state has no Verifier (the layer's
    // case); such apps add the layer or an `Extension`.
    parts
        .extensions
        .get::<Verifier>()
        .or_else(|| (state as &dyn Any).downcast_ref::<Verifier>())
}
