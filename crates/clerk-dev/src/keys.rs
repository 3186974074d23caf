//! [`DevKey`]: an RSA private key with its `kid`, signing with RustCrypto's `rsa` (pure Rust,
//! independent of `ring`, which the verifier under test uses).

use std::fmt;
use std::sync::Arc;

use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{pkcs1v15, pss, RsaPrivateKey};
use serde_json::{json, Value};
use sha2::{Sha256, Sha384, Sha512};

use crate::jws::b64url;

/// An RSA private key (public exponent 65537 when generated here) together with its key id.
///
/// Signing is done by RustCrypto's `rsa` crate, never by the verifier under test (which uses
/// `ring`). It is constant-time enough for test keys only: never use this to issue real tokens.
/// Cloning is cheap (the key is shared).
#[derive(Clone)]
pub struct DevKey {
    kid: String,
    key: Arc<RsaPrivateKey>,
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
    /// Generates a fresh RSA key of `bits` bits (e = 65537).
    ///
    /// Weak sizes such as 1024 bits are allowed, so that tests can check that the verifier
    /// refuses them. Generating 2048+ bit keys takes noticeable time (about a second); prefer
    /// [`crate::fixtures`].
    ///
    /// # Panics
    /// If key generation fails (e.g. `bits` is absurdly small).
    pub fn generate(bits: u32, kid: impl Into<String>) -> DevKey {
        let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits as usize)
            .expect("RSA key generation failed");
        DevKey {
            kid: kid.into(),
            key: Arc::new(key),
        }
    }

    /// Loads an RSA private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or
    /// PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    ///
    /// # Errors
    /// A message if the PEM cannot be parsed or is not an RSA private key.
    pub fn from_private_pem(pem: &str, kid: impl Into<String>) -> Result<DevKey, String> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| format!("cannot parse an RSA private key PEM: {e}"))?;
        Ok(DevKey {
            kid: kid.into(),
            key: Arc::new(key),
        })
    }

    /// The key id (`kid`) put in JWT headers and in the JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> u32 {
        self.key.n().bits() as u32
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn private_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 encoding of an RSA key")
            .to_string()
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`), the format of
    /// Clerk's "PEM public key" (`CLERK_JWT_KEY`).
    pub fn public_pem(&self) -> String {
        self.key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("SPKI encoding of an RSA key")
    }

    /// The public key as PKCS#1 PEM (`-----BEGIN RSA PUBLIC KEY-----`).
    pub fn public_pkcs1_pem(&self) -> String {
        self.key
            .to_public_key()
            .to_pkcs1_pem(LineEnding::LF)
            .expect("PKCS#1 encoding of an RSA key")
    }

    /// The public key as a JWK, like one entry of Clerk's JWKS:
    /// `{"kty":"RSA","kid":..,"use":"sig","alg":"RS256","n":..,"e":..}`
    /// with `n` and `e` big-endian, base64url without padding.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": b64url(&self.key.n().to_bytes_be()),
            "e": b64url(&self.key.e().to_bytes_be()),
        })
    }

    /// A JWKS document holding only this key: `{"keys":[public_jwk]}`.
    pub fn jwks_json(&self) -> String {
        jwks_json(&[self])
    }

    /// Signs `signing_input` (normally `b64url(header) + "." + b64url(payload)`) and
    /// returns the raw signature bytes.
    ///
    /// `alg` is one of `RS256`, `RS384`, `RS512` (RSASSA-PKCS1-v1_5), `PS256`, `PS384`,
    /// `PS512` (PSS with MGF1 over the same hash and salt length = hash length, as RFC 7518).
    /// Any key size is signed, weak ones included.
    ///
    /// # Panics
    /// On any other `alg` (this is a test helper).
    pub fn sign(&self, alg: &str, signing_input: &[u8]) -> Vec<u8> {
        let key = RsaPrivateKey::clone(&self.key);
        let mut rng = rand::thread_rng();
        match alg {
            "RS256" => pkcs1v15::SigningKey::<Sha256>::new(key)
                .sign(signing_input)
                .to_vec(),
            "RS384" => pkcs1v15::SigningKey::<Sha384>::new(key)
                .sign(signing_input)
                .to_vec(),
            "RS512" => pkcs1v15::SigningKey::<Sha512>::new(key)
                .sign(signing_input)
                .to_vec(),
            "PS256" => pss::SigningKey::<Sha256>::new_with_salt_len(key, 32)
                .sign_with_rng(&mut rng, signing_input)
                .to_vec(),
            "PS384" => pss::SigningKey::<Sha384>::new_with_salt_len(key, 48)
                .sign_with_rng(&mut rng, signing_input)
                .to_vec(),
            "PS512" => pss::SigningKey::<Sha512>::new_with_salt_len(key, 64)
                .sign_with_rng(&mut rng, signing_input)
                .to_vec(),
            other => panic!(
                "DevKey::sign: unsupported alg {other:?} (expected RS256/RS384/RS512/PS256/PS384/PS512)"
            ),
        }
    }
}

/// A JWKS document holding the public JWKs of all `keys`, in order: `{"keys":[...]}`.
pub fn jwks_json(keys: &[&DevKey]) -> String {
    let keys: Vec<Value> = keys.iter().map(|k| k.public_jwk()).collect();
    json!({ "keys": keys }).to_string()
}
