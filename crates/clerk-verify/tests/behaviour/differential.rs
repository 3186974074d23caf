//! Differential test: random valid and mutated tokens, verified by us and by josekit (OpenSSL
//! underneath), which share no code with us.
//!
//! For every token and every mode (PEM with RS256, JWKS with kid selection, PEM with all RSA
//! algorithms; clock skew 0 and 5 s) we assert:
//!
//! 1. whenever we accept, josekit accepts: its signature check, its JWT payload format rules,
//!    and its own exp/nbf/iat validation (`JwtPayloadValidator`, with base times shifted by the
//!    skew, since josekit has no skew option);
//! 2. whenever josekit refuses the signature, we refuse;
//! 3. whenever we say `token-invalid-signature`, josekit refuses too;
//! 4. whenever josekit refuses on time alone, we refuse with one of the three time reasons;
//! 5. whenever josekit accepts, we accept, unless the token carries one of the features on
//!    which we are deliberately stricter, and then we refuse with that feature's reason.
//!
//! Where the two legitimately differ (we are stricter; each is counted and must occur):
//!
//! - duplicate member names in the header or payload (josekit, through serde_json, keeps the
//!   last one; `{"alg":"none",...,"alg":"RS256"}` passes there): `token-invalid`;
//! - `typ` other than `"JWT"` (josekit ignores `typ`): `token-invalid`;
//! - `crit` present at all (josekit accepts an empty list and only refuses names it does not
//!   understand): `token-invalid`;
//! - `cat` naming a machine token (a Clerk convention josekit does not know): `token-invalid`;
//! - JSON nested deeper than 16 levels (josekit: serde_json's recursion limit of 128):
//!   `token-invalid`;
//! - `sub` missing or empty, `exp` missing (josekit's JWT layer requires neither):
//!   `token-verification-failed`.
//!
//! Not generated here, but also different: josekit refuses negative NumericDates (we read a
//! negative `nbf`/`iat` as "long ago"), and josekit's `expires_at()` panics on values beyond
//! `u64::MAX` seconds (we saturate), so generated dates stay in a sane positive range.

use super::common::*;
use clerk_dev::{b64url, fixtures, DevKey, TokenBuilder};
use clerk_verify::{Algorithm, Error, Verifier, VerifyOptions};
use josekit::jws::alg::rsassa::RsassaJwsVerifier;
use josekit::jws::{JwsVerifier, RS256, RS384, RS512};
use josekit::jwt::{JwtPayload, JwtPayloadValidator};
use josekit::JoseError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const CASES: usize = 2500;

/// What josekit says about a token.
#[derive(Debug, Clone, PartialEq)]
enum Jose {
    Accept,
    /// The signature did not verify (`JoseError::InvalidSignature`).
    BadSignature,
    /// Refused before or after the signature for its format (parts, base64, header, alg, kid,
    /// payload JSON, claim types).
    Malformed(String),
    /// Signature and format fine; refused by exp/nbf/iat.
    Time(String),
}

/// A feature on which we are stricter than josekit, with our reason and its rank in our
/// pipeline (lower is checked first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stricter {
    DuplicateHeader,
    Crit,
    Typ,
    /// An OAuth access token's `typ` (`at+jwt`): a machine token, never a session.
    MachineTyp,
    Cat,
    DuplicateClaim,
    DeepNesting,
    SubMissingOrEmpty,
    ExpMissing,
}

impl Stricter {
    fn reason(self) -> &'static str {
        match self {
            Stricter::SubMissingOrEmpty | Stricter::ExpMissing => "token-verification-failed",
            Stricter::MachineTyp | Stricter::Cat => "token-type-mismatch",
            _ => "token-invalid",
        }
    }
}

struct Case {
    token: String,
    stricter: Vec<Stricter>,
    /// A human-readable trace of how the case was built, for failure messages.
    recipe: Vec<String>,
}

fn time_at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs as u64)
}

