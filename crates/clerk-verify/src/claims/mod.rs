//! The last step of the data path: claim rules (Clerk's order and comparisons) and the typed
//! [`Claims`] handed to the caller.

use crate::error::{shorten, Error};
use crate::options::{unix_millis, VerifyOptions};
use crate::token::{parse_object, payload_error, Scalar};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

mod org;
mod read;

pub use org::Org;
pub(crate) use read::Payload;
use read::{Aud, Fva};

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
    /// Plans (`pla`), entries like `u:free` or `o:pro`.
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

    /// Whether the active organization role is exactly `role` (e.g. `"org:admin"`).
    pub fn has_role(&self, role: &str) -> bool {
        self.org.as_ref().is_some_and(|o| o.has_role(role))
    }

    /// Whether the active organization grants `permission` (e.g. `"org:invoices:read"`).
    pub fn has_permission(&self, permission: &str) -> bool {
        self.org
            .as_ref()
            .is_some_and(|o| o.has_permission(permission))
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

/// A token's time claims, exactly as sent (fractions kept): checked at verification, and again
/// for every hit of the verified-token cache.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Times {
    pub(crate) exp: f64,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
}

impl Times {
    /// `exp`, then `nbf`, then `iat`, against `now` with the options' skew.
    pub(crate) fn check(&self, opts: &VerifyOptions, now: SystemTime) -> Result<(), Error> {
        let now_ms = unix_millis(now) as f64;
        let skew_ms = opts.clock_skew.as_millis() as f64;
        if self.exp * 1000.0 <= now_ms - skew_ms {
            return Err(Error::TokenExpired {
                exp: secs(self.exp),
                now: secs(now_ms / 1000.0),
            });
        }
        if let Some(nbf) = self.nbf {
            if nbf * 1000.0 > now_ms + skew_ms {
                return Err(Error::TokenNotActiveYet {
                    nbf: secs(nbf),
                    now: secs(now_ms / 1000.0),
                });
            }
        }
        if let Some(iat) = self.iat {
            if iat * 1000.0 > now_ms + skew_ms {
                return Err(Error::TokenIatInTheFuture {
                    iat: secs(iat),
                    now: secs(now_ms / 1000.0),
                });
            }
        }
        Ok(())
    }
}

/// Reads a verified payload and applies the claim rules: the typed [`Claims`], with the times
/// they were checked with. The one pass over the payload's JSON happens here.
pub(crate) fn verify_payload(
    bytes: &[u8],
    opts: &VerifyOptions,
    now: SystemTime,
) -> Result<(Claims, Times), Error> {
    let text = std::str::from_utf8(bytes);
    let payload = match text {
        Ok(text) => Payload::read_text(text, &opts.audience),
        Err(_) => Payload::read(bytes, &opts.audience),
    }
    .map_err(payload_error)?;
    // Not reached: the byte reader refuses any payload that is not UTF-8.
    let text = text.map_err(|_| Error::invalid("the payload is not valid JSON"))?;
    let times = check(&payload, opts, now)?;
    Ok((Claims::from_payload(&payload, text)?, times))
}

/// Applies the claim rules, in Clerk's order: `sub`, `aud`, `azp`, `exp`, `nbf`, `iat`, then
/// our `iss`. The first failure wins. On success, the time claims it checked.
pub(crate) fn check(
    claims: &Payload<'_>,
    opts: &VerifyOptions,
    now: SystemTime,
) -> Result<Times, Error> {
    match &claims.sub {
        // A JWT about a machine is a machine-to-machine token, never a session (Clerk's
        // `isM2MJwt`), whatever its header says.
        Some(Scalar::Str(s)) if s.starts_with(crate::token::MACHINE_SUB_PREFIX) => {
            return Err(Error::TokenTypeMismatch)
        }
        Some(Scalar::Str(s)) if !s.is_empty() => {}
        _ => {
            return Err(Error::failed(
                "the sub claim is missing or not a non-empty string",
            ))
        }
    }
    check_audience(claims.aud.as_ref(), &opts.audience)?;
    check_azp(claims.azp.as_ref(), opts)?;

    let exp =
        number(&claims.exp, "exp")?.ok_or_else(|| Error::failed("the exp claim is missing"))?;
    let times = Times {
        exp,
        nbf: number(&claims.nbf, "nbf")?,
        iat: number(&claims.iat, "iat")?,
    };
    times.check(opts, now)?;
    if let Some(want) = &opts.issuer {
        let iss = match &claims.iss {
            Some(Scalar::Str(s)) => Some(&**s),
            _ => None,
        };
        if iss != Some(want.as_str()) {
            return Err(Error::TokenInvalidIssuer);
        }
    }
    Ok(times)
}

