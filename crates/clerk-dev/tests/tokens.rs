//! Minted tokens verify under `ring` (another implementation than the RustCrypto signer that made
//! them), and raw parts are kept byte for byte.

use clerk_dev::{b64url, b64url_decode, fixtures, jwks_json, DevKey, TokenBuilder};
use ring::signature::{self, RsaPublicKeyComponents};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::Value;

const NOW: i64 = 1_700_000_000;

fn parts(token: &str) -> (String, String, Vec<u8>) {
    let segs: Vec<&str> = token.split('.').collect();
    assert_eq!(segs.len(), 3, "token must have 3 segments: {token}");
    (
        segs[0].to_owned(),
        segs[1].to_owned(),
        b64url_decode(segs[2]).expect("signature is base64url"),
    )
}

fn decode_json(seg: &str) -> Value {
    serde_json::from_slice(&b64url_decode(seg).expect("b64url")).expect("json")
}

/// The public key's big-endian modulus and exponent, read from its JWK.
fn components(key: &DevKey) -> RsaPublicKeyComponents<Vec<u8>> {
    let jwk = key.public_jwk();
    let part = |name: &str| b64url_decode(jwk[name].as_str().unwrap()).unwrap();
    RsaPublicKeyComponents {
        n: part("n"),
        e: part("e"),
    }
}

/// ring's parameters for `alg`, the weak-key ones for keys under 2048 bits.
fn params(alg: &str, weak: bool) -> &'static signature::RsaParameters {
    match (alg, weak) {
        ("RS256", false) => &signature::RSA_PKCS1_2048_8192_SHA256,
        ("RS384", false) => &signature::RSA_PKCS1_2048_8192_SHA384,
        ("RS512", false) => &signature::RSA_PKCS1_2048_8192_SHA512,
        ("RS256", true) => &signature::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        ("PS256", false) => &signature::RSA_PSS_2048_8192_SHA256,
        ("PS384", false) => &signature::RSA_PSS_2048_8192_SHA384,
        ("PS512", false) => &signature::RSA_PSS_2048_8192_SHA512,
        other => panic!("no ring parameters for {other:?}"),
    }
}

/// Checks `token`'s signature under `key` with ring.
fn verify(key: &DevKey, alg: &str, token: &str) {
    let (h, p, sig) = parts(token);
    components(key)
        .verify(
            params(alg, key.bits() < 2048),
            format!("{h}.{p}").as_bytes(),
            &sig,
        )
        .unwrap_or_else(|_| panic!("ring does not verify the {alg} signature"));
}

#[test]
fn session_token_shape() {
    let key = fixtures::rsa2048();
    let token = TokenBuilder::session("user_123", NOW).sign(key);
    let (h, p, _) = parts(&token);
    assert_eq!(
        String::from_utf8(b64url_decode(&h).unwrap()).unwrap(),
        r#"{"alg":"RS256","kid":"ins_test_2048","typ":"JWT"}"#
    );
    let claims = decode_json(&p);
    assert_eq!(
        claims,
        serde_json::json!({
            "sub": "user_123", "sid": "sess_test123", "iss": "https://clerk.example.test",
            "azp": "http://localhost:3000", "iat": NOW, "nbf": NOW - 10, "exp": NOW + 60, "v": 2
        })
    );
}

#[test]
fn rs_round_trip_with_ring() {
    let key = fixtures::rsa2048();
    for alg in ["RS256", "RS384", "RS512"] {
        let token = TokenBuilder::session("user_1", NOW)
            .header("alg", alg)
            .sign(key);
        verify(key, alg, &token);
        assert_eq!(decode_json(&parts(&token).0)["alg"], alg);
        // A different key must not verify it.
        let (h, p, sig) = parts(&token);
        assert!(components(fixtures::rsa2048_b())
            .verify(params(alg, false), format!("{h}.{p}").as_bytes(), &sig)
            .is_err());
    }
}

