//! Step 1: the compact serialization, base64url, the JSON of header and payload, header rules.
//! All of these are `token-invalid` (an unusable `alg` is `token-invalid-algorithm`).

use super::common::*;
use clerk_verify::{token::Token, token::DEFAULT_MAX_TOKEN_LEN, VerifyOptions};

const INVALID: &str = "token-invalid";

#[test]
fn a_good_token_verifies_with_both_key_modes() {
    let t = good_token();
    let c = accepted(&jwks_verifier(), &t);
    assert_eq!(c.sub, "user_1");
    accepted(&pem_verifier(), &t);
}

#[test]
fn wrong_part_counts() {
    let t = good_token();
    let (h, p, s) = parts(&t);
    let v = jwks_verifier();
    for bad in [
        h.to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{h}.{p}.{s}"),
        format!("{h}.{p}.{s}.{h}.{p}"),
        format!("{h}{p}{s}"),
        format!("{h}..{p}.{s}"),
    ] {
        refused(&v, &bad, INVALID);
    }
}

#[test]
fn empty_and_dot_only_tokens() {
    let v = jwks_verifier();
    for bad in ["", ".", "..", "...", " ", "\n"] {
        refused(&v, bad, INVALID);
    }
}

#[test]
fn empty_header_or_payload_part() {
    let t = good_token();
    let (h, p, s) = parts(&t);
    let v = jwks_verifier();
    refused(&v, &format!(".{p}.{s}"), INVALID);
    refused(&v, &format!("{h}..{s}"), INVALID);
    refused(&v, &format!("..{s}"), INVALID);
}

fn pad(part: &str) -> String {
    let n = (4 - part.len() % 4) % 4;
    format!("{part}{}", "=".repeat(n.max(1)))
}

#[test]
fn padding_is_refused() {
    let t = good_token();
    let (h, p, s) = parts(&t);
    let v = jwks_verifier();
    // A 256-byte signature is 342 characters: properly padded it takes "==".
    assert_eq!(s.len() % 4, 2);
    refused(&v, &format!("{h}.{p}.{s}=="), INVALID);
    refused(&v, &format!("{h}.{p}.{s}="), INVALID);
    refused(&v, &format!("{}.{p}.{s}", pad(h)), INVALID);
    refused(&v, &format!("{h}.{}.{s}", pad(p)), INVALID);
}

#[test]
fn non_base64url_characters() {
    let t = good_token();
    let (h, p, s) = parts(&t);
    let v = jwks_verifier();
    let replace_at = |part: &str, i: usize, c: &str| format!("{}{c}{}", &part[..i], &part[i + 1..]);
    for c in [
        "+",
        "/",
        "*",
        "!",
        "%",
        "=",
        "\\",
        "\u{e9}",
        "\u{1F600}",
        "\0",
    ] {
        refused(&v, &format!("{}.{p}.{s}", replace_at(h, 3, c)), INVALID);
        refused(&v, &format!("{h}.{}.{s}", replace_at(p, 10, c)), INVALID);
        refused(&v, &format!("{h}.{p}.{}", replace_at(s, 100, c)), INVALID);
    }
    // The standard alphabet instead of the URL-safe one.
    let std_sig: String = s
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    if std_sig != s {
        refused(&v, &format!("{h}.{p}.{std_sig}"), INVALID);
    }
}

#[test]
fn non_canonical_trailing_bits_are_refused() {
    // 342 characters carry 2052 bits for 2048: the last character's low 4 bits must be zero.
    let t = good_token();
    let (h, p, s) = parts(&t);
    let last = s.chars().last().unwrap();
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = ALPHABET.find(last).unwrap();
    assert_eq!(idx & 0xf, 0, "canonical encoding");
    let other = ALPHABET.as_bytes()[idx | 1] as char;
    let bad = format!("{h}.{p}.{}{other}", &s[..s.len() - 1]);
    refused(&jwks_verifier(), &bad, INVALID);
}

#[test]
fn whitespace_anywhere_is_refused() {
    let t = good_token();
    let (h, p, s) = parts(&t);
    let v = jwks_verifier();
    for bad in [
        format!(" {t}"),
        format!("{t} "),
        format!("{t}\n"),
        format!("{t}\r\n"),
        format!("\t{t}"),
        format!("{h} .{p}.{s}"),
        format!("{h}.{p}. {s}"),
        format!("{h}.{}\n{}.{s}", &p[..10], &p[10..]),
        format!("Bearer {t}"),
    ] {
        refused(&v, &bad, INVALID);
    }
}

