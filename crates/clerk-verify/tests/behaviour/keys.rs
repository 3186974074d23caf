//! Key material: PEM variants, key sizes, JWKS selection by kid, unusable keys.

use super::common::*;
use clerk_dev::{fixtures, jwks_json};
use clerk_verify::{Key, KeySet, Verifier};
use serde_json::json;

const KID_MISMATCH: &str = "jwk-kid-mismatch";
const BAD_SIG: &str = "token-invalid-signature";
const LOCAL_INVALID: &str = "jwk-local-invalid";

/// The SPKI PEM body (base64 between the armour lines, newlines removed).
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat()
}

#[test]
fn pem_variants_all_load_and_verify() {
    let k = key();
    let spki = k.public_pem();
    let pkcs1 = k.public_pkcs1_pem();
    let body = pem_body(&spki);
    assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"));
    let variants = [
        ("SPKI", spki.clone()),
        ("PKCS#1", pkcs1.clone()),
        ("literal \\n", spki.replace('\n', "\\n")),
        ("literal \\r\\n", spki.replace('\n', "\\r\\n")),
        ("PKCS#1 literal \\n", pkcs1.replace('\n', "\\n")),
        (
            "one line",
            format!("-----BEGIN PUBLIC KEY-----{body}-----END PUBLIC KEY-----"),
        ),
        (
            "one line with spaces",
            format!("-----BEGIN PUBLIC KEY----- {body} -----END PUBLIC KEY-----"),
        ),
        ("double-quoted", format!("\"{spki}\"")),
        ("single-quoted", format!("'{spki}'")),
        (
            "quoted with literal \\n",
            format!("\"{}\"", spki.replace('\n', "\\n")),
        ),
        ("CRLF", spki.replace('\n', "\r\n")),
        ("surrounding whitespace", format!("\n\n  {spki}  \n")),
        ("no trailing newline", spki.trim_end().to_owned()),
        (
            "body in one long line",
            format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"),
        ),
    ];
    let t = good_token();
    for (name, pem) in variants {
        let v = Verifier::from_pem(&pem, opts()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(accepted(&v, &t).sub, "user_1", "{name}");
        let key = Key::from_pem(&pem).unwrap();
        assert_eq!(key.rsa_bits(), Some(2048), "{name}");
        // The free function over a KeySet gives the same answer.
        let keys = KeySet::from_pem(&pem).unwrap();
        assert!(clerk_verify::verify(&t, &keys, &opts()).is_ok(), "{name}");
    }
}

#[test]
fn larger_keys_verify() {
    for k in [fixtures::rsa3072(), fixtures::rsa4096()] {
        let t = session().sign(k);
        let v = Verifier::from_pem(&k.public_pem(), opts()).unwrap();
        accepted(&v, &t);
        let v = Verifier::from_pem(&k.public_pkcs1_pem(), opts()).unwrap();
        accepted(&v, &t);
        let v = Verifier::from_jwks(&k.jwks_json(), opts()).unwrap();
        accepted(&v, &t);
        assert_eq!(
            Key::from_pem(&k.public_pem()).unwrap().rsa_bits(),
            Some(k.bits() as usize)
        );
        // And the default key's tokens do not verify under them.
        let other = session().header("kid", k.kid()).sign(key());
        refused(&v, &other, BAD_SIG);
    }
}

#[test]
fn a_1024_bit_key_is_refused_at_load() {
    let weak = fixtures::rsa1024();
    assert_eq!(weak.bits(), 1024);
    for pem in [weak.public_pem(), weak.public_pkcs1_pem()] {
        let e = Verifier::from_pem(&pem, opts()).unwrap_err();
        assert_eq!(e.reason(), LOCAL_INVALID);
        assert!(e.to_string().contains("2048"), "{e}");
    }
    let e = Verifier::from_jwks(&weak.jwks_json(), opts()).unwrap_err();
    assert_eq!(e.reason(), LOCAL_INVALID);
    let e = Key::from_jwk(&weak.public_jwk().to_string()).unwrap_err();
    assert_eq!(e.reason(), LOCAL_INVALID);
}

#[test]
fn a_jwks_skips_a_1024_bit_key_and_uses_the_good_one() {
    let weak = fixtures::rsa1024();
    let v = Verifier::from_jwks(&jwks_json(&[weak, key()]), opts()).unwrap();
    accepted(&v, &good_token());
    // The weak key is not held, and a token naming it is told why (not "another instance").
    let t = session().sign(weak);
    let e = refused(&v, &t, LOCAL_INVALID);
    assert!(e.to_string().contains("1024 bits"), "{e}");
    let keys = KeySet::from_jwks(&jwks_json(&[weak, key()])).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys.kids().collect::<Vec<_>>(), ["ins_test_2048"]);
}