/// josekit's JWT validation of a payload that passed its signature check, with a skew: exp is
/// judged at `now - skew`, nbf and iat at `now + skew` (josekit has no skew option).
fn josekit_claims(payload: &[u8], now: i64, skew: i64) -> Jose {
    let map: Map<String, Value> = match serde_json::from_slice(payload) {
        Ok(m) => m,
        Err(e) => return Jose::Malformed(format!("payload: {e}")),
    };
    if let Err(e) = JwtPayload::from_map(map.clone()) {
        return Jose::Malformed(format!("payload: {e}"));
    }
    // Keep josekit's Duration::from_secs_f64 away from values it would panic on.
    for name in ["exp", "nbf", "iat"] {
        if let Some(v) = map.get(name).and_then(Value::as_f64) {
            assert!((0.0..1e15).contains(&v), "generator produced {name} = {v}");
        }
    }
    let only = |names: &[&str]| {
        let m: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        JwtPayload::from_map(m).unwrap()
    };
    let mut exp_check = JwtPayloadValidator::new();
    exp_check.set_base_time(time_at(now - skew));
    if let Err(e) = exp_check.validate(&only(&["exp"])) {
        return Jose::Time(e.to_string());
    }
    let mut start_check = JwtPayloadValidator::new();
    start_check.set_base_time(time_at(now + skew));
    start_check.set_max_issued_time(time_at(now + skew));
    if let Err(e) = start_check.validate(&only(&["nbf", "iat"])) {
        return Jose::Time(e.to_string());
    }
    Jose::Accept
}

/// The three josekit configurations mirroring our modes.
struct Oracle {
    rs256: RsassaJwsVerifier,
    rs256_kid: RsassaJwsVerifier,
    rs384: RsassaJwsVerifier,
    rs512: RsassaJwsVerifier,
}

impl Oracle {
    fn new(key: &DevKey) -> Oracle {
        let pem = key.public_pem();
        let mut rs256_kid = RS256.verifier_from_pem(&pem).unwrap();
        rs256_kid.set_key_id(key.kid());
        Oracle {
            rs256: RS256.verifier_from_pem(&pem).unwrap(),
            rs256_kid,
            rs384: RS384.verifier_from_pem(&pem).unwrap(),
            rs512: RS512.verifier_from_pem(&pem).unwrap(),
        }
    }

