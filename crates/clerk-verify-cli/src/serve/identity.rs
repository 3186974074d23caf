//! The identity headers of a signed-in `/auth` answer, which the proxy copies onto the request
//! it forwards. A fixed interface: services behind the proxy read these names.
//!
//! - a session: `X-Clerk-User-Id`, `X-Clerk-Session-Id`, and with an active organization
//!   `X-Clerk-Org-Id`, `X-Clerk-Org-Role`, `X-Clerk-Org-Permissions` (comma list);
//! - a machine token: `X-Clerk-Token-Type` (`api_key`, `m2m_token`, `oauth_token`),
//!   `X-Clerk-Subject`, `X-Clerk-Scopes` (space-separated, absent when none were granted), and
//!   `X-Clerk-User-Id` / `X-Clerk-Org-Id` where the kind has them (an API key's user or
//!   organization, an OAuth access token's user);
//! - both: `X-Clerk-Auth-Status: signed-in`.
//!
//! A session also gets `X-Clerk-Token-Type: session_token` where the location accepts machine
//! tokens too, so that a service behind such a location can always tell a user's session from
//! a machine acting for that user (both may carry `X-Clerk-User-Id`). Where only sessions are
//! accepted (the default) the answer stays exactly what it was before machine tokens existed.

use clerk_verify::machine::MachineAuth;
use clerk_verify::options::TokenKind;
use clerk_verify::request::{Principal, AUTH_STATUS_HEADER};
use clerk_verify::{reason, Auth, Refusal};
use hyper::header::{HeaderMap, HeaderName, HeaderValue};

pub const USER_ID: &str = "x-clerk-user-id";
pub const SESSION_ID: &str = "x-clerk-session-id";
pub const ORG_ID: &str = "x-clerk-org-id";
pub const ORG_ROLE: &str = "x-clerk-org-role";
pub const ORG_PERMISSIONS: &str = "x-clerk-org-permissions";
pub const TOKEN_TYPE: &str = "x-clerk-token-type";
pub const SUBJECT: &str = "x-clerk-subject";
pub const SCOPES: &str = "x-clerk-scopes";

/// The headers of a signed-in answer for `principal`; `machines_accepted`: whether the location
/// accepts machine tokens. A value that cannot be a header value (a control character in a
/// custom issuer's `sub`), or a scope that cannot be one item of a space-separated list, is
/// refused rather than dropped or mangled.
pub fn headers(principal: &Principal, machines_accepted: bool) -> Result<HeaderMap, Refusal> {
    let mut h = Headers(HeaderMap::new());
    match principal {
        Principal::Session(auth) => session(&mut h, auth, machines_accepted)?,
        Principal::Machine(machine) => self::machine(&mut h, machine)?,
        // A kind of caller a later core adds: refused, never let through without identity.
        _ => {
            return Err(Refusal::internal(
                reason::INTERNAL_ERROR,
                "a kind of caller this gateway cannot describe in headers",
            ))
        }
    }
    h.put(AUTH_STATUS_HEADER, "signed-in")?;
    Ok(h.0)
}

fn session(h: &mut Headers, auth: &Auth, machines_accepted: bool) -> Result<(), Refusal> {
    h.put(USER_ID, auth.user_id())?;
    if let Some(sid) = auth.session_id() {
        h.put(SESSION_ID, sid)?;
    }
    if let Some(org) = auth.org() {
        h.put(ORG_ID, &org.id)?;
        if let Some(role) = &org.role {
            h.put(ORG_ROLE, role)?;
        }
        if !org.permissions.is_empty() {
            h.put(ORG_PERMISSIONS, &org.permissions.join(","))?;
        }
    }
    if machines_accepted {
        h.put(TOKEN_TYPE, TokenKind::SessionToken.as_str())?;
    }
    Ok(())
}