fn jwk_with(k: &clerk_dev::DevKey, member: &str, value: serde_json::Value) -> serde_json::Value {
    let mut jwk = k.public_jwk();
    jwk.as_object_mut().unwrap().insert(member.into(), value);
    jwk
}

#[test]
fn an_encryption_key_is_refused() {
    let enc = jwk_with(key(), "use", json!("enc"));
    let e = Key::from_jwk(&enc.to_string()).unwrap_err();
    assert_eq!(e.reason(), LOCAL_INVALID);
    let e = Verifier::from_jwks(&json!({ "keys": [enc] }).to_string(), opts()).unwrap_err();
    assert_eq!(e.reason(), LOCAL_INVALID);
    // Next to a usable key, the enc key is skipped, and a token naming it is told why.
    let b = fixtures::rsa2048_b();
    let doc = json!({ "keys": [jwk_with(b, "use", json!("enc")), key().public_jwk()] });
    let v = Verifier::from_jwks(&doc.to_string(), opts()).unwrap();
    accepted(&v, &good_token());
    let e = refused(&v, &session().sign(b), LOCAL_INVALID);
    assert!(e.to_string().contains("not for signatures"), "{e}");
    // A kid-less entry is skipped too, instead of failing the whole document.
    let mut kidless = b.public_jwk();
    kidless.as_object_mut().unwrap().remove("kid");
    let doc = json!({ "keys": [kidless, key().public_jwk()] });
    let v = Verifier::from_jwks(&doc.to_string(), opts()).unwrap();
    accepted(&v, &good_token());
    refused(&v, &session().remove_header("kid").sign(b), KID_MISMATCH);
    // key_ops without "verify" is refused the same way; with it, the key is fine.
    let e = Key::from_jwk(&jwk_with(key(), "key_ops", json!(["encrypt"])).to_string());
    assert_eq!(e.unwrap_err().reason(), LOCAL_INVALID);
    assert!(Key::from_jwk(&jwk_with(key(), "key_ops", json!(["verify"])).to_string()).is_ok());
    // `use` absent is fine.
    let mut no_use = key().public_jwk();
    no_use.as_object_mut().unwrap().remove("use");
    let v = Verifier::from_jwks(&json!({ "keys": [no_use] }).to_string(), opts()).unwrap();
    accepted(&v, &good_token());
}

