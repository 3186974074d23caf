//! What a route may require of a signed-in user beyond the session: an organization role, a
//! permission, an active organization. Refusals are [`Forbidden`] (403).
//!
//! Two forms of the same rules: [`Policy`], a value (warp filters, tower layers, the gateway's
//! query string), and [`Requirement`], a type (actix-web and axum extractors, Rocket guards, where
//! the rule must be named in the handler's signature).

use crate::reason;
use crate::request::{Auth, Forbidden};
use std::marker::PhantomData;

/// Requirements on a signed-in user, checked in order: an active organization, the role, then
/// every permission. The default requires nothing.
///
/// ```
/// use clerk_verify::request::Policy;
///
/// let policy = Policy::new().role("org:admin").permission("org:invoices:read");
/// assert_eq!(policy.to_string(), "role org:admin, permission org:invoices:read");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// The organization role required (exact, `org:`-prefixed, e.g. `org:admin`).
    pub role: Option<String>,
    /// Organization permissions required, all of them (e.g. `org:invoices:read`).
    pub permissions: Vec<String>,
    /// Whether an active organization is required (implied by a role or a permission).
    pub org_required: bool,
}

impl Policy {
    /// Requires nothing.
    pub fn new() -> Policy {
        Policy::default()
    }

    /// Requires the organization role `role`.
    pub fn role(mut self, role: impl Into<String>) -> Policy {
        self.role = Some(role.into());
        self
    }

    /// Requires the organization permission `permission` (in addition to any others).
    pub fn permission(mut self, permission: impl Into<String>) -> Policy {
        self.permissions.push(permission.into());
        self
    }

    /// Requires an active organization.
    pub fn org_required(mut self) -> Policy {
        self.org_required = true;
        self
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.permissions.is_empty() && !self.org_required
    }

    /// `Ok` when `auth` meets every requirement, else the first one missing as a [`Forbidden`].
    pub fn check(&self, auth: &Auth) -> Result<(), Forbidden> {
        if self.org_required && auth.org().is_none() {
            return Err(Forbidden::new(
                reason::MISSING_ORGANIZATION,
                "this route requires an active organization; select one in your Clerk session",
            ));
        }
        if let Some(role) = &self.role {
            if !auth.has_role(role) {
                return Err(Forbidden::new(
                    reason::MISSING_ROLE,
                    format!("this route requires the organization role {role:?}"),
                ));
            }
        }
        if let Some(missing) = self.permissions.iter().find(|p| !auth.has_permission(p)) {
            return Err(Forbidden::new(
                reason::MISSING_PERMISSION,
                format!("this route requires the organization permission {missing:?}"),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for Policy {
    /// `role org:admin, permission org:invoices:read`, `organization`, or `nothing`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.org_required {
            parts.push("organization".to_owned());
        }
        if let Some(role) = &self.role {
            parts.push(format!("role {role}"));
        }
        parts.extend(self.permissions.iter().map(|p| format!("permission {p}")));
        if parts.is_empty() {
            f.write_str("nothing")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// A requirement named by a type, for guards that take it as a type parameter
/// (`Require<HasRole<Admin>>` in the actix-web and Rocket adapters).
///
/// ```
/// use clerk_verify::request::{Forbidden, Requirement};
/// use clerk_verify::Auth;
///
/// /// Users of the `acme` organization only.
/// struct AcmeMember;
/// impl Requirement for AcmeMember {
///     fn check(auth: &Auth) -> Result<(), Forbidden> {
///         match auth.org() {
///             Some(org) if org.slug.as_deref() == Some("acme") => Ok(()),
///             _ => Err(Forbidden::new("not-acme", "this route is for acme's members")),
///         }
///     }
/// }
/// ```
pub trait Requirement: Send + Sync + 'static {
    /// `Ok` when `auth` meets the requirement, else the 403 refusal.
    fn check(auth: &Auth) -> Result<(), Forbidden>;
}

/// An organization role, named by a marker type: `Require<HasRole<Admin>>`.
///
/// ```
/// struct Admin;
/// impl clerk_verify::request::Role for Admin {
///     const ROLE: &'static str = "org:admin";
/// }
/// ```
pub trait Role: Send + Sync + 'static {
    /// The role, `org:`-prefixed as in Clerk's session tokens (e.g. `"org:admin"`).
    const ROLE: &'static str;
}

/// An organization permission, named by a marker type: `Require<HasPermission<ReadInvoices>>`.
///
/// ```
/// struct ReadInvoices;
/// impl clerk_verify::request::Permission for ReadInvoices {
///     const PERMISSION: &'static str = "org:invoices:read";
/// }
/// ```
pub trait Permission: Send + Sync + 'static {
    /// The permission, as Clerk names it (e.g. `"org:invoices:read"`).
    const PERMISSION: &'static str;
}

/// The [`Requirement`] "has the organization role `R::ROLE`" (403 `missing-role`).
pub struct HasRole<R: Role>(PhantomData<fn() -> R>);

/// The [`Requirement`] "has the organization permission `P::PERMISSION`" (403
/// `missing-permission`).
pub struct HasPermission<P: Permission>(PhantomData<fn() -> P>);

impl<R: Role> Requirement for HasRole<R> {
    fn check(auth: &Auth) -> Result<(), Forbidden> {
        auth.require_role(R::ROLE)
    }
}

impl<P: Permission> Requirement for HasPermission<P> {
    fn check(auth: &Auth) -> Result<(), Forbidden> {
        auth.require_permission(P::PERMISSION)
    }
}
