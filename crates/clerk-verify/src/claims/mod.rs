//! The last step of the data path: the claims of a verified token, typed ([`Claims`]) and handed
//! to the caller. The rules they were checked by are `rules`; reading them from the payload is
//! `read`; the organization, in both of Clerk's formats, is `org`; what they grant (Clerk's
//! `has()`: roles, permissions, features, plans, reverification) is `has`.

use crate::error::Error;
use crate::token::{parse_object, Scalar};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::{Arc, OnceLock};

mod has;
mod org;
mod read;
mod rules;

pub(crate) use has::{check_name, is_well_formed};
pub use has::{Has, Reverification, VerificationLevel};
pub use org::Org;
pub(crate) use read::Payload;
use read::{number, secs, text, Fva};
pub(crate) use rules::{check, verify_payload, Times};

/// A verified Clerk session token's claims.
///
/// The registered and Clerk-specific claims are typed; everything else (your session-token
/// customisations) stays readable through [`Claims::get`] and [`Claims::deserialize`].
///
/// The payload's JSON text is kept as it was verified and only turned into a map when
/// [`Claims::get`] or [`Claims::as_json`] first asks (once per `Claims`), so verifying a token
/// builds no map nobody reads.
#[derive(Clone)]
#[non_exhaustive]
pub struct Claims {
    /// The user id (`user_...`).
    pub sub: String,
    /// The session id (`sess_...`).
    pub sid: Option<String>,
    /// The issuer: the instance's Frontend API URL.
    pub iss: Option<String>,
    /// The authorized party: the origin that requested the token.
    pub azp: Option<String>,
    /// Expiry, Unix seconds (fractions dropped; the check itself used the exact value).
    pub exp: i64,
    /// Not-before, Unix seconds.
    pub nbf: Option<i64>,
    /// Issued-at, Unix seconds.
    pub iat: Option<i64>,
    /// Session-token format version (`2` for v2; absent for v1).
    pub version: Option<u64>,
    /// Factor verification age in minutes: `[first factor, second factor]`, `-1` for never.
    pub fva: Option<[i64; 2]>,
    /// Session status (`sts`), when the instance emits it.
    pub status: Option<SessionStatus>,
    /// The impersonator, when this session is an impersonation (`act`).
    pub actor: Option<Actor>,
    /// The active organization, from either the v1 or the v2 claims.
    pub org: Option<Org>,
    /// Plans (`pla`): its comma-separated items, trimmed, like `u:free` or `o:pro`
    /// ([`Claims::has_plan`] reads them).
    pub plans: Vec<String>,
    /// Organization-level features from `fea`.
    pub org_features: Vec<String>,
    /// User-level features from `fea`.
    pub user_features: Vec<String>,
    /// The verified payload, exactly as decoded (shared by clones).
    json: Arc<str>,
    /// `json` as a map, built on first use.
    /// (Boxed: claims move by value, and most never build it.)
    map: OnceLock<Box<Map<String, Value>>>,
}

/// The `sts` claim.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionStatus {
    /// `"active"`.
    Active,
    /// `"pending"`: the user still has a step to complete (e.g. choose an organization). Clerk
    /// treats such sessions as signed out by default; so do [`Claims::is_signed_in`] and the adapters.
    Pending,
    /// Any other value, kept verbatim.
    Other(String),
}

/// The `act` claim (RFC 8693): who is acting on the user's behalf.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Actor {
    /// The impersonator's user id.
    pub sub: Option<String>,
    /// The actor `type`, e.g. `"agent"`.
    pub kind: Option<String>,
    /// The whole claim.
    pub claims: Map<String, Value>,
}

impl Claims {
    /// The user id (`sub`).
    pub fn user_id(&self) -> &str {
        &self.sub
    }

    /// The session id (`sid`).
    pub fn session_id(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The active organization's id.
    pub fn org_id(&self) -> Option<&str> {
        self.org.as_ref().map(|o| o.id.as_str())
    }

    /// Whether the session status is `pending`.
    pub fn is_pending(&self) -> bool {
        self.status == Some(SessionStatus::Pending)
    }

    /// Whether this counts as signed in under Clerk's default (`treatPendingAsSignedOut`):
    /// a `pending` session does not.
    pub fn is_signed_in(&self) -> bool {
        !self.is_pending()
    }

    /// Any claim, as JSON.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_json().get(name)
    }

    /// All claims, as JSON.
    pub fn as_json(&self) -> &Map<String, Value> {
        // The text passed the same strict parser when it was verified, so this cannot fail.
        self.map
            .get_or_init(|| Box::new(parse_object(self.json.as_bytes()).unwrap_or_default()))
    }

    /// The payload's JSON text, exactly as it was signed (after base64url decoding).
    pub fn json_text(&self) -> &str {
        &self.json
    }

    /// All claims deserialised into your own type (e.g. to read session-token customisations).
    ///
    /// ```
    /// # use clerk_verify::{Verifier, VerifyOptions};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix())
    /// #     .claim("email", "a@example.com").sign(key);
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default()).unwrap();
    /// #[derive(serde::Deserialize)]
    /// struct Mine { email: String }
    /// let claims = verifier.verify(&token)?;
    /// let mine: Mine = claims.deserialize()?;
    /// assert_eq!(mine.email, "a@example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(self.as_json())
    }
}