#[test]
fn unusable_key_material_is_refused() {
    // Private members in a JWK, non-RSA JWKs, garbage documents.
    let private = jwk_with(key(), "d", json!("AQAB"));
    assert_eq!(
        Key::from_jwk(&private.to_string()).unwrap_err().reason(),
        LOCAL_INVALID
    );
    for doc in [
        json!({"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"e"}]}).to_string(),
        json!({"keys":[{"kty":"oct","k":"AAAA","kid":"o"}]}).to_string(),
        json!({"keys":"nope"}).to_string(),
        json!([key().public_jwk()]).to_string(),
        "<html>not json</html>".to_owned(),
    ] {
        let e = Verifier::from_jwks(&doc, opts()).unwrap_err();
        assert_eq!(e.reason(), LOCAL_INVALID, "{doc}");
    }
    // Empty inputs are "missing", not "invalid".
    for doc in ["", "   ", r#"{"keys":[]}"#] {
        let e = Verifier::from_jwks(doc, opts()).unwrap_err();
        assert_eq!(e.reason(), "jwk-local-missing", "{doc:?}");
    }
    assert_eq!(
        Verifier::from_pem("", opts()).unwrap_err().reason(),
        "jwk-local-missing"
    );
    // A private key where the public one belongs, and mangled PEMs.
    let e = Verifier::from_pem(&key().private_pem(), opts()).unwrap_err();
    assert_eq!(e.reason(), LOCAL_INVALID);
    assert!(!e
        .to_string()
        .contains(&pem_body(&key().private_pem())[..40]));
    let spki = key().public_pem();
    for bad in [
        spki.replace("-----END PUBLIC KEY-----", ""),
        spki.replace("END PUBLIC KEY", "END RSA PUBLIC KEY"),
        spki.replacen('M', "!", 1),
        pem_body(&spki),
        "hello".to_owned(),
    ] {
        assert_eq!(
            Verifier::from_pem(&bad, opts()).unwrap_err().reason(),
            LOCAL_INVALID,
            "{bad}"
        );
    }
}

#[test]
fn pem_mode_ignores_the_kid() {
    let v = pem_verifier();
    accepted(&v, &session().header("kid", "anything").sign(key()));
    accepted(&v, &session().header("kid", "ins_test_2048_b").sign(key()));
    accepted(&v, &session().header("kid", "").sign(key()));
    accepted(&v, &session().remove_header("kid").sign(key()));
    // Ignoring the kid does not mean accepting other keys.
    refused(&v, &session().sign(fixtures::rsa2048_b()), BAD_SIG);
}

#[test]
fn jwks_mode_needs_a_known_kid() {
    let v = jwks_verifier();
    let held = "ins_test_2048";
    for t in [
        session().header("kid", "ins_unknown").sign(key()),
        session().header("kid", "").sign(key()),
        session().header("kid", "INS_TEST_2048").sign(key()),
        session().header("kid", "ins_test_2048 ").sign(key()),
        session().remove_header("kid").sign(key()),
    ] {
        let e = refused(&v, &t, KID_MISMATCH);
        // The message does not disclose the kids we hold (Clerk removed that in #1816).
        assert!(!e.to_string().contains(held), "{e}");
        assert!(!format!("{e:?}").contains(held), "{e:?}");
    }
}

#[test]
fn jwks_with_several_keys_selects_by_kid() {
    let a = key();
    let b = fixtures::rsa2048_b();
    let v = Verifier::from_jwks(&jwks_json(&[a, b]), opts()).unwrap();
    accepted(&v, &session().sign(a));
    accepted(&v, &session().sign(b));
    // Signed by b but naming a's kid: a's key is used and the signature fails.
    let t = session().header("kid", a.kid()).sign(b);
    refused(&v, &t, BAD_SIG);
    // Duplicate kids: the first entry wins, so a token signed by the second fails.
    let mut b_as_a = b.public_jwk();
    b_as_a["kid"] = json!(a.kid());
    let doc = json!({ "keys": [a.public_jwk(), b_as_a] }).to_string();
    let v = Verifier::from_jwks(&doc, opts()).unwrap();
    accepted(&v, &session().sign(a));
    refused(&v, &session().header("kid", a.kid()).sign(b), BAD_SIG);
}

#[test]
fn the_wrong_key_is_an_invalid_signature() {
    let b = fixtures::rsa2048_b();
    // PEM mode.
    refused(&pem_verifier(), &session().sign(b), BAD_SIG);
    // JWKS mode with the right kid but the other key's signature.
    let t = session().header("kid", "ins_test_2048").sign(b);
    refused(&jwks_verifier(), &t, BAD_SIG);
}

#[test]
fn keys_from_components() {
    let jwk = key().public_jwk();
    let n = clerk_dev::b64url_decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = clerk_dev::b64url_decode(jwk["e"].as_str().unwrap()).unwrap();
    let k = Key::from_rsa_components(&n, &e).unwrap();
    assert_eq!(k.rsa_bits(), Some(2048));
    let v = Verifier::new(KeySet::single(k), opts()).unwrap();
    accepted(&v, &good_token());
    // With a kid, in a kid-selected set.
    let k = Key::from_rsa_components(&n, &e)
        .unwrap()
        .with_kid("ins_test_2048");
    let v = Verifier::new(KeySet::from_keys([k]).unwrap(), opts()).unwrap();
    accepted(&v, &good_token());
    refused(&v, &session().header("kid", "x").sign(key()), KID_MISMATCH);
    // A kid-selected set skips keys without a kid, and needs one with.
    let k = Key::from_rsa_components(&n, &e).unwrap();
    assert_eq!(KeySet::from_keys([k]).unwrap_err().reason(), LOCAL_INVALID);
    assert_eq!(
        KeySet::from_keys([]).unwrap_err().reason(),
        "jwk-local-missing"
    );
    // A weak modulus from components.
    let weak = fixtures::rsa1024().public_jwk();
    let wn = clerk_dev::b64url_decode(weak["n"].as_str().unwrap()).unwrap();
    assert_eq!(
        Key::from_rsa_components(&wn, &e).unwrap_err().reason(),
        LOCAL_INVALID
    );
}

#[test]
fn key_debug_output_is_harmless() {
    let v = jwks_verifier();
    let dbg = format!("{v:?}");
    assert!(dbg.contains("RSA-2048"), "{dbg}");
}

#[test]
fn modulus_and_exponent_bounds() {
    let jwk = key().public_jwk();
    let n = clerk_dev::b64url_decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = clerk_dev::b64url_decode(jwk["e"].as_str().unwrap()).unwrap();
    // Over 8192 bits (ring's ceiling): refused at load, not at verify time.
    let mut huge = vec![0xffu8; 8200 / 8];
    huge[0] = 0xc5;
    assert_eq!(
        Key::from_rsa_components(&huge, &e).unwrap_err().reason(),
        LOCAL_INVALID
    );
    // Exponents ring would not verify with.
    for bad in [&[][..], &[1], &[2], &[1, 0, 0], &[1, 0, 0, 0, 0, 1]] {
        assert_eq!(
            Key::from_rsa_components(&n, bad).unwrap_err().reason(),
            LOCAL_INVALID,
            "{bad:?}"
        );
    }
    // Through a JWK as well.
    let mut bad_e = key().public_jwk();
    bad_e["e"] = json!("AQ");
    assert_eq!(
        Key::from_jwk(&bad_e.to_string()).unwrap_err().reason(),
        LOCAL_INVALID
    );
}

#[test]
fn a_jwks_with_more_than_max_jwks_keys_is_refused_not_cut() {
    let max = clerk_verify::keys::MAX_JWKS_KEYS;
    let doc = |n: usize| {
        let keys: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let mut jwk = key().public_jwk();
                jwk["kid"] = json!(format!("k{i}"));
                jwk
            })
            .collect();
        json!({ "keys": keys }).to_string()
    };
    let set = KeySet::from_jwks(&doc(max)).unwrap();
    assert_eq!(set.len(), max);
    let v = Verifier::new(set, opts()).unwrap();
    accepted(
        &v,
        &session().header("kid", format!("k{}", max - 1)).sign(key()),
    );
    let e = KeySet::from_jwks(&doc(max + 1)).unwrap_err();
    assert_eq!(e.reason(), LOCAL_INVALID);
    assert!(
        e.to_string()
            .contains(&format!("more than the limit of {max}")),
        "{e}"
    );
}

