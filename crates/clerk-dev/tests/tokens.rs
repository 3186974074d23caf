//! Minted tokens round-trip through josekit's own verifiers, and raw parts are kept byte for byte.

use clerk_dev::{b64url, b64url_decode, fixtures, jwks_json, DevKey, TokenBuilder};
use josekit::jwk::Jwk;
use josekit::jws::{JwsVerifier, HS256, PS256, PS384, PS512, RS256, RS384, RS512};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Padding;
use openssl::sign::{RsaPssSaltlen, Verifier};
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

fn verify(verifier: &dyn JwsVerifier, token: &str) {
    let (h, p, sig) = parts(token);
    verifier
        .verify(format!("{h}.{p}").as_bytes(), &sig)
        .expect("josekit verifies the signature");
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
fn rs_round_trip_with_josekit_verifier() {
    let key = fixtures::rsa2048();
    let pem = key.public_pem();
    for (alg, verifier) in [
        ("RS256", RS256.verifier_from_pem(&pem).unwrap()),
        ("RS384", RS384.verifier_from_pem(&pem).unwrap()),
        ("RS512", RS512.verifier_from_pem(&pem).unwrap()),
    ] {
        let token = TokenBuilder::session("user_1", NOW)
            .header("alg", alg)
            .sign(key);
        verify(&verifier, &token);
        assert_eq!(decode_json(&parts(&token).0)["alg"], alg);
        // A different key's verifier must reject it.
        let other = RS256.verifier_from_pem(fixtures::rsa2048_b().public_pem());
        if alg == "RS256" {
            let (h, p, sig) = parts(&token);
            assert!(other
                .unwrap()
                .verify(format!("{h}.{p}").as_bytes(), &sig)
                .is_err());
        }
    }
}

#[test]
fn larger_keys_and_pkcs1_and_jwk_verify() {
    for key in [fixtures::rsa3072(), fixtures::rsa4096()] {
        let token = TokenBuilder::session("user_1", NOW).sign(key);
        verify(&RS256.verifier_from_pem(key.public_pem()).unwrap(), &token);
        verify(
            &RS256.verifier_from_pem(key.public_pkcs1_pem()).unwrap(),
            &token,
        );
        let jwk = Jwk::from_bytes(key.public_jwk().to_string()).unwrap();
        verify(&RS256.verifier_from_jwk(&jwk).unwrap(), &token);
        assert_eq!(parts(&token).2.len() as u32 * 8, key.bits());
    }
}

#[test]
fn ps256_round_trip() {
    let key = fixtures::rsa2048();
    let token = TokenBuilder::session("user_1", NOW)
        .header("alg", "PS256")
        .sign(key);
    verify(
        &PS256.verifier_from_pem(key.public_pkcs1_pem()).unwrap(),
        &token,
    );
    // Also with plain OpenSSL and RFC 7518 parameters on the SPKI key.
    let (h, p, sig) = parts(&token);
    let pkey = PKey::public_key_from_pem(key.public_pem().as_bytes()).unwrap();
    let mut v = Verifier::new(MessageDigest::sha256(), &pkey).unwrap();
    v.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
    v.set_rsa_pss_saltlen(RsaPssSaltlen::custom(32)).unwrap();
    v.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
    v.update(format!("{h}.{p}").as_bytes()).unwrap();
    assert!(v.verify(&sig).unwrap());

    for (alg, verifier) in [
        (
            "PS384",
            PS384.verifier_from_pem(key.public_pkcs1_pem()).unwrap(),
        ),
        (
            "PS512",
            PS512.verifier_from_pem(key.public_pkcs1_pem()).unwrap(),
        ),
    ] {
        let token = TokenBuilder::empty().header("alg", alg).sign(key);
        verify(&verifier, &token);
    }

    // Weak keys: OpenSSL directly, same RFC 7518 parameters.
    let weak = fixtures::rsa1024();
    let token = TokenBuilder::empty().header("alg", "PS256").sign(weak);
    let (h, p, sig) = parts(&token);
    let pkey = PKey::public_key_from_pem(weak.public_pem().as_bytes()).unwrap();
    let mut v = Verifier::new(MessageDigest::sha256(), &pkey).unwrap();
    v.set_rsa_padding(Padding::PKCS1_PSS).unwrap();
    v.set_rsa_pss_saltlen(RsaPssSaltlen::custom(32)).unwrap();
    v.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
    v.update(format!("{h}.{p}").as_bytes()).unwrap();
    assert!(v.verify(&sig).unwrap());
}

#[test]
fn weak_key_signs_via_openssl() {
    let key = fixtures::rsa1024();
    let token = TokenBuilder::session("user_1", NOW).sign(key);
    let (h, p, sig) = parts(&token);
    assert_eq!(sig.len(), 128);
    let pkey = PKey::public_key_from_pem(key.public_pem().as_bytes()).unwrap();
    let mut v = Verifier::new(MessageDigest::sha256(), &pkey).unwrap();
    v.update(format!("{h}.{p}").as_bytes()).unwrap();
    assert!(v.verify(&sig).unwrap());
    assert_eq!(decode_json(&h)["kid"], "ins_test_1024");
}

#[test]
fn hs256_round_trip() {
    let token = TokenBuilder::session("user_1", NOW).sign_hs256(fixtures::HS256_SECRET);
    let header = decode_json(&parts(&token).0);
    assert_eq!(header["alg"], "HS256");
    assert!(header.get("kid").is_none());
    verify(
        &HS256.verifier_from_bytes(fixtures::HS256_SECRET).unwrap(),
        &token,
    );

    // Explicit alg is kept (algorithm confusion: HMAC signature under an RS256 header).
    let confused = TokenBuilder::session("user_1", NOW)
        .header("alg", "RS256")
        .sign_hs256(fixtures::rsa2048().public_pem().as_bytes());
    assert_eq!(decode_json(&parts(&confused).0)["alg"], "RS256");
    verify(
        &HS256
            .verifier_from_bytes(fixtures::rsa2048().public_pem().as_bytes())
            .unwrap(),
        &confused,
    );

    // Short secrets (refused by josekit) still get a correct HMAC.
    let short = TokenBuilder::empty().sign_hs256(b"short");
    let (h, p, sig) = parts(&short);
    let pkey = PKey::hmac(b"short").unwrap();
    let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &pkey).unwrap();
    s.update(format!("{h}.{p}").as_bytes()).unwrap();
    assert_eq!(s.sign_to_vec().unwrap(), sig);
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
    verify(
        &RS256
            .verifier_from_pem(fixtures::rsa2048().public_pem())
            .unwrap(),
        &token,
    );
    // sign() reads the (last) alg of the raw header, as serde_json does.
    let b = TokenBuilder::empty().raw_header(r#"{"alg":"none","alg":"RS384"}"#);
    assert_eq!(b.header_json(), r#"{"alg":"none","alg":"RS384"}"#);
    verify(
        &RS384
            .verifier_from_pem(fixtures::rsa2048().public_pem())
            .unwrap(),
        &b.sign(fixtures::rsa2048()),
    );
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
    let pkcs1 = PKey::private_key_from_pem(key.private_pem().as_bytes())
        .unwrap()
        .rsa()
        .unwrap()
        .private_key_to_pem()
        .unwrap();
    let from_pkcs1 = DevKey::from_private_pem(std::str::from_utf8(&pkcs1).unwrap(), "k").unwrap();
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
    verify(&RS256.verifier_from_pem(key.public_pem()).unwrap(), &token);
    let weak = DevKey::generate(1024, "weak");
    assert_eq!(weak.bits(), 1024);
    let _ = TokenBuilder::session("u", NOW).sign(&weak);
}
