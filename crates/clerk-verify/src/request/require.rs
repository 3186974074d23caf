//! What a route may require beyond a valid token: of a signed-in user, an organization role, a
//! permission, an active organization, a feature, a plan, a recent verification (Clerk's
//! `has()`, [`crate::claims::Has`], one dimension at a time so that a refusal says which); of a
//! machine, scopes. Refusals are [`Forbidden`] (403); a verification that is not recent enough
//! answers as Clerk's `reverificationErrorResponse` does, with the hint its frontend's
//! `useReverification()` reads.
//!
//! Two forms of the same rules: [`Policy`], a value (warp filters, tower layers, the gateway's
//! query string), and [`Requirement`] / [`MachineRequirement`], types (actix-web and axum
//! extractors, Rocket guards, where the rule must be named in the handler's signature).

use crate::claims::{check_name, is_well_formed, Reverification};
use crate::error::Error;
use crate::machine::MachineAuth;
use crate::reason;
use crate::request::{Auth, Forbidden, Principal};
use std::marker::PhantomData;

/// Requirements on a signed-in user or a machine, checked in order: an active organization, the
/// role, every permission, every feature, every plan, every scope, then the reverification (last,
/// so that verifying again is asked for only when it would let the user in). The default
/// requires nothing.
///
/// Roles and permissions get `org:` where it is missing; features and plans are asked as in
/// Clerk's `has()`: `name`, `o:name` (organization items only), `u:name` (user items only). A
/// session has no scopes, and a machine no role, permission, feature, plan or verification
/// (Clerk's `has()` is false for machines); an API key whose subject is an organization has
/// that organization.
///
/// ```
/// use clerk_verify::claims::Reverification;
/// use clerk_verify::request::Policy;
///
/// let policy = Policy::new()
///     .role("org:admin")
///     .permission("org:invoices:read")
///     .plan("o:pro")
///     .reverification(Reverification::Strict);
/// policy.validate()?;
/// assert_eq!(
///     policy.to_string(),
///     "role org:admin, permission org:invoices:read, plan o:pro, reverification strict"
/// );
/// let machines = Policy::new().scope("read:invoices");
/// assert_eq!(machines.to_string(), "scope read:invoices");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Policy {
    /// The organization role required (e.g. `org:admin`; `admin` means the same).
    pub role: Option<String>,
    /// Organization permissions required, all of them (e.g. `org:invoices:read`).
    pub permissions: Vec<String>,
    /// Whether an active organization is required (implied by a role or a permission).
    pub org_required: bool,
    /// Features required (`fea`), all of them (e.g. `reports`, `o:reports`, `u:export`).
    pub features: Vec<String>,
    /// Plans required (`pla`), all of them (e.g. `pro`, `o:pro`, `u:free`).
    pub plans: Vec<String>,
    /// How recently the user must have verified (`fva`).
    pub reverification: Option<Reverification>,
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

    /// Requires the feature `feature` (in addition to any others).
    pub fn feature(mut self, feature: impl Into<String>) -> Policy {
        self.features.push(feature.into());
        self
    }

    /// Requires the plan `plan` (in addition to any others).
    pub fn plan(mut self, plan: impl Into<String>) -> Policy {
        self.plans.push(plan.into());
        self
    }

    /// Requires a verification at least as recent as `reverification`.
    pub fn reverification(mut self, reverification: Reverification) -> Policy {
        self.reverification = Some(reverification);
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
            && self.features.is_empty()
            && self.plans.is_empty()
            && self.reverification.is_none()
            && self.scopes.is_empty()
    }

    /// `Err` (`config-invalid`) when a requirement can never be met because it is malformed:
    /// an empty role or permission, a feature or plan that is not `name` or a known scope and
    /// a name, a custom reverification of 0 minutes. Such a policy refuses everyone; call this
    /// where the policy is built, to hear of the mistake at start-up instead.
    pub fn validate(&self) -> Result<(), Error> {
        let org_name = |what: &str, value: &str| {
            if value.trim_start_matches("org:").is_empty() {
                Err(Error::config(format!("{what} {value:?} is empty")))
            } else {
                if let Some(scope) = self.scopes.iter().find(|s| s.is_empty()) {
                    return Err(Error::config(format!("scope {scope:?} is empty")));
                }
                Ok(())
            }
        };
        if let Some(role) = &self.role {
            org_name("role", role)?;
        }
        for permission in &self.permissions {
            org_name("permission", permission)?;
        }
        for feature in &self.features {
            check_name("feature", feature)?;
        }
        for plan in &self.plans {
            check_name("plan", plan)?;
        }
        if let Some(r) = self.reverification {
            if r.after_minutes() == 0 {
                return Err(Error::config(format!(
                    "reverification {r}: the minutes must be more than 0"
                )));
            }
        }
        if let Some(scope) = self.scopes.iter().find(|s| s.is_empty()) {
            return Err(Error::config(format!("scope {scope:?} is empty")));
        }
        Ok(())
    }

    /// `Ok` when the machine meets every requirement, else the first one missing as a
    /// [`Forbidden`]: an organization is an API key's `org_…` subject; roles, permissions,
    /// features, plans and verifications are never met by a machine; every scope must have been
    /// granted.
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
        if let Some(feature) = self.features.first() {
            return Err(Forbidden::new(
                reason::MISSING_FEATURE,
                format!("this route requires the feature {feature:?}, which a machine token does not have"),
            ));
        }
        if let Some(plan) = self.plans.first() {
            return Err(Forbidden::new(
                reason::MISSING_PLAN,
                format!(
                    "this route requires the plan {plan:?}, which a machine token does not have"
                ),
            ));
        }
        if let Some(missing) = self.scopes.iter().find(|s| !machine.has_scope(s)) {
            return Err(missing_scope(missing));
        }
        if let Some(r) = self.reverification {
            return Err(Forbidden::new(
                reason::REVERIFICATION_ERROR,
                format!("this route requires a verification as recent as {r}, which a machine token cannot give"),
            ));
        }
        Ok(())
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
        if let Some(missing) = self.features.iter().find(|f| !auth.has_feature(f)) {
            return Err(Forbidden::new(
                reason::MISSING_FEATURE,
                format!("this route requires the feature {missing:?}"),
            ));
        }
        if let Some(missing) = self.plans.iter().find(|p| !auth.has_plan(p)) {
            return Err(Forbidden::new(
                reason::MISSING_PLAN,
                format!("this route requires the plan {missing:?}"),
            ));
        }
        // A session has no scopes.
        if let Some(scope) = self.scopes.first() {
            return Err(missing_scope(scope));
        }
        if let Some(r) = self.reverification {
            if !auth.is_reverified(r) {
                return Err(Forbidden::reverification(r));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Policy {
    /// `role org:admin, permission org:invoices:read, feature reports, plan pro, reverification
    /// strict`, `organization`, or `nothing`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if self.org_required {
            parts.push("organization".to_owned());
        }
        if let Some(role) = &self.role {
            parts.push(format!("role {role}"));
        }
        parts.extend(self.permissions.iter().map(|p| format!("permission {p}")));
        parts.extend(self.features.iter().map(|p| format!("feature {p}")));
        parts.extend(self.plans.iter().map(|p| format!("plan {p}")));
        if let Some(r) = self.reverification {
            parts.push(format!("reverification {r}"));
        }
        parts.extend(self.scopes.iter().map(|s| format!("scope {s}")));
        if parts.is_empty() {
            f.write_str("nothing")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// A requirement named by a type, for guards that take it as a type parameter
/// (`Require<HasRole<Admin>>` in the actix-web, axum and Rocket adapters). [`HasRole`],
/// [`HasPermission`], [`HasFeature`], [`HasPlan`] and [`Reverified`] are the usual ones.
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

/// A feature, named by a marker type: `Require<HasFeature<Reports>>`. Checked when compiled: a
/// name that is not `name` or a known scope and a name (`o:`, `org:`, `organization:`, `u:`,
/// `user:`) does not build.
///
/// ```
/// struct Reports;
/// impl clerk_verify::request::Feature for Reports {
///     const FEATURE: &'static str = "o:reports";
/// }
/// # use clerk_verify::request::{HasFeature, Requirement};
/// # let _check = <HasFeature<Reports> as Requirement>::check;
/// ```
///
/// ```compile_fail
/// # use clerk_verify::request::{Feature, HasFeature, Requirement};
/// struct Typo;
/// impl Feature for Typo {
///     const FEATURE: &'static str = "team:reports"; // no such scope: does not build
/// }
/// let check = <HasFeature<Typo> as Requirement>::check;
/// println!("{:p}", check as *const ());
/// ```
pub trait Feature: Send + Sync + 'static {
    /// The feature, as Clerk's `has({ feature })` takes it (e.g. `"reports"`, `"o:reports"`).
    const FEATURE: &'static str;
}

/// A plan, named by a marker type: `Require<HasPlan<Pro>>`; checked when compiled, as a
/// [`Feature`] is.
///
/// ```
/// struct Pro;
/// impl clerk_verify::request::Plan for Pro {
///     const PLAN: &'static str = "o:pro";
/// }
/// ```
pub trait Plan: Send + Sync + 'static {
    /// The plan, as Clerk's `has({ plan })` takes it (e.g. `"pro"`, `"o:pro"`, `"u:free"`).
    const PLAN: &'static str;
}

/// How recent a verification must be, named by a marker type: `Require<Reverified<Strict>>`.
/// Checked when compiled: a custom level of 0 minutes does not build.
///
/// ```
/// use clerk_verify::claims::Reverification;
///
/// struct Strict;
/// impl clerk_verify::request::ReverificationLevel for Strict {
///     const REVERIFICATION: Reverification = Reverification::Strict;
/// }
/// ```
pub trait ReverificationLevel: Send + Sync + 'static {
    /// One of Clerk's presets, or a level with minutes.
    const REVERIFICATION: Reverification;
}

