//! Step 1 of the data path: split a compact JWS, decode it strictly, read the header.
//!
//! No cryptography and no claim rules here. The payload is base64-decoded (so a malformed token
//! is refused before any key work) but only parsed as JSON after its signature has verified.

use crate::error::Error;

mod json;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
pub(crate) use json::{
    parse_object, read_members, read_members_text, Elements, Fields, JsonError, Members, Scalar,
    Strict,
};
use serde::de::MapAccess;
use serde_json::Value;
use std::borrow::Cow;
use std::cell::Cell;

/// base64url with no padding, and no non-zero trailing bits: one encoding per byte string.
pub(crate) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

pub use crate::options::DEFAULT_MAX_TOKEN_LEN;

/// The `cat` value Clerk's minter puts on machine-to-machine tokens, which are never sessions.
pub(crate) const CAT_M2M: &str = "cl_B7d4PD333AAA";
/// Session tokens.
pub(crate) const CAT_SESSION: &str = "cl_B7d4PD111AAA";
/// Tokens Clerk marks as category-neutral.
pub(crate) const CAT_IGNORE: &str = "cl_I7d4PD111III";
/// The `typ` values of an OAuth access token in JWT form (RFC 9068), as Clerk's `isOAuthJwt`.
pub(crate) const OAUTH_TYPS: [&str; 2] = ["at+jwt", "application/at+jwt"];
/// The `sub` prefix of a machine (Clerk's `isM2MJwt`): a JWT about one is a machine token.
pub(crate) const MACHINE_SUB_PREFIX: &str = "mch_";

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
    header: Header<'a>,
    payload: Cow<'a, [u8]>,
    signature: Cow<'a, [u8]>,
}

/// The header members the verifier reads; borrowed from the decoded header unless escaped.
#[derive(Debug, Clone, Default)]
struct Header<'a> {
    alg: Cow<'a, str>,
    kid: Option<Cow<'a, str>>,
    typ: Option<Cow<'a, str>>,
    cat: Option<Cow<'a, str>>,
}

/// Room on the stack for a token's decoded parts, so that verifying a token of the usual size
/// allocates nothing for them. A part that does not fit is decoded onto the heap instead.
pub(crate) struct Scratch {
    header: [u8; 512],
    payload: [u8; 3072],
    /// The largest RSA signature we verify (8192 bits).
    signature: [u8; 1024],
}

impl Scratch {
    pub(crate) const fn new() -> Scratch {
        Scratch {
            header: [0; 512],
            payload: [0; 3072],
            signature: [0; 1024],
        }
    }

    /// Runs `f` with this thread's scratch space: allocated and zeroed once per thread, then
    /// reused, so a verification neither allocates nor clears it. A nested use on the same
    /// thread (a key source that verifies a token while looking up a key) gets its own.
    pub(crate) fn with<T>(f: impl FnOnce(&mut Scratch) -> T) -> T {
        thread_local! {
            static SPARE: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
        }
        let mut scratch = SPARE
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_else(|| Box::new(Scratch::new()));
        let out = f(&mut scratch);
        let _ = SPARE.try_with(|spare| spare.set(Some(scratch)));
        out
    }
}

