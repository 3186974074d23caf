//! The request guards: [`ClerkAuth`] (signed in), [`OptionalAuth`] (signed in or not) and
//! [`Require`] (signed in and meeting a [`Requirement`]).

use crate::cache::{authentication, refuse};
use crate::error::{not_signed_in, ClerkError, LOG_TARGET};
use clerk_verify::request::{HasPermission, HasRole, Requirement};
use clerk_verify::{Auth, Authentication, Verifier};
use rocket::http::{Method, Status};
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};
use std::marker::PhantomData;
use std::ops::Deref;

/// The signed-in user: a request guard that fails with [`ClerkError`] (401, or 503 when the
/// keys cannot be had, 500 when the verifier is misconfigured; rendered by [`catchers()`]) for
/// any other request. Dereferences to [`Auth`], so `auth.require_role("org:admin")?` works in a
/// handler returning `Result<_, ClerkError>`.
///
/// For routes that also serve signed-out visitors take [`OptionalAuth`], not
/// `Option<ClerkAuth>`: Rocket turns every failure of the inner guard into `None`, so
/// `Option<ClerkAuth>` would also treat a key-source outage as "signed out".
///
/// On OPTIONS requests (CORS preflights) it never authenticates and forwards instead.
///
/// ```no_run
/// use clerk_rocket::{ClerkAuth, ClerkError};
/// use rocket::get;
///
/// #[get("/me")]
/// fn me(auth: ClerkAuth) -> String {
///     auth.user_id().to_owned()
/// }
///
/// #[get("/admin")]
/// fn admin(auth: ClerkAuth) -> Result<&'static str, ClerkError> {
///     auth.require_role("org:admin")?;
///     Ok("welcome")
/// }
/// ```
///
/// [`catchers()`]: crate::catchers
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

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClerkAuth {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        if req.method() == Method::Options {
            // Preflights are never authenticated (and never refused for a missing token).
            return Outcome::Forward(Status::Unauthorized);
        }
        match authentication(req).await {
            Ok(Authentication::SignedIn(auth)) => Outcome::Success(ClerkAuth(auth.clone())),
            Ok(other) => refuse(req, not_signed_in(other)),
            Err(e) => refuse(req, e.clone()),
        }
    }
}

/// Optional authentication: `Some(user)` when signed in, `None` when the request has no valid
/// session (no token, a bad or expired token). A key source that is down (503) or a
/// misconfigured verifier (500) still refuses the request, so an outage never silently turns
/// signed-in users into anonymous ones. Dereferences to `Option<Auth>`.
///
/// Prefer it to Rocket's own `Option<ClerkAuth>`, which turns *every* failure of the inner
/// guard into `None`, outages included. On OPTIONS requests it never authenticates: `None`.
///
/// ```no_run
/// use clerk_rocket::OptionalAuth;
/// use rocket::get;
///
/// #[get("/hello")]
/// fn hello(auth: OptionalAuth) -> String {
///     let who = auth.as_ref().map_or("stranger", |a| a.user_id());
///     format!("hello, {who}")
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OptionalAuth(pub Option<Auth>);

impl OptionalAuth {
    /// The user, if signed in.
    pub fn into_inner(self) -> Option<Auth> {
        self.0
    }
}

impl Deref for OptionalAuth {
    type Target = Option<Auth>;

    fn deref(&self) -> &Option<Auth> {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for OptionalAuth {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        if req.method() == Method::Options {
            return Outcome::Success(OptionalAuth(None));
        }
        match authentication(req).await {
            Ok(authentication) => match authentication.clone().into_optional() {
                Ok(auth) => Outcome::Success(OptionalAuth(auth)),
                Err(server_fault) => refuse(req, ClerkError::signed_out(&server_fault)),
            },
            Err(e) => refuse(req, e.clone()),
        }
    }
}

/// A signed-in user who meets the [`Requirement`] `R`: 401 (like [`ClerkAuth`]) when signed
/// out, then 403 with `R`'s reason. Dereferences to [`Auth`]. [`RequireRole`] and
/// [`RequirePermission`] name the usual requirements; a type of your own implementing
/// [`Requirement`] names any other.
///
/// ```no_run
/// use clerk_rocket::{Permission, RequirePermission, RequireRole, Role};
/// use rocket::get;
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
/// #[get("/admin")]
/// fn admin(admin: RequireRole<Admin>) -> String {
///     format!("hello admin {}", admin.user_id())
/// }
///
/// #[get("/invoices")]
/// fn invoices(_reader: RequirePermission<ReadInvoices>) -> &'static str {
///     "invoices"
/// }
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

#[rocket::async_trait]
impl<'r, R: Requirement> FromRequest<'r> for Require<R> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        let ClerkAuth(auth) = try_outcome!(ClerkAuth::from_request(req).await);
        if let Err(forbidden) = R::check(&auth) {
            return refuse(req, forbidden.into());
        }
        Outcome::Success(Require {
            auth,
            requirement: PhantomData,
        })
    }
}

impl Sentinel for ClerkAuth {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "ClerkAuth")
    }
}

impl Sentinel for OptionalAuth {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "OptionalAuth")
    }
}

impl<R: Requirement> Sentinel for Require<R> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "Require")
    }
}

/// The [`Sentinel`] check of every Clerk guard: a launch with a route using one aborts unless a
/// [`Verifier`] is managed. Rocket's abort message names the guard but not what it lacks, hence
/// the log line.
pub(crate) fn verifier_managed(rocket: &Rocket<Ignite>, guard: &str) -> bool {
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
