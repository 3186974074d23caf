//! Machine tokens in JWT form, verified locally as Clerk's SDK does (§5b.4 of the reference
//! facts): the same keys and algorithms as session tokens, the signature, then `sub`, `aud`
//! (when an audience is configured) and the times with the clock skew; not `azp` nor `iss`,
//! which machine tokens do not carry for us to check. An M2M token's `cat`, if any, must be
//! Clerk's M2M category; an OAuth access token's `typ` must be `at+jwt`.
//!
//! Errors are mapped as Clerk's SDK maps them: undecodable, or the wrong `cat`,
//! `token-invalid`; any check that fails after that (algorithm, key, signature, claims)
//! `token-verification-failed`, with the precise cause in the message. Only an outage (the keys
//! cannot be had) or a misconfiguration keeps its own reason, so that it is never a sign-out.

use crate::claims::Times;
use crate::error::{Category, Error};
use crate::machine::auth::{Fields, MachineAuth};
use crate::options::{TokenKind, VerifyOptions};
use crate::token::{Token, CAT_M2M, MACHINE_SUB_PREFIX, OAUTH_TYPS};
use crate::verify::Tokens;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The payload members that are not an M2M token's custom claims.
const REGISTERED: [&str; 6] = ["iss", "sub", "exp", "nbf", "iat", "jti"];

/// Verifies a machine JWT of `kind`, fetching its key if need be (may block).
pub(crate) fn verify(tokens: &Tokens, token: &str, kind: TokenKind) -> Result<MachineAuth, Error> {
    let payload = tokens.verify_machine_jwt(token, |t| header_rule(t, kind));
    conclude(payload, kind, tokens.options())
}

/// [`verify`] without blocking: `None` when the key is not in memory.
pub(crate) fn try_verify(
    tokens: &Tokens,
    token: &str,
    kind: TokenKind,
) -> Option<Result<MachineAuth, Error>> {
    let payload = tokens.try_verify_machine_jwt(token, |t| header_rule(t, kind))?;
    Some(conclude(payload, kind, tokens.options()))
}

/// The kind's own header rule, before the key is looked up (Clerk's order: `cat` first).
fn header_rule(token: &Token<'_>, kind: TokenKind) -> Result<(), Error> {
    match kind {
        TokenKind::M2mToken => match token.category() {
            None | Some(CAT_M2M) => Ok(()),
            Some(_) => Err(Error::invalid(
                "an M2M token's cat header must be Clerk's M2M category",
            )),
        },
        TokenKind::OauthToken if token.typ().is_some_and(|t| OAUTH_TYPS.contains(&t)) => Ok(()),
        _ => Err(Error::invalid("not a machine token in JWT form")),
    }
}

fn conclude(
    payload: Result<Map<String, Value>, Error>,
    kind: TokenKind,
    opts: &VerifyOptions,
) -> Result<MachineAuth, Error> {
    let payload = payload.map_err(clerks_reason)?;
    let expiration = check(&payload, kind, opts).map_err(clerks_reason)?;
    Ok(MachineAuth::new(fields(payload, kind, expiration)))
}

/// Clerk's mapping: a failed check is `token-verification-failed`; what cannot be decoded (and
/// a wrong `cat`) stays `token-invalid`; an outage or a misconfiguration keeps its reason.
fn clerks_reason(e: Error) -> Error {
    match e {
        Error::TokenInvalid(_) | Error::TokenVerificationFailed(_) => e,
        e if e.category() != Category::InvalidToken => e,
        e => Error::TokenVerificationFailed(Cow::Owned(e.to_string())),
    }
}

/// The claim rules; the expiry in Unix milliseconds.
fn check(
    payload: &Map<String, Value>,
    kind: TokenKind,
    opts: &VerifyOptions,
) -> Result<i64, Error> {
    let sub = payload.get("sub").and_then(Value::as_str).unwrap_or("");
    if sub.is_empty() {
        return Err(Error::failed(
            "the sub claim is missing or not a non-empty string",
        ));
    }
    if kind == TokenKind::M2mToken && !sub.starts_with(MACHINE_SUB_PREFIX) {
        return Err(Error::failed(
            "an M2M token's sub must be a machine (mch_…)",
        ));
    }
    check_audience(payload.get("aud"), &opts.audience)?;
    let number = |name: &'static str| match payload.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(Error::TokenVerificationFailed(Cow::Owned(format!(
            "the {name} claim is not a number"
        )))),
    };
    let times = Times {
        exp: number("exp")?.ok_or_else(|| Error::failed("the exp claim is missing"))?,
        nbf: number("nbf")?,
        iat: number("iat")?,
    };
    times.check(opts, opts.clock.now())?;
    Ok((times.exp * 1000.0) as i64)
}

