//! [`DevKey`]: an RSA private key with its `kid`, signing through josekit/OpenSSL.

use std::fmt;
use std::sync::OnceLock;

use josekit::jws::alg::rsassa::RsassaJwsSigner;
use josekit::jws::alg::rsassa_pss::RsassaPssJwsSigner;
use josekit::jws::{JwsSigner, PS256, PS384, PS512, RS256, RS384, RS512};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::{Padding, Rsa};
use openssl::sign::{RsaPssSaltlen, Signer};
use serde_json::{json, Value};

use crate::mint::b64url;

/// Smallest modulus josekit agrees to sign with; smaller (weak) keys are signed
/// with OpenSSL's `Signer` directly, which is what josekit does internally.
const JOSEKIT_MIN_BITS: u32 = 2048;

/// An RSA private key (public exponent 65537 when generated here) together with its key id.
///
/// Signing is done by josekit (backed by OpenSSL), never by the verifier under test.
/// Signers are built lazily and cached, so minting many tokens with one key is cheap.
/// Cloning is cheap (the OpenSSL key is reference counted).
#[derive(Clone)]
pub struct DevKey {
    kid: String,
    pkey: PKey<Private>,
    /// PKCS#8 PEM of the private key.
    private_pem: String,
    /// Cached josekit signers: RS256, RS384, RS512.
    rsassa: [OnceLock<RsassaJwsSigner>; 3],
    /// Cached josekit signers: PS256, PS384, PS512.
    pss: [OnceLock<RsassaPssJwsSigner>; 3],
}

impl fmt::Debug for DevKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevKey")
            .field("kid", &self.kid)
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

impl DevKey {
    /// Generates a fresh RSA key of `bits` bits (e = 65537) with OpenSSL.
    ///
    /// Any size OpenSSL accepts is allowed, including weak ones such as 1024 bits,
    /// so that tests can check that the verifier refuses them.
    /// Generating 2048+ bit keys takes noticeable time; prefer [`crate::fixtures`].
    ///
    /// # Panics
    /// If OpenSSL fails to generate the key (e.g. `bits` is absurdly small).
    pub fn generate(bits: u32, kid: impl Into<String>) -> DevKey {
        let rsa = Rsa::generate(bits).expect("OpenSSL RSA key generation failed");
        let pkey = PKey::from_rsa(rsa).expect("OpenSSL PKey::from_rsa failed");
        Self::from_pkey(pkey, kid.into())
    }

    /// Loads an RSA private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or
    /// PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    ///
    /// # Errors
    /// A message if the PEM cannot be parsed or is not an RSA private key.
    pub fn from_private_pem(pem: &str, kid: impl Into<String>) -> Result<DevKey, String> {
        let pkey = PKey::private_key_from_pem(pem.as_bytes())
            .map_err(|e| format!("cannot parse private key PEM: {e}"))?;
        if pkey.rsa().is_err() {
            return Err(format!("not an RSA private key (key type {:?})", pkey.id()));
        }
        Ok(Self::from_pkey(pkey, kid.into()))
    }

    fn from_pkey(pkey: PKey<Private>, kid: String) -> DevKey {
        let private_pem = String::from_utf8(
            pkey.private_key_to_pem_pkcs8()
                .expect("OpenSSL PKCS#8 encoding failed"),
        )
        .expect("PEM is ASCII");
        DevKey {
            kid,
            pkey,
            private_pem,
            rsassa: Default::default(),
            pss: Default::default(),
        }
    }

