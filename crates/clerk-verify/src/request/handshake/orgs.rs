//! Clerk's `organizationSyncOptions`: path patterns that name an organization (`/orgs/:slug`,
//! `/orgs/:id/(.*)`) or the personal account (`/me`), and what a page whose path names another
//! one than the session's active organization needs: the handshake that activates it
//! (`organization_id=` in the handshake's query; the Frontend API decides whether the user may).
//!
//! Patterns are a subset of the `path-to-regexp` syntax Clerk's SDK takes (literal segments,
//! matched without regard to case; `:name`, one non-empty segment; a final `(.*)`; an optional
//! trailing `/`), checked when the verifier is built: a pattern we cannot read is a
//! configuration error, never a pattern that silently matches nothing.

use super::{path_of, Pages, MAX_HANDSHAKE_REDIRECTS};
use crate::claims::Org;
use crate::error::Error;
use crate::reason;
use crate::request::cookies::Cookies;
use crate::request::page::PageRequest;
use crate::request::{Auth, Authentication};

/// One compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    segments: Vec<Segment>,
    /// Ends with `(.*)`: any rest of the path, including none.
    rest: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// Most patterns of each kind, and the longest one (configuration, but bounded all the same).
const MAX_PATTERNS: usize = 64;
const MAX_PATTERN_LEN: usize = 512;

/// What a page's path asks to have active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// An organization, by id (`:id`) or slug (`:slug`).
    Organization {
        id: Option<String>,
        slug: Option<String>,
    },
    /// No organization: the personal account.
    PersonalAccount,
}

impl Target {
    /// Whether a session whose active organization is `active` must switch for this page.
    pub(crate) fn differs_from(&self, active: Option<&Org>) -> bool {
        match self {
            Target::Organization { id, slug } => {
                let slug_differs = slug
                    .as_deref()
                    .is_some_and(|s| active.and_then(|o| o.slug.as_deref()) != Some(s));
                let id_differs = id
                    .as_deref()
                    .is_some_and(|i| active.map(|o| o.id.as_str()) != Some(i));
                slug_differs || id_differs
            }
            Target::PersonalAccount => active.is_some(),
        }
    }

    /// The `organization_id` the handshake asks the Frontend API to activate (Clerk sends a
    /// slug in it too; empty for the personal account).
    pub(crate) fn organization_id(&self) -> &str {
        match self {
            Target::Organization {
                slug: Some(slug), ..
            } => slug,
            Target::Organization { id: Some(id), .. } => id,
            Target::Organization { .. } | Target::PersonalAccount => "",
        }
    }
}

/// The compiled `organizationSyncOptions`.
#[derive(Debug, Clone, Default)]
pub(crate) struct OrgMatcher {
    organizations: Vec<Pattern>,
    personal: Vec<Pattern>,
}

impl OrgMatcher {
    pub(crate) fn new(organizations: &[String], personal: &[String]) -> Result<OrgMatcher, Error> {
        let compile = |what: &str, patterns: &[String]| {
            if patterns.len() > MAX_PATTERNS {
                return Err(Error::config(format!(
                    "{what}: at most {MAX_PATTERNS} patterns"
                )));
            }
            patterns.iter().map(|p| compile(what, p)).collect()
        };
        Ok(OrgMatcher {
            organizations: compile(
                "organization_patterns (CLERK_ORGANIZATION_PATTERNS)",
                organizations,
            )?,
            personal: compile(
                "personal_account_patterns (CLERK_PERSONAL_ACCOUNT_PATTERNS)",
                personal,
            )?,
        })
    }

    /// Whether there is nothing to match.
    pub(crate) fn is_empty(&self) -> bool {
        self.organizations.is_empty() && self.personal.is_empty()
    }