#[test]
fn larger_keys_and_their_pem_forms_agree() {
    for key in [fixtures::rsa3072(), fixtures::rsa4096()] {
        let token = TokenBuilder::session("user_1", NOW).sign(key);
        verify(key, "RS256", &token);
        assert_eq!(parts(&token).2.len() as u32 * 8, key.bits());
        // The SPKI and PKCS#1 PEMs hold the same key as the JWK.
        let spki = rsa::RsaPublicKey::from_public_key_pem(&key.public_pem()).unwrap();
        let pkcs1 = <rsa::RsaPublicKey as rsa::pkcs1::DecodeRsaPublicKey>::from_pkcs1_pem(
            &key.public_pkcs1_pem(),
        )
        .unwrap();
        assert_eq!(spki, pkcs1);
        assert_eq!(spki.n().to_bytes_be(), components(key).n);
    }
}

#[test]
fn ps_round_trip_with_ring() {
    let key = fixtures::rsa2048();
    for alg in ["PS256", "PS384", "PS512"] {
        let token = TokenBuilder::empty().header("alg", alg).sign(key);
        verify(key, alg, &token);
        // PSS is randomised: two signatures of the same input differ, both verify.
        let again = TokenBuilder::empty().header("alg", alg).sign(key);
        assert_ne!(parts(&token).2, parts(&again).2);
        verify(key, alg, &again);
    }
    // Weak keys sign too (ring has no 1024-bit PSS verifier: the length is the check here).
    let weak = fixtures::rsa1024();
    let token = TokenBuilder::empty().header("alg", "PS256").sign(weak);
    assert_eq!(parts(&token).2.len(), 128);
}

#[test]
fn weak_keys_sign() {
    let key = fixtures::rsa1024();
    let token = TokenBuilder::session("user_1", NOW).sign(key);
    assert_eq!(parts(&token).2.len(), 128);
    verify(key, "RS256", &token);
    assert_eq!(decode_json(&parts(&token).0)["kid"], "ins_test_1024");
}

#[test]
fn hs256_round_trip() {
    let hmac = |secret: &[u8], token: &str| {
        let (h, p, sig) = parts(token);
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        ring::hmac::verify(&k, format!("{h}.{p}").as_bytes(), &sig)
            .expect("ring verifies the HMAC");
    };
    let token = TokenBuilder::session("user_1", NOW).sign_hs256(fixtures::HS256_SECRET);
    let header = decode_json(&parts(&token).0);
    assert_eq!(header["alg"], "HS256");
    assert!(header.get("kid").is_none());
    hmac(fixtures::HS256_SECRET, &token);

    // Explicit alg is kept (algorithm confusion: HMAC signature under an RS256 header).
    let pem = fixtures::rsa2048().public_pem();
    let confused = TokenBuilder::session("user_1", NOW)
        .header("alg", "RS256")
        .sign_hs256(pem.as_bytes());
    assert_eq!(decode_json(&parts(&confused).0)["alg"], "RS256");
    hmac(pem.as_bytes(), &confused);

    // Short secrets still get a correct HMAC.
    hmac(b"short", &TokenBuilder::empty().sign_hs256(b"short"));
}

