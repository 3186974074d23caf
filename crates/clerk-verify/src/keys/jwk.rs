//! JWK and JWKS documents to [`Key`]s.
//!
//! A JWKS skips the keys it cannot use (another key type, `use: enc`, too short, no `kid`) so
//! that one odd entry does not take a whole instance down, but remembers each refused key by its
//! `kid`, so a token naming one is told why instead of "no such key". A document with no usable
//! key at all, or with more keys than the cap, fails.

use crate::error::Error;
use crate::keys::key::Key;
use crate::options::Algorithm;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};

/// Most keys one JWKS document may hold; Clerk publishes one or two. A longer document is
/// refused, not cut.
pub const MAX_JWKS_KEYS: usize = 64;

/// JWK members are base64url; tolerate padding there (it is key material from the key owner,
/// not attacker-shaped token text).
const JWK_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a JWKS document gave no keys. Local and remote callers map these to their own reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwksProblem {
    /// Not JSON, or not an object with a `keys` array.
    NotJwks(&'static str),
    /// A JSON object without keys: an empty or null `keys`, or none at all (`{}`).
    Empty,
    /// More entries than the cap.
    TooMany { count: usize, max: usize },
    /// Keys were present but none could be used; the text says why the first one was refused.
    NoneUsable(String),
}

impl JwksProblem {
    pub(crate) fn describe(&self) -> String {
        match self {
            JwksProblem::NotJwks(why) => (*why).to_owned(),
            JwksProblem::Empty => "the key set is empty".to_owned(),
            JwksProblem::TooMany { count, max } => format!(
                "the key set holds {count} keys, more than the limit of {max}; refusing it \
                 rather than guessing which keys to keep"
            ),
            JwksProblem::NoneUsable(why) => format!("no usable key in the key set ({why})"),
        }
    }
}

/// A JWKS document's keys: the usable ones, and the refused ones by `kid` with the reason.
#[derive(Debug, Default)]
pub(crate) struct ParsedJwks {
    pub(crate) keys: Vec<Key>,
    pub(crate) refused: Vec<(String, String)>,
}

/// Parses a JWKS document of at most `max_keys` entries. The first entry of each `kid` wins,
/// usable or not; entries without a `kid` are skipped (no token could select them).
pub(crate) fn parse_jwks(json: &[u8], max_keys: usize) -> Result<ParsedJwks, JwksProblem> {
    let doc: Value =
        serde_json::from_slice(json).map_err(|_| JwksProblem::NotJwks("the JWKS is not JSON"))?;
    if !doc.is_object() {
        return Err(JwksProblem::NotJwks("the JWKS is not a JSON object"));
    }
    // An object without keys (`{}`, `"keys": null`) holds no keys, as Clerk's SDK reads it.
    let entries = match doc.get("keys") {
        None | Some(Value::Null) => return Err(JwksProblem::Empty),
        Some(Value::Array(entries)) if entries.is_empty() => return Err(JwksProblem::Empty),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(JwksProblem::NotJwks("the JWKS's \"keys\" is not an array")),
    };
    if entries.len() > max_keys {
        return Err(JwksProblem::TooMany {
            count: entries.len(),
            max: max_keys,
        });
    }
    let mut out = ParsedJwks::default();
    let mut first_problem = None;
    for entry in entries {
        let kid = match entry.get("kid") {
            Some(Value::String(kid)) if !kid.is_empty() => kid.as_str(),
            _ => {
                first_problem.get_or_insert_with(|| "a key has no kid".to_owned());
                continue;
            }
        };
        let seen = out.keys.iter().any(|k| k.kid() == Some(kid))
            || out.refused.iter().any(|(k, _)| k == kid);
        if seen {
            continue;
        }
        match key_from_jwk_value(entry) {
            Ok(key) => out.keys.push(key),
            Err(e) => {
                // The inner reason only: the caller says whether the key set was local or remote.
                let why = match e {
                    Error::JwkLocalInvalid(why) => why.into_owned(),
                    e => e.to_string(),
                };
                first_problem.get_or_insert_with(|| why.clone());
                out.refused.push((kid.to_owned(), why));
            }
        }
    }
    if out.keys.is_empty() {
        return Err(JwksProblem::NoneUsable(
            first_problem.unwrap_or_else(|| "no keys".to_owned()),
        ));
    }
    Ok(out)
}

impl Key {
    /// Parses one JWK (a JSON object) into a key.
    ///
    /// Requires `kty: "RSA"`; `use`, if present, must be `"sig"`; `key_ops`, if present, must
    /// allow `"verify"`; `alg`, if present, must be RS256/RS384/RS512 and then pins the key to it.
    /// A JWK carrying private members (`d`, `p`, ...) is refused: publish public keys only.
    pub fn from_jwk(json: &str) -> Result<Key, Error> {
        let value: Value =
            serde_json::from_str(json).map_err(|_| Error::local_key("the JWK is not JSON"))?;
        key_from_jwk_value(&value)
    }
}

fn key_from_jwk_value(value: &Value) -> Result<Key, Error> {
    let obj = value
        .as_object()
        .ok_or_else(|| Error::local_key("a JWK must be a JSON object"))?;
    match str_member(obj, "kty")? {
        Some("RSA") => {}
        Some(_) => {
            return Err(Error::local_key(
                "only RSA keys (kty \"RSA\") are supported",
            ))
        }
        None => return Err(Error::local_key("the JWK has no kty")),
    }
    if let Some(u) = str_member(obj, "use")? {
        if u != "sig" {
            return Err(Error::local_key(
                "the JWK is not for signatures (use is not \"sig\")",
            ));
        }
    }
    if let Some(ops) = obj.get("key_ops") {
        let allows_verify = ops
            .as_array()
            .is_some_and(|a| a.iter().any(|op| op == "verify"));
        if !allows_verify {
            return Err(Error::local_key(
                "the JWK's key_ops do not allow \"verify\"",
            ));
        }
    }
    if ["d", "p", "q", "dp", "dq", "qi", "oth"]
        .iter()
        .any(|m| obj.contains_key(*m))
    {
        return Err(Error::local_key(
            "the JWK contains private key material; publish only the public key",
        ));
    }
    let n = b64_member(obj, "n")?;
    let e = b64_member(obj, "e")?;
    let mut key = Key::from_rsa_components(&n, &e)?;
    if let Some(kid) = str_member(obj, "kid")? {
        key = key.with_kid(kid);
    }
    if let Some(alg) = str_member(obj, "alg")? {
        let alg = Algorithm::from_name(alg)
            .filter(|a| a.is_rsa())
            .ok_or_else(|| Error::local_key("the JWK's alg is not RS256, RS384 or RS512"))?;
        key = key.with_algorithm(alg)?;
    }
    Ok(key)
}

fn str_member<'a>(
    obj: &'a Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, Error> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::local_key(format!(
            "the JWK member {name:?} is not a string"
        ))),
    }
}