    /// What the path (`/a/b`, no query) asks for, as Clerk's `OrganizationMatcher.findTarget`:
    /// the first organization pattern that matches and names an `id` or a `slug`, else the
    /// personal account if one of its patterns matches.
    pub(crate) fn find(&self, path: &str) -> Option<Target> {
        for pattern in &self.organizations {
            let Some(params) = pattern.matches(path) else {
                continue;
            };
            let param = |name: &str| {
                params
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            };
            if let Some(id) = param("id") {
                return Some(Target::Organization {
                    id: Some(id),
                    slug: None,
                });
            }
            if let Some(slug) = param("slug") {
                return Some(Target::Organization {
                    id: None,
                    slug: Some(slug),
                });
            }
            // Clerk: a match without `id` or `slug` names nothing, and ends the search for
            // an organization.
            return self.personal_target(path);
        }
        self.personal_target(path)
    }

    fn personal_target(&self, path: &str) -> Option<Target> {
        self.personal
            .iter()
            .any(|p| p.matches(path).is_some())
            .then_some(Target::PersonalAccount)
    }
}

impl Pages {
    /// The handshake that activates the organization a signed-in page's path names, when the
    /// session's active one differs (Clerk's `handleMaybeOrganizationSyncHandshake`). Past the
    /// loop limit the organization could not be activated (not a member, no such
    /// organization): the page is served with the session's own, as Clerk does.
    pub(super) fn organization_sync(
        &self,
        page: &PageRequest,
        jar: &Cookies<'_>,
        auth: &Auth,
        session: &str,
        suffixed: bool,
    ) -> Option<Authentication> {
        if self.orgs.is_empty() {
            return None;
        }
        let target = self.orgs.find(path_of(&page.url))?;
        if !target.differs_from(auth.org()) {
            return None;
        }
        if jar.redirect_count() >= MAX_HANDSHAKE_REDIRECTS {
            log::warn!(
                target: "clerk_verify::handshake",
                "the organization this page names could not be activated in \
                 {MAX_HANDSHAKE_REDIRECTS} handshakes (no such organization, or the user is not \
                 a member): serving the page with the session's active organization"
            );
            return None;
        }
        let reason = reason::ACTIVE_ORGANIZATION_MISMATCH;
        self.try_start(page, jar, reason, Some(session), suffixed)
    }
}

fn compile(what: &str, pattern: &str) -> Result<Pattern, Error> {
    let bad = |why: &str| {
        Err(Error::config(format!(
            "{what}: the pattern {pattern:?} {why} (supported: literal segments, `:name` \
             segments such as `:id` and `:slug`, and a final `(.*)`, e.g. /orgs/:slug/(.*))"
        )))
    };
    if pattern.len() > MAX_PATTERN_LEN {
        return bad("is too long");
    }
    let Some(body) = pattern.strip_prefix('/') else {
        return bad("does not start with /");
    };
    let body = body.strip_suffix('/').unwrap_or(body);
    let mut segments = Vec::new();
    let mut rest = false;
    if !body.is_empty() {
        let parts: Vec<&str> = body.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            if *part == "(.*)" {
                if !last {
                    return bad("has (.*) before its last segment");
                }
                rest = true;
            } else if let Some(name) = part.strip_prefix(':') {
                let ok = !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if !ok {
                    return bad("has a parameter that is not `:` and a name");
                }
                if segments.contains(&Segment::Param(name.to_owned())) {
                    return bad("names a parameter twice");
                }
                segments.push(Segment::Param(name.to_owned()));
            } else {
                let ok = !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~@".contains(&b));
                if !ok {
                    return bad("has a segment that is neither a plain word nor a parameter");
                }
                segments.push(Segment::Literal(part.to_ascii_lowercase()));
            }
        }
    }
    Ok(Pattern { segments, rest })
}

