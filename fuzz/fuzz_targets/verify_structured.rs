//! Structure-aware full verification: an arbitrary header and claims set, encoded and signed
//! with a fixed 2048-bit dev key, optionally mutated, then verified with a fixed clock.
//!
//! The oracle below re-derives the acceptance rules independently of the crate (exact integer
//! milliseconds instead of the crate's `f64`, its own reading of the header and claims) and
//! asserts both ways:
//!
//! - **soundness**: `verify` returns `Ok` only for an unmodified token, signed under the right
//!   key with exactly the header's `alg`, which both the options and the key's JWK allow (RS256
//!   unless the input widens them), and whose header and claims satisfy every rule: a token
//!   the fuzzer mutated, signed under another algorithm than its header names, signed with
//!   HMAC over the public key (alg confusion) or unsigned never passes;
//! - **completeness**: a token that satisfies every rule and whose claims are well typed is
//!   accepted (a false rejection is a bug too).
//!
//! Signing uses `ring`'s `RsaKeyPair` over the checked-in fixture's PKCS #8 DER: an RSA
//! signature per input dominates the cost, and ring signs several times faster than OpenSSL
//! through josekit. Verification under test goes through `ring`'s verifier, so the soundness
//! assertions are about the pipeline around it (parsing, alg and key selection, claims).

#![no_main]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use clerk_verify::{Algorithm, Clock, KeySet, Verifier, VerifyOptions};
use clerk_verify_fuzz::{jwks_json, key_pair, public_components, KID, NOW};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use ring::signature;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const ISSUER: &str = "https://clerk.example.test";
const AZP: &str = "http://localhost:3000";
const AUD: &str = "https://api.example.test";
const SUB: &str = "user_2abc";
const CAT_M2M: &str = "cl_B7d4PD333AAA";
const CAT_SESSION: &str = "cl_B7d4PD111AAA";
const CAT_IGNORE: &str = "cl_I7d4PD111III";

// ---------------------------------------------------------------------------------------------
// The input. The first variant of every choice is the ordinary value, so an all-zero input is
// a valid Clerk session token (see the checked-in seed `corpus/verify_structured/zeros`).

#[derive(Arbitrary, Debug)]
struct Input {
    header: HeaderIn,
    claims: ClaimsIn,
    sign_as: SignAs,
    mutation: Mutation,
    opts: OptsIn,
}

#[derive(Arbitrary, Debug)]
struct HeaderIn {
    alg: AlgChoice,
    kid: KidChoice,
    typ: TypChoice,
    cat: CatChoice,
    /// One more member, set last (so it may override any of the above, or add `crit`).
    extra: Option<(NameChoice, SmallValue)>,
}

#[derive(Arbitrary, Debug)]
enum AlgChoice {
    Rs256,
    Rs384,
    Rs512,
    Hs256,
    None,
    NoneCapital,
    Ps256,
    Es256,
    LowerRs256,
    Missing,
    NotString(i64),
    Junk(String),
}

#[derive(Arbitrary, Debug)]
enum KidChoice {
    Right,
    Missing,
    Other(String),
    NotString(i64),
}

#[derive(Arbitrary, Debug)]
enum TypChoice {
    Jwt,
    Missing,
    Lower,
    Junk(String),
    NotString(bool),
}

#[derive(Arbitrary, Debug)]
enum CatChoice {
    Missing,
    Session,
    Ignore,
    M2m,
    Junk(String),
    NotString(u8),
}

#[derive(Arbitrary, Debug)]
enum NameChoice {
    Custom(String),
    Alg,
    Kid,
    Typ,
    Cat,
    Crit,
    Sub,
    Exp,
    Nbf,
    Iat,
    Azp,
    Aud,
    Iss,
    V,
    Sid,
    Sts,
    Fea,
    Pla,
    O,
    Act,
    Fva,
    OrgId,
    OrgPermissions,
}

