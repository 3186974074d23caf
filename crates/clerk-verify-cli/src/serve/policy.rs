//! A location's requirements from `/auth`'s query string, so that one server serves every
//! route: `?role=org:admin`, `?permission=org:invoices:read` (repeatable), `?org=required`,
//! `?feature=reports` and `?plan=o:pro` (repeatable; scoped as in Clerk's `has()`),
//! `?reverification=strict` (a preset, or `second_factor:30`); for machine tokens
//! `?accepts=api_key,m2m_token` (the kinds of token the location accepts, instead of the
//! server's `--accepts-token`) and `?scope=read:invoices` (repeatable).
//!
//! The query is written by the operator in the proxy's configuration, so it is read strictly:
//! an unknown parameter, a second `role`, `reverification` or `accepts`, an empty value, a value
//! that can never match (the core's `Policy::validate`), a requirement no accepted kind of token
//! can meet (a scope where only sessions are accepted, a role where only machines are) or bad
//! percent-encoding is a configuration error (500), never a requirement silently dropped. A typo
//! such as `roles=` must not open an admin route to every member.

use clerk_verify::claims::Reverification;
use clerk_verify::options::{AcceptsToken, TokenKind};
use clerk_verify::request::Policy;

/// What a location asks of a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Location {
    /// The requirements.
    pub policy: Policy,
    /// The kinds of token accepted (`?accepts=`); `None`: the server's `--accepts-token`.
    pub accepts: Option<AcceptsToken>,
}

impl Location {
    /// The kinds of token the location accepts, `default` (the server's) unless the query
    /// names them; `Err` when a requirement can never be met by any of them.
    pub fn accepts(&self, default: AcceptsToken) -> Result<AcceptsToken, String> {
        let accepts = self.accepts.unwrap_or(default);
        let p = &self.policy;
        if let Some(scope) = p.scopes.first() {
            if !accepts.accepts_machines() {
                return Err(format!(
                    "scope={scope:?} is a machine token's, but this location accepts only \
                     session tokens: add accepts=api_key, m2m_token or oauth_token"
                ));
            }
        }
        // A machine has no organization role, permission, feature, plan or verification.
        let session_only = p.role.is_some()
            || !p.permissions.is_empty()
            || !p.features.is_empty()
            || !p.plans.is_empty()
            || p.reverification.is_some();
        if session_only && !accepts.accepts(TokenKind::SessionToken) {
            return Err(format!(
                "this location accepts only machine tokens ({accepts}), which never have a \
                 role, permission, feature, plan or reverification: the requirement would \
                 refuse every request"
            ));
        }
        Ok(accepts)
    }
}

/// What a query asks; `Err` says what is wrong with it (for the operator's log).
pub fn from_query(query: Option<&str>) -> Result<Location, String> {
    let mut policy = Policy::new();
    let mut accepts = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        let value = decode(value)?;
        if value.is_empty() {
            return Err(format!("the query parameter {name:?} has no value"));
        }
        match name.as_str() {
            "role" if policy.role.is_some() => {
                return Err("the query names more than one role; a session has one".into())
            }
            "role" => policy = policy.role(value),
            "permission" => policy = policy.permission(value),
            "org" if value == "required" => policy = policy.org_required(),
            "org" => return Err(format!("org={value:?}: the only value is \"required\"")),
            "feature" => policy = policy.feature(value),
            "plan" => policy = policy.plan(value),
            "reverification" if policy.reverification.is_some() => {
                return Err("the query names more than one reverification".into())
            }
            "reverification" => {
                let level: Reverification = value.parse().map_err(|e| format!("{e}"))?;
                policy = policy.reverification(level);
            }
            "scope" => policy = policy.scope(value),
            // One list: two could only disagree or repeat each other.
            "accepts" if accepts.is_some() => {
                return Err(
                    "the query names accepts more than once; give one comma-separated list".into(),
                )
            }
            "accepts" => {
                let kinds =
                    AcceptsToken::parse(&value).map_err(|e| format!("accepts={value:?}: {e}"))?;
                accepts = Some(kinds);
            }
            _ => {
                return Err(format!(
                    "unknown query parameter {name:?}: /auth takes role, permission, \
                     org=required, feature, plan, reverification, accepts and scope"
                ))
            }
        }
    }
    policy.validate().map_err(|e| e.to_string())?;
    Ok(Location { policy, accepts })
}