/// `aud` against the configured audience: skipped when none is configured; else the token's
/// `aud` (a string, or an array of strings) must name one of them. Stricter than Clerk, as for
/// session tokens: a token without `aud` is refused then.
fn check_audience(aud: Option<&Value>, allowed: &[String]) -> Result<(), Error> {
    if allowed.is_empty() {
        return Ok(());
    }
    let named = |s: &str| allowed.iter().any(|a| a == s);
    let ok = match aud {
        Some(Value::String(s)) => named(s),
        Some(Value::Array(items)) => {
            if items.iter().any(|v| !v.is_string()) {
                return Err(Error::failed(
                    "the aud claim is an array with an element that is not a string",
                ));
            }
            items.iter().filter_map(Value::as_str).any(named)
        }
        None | Some(Value::Null) => false,
        Some(_) => {
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

/// Clerk's fields from a verified payload (its `M2MToken.fromJwtPayload` and
/// `IdPOAuthAccessToken.fromJwtPayload`).
fn fields(mut payload: Map<String, Value>, kind: TokenKind, expiration: i64) -> Fields {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let id = text(payload.get("jti")).unwrap_or_default();
    let subject = text(payload.get("sub")).unwrap_or_default();
    let (scopes, client_id, claims) = match kind {
        TokenKind::OauthToken => {
            let scopes = match payload.get("scp") {
                Some(Value::Array(items)) => strings(items),
                _ => split(payload.get("scope")),
            };
            (scopes, text(payload.get("client_id")), None)
        }
        _ => {
            let scopes = match payload.get("scopes") {
                Some(Value::String(s)) => split_spaces(s),
                _ => match payload.get("aud") {
                    Some(Value::Array(items)) => strings(items),
                    Some(Value::String(s)) => vec![s.clone()],
                    _ => Vec::new(),
                },
            };
            REGISTERED.iter().for_each(|name| {
                payload.remove(*name);
            });
            (scopes, None, Some(payload).filter(|m| !m.is_empty()))
        }
    };
    Fields {
        kind,
        jwt: true,
        id,
        subject,
        scopes,
        claims,
        name: None,
        client_id,
        expiration: Some(expiration),
    }
}

fn strings(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn split(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_str)
        .map(split_spaces)
        .unwrap_or_default()
}

fn split_spaces(s: &str) -> Vec<String> {
    s.split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn clerks_fields_from_the_payload() {
        let m2m = fields(
            map(json!({"iss": "i", "sub": "mch_1", "exp": 1, "jti": "mt_1",
                       "scopes": "read  write", "aud": ["mch_2"], "team": "a"})),
            TokenKind::M2mToken,
            1000,
        );
        assert_eq!((m2m.id.as_str(), m2m.subject.as_str()), ("mt_1", "mch_1"));
        assert_eq!(m2m.scopes, ["read", "write"]);
        assert_eq!(
            m2m.claims.unwrap(),
            map(json!({"aud": ["mch_2"], "team": "a", "scopes": "read  write"}))
        );
        let by_aud = fields(
            map(json!({"sub": "mch_1", "exp": 1, "aud": ["mch_2", "mch_3"]})),
            TokenKind::M2mToken,
            1000,
        );
        assert_eq!(by_aud.scopes, ["mch_2", "mch_3"]);
        let bare = fields(
            map(json!({"sub": "mch_1", "exp": 1})),
            TokenKind::M2mToken,
            1,
        );
        assert_eq!((bare.id.as_str(), bare.claims), ("", None));
        let oauth = fields(
            map(
                json!({"sub": "user_1", "exp": 1, "jti": "oat_1", "client_id": "app_1",
                       "scp": ["a", "b"], "scope": "c"}),
            ),
            TokenKind::OauthToken,
            1000,
        );
        assert_eq!(oauth.scopes, ["a", "b"]);
        assert_eq!(oauth.client_id.as_deref(), Some("app_1"));
        assert_eq!(oauth.claims, None);
        let scope = fields(
            map(json!({"sub": "user_1", "exp": 1, "scope": "c d"})),
            TokenKind::OauthToken,
            1,
        );
        assert_eq!(scope.scopes, ["c", "d"]);
    }

    #[test]
    fn reasons_are_clerks() {
        assert_eq!(
            clerks_reason(Error::TokenInvalidSignature).reason(),
            "token-verification-failed"
        );
        assert_eq!(
            clerks_reason(Error::TokenExpired { exp: 1, now: 2 }).reason(),
            "token-verification-failed"
        );
        assert_eq!(clerks_reason(Error::invalid("x")).reason(), "token-invalid");
        assert_eq!(
            clerks_reason(Error::JwkRemoteFailedToLoad("down".into())).reason(),
            "jwk-remote-failed-to-load"
        );
    }
}