/// The [`Requirement`] "has the feature `F::FEATURE`" (403 `missing-feature`).
pub struct HasFeature<F: Feature>(PhantomData<fn() -> F>);

/// The [`Requirement`] "has the plan `P::PLAN`" (403 `missing-plan`).
pub struct HasPlan<P: Plan>(PhantomData<fn() -> P>);

/// The [`Requirement`] "verified as recently as `R::REVERIFICATION`" (403
/// `reverification-error`, with Clerk's reverification hint in the body).
pub struct Reverified<R: ReverificationLevel>(PhantomData<fn() -> R>);

impl<F: Feature> HasFeature<F> {
    const WELL_FORMED: () = assert!(
        is_well_formed(F::FEATURE),
        "Feature::FEATURE must be a name, or o:, org:, organization:, u: or user: and a name"
    );
}

impl<P: Plan> HasPlan<P> {
    const WELL_FORMED: () = assert!(
        is_well_formed(P::PLAN),
        "Plan::PLAN must be a name, or o:, org:, organization:, u: or user: and a name"
    );
}

impl<R: ReverificationLevel> Reverified<R> {
    const WELL_FORMED: () = assert!(
        R::REVERIFICATION.after_minutes() > 0,
        "ReverificationLevel::REVERIFICATION must allow more than 0 minutes"
    );
}

impl<F: Feature> Requirement for HasFeature<F> {
    fn check(auth: &Auth) -> Result<(), Forbidden> {
        let () = Self::WELL_FORMED;
        auth.require_feature(F::FEATURE)
    }
}

impl<P: Plan> Requirement for HasPlan<P> {
    fn check(auth: &Auth) -> Result<(), Forbidden> {
        let () = Self::WELL_FORMED;
        auth.require_plan(P::PLAN)
    }
}

impl<R: ReverificationLevel> Requirement for Reverified<R> {
    fn check(auth: &Auth) -> Result<(), Forbidden> {
        let () = Self::WELL_FORMED;
        auth.require_reverification(R::REVERIFICATION)
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
