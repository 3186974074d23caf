//! The active organization, read from either of Clerk's claim formats into one shape.
//!
//! v1 tokens carry `org_id`, `org_role` (already `org:`-prefixed), `org_slug` and
//! `org_permissions`. v2 tokens (`"v": 2`) carry an `o` object (`id`, `rol`, `slg`, `per`, `fpm`)
//! plus a top-level `fea` list, and encode permissions as one bitmask per org feature. The
//! decoding follows Clerk's `jwtPayloadParser.ts`.

use crate::claims::read::{OrgObject, Payload, StringList};
use crate::error::Error;
use crate::token::Scalar;

/// The organization that was active when the session token was minted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Org {
    /// Organization id (`org_...`).
    pub id: String,
    /// The member's role, `org:`-prefixed as in v1 tokens (e.g. `org:admin`).
    pub role: Option<String>,
    /// Organization slug.
    pub slug: Option<String>,
    /// Permissions such as `org:memberships:manage`.
    pub permissions: Vec<String>,
}

/// Entries of the v2 `fea` claim, split by scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Features {
    pub org: Vec<String>,
    pub user: Vec<String>,
}

/// Splits `fea` (`"o:x,u:y,uo:z"`) into org and user features, as Clerk's `splitByScope`: scope
/// `o` or `u`, or `ou`/`uo` for both; an item of any other scope is neither (and so takes no
/// `fpm` mask).
pub(crate) fn split_features(fea: Option<&str>) -> Result<Features, Error> {
    let mut out = Features::default();
    let Some(fea) = fea.filter(|f| !f.is_empty()) else {
        return Ok(out);
    };
    for entry in fea.split(',').map(str::trim) {
        let (scope, name) = entry
            .split_once(':')
            .ok_or_else(|| Error::failed("the fea claim has an entry without a scope"))?;
        let (org, user) = match scope {
            "o" => (true, false),
            "u" => (false, true),
            "ou" | "uo" => (true, true),
            _ => (false, false),
        };
        if org {
            out.org.push(name.to_owned());
        }
        if user {
            out.user.push(name.to_owned());
        }
    }
    Ok(out)
}

/// Reads the org from a v1 or v2 payload; `None` when no organization is active.
pub(crate) fn from_payload(
    claims: &Payload<'_>,
    version: Option<u64>,
    features: &Features,
) -> Result<Option<Org>, Error> {
    if version == Some(2) {
        let Some(o) = &claims.o else {
            return Ok(None);
        };
        let OrgObject::Object {
            id,
            rol,
            slg,
            per,
            fpm,
        } = o
        else {
            return Err(Error::failed("the o claim is not an object"));
        };
        let Some(id) = opt_str(id, "id")? else {
            return Ok(None);
        };
        let role = opt_str(rol, "rol")?
            .filter(|r| !r.is_empty())
            .map(|r| join(&["org:", r]));
        let permissions = v2_permissions(&features.org, opt_str(per, "per")?, opt_str(fpm, "fpm")?);
        return Ok(Some(Org {
            id: id.to_owned(),
            role,
            slug: opt_str(slg, "slg")?.map(str::to_owned),
            permissions,
        }));
    }
    let Some(id) = opt_str(&claims.org_id, "org_id")? else {
        return Ok(None);
    };
    let permissions = match &claims.org_permissions {
        None | Some(StringList::Null) => Vec::new(),
        Some(StringList::Strings(items)) => items.clone(),
        Some(StringList::NotAllStrings) => {
            return Err(Error::failed("org_permissions is not a list of strings"))
        }
        Some(StringList::NotAList) => return Err(Error::failed("org_permissions is not a list")),
    };
    Ok(Some(Org {
        id: id.to_owned(),
        role: opt_str(&claims.org_role, "org_role")?.map(str::to_owned),
        slug: opt_str(&claims.org_slug, "org_slug")?.map(str::to_owned),
        permissions,
    }))
}

/// `org:<feature>:<per[j]>` for every bit j set in the feature's `fpm` mask (least-significant
/// bit first). Missing `per` or `fpm` means no permissions; a mask that is not a decimal number
/// grants nothing, as in Clerk's parser.
fn v2_permissions(org_features: &[String], per: Option<&str>, fpm: Option<&str>) -> Vec<String> {
    let (Some(per), Some(fpm)) = (per.filter(|p| !p.is_empty()), fpm.filter(|f| !f.is_empty()))
    else {
        return Vec::new();
    };
    let names = || per.split(',').map(str::trim);
    let mut out = Vec::new();
    for (feature, mask) in org_features.iter().zip(fpm.split(',').map(str::trim)) {
        // Masks are short decimal numbers in practice: read them as one integer when they fit.
        let small = (mask.len() <= 38 && mask.bytes().all(|b| b.is_ascii_digit()))
            .then(|| mask.parse::<u128>().ok())
            .flatten();
        let wide = if small.is_none() {
            low_bits(mask, names().count())
        } else {
            Vec::new()
        };
        for (j, name) in names().enumerate() {
            let set = match small {
                Some(bits) => j < 128 && bits >> j & 1 == 1,
                None => wide[j],
            };
            if set {
                out.push(join(&["org:", feature, ":", name]));
            }
        }
    }
    out
}