/// A key source that counts lookups, to see which refusals happen before any key work.
#[derive(Debug)]
struct Counting {
    inner: KeySet,
    fetches: std::sync::atomic::AtomicUsize,
    cached: std::sync::atomic::AtomicUsize,
    /// `cached_key` answers "would have to fetch".
    cold: bool,
}

impl clerk_verify::KeyFetcher for Counting {
    fn cached_key(
        &self,
        kid: Option<&str>,
        now: std::time::SystemTime,
    ) -> Option<Result<std::sync::Arc<Key>, clerk_verify::Error>> {
        self.cached
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if self.cold {
            None
        } else {
            self.inner.cached_key(kid, now)
        }
    }

    fn fetch_key(
        &self,
        kid: Option<&str>,
        now: std::time::SystemTime,
    ) -> Result<std::sync::Arc<Key>, clerk_verify::Error> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.fetch_key(kid, now)
    }
}

#[test]
fn malformed_tokens_and_bad_algorithms_never_reach_the_key_source() {
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::Arc;
    let source = Arc::new(Counting {
        inner: KeySet::from_jwks(&key().jwks_json()).unwrap(),
        fetches: Default::default(),
        cached: Default::default(),
        cold: false,
    });
    let v = Verifier::new(source.clone(), opts()).unwrap();
    let t = good_token();
    let (h, p, s) = parts(&t);
    let no_key_work = [
        (format!("{h}.{p}"), "token-invalid"),
        (format!("{h}.{p}.{s}="), "token-invalid"),
        (format!("{h}.{p}."), "token-invalid"),
        (
            session().header("kid", "random").unsigned(),
            "token-invalid-algorithm",
        ),
        (
            session()
                .header("alg", "PS256")
                .header("kid", "random")
                .sign(key()),
            "token-invalid-algorithm",
        ),
        (
            session()
                .header("alg", "RS512")
                .header("kid", "random")
                .sign(key()),
            "token-invalid-algorithm",
        ),
        (
            session()
                .header("typ", "at+jwt")
                .header("kid", "random")
                .sign(key()),
            "token-type-mismatch",
        ),
        ("x".repeat(20_000), "token-invalid"),
    ];
    for (token, reason) in &no_key_work {
        refused(&v, token, reason);
        assert_eq!(v.try_verify(token).unwrap().unwrap_err().reason(), *reason);
    }
    assert_eq!(source.fetches.load(SeqCst), 0);
    assert_eq!(source.cached.load(SeqCst), 0);
    // A well-formed token does look its key up: verify() fetches, try_verify() asks the cache.
    accepted(&v, &t);
    assert_eq!(source.fetches.load(SeqCst), 1);
    assert!(v.try_verify(&t).unwrap().is_ok());
    assert_eq!(source.cached.load(SeqCst), 1);
}

