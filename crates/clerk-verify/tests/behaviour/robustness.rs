//! No panics, whatever the input: deterministic pseudo-random strings and mutations of valid
//! tokens. Each returns an error or, only when the mutation left the token unchanged, claims.

use super::common::*;
use clerk_dev::fixtures::HS256_SECRET;
use clerk_verify::{token::Token, token::DEFAULT_MAX_TOKEN_LEN, Verifier};

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One random edit of `token`.
fn mutate(rng: &mut XorShift, token: &str) -> String {
    let mut b: Vec<u8> = token.as_bytes().to_vec();
    let n = b.len();
    if n == 0 {
        return (*rng.pick(ALPHABET) as char).to_string();
    }
    match rng.below(10) {
        // Replace a byte with a base64url character (often still decodable).
        0 | 1 => {
            let i = rng.below(n);
            b[i] = *rng.pick(ALPHABET);
        }
        // Flip one bit of a byte (may produce non-base64 or non-ASCII).
        2 => {
            let i = rng.below(n);
            b[i] ^= 1 << rng.below(7);
        }
        // Truncate.
        3 => b.truncate(rng.below(n)),
        // Insert a dot.
        4 => b.insert(rng.below(n + 1), b'.'),
        // Delete a byte.
        5 => {
            b.remove(rng.below(n));
        }
        // Insert a random printable ASCII byte or whitespace.
        6 => {
            let c = *rng.pick(b" \t\n\r=+/!\"{}[]:,\\0.");
            b.insert(rng.below(n + 1), c);
        }
        // Duplicate a slice.
        7 => {
            let i = rng.below(n);
            let j = (i + 1 + rng.below(40)).min(n);
            let piece = b[i..j].to_vec();
            let at = rng.below(n + 1);
            b.splice(at..at, piece);
        }
        // Swap two parts.
        8 => {
            let p: Vec<&str> = token.split('.').collect();
            let (x, y) = (rng.below(p.len()), rng.below(p.len()));
            let mut q = p.clone();
            q.swap(x, y);
            return q.join(".");
        }
        // Several edits at once.
        _ => {
            let mut t = token.to_owned();
            for _ in 0..2 + rng.below(4) {
                t = mutate(rng, &t);
            }
            return t;
        }
    }
    // Edits can split a multi-byte character; the API takes &str, so keep it valid UTF-8.
    String::from_utf8_lossy(&b).into_owned()
}

fn check(v: &Verifier, original: &str, candidate: &str, seed_info: &str) {
    let parsed = Token::parse(candidate, DEFAULT_MAX_TOKEN_LEN);
    match v.verify(candidate) {
        Ok(_) => assert_eq!(
            candidate, original,
            "a mutated token verified ({seed_info}): {candidate}"
        ),
        Err(e) => {
            assert_ne!(e.reason(), "", "{seed_info}");
            assert_eq!(
                e.category(),
                clerk_verify::Category::InvalidToken,
                "{seed_info}: {e}"
            );
            if candidate == original {
                panic!("the unchanged token was refused ({seed_info}): {e}");
            }
            // If parsing failed, verification failed for the same reason.
            if let Err(pe) = parsed {
                assert_eq!(pe.reason(), e.reason(), "{seed_info}");
            }
        }
    }
}

#[test]
fn mutations_of_valid_tokens_never_panic_or_pass() {
    let rsa = session().sign(key());
    let hs = session().sign_hs256(HS256_SECRET);
    let cases = [
        (jwks_verifier(), rsa.clone()),
        (pem_verifier(), rsa),
        (
            Verifier::from_hs256_secret(HS256_SECRET, opts()).unwrap(),
            hs,
        ),
    ];
    for (k, (v, token)) in cases.iter().enumerate() {
        let mut rng = XorShift::new(0x5eed_0000 + k as u64);
        for i in 0..2000 {
            let m = mutate(&mut rng, token);
            check(v, token, &m, &format!("verifier {k}, iteration {i}"));
        }
    }
}

