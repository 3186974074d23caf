//! Clerk's `has()`: what a session's claims grant, decided as `@clerk/shared`'s
//! `authorization.ts` decides it (`createCheckAuthorization`).
//!
//! Five dimensions, each asked or not: an organization role, an organization permission (both
//! need an active organization; `org:` is added where it is missing), a feature (`fea`), a plan
//! (`pla`), and a recent verification (`fva`). [`Claims::has`] passes when at least one is
//! asked and every one asked passes. A feature or plan is asked as `name` (an organization or a
//! user item), `o:name` / `org:name` / `organization:name` (organization items only), or
//! `u:name` / `user:name` (user items only).
//!
//! Where we are stricter than Clerk: an ask that is not one of those forms (another scope, a
//! second colon, an empty name, a comma, a space or a control character) never matches, where
//! Clerk reads `o:a:b` as `o:a` and `o:` as a feature named `o`; and an empty role or
//! permission never matches.

use crate::claims::{Claims, Org};
use crate::error::Error;
use std::fmt;
use std::str::FromStr;

/// What [`Claims::has`] is asked, as Clerk's `has({ role, permission, feature, plan,
/// reverification })`: every field set must pass, and at least one must be set.
///
/// ```
/// use clerk_verify::claims::{Has, Reverification};
///
/// let ask = Has::new().plan("o:pro").reverification(Reverification::Strict);
/// assert_eq!(ask.plan.as_deref(), Some("o:pro"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Has {
    /// An organization role (`org:admin`, or `admin`: `org:` is added when missing).
    pub role: Option<String>,
    /// An organization permission (`org:invoices:read`; `org:` is added when missing).
    pub permission: Option<String>,
    /// A feature from `fea`: `name`, `o:name` (also `org:`, `organization:`), `u:name` (`user:`).
    pub feature: Option<String>,
    /// A plan from `pla`, scoped like a feature.
    pub plan: Option<String>,
    /// A verification recent enough, from `fva`.
    pub reverification: Option<Reverification>,
}

impl Has {
    /// Asks nothing (which [`Claims::has`] never grants: something must be asked).
    pub fn new() -> Has {
        Has::default()
    }

    /// Asks for the organization role `role`.
    pub fn role(mut self, role: impl Into<String>) -> Has {
        self.role = Some(role.into());
        self
    }

    /// Asks for the organization permission `permission`.
    pub fn permission(mut self, permission: impl Into<String>) -> Has {
        self.permission = Some(permission.into());
        self
    }

    /// Asks for the feature `feature`.
    pub fn feature(mut self, feature: impl Into<String>) -> Has {
        self.feature = Some(feature.into());
        self
    }

    /// Asks for the plan `plan`.
    pub fn plan(mut self, plan: impl Into<String>) -> Has {
        self.plan = Some(plan.into());
        self
    }

    /// Asks for a verification at least as recent as `reverification`.
    pub fn reverification(mut self, reverification: Reverification) -> Has {
        self.reverification = Some(reverification);
        self
    }
}

/// Which factors a [`Reverification`] looks at (Clerk's `SessionVerificationLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerificationLevel {
    /// `first_factor`: the first factor (password, code, ...).
    FirstFactor,
    /// `second_factor`: the second factor, or the first for a user without one.
    SecondFactor,
    /// `multi_factor`: both factors, or the first for a user without a second.
    MultiFactor,
}

impl VerificationLevel {
    /// Clerk's name: `first_factor`, `second_factor` or `multi_factor`.
    pub const fn as_str(self) -> &'static str {
        match self {
            VerificationLevel::FirstFactor => "first_factor",
            VerificationLevel::SecondFactor => "second_factor",
            VerificationLevel::MultiFactor => "multi_factor",
        }
    }
}

