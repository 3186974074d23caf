//! What a route may require beyond a valid token: of a signed-in user, an organization role,
//! a permission, an active organization; of a machine, scopes. Refusals are [`Forbidden`]
//! (403).
//!
//! Two forms of the same rules: [`Policy`], a value (warp filters, tower layers, the gateway's
//! query string), and [`Requirement`] / [`MachineRequirement`], types (actix-web and axum
//! extractors, Rocket guards, where the rule must be named in the handler's signature).

use crate::machine::MachineAuth;
use crate::reason;
use crate::request::{Auth, Forbidden, Principal};
use std::marker::PhantomData;

/// Requirements on a signed-in user or a machine, checked in order: an active organization,
/// the role, every permission, then every scope. The default requires nothing.
///
/// A session has no scopes, and a machine no role or permission (Clerk's `has()` is false for
/// machines); an API key whose subject is an organization has that organization.
///
/// ```
/// use clerk_verify::request::Policy;
///
/// let policy = Policy::new().role("org:admin").permission("org:invoices:read");
/// assert_eq!(policy.to_string(), "role org:admin, permission org:invoices:read");
/// let machines = Policy::new().scope("read:invoices");
/// assert_eq!(machines.to_string(), "scope read:invoices");
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
    /// Machine-token scopes required, all of them (exact match; 403 `missing-scope`).
    pub scopes: Vec<String>,
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

    /// Requires the machine-token scope `scope` (in addition to any others).
    pub fn scope(mut self, scope: impl Into<String>) -> Policy {
        self.scopes.push(scope.into());
        self
    }

    /// Whether nothing is required.
    pub fn is_empty(&self) -> bool {
        self.role.is_none()
            && self.permissions.is_empty()
            && !self.org_required
            && self.scopes.is_empty()
    }

    /// `Ok` when the machine meets every requirement, else the first one missing as a
    /// [`Forbidden`]: an organization is an API key's `org_…` subject; roles and permissions
    /// are never met by a machine; every scope must have been granted.
    ///
    /// ```
    /// # use clerk_verify::request::Policy;
    /// # use clerk_verify::{machine::parse_backend_response, options::TokenKind};
    /// let key = parse_backend_response(
    ///     TokenKind::ApiKey,
    ///     br#"{"id":"ak_1","subject":"user_1","scopes":["read"]}"#,
    /// )?;
    /// assert!(Policy::new().scope("read").check_machine(&key).is_ok());
    /// let refused = Policy::new().scope("write").check_machine(&key).unwrap_err();
    /// assert_eq!(refused.reason(), "missing-scope");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn check_machine(&self, machine: &MachineAuth) -> Result<(), Forbidden> {
        if self.org_required && machine.org_id().is_none() {
            return Err(Forbidden::new(
                reason::MISSING_ORGANIZATION,
                "this route requires an organization; this machine token does not act for one",
            ));
        }
        if let Some(role) = &self.role {
            return Err(Forbidden::new(
                reason::MISSING_ROLE,
                format!("this route requires the organization role {role:?}, which a machine token does not have"),
            ));
        }
        if let Some(permission) = self.permissions.first() {
            return Err(Forbidden::new(
                reason::MISSING_PERMISSION,
                format!(
                    "this route requires the organization permission {permission:?}, which a \
                     machine token does not have"
                ),
            ));
        }
        match self.scopes.iter().find(|s| !machine.has_scope(s)) {
            Some(missing) => Err(missing_scope(missing)),
            None => Ok(()),
        }
    }

    /// [`Policy::check`] for a session, [`Policy::check_machine`] for a machine.
    pub fn check_principal(&self, principal: &Principal) -> Result<(), Forbidden> {
        match principal {
            Principal::Session(auth) => self.check(auth),
            Principal::Machine(machine) => self.check_machine(machine),
        }
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
        // A session has no scopes.
        match self.scopes.first() {
            Some(scope) => Err(missing_scope(scope)),
            None => Ok(()),
        }
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
        parts.extend(self.scopes.iter().map(|s| format!("scope {s}")));
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

fn missing_scope(scope: &str) -> Forbidden {
    Forbidden::new(
        reason::MISSING_SCOPE,
        format!("this route requires a machine token with the scope {scope:?}"),
    )
}

/// A requirement on a machine named by a type, for guards that take it as a type parameter
/// (`RequireScope<ReadInvoices>` in an adapter, from [`crate::adapter::machine_required`]).
///
/// ```
/// use clerk_verify::machine::MachineAuth;
/// use clerk_verify::request::{Forbidden, MachineRequirement};
///
/// /// Machines of the `acme` organization only.
/// struct AcmeKeys;
/// impl MachineRequirement for AcmeKeys {
///     fn check(machine: &MachineAuth) -> Result<(), Forbidden> {
///         match machine.org_id() {
///             Some("org_acme") => Ok(()),
///             _ => Err(Forbidden::new("not-acme", "this route is for acme's API keys")),
///         }
///     }
/// }
/// ```
pub trait MachineRequirement: Send + Sync + 'static {
    /// `Ok` when `machine` meets the requirement, else the 403 refusal.
    fn check(machine: &MachineAuth) -> Result<(), Forbidden>;
}

/// A machine-token scope, named by a marker type: `RequireScope<ReadInvoices>`.
///
/// ```
/// struct ReadInvoices;
/// impl clerk_verify::request::Scope for ReadInvoices {
///     const SCOPE: &'static str = "read:invoices";
/// }
/// ```
pub trait Scope: Send + Sync + 'static {
    /// The scope, exactly as granted to the token.
    const SCOPE: &'static str;
}

/// The [`MachineRequirement`] "was granted the scope `S::SCOPE`" (403 `missing-scope`).
pub struct HasScope<S: Scope>(PhantomData<fn() -> S>);

impl<S: Scope> MachineRequirement for HasScope<S> {
    fn check(machine: &MachineAuth) -> Result<(), Forbidden> {
        if machine.has_scope(S::SCOPE) {
            Ok(())
        } else {
            Err(missing_scope(S::SCOPE))
        }
    }
}