    fn judge(&self, mode: Mode, token: &str, now: i64, skew: i64) -> Jose {
        let result = match mode {
            Mode::Pem => josekit::jws::deserialize_compact(token, &self.rs256),
            Mode::Jwks => josekit::jws::deserialize_compact(token, &self.rs256_kid),
            Mode::PemAllRsa => josekit::jws::deserialize_compact_with_selector(token, |h| {
                Ok(Some(match h.algorithm() {
                    Some("RS384") => &self.rs384 as &dyn JwsVerifier,
                    Some("RS512") => &self.rs512,
                    _ => &self.rs256,
                }))
            }),
        };
        match result {
            Ok((payload, _header)) => josekit_claims(&payload, now, skew),
            Err(JoseError::InvalidSignature(_)) => Jose::BadSignature,
            Err(e) => Jose::Malformed(e.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pem,
    Jwks,
    PemAllRsa,
}

fn ours(mode: Mode, skew: i64) -> Verifier {
    let o = VerifyOptions::default()
        .clock(clock())
        .clock_skew(Duration::from_secs(skew as u64));
    match mode {
        Mode::Pem => pem_verifier_with(o),
        Mode::Jwks => jwks_verifier_with(o),
        Mode::PemAllRsa => {
            pem_verifier_with(o.algorithms([Algorithm::RS256, Algorithm::RS384, Algorithm::RS512]))
        }
    }
}

fn nested(depth: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..depth {
        v = json!([v]);
    }
    v
}

/// Inserts `extra` (`"name":value`) before the closing brace of a JSON object text.
fn inject(object: &str, extra: &str) -> String {
    let body = object.trim_end().strip_suffix('}').unwrap();
    if body.trim_end().ends_with('{') {
        format!("{body}{extra}}}")
    } else {
        format!("{body},{extra}}}")
    }
}

fn time_value(rng: &mut XorShift, recipe: &mut Vec<String>, name: &str) -> Value {
    let offset = rng.range(-12, 12);
    let v = if rng.one_in(4) {
        json!(NOW as f64 + offset as f64 + *rng.pick(&[0.25, 0.5, 0.75]))
    } else {
        json!(NOW + offset)
    };
    recipe.push(format!("{name}={v}"));
    v
}

fn generate(rng: &mut XorShift, i: usize) -> Case {
    let key = key();
    let mut stricter = Vec::new();
    let mut recipe = Vec::new();
    let mut b = TokenBuilder::session(&format!("user_{i}"), NOW)
        .remove_claim("nbf")
        .remove_claim("iat")
        .remove_claim("exp");

    // Claims.
    match rng.below(20) {
        0 => {
            b = b.remove_claim("sub");
            stricter.push(Stricter::SubMissingOrEmpty);
            recipe.push("no sub".into());
        }
        1 => {
            b = b.claim("sub", "");
            stricter.push(Stricter::SubMissingOrEmpty);
            recipe.push("empty sub".into());
        }
        2 => {
            b = b.claim("sub", 42);
            recipe.push("numeric sub".into());
        }
        _ => {}
    }
    match rng.below(20) {
        0 => {
            stricter.push(Stricter::ExpMissing);
            recipe.push("no exp".into());
        }
        1 => {
            b = b.claim("exp", (NOW + 60).to_string());
            recipe.push("string exp".into());
        }
        2 => {
            b = b.claim("exp", NOW + 1_000_000);
            recipe.push("far exp".into());
        }
        _ => b = b.claim("exp", time_value(rng, &mut recipe, "exp")),
    }
    if rng.one_in(2) {
        b = b.claim("nbf", time_value(rng, &mut recipe, "nbf"));
    }
    if rng.one_in(2) {
        b = b.claim("iat", time_value(rng, &mut recipe, "iat"));
    }
    if rng.one_in(10) {
        b = b.claim("custom", json!({"a": [1, 2, {"b": "c"}], "n": 1.5}));
    }
    if rng.one_in(40) {
        b = b.claim("deep", nested(20));
        stricter.push(Stricter::DeepNesting);
        recipe.push("deep nesting".into());
    }

    // Header.
    let mut alg = "RS256";
    match rng.below(30) {
        0 => alg = "RS384",
        1 => alg = "RS512",
        2 => alg = "none",
        3 => alg = "PS256",
        4 => alg = "rs256",
        _ => {}
    }
    if alg != "RS256" {
        b = b.header("alg", alg);
        recipe.push(format!("alg {alg}"));
    }
    match rng.below(10) {
        0 | 1 => {
            b = b.remove_header("typ");
            recipe.push("no typ".into());
        }
        2 => {
            let typ = *rng.pick(&["jwt", "at+jwt", "JOSE", ""]);
            b = b.header("typ", typ);
            stricter.push(match typ {
                "at+jwt" => Stricter::MachineTyp,
                _ => Stricter::Typ,
            });
            recipe.push(format!("typ {typ:?}"));
        }
        _ => {}
    }
    match rng.below(25) {
        0 => {
            b = b.header("crit", json!([]));
            stricter.push(Stricter::Crit);
            recipe.push("crit []".into());
        }
        1 => {
            b = b.header("crit", json!(["exp"]));
            recipe.push("crit [exp]".into());
        }
        _ => {}
    }
    if rng.one_in(25) {
        b = b.header("cat", "cl_B7d4PD333AAA");
        stricter.push(Stricter::Cat);
        recipe.push("cat m2m".into());
    } else if rng.one_in(10) {
        b = b.header("cat", "cl_B7d4PD111AAA");
    }
    match rng.below(20) {
        0 => {
            b = b.remove_header("kid");
            recipe.push("no kid".into());
        }
        1 => {
            b = b.header("kid", "ins_other");
            recipe.push("other kid".into());
        }
        _ => b = b.header("kid", key.kid()),
    }
    if rng.one_in(8) {
        b = b.header("x-extra", json!({"any": "thing"}));
    }

    // Duplicates, through raw text.
    if rng.one_in(25) {
        let raw = inject(&b.header_json(), r#""alg":"RS256""#);
        b = b.raw_header(&raw);
        stricter.push(Stricter::DuplicateHeader);
        recipe.push("duplicate alg".into());
    }
    if rng.one_in(25) {
        let raw = inject(&b.payload_json(), r#""sub":"user_evil""#);
        let had_sub = b.payload_json().contains("\"sub\"");
        b = b.raw_payload(&raw);
        if had_sub {
            stricter.push(Stricter::DuplicateClaim);
            recipe.push("duplicate sub".into());
        } else {
            // Not a duplicate after all: the injected sub fills the gap.
            stricter.retain(|s| *s != Stricter::SubMissingOrEmpty);
            recipe.push("injected sub".into());
        }
    }

    // Signature.
    let sign_alg = match alg {
        "RS384" | "RS512" | "PS256" => alg,
        _ => "RS256",
    };
    let mut token = match rng.below(20) {
        0 => {
            recipe.push("signed by rsa2048_b".into());
            b.sign_with_alg(fixtures::rsa2048_b(), sign_alg)
        }
        1 => {
            recipe.push("PSS signature".into());
            b.sign_with_alg(key, "PS256")
        }
        2 => {
            recipe.push("HS256 with the public PEM".into());
            b.clone()
                .header("alg", "HS256")
                .sign_hs256(key.public_pem().as_bytes())
        }
        _ => b.sign_with_alg(key, sign_alg),
    };

    // Mutations after signing.
    if rng.one_in(3) {
        let (h, p, s) = {
            let (h, p, s) = parts(&token);
            (h.to_owned(), p.to_owned(), s.to_owned())
        };
        let sig = clerk_dev::b64url_decode(&s).unwrap_or_default();
        token = match rng.below(7) {
            0 if !sig.is_empty() => {
                let mut sig = sig;
                let i = rng.below(sig.len());
                sig[i] ^= 1 << rng.below(8);
                recipe.push(format!("flip sig byte {i}"));
                format!("{h}.{p}.{}", b64url(&sig))
            }
            1 if !sig.is_empty() => {
                let n = rng.below(sig.len());
                recipe.push(format!("truncate sig to {n}"));
                format!("{h}.{p}.{}", b64url(&sig[..n]))
            }
            2 => {
                // Tamper the payload: extend exp, keep the signature.
                let mut claims: Value = clerk_dev::b64url_decode(&p)
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .unwrap_or(json!({}));
                if let Some(o) = claims.as_object_mut() {
                    o.insert("exp".into(), json!(NOW + 3600));
                }
                recipe.push("tampered payload".into());
                format!("{h}.{}.{s}", b64url(claims.to_string().as_bytes()))
            }
            3 => {
                let other = session().sign(key);
                recipe.push("signature of another token".into());
                format!("{h}.{p}.{}", parts(&other).2)
            }
            4 => {
                recipe.push("padded signature".into());
                format!("{h}.{p}.{s}==")
            }
            _ => {
                let mut bytes = token.into_bytes();
                let i = rng.below(bytes.len());
                let c = *rng.pick(b"AQgw-_.=+/ ");
                recipe.push(format!("byte {i} := {:?}", c as char));
                bytes[i] = c;
                String::from_utf8(bytes).unwrap()
            }
        };
    }
    stricter.sort();
    stricter.dedup();
    Case {
        token,
        stricter,
        recipe,
    }
}

const TIME_REASONS: [&str; 3] = [
    "token-expired",
    "token-not-active-yet",
    "token-iat-in-the-future",
];

#[derive(Default, Debug)]
struct Tally {
    both_accept: usize,
    both_refuse: usize,
    josekit_bad_signature: usize,
    josekit_time: usize,
    stricter: BTreeMap<String, usize>,
}

fn compare(
    case: &Case,
    mode: Mode,
    skew: i64,
    us: &Result<std::sync::Arc<clerk_verify::Claims>, Error>,
    jose: &Jose,
    tally: &mut Tally,
) {
    let ctx = || {
        format!(
            "mode {mode:?}, skew {skew}s, recipe {:?}, stricter {:?}\n  ours: {:?}\n  josekit: {jose:?}\n  token: {}",
            case.recipe,
            case.stricter,
            us.as_ref().map(|c| c.sub.clone()).map_err(|e| e.reason()),
            case.token
        )
    };
    // 1. We accept only what josekit accepts.
    if us.is_ok() {
        assert_eq!(
            *jose,
            Jose::Accept,
            "we accepted what josekit refused: {}",
            ctx()
        );
        tally.both_accept += 1;
        return;
    }
    let e = us.as_ref().unwrap_err();
    // 2. A signature josekit refuses, we refuse (header rules may speak first).
    if *jose == Jose::BadSignature {
        tally.josekit_bad_signature += 1;
        assert!(
            [
                "token-invalid-signature",
                "token-invalid",
                "token-invalid-algorithm",
                "token-type-mismatch",
                "jwk-kid-mismatch"
            ]
            .contains(&e.reason()),
            "josekit refused the signature, we said {}: {}",
            e.reason(),
            ctx()
        );
    }
    // 3. Our signature refusals are josekit's refusals too.
    if e.reason() == "token-invalid-signature" {
        assert!(
            matches!(jose, Jose::BadSignature | Jose::Malformed(_)),
            "we refused a signature josekit accepted: {}",
            ctx()
        );
    }
    match jose {
        // 4. Time refusals agree, unless one of our stricter rules fires before the clock.
        Jose::Time(_) => {
            tally.josekit_time += 1;
            match case.stricter.first() {
                Some(s) => assert_eq!(e.reason(), s.reason(), "{}", ctx()),
                None => assert!(
                    TIME_REASONS.contains(&e.reason()),
                    "josekit refused on time, we said {}: {}",
                    e.reason(),
                    ctx()
                ),
            }
        }
        // 5. Where josekit accepts, we refuse only for a documented stricter rule.
        Jose::Accept => {
            let first = case.stricter.first().unwrap_or_else(|| {
                panic!(
                    "josekit accepted, we refused ({}) without a documented difference: {}",
                    e.reason(),
                    ctx()
                )
            });
            assert_eq!(e.reason(), first.reason(), "{}", ctx());
            *tally.stricter.entry(format!("{first:?}")).or_default() += 1;
        }
        _ => tally.both_refuse += 1,
    }
}

#[test]
fn we_agree_with_josekit() {
    let oracle = Oracle::new(key());
    let modes = [Mode::Pem, Mode::Jwks, Mode::PemAllRsa];
    let verifiers: Vec<(Mode, i64, Verifier)> = modes
        .iter()
        .flat_map(|&m| [0, 5].map(|skew| (m, skew, ours(m, skew))))
        .collect();
    let mut rng = XorShift::new(0x00c1_e4c0_ffee);
    let mut tally = Tally::default();
    for i in 0..CASES {
        let case = generate(&mut rng, i);
        for (mode, skew, v) in &verifiers {
            let us = v.verify(&case.token);
            let jose = oracle.judge(*mode, &case.token, NOW, *skew);
            compare(&case, *mode, *skew, &us, &jose, &mut tally);
            if let Err(e) = &us {
                assert_no_leak(e, &case.token);
            }
        }
    }
    eprintln!("differential tally: {tally:#?}");
    // The generator must actually exercise every branch it claims to.
    assert!(tally.both_accept > 1000, "{tally:?}");
    assert!(tally.both_refuse > 1000, "{tally:?}");
    assert!(tally.josekit_bad_signature > 500, "{tally:?}");
    assert!(tally.josekit_time > 500, "{tally:?}");
    for s in [
        Stricter::DuplicateHeader,
        Stricter::Crit,
        Stricter::Typ,
        Stricter::MachineTyp,
        Stricter::Cat,
        Stricter::DuplicateClaim,
        Stricter::DeepNesting,
        Stricter::SubMissingOrEmpty,
        Stricter::ExpMissing,
    ] {
        assert!(
            tally.stricter.get(&format!("{s:?}")).copied().unwrap_or(0) > 0,
            "documented difference {s:?} never observed: {tally:?}"
        );
    }
}

#[test]
fn known_differences_one_by_one() {
    // Each documented difference on a single, otherwise valid token: josekit accepts, we
    // refuse with the stated reason.
    let oracle = Oracle::new(key());
    let v = ours(Mode::Jwks, 5);
    let k = key();
    let base = || session().header("kid", k.kid());
    let dup_header = base().raw_header(&inject(&base().header_json(), r#""alg":"RS256""#));
    let none_then_rs256 =
        base().raw_header(r#"{"alg":"none","kid":"ins_test_2048","alg":"RS256"}"#);
    let dup_claim = base().raw_payload(&inject(&base().payload_json(), r#""sub":"user_evil""#));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "duplicate header member",
            dup_header.sign_with_alg(k, "RS256"),
            "token-invalid",
        ),
        (
            "alg none, then alg RS256",
            none_then_rs256.sign_with_alg(k, "RS256"),
            "token-invalid",
        ),
        (
            "typ at+jwt",
            base().header("typ", "at+jwt").sign(k),
            "token-type-mismatch",
        ),
        (
            "empty crit",
            base().header("crit", json!([])).sign(k),
            "token-invalid",
        ),
        (
            "machine cat",
            base().header("cat", "cl_B7d4PD333AAA").sign(k),
            "token-type-mismatch",
        ),
        ("duplicate sub", dup_claim.sign(k), "token-invalid"),
        (
            "deep nesting",
            base().claim("deep", nested(20)).sign(k),
            "token-invalid",
        ),
        (
            "no sub",
            base().remove_claim("sub").sign(k),
            "token-verification-failed",
        ),
        (
            "empty sub",
            base().claim("sub", "").sign(k),
            "token-verification-failed",
        ),
        (
            "no exp",
            base().remove_claim("exp").sign(k),
            "token-verification-failed",
        ),
    ];
    for (what, token, reason) in cases {
        assert_eq!(
            oracle.judge(Mode::Jwks, &token, NOW, 5),
            Jose::Accept,
            "{what}"
        );
        refused(&v, &token, reason);
    }
    // And a plain session token is accepted by both.
    let t = base().sign(k);
    assert_eq!(oracle.judge(Mode::Jwks, &t, NOW, 5), Jose::Accept);
    accepted(&v, &t);
}