#[test]
fn raw_parts_are_exact() {
    let raw_h = r#"{"alg":"RS256","alg":"none","kid":"ins_test_2048"}"#;
    let raw_p = "not json at all \u{0}\u{7f}";
    let token = TokenBuilder::session("user_1", NOW)
        .raw_header(raw_h)
        .raw_payload(raw_p)
        .sign_with_alg(fixtures::rsa2048(), "RS256");
    let (h, p, _) = parts(&token);
    assert_eq!(h, b64url(raw_h.as_bytes()));
    assert_eq!(p, b64url(raw_p.as_bytes()));
    verify(fixtures::rsa2048(), "RS256", &token);
    // sign() reads the (last) alg of the raw header, as serde_json does.
    let b = TokenBuilder::empty().raw_header(r#"{"alg":"none","alg":"RS384"}"#);
    assert_eq!(b.header_json(), r#"{"alg":"none","alg":"RS384"}"#);
    verify(fixtures::rsa2048(), "RS384", &b.sign(fixtures::rsa2048()));
}

#[test]
fn header_and_claim_editing() {
    let key = fixtures::rsa2048();
    let b = TokenBuilder::session("user_1", NOW)
        .remove_header("kid")
        .remove_claim("sid")
        .claim("exp", NOW - 1)
        .header("typ", "at+jwt");
    let (h, p, _) = parts(&b.sign(key));
    assert_eq!(
        decode_json(&h),
        serde_json::json!({"alg":"RS256","typ":"at+jwt"})
    );
    let claims = decode_json(&p);
    assert!(claims.get("sid").is_none());
    assert_eq!(claims["exp"], NOW - 1);
    assert_eq!(
        b.payload_json(),
        String::from_utf8(b64url_decode(&p).unwrap()).unwrap()
    );

    let explicit_kid = TokenBuilder::empty().header("kid", "other").sign(key);
    assert_eq!(decode_json(&parts(&explicit_kid).0)["kid"], "other");

    let empty = TokenBuilder::empty();
    assert_eq!(empty.header_json(), r#"{"alg":"RS256"}"#);
    assert_eq!(empty.payload_json(), "{}");
}

#[test]
fn unsigned_tokens() {
    let t = TokenBuilder::session("user_1", NOW).unsigned();
    assert!(t.ends_with('.'));
    let segs: Vec<&str> = t.split('.').collect();
    assert_eq!(segs.len(), 3);
    assert_eq!(segs[2], "");
    assert_eq!(
        decode_json(segs[0]),
        serde_json::json!({"alg":"none","typ":"JWT"})
    );
    let t = TokenBuilder::empty().header("alg", "RS256").unsigned();
    assert_eq!(decode_json(t.split('.').next().unwrap())["alg"], "RS256");
}

#[test]
#[should_panic(expected = "unsupported alg")]
fn unknown_alg_panics() {
    let _ = TokenBuilder::empty()
        .header("alg", "ES256")
        .sign(fixtures::rsa2048());
}

#[test]
fn key_exports() {
    let key = fixtures::rsa2048();
    assert!(key.private_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(key
        .public_pkcs1_pem()
        .starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let jwk = key.public_jwk();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["kid"], "ins_test_2048");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["e"], "AQAB");
    let n = jwk["n"].as_str().unwrap();
    assert!(!n.contains('=') && !n.contains('+') && !n.contains('/'));
    assert_eq!(b64url_decode(n).unwrap().len(), 256);

    let one: Value = serde_json::from_str(&key.jwks_json()).unwrap();
    assert_eq!(one["keys"].as_array().unwrap().len(), 1);
    let two: Value = serde_json::from_str(&jwks_json(&[key, fixtures::rsa2048_b()])).unwrap();
    assert_eq!(two["keys"][1]["kid"], "ins_test_2048_b");

    // Round trip through PEM, PKCS#1 private PEM accepted too.
    let again = DevKey::from_private_pem(&key.private_pem(), "k").unwrap();
    assert_eq!(again.public_pem(), key.public_pem());
    assert_eq!(again.kid(), "k");
    let pkcs1 = rsa::RsaPrivateKey::from_pkcs8_pem(&key.private_pem())
        .unwrap()
        .to_pkcs1_pem(LineEnding::LF)
        .unwrap();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let from_pkcs1 = DevKey::from_private_pem(&pkcs1, "k").unwrap();
    assert_eq!(from_pkcs1.private_pem(), key.private_pem());
    assert!(DevKey::from_private_pem("garbage", "k").is_err());
    assert!(DevKey::from_private_pem(&key.public_pem(), "k").is_err());
}

#[test]
fn generate_works() {
    let key = DevKey::generate(2048, "fresh");
    assert_eq!(key.bits(), 2048);
    assert_eq!(key.public_jwk()["e"], "AQAB");
    let token = TokenBuilder::session("u", NOW).sign(&key);
    verify(&key, "RS256", &token);
    let weak = DevKey::generate(1024, "weak");
    assert_eq!(weak.bits(), 1024);
    let _ = TokenBuilder::session("u", NOW).sign(&weak);
}