#[test]
fn random_strings_never_panic() {
    let v = jwks_verifier();
    let hs = Verifier::from_hs256_secret(HS256_SECRET, opts()).unwrap();
    let mut rng = XorShift::new(0xdead_beef);
    for i in 0..3000 {
        let len = rng.below(200);
        let s: String = match i % 3 {
            // Arbitrary bytes, made UTF-8.
            0 => {
                let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            // base64url characters and dots: reaches the decoders.
            1 => (0..len)
                .map(|_| {
                    if rng.one_in(20) {
                        '.'
                    } else {
                        *rng.pick(ALPHABET) as char
                    }
                })
                .collect(),
            // Three well-formed base64url parts of random JSON-ish bytes.
            _ => {
                let part = |rng: &mut XorShift| {
                    let n = rng.below(60);
                    let bytes: Vec<u8> = (0..n)
                        .map(|_| *rng.pick(b"{}[]\":,0123456789.eE-+ truefalsnul\\abc"))
                        .collect();
                    clerk_dev::b64url(&bytes)
                };
                format!("{}.{}.{}", part(&mut rng), part(&mut rng), part(&mut rng))
            }
        };
        for verifier in [&v, &hs] {
            let e = verifier.verify(&s).expect_err("random input verified");
            assert_eq!(e.category(), clerk_verify::Category::InvalidToken);
        }
        let _ = Token::parse(&s, DEFAULT_MAX_TOKEN_LEN);
    }
}

#[test]
fn random_json_headers_and_payloads_signed_properly_never_panic() {
    // Valid signatures over random JSON: every claim path sees odd types.
    let v = jwks_verifier_with(opts().authorized_parties(["https://a"]).audience(["x"]));
    let mut rng = XorShift::new(42);
    let values = [
        "null",
        "true",
        "0",
        "-1",
        "1e400",
        "-0",
        "1.5",
        "\"\"",
        "\"x\"",
        "[]",
        "{}",
        "[1,\"a\"]",
        "{\"id\":1}",
        "18446744073709551616",
        "1750000000",
        "\"1750000000\"",
        "\"https://a\"",
        "[\"x\"]",
        "\"o:a,u:b\"",
        "\"1,3\"",
        "\"read,manage\"",
    ];
    let names = [
        "sub",
        "exp",
        "nbf",
        "iat",
        "azp",
        "aud",
        "iss",
        "sid",
        "v",
        "o",
        "fea",
        "pla",
        "fva",
        "act",
        "sts",
        "org_id",
        "org_role",
        "org_permissions",
        "per",
    ];
    for _ in 0..600 {
        let mut members = vec![
            "\"sub\":\"user_1\"".to_owned(),
            format!("\"exp\":{}", NOW + 60),
        ];
        for _ in 0..rng.below(6) {
            members.push(format!("\"{}\":{}", rng.pick(&names), rng.pick(&values)));
        }
        // Later members may duplicate earlier ones: that must be refused, not panic.
        let payload = format!("{{{}}}", members.join(","));
        let t = session().raw_payload(&payload).sign(key());
        if let Ok(c) = v.verify(&t) {
            assert!(!c.sub.is_empty());
        }
    }
}

#[test]
fn extreme_numbers_in_time_claims() {
    let v = jwks_verifier();
    for exp in [
        "1e308",
        "-1e308",
        "1e-300",
        "18446744073709551615",
        "-9223372036854775808",
        "0.0",
    ] {
        let payload = format!(r#"{{"sub":"user_1","exp":{exp}}}"#);
        let t = session().raw_payload(&payload).sign(key());
        let r = v.verify(&t);
        match exp {
            "1e308" | "18446744073709551615" => assert!(r.is_ok(), "{exp}: {r:?}"),
            _ => assert_eq!(r.unwrap_err().reason(), "token-expired", "{exp}"),
        }
    }
    // Out-of-range literals are not JSON numbers serde_json accepts as finite: refused cleanly.
    let t = session()
        .raw_payload(r#"{"sub":"user_1","exp":1e400}"#)
        .sign(key());
    let r = v.verify(&t);
    assert!(r.is_err());
}
