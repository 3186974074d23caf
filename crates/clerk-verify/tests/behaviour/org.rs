//! Organizations from both of Clerk's claim formats, session status, custom claims.

use super::common::*;
use clerk_dev::TokenBuilder;
use clerk_verify::{claims::Org, claims::SessionStatus};
use serde::Deserialize;
use serde_json::json;

fn v1_session() -> TokenBuilder {
    session().remove_claim("v")
}

#[test]
fn v1_org_claims() {
    let t = v1_session()
        .claim("org_id", "org_1")
        .claim("org_role", "org:admin")
        .claim("org_slug", "acme")
        .claim(
            "org_permissions",
            json!(["org:invoices:read", "org:invoices:manage"]),
        )
        .sign(key());
    let c = accepted(&jwks_verifier(), &t);
    assert_eq!(c.version, None);
    assert_eq!(c.org_id(), Some("org_1"));
    let org: &Org = c.org.as_ref().unwrap();
    assert_eq!(org.id, "org_1");
    assert_eq!(org.role.as_deref(), Some("org:admin"));
    assert_eq!(org.slug.as_deref(), Some("acme"));
    assert_eq!(
        org.permissions,
        ["org:invoices:read", "org:invoices:manage"]
    );
    // Clerk's `has({ role })` adds `org:` where it is missing: `admin` is `org:admin`.
    assert!(c.has_role("org:admin") && c.has_role("admin") && !c.has_role("member"));
    assert!(c.has_permission("org:invoices:manage") && c.has_permission("invoices:manage"));
    assert!(!c.has_permission("org:invoices:delete"));
}

#[test]
fn v1_without_org() {
    let c = accepted(&jwks_verifier(), &v1_session().sign(key()));
    assert!(c.org.is_none());
    assert!(!c.has_role("org:admin") && !c.has_permission("org:a:b"));
    // An org id alone is an org without role, slug or permissions.
    let c = accepted(
        &jwks_verifier(),
        &v1_session().claim("org_id", "org_1").sign(key()),
    );
    let org = c.org.unwrap();
    assert_eq!((org.role, org.slug), (None, None));
    assert!(org.permissions.is_empty());
}

#[test]
fn v2_org_claims_the_facts_example() {
    let t = session()
        .claim("fea", "o:impersonation,o:memberships")
        .claim("pla", "u:free,o:pro")
        .claim(
            "o",
            json!({"id":"org_1","rol":"admin","slg":"acme","per":"read,manage","fpm":"1,3"}),
        )
        .sign(key());
    let c = accepted(&jwks_verifier(), &t);
    assert_eq!(c.version, Some(2));
    let org = c.org.as_ref().unwrap();
    assert_eq!(org.id, "org_1");
    assert_eq!(org.role.as_deref(), Some("org:admin"));
    assert_eq!(org.slug.as_deref(), Some("acme"));
    assert_eq!(
        org.permissions,
        [
            "org:impersonation:read",
            "org:memberships:read",
            "org:memberships:manage"
        ]
    );
    assert!(c.has_role("org:admin"));
    assert!(c.has_permission("org:memberships:manage"));
    assert!(!c.has_permission("org:impersonation:manage"));
    assert_eq!(c.org_features, ["impersonation", "memberships"]);
    assert!(c.user_features.is_empty());
    assert_eq!(c.plans, ["u:free", "o:pro"]);
}

#[test]
fn v2_user_features_do_not_shift_org_masks() {
    // fpm indexes the org features only (Clerk JS), not the whole fea list (Clerk Python).
    let t = session()
        .claim("fea", "u:dashboard,o:billing, uo:reports")
        .claim(
            "o",
            json!({"id":"org_1","rol":"member","per":"read,write","fpm":"2,3"}),
        )
        .sign(key());
    let c = accepted(&jwks_verifier(), &t);
    assert_eq!(c.org_features, ["billing", "reports"]);
    assert_eq!(c.user_features, ["dashboard", "reports"]);
    assert_eq!(
        c.org.unwrap().permissions,
        ["org:billing:write", "org:reports:read", "org:reports:write"]
    );
}