#[test]
fn try_verify_without_io() {
    // A fixed key set answers from memory: try_verify gives the same answers as verify.
    let v = jwks_verifier();
    for t in [
        good_token(),
        session().claim("exp", NOW - 100).sign(key()),
        session().header("kid", "nope").sign(key()),
        session().sign(fixtures::rsa2048_b()),
    ] {
        let a = v.verify(&t).map(|c| c.sub.clone()).map_err(|e| e.reason());
        let b = v
            .try_verify(&t)
            .unwrap()
            .map(|c| c.sub.clone())
            .map_err(|e| e.reason());
        assert_eq!(a, b);
    }
    // A cold source: try_verify says "needs I/O" (None), verify fetches.
    let cold = Verifier::new(
        Counting {
            inner: KeySet::from_jwks(&key().jwks_json()).unwrap(),
            fetches: Default::default(),
            cached: Default::default(),
            cold: true,
        },
        opts(),
    )
    .unwrap();
    assert!(cold.try_verify(&good_token()).is_none());
    accepted(&cold, &good_token());
    // ...but a token refused before key work is answered without I/O.
    assert_eq!(
        cold.try_verify("a.b").unwrap().unwrap_err().reason(),
        "token-invalid"
    );
}

#[test]
fn the_backend_is_the_one_the_features_chose() {
    let expected = if cfg!(feature = "aws-lc-rs") {
        "aws-lc-rs"
    } else {
        "ring"
    };
    assert_eq!(clerk_verify::keys::CRYPTO_BACKEND, expected);
}