impl<'a> Token<'a> {
    /// Splits and decodes `token`, refusing anything that is not exactly
    /// `base64url(header).base64url(payload).base64url(signature)` with a JSON-object header.
    ///
    /// The length is checked against `max_len` before any decoding. The signature part may be
    /// empty (an unsecured JWS parses); the verifier refuses an empty signature right after its
    /// `alg` check, so that `alg: none` is reported as `token-invalid-algorithm`, as Clerk does.
    pub fn parse(token: &'a str, max_len: usize) -> Result<Token<'a>, Error> {
        let mut scratch = Scratch::new();
        let t = Token::parse_in(token, max_len, &mut scratch)?;
        Ok(Token {
            // A prefix of `token`: re-borrowed for `'a`, beyond the scratch space.
            signing_input: &token[..t.signing_input.len()],
            header: Header {
                alg: Cow::Owned(t.header.alg.into_owned()),
                kid: t.header.kid.map(|k| Cow::Owned(k.into_owned())),
                typ: t.header.typ.map(|k| Cow::Owned(k.into_owned())),
                cat: t.header.cat.map(|k| Cow::Owned(k.into_owned())),
            },
            payload: Cow::Owned(t.payload.into_owned()),
            signature: Cow::Owned(t.signature.into_owned()),
        })
    }

    /// [`Token::parse`], decoding into `scratch` (the verifier's path: nothing allocated for a
    /// token whose parts fit and whose header strings have no escapes).
    pub(crate) fn parse_in(
        token: &'a str,
        max_len: usize,
        scratch: &'a mut Scratch,
    ) -> Result<Token<'a>, Error> {
        if token.is_empty() {
            return Err(Error::invalid("the token is empty"));
        }
        if token.len() > max_len {
            return Err(Error::invalid("the token is longer than max_token_len"));
        }
        // The first dot ends the header, the last starts the signature. A dot between them (more
        // than three parts) cannot survive base64url decoding, so the middle is searched for one
        // only when a decoding fails, to report the part count first, as it always was.
        let three_parts = || Error::invalid("a JWT has three dot-separated parts");
        let first = token.find('.').ok_or_else(three_parts)?;
        let last = token
            .rfind('.')
            .filter(|&l| l > first)
            .ok_or_else(three_parts)?;
        let (header_b64, payload_b64, sig_b64) =
            (&token[..first], &token[first + 1..last], &token[last + 1..]);
        let parts = |e: Error| {
            if payload_b64.contains('.') {
                three_parts()
            } else {
                e
            }
        };
        let Scratch {
            header: header_buf,
            payload: payload_buf,
            signature: signature_buf,
        } = scratch;
        let header_bytes = decode_part(header_b64, "header", header_buf).map_err(parts)?;
        let payload = decode_part(payload_b64, "payload", payload_buf).map_err(parts)?;
        // Empty is zero bytes; judged by the verifier after `alg` (see above).
        let signature = if sig_b64.is_empty() {
            Cow::Borrowed(&[][..])
        } else {
            decode_part(sig_b64, "signature", signature_buf)?
        };
        let header = match header_bytes {
            Cow::Borrowed(bytes) => Header::parse(bytes)?,
            // A header too long for the scratch space: rare enough to copy its strings out.
            Cow::Owned(bytes) => Header::parse(&bytes)?.into_owned(),
        };
        Ok(Token {
            signing_input: &token[..last],
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

    /// Whether the header alone makes this a machine token, which is never a session: `cat`
    /// names a machine-to-machine token, or `typ` an OAuth access token (`at+jwt`). A JWT whose
    /// payload `sub` is a machine (`mch_…`) is one too; the verifier finds that out after the
    /// signature, since the payload is not read before.
    pub fn is_machine_token(&self) -> bool {
        self.category() == Some(CAT_M2M) || self.typ().is_some_and(|t| OAUTH_TYPS.contains(&t))
    }

    /// `<header>.<payload>` exactly as received: the bytes the signature covers.
    pub fn signing_input(&self) -> &'a str {
        self.signing_input
    }

    pub(crate) fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The decoded payload, not yet parsed: the verifier reads it only after the signature
    /// has verified; `dangerous::inspect` reads it without.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload as a JSON object (tools; the verifier reads claims without a map).
    pub(crate) fn payload_json(&self) -> Result<serde_json::Map<String, Value>, Error> {
        parse_object(&self.payload).map_err(payload_error)
    }
}

/// The error for a payload that is not a strict JSON object.
pub(crate) fn payload_error(e: JsonError) -> Error {
    Error::TokenInvalid(format!("the payload is {}", e.describe()).into())
}

fn decode_part<'b>(
    part: &str,
    what: &'static str,
    buf: &'b mut [u8],
) -> Result<Cow<'b, [u8]>, Error> {
    if part.is_empty() {
        return Err(Error::TokenInvalid(
            format!("the {what} part is empty").into(),
        ));
    }
    let not_base64 =
        || Error::TokenInvalid(format!("the {what} part is not unpadded base64url").into());
    // SIMD, with the rules of `B64URL` (no padding, no stray trailing bits; `decoded_length`
    // refuses impossible lengths). The test below holds the two to the same answers.
    let b64 = base64_simd::URL_SAFE_NO_PAD;
    let len = b64
        .decoded_length(part.as_bytes())
        .map_err(|_| not_base64())?;
    match buf.get_mut(..len) {
        Some(room) => {
            let out = b64
                .decode(part.as_bytes(), base64_simd::Out::from_slice(room))
                .map_err(|_| not_base64())?;
            Ok(Cow::Borrowed(out))
        }
        None => b64
            .decode_to_vec(part.as_bytes())
            .map(Cow::Owned)
            .map_err(|_| not_base64()),
    }
}

