//! Step 1 of the data path: split a compact JWS, decode it strictly, read the header.
//!
//! No cryptography and no claim rules here. The payload is base64-decoded (so a malformed token
//! is refused before any key work) but only parsed as JSON after its signature has verified.

use crate::error::Error;

mod json;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
pub(crate) use json::parse_object;
use serde_json::Value;

/// base64url with no padding, and no non-zero trailing bits: one encoding per byte string.
pub(crate) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Default cap on a token's length, in bytes (Clerk's session tokens are well under 4 KiB).
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

/// The `cat` value Clerk's minter puts on machine-to-machine tokens, which are never sessions.
pub(crate) const CAT_M2M: &str = "cl_B7d4PD333AAA";
/// Session tokens.
pub(crate) const CAT_SESSION: &str = "cl_B7d4PD111AAA";
/// Tokens Clerk marks as category-neutral.
pub(crate) const CAT_IGNORE: &str = "cl_I7d4PD111III";

/// A compact JWS split and decoded, its signature **not yet checked**.
///
/// Only the header is readable: the payload stays opaque until [`crate::Verifier`] has checked the
/// signature. Useful on its own for routing (which key source issued this?) and for fuzzing.
/// To read a token's claims without verifying it, use `clerk-verify inspect` (never in a request
/// path).
///
/// ```
/// use clerk_verify::token::Token;
/// // {"alg":"RS256","kid":"ins_1"} . {} . (signature bytes)
/// let t = Token::parse("eyJhbGciOiJSUzI1NiIsImtpZCI6Imluc18xIn0.e30.AAAA", 16 * 1024).unwrap();
/// assert_eq!(t.alg(), "RS256");
/// assert_eq!(t.kid(), Some("ins_1"));
/// assert!(Token::parse("not a token", 16 * 1024).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Token<'a> {
    signing_input: &'a str,
    header: Header,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Header {
    alg: String,
    kid: Option<String>,
    typ: Option<String>,
    cat: Option<String>,
}