#[test]
fn oversize_tokens_are_refused_before_decoding() {
    let v = jwks_verifier();
    // A genuinely signed, otherwise valid token over the default limit.
    let big = session().claim("pad", "x".repeat(20_000)).sign(key());
    assert!(big.len() > DEFAULT_MAX_TOKEN_LEN);
    let e = refused(&v, &big, INVALID);
    assert!(e.to_string().contains("max_token_len"), "{e}");
    // Garbage over the limit: the length is what is reported, not the garbage.
    let junk = "!".repeat(DEFAULT_MAX_TOKEN_LEN + 1);
    let e = refused(&v, &junk, INVALID);
    assert!(e.to_string().contains("max_token_len"), "{e}");
    // Under the limit, a large token is fine.
    let large = session().claim("pad", "x".repeat(10_000)).sign(key());
    assert!(large.len() < DEFAULT_MAX_TOKEN_LEN);
    accepted(&v, &large);
}

#[test]
fn custom_max_token_len() {
    let t = good_token();
    let exact = jwks_verifier_with(opts().max_token_len(t.len()));
    accepted(&exact, &t);
    let short = jwks_verifier_with(opts().max_token_len(t.len() - 1));
    let e = refused(&short, &t, INVALID);
    assert!(e.to_string().contains("max_token_len"), "{e}");
    // A larger limit lets a token over the default through.
    let big = session().claim("pad", "x".repeat(20_000)).sign(key());
    accepted(&jwks_verifier_with(opts().max_token_len(64 * 1024)), &big);
    // Zero is a configuration error, not "refuse everything".
    let e =
        clerk_verify::Verifier::from_jwks(&key().jwks_json(), opts().max_token_len(0)).unwrap_err();
    assert_eq!(e.reason(), "config-invalid");
}

#[test]
fn header_must_be_a_json_object() {
    let v = pem_verifier();
    for raw in [
        "[]",
        r#"["RS256"]"#,
        r#""RS256""#,
        "null",
        "1",
        "true",
        "not json",
        "{",
        r#"{"alg":"RS256"} {}"#,
        r#"{"alg":"RS256"},"#,
    ] {
        let t = session().raw_header(raw).sign_with_alg(key(), "RS256");
        refused(&v, &t, INVALID);
    }
}

