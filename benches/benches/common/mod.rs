//! What the verification benches share: the Clerk-shaped token, each contender's pre-built key
//! and options ([`Case`]), and the floor pipeline (the least any verifier does).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clerk_dev::{b64url_decode, now_unix, DevKey, TokenBuilder};
use clerk_verify::{keys::CRYPTO_BACKEND, Verifier, VerifyOptions};
use serde::Deserialize;
use std::hint::black_box;

/// What a jsonwebtoken user would decode a Clerk session token into.
#[derive(Deserialize)]
#[allow(dead_code)] // Fields are read by serde only: decoding them is the work measured.
struct JwtClaims {
    sub: String,
    sid: Option<String>,
    iss: Option<String>,
    azp: Option<String>,
    exp: u64,
    nbf: Option<u64>,
    iat: Option<u64>,
    v: Option<u64>,
}

/// The header as the floor pipeline reads it (borrowed, nothing kept).
#[derive(Deserialize)]
struct JwtHeader<'a> {
    alg: &'a str,
    #[serde(borrow)]
    #[allow(dead_code)] // Read by serde only.
    kid: Option<&'a str>,
}

/// The backend's raw RSA verification with a pre-built key: the floor's crypto.
enum RawKey {
    Ring(ring::signature::RsaPublicKeyComponents<Vec<u8>>),
    AwsLc(aws_lc_rs::signature::ParsedPublicKey),
}

impl RawKey {
    fn for_backend(key: &DevKey) -> RawKey {
        let jwk = key.public_jwk();
        let part = |m: &str| b64url_decode(jwk[m].as_str().expect("n, e")).expect("base64url");
        if CRYPTO_BACKEND == "aws-lc-rs" {
            let pem = key.public_pem();
            let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body)
                .expect("PEM body");
            RawKey::AwsLc(
                aws_lc_rs::signature::ParsedPublicKey::new(
                    &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                    der,
                )
                .expect("aws-lc key"),
            )
        } else {
            RawKey::Ring(ring::signature::RsaPublicKeyComponents {
                n: part("n"),
                e: part("e"),
            })
        }
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            RawKey::Ring(k) => k
                .verify(
                    &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                    message,
                    signature,
                )
                .is_ok(),
            RawKey::AwsLc(k) => k.verify_sig(message, signature).is_ok(),
        }
    }
}

/// The floor pipeline: split, base64url, serde of header and claims, the raw verification, and
/// the time checks. What any verifier must do at least; no strictness beyond serde's.
fn floor_pipeline(token: &str, key: &RawKey, now: u64) -> Option<JwtClaims> {
    let (signing_input, sig_b64) = token.rsplit_once('.')?;
    let (header_b64, payload_b64) = signing_input.split_once('.')?;
    let header = URL_SAFE_NO_PAD.decode(header_b64).ok()?;
    let payload = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(sig_b64).ok()?;
    let header: JwtHeader<'_> = serde_json::from_slice(&header).ok()?;
    if header.alg != "RS256" || !key.verify(signing_input.as_bytes(), &signature) {
        return None;
    }
    let claims: JwtClaims = serde_json::from_slice(&payload).ok()?;
    let skew = 5;
    let fresh = claims.exp + skew > now && claims.nbf.is_none_or(|nbf| nbf <= now + skew);
    fresh.then_some(claims)
}

/// One key size: the token and every implementation's pre-built key.
pub struct Case {
    pub bits: u32,
    pub token: String,
    verifier: Verifier,
    /// The same verifier with the verified-token cache on, the token already in it.
    cached: Verifier,
    signing_input: String,
    signature: Vec<u8>,
    raw: RawKey,
    jwt_key: jsonwebtoken::DecodingKey,
    jwt_validation: jsonwebtoken::Validation,
    jose_verifier: josekit::jws::alg::rsassa::RsassaJwsVerifier,
    jose_validator: josekit::jwt::JwtPayloadValidator,
}

/// A Clerk-shaped v2 session token (an active organization with permissions, features, plans),
/// valid for an hour so no run outlives it.
pub fn session_token(key: &DevKey) -> String {
    session_token_for(key, "user_2abcdefghijklmnopqrstuvwx")
}

pub fn session_token_for(key: &DevKey, sub: &str) -> String {
    let now = now_unix();
    TokenBuilder::session(sub, now)
        .claim("exp", now + 3600)
        .claim("fva", serde_json::json!([12, -1]))
        .claim("sts", "active")
        .claim("jti", "8d1f3c2a9b7e4f6a1c0d")
        .claim("pla", "u:free,o:pro")
        .claim("fea", "o:impersonation,o:memberships,u:support")
        .claim(
            "o",
            serde_json::json!({
                "id": "org_2abcdefghijklmnopqrstuvwx", "rol": "admin", "slg": "acme",
                "per": "read,manage", "fpm": "1,3"
            }),
        )
        .sign(key)
}

pub fn our_options() -> VerifyOptions {
    VerifyOptions::default()
        .authorized_parties([clerk_dev::TEST_AZP])
        .issuer(clerk_dev::TEST_ISSUER)
}