fn b64_member(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<u8>, Error> {
    let text = str_member(obj, name)?
        .ok_or_else(|| Error::local_key(format!("the JWK has no {name:?}")))?;
    JWK_B64
        .decode(text)
        .map_err(|_| Error::local_key(format!("the JWK member {name:?} is not base64url")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk(extra: &str) -> String {
        // A syntactically valid 2048-bit odd modulus.
        let mut n = vec![0xffu8; 256];
        n[0] = 0xc1;
        let n = crate::token::B64URL.encode(n);
        format!(r#"{{"kty":"RSA","n":"{n}","e":"AQAB"{extra}}}"#)
    }

    #[test]
    fn reads_a_public_rsa_jwk() {
        let k = Key::from_jwk(&jwk(r#","kid":"ins_1","alg":"RS256","use":"sig""#)).unwrap();
        assert_eq!(k.kid(), Some("ins_1"));
        assert_eq!(k.algorithm(), Some(Algorithm::RS256));
        assert_eq!(k.rsa_bits(), Some(2048));
    }

    #[test]
    fn refuses_unusable_jwks() {
        for extra in [
            r#","use":"enc""#,
            r#","alg":"RSA-OAEP""#,
            r#","alg":"PS256""#,
            r#","alg":"HS256""#,
            r#","key_ops":["encrypt"]"#,
            r#","d":"AQAB""#,
            r#","kid":5"#,
        ] {
            assert_eq!(
                Key::from_jwk(&jwk(extra)).unwrap_err().reason(),
                "jwk-local-invalid",
                "{extra}"
            );
        }
        assert!(Key::from_jwk(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#).is_err());
        assert!(Key::from_jwk(r#"{"kty":"oct","k":"AAAA"}"#).is_err());
        assert!(Key::from_jwk("[]").is_err());
    }

    #[test]
    fn jwks_skips_bad_keys_but_needs_one() {
        let good = jwk(r#","kid":"a""#);
        let bad = jwk(r#","kid":"b","use":"enc""#);
        let kidless = jwk("");
        let doc = format!(r#"{{"keys":[{bad},{kidless},{good},{good}]}}"#);
        let parsed = parse_jwks(doc.as_bytes(), MAX_JWKS_KEYS).unwrap();
        assert_eq!(parsed.keys.len(), 1);
        assert_eq!(parsed.keys[0].kid(), Some("a"));
        assert_eq!(parsed.refused.len(), 1);
        assert_eq!(parsed.refused[0].0, "b");
        assert!(parsed.refused[0].1.contains("use"), "{:?}", parsed.refused);

        let doc = format!(r#"{{"keys":[{bad}]}}"#);
        assert!(matches!(
            parse_jwks(doc.as_bytes(), MAX_JWKS_KEYS),
            Err(JwksProblem::NoneUsable(_))
        ));
        let doc = format!(r#"{{"keys":[{kidless}]}}"#);
        assert_eq!(
            parse_jwks(doc.as_bytes(), MAX_JWKS_KEYS).unwrap_err(),
            JwksProblem::NoneUsable("a key has no kid".into())
        );
        assert!(matches!(
            parse_jwks(br#"{"keys":[]}"#, MAX_JWKS_KEYS),
            Err(JwksProblem::Empty)
        ));
        // No keys at all, as Clerk's SDK reads it: `{}` and `"keys": null` are empty too.
        for empty in [&b"{}"[..], br#"{"keys":null}"#] {
            assert!(matches!(parse_jwks(empty, 1), Err(JwksProblem::Empty)));
        }
        for not_jwks in [&b"[]"[..], br#"{"keys":{}}"#, br#"{"keys":"k"}"#, b"null"] {
            assert!(matches!(
                parse_jwks(not_jwks, 1),
                Err(JwksProblem::NotJwks(_))
            ));
        }
        assert!(matches!(
            parse_jwks(b"<html>", 1),
            Err(JwksProblem::NotJwks(_))
        ));
    }

    #[test]
    fn too_many_keys_is_refused_not_cut() {
        let entries: Vec<String> = (0..3).map(|i| jwk(&format!(r#","kid":"k{i}""#))).collect();
        let doc = format!(r#"{{"keys":[{}]}}"#, entries.join(","));
        assert_eq!(parse_jwks(doc.as_bytes(), 3).unwrap().keys.len(), 3);
        let problem = parse_jwks(doc.as_bytes(), 2).unwrap_err();
        assert_eq!(problem, JwksProblem::TooMany { count: 3, max: 2 });
        assert!(problem.describe().contains("more than the limit of 2"));
    }
}