fn check_audience(aud: Option<&Aud>, allowed: &[String]) -> Result<(), Error> {
    if allowed.is_empty() {
        return Ok(());
    }
    let ok = match aud {
        None | Some(Aud::Null) => false,
        Some(Aud::Str { matched }) => *matched,
        // Every element must be a string: `["mine", 5]` is malformed, not a partial match.
        Some(Aud::Array {
            non_string: true, ..
        }) => {
            return Err(Error::failed(
                "the aud claim is an array with an element that is not a string",
            ))
        }
        Some(Aud::Array { matched, .. }) => *matched,
        Some(Aud::Other) => {
            return Err(Error::failed(
                "the aud claim is neither a string nor an array of strings",
            ))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::TokenInvalidAudience)
    }
}

fn check_azp(azp: Option<&Scalar<'_>>, opts: &VerifyOptions) -> Result<(), Error> {
    if opts.authorized_parties.is_empty() {
        return Ok(());
    }
    match azp {
        None | Some(Scalar::Null) if opts.allow_missing_azp => Ok(()),
        Some(Scalar::Str(a)) if opts.authorized_parties.iter().any(|p| *p == **a) => Ok(()),
        Some(Scalar::Str(a)) if !a.is_empty() => Err(Error::TokenInvalidAuthorizedParties {
            azp: Some(shorten(a)),
        }),
        _ => Err(Error::TokenInvalidAuthorizedParties { azp: None }),
    }
}

fn number(claim: &Option<Scalar<'_>>, name: &'static str) -> Result<Option<f64>, Error> {
    match claim {
        None => Ok(None),
        Some(Scalar::Num(n)) => Ok(Some(n.as_f64())),
        Some(_) => Err(Error::TokenVerificationFailed(
            format!("the {name} claim is not a number").into(),
        )),
    }
}

/// A claim that must be a string or null when present: the string, if any.
fn text<'p>(claim: &'p Option<Scalar<'_>>, name: &'static str) -> Result<Option<&'p str>, Error> {
    match claim {
        None | Some(Scalar::Null) => Ok(None),
        Some(Scalar::Str(s)) => Ok(Some(s)),
        Some(_) => Err(Error::TokenVerificationFailed(
            format!("the {name} claim is not a string").into(),
        )),
    }
}