/// Percent-decoding (`%3A` → `:`); `+` stays itself, as no Clerk role or permission has a space.
fn decode(text: &str) -> Result<String, String> {
    let bad = || format!("bad percent-encoding in the query: {text:?}");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let text = String::from_utf8(out).map_err(|_| bad())?;
    if text.chars().any(char::is_control) {
        return Err(bad());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements() {
        assert_eq!(from_query(None).unwrap(), Location::default());
        assert_eq!(from_query(Some("")).unwrap(), Location::default());
        let p = from_query(Some("role=org:admin")).unwrap().policy;
        assert_eq!(p.role.as_deref(), Some("org:admin"));
        let p = from_query(Some("permission=org:a:read&&permission=org%3Ab%3Awrite"))
            .unwrap()
            .policy;
        assert_eq!(p.permissions, ["org:a:read", "org:b:write"]);
        let p = from_query(Some("org=required")).unwrap().policy;
        assert!(p.org_required && p.role.is_none());
        let all = from_query(Some("org=required&role=org:admin&permission=org:x:y"))
            .unwrap()
            .policy;
        assert_eq!(
            all.to_string(),
            "organization, role org:admin, permission org:x:y"
        );
        let p = from_query(Some(
            "feature=reports&feature=u%3Aexport&plan=o:pro&reverification=strict_mfa",
        ))
        .unwrap()
        .policy;
        assert_eq!(p.features, ["reports", "u:export"]);
        assert_eq!(p.plans, ["o:pro"]);
        assert_eq!(p.reverification, Some(Reverification::StrictMfa));
        let p = from_query(Some("reverification=second_factor%3A30"))
            .unwrap()
            .policy;
        assert_eq!(p.to_string(), "reverification second_factor:30");
        assert!(!p.is_empty());
    }

    #[test]
    fn mistakes_are_errors_not_open_doors() {
        for bad in [
            "roles=org:admin",
            "role=org:admin&role=org:member",
            "role=",
            "role",
            "permission=",
            "org=optional",
            "org=",
            "role=org%3",
            "role=org%zzadmin",
            "role=%ff",
            "role=a%0Ab",
            "role=org:",
            "page=2",
            "features=reports",
            "feature=",
            "feature=team:reports",
            "feature=o:reports:x",
            "feature=two%20words",
            "feature=a,b",
            "plan=",
            "plan=:pro",
            "reverification=",
            "reverification=Strict",
            "reverification=strict&reverification=lax",
            "reverification=second_factor",
            "reverification=second_factor:0",
            "reverification=10",
            "accepts=",
            "accepts=cookie",
            "accepts=API_KEY",
            "accepts=api_key&accepts=api_key",
            "accepts=api_key&accepts=m2m_token",
            "scope=",
            "scopes=read",
        ] {
            let e = from_query(Some(bad)).expect_err(bad);
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(from_query(Some("roles=x")).unwrap_err().contains("roles"));
    }

    #[test]
    fn machine_tokens_per_location() {
        let l = from_query(Some("accepts=api_key,m2m_token&scope=read&scope=a%3Awrite")).unwrap();
        assert_eq!(
            l.accepts,
            Some(AcceptsToken::API_KEY.with(TokenKind::M2mToken))
        );
        assert_eq!(l.policy.scopes, ["read", "a:write"]);
        assert_eq!(
            l.accepts(AcceptsToken::SESSION_TOKEN).unwrap(),
            AcceptsToken::API_KEY.with(TokenKind::M2mToken)
        );
        // Without accepts=, the server's kinds.
        let l = from_query(Some("scope=read")).unwrap();
        assert_eq!(l.accepts, None);
        assert_eq!(l.accepts(AcceptsToken::ANY).unwrap(), AcceptsToken::ANY);
        let any = from_query(Some("accepts=any&role=org:admin")).unwrap();
        assert_eq!(
            any.accepts(AcceptsToken::SESSION_TOKEN).unwrap(),
            AcceptsToken::ANY
        );
    }

    #[test]
    fn requirements_no_accepted_kind_can_meet_are_errors() {
        // A scope where only sessions are accepted (the server's default, or the query's).
        let e = from_query(Some("scope=read"))
            .unwrap()
            .accepts(AcceptsToken::SESSION_TOKEN)
            .unwrap_err();
        assert!(e.contains("scope"), "{e}");
        let l = from_query(Some("accepts=session_token&scope=read")).unwrap();
        assert!(l.accepts(AcceptsToken::ANY).is_err());
        // A session's requirement where only machines are accepted.
        for q in [
            "accepts=api_key&role=org:admin",
            "accepts=m2m_token&permission=org:a:read",
            "accepts=oauth_token&feature=reports",
            "accepts=api_key&plan=pro",
            "accepts=api_key,m2m_token,oauth_token&reverification=strict",
        ] {
            let l = from_query(Some(q)).unwrap();
            assert!(l.accepts(AcceptsToken::SESSION_TOKEN).is_err(), "{q}");
        }
        // An organization can be an API key's.
        let l = from_query(Some("accepts=api_key&org=required")).unwrap();
        assert!(l.accepts(AcceptsToken::SESSION_TOKEN).is_ok());
    }
}