/// The concatenation of `parts`, allocated once.
pub(crate) fn join(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// The lowest `count` bits of a decimal number of any length, least-significant first.
/// Anything but ASCII digits yields no bits set.
fn low_bits(decimal: &str, count: usize) -> Vec<bool> {
    if decimal.is_empty() || !decimal.bytes().all(|b| b.is_ascii_digit()) {
        return vec![false; count];
    }
    let mut digits: Vec<u8> = decimal.bytes().map(|b| b - b'0').collect();
    let mut bits = Vec::with_capacity(count);
    // Long division by two, one bit per pass; `count` is bounded by the number of permissions.
    for _ in 0..count {
        let mut rem = 0u8;
        for d in digits.iter_mut() {
            let cur = rem * 10 + *d;
            *d = cur / 2;
            rem = cur % 2;
        }
        bits.push(rem == 1);
        let first = digits.iter().position(|&d| d != 0).unwrap_or(digits.len());
        digits.drain(..first);
        if digits.is_empty() {
            bits.resize(count, false);
            break;
        }
    }
    bits
}

fn opt_str<'a>(
    value: &'a Option<Scalar<'_>>,
    name: &'static str,
) -> Result<Option<&'a str>, Error> {
    match value {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Error::TokenVerificationFailed(
            format!("the {name} claim is not a string").into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn org(v: Value) -> Option<Org> {
        let version = v.get("v").and_then(Value::as_u64);
        let fea = split_features(v.get("fea").and_then(Value::as_str)).unwrap();
        let bytes = v.to_string().into_bytes();
        from_payload(&Payload::read(&bytes, &[]).unwrap(), version, &fea).unwrap()
    }

    #[test]
    fn facts_example() {
        let o = org(json!({"v":2,"fea":"o:impersonation,o:memberships",
            "o":{"id":"org_1","rol":"admin","slg":"acme","per":"read,manage","fpm":"1,3"}}))
        .unwrap();
        assert_eq!(o.id, "org_1");
        assert_eq!(o.role.as_deref(), Some("org:admin"));
        assert_eq!(o.slug.as_deref(), Some("acme"));
        assert_eq!(
            o.permissions,
            [
                "org:impersonation:read",
                "org:memberships:read",
                "org:memberships:manage"
            ]
        );
    }

    #[test]
    fn user_features_do_not_shift_org_masks() {
        // fpm indexes org features only (Clerk JS), not the full fea list (Clerk Python).
        let o = org(json!({"v":2,"fea":"u:a,o:b,uo:c",
            "o":{"id":"org_1","per":"x,y","fpm":"2,1"}}))
        .unwrap();
        assert_eq!(o.permissions, ["org:b:y", "org:c:x"]);
        // Nor do items of a scope Clerk does not know (`xo:` is not an org feature).
        let o = org(json!({"v":2,"fea":"xo:a,o:b",
            "o":{"id":"org_1","per":"x","fpm":"1"}}))
        .unwrap();
        assert_eq!(o.permissions, ["org:b:x"]);
    }

    #[test]
    fn wide_masks() {
        // 2^64 + 1: bit 0 and bit 64.
        let bits = low_bits("18446744073709551617", 65);
        assert!(bits[0] && bits[64]);
        assert_eq!(bits.iter().filter(|b| **b).count(), 2);
        assert_eq!(low_bits("abc", 3), [false; 3]);
        assert_eq!(low_bits("-1", 2), [false; 2]);
        assert_eq!(low_bits("5", 4), [true, false, true, false]);
        assert_eq!(low_bits("0", 2), [false, false]);
        // The integer fast path and the long division agree, wide masks included.
        let per: Vec<String> = (0..70).map(|j| format!("p{j}")).collect();
        let per = per.join(",");
        for mask in [
            "0",
            "1",
            "5",
            "255",
            "18446744073709551617",
            "340282366920938463463374607431768211455",
            "1180591620717411303424",
            "abc",
            "-1",
            "007",
        ] {
            let fast = v2_permissions(&["f".to_owned()], Some(&per), Some(mask));
            let slow: Vec<String> = low_bits(mask, 70)
                .into_iter()
                .enumerate()
                .filter(|(_, b)| *b)
                .map(|(j, _)| format!("org:f:p{j}"))
                .collect();
            assert_eq!(fast, slow, "{mask}");
        }
    }

    #[test]
    fn missing_per_or_fpm_means_no_permissions() {
        let o = org(json!({"v":2,"fea":"o:b","o":{"id":"org_1","per":"x"}})).unwrap();
        assert!(o.permissions.is_empty());
        assert!(o.role.is_none());
    }

    #[test]
    fn v1_format() {
        let o = org(
            json!({"org_id":"org_1","org_role":"org:admin","org_slug":"acme",
            "org_permissions":["org:a:b"]}),
        )
        .unwrap();
        assert!(o.has_role("org:admin"));
        assert!(o.has_permission("org:a:b"));
        assert!(org(json!({"sub":"u"})).is_none());
        assert!(org(json!({"v":2})).is_none());
    }

    #[test]
    fn fea_without_scope_is_refused() {
        assert!(split_features(Some("o:a,b")).is_err());
        let f = split_features(Some(" o:a , ou:b ,u:c,uo:d")).unwrap();
        assert_eq!(f.org, ["a", "b", "d"]);
        assert_eq!(f.user, ["b", "c", "d"]);
        // Only Clerk's four scopes count: `org:`, `xo:` or `oo:` items are neither.
        let f = split_features(Some("org:a,xo:b,oo:c,:d,o:e")).unwrap();
        assert_eq!((f.org, f.user), (vec!["e".to_owned()], vec![]));
    }
}
