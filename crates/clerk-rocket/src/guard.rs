//! The request guards: [`ClerkAuth`] (signed in), [`OptionalAuth`] (signed in or not) and
//! [`Require`] (signed in and meeting a [`Requirement`]), and the [`Sentinel`] of every Clerk
//! guard.

use crate::cache::guard;
use crate::error::{ClerkError, LOG_TARGET};
use crate::machine::{ClerkMachine, ClerkPrincipal, RequireMachine};
use crate::page::{ClerkPage, RequireSignIn};
use clerk_verify::adapter;
use clerk_verify::options::Accepts;
use clerk_verify::request::{MachineRequirement, Requirement};
use clerk_verify::Verifier;
use rocket::http::{Method, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};

clerk_verify::adapter_auth! {
    /// The signed-in user: a request guard that fails with [`ClerkError`] (401, or 503 when the
    /// keys cannot be had, 500 when the verifier is misconfigured; rendered by [`catchers()`])
    /// for any other request. Dereferences to [`Auth`](crate::Auth), so
    /// `auth.require_role("org:admin")?` works in a handler returning `Result<_, ClerkError>`,
    /// as in the crate's example. On OPTIONS requests (CORS preflights) it never authenticates
    /// and forwards instead.
    ///
    /// For routes that also serve signed-out visitors take [`OptionalAuth`], not
    /// `Option<ClerkAuth>`: Rocket turns every failure of the inner guard into `None`, so
    /// `Option<ClerkAuth>` would also treat a key-source outage as "signed out".
    ///
    /// [`catchers()`]: crate::catchers
    pub struct ClerkAuth;
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClerkAuth {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        if req.method() == Method::Options {
            // Preflights are never authenticated (and never refused for a missing token).
            return Outcome::Forward(Status::Unauthorized);
        }
        guard(req, |a| adapter::signed_in(a).map(ClerkAuth)).await
    }
}

clerk_verify::adapter_optional! {
    /// Optional authentication: `Some(user)` when signed in, `None` when the request has no
    /// valid session (no token, a bad or expired token). A key source that is down (503) or a
    /// misconfigured verifier (500) still refuses the request, so an outage never silently
    /// turns signed-in users into anonymous ones. Dereferences to `Option<Auth>` (the crate's
    /// example has one). On OPTIONS requests it never authenticates: `None`.
    pub struct OptionalAuth;
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for OptionalAuth {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        if req.method() == Method::Options {
            return Outcome::Success(OptionalAuth(None));
        }
        guard(req, |a| adapter::optional(a).map(OptionalAuth)).await
    }
}

clerk_verify::adapter_require! {
    /// A signed-in user who meets the [`Requirement`] `R`: 401 (like [`ClerkAuth`]) when signed
    /// out, then 403 with `R`'s reason. Dereferences to [`Auth`](crate::Auth). [`RequireRole`],
    /// [`RequirePermission`], [`RequireFeature`], [`RequirePlan`] and [`RequireReverification`]
    /// (403 `reverification-error` with Clerk's hint) name the usual requirements; a type of
    /// your own implementing [`Requirement`] names any other. On OPTIONS requests it forwards, as [`ClerkAuth`] does.
    ///
    /// ```no_run
    /// use clerk_rocket::{Permission, RequirePermission};
    /// use rocket::get;
    ///
    /// struct ReadInvoices;
    /// impl Permission for ReadInvoices {
    ///     const PERMISSION: &'static str = "org:invoices:read";
    /// }
    ///
    /// #[get("/invoices")]
    /// fn invoices(_reader: RequirePermission<ReadInvoices>) -> &'static str {
    ///     "invoices"
    /// }
    /// ```
    pub struct Require;
}

#[rocket::async_trait]
impl<'r, R: Requirement> FromRequest<'r> for Require<R> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        if req.method() == Method::Options {
            return Outcome::Forward(Status::Unauthorized);
        }
        guard(req, |a| adapter::required::<R>(a).map(Require::new)).await
    }
}

/// The [`Sentinel`] of every Clerk guard: a launch with a route using one aborts unless a
/// [`Verifier`] is managed. Rocket's abort message names the guard but not what it lacks, hence
/// the log line.
macro_rules! needs_verifier {
    ($($guard:ident $(<$($p:ident: $bound:path),*>)?),*) => {$(
        impl$(<$($p: $bound),*>)? Sentinel for $guard$(<$($p),*>)? {
            fn abort(rocket: &Rocket<Ignite>) -> bool {
                !verifier_managed(rocket, stringify!($guard))
            }
        }
    )*};
}

needs_verifier!(
    ClerkAuth,
    OptionalAuth,
    Require<R: Requirement>,
    ClerkPage,
    RequireSignIn,
    ClerkMachine<K: Accepts>,
    RequireMachine<R: MachineRequirement, K: Accepts>,
    ClerkPrincipal
);

fn verifier_managed(rocket: &Rocket<Ignite>, guard: &str) -> bool {
    if rocket.state::<Verifier>().is_some() {
        return true;
    }
    log::error!(
        target: LOG_TARGET,
        "clerk_rocket: launching with a route that uses `{guard}`, but no \
         `clerk_verify::Verifier` is managed; call `rocket.manage(verifier)`"
    );
    false
}