    /// The key id (`kid`) put in JWT headers and in the JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> u32 {
        self.pkey.bits()
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn private_pem(&self) -> String {
        self.private_pem.clone()
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the format of
    /// Clerk's "PEM public key" (`CLERK_JWT_KEY`).
    pub fn public_pem(&self) -> String {
        pem_string(self.pkey.public_key_to_pem())
    }

    /// The public key as PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`).
    pub fn public_pkcs1_pem(&self) -> String {
        pem_string(self.rsa().public_key_to_pem_pkcs1())
    }

    /// The public key as a JWK, like one entry of Clerk's JWKS:
    /// `{"kty":"RSA","kid":..,"use":"sig","alg":"RS256","n":..,"e":..}`
    /// with `n` and `e` big-endian, base64url without padding.
    pub fn public_jwk(&self) -> Value {
        let rsa = self.rsa();
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": b64url(&rsa.n().to_vec()),
            "e": b64url(&rsa.e().to_vec()),
        })
    }

    /// A JWKS document holding only this key: `{"keys":[public_jwk]}`.
    pub fn jwks_json(&self) -> String {
        jwks_json(&[self])
    }

    /// Signs `signing_input` (normally `b64url(header) + "." + b64url(payload)`) and
    /// returns the raw signature bytes.
    ///
    /// `alg` is one of `RS256`, `RS384`, `RS512`, `PS256`, `PS384`, `PS512`
    /// (PSS with MGF1 over the same hash and salt length = hash length, as RFC 7518).
    /// Keys of 2048 bits or more are signed by josekit; smaller (weak) keys, which
    /// josekit refuses, are signed by OpenSSL's `Signer` directly with the same
    /// parameters.
    ///
    /// # Panics
    /// On any other `alg` (this is a test helper).
    pub fn sign(&self, alg: &str, signing_input: &[u8]) -> Vec<u8> {
        let (family, idx) = match alg {
            "RS256" => (Family::Pkcs1, 0),
            "RS384" => (Family::Pkcs1, 1),
            "RS512" => (Family::Pkcs1, 2),
            "PS256" => (Family::Pss, 0),
            "PS384" => (Family::Pss, 1),
            "PS512" => (Family::Pss, 2),
            other => panic!(
                "DevKey::sign: unsupported alg {other:?} (expected RS256/RS384/RS512/PS256/PS384/PS512)"
            ),
        };
        if self.bits() < JOSEKIT_MIN_BITS {
            return self.sign_with_openssl(family, idx, signing_input);
        }
        let result = match family {
            Family::Pkcs1 => self.rsassa[idx]
                .get_or_init(|| {
                    let alg = [RS256, RS384, RS512][idx];
                    alg.signer_from_pem(self.private_pem.as_bytes())
                        .expect("josekit rejected the RSA key")
                })
                .sign(signing_input),
            Family::Pss => self.pss[idx]
                .get_or_init(|| {
                    // josekit converts the RSA key to an RSA-PSS key with the
                    // parameters of the requested algorithm. (Its PEM path for
                    // PKCS#1 input is broken in 0.10.3, so hand it DER.)
                    let alg = [PS256, PS384, PS512][idx];
                    let pkcs1_der = self
                        .rsa()
                        .private_key_to_der()
                        .expect("OpenSSL PKCS#1 encoding failed");
                    alg.signer_from_der(pkcs1_der)
                        .expect("josekit rejected the RSA key for PSS")
                })
                .sign(signing_input),
        };
        result.expect("josekit signing failed")
    }

    fn sign_with_openssl(&self, family: Family, idx: usize, input: &[u8]) -> Vec<u8> {
        let md = [
            MessageDigest::sha256(),
            MessageDigest::sha384(),
            MessageDigest::sha512(),
        ][idx];
        let mut signer = Signer::new(md, &self.pkey).expect("OpenSSL Signer::new failed");
        match family {
            Family::Pkcs1 => signer
                .set_rsa_padding(Padding::PKCS1)
                .expect("set PKCS1 padding"),
            Family::Pss => {
                signer
                    .set_rsa_padding(Padding::PKCS1_PSS)
                    .expect("set PSS padding");
                signer
                    .set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)
                    .expect("set PSS salt length");
                signer.set_rsa_mgf1_md(md).expect("set MGF1 digest");
            }
        }
        signer.update(input).expect("OpenSSL Signer::update failed");
        signer.sign_to_vec().expect("OpenSSL signing failed")
    }

    fn rsa(&self) -> Rsa<Private> {
        self.pkey.rsa().expect("DevKey always holds an RSA key")
    }
}

#[derive(Clone, Copy)]
enum Family {
    Pkcs1,
    Pss,
}

fn pem_string(r: Result<Vec<u8>, openssl::error::ErrorStack>) -> String {
    String::from_utf8(r.expect("OpenSSL PEM encoding failed")).expect("PEM is ASCII")
}

/// A JWKS document holding the public JWKs of all `keys`, in order: `{"keys":[...]}`.
pub fn jwks_json(keys: &[&DevKey]) -> String {
    let keys: Vec<Value> = keys.iter().map(|k| k.public_jwk()).collect();
    json!({ "keys": keys }).to_string()
}