fn machine(h: &mut Headers, m: &MachineAuth) -> Result<(), Refusal> {
    h.put(TOKEN_TYPE, m.token_type())?;
    h.put(SUBJECT, m.subject())?;
    if !m.scopes().is_empty() {
        if m.scopes()
            .iter()
            .any(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(unsendable(SCOPES));
        }
        h.put(SCOPES, &m.scopes().join(" "))?;
    }
    if let Some(user) = m.user_id() {
        h.put(USER_ID, user)?;
    }
    if let Some(org) = m.org_id() {
        h.put(ORG_ID, org)?;
    }
    Ok(())
}

struct Headers(HeaderMap);

impl Headers {
    fn put(&mut self, name: &'static str, value: &str) -> Result<(), Refusal> {
        let value = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| unsendable(name))?;
        self.0.insert(HeaderName::from_static(name), value);
        Ok(())
    }
}

fn unsendable(name: &str) -> Refusal {
    Refusal::internal(
        reason::INTERNAL_ERROR,
        format!("the verified {name} cannot be sent as a header value"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clerk_verify::machine::parse_backend_response;
    use clerk_verify::request::AUTH_REASON_HEADER;

    fn machine(kind: TokenKind, json: &str) -> Principal {
        Principal::Machine(parse_backend_response(kind, json.as_bytes()).unwrap())
    }

    /// Every `X-Clerk-*` header an `/auth` answer may carry: what a proxy's configuration must copy
    /// from the answer and remove from the client's request.
    const ALL: [&str; 10] = [
        USER_ID,
        SESSION_ID,
        ORG_ID,
        ORG_ROLE,
        ORG_PERMISSIONS,
        TOKEN_TYPE,
        SUBJECT,
        SCOPES,
        AUTH_STATUS_HEADER,
        AUTH_REASON_HEADER,
    ];

    fn names_values(h: &HeaderMap) -> Vec<(&str, &str)> {
        h.iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap()))
            .collect()
    }

    #[test]
    fn each_kind_says_what_it_has() {
        let key = machine(
            TokenKind::ApiKey,
            r#"{"id":"ak_1","subject":"user_1","scopes":["read","write"]}"#,
        );
        assert_eq!(
            names_values(&headers(&key, true).unwrap()),
            [
                (TOKEN_TYPE, "api_key"),
                (SUBJECT, "user_1"),
                (SCOPES, "read write"),
                (USER_ID, "user_1"),
                (AUTH_STATUS_HEADER, "signed-in"),
            ]
        );
        let org_key = machine(TokenKind::ApiKey, r#"{"id":"ak_2","subject":"org_2"}"#);
        assert_eq!(
            names_values(&headers(&org_key, true).unwrap()),
            [
                (TOKEN_TYPE, "api_key"),
                (SUBJECT, "org_2"),
                (ORG_ID, "org_2"),
                (AUTH_STATUS_HEADER, "signed-in"),
            ]
        );
        let m2m = machine(
            TokenKind::M2mToken,
            r#"{"id":"mt_1","subject":"mch_1","scopes":["mch_2"]}"#,
        );
        let h = headers(&m2m, true).unwrap();
        assert_eq!(h.get(SUBJECT).unwrap(), "mch_1");
        assert!(h.get(USER_ID).is_none() && h.get(ORG_ID).is_none());
        // Only names of the list a proxy strips and copies.
        for (name, _) in names_values(&h) {
            assert!(ALL.contains(&name), "{name}");
        }
    }

    #[test]
    fn scopes_that_would_read_as_other_scopes_are_refused() {
        for bad in [r#"["read write"]"#, r#"["read",""]"#, r#"["a\tb"]"#] {
            let key = machine(
                TokenKind::ApiKey,
                &format!(r#"{{"id":"ak_1","subject":"user_1","scopes":{bad}}}"#),
            );
            let refused = headers(&key, true).unwrap_err();
            assert_eq!(
                (refused.status(), refused.reason()),
                (500, "internal-error")
            );
        }
    }
}
