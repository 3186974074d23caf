//! Clerk's claim rules, in Clerk's order and with Clerk's comparisons (`sub`, `aud`, `azp`, `exp`,
//! `nbf`, `iat`), then our `iss`: what a verified payload must satisfy before it becomes
//! [`Claims`]. The time rules are kept apart ([`Times`]) because the verified-token cache runs
//! them again on every hit.

use super::read::{number, secs, Aud, Payload};
use super::Claims;
use crate::error::{shorten, Error};
use crate::options::{unix_millis, VerifyOptions};
use crate::token::{payload_error, Scalar};
use std::time::SystemTime;

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
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
}
