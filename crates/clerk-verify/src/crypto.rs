//! The cryptography behind every check, from one backend chosen at compile time: `ring` (the
//! default feature) or `aws-lc-rs`. Exactly one of the two features must be on; the rest of the
//! crate reaches cryptography only through this module, so both builds behave alike.
//!
//! The backends differ in one way that matters for speed: ring 0.17 has no parsed RSA public key,
//! so it rebuilds its Montgomery constants on every verification, while aws-lc-rs parses the key
//! once, at load, into its `ParsedPublicKey`.

#[cfg(all(feature = "ring", feature = "aws-lc-rs"))]
compile_error!(
    "clerk-verify: the features `ring` and `aws-lc-rs` are mutually exclusive. For aws-lc-rs, \
     depend on clerk-verify with `default-features = false, features = [\"aws-lc-rs\", \"remote\"]` \
     (the adapters and the CLI: `default-features = false, features = [\"aws-lc-rs\"]`)."
);

#[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
compile_error!(
    "clerk-verify needs a cryptography backend: enable the feature `ring` (on by default) or \
     `aws-lc-rs`."
);

// ring is always a dependency (TLS for JWKS fetching uses it in both builds), so it stands in
// whenever aws-lc-rs is not the one backend: with both features or neither, the compile error
// above is then the only error.
#[cfg(not(all(feature = "aws-lc-rs", not(feature = "ring"))))]
use ring as backend;

#[cfg(all(feature = "aws-lc-rs", not(feature = "ring")))]
use aws_lc_rs as backend;

/// Which backend this build verifies with: `"ring"` or `"aws-lc-rs"`.
pub const BACKEND: &str = if cfg!(all(feature = "aws-lc-rs", not(feature = "ring"))) {
    "aws-lc-rs"
} else {
    "ring"
};

/// An HMAC-SHA256 key (HS256 tokens, webhook signatures).
#[derive(Clone)]
pub(crate) struct HmacKey(backend::hmac::Key);

impl HmacKey {
    pub(crate) fn new(secret: &[u8]) -> HmacKey {
        HmacKey(backend::hmac::Key::new(backend::hmac::HMAC_SHA256, secret))
    }

    /// Whether `tag` is the HMAC of `message`, compared in constant time by the backend.
    pub(crate) fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        backend::hmac::verify(&self.0, message, tag).is_ok()
    }

    /// The HMAC of the concatenation of `parts`.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = backend::hmac::Context::with_key(&self.0);
        for part in parts {
            ctx.update(part);
        }
        ctx.sign().as_ref().to_vec()
    }
}

/// SHA-256 of `data`: a fixed-size key for remembering a secret-bearing string without
/// keeping it.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = backend::digest::digest(&backend::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// SHA-1, for Clerk's cookie suffix only (not a security boundary: it names a cookie).
pub(crate) fn sha1_for_cookie_suffix(data: &[u8]) -> Vec<u8> {
    backend::digest::digest(&backend::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// The hash of an RSASSA-PKCS1-v1_5 signature (RS256, RS384, RS512).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RsaHash {
    Sha256,
    Sha384,
    Sha512,
}

/// An RSA public key in the backend's own form, built once at load.
#[derive(Clone)]
pub(crate) struct RsaPublicKey {
    #[cfg(not(all(feature = "aws-lc-rs", not(feature = "ring"))))]
    components: ring::signature::RsaPublicKeyComponents<Vec<u8>>,
    #[cfg(all(feature = "aws-lc-rs", not(feature = "ring")))]
    parsed: aws::Parsed,
}

impl RsaPublicKey {
    /// The key for a big-endian modulus and exponent (already checked by `Key`). `None` if the
    /// backend refuses it.
    pub(crate) fn new(n: &[u8], e: &[u8]) -> Option<RsaPublicKey> {
        #[cfg(not(all(feature = "aws-lc-rs", not(feature = "ring"))))]
        {
            Some(RsaPublicKey {
                components: ring::signature::RsaPublicKeyComponents {
                    n: n.to_vec(),
                    e: e.to_vec(),
                },
            })
        }
        #[cfg(all(feature = "aws-lc-rs", not(feature = "ring")))]
        {
            aws::Parsed::new(n, e).map(|parsed| RsaPublicKey { parsed })
        }
    }

    /// Whether `sig` is an RSASSA-PKCS1-v1_5 signature of `message` with `hash`.
    pub(crate) fn verify(&self, hash: RsaHash, message: &[u8], sig: &[u8]) -> bool {
        #[cfg(not(all(feature = "aws-lc-rs", not(feature = "ring"))))]
        {
            use ring::signature as s;
            let params = match hash {
                RsaHash::Sha256 => &s::RSA_PKCS1_2048_8192_SHA256,
                RsaHash::Sha384 => &s::RSA_PKCS1_2048_8192_SHA384,
                RsaHash::Sha512 => &s::RSA_PKCS1_2048_8192_SHA512,
            };
            self.components.verify(params, message, sig).is_ok()
        }
        #[cfg(all(feature = "aws-lc-rs", not(feature = "ring")))]
        {
            self.parsed.verify(hash, message, sig)
        }
    }
}

#[cfg(all(feature = "aws-lc-rs", not(feature = "ring")))]
mod aws {
    //! aws-lc-rs: one `ParsedPublicKey` per hash, since a parsed key is bound to its algorithm.
    //! RS256 (what Clerk issues) is parsed at load; RS384 and RS512 on first use.

    use super::RsaHash;
    use aws_lc_rs::signature::{self as s, ParsedPublicKey};
    use pkcs1::der::Encode;
    use std::sync::{Arc, OnceLock};

    #[derive(Clone)]
    pub(super) struct Parsed {
        rs256: Arc<ParsedPublicKey>,
        /// PKCS #1 DER, to parse the other two from.
        der: Arc<[u8]>,
        rs384: Arc<OnceLock<Option<ParsedPublicKey>>>,
        rs512: Arc<OnceLock<Option<ParsedPublicKey>>>,
    }

    impl Parsed {
        pub(super) fn new(n: &[u8], e: &[u8]) -> Option<Parsed> {
            let der = pkcs1::RsaPublicKey {
                modulus: pkcs1::UintRef::new(n).ok()?,
                public_exponent: pkcs1::UintRef::new(e).ok()?,
            }
            .to_der()
            .ok()?;
            let rs256 = ParsedPublicKey::new(&s::RSA_PKCS1_2048_8192_SHA256, &der).ok()?;
            Some(Parsed {
                rs256: Arc::new(rs256),
                der: der.into(),
                rs384: Arc::default(),
                rs512: Arc::default(),
            })
        }

        pub(super) fn verify(&self, hash: RsaHash, message: &[u8], sig: &[u8]) -> bool {
            let key = match hash {
                RsaHash::Sha256 => Some(&*self.rs256),
                RsaHash::Sha384 => self
                    .rs384
                    .get_or_init(|| {
                        ParsedPublicKey::new(&s::RSA_PKCS1_2048_8192_SHA384, &*self.der).ok()
                    })
                    .as_ref(),
                RsaHash::Sha512 => self
                    .rs512
                    .get_or_init(|| {
                        ParsedPublicKey::new(&s::RSA_PKCS1_2048_8192_SHA512, &*self.der).ok()
                    })
                    .as_ref(),
            };
            key.is_some_and(|k| k.verify_sig(message, sig).is_ok())
        }
    }
}