/// How recent a verification must be: one of Clerk's presets, or a level with minutes
/// (Clerk's `ReverificationConfig`). A session passes when its `fva` claim says the factors of
/// the level were verified less than `after_minutes` ago.
///
/// Written (and parsed, [`FromStr`]) as the preset's name or `level:minutes`:
///
/// ```
/// use clerk_verify::claims::{Reverification, VerificationLevel};
///
/// assert_eq!("strict".parse(), Ok(Reverification::Strict));
/// let custom: Reverification = "multi_factor:30".parse().unwrap();
/// assert_eq!(
///     custom,
///     Reverification::Custom { level: VerificationLevel::MultiFactor, after_minutes: 30 }
/// );
/// assert_eq!(Reverification::Lax.after_minutes(), 1440);
/// assert_eq!(custom.to_string(), "multi_factor:30");
/// assert!("strict:10".parse::<Reverification>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reverification {
    /// `strict_mfa`: both factors within 10 minutes.
    StrictMfa,
    /// `strict`: the second factor within 10 minutes.
    Strict,
    /// `moderate`: the second factor within 60 minutes.
    Moderate,
    /// `lax`: the second factor within a day (1440 minutes).
    Lax,
    /// `level` within `after_minutes` (more than 0; 0 is never met, as in Clerk).
    Custom {
        /// The factors that must be recent.
        level: VerificationLevel,
        /// How recent, in minutes.
        after_minutes: u32,
    },
}

impl Reverification {
    /// The factors that must be recent.
    pub const fn level(self) -> VerificationLevel {
        match self {
            Reverification::StrictMfa => VerificationLevel::MultiFactor,
            Reverification::Strict | Reverification::Moderate | Reverification::Lax => {
                VerificationLevel::SecondFactor
            }
            Reverification::Custom { level, .. } => level,
        }
    }

    /// How recent they must be, in minutes.
    pub const fn after_minutes(self) -> u32 {
        match self {
            Reverification::StrictMfa | Reverification::Strict => 10,
            Reverification::Moderate => 60,
            Reverification::Lax => 1440,
            Reverification::Custom { after_minutes, .. } => after_minutes,
        }
    }

    /// The preset's name (`strict_mfa`, `strict`, `moderate`, `lax`); `None` for a custom one.
    pub const fn preset(self) -> Option<&'static str> {
        match self {
            Reverification::StrictMfa => Some("strict_mfa"),
            Reverification::Strict => Some("strict"),
            Reverification::Moderate => Some("moderate"),
            Reverification::Lax => Some("lax"),
            Reverification::Custom { .. } => None,
        }
    }
}

impl fmt::Display for Reverification {
    /// The preset's name, or `level:minutes`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.preset() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}:{}", self.level().as_str(), self.after_minutes()),
        }
    }
}

impl FromStr for Reverification {
    type Err = Error;

    /// A preset's name, or `first_factor:N`, `second_factor:N`, `multi_factor:N` with N minutes
    /// (1 or more); anything else is `config-invalid`.
    fn from_str(text: &str) -> Result<Reverification, Error> {
        let preset = match text {
            "strict_mfa" => Some(Reverification::StrictMfa),
            "strict" => Some(Reverification::Strict),
            "moderate" => Some(Reverification::Moderate),
            "lax" => Some(Reverification::Lax),
            _ => None,
        };
        if let Some(preset) = preset {
            return Ok(preset);
        }
        let bad = || {
            Error::config(format!(
                "reverification {text:?}: expected strict_mfa, strict, moderate, lax, or \
                 first_factor, second_factor or multi_factor with minutes (second_factor:30)"
            ))
        };
        let (level, minutes) = text.split_once(':').ok_or_else(bad)?;
        let level = match level {
            "first_factor" => VerificationLevel::FirstFactor,
            "second_factor" => VerificationLevel::SecondFactor,
            "multi_factor" => VerificationLevel::MultiFactor,
            _ => return Err(bad()),
        };
        // Digits only: `u32::from_str` would also take a leading `+`.
        if minutes.is_empty() || !minutes.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        match minutes.parse::<u32>() {
            Ok(after_minutes) if after_minutes > 0 => Ok(Reverification::Custom {
                level,
                after_minutes,
            }),
            _ => Err(bad()),
        }
    }
}

/// Which of a session's items a feature or plan ask looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Org,
    User,
    Either,
}

impl Scope {
    /// Whether an item of the claim's scope (`o`, `u`, `ou`, `uo`) answers this ask. Items of
    /// any other scope answer none (Clerk's `splitByScope` drops them).
    fn admits(self, item_scope: &str) -> bool {
        let (org, user) = match item_scope {
            "o" => (true, false),
            "u" => (false, true),
            "ou" | "uo" => (true, true),
            _ => return false,
        };
        match self {
            Scope::Org => org,
            Scope::User => user,
            Scope::Either => org || user,
        }
    }
}

const ORG_SCOPES: [&str; 3] = ["o", "org", "organization"];
const USER_SCOPES: [&str; 2] = ["u", "user"];

