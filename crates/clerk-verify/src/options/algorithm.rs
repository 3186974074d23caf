//! The closed list of signature algorithms we can check.

use crate::crypto::RsaHash;
use std::fmt;

/// A JWS signature algorithm this crate can verify.
///
/// The algorithm used for a token is always one the *verifier* allows for the *key* it holds;
/// the token's `alg` header can only pick from that list, never widen it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what Clerk issues, and the default.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384 (accepted by Clerk's SDK; opt-in here).
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512 (accepted by Clerk's SDK; opt-in here).
    RS512,
    /// HMAC-SHA256 with a shared secret. Only a verifier built with a secret accepts it.
    HS256,
}

impl Algorithm {
    /// The exact `alg` header value, e.g. `"RS256"`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::HS256 => "HS256",
        }
    }

    /// Looks up an `alg` header value. Case-sensitive, as RFC 7518 says: `"rs256"` is not RS256.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        match name {
            "RS256" => Some(Algorithm::RS256),
            "RS384" => Some(Algorithm::RS384),
            "RS512" => Some(Algorithm::RS512),
            "HS256" => Some(Algorithm::HS256),
            _ => None,
        }
    }

    /// Whether this is one of the RSA algorithms.
    pub fn is_rsa(self) -> bool {
        !matches!(self, Algorithm::HS256)
    }

    /// The hash of an RSA algorithm's signature; `None` for HS256.
    pub(crate) fn rsa_hash(self) -> Option<RsaHash> {
        match self {
            Algorithm::RS256 => Some(RsaHash::Sha256),
            Algorithm::RS384 => Some(RsaHash::Sha384),
            Algorithm::RS512 => Some(RsaHash::Sha512),
            Algorithm::HS256 => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for a in [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::HS256,
        ] {
            assert_eq!(Algorithm::from_name(a.name()), Some(a));
        }
        for bad in [
            "rs256", "none", "None", "PS256", "ES256", "HS512", "", "RS256 ",
        ] {
            assert_eq!(Algorithm::from_name(bad), None, "{bad:?}");
        }
    }
}
