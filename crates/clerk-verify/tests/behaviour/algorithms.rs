//! Which `alg` a token may name: RS256 by default, RS384/RS512 when allowed, the JWK's `alg`
//! pinning it, and everything else `token-invalid-algorithm`.

use super::common::*;
use clerk_verify::{Algorithm, Verifier};
use serde_json::json;

const BAD_ALG: &str = "token-invalid-algorithm";

fn all_rsa() -> [Algorithm; 3] {
    [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512]
}

/// A JWKS for the default key with its `alg` member set to `alg` (or removed when `None`).
fn jwks_with_alg(alg: Option<&str>) -> String {
    let mut jwk = key().public_jwk();
    let obj = jwk.as_object_mut().unwrap();
    match alg {
        Some(a) => {
            obj.insert("alg".into(), json!(a));
        }
        None => {
            obj.remove("alg");
        }
    }
    json!({ "keys": [jwk] }).to_string()
}

#[test]
fn none_is_refused() {
    for v in [jwks_verifier(), pem_verifier()] {
        // The canonical unsecured JWS: alg "none" and an empty signature.
        refused(&v, &session().unsigned(), BAD_ALG);
        // alg "none" with a kid we hold, and with a real RS256 signature attached.
        let t = session()
            .header("alg", "none")
            .header("kid", "ins_test_2048")
            .unsigned();
        refused(&v, &t, BAD_ALG);
        let t = session()
            .header("alg", "none")
            .sign_with_alg(key(), "RS256");
        refused(&v, &t, BAD_ALG);
        for name in ["None", "NONE", "nOnE", ""] {
            let t = session().header("alg", name).sign_with_alg(key(), "RS256");
            refused(&v, &t, BAD_ALG);
        }
    }
}

#[test]
fn none_is_refused_before_key_lookup() {
    // An unknown kid does not turn an alg refusal into a kid mismatch (nor trigger a fetch).
    let t = session()
        .header("alg", "none")
        .header("kid", "ins_unknown")
        .unsigned();
    refused(&jwks_verifier(), &t, BAD_ALG);
}