impl PartialEq for Claims {
    /// Equal typed claims and equal claim maps (whatever the JSON's spacing).
    fn eq(&self, other: &Claims) -> bool {
        self.sub == other.sub
            && self.sid == other.sid
            && self.iss == other.iss
            && self.azp == other.azp
            && self.exp == other.exp
            && self.nbf == other.nbf
            && self.iat == other.iat
            && self.version == other.version
            && self.fva == other.fva
            && self.status == other.status
            && self.actor == other.actor
            && self.org == other.org
            && self.plans == other.plans
            && self.org_features == other.org_features
            && self.user_features == other.user_features
            && self.as_json() == other.as_json()
    }
}

impl fmt::Debug for Claims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claims")
            .field("sub", &self.sub)
            .field("sid", &self.sid)
            .field("iss", &self.iss)
            .field("azp", &self.azp)
            .field("exp", &self.exp)
            .field("nbf", &self.nbf)
            .field("iat", &self.iat)
            .field("version", &self.version)
            .field("fva", &self.fva)
            .field("status", &self.status)
            .field("actor", &self.actor)
            .field("org", &self.org)
            .field("plans", &self.plans)
            .field("org_features", &self.org_features)
            .field("user_features", &self.user_features)
            .field("json", &self.json)
            .finish()
    }
}

impl Claims {
    /// Types the claims of a payload that has passed [`check`]; `json` is its text.
    pub(crate) fn from_payload(all: &Payload<'_>, json: &str) -> Result<Claims, Error> {
        let sub = text(&all.sub, "sub")?.unwrap_or_default().to_owned();
        let exp = number(&all.exp, "exp")?.map_or(0, secs);
        let nbf = number(&all.nbf, "nbf")?.map(secs);
        let iat = number(&all.iat, "iat")?.map(secs);
        let version = match &all.v {
            None => None,
            Some(v) => Some(
                match v {
                    Scalar::Num(n) => n.as_u64(),
                    _ => None,
                }
                .ok_or_else(|| Error::failed("the v claim is not a version number"))?,
            ),
        };
        let fva = match &all.fva {
            None | Some(Fva::Null) => None,
            Some(Fva::Array {
                len: 2,
                first,
                second,
            }) => match (first, second) {
                (Some(x), Some(y)) => Some([*x, *y]),
                _ => return Err(Error::failed("the fva claim is not two integers")),
            },
            Some(_) => return Err(Error::failed("the fva claim is not two integers")),
        };
        let status = text(&all.sts, "sts")?.map(|s| match s {
            "active" => SessionStatus::Active,
            "pending" => SessionStatus::Pending,
            _ => SessionStatus::Other(s.to_owned()),
        });
        let actor = match &all.act {
            None | Some(Value::Null) => None,
            Some(Value::Object(act)) => Some(Actor {
                sub: act.get("sub").and_then(Value::as_str).map(str::to_owned),
                kind: act.get("type").and_then(Value::as_str).map(str::to_owned),
                claims: act.clone(),
            }),
            Some(_) => return Err(Error::failed("the act claim is not an object")),
        };
        let features = org::split_features(text(&all.fea, "fea")?)?;
        let org = org::from_payload(all, version, &features)?;
        // Empty items are kept: Clerk's `has({ plan })` fails on an item without a scope.
        let plans = text(&all.pla, "pla")?
            .filter(|p| !p.is_empty())
            .map(|p| p.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
        Ok(Claims {
            sub,
            sid: text(&all.sid, "sid")?.map(str::to_owned),
            iss: text(&all.iss, "iss")?.map(str::to_owned),
            azp: text(&all.azp, "azp")?.map(str::to_owned),
            exp,
            nbf,
            iat,
            version,
            fva,
            status,
            actor,
            org,
            plans,
            org_features: features.org,
            user_features: features.user,
            json: Arc::from(json),
            map: OnceLock::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_claims() {
        let json = json!({"sub":"user_1","sid":"sess_1","exp":1.9,"v":2,"sts":"pending",
               "fva":[3,-1],"act":{"sub":"user_admin","type":"agent"},"pla":"u:free,o:pro",
               "fea":"o:a,u:b","custom":{"x":1}})
        .to_string();
        let c = Claims::from_payload(&Payload::read(json.as_bytes(), &[]).unwrap(), &json).unwrap();
        assert_eq!(c.user_id(), "user_1");
        assert_eq!(c.exp, 1);
        assert!(c.is_pending() && !c.is_signed_in());
        assert_eq!(c.fva, Some([3, -1]));
        assert_eq!(c.actor.as_ref().unwrap().sub.as_deref(), Some("user_admin"));
        assert_eq!(c.plans, ["u:free", "o:pro"]);
        assert_eq!(c.org_features, ["a"]);
        assert_eq!(c.user_features, ["b"]);
        assert_eq!(c.get("custom").unwrap()["x"], 1);
        assert_eq!(c.json_text(), json);
        // The map is built on demand, and equality does not depend on it having been built.
        let fresh =
            Claims::from_payload(&Payload::read(json.as_bytes(), &[]).unwrap(), &json).unwrap();
        assert_eq!(c, fresh);
        #[derive(serde::Deserialize)]
        struct Custom {
            custom: Value,
            sid: String,
        }
        let mine: Custom = c.deserialize().unwrap();
        assert_eq!(
            (mine.custom["x"].as_i64(), mine.sid.as_str()),
            (Some(1), "sess_1")
        );
    }
}