impl Pattern {
    /// The parameters of `path` if it matches.
    fn matches<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        let body = path.strip_prefix('/')?;
        let body = body.strip_suffix('/').unwrap_or(body);
        let mut parts = body.split('/').filter(|_| !body.is_empty());
        let mut params = Vec::new();
        for segment in &self.segments {
            let part = parts.next()?;
            match segment {
                Segment::Literal(literal) if part.eq_ignore_ascii_case(literal) => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => params.push((name.as_str(), part)),
            }
        }
        (self.rest || parts.next().is_none()).then_some(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(orgs: &[&str], personal: &[&str]) -> OrgMatcher {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        OrgMatcher::new(&own(orgs), &own(personal)).unwrap()
    }

    fn org(id: Option<&str>, slug: Option<&str>) -> Option<Target> {
        Some(Target::Organization {
            id: id.map(str::to_owned),
            slug: slug.map(str::to_owned),
        })
    }

    /// Clerk's own cases (`organizationMatcher.test.ts`).
    #[test]
    fn clerks_cases() {
        assert_eq!(matcher(&[], &[]).find("/orgs/123"), None);
        assert_eq!(
            matcher(&["/orgs/:id"], &[]).find("/orgs/123"),
            org(Some("123"), None)
        );
        assert_eq!(
            matcher(&["/orgs/:slug"], &[]).find("/orgs/my-org"),
            org(None, Some("my-org"))
        );
        assert_eq!(
            matcher(&[], &["/account"]).find("/account"),
            Some(Target::PersonalAccount)
        );
        // Organizations first.
        assert_eq!(
            matcher(&["/orgs/:id"], &["/orgs/:id"]).find("/orgs/123"),
            org(Some("123"), None)
        );
        assert_eq!(
            matcher(&["/orgs/:id/(.*)"], &[]).find("/orgs/123/settings"),
            org(Some("123"), None)
        );
        assert_eq!(
            matcher(&["/orgs/:id", "/teams/:id"], &[]).find("/teams/123"),
            org(Some("123"), None)
        );
        assert_eq!(matcher(&["/orgs/:id"], &[]).find("/users/123"), None);
    }

    #[test]
    fn path_to_regexp_details() {
        let m = matcher(&["/orgs/:slug"], &["/me/(.*)"]);
        // Case-insensitive literals, an optional trailing slash, one segment per parameter.
        assert_eq!(m.find("/ORGS/acme/"), org(None, Some("acme")));
        assert_eq!(m.find("/orgs/acme/more"), None);
        assert_eq!(m.find("/orgs/"), None);
        assert_eq!(m.find("/orgs"), None);
        // `(.*)` matches nothing too.
        assert_eq!(m.find("/me"), Some(Target::PersonalAccount));
        assert_eq!(m.find("/me/a/b"), Some(Target::PersonalAccount));
        // A match that names neither id nor slug: nothing.
        assert_eq!(matcher(&["/x/:other"], &[]).find("/x/1"), None);
    }

    #[test]
    fn unreadable_patterns_are_configuration_errors() {
        for bad in [
            "orgs/:id",
            "/orgs/:id/***",
            "/orgs/(.*)/x",
            "/orgs/:",
            "/orgs/:id/:id",
            "/a b",
            "/orgs/*",
        ] {
            let e = OrgMatcher::new(&[bad.to_owned()], &[]).unwrap_err();
            assert_eq!(e.reason(), "config-invalid", "{bad}");
        }
    }

    #[test]
    fn what_differs() {
        let active = Org {
            id: "org_1".into(),
            role: Some("org:admin".into()),
            slug: Some("acme".into()),
            permissions: Vec::new(),
        };
        let slug = |s: &str| Target::Organization {
            id: None,
            slug: Some(s.into()),
        };
        assert!(!slug("acme").differs_from(Some(&active)));
        assert!(slug("other").differs_from(Some(&active)));
        assert!(slug("acme").differs_from(None));
        let id = Target::Organization {
            id: Some("org_1".into()),
            slug: None,
        };
        assert!(!id.differs_from(Some(&active)));
        assert!(Target::PersonalAccount.differs_from(Some(&active)));
        assert!(!Target::PersonalAccount.differs_from(None));
        assert_eq!(slug("other").organization_id(), "other");
        assert_eq!(Target::PersonalAccount.organization_id(), "");
    }
}