#[test]
fn rs256_header_with_empty_signature_is_malformed() {
    // `alg: RS256` but no signature at all: a stripped signature, refused as malformed.
    let t = session().header("alg", "RS256").unsigned();
    assert!(t.ends_with('.'));
    refused(&jwks_verifier(), &t, "token-invalid");
    refused(&pem_verifier(), &t, "token-invalid");
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_refused() {
    // The classic algorithm confusion: HMAC keyed with the public key's PEM text.
    let k = key();
    let secrets = [
        k.public_pem(),
        k.public_pem().trim_end().to_owned(),
        k.public_pkcs1_pem(),
        k.jwks_json(),
    ];
    for secret in &secrets {
        // PEM mode: the kid is irrelevant.
        let t = session().sign_hs256(secret.as_bytes());
        refused(&pem_verifier(), &t, BAD_ALG);
        // JWKS mode, with the kid of the key we hold (as an attacker would copy it).
        let t = session()
            .header("kid", "ins_test_2048")
            .sign_hs256(secret.as_bytes());
        refused(&jwks_verifier(), &t, BAD_ALG);
        // Allowing every RSA algorithm changes nothing: HS256 needs a secret-key verifier.
        let v = pem_verifier_with(opts().algorithms(all_rsa()));
        refused(&v, &session().sign_hs256(secret.as_bytes()), BAD_ALG);
    }
}

#[test]
fn hs256_in_jwks_mode_is_refused_before_any_key_lookup() {
    // An RSA key source never holds an HS256 secret, so the algorithm is refused before the kid
    // is even looked up (with or without a kid), and no refetch can be triggered by it.
    let t = session().sign_hs256(key().public_pem().as_bytes());
    refused(&jwks_verifier(), &t, BAD_ALG);
    let with_kid = session()
        .header("kid", key().kid())
        .sign_hs256(key().public_pem().as_bytes());
    refused(&jwks_verifier(), &with_kid, BAD_ALG);
}

#[test]
fn pss_is_refused() {
    for v in [
        jwks_verifier(),
        pem_verifier_with(opts().algorithms(all_rsa())),
    ] {
        for alg in ["PS256", "PS384", "PS512"] {
            // A genuine PSS token, header and signature agreeing.
            let t = session().header("alg", alg).sign(key());
            refused(&v, &t, BAD_ALG);
        }
    }
    // A PSS signature under an RS256 header: the header is fine, the signature is not.
    let t = session().sign_with_alg(key(), "PS256");
    refused(&jwks_verifier(), &t, "token-invalid-signature");
}

#[test]
fn other_names_are_refused() {
    let v = pem_verifier_with(opts().algorithms(all_rsa()));
    for alg in [
        "rs256",
        "Rs256",
        "rS256",
        "RS256 ",
        " RS256",
        "RS256\u{0}",
        "RS-256",
        "RS",
        "RS1",
        "RS2048",
        "HS384",
        "HS512",
        "ES256",
        "ES384",
        "ES256K",
        "EdDSA",
        "Ed25519",
        "RSA-OAEP",
        "dir",
        "A128KW",
    ] {
        let t = session().header("alg", alg).sign_with_alg(key(), "RS256");
        refused(&v, &t, BAD_ALG);
    }
}

#[test]
fn long_alg_names_are_shortened_in_messages() {
    let alg = "X".repeat(5000);
    let t = session()
        .header("alg", alg.as_str())
        .sign_with_alg(key(), "RS256");
    let e = refused(&pem_verifier(), &t, BAD_ALG);
    let msg = e.to_string();
    assert!(!msg.contains(&alg) && msg.len() < 600, "{msg}");
}

#[test]
fn rs384_and_rs512_are_refused_by_default() {
    for alg in ["RS384", "RS512"] {
        let t = session().header("alg", alg).sign(key());
        refused(&jwks_verifier(), &t, BAD_ALG);
        refused(&pem_verifier(), &t, BAD_ALG);
    }
}

#[test]
fn rs384_and_rs512_are_accepted_when_allowed() {
    let v = pem_verifier_with(opts().algorithms(all_rsa()));
    for alg in ["RS256", "RS384", "RS512"] {
        let t = session().header("alg", alg).sign(key());
        assert_eq!(accepted(&v, &t).sub, "user_1");
    }
    // A JWK without alg does not pin anything either.
    let v = Verifier::from_jwks(&jwks_with_alg(None), opts().algorithms(all_rsa())).unwrap();
    for alg in ["RS256", "RS384", "RS512"] {
        accepted(&v, &session().header("alg", alg).sign(key()));
    }
    // Allowing only some: the others stay refused.
    let v = pem_verifier_with(opts().algorithms([Algorithm::RS384]));
    accepted(&v, &session().header("alg", "RS384").sign(key()));
    refused(&v, &session().sign(key()), BAD_ALG);
    refused(&v, &session().header("alg", "RS512").sign(key()), BAD_ALG);
}

#[test]
fn a_signature_made_with_another_hash_does_not_verify() {
    // Header says RS512 (allowed), signature is RS256: the algorithm comes from the header as
    // checked against the allow-list, and the signature must match it.
    let v = pem_verifier_with(opts().algorithms(all_rsa()));
    let t = session()
        .header("alg", "RS512")
        .sign_with_alg(key(), "RS256");
    refused(&v, &t, "token-invalid-signature");
    let t = session().sign_with_alg(key(), "RS384");
    refused(&v, &t, "token-invalid-signature");
}

#[test]
fn jwk_alg_pins_the_algorithm() {
    // The JWK says RS256 (Clerk's JWKS does); the token says RS512, which the options allow.
    let v = Verifier::from_jwks(&key().jwks_json(), opts().algorithms(all_rsa())).unwrap();
    let t = session().header("alg", "RS512").sign(key());
    refused(&v, &t, BAD_ALG);
    let t = session().header("alg", "RS384").sign(key());
    refused(&v, &t, BAD_ALG);
    accepted(&v, &session().sign(key()));

    // A key pinned to RS512 refuses RS256 even though RS256 is allowed...
    let v =
        Verifier::from_jwks(&jwks_with_alg(Some("RS512")), opts().algorithms(all_rsa())).unwrap();
    refused(&v, &session().sign(key()), BAD_ALG);
    accepted(&v, &session().header("alg", "RS512").sign(key()));
    // ...and the pin never widens the allow-list: RS512 still has to be allowed.
    let v = Verifier::from_jwks(&jwks_with_alg(Some("RS512")), opts()).unwrap();
    refused(&v, &session().header("alg", "RS512").sign(key()), BAD_ALG);
    refused(&v, &session().sign(key()), BAD_ALG);
}

#[test]
fn jwk_with_unusable_alg_is_refused_at_load() {
    for alg in ["PS256", "HS256", "RSA-OAEP", "none", "rs256"] {
        let e = Verifier::from_jwks(&jwks_with_alg(Some(alg)), opts()).unwrap_err();
        assert_eq!(e.reason(), "jwk-local-invalid", "{alg}");
    }
}

#[test]
fn the_allow_list_is_validated() {
    let jwks = key().jwks_json();
    let e = Verifier::from_jwks(&jwks, opts().algorithms([])).unwrap_err();
    assert_eq!(e.reason(), "config-invalid");
    let e = Verifier::from_jwks(&jwks, opts().algorithms([Algorithm::HS256])).unwrap_err();
    assert_eq!(e.reason(), "config-invalid");
    // The free function applies the same validation.
    let keys = clerk_verify::KeySet::from_jwks(&jwks).unwrap();
    let t = good_token();
    let e = clerk_verify::verify(&t, &keys, &opts().algorithms([])).unwrap_err();
    assert_eq!(e.reason(), "config-invalid");
}

#[test]
fn algorithm_names() {
    assert_eq!(Algorithm::from_name("RS256"), Some(Algorithm::RS256));
    assert_eq!(Algorithm::from_name("rs256"), None);
    assert_eq!(Algorithm::RS512.to_string(), "RS512");
}
