//! Step 3: the signature. Anything that does not verify under the selected key is
//! `token-invalid-signature`, whatever the claims say; a signature that is not even
//! well-formed base64url is `token-invalid`.

use super::common::*;
use clerk_dev::{b64url, b64url_decode, fixtures};
use serde_json::{json, Value};

const BAD_SIG: &str = "token-invalid-signature";

fn both() -> [clerk_verify::Verifier; 2] {
    [jwks_verifier(), pem_verifier()]
}

#[test]
fn stripped_signature() {
    let t = good_token();
    let (h, p, _) = parts(&t);
    for v in both() {
        refused(&v, &format!("{h}.{p}."), "token-invalid");
    }
}

#[test]
fn truncated_signature() {
    let t = good_token();
    let sig = sig_bytes(&t);
    assert_eq!(sig.len(), 256);
    for v in both() {
        // Truncated at byte granularity: well-formed base64url, wrong signature.
        for len in [255, 254, 200, 128, 1] {
            refused(&v, &with_sig(&t, &sig[..len]), BAD_SIG);
        }
        // Truncated by characters: 341 characters is not a possible base64url length.
        refused(&v, &t[..t.len() - 1], "token-invalid");
    }
}

#[test]
fn extended_or_replaced_signature() {
    let t = good_token();
    let mut sig = sig_bytes(&t);
    for v in both() {
        let mut longer = sig.clone();
        longer.push(0);
        refused(&v, &with_sig(&t, &longer), BAD_SIG);
        let mut prefixed = vec![0u8];
        prefixed.extend_from_slice(&sig);
        refused(&v, &with_sig(&t, &prefixed), BAD_SIG);
        refused(&v, &with_sig(&t, &[0u8; 256]), BAD_SIG);
        refused(&v, &with_sig(&t, &[0xffu8; 256]), BAD_SIG);
        refused(&v, &with_sig(&t, &[0u8]), BAD_SIG);
    }
    // The signature of another token (same key, different claims).
    let other = session().claim("sub", "user_2").sign(key());
    for v in both() {
        refused(&v, &with_sig(&t, &sig_bytes(&other)), BAD_SIG);
    }
    sig.reverse();
    refused(&pem_verifier(), &with_sig(&t, &sig), BAD_SIG);
}

#[test]
fn flipped_bits_in_the_signature() {
    let t = good_token();
    let sig = sig_bytes(&t);
    for v in both() {
        for (byte, bit) in [
            (0, 0),
            (0, 7),
            (1, 3),
            (100, 5),
            (128, 0),
            (254, 6),
            (255, 0),
            (255, 7),
        ] {
            let mut s = sig.clone();
            s[byte] ^= 1 << bit;
            refused(&v, &with_sig(&t, &s), BAD_SIG);
        }
    }
}

fn claims_of(token: &str) -> Value {
    serde_json::from_slice(&b64url_decode(parts(token).1).unwrap()).unwrap()
}

/// Replaces the payload of `token` with `claims`, keeping its header and signature.
fn with_claims(token: &str, claims: &Value) -> String {
    let (h, _, s) = parts(token);
    format!("{h}.{}.{s}", b64url(claims.to_string().as_bytes()))
}

#[test]
fn tampered_payload() {
    let t = good_token();
    let original = claims_of(&t);
    let mut edited = Vec::new();
    for (name, value) in [
        ("sub", json!("user_admin")),
        ("exp", json!(NOW + 3600)),
        ("azp", json!("https://evil.example")),
        ("o", json!({"id":"org_1","rol":"admin"})),
    ] {
        let mut c = original.clone();
        c[name] = value;
        edited.push(c);
    }
    let mut without_sid = original.clone();
    without_sid.as_object_mut().unwrap().remove("sid");
    edited.push(without_sid);
    for v in both() {
        for c in &edited {
            let tampered = with_claims(&t, c);
            assert_ne!(tampered, t);
            refused(&v, &tampered, BAD_SIG);
        }
        // Same claims, different bytes (a leading space): the signature covers bytes.
        let (h, p, s) = parts(&t);
        let text = String::from_utf8(b64url_decode(p).unwrap()).unwrap();
        let spaced = format!("{h}.{}.{s}", b64url(format!(" {text}").as_bytes()));
        refused(&v, &spaced, BAD_SIG);
    }
}

#[test]
fn tampered_header() {
    let t = good_token();
    let (_, p, s) = parts(&t);
    let v = jwks_verifier();
    // Re-encoded header, same meaning, different bytes.
    let h = b64url(br#"{"kid":"ins_test_2048","alg":"RS256","typ":"JWT"}"#);
    refused(&v, &format!("{h}.{p}.{s}"), BAD_SIG);
    // typ dropped.
    let h = b64url(br#"{"alg":"RS256","kid":"ins_test_2048"}"#);
    refused(&v, &format!("{h}.{p}.{s}"), BAD_SIG);
    // PEM mode: a different kid changes the signed bytes.
    let h = b64url(br#"{"alg":"RS256","kid":"ins_other","typ":"JWT"}"#);
    refused(&pem_verifier(), &format!("{h}.{p}.{s}"), BAD_SIG);
}

#[test]
fn bad_signature_wins_over_bad_claims() {
    // Expired, not yet valid, wrong azp, wrong issuer, no sub: still reported as a bad
    // signature, because claims are only read once the signature verified.
    let strict = opts()
        .authorized_parties(["https://app.example"])
        .audience(["api"])
        .issuer("https://clerk.other");
    let cases = [
        session().claim("exp", NOW - 3600),
        session().claim("nbf", NOW + 3600),
        session().claim("iat", NOW + 3600),
        session().remove_claim("sub"),
        session().claim("exp", "soon"),
        session().remove_claim("exp"),
        session().claim("azp", "https://evil.example"),
        session().raw_payload("[]"),
        session().raw_payload(r#"{"sub":"a","sub":"b"}"#),
    ];
    for builder in cases {
        // Signed by the other key, naming our kid so that JWKS mode finds a key.
        let t = builder
            .clone()
            .header("kid", "ins_test_2048")
            .sign(fixtures::rsa2048_b());
        for v in [
            jwks_verifier_with(strict.clone()),
            pem_verifier_with(strict.clone()),
        ] {
            refused(&v, &t, BAD_SIG);
        }
        // Correctly signed but with a flipped signature bit.
        let t = builder.sign(key());
        let mut sig = sig_bytes(&t);
        sig[17] ^= 0x10;
        refused(
            &pem_verifier_with(strict.clone()),
            &with_sig(&t, &sig),
            BAD_SIG,
        );
    }
}

#[test]
fn valid_signature_then_claims_are_judged() {
    // Sanity for the test above: with a good signature the claim problems are reported.
    let t = session().claim("exp", NOW - 3600).sign(key());
    refused(&pem_verifier(), &t, "token-expired");
    let t = session()
        .raw_payload(r#"{"sub":"a","sub":"b"}"#)
        .sign(key());
    refused(&pem_verifier(), &t, "token-invalid");
}