#[test]
fn v2_without_active_org_or_permissions() {
    let c = accepted(&jwks_verifier(), &session().claim("fea", "u:a").sign(key()));
    assert!(c.org.is_none());
    assert_eq!(c.user_features, ["a"]);
    // per without fpm (or the reverse): no permissions, the rest is kept.
    let t = session()
        .claim("fea", "o:a")
        .claim("o", json!({"id":"org_1","rol":"admin","per":"read"}))
        .sign(key());
    let org = accepted(&jwks_verifier(), &t).org.unwrap();
    assert_eq!(org.role.as_deref(), Some("org:admin"));
    assert!(org.permissions.is_empty());
    // v2 ignores the v1 members.
    let t = session().claim("org_id", "org_v1").sign(key());
    assert!(accepted(&jwks_verifier(), &t).org.is_none());
}

#[test]
fn v2_wide_masks() {
    // 2^60 + 1: bit 0 and bit 60, beyond f64 precision.
    let per: Vec<String> = (0..61).map(|i| format!("p{i}")).collect();
    let t = session()
        .claim("fea", "o:big")
        .claim(
            "o",
            json!({"id":"org_1","per": per.join(","),"fpm":"1152921504606846977"}),
        )
        .sign(key());
    let org = accepted(&jwks_verifier(), &t).org.unwrap();
    assert_eq!(org.permissions, ["org:big:p0", "org:big:p60"]);
}

#[test]
fn malformed_org_claims_are_verification_failures() {
    let v = jwks_verifier();
    for t in [
        session().claim("o", "org_1").sign(key()),
        session().claim("o", json!({"id": 5})).sign(key()),
        session().claim("fea", "o:a,noscope").sign(key()),
        v1_session().claim("org_id", 5).sign(key()),
        v1_session()
            .claim("org_id", "org_1")
            .claim("org_permissions", "org:a:b")
            .sign(key()),
        v1_session()
            .claim("org_id", "org_1")
            .claim("org_permissions", json!([1]))
            .sign(key()),
    ] {
        refused(&v, &t, "token-verification-failed");
    }
}

#[test]
fn session_status() {
    let v = jwks_verifier();
    let c = accepted(&v, &session().claim("sts", "pending").sign(key()));
    assert!(c.is_pending());
    assert!(!c.is_signed_in());
    assert_eq!(c.status, Some(SessionStatus::Pending));
    let c = accepted(&v, &session().claim("sts", "active").sign(key()));
    assert!(!c.is_pending() && c.is_signed_in());
    assert_eq!(c.status, Some(SessionStatus::Active));
    let c = accepted(&v, &session().sign(key()));
    assert!(c.status.is_none() && c.is_signed_in());
    let c = accepted(&v, &session().claim("sts", "frozen").sign(key()));
    assert_eq!(c.status, Some(SessionStatus::Other("frozen".into())));
}

#[test]
fn custom_claims() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Meta {
        plan: String,
        seats: u32,
    }
    #[derive(Debug, Deserialize)]
    struct Mine {
        sub: String,
        email: String,
        metadata: Meta,
        #[serde(default)]
        missing: Option<String>,
    }
    let t = session()
        .claim("email", "a@example.com")
        .claim("metadata", json!({"plan":"pro","seats":5,"tags":["x"]}))
        .sign(key());
    let c = accepted(&jwks_verifier(), &t);
    assert_eq!(c.get("email"), Some(&json!("a@example.com")));
    assert_eq!(c.get("metadata").unwrap()["tags"][0], "x");
    assert_eq!(c.get("nope"), None);
    assert_eq!(c.as_json()["metadata"]["seats"], 5);
    let mine: Mine = c.deserialize().unwrap();
    assert_eq!(mine.sub, "user_1");
    assert_eq!(mine.email, "a@example.com");
    assert_eq!(
        mine.metadata,
        Meta {
            plan: "pro".into(),
            seats: 5
        }
    );
    assert_eq!(mine.missing, None);
    // A type that does not fit is the caller's error, not a verification failure.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrong {
        email: u64,
    }
    assert!(c.deserialize::<Wrong>().is_err());
}
