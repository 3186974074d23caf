//! A fixed set of keys: a JWKS document, one PEM key, or an HS256 secret. Also what the remote
//! cache holds for one fetched document.

use crate::error::Error;
use crate::keys::jwk::{parse_jwks, JwksProblem, ParsedJwks, MAX_JWKS_KEYS};
use crate::keys::key::Key;
use crate::keys::KeyFetcher;
use std::sync::Arc;
use std::time::SystemTime;

/// Keys known up front. Implements [`KeyFetcher`] without any I/O.
///
/// With a JWKS, the token's `kid` selects the key and an unknown or missing `kid` is
/// `jwk-kid-mismatch`; a `kid` whose key the document publishes but we refused (too short, not
/// for signatures, malformed) is `jwk-local-invalid`, saying why. With a single key (PEM or
/// secret) the `kid` is not compared, as in Clerk's SDK: any token whose signature verifies
/// under that key passes.
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
    /// Keys the document published but we refused: their `kid` and why.
    refused: Vec<(String, String)>,
    /// One key used whatever the token's `kid` says.
    single: bool,
}

/// What a key set says about a `kid`.
pub(crate) enum Lookup<'a> {
    Found(&'a Arc<Key>),
    /// The set publishes this `kid` but its key was refused; the text says why.
    Refused(&'a str),
    Missing,
}

impl KeySet {
    /// Parses a JWKS document (`{"keys":[...]}`, at most [`MAX_JWKS_KEYS`] entries), keeping the
    /// usable RSA signing keys and remembering the refused ones.
    pub fn from_jwks(json: &str) -> Result<KeySet, Error> {
        if json.trim().is_empty() {
            return Err(Error::JwkLocalMissing);
        }
        match parse_jwks(json.as_bytes(), MAX_JWKS_KEYS) {
            Ok(parsed) => Ok(KeySet::from_parsed(parsed)),
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
            refused: Vec::new(),
            single: true,
        }
    }

    /// Keys selected by `kid`. Keys without a kid are skipped (no token could select them); the
    /// first of equal kids wins; at least one key must remain.
    pub fn from_keys(keys: impl IntoIterator<Item = Key>) -> Result<KeySet, Error> {
        let mut out: Vec<Arc<Key>> = Vec::new();
        let mut given = 0;
        for key in keys {
            given += 1;
            if key.kid().is_some() && !out.iter().any(|k| k.kid() == key.kid()) {
                out.push(Arc::new(key));
            }
        }
        if given == 0 {
            return Err(Error::JwkLocalMissing);
        }
        if out.is_empty() {
            return Err(Error::local_key(
                "no key in the key set has a kid, so no token could select one",
            ));
        }
        Ok(KeySet {
            keys: out,
            refused: Vec::new(),
            single: false,
        })
    }

    /// A parsed JWKS document (never empty: [`parse_jwks`] refuses that).
    pub(crate) fn from_parsed(parsed: ParsedJwks) -> KeySet {
        KeySet {
            keys: parsed.keys.into_iter().map(Arc::new).collect(),
            refused: parsed.refused,
            single: false,
        }
    }

    /// This set, with each key that `old` holds unchanged (same kid, algorithm and material)
    /// replaced by `old`'s own `Arc`: what a JWKS refresh keeps stays the same key, and tokens
    /// verified under it stay in the verified-token cache.
    #[cfg(feature = "remote")]
    pub(crate) fn keeping(mut self, old: &KeySet) -> KeySet {
        for key in &mut self.keys {
            if let Some(same) = old.keys.iter().find(|o| o.same_rsa_key(key)) {
                *key = Arc::clone(same);
            }
        }
        self
    }

    /// Number of usable keys held.
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
        match self.lookup(kid) {
            Lookup::Found(key) => Ok(key),
            Lookup::Refused(why) => Err(Error::local_key(refused_message(why))),
            Lookup::Missing => Err(Error::JwkKidMismatch),
        }
    }

    pub(crate) fn lookup(&self, kid: Option<&str>) -> Lookup<'_> {
        if self.single {
            return self.keys.first().map_or(Lookup::Missing, Lookup::Found);
        }
        let Some(kid) = kid else {
            return Lookup::Missing;
        };
        if let Some(key) = self.keys.iter().find(|k| k.kid() == Some(kid)) {
            return Lookup::Found(key);
        }
        match self.refused.iter().find(|(k, _)| k == kid) {
            Some((_, why)) => Lookup::Refused(why),
            None => Lookup::Missing,
        }
    }
}

/// The message for a token naming a key the set refused: why, never the kid itself.
pub(crate) fn refused_message(why: &str) -> String {
    format!("the key set publishes the token's key id (kid), but that key was refused: {why}")
}

impl KeyFetcher for KeySet {
    fn cached_key(&self, kid: Option<&str>, _now: SystemTime) -> Option<Result<Arc<Key>, Error>> {
        Some(self.get(kid).cloned())
    }

    fn fetch_key(&self, kid: Option<&str>, _now: SystemTime) -> Result<Arc<Key>, Error> {
        self.get(kid).cloned()
    }

    fn serves(&self, kid: Option<&str>, key: &Arc<Key>, _now: SystemTime) -> bool {
        matches!(self.lookup(kid), Lookup::Found(k) if Arc::ptr_eq(k, key))
    }

    fn is_hs256(&self) -> bool {
        self.keys
            .iter()
            .any(|k| k.algorithm() == Some(crate::options::Algorithm::HS256))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_keys_explain_themselves() {
        let good = clerk_dev::fixtures::rsa2048().public_jwk();
        let weak = clerk_dev::fixtures::rsa1024().public_jwk();
        let mut kidless = clerk_dev::fixtures::rsa2048_b().public_jwk();
        kidless.as_object_mut().unwrap().remove("kid");
        let doc = serde_json::json!({ "keys": [good, weak, kidless] }).to_string();
        let set = KeySet::from_jwks(&doc).unwrap();
        assert_eq!(set.len(), 1);
        let e = set.get(Some("ins_test_1024")).unwrap_err();
        assert_eq!(e.reason(), "jwk-local-invalid");
        assert!(e.to_string().contains("1024 bits"), "{e}");
        assert!(!e.to_string().contains("ins_test"), "{e}");
        assert_eq!(
            set.get(Some("nope")).unwrap_err().reason(),
            "jwk-kid-mismatch"
        );
        assert!(set.get(Some("ins_test_2048")).is_ok());
    }

    #[test]
    fn kidless_keys_are_skipped_in_code_too() {
        let key = Key::from_jwk(&clerk_dev::fixtures::rsa2048().public_jwk().to_string()).unwrap();
        let with_kid = key.clone();
        let mut jwk = clerk_dev::fixtures::rsa2048_b().public_jwk();
        jwk.as_object_mut().unwrap().remove("kid");
        let kidless = Key::from_jwk(&jwk.to_string()).unwrap();
        assert_eq!(
            KeySet::from_keys([kidless.clone(), with_kid])
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            KeySet::from_keys([kidless]).unwrap_err().reason(),
            "jwk-local-invalid"
        );
    }
}
