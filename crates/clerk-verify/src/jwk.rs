//! JWK and JWKS documents to [`Key`]s.
//!
//! A JWKS skips the keys it cannot use (another key type, `use: enc`, too short) so that one odd
//! entry does not take a whole instance down, but a document with no usable key at all fails.

use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::key::Key;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Value};

/// Most keys kept from one JWKS document; Clerk publishes one or two.
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
    /// A well-formed document with an empty `keys` array.
    Empty,
    /// Keys were present but none could be used; the text says why the first one was refused.
    NoneUsable(String),
}

impl JwksProblem {
    pub(crate) fn describe(&self) -> String {
        match self {
            JwksProblem::NotJwks(why) => (*why).to_owned(),
            JwksProblem::Empty => "the key set is empty".to_owned(),
            JwksProblem::NoneUsable(why) => format!("no usable key in the key set ({why})"),
        }
    }
}

/// Parses a JWKS document into its usable keys (first of each `kid` wins, at most
/// [`MAX_JWKS_KEYS`]).
pub(crate) fn parse_jwks(json: &[u8]) -> Result<Vec<Key>, JwksProblem> {
    let doc: Value =
        serde_json::from_slice(json).map_err(|_| JwksProblem::NotJwks("the JWKS is not JSON"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwksProblem::NotJwks(
            "the JWKS is not an object with a \"keys\" array",
        ))?;
    if keys.is_empty() {
        return Err(JwksProblem::Empty);
    }
    let mut usable: Vec<Key> = Vec::new();
    let mut first_problem = None;
    for entry in keys {
        match key_from_jwk_value(entry) {
            Ok(key) => {
                let dup = usable.iter().any(|k| k.kid() == key.kid());
                if !dup && usable.len() < MAX_JWKS_KEYS {
                    usable.push(key);
                }
            }
            Err(e) => {
                first_problem.get_or_insert(e);
            }
        }
    }
    if usable.is_empty() {
        // The inner reason only: the caller says whether the key set was local or remote.
        let why = match first_problem {
            Some(Error::JwkLocalInvalid(why)) => why.into_owned(),
            Some(e) => e.to_string(),
            None => "no keys".to_owned(),
        };
        return Err(JwksProblem::NoneUsable(why));
    }
    Ok(usable)
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
        let doc = format!(r#"{{"keys":[{bad},{good},{good}]}}"#);
        let keys = parse_jwks(doc.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid(), Some("a"));

        let doc = format!(r#"{{"keys":[{bad}]}}"#);
        assert!(matches!(
            parse_jwks(doc.as_bytes()),
            Err(JwksProblem::NoneUsable(_))
        ));
        assert!(matches!(
            parse_jwks(br#"{"keys":[]}"#),
            Err(JwksProblem::Empty)
        ));
        assert!(matches!(parse_jwks(b"{}"), Err(JwksProblem::NotJwks(_))));
        assert!(matches!(
            parse_jwks(b"<html>"),
            Err(JwksProblem::NotJwks(_))
        ));
    }
}