impl NameChoice {
    fn name(&self) -> &str {
        match self {
            NameChoice::Custom(s) => s,
            NameChoice::Alg => "alg",
            NameChoice::Kid => "kid",
            NameChoice::Typ => "typ",
            NameChoice::Cat => "cat",
            NameChoice::Crit => "crit",
            NameChoice::Sub => "sub",
            NameChoice::Exp => "exp",
            NameChoice::Nbf => "nbf",
            NameChoice::Iat => "iat",
            NameChoice::Azp => "azp",
            NameChoice::Aud => "aud",
            NameChoice::Iss => "iss",
            NameChoice::V => "v",
            NameChoice::Sid => "sid",
            NameChoice::Sts => "sts",
            NameChoice::Fea => "fea",
            NameChoice::Pla => "pla",
            NameChoice::O => "o",
            NameChoice::Act => "act",
            NameChoice::Fva => "fva",
            NameChoice::OrgId => "org_id",
            NameChoice::OrgPermissions => "org_permissions",
        }
    }
}

#[derive(Arbitrary, Debug)]
enum SmallValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    StrList(Vec<String>),
    Object(Vec<(String, String)>),
}

impl SmallValue {
    fn to_json(&self) -> Value {
        match self {
            SmallValue::Str(s) => json!(s),
            // Non-finite floats have no JSON form; serde_json would write null.
            SmallValue::Float(f) if f.is_finite() => json!(f),
            SmallValue::Float(_) => Value::Null,
            SmallValue::Int(i) => json!(i),
            SmallValue::Bool(b) => json!(b),
            SmallValue::Null => Value::Null,
            SmallValue::StrList(l) => json!(l),
            SmallValue::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect(),
            ),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct ClaimsIn {
    sub: SubChoice,
    exp: TimeChoice,
    nbf: TimeChoice,
    iat: TimeChoice,
    azp: AzpChoice,
    aud: AudChoice,
    iss: IssChoice,
    v: VChoice,
    /// v2 organization object: `id`, `rol`, `slg`, `per`, `fpm`.
    o: Option<(Option<String>, String, String, String, String)>,
    fea: Option<String>,
    per_v1: Option<(String, Vec<String>)>,
    sid: Option<String>,
    sts: Option<String>,
    pla: Option<String>,
    /// Set last: may override any claim above.
    custom: Option<(NameChoice, SmallValue)>,
}

#[derive(Arbitrary, Debug)]
enum SubChoice {
    Fixed,
    Given(String),
    Missing,
    NotString(i64),
    Null,
}

/// A time claim. Offsets are relative to [`NOW`].
#[derive(Arbitrary, Debug)]
enum TimeChoice {
    /// exp: now + 60; nbf: now - 10; iat: now (Clerk's usual shape).
    Usual,
    /// Whole seconds from now.
    Secs(i32),
    /// Milliseconds from now, written as a fractional number of seconds.
    Millis(i32),
    /// An absolute value in whole seconds.
    Abs(i64),
    Missing,
    Null,
    Str(String),
}

#[derive(Arbitrary, Debug)]
enum AzpChoice {
    Usual,
    Missing,
    Null,
    Listed(u8),
    Given(String),
    NotString(i64),
}

#[derive(Arbitrary, Debug)]
enum AudChoice {
    Missing,
    Usual,
    Given(String),
    List(Vec<String>),
    NotString(i64),
}

#[derive(Arbitrary, Debug)]
enum IssChoice {
    Usual,
    Missing,
    Given(String),
    NotString(i64),
}

#[derive(Arbitrary, Debug)]
enum VChoice {
    Two,
    Missing,
    One,
    Other(u64),
    Junk(String),
}

/// How the signature is made.
#[derive(Arbitrary, Debug)]
enum SignAs {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 384 or 512 (matching the header when it names one of them).
    HeaderRsa,
    /// Always RS256, whatever the header says.
    Rs256,
    Rs384,
    Rs512,
    /// Algorithm confusion: HMAC-SHA256 keyed with the public key's PEM, or its modulus.
    HmacPublicPem,
    HmacModulus,
    /// No signature at all (`header.payload.`).
    Empty,
    /// Any bytes.
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Mutation {
    None,
    FlipBit {
        index: u16,
        bit: u8,
    },
    Truncate {
        len: u16,
    },
    /// Swap two of the three segments.
    Swap {
        a: u8,
        b: u8,
    },
    /// Replace one segment's text.
    Replace {
        segment: u8,
        text: String,
    },
    Append(String),
    Insert {
        index: u16,
        byte: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct OptsIn {
    /// Authorized parties; `AZP` is put first when `with_azp` is set.
    with_azp: bool,
    more_parties: Vec<String>,
    allow_missing_azp: bool,
    /// Clock skew in milliseconds (capped at 10 minutes).
    skew_ms: Option<u32>,
    /// Require `AUD` (plus these).
    with_audience: bool,
    more_audience: Vec<String>,
    require_issuer: bool,
    all_rsa_algorithms: bool,
    /// The key's JWK pins `"alg":"RS256"`.
    key_pins_alg: bool,
    /// A small max_token_len (in bytes) instead of the default.
    max_token_len: Option<u16>,
}

// ---------------------------------------------------------------------------------------------
// Fixed key material.

struct Fixture {
    /// The modulus, big-endian (an HMAC key for the confusion attempt).
    n: Vec<u8>,
    /// The public key as PKCS #1 PEM (another HMAC key for the confusion attempt).
    public_pem: String,
    pinned: KeySet,
    unpinned: KeySet,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let pkcs1 = STANDARD.encode(key_pair().public().as_ref());
        let mut public_pem = String::from("-----BEGIN RSA PUBLIC KEY-----\n");
        for line in pkcs1.as_bytes().chunks(64) {
            public_pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            public_pem.push('\n');
        }
        public_pem.push_str("-----END RSA PUBLIC KEY-----\n");
        Fixture {
            n: public_components().n,
            public_pem,
            pinned: KeySet::from_jwks(&jwks_json(true)).expect("pinned JWKS"),
            unpinned: KeySet::from_jwks(&jwks_json(false)).expect("unpinned JWKS"),
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Building the token.

fn time_value(choice: &TimeChoice, usual_offset: i64) -> Option<Value> {
    Some(match choice {
        TimeChoice::Usual => json!(NOW + usual_offset),
        TimeChoice::Secs(s) => json!(NOW + i64::from(*s)),
        TimeChoice::Millis(ms) => {
            let total = NOW * 1000 + i64::from(*ms);
            // Shortest round-tripping decimal of the nearest f64, as any JSON encoder writes it.
            json!(total as f64 / 1000.0)
        }
        TimeChoice::Abs(v) => json!(v),
        TimeChoice::Missing => return None,
        TimeChoice::Null => Value::Null,
        TimeChoice::Str(s) => json!(s),
    })
}

fn header(h: &HeaderIn) -> Map<String, Value> {
    let mut m = Map::new();
    let alg = match &h.alg {
        AlgChoice::Rs256 => Some(json!("RS256")),
        AlgChoice::Rs384 => Some(json!("RS384")),
        AlgChoice::Rs512 => Some(json!("RS512")),
        AlgChoice::Hs256 => Some(json!("HS256")),
        AlgChoice::None => Some(json!("none")),
        AlgChoice::NoneCapital => Some(json!("None")),
        AlgChoice::Ps256 => Some(json!("PS256")),
        AlgChoice::Es256 => Some(json!("ES256")),
        AlgChoice::LowerRs256 => Some(json!("rs256")),
        AlgChoice::Missing => None,
        AlgChoice::NotString(i) => Some(json!(i)),
        AlgChoice::Junk(s) => Some(json!(s)),
    };
    if let Some(a) = alg {
        m.insert("alg".into(), a);
    }
    match &h.kid {
        KidChoice::Right => {
            m.insert("kid".into(), json!(KID));
        }
        KidChoice::Missing => {}
        KidChoice::Other(s) => {
            m.insert("kid".into(), json!(s));
        }
        KidChoice::NotString(i) => {
            m.insert("kid".into(), json!(i));
        }
    }
    match &h.typ {
        TypChoice::Jwt => {
            m.insert("typ".into(), json!("JWT"));
        }
        TypChoice::Missing => {}
        TypChoice::Lower => {
            m.insert("typ".into(), json!("jwt"));
        }
        TypChoice::Junk(s) => {
            m.insert("typ".into(), json!(s));
        }
        TypChoice::NotString(b) => {
            m.insert("typ".into(), json!(b));
        }
    }
    let cat = match &h.cat {
        CatChoice::Missing => None,
        CatChoice::Session => Some(json!(CAT_SESSION)),
        CatChoice::Ignore => Some(json!(CAT_IGNORE)),
        CatChoice::M2m => Some(json!(CAT_M2M)),
        CatChoice::Junk(s) => Some(json!(s)),
        CatChoice::NotString(u) => Some(json!(u)),
    };
    if let Some(c) = cat {
        m.insert("cat".into(), c);
    }
    if let Some((name, value)) = &h.extra {
        m.insert(name.name().to_owned(), value.to_json());
    }
    m
}

fn claims(c: &ClaimsIn, opts: &VerifyOptions) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_owned(), v);
        }
    };
    put(
        "sub",
        match &c.sub {
            SubChoice::Fixed => Some(json!(SUB)),
            SubChoice::Given(s) => Some(json!(s)),
            SubChoice::Missing => None,
            SubChoice::NotString(i) => Some(json!(i)),
            SubChoice::Null => Some(Value::Null),
        },
    );
    put("exp", time_value(&c.exp, 60));
    put("nbf", time_value(&c.nbf, -10));
    put("iat", time_value(&c.iat, 0));
    put(
        "azp",
        match &c.azp {
            AzpChoice::Usual => Some(json!(AZP)),
            AzpChoice::Missing => None,
            AzpChoice::Null => Some(Value::Null),
            AzpChoice::Listed(i) => {
                let parties = &opts.authorized_parties;
                Some(if parties.is_empty() {
                    json!(AZP)
                } else {
                    json!(parties[usize::from(*i) % parties.len()])
                })
            }
            AzpChoice::Given(s) => Some(json!(s)),
            AzpChoice::NotString(i) => Some(json!(i)),
        },
    );
    put(
        "aud",
        match &c.aud {
            AudChoice::Missing => None,
            AudChoice::Usual => Some(json!(AUD)),
            AudChoice::Given(s) => Some(json!(s)),
            AudChoice::List(l) => Some(json!(l)),
            AudChoice::NotString(i) => Some(json!(i)),
        },
    );
    put(
        "iss",
        match &c.iss {
            IssChoice::Usual => Some(json!(ISSUER)),
            IssChoice::Missing => None,
            IssChoice::Given(s) => Some(json!(s)),
            IssChoice::NotString(i) => Some(json!(i)),
        },
    );
    put(
        "v",
        match &c.v {
            VChoice::Two => Some(json!(2)),
            VChoice::Missing => None,
            VChoice::One => Some(json!(1)),
            VChoice::Other(n) => Some(json!(n)),
            VChoice::Junk(s) => Some(json!(s)),
        },
    );
    if let Some((id, rol, slg, per, fpm)) = &c.o {
        let mut o = json!({ "rol": rol, "slg": slg, "per": per, "fpm": fpm });
        if let Some(id) = id {
            o["id"] = json!(id);
        }
        put("o", Some(o));
    }
    put("fea", c.fea.as_ref().map(|f| json!(f)));
    if let Some((id, perms)) = &c.per_v1 {
        put("org_id", Some(json!(id)));
        put("org_role", Some(json!("org:admin")));
        put("org_permissions", Some(json!(perms)));
    }
    put("sid", c.sid.as_ref().map(|s| json!(s)));
    put("sts", c.sts.as_ref().map(|s| json!(s)));
    put("pla", c.pla.as_ref().map(|s| json!(s)));
    if let Some((name, value)) = &c.custom {
        put(name.name(), Some(value.to_json()));
    }
    m
}

fn options(o: &OptsIn) -> VerifyOptions {
    let mut parties: Vec<String> = Vec::new();
    if o.with_azp {
        parties.push(AZP.to_owned());
    }
    parties.extend(o.more_parties.iter().take(4).cloned());
    let mut audience: Vec<String> = Vec::new();
    if o.with_audience {
        audience.push(AUD.to_owned());
    }
    audience.extend(o.more_audience.iter().take(4).cloned());
    let mut opts = VerifyOptions::default()
        .clock(Clock::fixed(clerk_verify_fuzz::now()))
        .authorized_parties(parties)
        .allow_missing_azp(o.allow_missing_azp)
        .audience(audience);
    if let Some(ms) = o.skew_ms {
        opts = opts.clock_skew(Duration::from_millis(u64::from(ms % 600_001)));
    }
    if o.require_issuer {
        opts = opts.issuer(ISSUER);
    }
    if o.all_rsa_algorithms {
        opts = opts.algorithms([Algorithm::RS256, Algorithm::RS384, Algorithm::RS512]);
    }
    if let Some(len) = o.max_token_len {
        opts = opts.max_token_len(usize::from(len.max(1)));
    }
    opts
}

/// RSA signatures already made, by algorithm and signing input. An RSA-2048 private-key
/// operation costs about a millisecond, fifty times a verification; libFuzzer mostly mutates
/// the mutation, options and signing choice of a known header and claims set, so most inputs
/// reuse a signature. PKCS #1 v1.5 signatures are deterministic, so a cached one is the one
/// signing would make. Bounded: cleared when full.
fn rsa_signature(alg: &'static str, input: &[u8]) -> Vec<u8> {
    const MAX_CACHED: usize = 1 << 16;
    static CACHE: OnceLock<Mutex<HashMap<(&'static str, Vec<u8>), Vec<u8>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (alg, input.to_vec());
    if let Some(sig) = cache.lock().expect("not poisoned").get(&key) {
        return sig.clone();
    }
    let pair = key_pair();
    let params: &'static dyn signature::RsaEncoding = match alg {
        "RS384" => &signature::RSA_PKCS1_SHA384,
        "RS512" => &signature::RSA_PKCS1_SHA512,
        _ => &signature::RSA_PKCS1_SHA256,
    };
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(params, &ring::rand::SystemRandom::new(), input, &mut sig)
        .expect("RSA signing");
    let mut cache = cache.lock().expect("not poisoned");
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    cache.insert(key, sig.clone());
    sig
}

/// Signs `input`; returns the signature and the algorithm name it really is.
fn sign(how: &SignAs, header_alg: Option<&str>, input: &[u8]) -> (Vec<u8>, &'static str) {
    let f = fixture();
    let rsa = |alg: &'static str| (rsa_signature(alg, input), alg);
    let hmac = |key: &[u8]| {
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
        (ring::hmac::sign(&k, input).as_ref().to_vec(), "HS256")
    };
    match how {
        SignAs::HeaderRsa => rsa(match header_alg {
            Some("RS384") => "RS384",
            Some("RS512") => "RS512",
            _ => "RS256",
        }),
        SignAs::Rs256 => rsa("RS256"),
        SignAs::Rs384 => rsa("RS384"),
        SignAs::Rs512 => rsa("RS512"),
        SignAs::HmacPublicPem => hmac(f.public_pem.as_bytes()),
        SignAs::HmacModulus => hmac(&f.n),
        SignAs::Empty => (Vec::new(), "none"),
        SignAs::Bytes(b) => (b.clone(), "bytes"),
    }
}

fn mutate(token: &str, m: &Mutation) -> String {
    match m {
        Mutation::None => token.to_owned(),
        Mutation::FlipBit { index, bit } => {
            let mut b = token.as_bytes().to_vec();
            if !b.is_empty() {
                let i = usize::from(*index) % b.len();
                b[i] ^= 1 << (bit % 7); // stays ASCII
            }
            String::from_utf8(b).expect("ASCII stays UTF-8")
        }
        Mutation::Truncate { len } => token[..usize::from(*len).min(token.len())].to_owned(),
        Mutation::Swap { a, b } => {
            let mut parts: Vec<&str> = token.split('.').collect();
            let (a, b) = (usize::from(*a) % parts.len(), usize::from(*b) % parts.len());
            parts.swap(a, b);
            parts.join(".")
        }
        Mutation::Replace { segment, text } => {
            let mut parts: Vec<&str> = token.split('.').collect();
            let i = usize::from(*segment) % parts.len();
            parts[i] = text;
            parts.join(".")
        }
        Mutation::Append(s) => format!("{token}{s}"),
        Mutation::Insert { index, byte } => {
            let mut b = token.as_bytes().to_vec();
            let i = usize::from(*index) % (b.len() + 1);
            b.insert(i, byte & 0x7f);
            String::from_utf8(b).expect("ASCII stays UTF-8")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The oracle: Clerk's rules, restated.

#[derive(Debug, PartialEq)]
enum Expect {
    Accept,
    Reject,
    /// A fractional time claim exactly on a boundary: the f64 comparison may go either way.
    Either,
}

/// A JSON number as exact milliseconds, when it is one we can judge exactly.
enum Ms {
    Exact(i128),
    /// Fractional: exact value unknown beyond f64 precision; `approx` is the rounded milliseconds.
    Approx(i128),
}

fn millis(v: &Value) -> Option<Ms> {
    let Value::Number(n) = v else { return None };
    if let Some(i) = n.as_i64() {
        return Some(Ms::Exact(i128::from(i) * 1000));
    }
    if let Some(u) = n.as_u64() {
        return Some(Ms::Exact(i128::from(u) * 1000));
    }
    let f = n.as_f64()?;
    Some(Ms::Approx((f * 1000.0).round() as i128))
}

/// Compare `claim_ms` `>` `bound` (strictly); `None` when too close to call.
fn greater(claim: &Ms, bound: i128) -> Option<bool> {
    match claim {
        Ms::Exact(v) => Some(*v > bound),
        Ms::Approx(v) if v.abs_diff(bound) <= 1 => None,
        Ms::Approx(v) => Some(*v > bound),
    }
}

/// What was made from one input, as the oracle sees it.
struct Made<'a> {
    /// The header and claims as encoded.
    header: &'a Map<String, Value>,
    claims: &'a Map<String, Value>,
    /// The algorithm the signature really is (`"none"`, `"bytes"` for arbitrary bytes).
    signed_as: &'a str,
    /// The token string is exactly what was signed.
    unmodified: bool,
    token_len: usize,
    /// The key's JWK pins `"alg":"RS256"`.
    pinned: bool,
    /// The custom claim replaced one of the organization or actor claims with a shape this
    /// oracle does not judge (then only soundness is asserted).
    odd_custom: bool,
}

/// Everything `verify` demands, decided without the crate.
fn expected(made: &Made<'_>, opts: &VerifyOptions) -> Expect {
    let Made {
        header,
        claims,
        signed_as,
        unmodified,
        token_len,
        pinned,
        odd_custom,
    } = *made;
    use Expect::*;
    if !unmodified || token_len > opts.max_token_len {
        return Reject;
    }
    // Header.
    if header.contains_key("crit") {
        return Reject;
    }
    for name in ["kid", "typ", "cat"] {
        if header.get(name).is_some_and(|v| !v.is_string()) {
            return Reject;
        }
    }
    if header.get("typ").is_some_and(|t| t != "JWT") {
        return Reject;
    }
    if header.get("cat").is_some_and(|c| c == CAT_M2M) {
        return Reject;
    }
    let Some(alg) = header.get("alg").and_then(Value::as_str) else {
        return Reject;
    };
    let allowed: Vec<&str> = opts.algorithms.iter().map(|a| a.name()).collect();
    if !allowed.contains(&alg) || (pinned && alg != "RS256") || alg != signed_as {
        return Reject;
    }
    if header.get("kid").and_then(Value::as_str) != Some(KID) {
        return Reject;
    }
    // Claims.
    match claims.get("sub") {
        // A machine's JWT (Clerk's `isM2MJwt`) is never a session.
        Some(Value::String(s)) if s.starts_with("mch_") => return Reject,
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => return Reject,
    }
    if !opts.audience.is_empty() {
        // A string, or an array of strings (all of them) with one configured audience in it.
        let ok = match claims.get("aud") {
            Some(Value::String(a)) => opts.audience.contains(a),
            Some(Value::Array(l)) => {
                l.iter().all(Value::is_string)
                    && l.iter().any(|a| {
                        a.as_str()
                            .is_some_and(|a| opts.audience.iter().any(|x| x == a))
                    })
            }
            _ => false,
        };
        if !ok {
            return Reject;
        }
    }
    if !opts.authorized_parties.is_empty() {
        let ok = match claims.get("azp") {
            None | Some(Value::Null) => opts.allow_missing_azp,
            Some(Value::String(a)) => opts.authorized_parties.contains(a),
            Some(_) => false,
        };
        if !ok {
            return Reject;
        }
    }
    let now = i128::from(NOW) * 1000;
    let skew = opts.clock_skew.as_millis() as i128;
    let mut either = false;
    // exp > now - skew, required.
    let Some(exp) = claims.get("exp") else {
        return Reject;
    };
    let Some(exp) = millis(exp) else {
        return Reject;
    };
    match greater(&exp, now - skew) {
        Some(true) => {}
        Some(false) => return Reject,
        None => either = true,
    }
    // nbf and iat, when present: not > now + skew.
    for name in ["nbf", "iat"] {
        if let Some(v) = claims.get(name) {
            let Some(t) = millis(v) else { return Reject };
            match greater(&t, now + skew) {
                Some(false) => {}
                Some(true) => return Reject,
                None => either = true,
            }
        }
    }
    if let Some(iss) = &opts.issuer {
        if claims.get("iss").and_then(Value::as_str) != Some(iss.as_str()) {
            return Reject;
        }
    }
    // Beyond the rules: claims the typed `Claims` cannot represent are refused too. Judge only
    // the shapes this target generates; anything else (a custom claim overriding a typed one)
    // may go either way.
    let string_or_absent = |n: &str| matches!(claims.get(n), None | Some(Value::String(_)));
    let typed_ok = ["sid", "iss", "azp", "sts", "pla", "fea"]
        .iter()
        .all(|n| string_or_absent(n) || claims.get(*n) == Some(&Value::Null));
    let v_ok = match claims.get("v") {
        None => true,
        Some(v) => v.as_u64().is_some(),
    };
    let fea_ok = match claims.get("fea").and_then(Value::as_str) {
        None | Some("") => true,
        Some(f) => f.split(',').all(|e| e.trim().contains(':')),
    };
    if !typed_ok || !v_ok {
        return Reject;
    }
    if !fea_ok {
        return Reject;
    }
    if either || odd_custom {
        Either
    } else {
        Accept
    }
}

fuzz_target!(|input: Input| {
    let f = fixture();
    let opts = options(&input.opts);
    let header = header(&input.header);
    let claims = claims(&input.claims, &opts);
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(Value::Object(header.clone()).to_string()),
        URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
    );
    let (sig, signed_as) = sign(
        &input.sign_as,
        header.get("alg").and_then(Value::as_str),
        signing_input.as_bytes(),
    );
    let original = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&sig));
    let token = mutate(&original, &input.mutation);

    let keys = if input.opts.key_pins_alg {
        f.pinned.clone()
    } else {
        f.unpinned.clone()
    };
    let verifier = Verifier::new(keys, opts.clone()).expect("the generated options are valid");
    let result = verifier.verify(&token);

    let made = Made {
        header: &header,
        claims: &claims,
        signed_as,
        unmodified: token == original,
        token_len: token.len(),
        pinned: input.opts.key_pins_alg,
        odd_custom: input.claims.custom.as_ref().is_some_and(|(name, _)| {
            matches!(
                name.name(),
                "o" | "act" | "fva" | "org_id" | "org_role" | "org_slug" | "org_permissions"
            )
        }),
    };
    let want = expected(&made, &opts);
    match (&result, want) {
        (Ok(c), Expect::Accept | Expect::Either) => {
            assert_eq!(Some(&json!(c.sub)), claims.get("sub"));
        }
        (Err(_), Expect::Reject | Expect::Either) => {}
        (Ok(_), Expect::Reject) => panic!(
            "ACCEPTED a token the rules refuse\nheader: {header:?}\nclaims: {claims:?}\n\
             signed as {signed_as}, unmodified: {}\ntoken: {token}\nopts: {opts:?}",
            token == original
        ),
        (Err(e), Expect::Accept) => panic!(
            "refused a valid token ({}: {e})\nheader: {header:?}\nclaims: {claims:?}\n\
             token: {token}\nopts: {opts:?}",
            e.reason()
        ),
    }
    // The free function and the non-blocking path agree with `Verifier::verify`.
    let keys = if input.opts.key_pins_alg {
        &f.pinned
    } else {
        &f.unpinned
    };
    let free = clerk_verify::verify(&token, keys, &opts);
    assert_eq!(free.is_ok(), result.is_ok());
    let quick = verifier.try_verify(&token).expect("a KeySet never blocks");
    assert_eq!(quick.is_ok(), result.is_ok());
    // Request authentication (the header flow) is stricter, never looser: signed in only for a
    // token `verify` accepts, of the session category, and not pending. The header value is
    // trimmed, as HTTP trims a field value, so the token it carries is the trimmed one.
    let bearer = format!("Bearer {token}");
    if let Some(auth) = verifier.authenticate_request(Some(&bearer), None).auth() {
        let presented = token.trim();
        let trimmed_result;
        let result = if presented == token {
            &result
        } else {
            trimmed_result = verifier.verify(presented);
            &trimmed_result
        };
        let claims = result.as_ref().expect("signed in, so verify() accepts it");
        assert_eq!(auth.user_id(), claims.user_id());
        let cat = header.get("cat").and_then(Value::as_str);
        assert!(matches!(cat, None | Some(CAT_SESSION) | Some(CAT_IGNORE)), "{cat:?}");
        assert!(!claims.is_pending());
    }
});
