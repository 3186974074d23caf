//! Reading a token **without verifying it**: for tools that show what a token says
//! (`clerk-verify inspect`, debugging, logs you control), never for deciding who a request is.
//!
//! Nothing here checks the signature, so anyone can make a token say anything. The name of the
//! module is the warning, as in `jsonwebtoken::dangerous`.

use crate::claims::{self, Claims};
use crate::error::Error;
use crate::keys::Algorithm;
use crate::options::VerifyOptions;
use crate::token::{parse_object, payload_error, Token, B64URL};
use base64::Engine;
use serde_json::{Map, Value};

/// What an unverified token says, and what [`crate::Verifier::verify`] would refuse in it
/// before even looking at a key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Unverified {
    /// The header, as sent.
    pub header: Map<String, Value>,
    /// The payload, as sent.
    pub payload: Map<String, Value>,
    /// The payload typed as [`Claims`] (organization resolved from either of Clerk's formats),
    /// or why it cannot be.
    pub claims: Result<Claims, Error>,
    /// What `verify` would refuse with these options, not counting the key and the signature:
    /// the header rules (`alg`, category, empty signature), then the first claim rule that
    /// fails, in Clerk's order.
    pub problems: Vec<Error>,
}

/// Decodes `token` without verifying it, and lists what `opts` would refuse in it.
///
/// `Err` only when the token is not a well-formed compact JWS with a JSON payload (what
/// `verify` would call `token-invalid` before anything else).
///
/// ```
/// use clerk_verify::{dangerous, VerifyOptions};
///
/// # let token = clerk_dev::TokenBuilder::session("user_1", 1_700_000_000)
/// #     .sign(clerk_dev::fixtures::rsa2048());
/// let seen = dangerous::inspect(&token, &VerifyOptions::default())?;
/// assert_eq!(seen.claims.as_ref().unwrap().user_id(), "user_1");
/// // Issued in 2023 and short-lived: `verify` would say it expired.
/// assert_eq!(seen.problems[0].reason(), "token-expired");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
pub fn inspect(token: &str, opts: &VerifyOptions) -> Result<Unverified, Error> {
    let parsed = Token::parse(token, opts.max_token_len)?;
    let header_b64 = parsed.signing_input().split('.').next().unwrap_or_default();
    // Token::parse has decoded and checked both parts already; these cannot fail.
    let header = B64URL
        .decode(header_b64)
        .ok()
        .and_then(|bytes| parse_object(&bytes).ok())
        .unwrap_or_default();
    let payload = parsed.payload_json()?;

    let mut problems = Vec::new();
    if parsed.is_machine_token() || !parsed.is_session_category() {
        problems.push(Error::TokenTypeMismatch);
    }
    let rsa_allowed = Algorithm::from_name(parsed.alg())
        .is_some_and(|a| a.is_rsa() && opts.algorithms.contains(&a));
    if !rsa_allowed {
        problems.push(Error::bad_alg(parsed.alg()));
    }
    if parsed.signature().is_empty() {
        problems.push(Error::invalid("the signature part is empty"));
    }
    // Read again the way the verifier reads it (the map above is for showing).
    let read = claims::Payload::read(parsed.payload(), &opts.audience).map_err(payload_error)?;
    if let Err(e) = claims::check(&read, opts, opts.clock.now()) {
        problems.push(e);
    }
    let text = String::from_utf8_lossy(parsed.payload());
    let claims = Claims::from_payload(&read, &text);
    if let Err(e) = &claims {
        if !problems.contains(e) {
            problems.push(e.clone());
        }
    }
    Ok(Unverified {
        header,
        payload,
        claims,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Clock;
    use clerk_dev::{fixtures, TokenBuilder};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn lists_what_verify_would_refuse() {
        let now = 1_750_000_000;
        let opts = VerifyOptions::default()
            .clock(Clock::fixed(UNIX_EPOCH + Duration::from_secs(now as u64)))
            .authorized_parties(["https://app.example"]);
        let good = TokenBuilder::session("user_1", now).claim("azp", "https://app.example");
        let seen = inspect(&good.clone().sign(fixtures::rsa2048()), &opts).unwrap();
        assert!(seen.problems.is_empty(), "{:?}", seen.problems);
        assert_eq!(seen.header["kid"], "ins_test_2048");
        let reasons = |t: String| -> Vec<&'static str> {
            inspect(&t, &opts)
                .unwrap()
                .problems
                .iter()
                .map(Error::reason)
                .collect()
        };
        let m2m = good
            .clone()
            .header("cat", "cl_B7d4PD333AAA")
            .header("alg", "HS256")
            .claim("azp", "https://evil.example");
        assert_eq!(
            reasons(m2m.sign_hs256(fixtures::HS256_SECRET)),
            [
                "token-type-mismatch",
                "token-invalid-algorithm",
                "token-invalid-authorized-parties"
            ]
        );
        let template = good.clone().header("cat", "cl_B7d4PD222AAA");
        assert_eq!(
            reasons(template.sign(fixtures::rsa2048())),
            ["token-type-mismatch"]
        );
        // The signature is never checked: a token signed by anyone decodes.
        let forged = good.sign(fixtures::rsa2048_b());
        assert!(reasons(forged).is_empty());
        assert_eq!(
            inspect("not a token", &opts).unwrap_err().reason(),
            "token-invalid"
        );
    }
}