/// Where each header member goes in [`HeaderReader`].
const H_ALG: usize = 0;
const H_KID: usize = 1;
const H_TYP: usize = 2;
const H_CAT: usize = 3;
const H_CRIT: usize = 4;

/// The header members read in one pass over the header JSON.
#[derive(Default)]
struct HeaderReader<'a> {
    alg: Option<Scalar<'a>>,
    kid: Option<Scalar<'a>>,
    typ: Option<Scalar<'a>>,
    cat: Option<Scalar<'a>>,
    crit: bool,
}

impl<'a> Members<'a> for HeaderReader<'a> {
    fn slot(name: &str) -> Option<usize> {
        match name {
            "alg" => Some(H_ALG),
            "kid" => Some(H_KID),
            "typ" => Some(H_TYP),
            "cat" => Some(H_CAT),
            "crit" => Some(H_CRIT),
            _ => None,
        }
    }

    fn read<A: MapAccess<'a>>(
        &mut self,
        slot: usize,
        map: &mut A,
        depth: usize,
    ) -> Result<(), A::Error> {
        let value = Scalar::read(map, depth)?;
        match slot {
            H_ALG => self.alg = Some(value),
            H_KID => self.kid = Some(value),
            H_TYP => self.typ = Some(value),
            H_CAT => self.cat = Some(value),
            _ => self.crit = true,
        }
        Ok(())
    }
}

