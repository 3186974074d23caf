//! A location's requirements from `/auth`'s query string, so that one server serves every
//! route: `?role=org:admin`, `?permission=org:invoices:read` (repeatable), `?org=required`,
//! `?feature=reports` and `?plan=o:pro` (repeatable; scoped as in Clerk's `has()`),
//! `?reverification=strict` (a preset, or `second_factor:30`).
//!
//! The query is written by the operator in the proxy's configuration, so it is read strictly:
//! an unknown parameter, a second `role` or `reverification`, an empty value, a value that can
//! never match (the core's `Policy::validate`) or bad percent-encoding is a configuration error
//! (500), never a requirement silently dropped. A typo such as `roles=` must not open an admin
//! route to every member.

use clerk_verify::claims::Reverification;
use clerk_verify::request::Policy;

/// The requirements a query names; `Err` says what is wrong with it (for the operator's log).
pub fn from_query(query: Option<&str>) -> Result<Policy, String> {
    let mut policy = Policy::new();
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
            _ => {
                return Err(format!(
                    "unknown query parameter {name:?}: /auth takes role, permission, \
                     org=required, feature, plan and reverification"
                ))
            }
        }
    }
    policy.validate().map_err(|e| e.to_string())?;
    Ok(policy)
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
        assert!(from_query(None).unwrap().is_empty());
        assert!(from_query(Some("")).unwrap().is_empty());
        let p = from_query(Some("role=org:admin")).unwrap();
        assert_eq!(p.role.as_deref(), Some("org:admin"));
        let p = from_query(Some("permission=org:a:read&&permission=org%3Ab%3Awrite")).unwrap();
        assert_eq!(p.permissions, ["org:a:read", "org:b:write"]);
        let p = from_query(Some("org=required")).unwrap();
        assert!(p.org_required && p.role.is_none());
        let all = from_query(Some("org=required&role=org:admin&permission=org:x:y")).unwrap();
        assert_eq!(
            all.to_string(),
            "organization, role org:admin, permission org:x:y"
        );
        let p = from_query(Some(
            "feature=reports&feature=u%3Aexport&plan=o:pro&reverification=strict_mfa",
        ))
        .unwrap();
        assert_eq!(p.features, ["reports", "u:export"]);
        assert_eq!(p.plans, ["o:pro"]);
        assert_eq!(p.reverification, Some(Reverification::StrictMfa));
        let p = from_query(Some("reverification=second_factor%3A30")).unwrap();
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
        ] {
            let e = from_query(Some(bad)).expect_err(bad);
            assert!(!e.is_empty(), "{bad}");
        }
        assert!(from_query(Some("roles=x")).unwrap_err().contains("roles"));
    }
}