/// The implementations measured side by side.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Contender {
    /// `Verifier::verify`, the key in memory, the token cache off.
    ClerkVerify,
    /// [`floor_pipeline`].
    Floor,
    /// The backend's raw RSA verification of the signing input alone.
    Raw,
    /// jsonwebtoken 11 `decode` on aws-lc-rs.
    JsonWebToken,
    /// josekit's verifier and payload validator.
    Josekit,
    /// `Verifier::verify` answered from the verified-token cache (the same token again).
    CacheHit,
}

impl Contender {
    pub const ALL: [Contender; 6] = [
        Contender::ClerkVerify,
        Contender::Floor,
        Contender::Raw,
        Contender::JsonWebToken,
        Contender::Josekit,
        Contender::CacheHit,
    ];

    /// The benchmark's name (criterion's function id).
    pub fn name(self) -> &'static str {
        match self {
            Contender::ClerkVerify => "clerk-verify",
            Contender::Floor => "floor-pipeline",
            Contender::Raw if CRYPTO_BACKEND == "aws-lc-rs" => "aws-lc-raw",
            Contender::Raw => "ring-raw",
            Contender::JsonWebToken => "jsonwebtoken-aws-lc",
            Contender::Josekit => "josekit",
            Contender::CacheHit => "clerk-verify-cache-hit",
        }
    }
}

impl Case {
    /// One verification of the token by `who`, which must accept it (`now` for the floor's
    /// time checks). Inputs and results pass through `black_box`.
    #[inline]
    pub fn run(&self, who: Contender, now: u64) {
        let token = black_box(self.token.as_str());
        match who {
            Contender::ClerkVerify => {
                black_box(self.verifier.verify(token)).expect("valid");
            }
            Contender::Floor => {
                black_box(floor_pipeline(token, &self.raw, now)).expect("valid");
            }
            Contender::Raw => assert!(self.raw.verify(
                black_box(self.signing_input.as_bytes()),
                black_box(&self.signature)
            )),
            Contender::JsonWebToken => {
                black_box(jsonwebtoken::decode::<JwtClaims>(
                    token,
                    &self.jwt_key,
                    &self.jwt_validation,
                ))
                .expect("valid");
            }
            Contender::Josekit => {
                let (payload, header) =
                    josekit::jwt::decode_with_verifier(token, &self.jose_verifier).expect("valid");
                self.jose_validator
                    .validate(&payload)
                    .expect("valid claims");
                black_box((payload, header));
            }
            Contender::CacheHit => {
                black_box(self.cached.verify(token)).expect("valid");
            }
        }
    }

    /// One case per key size (2048, 3072 and 4096 bits), each accepted by every contender.
    pub fn every_key_size() -> impl Iterator<Item = Case> {
        [
            clerk_dev::fixtures::rsa2048(),
            clerk_dev::fixtures::rsa3072(),
            clerk_dev::fixtures::rsa4096(),
        ]
        .into_iter()
        .map(|key| {
            let case = Case::new(key);
            case.check();
            case
        })
    }

    fn new(key: &'static DevKey) -> Case {
        let token = session_token(key);
        let (signing_input, sig_b64) = token.rsplit_once('.').expect("three parts");
        let jwk = key.public_jwk();
        let (n, e) = (jwk["n"].as_str().expect("n"), jwk["e"].as_str().expect("e"));

        let mut jwt_validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        jwt_validation.leeway = 5;
        jwt_validation.validate_nbf = true;
        jwt_validation.set_issuer(&[clerk_dev::TEST_ISSUER]);
        jwt_validation.set_required_spec_claims(&["exp", "sub"]);

        let mut jose_validator = josekit::jwt::JwtPayloadValidator::new();
        jose_validator.set_issuer(clerk_dev::TEST_ISSUER);

        Case {
            bits: key.bits(),
            verifier: Verifier::from_jwks(&key.jwks_json(), our_options()).expect("verifier"),
            cached: Verifier::from_jwks(&key.jwks_json(), our_options().token_cache(64))
                .expect("verifier"),
            signing_input: signing_input.to_owned(),
            signature: b64url_decode(sig_b64).expect("signature"),
            raw: RawKey::for_backend(key),
            jwt_key: jsonwebtoken::DecodingKey::from_rsa_components(n, e).expect("jwt key"),
            jwt_validation,
            jose_verifier: josekit::jws::RS256
                .verifier_from_pem(key.public_pem())
                .expect("josekit verifier"),
            jose_validator,
            token,
        }
    }

    /// Every implementation accepts the token before anything is timed.
    fn check(&self) {
        let ours = self.verifier.verify(&self.token).expect("ours");
        assert_eq!(self.cached.verify(&self.token).expect("cached"), ours);
        assert_eq!(self.cached.token_cache_stats().expect("on").entries, 1);
        assert_eq!(ours.sub, "user_2abcdefghijklmnopqrstuvwx");
        assert_eq!(ours.org_id(), Some("org_2abcdefghijklmnopqrstuvwx"));
        assert!(self
            .raw
            .verify(self.signing_input.as_bytes(), &self.signature));
        assert!(floor_pipeline(&self.token, &self.raw, now_unix() as u64).is_some());
        jsonwebtoken::decode::<JwtClaims>(&self.token, &self.jwt_key, &self.jwt_validation)
            .expect("jsonwebtoken");
        let (payload, _) =
            josekit::jwt::decode_with_verifier(&self.token, &self.jose_verifier).expect("josekit");
        self.jose_validator
            .validate(&payload)
            .expect("josekit claims");
    }
}