impl<'a> Header<'a> {
    fn parse(bytes: &'a [u8]) -> Result<Header<'a>, Error> {
        let mut r = HeaderReader::default();
        read_members(bytes, &mut r)
            .map_err(|e| Error::TokenInvalid(format!("the header is {}", e.describe()).into()))?;
        if r.crit {
            // RFC 7515 §4.1.11: we understand no extensions, so a critical one must fail.
            return Err(Error::invalid(
                "the header lists critical extensions (crit)",
            ));
        }
        fn string<'a>(
            v: Option<Scalar<'a>>,
            name: &'static str,
        ) -> Result<Option<Cow<'a, str>>, Error> {
            match v {
                None => Ok(None),
                Some(Scalar::Str(s)) => Ok(Some(s)),
                Some(_) => Err(Error::TokenInvalid(
                    format!("the header member {name:?} is not a string").into(),
                )),
            }
        }
        let typ = string(r.typ, "typ")?;
        let cat = string(r.cat, "cat")?;
        let kid = string(r.kid, "kid")?;
        // Clerk's order: typ, then alg. An OAuth access token's `typ` parses, as does any `cat`:
        // the verifier refuses machine tokens as `token-type-mismatch`, and, when it
        // authenticates a request, any other non-session category too.
        if let Some(t) = &typ {
            if t != "JWT" && !OAUTH_TYPS.contains(&t.as_ref()) {
                return Err(Error::invalid("the header typ is not \"JWT\""));
            }
        }
        let alg = match r.alg {
            Some(Scalar::Str(s)) => s,
            Some(_) => return Err(Error::bad_alg("<not a string>")),
            None => return Err(Error::bad_alg("<missing>")),
        };
        Ok(Header { alg, kid, typ, cat })
    }

    fn into_owned<'b>(self) -> Header<'b> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        Header {
            alg: own(self.alg),
            kid: self.kid.map(own),
            typ: self.typ.map(own),
            cat: self.cat.map(own),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

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
        // More than three parts is reported as such, whatever else is wrong with the parts.
        let message = |t: &str| {
            Token::parse(t, DEFAULT_MAX_TOKEN_LEN)
                .unwrap_err()
                .to_string()
        };
        let three = message("a.b");
        assert!(three.contains("three dot-separated parts"), "{three}");
        for t in [
            format!("{good}.x"),
            "!.b.c.d".into(),
            ".a.b.c".into(),
            "a..b.c".into(),
            "e30.e30.e30.".into(),
        ] {
            assert_eq!(message(&t), three, "{t}");
        }
        assert!(message("!.e30.AAAA").contains("header part is not"));
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
    fn simd_base64url_decodes_exactly_as_b64url() {
        // Every string of up to 5 characters over an alphabet with each kind of edge: valid
        // characters of both ends of the table, the standard alphabet's +/, padding, junk.
        let alphabet = b"AQgw_-+/=.a9 ";
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new()];
        let mut layer: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 1..=5 {
            layer = layer
                .iter()
                .flat_map(|prefix| {
                    alphabet.iter().map(move |&c| {
                        let mut s = prefix.clone();
                        s.push(c);
                        s
                    })
                })
                .collect();
            inputs.extend(layer.iter().cloned());
        }
        // And long ones (the SIMD paths), valid or with one character changed.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for len in [31, 32, 33, 63, 64, 65, 342, 683, 1000] {
            for flip in [None, Some(0), Some(len / 2), Some(len - 1)] {
                let mut s: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                            [(seed % 64) as usize]
                    })
                    .collect();
                if let Some(i) = flip {
                    s[i] = b"=+/. \n"[i % 6];
                }
                inputs.push(s);
            }
        }
        let mut buf = [0u8; 2048];
        let mut tiny = [0u8; 4];
        for input in inputs {
            let text = std::str::from_utf8(&input).expect("ASCII");
            let want = B64URL.decode(text).ok();
            let got = decode_part(text, "part", &mut buf)
                .ok()
                .map(Cow::into_owned);
            let heap = decode_part(text, "part", &mut tiny)
                .ok()
                .map(Cow::into_owned);
            if text.is_empty() {
                assert!(got.is_none());
                continue;
            }
            assert_eq!(got, want, "{text:?}");
            assert_eq!(heap, want, "{text:?} (on the heap)");
        }
    }

    #[test]
    fn header_rules() {
        let r = |h: &str| reason(&tok(h, "{}"));
        assert_eq!(r(r#"{"alg":"RS256","crit":["exp"]}"#), "token-invalid");
        assert_eq!(r(r#"{"alg":"RS256","typ":"jwt"}"#), "token-invalid");
        assert_eq!(r(r#"{"alg":"RS256","typ":"AT+JWT"}"#), "token-invalid");
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
        // An OAuth access token in JWT form parses, and is a machine token by its typ alone.
        for typ in ["at+jwt", "application/at+jwt"] {
            let t = tok(&format!(r#"{{"alg":"RS256","typ":"{typ}"}}"#), "{}");
            assert!(Token::parse(&t, DEFAULT_MAX_TOKEN_LEN)
                .unwrap()
                .is_machine_token());
        }
    }
}
