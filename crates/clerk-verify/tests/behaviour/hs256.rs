//! HS256 shared-secret mode: opt-in, the key type fixes the algorithm both ways.

use super::common::*;
use clerk_dev::fixtures::HS256_SECRET;
use clerk_verify::{keys::MIN_HS256_SECRET_LEN, Algorithm, Key, KeySet, Verifier};

const BAD_ALG: &str = "token-invalid-algorithm";

fn hs_verifier() -> Verifier {
    Verifier::from_hs256_secret(HS256_SECRET, opts()).expect("HS256 verifier")
}

#[test]
fn builds_and_verifies_with_the_fixture_secret() {
    let v = hs_verifier();
    let t = session().sign_hs256(HS256_SECRET);
    let c = accepted(&v, &t);
    assert_eq!(c.sub, "user_1");
    // The kid is not compared (one key), as with a PEM.
    accepted(
        &v,
        &session().header("kid", "anything").sign_hs256(HS256_SECRET),
    );
    // Via KeySet and Key as well.
    let keys = KeySet::from_hs256_secret(HS256_SECRET).unwrap();
    assert!(clerk_verify::verify(&t, &keys, &opts()).is_ok());
    let v = Verifier::new(KeySet::single(Key::hs256(HS256_SECRET).unwrap()), opts()).unwrap();
    accepted(&v, &t);
    // The RSA allow-list does not matter to an HS256 verifier.
    let v = Verifier::from_hs256_secret(
        HS256_SECRET,
        opts().algorithms([Algorithm::RS256, Algorithm::RS512]),
    )
    .unwrap();
    accepted(&v, &t);
}

#[test]
fn short_secrets_are_refused_at_build_time() {
    assert_eq!(MIN_HS256_SECRET_LEN, 32);
    let secret = b"0123456789abcdef0123456789abcdef-and-more";
    for len in [0, 1, 16, 31] {
        let e = Verifier::from_hs256_secret(&secret[..len], opts()).unwrap_err();
        assert_eq!(e.reason(), "config-invalid", "{len}");
        // The message states the length, never the secret.
        let msg = e.to_string();
        if len >= 8 {
            assert!(
                !msg.contains(std::str::from_utf8(&secret[..8]).unwrap()),
                "{msg}"
            );
        }
        assert_eq!(
            Key::hs256(&secret[..len]).unwrap_err().reason(),
            "config-invalid"
        );
        assert_eq!(
            KeySet::from_hs256_secret(&secret[..len])
                .unwrap_err()
                .reason(),
            "config-invalid"
        );
    }
    let v = Verifier::from_hs256_secret(&secret[..32], opts()).unwrap();
    accepted(&v, &session().sign_hs256(&secret[..32]));
}

#[test]
fn rs256_token_to_an_hs256_verifier() {
    let v = hs_verifier();
    refused(&v, &good_token(), BAD_ALG);
    for alg in ["RS384", "RS512", "PS256"] {
        refused(&v, &session().header("alg", alg).sign(key()), BAD_ALG);
    }
}

#[test]
fn hs256_token_to_an_rsa_verifier() {
    let t = session()
        .header("kid", "ins_test_2048")
        .sign_hs256(HS256_SECRET);
    refused(&jwks_verifier(), &t, BAD_ALG);
    refused(
        &pem_verifier(),
        &session().sign_hs256(HS256_SECRET),
        BAD_ALG,
    );
}

#[test]
fn other_hmac_names_and_none() {
    let v = hs_verifier();
    for alg in ["HS384", "HS512", "hs256", "Hs256", "HS256 "] {
        let t = session().header("alg", alg).sign_hs256(HS256_SECRET);
        refused(&v, &t, BAD_ALG);
    }
    refused(&v, &session().unsigned(), BAD_ALG);
    let t = session().header("alg", "none").sign_hs256(HS256_SECRET);
    refused(&v, &t, BAD_ALG);
}

#[test]
fn wrong_secret_or_tampering() {
    let v = hs_verifier();
    let mut other = HS256_SECRET.to_vec();
    other[0] ^= 1;
    refused(&v, &session().sign_hs256(&other), "token-invalid-signature");
    // A prefix of the right secret is a different key.
    refused(
        &v,
        &session().sign_hs256(&HS256_SECRET[..32]),
        "token-invalid-signature",
    );
    let t = session().sign_hs256(HS256_SECRET);
    let mut sig = sig_bytes(&t);
    sig[31] ^= 0x80;
    refused(&v, &with_sig(&t, &sig), "token-invalid-signature");
    refused(&v, &with_sig(&t, &sig[..31]), "token-invalid-signature");
    let (h, p, _) = parts(&t);
    refused(&v, &format!("{h}.{p}."), "token-invalid");
}

#[test]
fn claims_are_checked_in_hs256_mode_too() {
    let v = Verifier::from_hs256_secret(
        HS256_SECRET,
        opts().authorized_parties(["https://app.example"]),
    )
    .unwrap();
    refused(
        &v,
        &session()
            .claim("azp", "https://app.example")
            .claim("exp", NOW - 10)
            .sign_hs256(HS256_SECRET),
        "token-expired",
    );
    refused(
        &v,
        &session().sign_hs256(HS256_SECRET),
        "token-invalid-authorized-parties",
    );
    accepted(
        &v,
        &session()
            .claim("azp", "https://app.example")
            .sign_hs256(HS256_SECRET),
    );
    // Signature before claims here as well.
    let bad = session().claim("exp", NOW - 10).sign_hs256(&[7u8; 32]);
    refused(&v, &bad, "token-invalid-signature");
}

#[test]
fn the_secret_never_shows() {
    let secret = b"super-secret-value-that-must-not-leak-0123456789";
    let text = std::str::from_utf8(secret).unwrap();
    let v = Verifier::from_hs256_secret(secret, opts()).unwrap();
    assert!(!format!("{v:?}").contains(text));
    assert!(!format!("{v:?}").contains(&text[..16]));
    let key = Key::hs256(secret).unwrap();
    assert!(!format!("{key:?}").contains(&text[..16]));
    // Every error this verifier produces, Display and Debug.
    let good = session().sign_hs256(secret);
    let mut sig = sig_bytes(&good);
    sig[0] ^= 1;
    let tokens = [
        with_sig(&good, &sig),
        session().sign_hs256(HS256_SECRET),
        good_token(),
        session().claim("exp", NOW - 100).sign_hs256(secret),
        session().remove_claim("sub").sign_hs256(secret),
        session().header("typ", "x").sign_hs256(secret),
        session().header("alg", "HS512").sign_hs256(secret),
        "garbage".to_owned(),
    ];
    for t in &tokens {
        let e = v.verify(t).unwrap_err();
        assert_no_leak(&e, t);
        for s in [e.to_string(), format!("{e:?}")] {
            assert!(!s.contains(&text[..16]), "{s}");
        }
    }
    // The refusal of a short secret does not echo it either.
    let e = Verifier::from_hs256_secret(&secret[..20], opts()).unwrap_err();
    assert!(!e.to_string().contains(&text[..16]) && !format!("{e:?}").contains(&text[..16]));
}
