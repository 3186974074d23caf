//! A fixed set of keys given in code or config: a JWKS document, one PEM key, or an HS256 secret.

use crate::error::Error;
use crate::fetch::KeyFetcher;
use crate::jwk::{self, JwksProblem};
use crate::key::Key;
use std::sync::Arc;
use std::time::SystemTime;

/// Keys known up front. Implements [`KeyFetcher`] without any I/O.
///
/// With a JWKS, the token's `kid` selects the key and an unknown or missing `kid` is
/// `jwk-kid-mismatch`. With a single key (PEM or secret) the `kid` is not compared, as in Clerk's
/// SDK: any token whose signature verifies under that key passes.
///
/// ```
/// use clerk_verify::KeySet;
/// let jwks = clerk_dev::fixtures::rsa2048().jwks_json();
/// let keys = KeySet::from_jwks(&jwks)?;
/// assert_eq!(keys.len(), 1);
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct KeySet {
    keys: Vec<Arc<Key>>,
    /// One key used whatever the token's `kid` says.
    single: bool,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys":[...]}`), keeping the usable RSA signing keys.
    pub fn from_jwks(json: &str) -> Result<KeySet, Error> {
        if json.trim().is_empty() {
            return Err(Error::JwkLocalMissing);
        }
        match jwk::parse_jwks(json.as_bytes()) {
            Ok(keys) => KeySet::from_keys(keys),
            Err(JwksProblem::Empty) => Err(Error::JwkLocalMissing),
            Err(p) => Err(Error::local_key(p.describe())),
        }
    }

    /// A PEM public key (SPKI or PKCS #1); see [`Key::from_pem`].
    pub fn from_pem(pem: &str) -> Result<KeySet, Error> {
        Ok(KeySet::single(Key::from_pem(pem)?))
    }

    /// An HS256 shared secret (at least 32 bytes); see [`Key::hs256`].
    pub fn from_hs256_secret(secret: &[u8]) -> Result<KeySet, Error> {
        Ok(KeySet::single(Key::hs256(secret)?))
    }

    /// One key, used whatever the token's `kid` says.
    pub fn single(key: Key) -> KeySet {
        KeySet {
            keys: vec![Arc::new(key)],
            single: true,
        }
    }

    /// Keys selected by `kid`. Every key needs a kid; the first of equal kids wins.
    pub fn from_keys(keys: impl IntoIterator<Item = Key>) -> Result<KeySet, Error> {
        let mut out: Vec<Arc<Key>> = Vec::new();
        for key in keys {
            if key.kid().is_none() {
                return Err(Error::local_key("every key in a key set needs a kid"));
            }
            if !out.iter().any(|k| k.kid() == key.kid()) {
                out.push(Arc::new(key));
            }
        }
        if out.is_empty() {
            return Err(Error::JwkLocalMissing);
        }
        Ok(KeySet {
            keys: out,
            single: false,
        })
    }

    /// Number of keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held (never true for a successfully built set).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids held (for diagnostics you choose to show; errors never list them).
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.kid())
    }

    /// The key a token with this `kid` must verify under.
    pub fn get(&self, kid: Option<&str>) -> Result<&Arc<Key>, Error> {
        if self.single {
            return self.keys.first().ok_or(Error::JwkLocalMissing);
        }
        let kid = kid.ok_or(Error::JwkKidMismatch)?;
        self.keys
            .iter()
            .find(|k| k.kid() == Some(kid))
            .ok_or(Error::JwkKidMismatch)
    }
}

impl KeyFetcher for KeySet {
    fn cached_key(&self, kid: Option<&str>, _now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        Some(self.get(kid).cloned())
    }

    fn fetch_key(&self, kid: Option<&str>, _now: SystemTime) -> Result<Arc<Key>, Error> {
        self.get(kid).cloned()
    }

    fn is_hs256(&self) -> bool {
        self.keys
            .iter()
            .any(|k| k.algorithm() == Some(crate::Algorithm::HS256))
    }
}