/// Whether `ask` is a feature or plan [`Claims::has`] can match: `name`, or `scope:name` with
/// a scope Clerk knows, the name non-empty ASCII without spaces, commas or colons. A `const fn`
/// so that a typed requirement's name is checked when it is compiled.
pub(crate) const fn is_well_formed(ask: &str) -> bool {
    let bytes = ask.as_bytes();
    let mut colon = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' {
            if colon.is_some() {
                return false;
            }
            colon = Some(i);
        }
        i += 1;
    }
    let start = match colon {
        None => 0,
        Some(at) => {
            let (scope, _) = bytes.split_at(at);
            if !is_scope(scope) {
                return false;
            }
            at + 1
        }
    };
    if start == bytes.len() {
        return false;
    }
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        if !b.is_ascii_graphic() || b == b',' {
            return false;
        }
        i += 1;
    }
    true
}

const fn is_scope(scope: &[u8]) -> bool {
    let mut i = 0;
    while i < ORG_SCOPES.len() {
        if eq(scope, ORG_SCOPES[i].as_bytes()) {
            return true;
        }
        i += 1;
    }
    let mut i = 0;
    while i < USER_SCOPES.len() {
        if eq(scope, USER_SCOPES[i].as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The scope and name of a well-formed ask; `None` for any other.
fn parse_ask(ask: &str) -> Option<(Scope, &str)> {
    if !is_well_formed(ask) {
        return None;
    }
    Some(match ask.split_once(':') {
        None => (Scope::Either, ask),
        Some((scope, name)) if ORG_SCOPES.contains(&scope) => (Scope::Org, name),
        Some((_, name)) => (Scope::User, name),
    })
}

/// `Ok` when `ask` is a feature or plan name [`Claims::has`] can match, else `config-invalid`
/// saying why; `what` names it in the message (`feature`, `plan`).
pub(crate) fn check_name(what: &str, ask: &str) -> Result<(), Error> {
    if is_well_formed(ask) {
        return Ok(());
    }
    Err(Error::config(format!(
        "{what} {ask:?}: expected a name, or o:, org:, organization:, u: or user: and a name \
         (ASCII, no spaces, commas or further colons)"
    )))
}

/// `value` without any leading `org:` (Clerk's `prefixWithOrg` compares what follows).
fn without_org(value: &str) -> &str {
    let mut rest = value;
    while let Some(r) = rest.strip_prefix("org:") {
        rest = r;
    }
    rest
}

impl Org {
    /// Whether the member has this role, `org:` added to either side where it is missing (as
    /// Clerk's `has({ role })`): `"org:admin"` and `"admin"` both ask for `org:admin`.
    pub fn has_role(&self, role: &str) -> bool {
        let asked = without_org(role);
        !self.id.is_empty()
            && !asked.is_empty()
            && self
                .role
                .as_deref()
                .is_some_and(|mine| !mine.is_empty() && without_org(mine) == asked)
    }

    /// Whether the member has this permission (e.g. `"org:memberships:manage"`; `org:` is added
    /// when missing, as Clerk's `has({ permission })`).
    pub fn has_permission(&self, permission: &str) -> bool {
        let asked = without_org(permission);
        !self.id.is_empty()
            && !asked.is_empty()
            && self
                .permissions
                .iter()
                .any(|p| p.strip_prefix("org:") == Some(asked))
    }
}

/// One dimension's verdict: asked and met, asked and not met, or not asked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Fail,
    Skip,
}

impl Verdict {
    fn of(asked: bool, met: impl FnOnce() -> bool) -> Verdict {
        match (asked, asked && met()) {
            (false, _) => Verdict::Skip,
            (true, true) => Verdict::Pass,
            (true, false) => Verdict::Fail,
        }
    }
}

impl Claims {
    /// Clerk's `has()`: whether the session meets everything `ask` asks, with at least one
    /// thing asked (an empty [`Has`] is `false`, as is a session without a user).
    ///
    /// ```
    /// # use clerk_verify::claims::{Has, Reverification};
    /// # use clerk_verify::{Verifier, VerifyOptions};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default()).unwrap();
    /// let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix())
    ///     .claim("v", 2)
    ///     .claim("pla", "o:pro")
    ///     .claim("fea", "o:reports,u:export")
    ///     .claim("fva", serde_json::json!([3, 5]))
    ///     .sign(key);
    /// let claims = verifier.verify(&token)?;
    /// assert!(claims.has(&Has::new().plan("pro").feature("user:export")));
    /// assert!(claims.has(&Has::new().feature("o:reports").reverification(Reverification::Strict)));
    /// assert!(!claims.has(&Has::new().feature("u:reports")));
    /// assert!(!claims.has(&Has::new().role("admin"))); // no active organization
    /// assert!(!claims.has(&Has::new()));
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn has(&self, ask: &Has) -> bool {
        if self.sub.is_empty() {
            return false;
        }
        let org = match (&ask.role, &ask.permission) {
            (None, None) => Verdict::Skip,
            (role, permission) => Verdict::of(true, || {
                role.as_deref().is_none_or(|r| self.has_role(r))
                    && permission.as_deref().is_none_or(|p| self.has_permission(p))
            }),
        };
        let billing = match (&ask.feature, &ask.plan) {
            (None, None) => Verdict::Skip,
            (feature, plan) => Verdict::of(true, || {
                feature.as_deref().is_none_or(|f| self.has_feature(f))
                    && plan.as_deref().is_none_or(|p| self.has_plan(p))
            }),
        };
        let reverification = Verdict::of(ask.reverification.is_some(), || {
            ask.reverification.is_some_and(|r| self.is_reverified(r))
        });
        let all = [org, billing, reverification];
        all.contains(&Verdict::Pass) && !all.contains(&Verdict::Fail)
    }

    /// Whether the active organization role is `role` (`"org:admin"` or `"admin"`: `org:` is
    /// added where missing, as Clerk's `has({ role })`). `false` without an active organization.
    pub fn has_role(&self, role: &str) -> bool {
        self.org.as_ref().is_some_and(|o| o.has_role(role))
    }

    /// Whether the active organization grants `permission` (e.g. `"org:invoices:read"`; `org:`
    /// is added when missing). `false` without an active organization.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.org
            .as_ref()
            .is_some_and(|o| o.has_permission(permission))
    }

    /// Whether the `fea` claim grants `feature`: `name` (an organization or a user feature),
    /// `o:name` / `org:name` / `organization:name` (organization features only), or `u:name` /
    /// `user:name` (user features only). A malformed ask is `false`.
    pub fn has_feature(&self, feature: &str) -> bool {
        let Some((scope, name)) = parse_ask(feature) else {
            return false;
        };
        let in_org = || self.org_features.iter().any(|f| f == name);
        let in_user = || self.user_features.iter().any(|f| f == name);
        match scope {
            Scope::Org => in_org(),
            Scope::User => in_user(),
            Scope::Either => in_org() || in_user(),
        }
    }

    /// Whether the `pla` claim grants `plan`, asked as a feature is ([`Claims::has_feature`]).
    /// A `pla` item without a scope makes this `false` for every plan, as in Clerk.
    pub fn has_plan(&self, plan: &str) -> bool {
        let Some((scope, name)) = parse_ask(plan) else {
            return false;
        };
        let mut found = false;
        for item in &self.plans {
            let Some((item_scope, item_name)) = item.split_once(':') else {
                return false;
            };
            found |= item_name == name && scope.admits(item_scope);
        }
        found
    }

    /// Whether the `fva` claim says the session's factors were verified recently enough for
    /// `reverification`. `false` without `fva`, with an age below -1, or when no factor was
    /// ever verified (`[-1, -1]`).
    ///
    /// A level falls back to the first factor for a user without a second (second factor `-1`);
    /// `multi_factor` fails for a user with a second factor but no first.
    pub fn is_reverified(&self, reverification: Reverification) -> bool {
        let Some([first, second]) = self.fva else {
            return false;
        };
        let valid = |age: i64| age >= -1;
        if !valid(first) || !valid(second) || (first == -1 && second == -1) {
            return false;
        }
        let minutes = i64::from(reverification.after_minutes());
        let fresh = |age: i64| age != -1 && minutes > age;
        match reverification.level() {
            VerificationLevel::FirstFactor => fresh(first),
            VerificationLevel::SecondFactor if second == -1 => fresh(first),
            VerificationLevel::SecondFactor => fresh(second),
            VerificationLevel::MultiFactor if second == -1 => fresh(first),
            VerificationLevel::MultiFactor => first != -1 && fresh(first) && fresh(second),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Payload;
    use serde_json::{json, Value};

    fn claims(v: Value) -> Claims {
        let json = v.to_string();
        Claims::from_payload(&Payload::read(json.as_bytes(), &[]).unwrap(), &json).unwrap()
    }

    fn session(extra: Value) -> Claims {
        let mut v = json!({"sub": "user_1", "exp": 1, "v": 2});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims(v)
    }

    #[test]
    fn features_by_scope() {
        let c = session(json!({"fea": "o:reports, u:export ,ou:both,uo:also,x:other"}));
        for (ask, expected) in [
            ("reports", true),
            ("o:reports", true),
            ("org:reports", true),
            ("organization:reports", true),
            ("u:reports", false),
            ("user:reports", false),
            ("export", true),
            ("u:export", true),
            ("user:export", true),
            ("o:export", false),
            ("o:both", true),
            ("u:both", true),
            ("org:also", true),
            ("user:also", true),
            // An unknown scope in the claim grants nothing.
            ("other", false),
            ("x:other", false),
            // Malformed asks never match (Clerk reads `o:reports:x` as `o:reports`).
            ("team:reports", false),
            ("o:reports:x", false),
            ("o:", false),
            ("", false),
            ("o: reports", false),
            ("reports,export", false),
        ] {
            assert_eq!(c.has_feature(ask), expected, "{ask}");
            assert_eq!(c.has(&Has::new().feature(ask)), expected, "{ask}");
        }
        assert!(!session(json!({})).has_feature("reports"));
    }

    #[test]
    fn plans_by_scope() {
        let c = session(json!({"pla": "u:free,o:pro"}));
        assert!(c.has_plan("pro") && c.has_plan("o:pro") && c.has_plan("org:pro"));
        assert!(!c.has_plan("u:pro") && !c.has_plan("user:pro"));
        assert!(c.has_plan("free") && c.has_plan("user:free") && !c.has_plan("o:free"));
        assert!(!c.has_plan("team"));
        // An item without a colon fails every plan check (Clerk's splitByScope throws).
        let broken = session(json!({"pla": "o:pro,legacy"}));
        assert!(!broken.has_plan("pro") && !broken.has_plan("legacy"));
        let trailing = session(json!({"pla": "o:pro,"}));
        assert!(!trailing.has_plan("pro"));
        assert!(!session(json!({"pla": ""})).has_plan("pro"));
        assert!(!session(json!({})).has_plan("pro"));
    }

    #[test]
    fn roles_and_permissions_need_an_organization() {
        let c = session(json!({"fea": "o:invoices",
            "o": {"id": "org_1", "rol": "admin", "per": "read", "fpm": "1"}}));
        assert!(c.has(&Has::new().role("org:admin")));
        assert!(c.has(&Has::new().role("admin")));
        assert!(c.has(&Has::new().role("org:org:admin")));
        assert!(!c.has(&Has::new().role("member")));
        assert!(c.has(&Has::new().permission("org:invoices:read")));
        assert!(c.has(&Has::new().permission("invoices:read")));
        assert!(!c.has(&Has::new().permission("org:invoices:write")));
        assert!(c.has(&Has::new().role("admin").permission("invoices:read")));
        assert!(!c.has(&Has::new().role("admin").permission("invoices:write")));
        assert!(!c.has(&Has::new().role("")) && !c.has(&Has::new().role("org:")));
        // Without an organization, no role or permission (a user feature is still had).
        let alone = session(json!({"fea": "u:invoices"}));
        assert!(!alone.has(&Has::new().role("admin")));
        assert!(!alone.has(&Has::new().permission("invoices:read")));
        assert!(alone.has(&Has::new().feature("invoices")));
        // v1: the role is already prefixed; the permission list is as sent.
        let v1 = claims(
            json!({"sub": "u", "exp": 1, "org_id": "org_1", "org_role": "org:admin",
            "org_permissions": ["org:a:b", "c:d"]}),
        );
        assert!(v1.has_role("admin") && v1.has_permission("a:b") && v1.has_permission("org:a:b"));
        // Clerk prefixes the ask only: an unprefixed permission in the claim is never matched.
        assert!(!v1.has_permission("c:d"));
    }

    #[test]
    fn every_dimension_asked_must_pass() {
        let c = session(json!({"pla": "o:pro", "fea": "u:export", "fva": [2, -1]}));
        assert!(!c.has(&Has::new()), "nothing asked is never granted");
        assert!(c.has(&Has::new().plan("pro").feature("export")));
        assert!(!c.has(&Has::new().plan("pro").feature("reports")));
        assert!(c.has(
            &Has::new()
                .plan("pro")
                .reverification(Reverification::Strict)
        ));
        let stale = Reverification::Custom {
            level: VerificationLevel::FirstFactor,
            after_minutes: 2,
        };
        assert!(!c.has(&Has::new().plan("pro").reverification(stale)));
        // A role asked without an organization fails the whole check.
        assert!(!c.has(&Has::new().plan("pro").role("admin")));
        let mut nobody = c.clone();
        nobody.sub = String::new();
        assert!(!nobody.has(&Has::new().plan("pro")));
    }

    fn reverified(fva: Option<[i64; 2]>, r: Reverification) -> bool {
        let c = match fva {
            Some(fva) => session(json!({ "fva": fva })),
            None => session(json!({})),
        };
        c.is_reverified(r) && c.has(&Has::new().reverification(r))
    }

    #[test]
    fn reverification_follows_clerk() {
        use Reverification::*;
        let custom = |level, after_minutes| Custom {
            level,
            after_minutes,
        };
        let first = |m| custom(VerificationLevel::FirstFactor, m);
        let second = |m| custom(VerificationLevel::SecondFactor, m);
        let multi = |m| custom(VerificationLevel::MultiFactor, m);
        for (fva, r, expected) in [
            // Fresh means strictly under the minutes.
            (Some([9, 9]), Strict, true),
            (Some([9, 10]), Strict, false),
            (Some([100, 59]), Moderate, true),
            (Some([0, 1439]), Lax, true),
            (Some([0, 1440]), Lax, false),
            // second_factor: the second factor, or the first when there is none.
            (Some([5, -1]), Strict, true),
            (Some([50, -1]), Strict, false),
            (Some([-1, 5]), Strict, true),
            (Some([1, 50]), Strict, false),
            // multi_factor: both, the first when there is no second, never without a first.
            (Some([5, 5]), StrictMfa, true),
            (Some([50, 5]), StrictMfa, false),
            (Some([5, 50]), StrictMfa, false),
            (Some([5, -1]), StrictMfa, true),
            (Some([-1, 5]), StrictMfa, false),
            (Some([5, 5]), multi(6), true),
            // first_factor: the first factor only.
            (Some([5, 50]), first(10), true),
            (Some([-1, 5]), first(10), false),
            (Some([5, 50]), second(10), false),
            // Never verified, no claim, malformed ages, zero minutes: never.
            (Some([-1, -1]), Lax, false),
            (None, Lax, false),
            (Some([-2, 0]), Lax, false),
            (Some([0, -5]), Lax, false),
            (Some([0, 0]), first(0), false),
        ] {
            assert_eq!(reverified(fva, r), expected, "{fva:?} {r}");
        }
    }

    #[test]
    fn reverification_text() {
        for (text, r) in [
            ("strict_mfa", Reverification::StrictMfa),
            ("strict", Reverification::Strict),
            ("moderate", Reverification::Moderate),
            ("lax", Reverification::Lax),
            (
                "first_factor:1",
                Reverification::Custom {
                    level: VerificationLevel::FirstFactor,
                    after_minutes: 1,
                },
            ),
            (
                "second_factor:4294967295",
                Reverification::Custom {
                    level: VerificationLevel::SecondFactor,
                    after_minutes: u32::MAX,
                },
            ),
        ] {
            assert_eq!(text.parse::<Reverification>().unwrap(), r);
            assert_eq!(r.to_string(), text);
        }
        for bad in [
            "",
            "Strict",
            "strict ",
            "strict:10",
            "second_factor",
            "second_factor:",
            "second_factor:0",
            "second_factor:+5",
            "second_factor:-5",
            "second_factor:4294967296",
            "second_factor:10m",
            "third_factor:10",
        ] {
            let e = bad.parse::<Reverification>().unwrap_err();
            assert_eq!(e.reason(), crate::reason::CONFIG_INVALID, "{bad}");
        }
    }

    #[test]
    fn names() {
        for good in [
            "pro",
            "o:pro",
            "org:pro",
            "organization:pro",
            "u:pro",
            "user:a-b_c.d",
        ] {
            assert!(check_name("plan", good).is_ok(), "{good}");
        }
        for bad in [
            "", "o:", ":pro", "team:pro", "o:pro:x", "pro plan", "a,b", "é", "o:\n",
        ] {
            let e = check_name("plan", bad).unwrap_err();
            assert!(e.to_string().contains("plan"), "{bad}: {e}");
        }
    }
}
