//! A verification key, validated once at load, and the signature check itself.

use crate::crypto::{HmacKey, RsaPublicKey};
use crate::error::Error;
use crate::options::Algorithm;
use std::fmt;

/// Smallest RSA modulus accepted, in bits (NIST SP 800-131A; also ring's floor).
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits (ring's ceiling; also bounds verification cost).
pub const MAX_RSA_BITS: usize = 8192;
/// Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_HS256_SECRET_LEN: usize = 32;

/// A public key (or HS256 secret) ready for verification.
///
/// Built from a JWK ([`crate::KeySet::from_jwks`]), a PEM ([`Key::from_pem`]) or raw parts; all
/// checks on the key material (type, size, exponent, intended use) happen here, once.
#[derive(Clone)]
pub struct Key {
    kid: Option<String>,
    alg: Option<Algorithm>,
    material: Material,
}

#[derive(Clone)]
enum Material {
    /// Big-endian modulus without leading zeros, public exponent, and the backend's key.
    Rsa {
        n: Vec<u8>,
        // Compared only when a JWKS refresh decides which keys stayed (`remote`).
        #[cfg_attr(not(feature = "remote"), allow(dead_code))]
        e: Vec<u8>,
        public: RsaPublicKey,
    },
    /// Boxed: aws-lc-rs's HMAC key is large, and a verifier holds at most one.
    Hmac { key: Box<HmacKey> },
}

impl Key {
    /// An RSA public key from its big-endian modulus `n` and exponent `e`.
    ///
    /// Refuses moduli under 2048 or over 8192 bits, and exponents that are even, below 3 or
    /// above 2^33 - 1 (what ring will verify with).
    pub fn from_rsa_components(n: &[u8], e: &[u8]) -> Result<Key, Error> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = bit_len(n);
        if bits < MIN_RSA_BITS {
            return Err(Error::local_key(format!(
                "RSA modulus is {bits} bits; at least {MIN_RSA_BITS} are required"
            )));
        }
        if bits > MAX_RSA_BITS {
            return Err(Error::local_key(format!(
                "RSA modulus is {bits} bits; at most {MAX_RSA_BITS} are supported"
            )));
        }
        if n[n.len() - 1] & 1 == 0 {
            return Err(Error::local_key("RSA modulus is even"));
        }
        let e_value = match e.len() {
            1..=5 => e.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
            _ => u64::MAX,
        };
        if !(3..(1 << 33)).contains(&e_value) || e_value & 1 == 0 {
            return Err(Error::local_key(
                "RSA public exponent must be odd, at least 3 and below 2^33",
            ));
        }
        let public = RsaPublicKey::new(n, e)
            .ok_or_else(|| Error::local_key("the RSA public key is malformed"))?;
        Ok(Key {
            kid: None,
            alg: None,
            material: Material::Rsa {
                n: n.to_vec(),
                e: e.to_vec(),
                public,
            },
        })
    }

    /// An HS256 shared secret. Refuses secrets shorter than 32 bytes.
    ///
    /// A verifier holding an HS256 key accepts HS256 tokens only, and an RSA verifier never
    /// accepts HS256: the key type fixes the algorithm.
    pub fn hs256(secret: &[u8]) -> Result<Key, Error> {
        if secret.len() < MIN_HS256_SECRET_LEN {
            return Err(Error::config(format!(
                "the HS256 secret is {} bytes; at least {MIN_HS256_SECRET_LEN} are required",
                secret.len()
            )));
        }
        Ok(Key {
            kid: None,
            alg: Some(Algorithm::HS256),
            material: Material::Hmac {
                key: Box::new(HmacKey::new(secret)),
            },
        })
    }

    /// Sets the key id this key is selected by in a key set.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Key {
        self.kid = Some(kid.into());
        self
    }

    /// Pins the algorithm (a JWK's `alg`): tokens must then name exactly this one.
    pub fn with_algorithm(mut self, alg: Algorithm) -> Result<Key, Error> {
        if alg.is_rsa() != self.is_rsa() {
            return Err(Error::local_key(format!(
                "algorithm {alg} does not fit this key type"
            )));
        }
        self.alg = Some(alg);
        Ok(self)
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The pinned algorithm, if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The RSA modulus size in bits (`None` for an HS256 secret).
    pub fn rsa_bits(&self) -> Option<usize> {
        match &self.material {
            Material::Rsa { n, .. } => Some(bit_len(n)),
            Material::Hmac { .. } => None,
        }
    }

    fn is_rsa(&self) -> bool {
        matches!(self.material, Material::Rsa { .. })
    }

    /// Whether `other` verifies exactly the tokens this key does: same kid, pinned algorithm
    /// and RSA key material. (A JWKS refresh keeps such keys, so that tokens verified under
    /// them stay in the verified-token cache.) HMAC secrets are never compared.
    #[cfg(feature = "remote")]
    pub(crate) fn same_rsa_key(&self, other: &Key) -> bool {
        match (&self.material, &other.material) {
            (Material::Rsa { n, e, .. }, Material::Rsa { n: n2, e: e2, .. }) => {
                n == n2 && e == e2 && self.kid == other.kid && self.alg == other.alg
            }
            _ => false,
        }
    }

    /// Decides which algorithm a token naming `alg` is checked with, or refuses it.
    ///
    /// `allowed` is the verifier's RSA allow-list; an HMAC key ignores it and takes HS256 only.
    pub(crate) fn select_algorithm(
        &self,
        alg: &str,
        allowed: &[Algorithm],
    ) -> Result<Algorithm, Error> {
        let Some(named) = Algorithm::from_name(alg) else {
            return Err(Error::bad_alg(alg));
        };
        let fits = match self.material {
            Material::Hmac { .. } => named == Algorithm::HS256,
            Material::Rsa { .. } => named.is_rsa() && allowed.contains(&named),
        };
        if !fits || self.alg.is_some_and(|pinned| pinned != named) {
            return Err(Error::bad_alg(alg));
        }
        Ok(named)
    }

    /// Checks `sig` over `message`. `alg` must come from [`Key::select_algorithm`].
    pub(crate) fn verify_signature(
        &self,
        alg: Algorithm,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), Error> {
        let ok = match &self.material {
            Material::Rsa { public, .. } => alg
                .rsa_hash()
                .is_some_and(|hash| public.verify(hash, message, sig)),
            // Constant-time comparison inside the backend.
            Material::Hmac { key, .. } => alg == Algorithm::HS256 && key.verify(message, sig),
        };
        if ok {
            Ok(())
        } else {
            Err(Error::TokenInvalidSignature)
        }
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print secret material; for RSA the size is what a reader needs.
        let kind = match &self.material {
            Material::Rsa { n, .. } => format!("RSA-{}", bit_len(n)),
            Material::Hmac { .. } => "HMAC secret".to_owned(),
        };
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("kind", &kind)
            .finish()
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&top) => n.len() * 8 - top.leading_zeros() as usize,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xffu8; bits / 8];
        n[0] = 0x80 | 0x7f;
        n
    }

    #[test]
    fn rsa_size_bounds() {
        assert!(Key::from_rsa_components(&modulus(2048), &[1, 0, 1]).is_ok());
        assert!(Key::from_rsa_components(&modulus(8192), &[1, 0, 1]).is_ok());
        let e = Key::from_rsa_components(&modulus(2040), &[1, 0, 1]).unwrap_err();
        assert_eq!(e.reason(), "jwk-local-invalid");
        assert!(Key::from_rsa_components(&modulus(8200), &[1, 0, 1]).is_err());
        // Leading zero bytes do not count towards the size.
        let mut padded = vec![0u8; 10];
        padded.extend(modulus(2048));
        assert_eq!(
            Key::from_rsa_components(&padded, &[1, 0, 1])
                .unwrap()
                .rsa_bits(),
            Some(2048)
        );
    }

    #[test]
    fn rsa_exponent_rules() {
        let n = modulus(2048);
        for bad in [&[][..], &[1], &[2], &[4], &[1, 0, 0], &[1, 0, 0, 0, 0, 1]] {
            assert!(Key::from_rsa_components(&n, bad).is_err(), "{bad:?}");
        }
        assert!(Key::from_rsa_components(&n, &[3]).is_ok());
    }

    #[test]
    fn hmac_secret_length() {
        assert_eq!(Key::hs256(&[7; 31]).unwrap_err().reason(), "config-invalid");
        assert!(Key::hs256(&[7; 32]).is_ok());
    }

    #[test]
    fn key_type_fixes_the_algorithm() {
        let rsa = Key::from_rsa_components(&modulus(2048), &[1, 0, 1]).unwrap();
        let hs = Key::hs256(&[7; 32]).unwrap();
        let all = [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512];
        assert_eq!(rsa.select_algorithm("RS256", &all), Ok(Algorithm::RS256));
        assert!(rsa.select_algorithm("HS256", &all).is_err());
        assert!(rsa.select_algorithm("RS384", &[Algorithm::RS256]).is_err());
        assert_eq!(hs.select_algorithm("HS256", &all), Ok(Algorithm::HS256));
        assert!(hs.select_algorithm("RS256", &all).is_err());
        let pinned = rsa.with_algorithm(Algorithm::RS512).unwrap();
        assert!(pinned.select_algorithm("RS256", &all).is_err());
        assert!(pinned.select_algorithm("RS512", &all).is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let hs = Key::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
        assert!(!format!("{hs:?}").contains("0123456789"));
    }
}