#[test]
fn payload_must_be_a_json_object() {
    let v = pem_verifier();
    for raw in [
        "[]",
        r#"[{"sub":"user_1"}]"#,
        r#""user_1""#,
        "null",
        "42",
        "not json",
        r#"{"sub":"user_1""#,
        &format!(r#"{{"sub":"user_1","exp":{}}} x"#, NOW + 60),
        &format!(r#"{{"sub":"user_1","exp":{}}}{{}}"#, NOW + 60),
    ] {
        let t = session().raw_payload(raw).sign(key());
        refused(&v, &t, INVALID);
    }
}

#[test]
fn trailing_whitespace_inside_json_is_fine() {
    // JSON allows whitespace around values; that is not a second document.
    let raw = format!(" {{ \"sub\" : \"user_1\" , \"exp\" : {} }}\n", NOW + 60);
    let t = session().raw_payload(&raw).sign(key());
    accepted(&pem_verifier(), &t);
}

#[test]
fn duplicate_header_members_are_refused() {
    let v = jwks_verifier();
    for raw in [
        r#"{"alg":"RS256","kid":"ins_test_2048","alg":"RS256"}"#,
        r#"{"alg":"none","kid":"ins_test_2048","alg":"RS256"}"#,
        r#"{"alg":"RS256","kid":"other","kid":"ins_test_2048"}"#,
        r#"{"alg":"RS256","kid":"ins_test_2048","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"RS256","kid":"ins_test_2048","\u0061lg":"RS256"}"#,
    ] {
        let t = session().raw_header(raw).sign_with_alg(key(), "RS256");
        refused(&v, &t, INVALID);
    }
}

#[test]
fn duplicate_payload_members_are_refused_even_when_signed() {
    let v = jwks_verifier();
    let exp = NOW + 60;
    for raw in [
        format!(r#"{{"sub":"a","sub":"b","exp":{exp}}}"#),
        format!(r#"{{"sub":"user_1","exp":{exp},"exp":{}}}"#, NOW - 1000),
        format!(r#"{{"sub":"user_1","exp":{exp},"azp":"https://a","azp":"https://b"}}"#),
        format!(r#"{{"sub":"user_1","exp":{exp},"o":{{"id":"org_1","id":"org_2"}}}}"#),
        format!(r#"{{"sub":"user_1","exp":{exp},"s\u0075b":"user_2"}}"#),
    ] {
        let t = session().raw_payload(&raw).sign(key());
        refused(&v, &t, INVALID);
    }
}

#[test]
fn crit_is_refused() {
    let v = jwks_verifier();
    for crit in [
        serde_json::json!(["exp"]),
        serde_json::json!([]),
        serde_json::json!(["b64"]),
        serde_json::json!("exp"),
    ] {
        let t = session().header("crit", crit).sign(key());
        refused(&v, &t, INVALID);
    }
}

#[test]
fn typ_must_be_jwt_when_present() {
    let v = jwks_verifier();
    for typ in [
        serde_json::json!("jwt"),
        serde_json::json!("AT+JWT"),
        serde_json::json!("JWS"),
        serde_json::json!(""),
        serde_json::json!("JWT "),
        serde_json::json!(5),
        serde_json::json!(null),
        serde_json::json!(["JWT"]),
    ] {
        let t = session().header("typ", typ.clone()).sign(key());
        refused(&v, &t, INVALID);
    }
    accepted(&v, &session().header("typ", "JWT").sign(key()));
}

#[test]
fn typ_absent_is_accepted() {
    let t = session().remove_header("typ").sign(key());
    assert!(!clerk_dev::b64url_decode(parts(&t).0)
        .map(|h| String::from_utf8(h).unwrap().contains("typ"))
        .unwrap());
    accepted(&jwks_verifier(), &t);
}

#[test]
fn machine_tokens_are_never_sessions() {
    let v = jwks_verifier();
    // Clerk's machine tokens in JWT form (§5b.1): an M2M token by its `cat`, or by its machine
    // `sub` (with or without the M2M `cat`), and an OAuth access token by its `typ`. Each is
    // genuine here (signed by the instance's key), and each is refused as not a session.
    let m2m_sub = || clerk_dev::TokenBuilder::session("mch_2vYVtestmachine", NOW);
    for t in [
        session().header("cat", "cl_B7d4PD333AAA").sign(key()),
        m2m_sub().sign(key()),
        m2m_sub().header("cat", "cl_B7d4PD333AAA").sign(key()),
        session().header("typ", "at+jwt").sign(key()),
        session().header("typ", "application/at+jwt").sign(key()),
    ] {
        let e = refused(&v, &t, "token-type-mismatch");
        assert!(e.to_string().contains("machine"), "{e}");
    }
    // Session, template and "ignore" categories pass verify() (as Clerk's verifyToken);
    // authenticateRequest-style callers use Token::is_session_category for templates.
    for cat in ["cl_B7d4PD111AAA", "cl_B7d4PD222AAA", "cl_I7d4PD111III"] {
        let t = session().header("cat", cat).sign(key());
        accepted(&v, &t);
        let parsed = Token::parse(&t, DEFAULT_MAX_TOKEN_LEN).unwrap();
        assert_eq!(parsed.category(), Some(cat));
        assert_eq!(parsed.is_session_category(), cat != "cl_B7d4PD222AAA");
    }
    // A non-string cat is malformed.
    refused(&v, &session().header("cat", 333).sign(key()), INVALID);
}

#[test]
fn kid_must_be_a_string() {
    let v = pem_verifier();
    for kid in [
        serde_json::json!(7),
        serde_json::json!(null),
        serde_json::json!(["a"]),
    ] {
        refused(&v, &session().header("kid", kid).sign(key()), INVALID);
    }
}

#[test]
fn missing_or_non_string_alg() {
    let v = pem_verifier();
    let t = session()
        .raw_header(r#"{"kid":"ins_test_2048","typ":"JWT"}"#)
        .sign_with_alg(key(), "RS256");
    refused(&v, &t, "token-invalid-algorithm");
    for alg in [
        serde_json::json!(256),
        serde_json::json!(null),
        serde_json::json!(["RS256"]),
    ] {
        let t = session().header("alg", alg).sign_with_alg(key(), "RS256");
        refused(&v, &t, "token-invalid-algorithm");
    }
}

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deep_nesting_is_refused() {
    let v = jwks_verifier();
    // Modest nesting in a custom claim is fine.
    let ok = format!(r#"{{"sub":"user_1","exp":{},"x":{}}}"#, NOW + 60, nested(8));
    accepted(&v, &session().raw_payload(&ok).sign(key()));
    // Deep nesting is refused, in the payload...
    for depth in [32, 1000] {
        let raw = format!(
            r#"{{"sub":"user_1","exp":{},"x":{}}}"#,
            NOW + 60,
            nested(depth)
        );
        refused(&v, &session().raw_payload(&raw).sign(key()), INVALID);
    }
    // ...and in the header.
    let raw = format!(
        r#"{{"alg":"RS256","kid":"ins_test_2048","x":{}}}"#,
        nested(32)
    );
    refused(
        &v,
        &session().raw_header(&raw).sign_with_alg(key(), "RS256"),
        INVALID,
    );
    // Far past serde_json's recursion limit, with a raised max_token_len: a clean refusal,
    // no stack overflow.
    let big = jwks_verifier_with(opts().max_token_len(1 << 20));
    let raw = format!(
        r#"{{"sub":"user_1","exp":{},"x":{}}}"#,
        NOW + 60,
        nested(100_000)
    );
    refused(&big, &session().raw_payload(&raw).sign(key()), INVALID);
    let raw = format!(
        r#"{{"sub":"user_1","exp":{},"x":{}}}"#,
        NOW + 60,
        "{\"a\":".repeat(50_000) + "1" + &"}".repeat(50_000)
    );
    refused(&big, &session().raw_payload(&raw).sign(key()), INVALID);
}

#[test]
fn non_utf8_payload_and_header() {
    let v = jwks_verifier();
    let exp = NOW + 60;
    let header = br#"{"alg":"RS256","kid":"ins_test_2048","typ":"JWT"}"#;
    // Sanity: the raw signer produces a valid token for valid input.
    let payload = format!(r#"{{"sub":"user_1","exp":{exp}}}"#);
    accepted(&v, &sign_raw(key(), header, payload.as_bytes()));

    let mut bad = br#"{"sub":"user_"#.to_vec();
    bad.extend_from_slice(&[0xff, 0xfe]);
    bad.extend_from_slice(format!(r#"","exp":{exp}}}"#).as_bytes());
    refused(&v, &sign_raw(key(), header, &bad), INVALID);

    // Latin-1 "é" instead of UTF-8, and a lone continuation byte in a member name.
    let latin1 = [
        br#"{"sub":"Jos"#.as_slice(),
        &[0xe9],
        format!(r#"","exp":{exp}}}"#).as_bytes(),
    ]
    .concat();
    refused(&v, &sign_raw(key(), header, &latin1), INVALID);
    let name = [
        br#"{"sub":"user_1","exp":"#.as_slice(),
        exp.to_string().as_bytes(),
        br#","x"#,
        &[0x80],
        br#"":1}"#,
    ]
    .concat();
    refused(&v, &sign_raw(key(), header, &name), INVALID);

    // A UTF-8 byte-order mark is not JSON either.
    let bom = [&[0xef, 0xbb, 0xbf][..], payload.as_bytes()].concat();
    refused(&v, &sign_raw(key(), header, &bom), INVALID);

    // Non-UTF-8 header.
    let h = [
        br#"{"alg":"RS256","kid":"ins_test_2048","x":""#.as_slice(),
        &[0xc3, 0x28],
        br#""}"#,
    ]
    .concat();
    refused(&v, &sign_raw(key(), &h, payload.as_bytes()), INVALID);
}

#[test]
fn header_rules_come_before_the_signature() {
    // A token that is both badly typed and badly signed reports the header problem: the header
    // is judged before any key work.
    let v = jwks_verifier();
    let t = session()
        .header("typ", "at+jwt")
        .header("kid", "ins_test_2048")
        .sign(clerk_dev::fixtures::rsa2048_b());
    refused(&v, &t, "token-type-mismatch");
    let t = session()
        .header("typ", "jwt")
        .header("kid", "ins_test_2048")
        .sign(clerk_dev::fixtures::rsa2048_b());
    refused(&v, &t, INVALID);
    let t = session()
        .header("crit", serde_json::json!(["exp"]))
        .sign(key());
    let t = with_sig(&t, &[0u8; 256]);
    refused(&v, &t, INVALID);
}

#[test]
fn token_parse_is_usable_on_its_own() {
    let t = good_token();
    let parsed = Token::parse(&t, DEFAULT_MAX_TOKEN_LEN).unwrap();
    assert_eq!(parsed.alg(), "RS256");
    assert_eq!(parsed.kid(), Some("ins_test_2048"));
    assert_eq!(parsed.typ(), Some("JWT"));
    assert_eq!(parsed.category(), None);
    let (h, p, _) = parts(&t);
    assert_eq!(parsed.signing_input(), format!("{h}.{p}"));
    assert_eq!(Token::parse(&t, t.len() - 1).unwrap_err().reason(), INVALID);
}

#[test]
fn options_alone_do_not_make_a_bad_token_good() {
    // Lenient options (huge skew, no azp) change nothing about the parsing rules.
    let v = jwks_verifier_with(
        VerifyOptions::default()
            .clock(clock())
            .clock_skew(std::time::Duration::from_secs(1 << 30)),
    );
    let t = good_token();
    let (h, p, s) = parts(&t);
    refused(&v, &format!("{h}.{p}.{s}="), INVALID);
    refused(&v, &format!("{h}.{p}"), INVALID);
    let raw = format!(r#"{{"sub":"a","sub":"b","exp":{}}}"#, NOW + 60);
    refused(&v, &session().raw_payload(&raw).sign(key()), INVALID);
}
