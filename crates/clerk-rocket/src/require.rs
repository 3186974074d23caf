//! [`RequireRole`] and [`RequirePermission`]: guards for an organization role or permission.
//!
//! Rocket guards are types, not values, so the role or permission is named by a marker type
//! ([`Role`], [`Permission`]) rather than passed as a string.

use crate::cache::refuse;
use crate::error::ClerkError;
use crate::guard::{verifier_managed, ClerkAuth};
use clerk_verify::Auth;
use rocket::outcome::{try_outcome, Outcome};
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

/// An organization role, for [`RequireRole`]: a marker type naming the role.
///
/// ```
/// struct Admin;
/// impl clerk_rocket::Role for Admin {
///     const ROLE: &'static str = "org:admin";
/// }
/// ```
pub trait Role: Send + Sync + 'static {
    /// The role, `org:`-prefixed as in Clerk's session tokens (e.g. `"org:admin"`).
    const ROLE: &'static str;
}

/// An organization permission, for [`RequirePermission`]: a marker type naming the permission.
///
/// ```
/// struct ReadInvoices;
/// impl clerk_rocket::Permission for ReadInvoices {
///     const PERMISSION: &'static str = "org:invoices:read";
/// }
/// ```
pub trait Permission: Send + Sync + 'static {
    /// The permission, as Clerk names it (e.g. `"org:invoices:read"`).
    const PERMISSION: &'static str;
}

/// Request guard: signed in (else 401, like [`ClerkAuth`]) with the organization role `R::ROLE`
/// (else 403 `missing-role`). Dereferences to [`Auth`].
///
/// ```no_run
/// # use rocket::get;
/// use clerk_rocket::{RequireRole, Role};
///
/// struct Admin;
/// impl Role for Admin {
///     const ROLE: &'static str = "org:admin";
/// }
///
/// #[get("/admin")]
/// fn admin(admin: RequireRole<Admin>) -> String {
///     format!("hello admin {}", admin.user_id())
/// }
/// ```
pub struct RequireRole<R: Role> {
    auth: ClerkAuth,
    role: PhantomData<fn() -> R>,
}

impl<R: Role> RequireRole<R> {
    /// The signed-in guard.
    pub fn into_inner(self) -> ClerkAuth {
        self.auth
    }
}

impl<R: Role> fmt::Debug for RequireRole<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireRole")
            .field("role", &R::ROLE)
            .field("auth", &self.auth)
            .finish()
    }
}

impl<R: Role> Deref for RequireRole<R> {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.auth
    }
}

#[rocket::async_trait]
impl<'r, R: Role> FromRequest<'r> for RequireRole<R> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        let auth = try_outcome!(ClerkAuth::from_request(req).await);
        if let Err(refusal) = auth.require_role(R::ROLE) {
            return refuse(req, refusal);
        }
        Outcome::Success(RequireRole {
            auth,
            role: PhantomData,
        })
    }
}

impl<R: Role> Sentinel for RequireRole<R> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "RequireRole")
    }
}

/// Request guard: signed in (else 401, like [`ClerkAuth`]) with the organization permission
/// `P::PERMISSION` (else 403 `missing-permission`). Dereferences to [`Auth`].
///
/// ```no_run
/// # use rocket::get;
/// use clerk_rocket::{Permission, RequirePermission};
///
/// struct ReadInvoices;
/// impl Permission for ReadInvoices {
///     const PERMISSION: &'static str = "org:invoices:read";
/// }
///
/// #[get("/invoices")]
/// fn invoices(reader: RequirePermission<ReadInvoices>) -> String {
///     format!("invoices for {}", reader.user_id())
/// }
/// ```
pub struct RequirePermission<P: Permission> {
    auth: ClerkAuth,
    permission: PhantomData<fn() -> P>,
}

impl<P: Permission> RequirePermission<P> {
    /// The signed-in guard.
    pub fn into_inner(self) -> ClerkAuth {
        self.auth
    }
}

impl<P: Permission> fmt::Debug for RequirePermission<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequirePermission")
            .field("permission", &P::PERMISSION)
            .field("auth", &self.auth)
            .finish()
    }
}

impl<P: Permission> Deref for RequirePermission<P> {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.auth
    }
}

#[rocket::async_trait]
impl<'r, P: Permission> FromRequest<'r> for RequirePermission<P> {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        let auth = try_outcome!(ClerkAuth::from_request(req).await);
        if let Err(refusal) = auth.require_permission(P::PERMISSION) {
            return refuse(req, refusal);
        }
        Outcome::Success(RequirePermission {
            auth,
            permission: PhantomData,
        })
    }
}

impl<P: Permission> Sentinel for RequirePermission<P> {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "RequirePermission")
    }
}