fn secs(v: f64) -> i64 {
    // `as` saturates, so absurd values cannot wrap.
    v.floor() as i64
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
        let plans = text(&all.pla, "pla")?
            .map(|p| {
                p.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
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
    use std::time::{Duration, UNIX_EPOCH};

    const NOW: u64 = 1_700_000_000;

    fn run(claims: Value, opts: &VerifyOptions) -> Result<(), &'static str> {
        let bytes = claims.to_string().into_bytes();
        let payload = Payload::read(&bytes, &opts.audience).unwrap();
        check(&payload, opts, UNIX_EPOCH + Duration::from_secs(NOW))
            .map(drop)
            .map_err(|e| e.reason())
    }

    #[test]
    fn exp_boundaries_with_default_skew() {
        let o = VerifyOptions::default();
        let n = NOW as i64;
        assert_eq!(run(json!({"sub":"u","exp": n - 4}), &o), Ok(()));
        assert_eq!(
            run(json!({"sub":"u","exp": n - 5}), &o),
            Err("token-expired")
        );
        assert_eq!(
            run(json!({"sub":"u","exp": n - 6}), &o),
            Err("token-expired")
        );
        assert_eq!(run(json!({"sub":"u","exp": n as f64 - 4.5}), &o), Ok(()));
        let zero = VerifyOptions::default().clock_skew(Duration::ZERO);
        assert_eq!(
            run(json!({"sub":"u","exp": n}), &zero),
            Err("token-expired")
        );
        assert_eq!(
            run(json!({"sub":"u","exp": n as f64 + 0.001}), &zero),
            Ok(())
        );
    }

    #[test]
    fn order_is_clerks() {
        let o = VerifyOptions::default().authorized_parties(["https://a"]);
        // Bad sub wins over everything.
        assert_eq!(
            run(json!({"sub": 1, "azp":"https://b", "exp": 0}), &o),
            Err("token-verification-failed")
        );
        // azp before exp.
        assert_eq!(
            run(json!({"sub":"u","azp":"https://b","exp": 0}), &o),
            Err("token-invalid-authorized-parties")
        );
        // exp before nbf/iat.
        let far = NOW + 1000;
        assert_eq!(
            run(
                json!({"sub":"u","azp":"https://a","exp":0,"nbf":far,"iat":far}),
                &o
            ),
            Err("token-expired")
        );
        assert_eq!(
            run(
                json!({"sub":"u","azp":"https://a","exp":far,"nbf":far,"iat":far}),
                &o
            ),
            Err("token-not-active-yet")
        );
        assert_eq!(
            run(json!({"sub":"u","azp":"https://a","exp":far,"iat":far}), &o),
            Err("token-iat-in-the-future")
        );
    }

    #[test]
    fn azp_rules() {
        let exp = NOW + 60;
        let none = VerifyOptions::default();
        assert_eq!(run(json!({"sub":"u","exp":exp}), &none), Ok(()));
        let o = VerifyOptions::default().authorized_parties(["https://a", "https://b"]);
        assert_eq!(
            run(json!({"sub":"u","exp":exp,"azp":"https://b"}), &o),
            Ok(())
        );
        for bad in [json!("https://a/"), json!("HTTPS://A"), json!(""), json!(1)] {
            assert_eq!(
                run(json!({"sub":"u","exp":exp,"azp":bad}), &o),
                Err("token-invalid-authorized-parties")
            );
        }
        assert_eq!(
            run(json!({"sub":"u","exp":exp}), &o),
            Err("token-invalid-authorized-parties")
        );
        let lenient = o.clone().allow_missing_azp(true);
        assert_eq!(run(json!({"sub":"u","exp":exp}), &lenient), Ok(()));
        assert_eq!(
            run(json!({"sub":"u","exp":exp,"azp":"https://evil"}), &lenient),
            Err("token-invalid-authorized-parties")
        );
    }

    #[test]
    fn audience_and_issuer() {
        let exp = NOW + 60;
        let o = VerifyOptions::default().audience(["api", "web"]);
        assert_eq!(run(json!({"sub":"u","exp":exp,"aud":"web"}), &o), Ok(()));
        assert_eq!(
            run(json!({"sub":"u","exp":exp,"aud":["x","api"]}), &o),
            Ok(())
        );
        for bad in [json!("x"), json!([]), json!(["x"]), json!(null)] {
            assert_eq!(
                run(json!({"sub":"u","exp":exp,"aud":bad}), &o),
                Err("token-invalid-audience")
            );
        }
        // Not a string or an array of strings: malformed, even with a matching element.
        for malformed in [
            json!(5),
            json!(["api", 5]),
            json!([5, "api"]),
            json!({"a":"api"}),
        ] {
            assert_eq!(
                run(json!({"sub":"u","exp":exp,"aud":malformed}), &o),
                Err("token-verification-failed")
            );
        }
        assert_eq!(
            run(json!({"sub":"u","exp":exp}), &o),
            Err("token-invalid-audience")
        );
        let i = VerifyOptions::default().issuer("https://clerk.a");
        assert_eq!(
            run(json!({"sub":"u","exp":exp,"iss":"https://clerk.a"}), &i),
            Ok(())
        );
        assert_eq!(
            run(json!({"sub":"u","exp":exp,"iss":"https://clerk.b"}), &i),
            Err("token-invalid-issuer")
        );
        assert_eq!(
            run(json!({"sub":"u","exp":exp}), &i),
            Err("token-invalid-issuer")
        );
    }

    #[test]
    fn types() {
        let o = VerifyOptions::default();
        assert_eq!(
            run(json!({"exp":NOW + 60}), &o),
            Err("token-verification-failed")
        );
        assert_eq!(
            run(json!({"sub":"","exp":NOW + 60}), &o),
            Err("token-verification-failed")
        );
        assert_eq!(
            run(json!({"sub":"u"}), &o),
            Err("token-verification-failed")
        );
        assert_eq!(
            run(json!({"sub":"u","exp":"9999999999"}), &o),
            Err("token-verification-failed")
        );
        assert_eq!(
            run(json!({"sub":"u","exp":NOW + 60,"nbf":"0"}), &o),
            Err("token-verification-failed")
        );
        assert_eq!(run(json!({"sub":"u","exp":1e300}), &o), Ok(()));
    }

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