impl<'a> Token<'a> {
    /// Splits and decodes `token`, refusing anything that is not exactly
    /// `base64url(header).base64url(payload).base64url(signature)` with a JSON-object header.
    ///
    /// The length is checked against `max_len` before any decoding. The signature part may be
    /// empty (an unsecured JWS parses); the verifier refuses an empty signature right after its
    /// `alg` check, so that `alg: none` is reported as `token-invalid-algorithm`, as Clerk does.
    pub fn parse(token: &'a str, max_len: usize) -> Result<Token<'a>, Error> {
        if token.is_empty() {
            return Err(Error::invalid("the token is empty"));
        }
        if token.len() > max_len {
            return Err(Error::invalid("the token is longer than max_token_len"));
        }
        let (signing_input, sig_b64) = token
            .rsplit_once('.')
            .ok_or_else(|| Error::invalid("a JWT has three dot-separated parts"))?;
        let (header_b64, payload_b64) = signing_input
            .split_once('.')
            .ok_or_else(|| Error::invalid("a JWT has three dot-separated parts"))?;
        if payload_b64.contains('.') {
            return Err(Error::invalid("a JWT has three dot-separated parts"));
        }
        let header_bytes = decode_part(header_b64, "header")?;
        let payload = decode_part(payload_b64, "payload")?;
        // Empty is zero bytes; judged by the verifier after `alg` (see above).
        let signature = if sig_b64.is_empty() {
            Vec::new()
        } else {
            decode_part(sig_b64, "signature")?
        };
        let header = Header::parse(&header_bytes)?;
        Ok(Token {
            signing_input,
            header,
            payload,
            signature,
        })
    }

    /// The header's `alg`, as written (not yet checked against anything).
    pub fn alg(&self) -> &str {
        &self.header.alg
    }

    /// The header's `kid`, if any.
    pub fn kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The header's `typ`, if any.
    pub fn typ(&self) -> Option<&str> {
        self.header.typ.as_deref()
    }

    /// The header's `cat` (Clerk's token category), if any.
    pub fn category(&self) -> Option<&str> {
        self.header.cat.as_deref()
    }

    /// Whether `cat` is absent or names a session (or category-neutral) token, as
    /// `authenticateRequest()` requires of a session token.
    pub fn is_session_category(&self) -> bool {
        matches!(self.category(), None | Some(CAT_SESSION) | Some(CAT_IGNORE))
    }

    /// Whether `cat` names a machine-to-machine token, which is never a session.
    pub fn is_machine_token(&self) -> bool {
        self.category() == Some(CAT_M2M)
    }

    /// `<header>.<payload>` exactly as received: the bytes the signature covers.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The payload as a JSON object. The verifier calls it only after the signature has
    /// verified; `dangerous::inspect` calls it without.
    pub(crate) fn payload_json(&self) -> Result<serde_json::Map<String, Value>, Error> {
        parse_object(&self.payload)
            .map_err(|e| Error::TokenInvalid(format!("the payload is {}", e.describe()).into()))
    }
}

fn decode_part(part: &str, what: &'static str) -> Result<Vec<u8>, Error> {
    if part.is_empty() {
        return Err(Error::TokenInvalid(
            format!("the {what} part is empty").into(),
        ));
    }
    B64URL.decode(part).map_err(|_| {
        Error::TokenInvalid(format!("the {what} part is not unpadded base64url").into())
    })
}

impl Header {
    fn parse(bytes: &[u8]) -> Result<Header, Error> {
        let map = parse_object(bytes)
            .map_err(|e| Error::TokenInvalid(format!("the header is {}", e.describe()).into()))?;
        if map.contains_key("crit") {
            // RFC 7515 §4.1.11: we understand no extensions, so a critical one must fail.
            return Err(Error::invalid(
                "the header lists critical extensions (crit)",
            ));
        }
        let string = |name: &'static str| -> Result<Option<String>, Error> {
            match map.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::TokenInvalid(
                    format!("the header member {name:?} is not a string").into(),
                )),
            }
        };
        let typ = string("typ")?;
        let cat = string("cat")?;
        let kid = string("kid")?;
        // Clerk's order: typ, then alg. The category (`cat`) is judged by the verifier, which
        // knows whether it is authenticating a request (any non-session category refused as
        // `token-type-mismatch`) or verifying a token (machine tokens refused as `token-invalid`).
        if let Some(t) = &typ {
            if t != "JWT" {
                return Err(Error::invalid("the header typ is not \"JWT\""));
            }
        }
        let alg = match map.get("alg") {
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(Error::bad_alg("<not a string>")),
            None => return Err(Error::bad_alg("<missing>")),
        };
        Ok(Header { alg, kid, typ, cat })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        B64URL.encode(s)
    }

    fn tok(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", enc(header), enc(payload), enc("sig"))
    }

    fn reason(t: &str) -> &'static str {
        Token::parse(t, DEFAULT_MAX_TOKEN_LEN).unwrap_err().reason()
    }

    #[test]
    fn parses_a_well_formed_token() {
        let t = tok(r#"{"alg":"RS256","kid":"k","typ":"JWT"}"#, r#"{"sub":"u"}"#);
        let p = Token::parse(&t, DEFAULT_MAX_TOKEN_LEN).unwrap();
        assert_eq!(p.alg(), "RS256");
        assert_eq!(p.kid(), Some("k"));
        assert_eq!(p.signature(), b"sig");
        assert_eq!(p.payload_json().unwrap()["sub"], "u");
        assert!(t.starts_with(p.signing_input()));
    }

    #[test]
    fn part_count() {
        let good = tok(r#"{"alg":"RS256"}"#, "{}");
        assert_eq!(reason(&format!("{good}.x")), "token-invalid");
        assert_eq!(reason("a.b"), "token-invalid");
        assert_eq!(reason("abc"), "token-invalid");
        assert_eq!(reason(""), "token-invalid");
        assert_eq!(reason(".."), "token-invalid");
    }

    #[test]
    fn empty_signature_parses_for_the_verifier_to_judge() {
        let h = enc(r#"{"alg":"none"}"#);
        let t = format!("{h}.{}.", enc("{}"));
        let p = Token::parse(&t, DEFAULT_MAX_TOKEN_LEN).unwrap();
        assert!(p.signature().is_empty());
        assert_eq!(reason(&format!("{h}..")), "token-invalid");
    }

    #[test]
    fn base64_is_strict() {
        let h = enc(r#"{"alg":"RS256"}"#);
        let p = enc("{}");
        for bad_sig in ["AAAA=", "AA==", "A+/A", "A", "AB"] {
            let t = format!("{h}.{p}.{bad_sig}");
            assert_eq!(reason(&t), "token-invalid", "{bad_sig}");
        }
        // Padded header.
        assert_eq!(reason(&format!("{h}=.{p}.AAAA")), "token-invalid");
        // Whitespace anywhere.
        assert_eq!(reason(&format!(" {h}.{p}.AAAA")), "token-invalid");
        assert_eq!(reason(&format!("{h}.{p}.AAAA\n")), "token-invalid");
    }

    #[test]
    fn header_rules() {
        let r = |h: &str| reason(&tok(h, "{}"));
        assert_eq!(r(r#"{"alg":"RS256","crit":["exp"]}"#), "token-invalid");
        assert_eq!(r(r#"{"alg":"RS256","typ":"jwt"}"#), "token-invalid");
        assert_eq!(r(r#"{"alg":"RS256","typ":"at+jwt"}"#), "token-invalid");
        assert_eq!(r(r#"{"alg":"RS256","alg":"RS256"}"#), "token-invalid");
        assert_eq!(r(r#"{"alg":"RS256","kid":7}"#), "token-invalid");
        assert_eq!(r(r#"["RS256"]"#), "token-invalid");
        assert_eq!(r(r#"{"alg":5}"#), "token-invalid-algorithm");
        assert_eq!(r(r#"{"kid":"k"}"#), "token-invalid-algorithm");
    }

    #[test]
    fn length_is_checked_first() {
        let t = "a".repeat(100);
        assert_eq!(Token::parse(&t, 99).unwrap_err().reason(), "token-invalid");
    }

    #[test]
    fn session_category() {
        // A machine token parses: the verifier decides (token-invalid or token-type-mismatch).
        let t = tok(r#"{"alg":"RS256","cat":"cl_B7d4PD333AAA"}"#, "{}");
        let p = Token::parse(&t, DEFAULT_MAX_TOKEN_LEN).unwrap();
        assert!(p.is_machine_token() && !p.is_session_category());
        let t = tok(r#"{"alg":"RS256","cat":"cl_B7d4PD222AAA"}"#, "{}");
        assert!(!Token::parse(&t, DEFAULT_MAX_TOKEN_LEN)
            .unwrap()
            .is_session_category());
        let t = tok(r#"{"alg":"RS256","cat":"cl_B7d4PD111AAA"}"#, "{}");
        assert!(Token::parse(&t, DEFAULT_MAX_TOKEN_LEN)
            .unwrap()
            .is_session_category());
    }
}
