//! [`ClerkAuth`], the request guard for a signed-in user, which the role and permission guards
//! build on.

use crate::cache::{authentication, refuse};
use crate::error::{ClerkError, LOG_TARGET};
use clerk_verify::{Auth, Authentication, Verifier};
use rocket::http::{Method, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};
use std::ops::Deref;

/// Request guard: the request carries a valid Clerk session token. Dereferences to [`Auth`].
///
/// Fails with [`ClerkError`] (401, or 503 / 500; rendered by [`catchers()`]). Use
/// `Option<ClerkAuth>` for routes that serve signed-out requests too: Rocket maps every failure
/// of the inner guard to `None`. On OPTIONS requests (CORS preflights) it never authenticates and
/// forwards instead.
///
/// ```no_run
/// # use rocket::get;
/// use clerk_rocket::ClerkAuth;
///
/// #[get("/whoami")]
/// fn whoami(auth: ClerkAuth) -> String {
///     auth.user_id().to_owned()
/// }
/// ```
///
/// [`catchers()`]: crate::catchers
#[derive(Debug, Clone)]
pub struct ClerkAuth(Auth);

impl ClerkAuth {
    /// The verified session.
    pub fn auth(&self) -> &Auth {
        &self.0
    }

    /// Consumes the guard into the verified session.
    pub fn into_inner(self) -> Auth {
        self.0
    }

    /// `Ok` when the active organization role is `role`, else the 403 refusal to return from
    /// the handler ([`Auth::require_role`]).
    ///
    /// ```no_run
    /// # use rocket::get;
    /// use clerk_rocket::{ClerkAuth, ClerkError};
    ///
    /// #[get("/reports/<org>")]
    /// fn reports(org: &str, auth: ClerkAuth) -> Result<String, ClerkError> {
    ///     auth.require_role("org:admin")?;
    ///     Ok(format!("reports of {org}"))
    /// }
    /// ```
    pub fn require_role(&self, role: &str) -> Result<&Auth, ClerkError> {
        self.0.require_role(role)?;
        Ok(&self.0)
    }

    /// `Ok` when the active organization grants `permission`, else the 403 refusal to return
    /// from the handler ([`Auth::require_permission`]).
    pub fn require_permission(&self, permission: &str) -> Result<&Auth, ClerkError> {
        self.0.require_permission(permission)?;
        Ok(&self.0)
    }
}

impl Deref for ClerkAuth {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl From<ClerkAuth> for Auth {
    fn from(guard: ClerkAuth) -> Auth {
        guard.0
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
            Ok(other) => refuse(req, ClerkError::from_authentication(other)),
            Err(e) => refuse(req, e.clone()),
        }
    }
}

impl Sentinel for ClerkAuth {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "ClerkAuth")
    }
}

/// The [`Sentinel`] check of every Clerk guard. Rocket's abort message names the guard but not
/// what it lacks, hence the log line.
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
