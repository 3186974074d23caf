//! The one hot path: token → parse → key lookup → signature → claims → [`Claims`]. Nothing here
//! knows of HTTP, cookies, pages, the environment or how keys are fetched: the key source is a
//! [`KeyFetcher`], the rules are [`VerifyOptions`].

use crate::claims::{self, Claims, Times};
use crate::error::Error;
use crate::keys::{from_memory, Algorithm, Key, KeyFetcher};
use crate::options::VerifyOptions;
use crate::token::{Scratch, Token};
use crate::token_cache::{Entry, Lookup, TokenCache, TokenCacheStats};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

/// The token path of a verifier: a key source, the rules, and the verified-token cache. The
/// public [`crate::Verifier`] wraps it with what request authentication adds.
pub(crate) struct Tokens {
    keys: Box<dyn KeyFetcher>,
    opts: VerifyOptions,
    /// The verified-token cache, when `opts.token_cache` is not zero.
    cache: Option<TokenCache>,
}

impl Tokens {
    /// The token path over any key source. Fails if the options are contradictory.
    pub(crate) fn new(keys: Box<dyn KeyFetcher>, opts: VerifyOptions) -> Result<Tokens, Error> {
        opts.validate()?;
        let cache = (opts.token_cache > 0).then(|| TokenCache::new(opts.token_cache));
        Ok(Tokens { keys, opts, cache })
    }

    pub(crate) fn options(&self) -> &VerifyOptions {
        &self.opts
    }

    pub(crate) fn keys(&self) -> &dyn KeyFetcher {
        &*self.keys
    }

    pub(crate) fn cache_stats(&self) -> Option<TokenCacheStats> {
        self.cache.as_ref().map(TokenCache::stats)
    }

    /// The payload of a JWT signed with this verifier's keys (a handshake token): the header
    /// rules and the signature exactly as for a session token, then the payload as a JSON
    /// object, without the session claim rules (the caller has its own).
    pub(crate) fn verify_signed(&self, token: &str) -> Result<Map<String, Value>, Error> {
        let now = self.opts.clock.now();
        let keys = &*self.keys;
        self.signed_payload(token, |kid| Some(keys.fetch_key(kid, now)))
            .unwrap_or(Err(Error::JwkFailedToResolve))
    }

    /// [`Tokens::verify_signed`] without blocking: `None` when the key is not in memory.
    pub(crate) fn try_verify_signed(
        &self,
        token: &str,
    ) -> Option<Result<Map<String, Value>, Error>> {
        let now = self.opts.clock.now();
        let keys = &*self.keys;
        self.signed_payload(token, |kid| from_memory(keys, kid, now))
    }

    fn signed_payload(
        &self,
        token: &str,
        lookup: impl FnOnce(Option<&str>) -> Option<Result<Arc<Key>, Error>>,
    ) -> Option<Result<Map<String, Value>, Error>> {
        let opts = &self.opts;
        let parsed = match Token::parse(token, opts.max_token_len) {
            Ok(t) => t,
            Err(e) => return Some(Err(e)),
        };
        // Clerk (AISEC-85): only the session category, as for request authentication; a JWT
        // template could carry a `handshake` claim of its author's choosing. RSA only: the
        // instance's keys sign handshakes.
        let gate = Gate {
            hs256: false,
            sessions_only: true,
        };
        if let Err(e) = check_header(&parsed, opts, gate) {
            return Some(Err(e));
        }
        let key = match lookup(parsed.kid())? {
            Ok(k) => k,
            Err(e) => return Some(Err(e)),
        };
        Some(check_signature(&parsed, &key, opts).and_then(|()| parsed.payload_json()))
    }

    /// A machine token in JWT form (M2M, OAuth access token), as Clerk's SDK verifies one:
    /// `header` (the machine kind's own header rule) first, then the algorithm this key source
    /// allows, the key for its `kid` (fetched if need be: may block), the signature; then the
    /// payload as a JSON object. The machine claim rules are the caller's (`crate::machine`).
    pub(crate) fn verify_machine_jwt(
        &self,
        token: &str,
        header: impl FnOnce(&Token<'_>) -> Result<(), Error>,
    ) -> Result<Map<String, Value>, Error> {
        let now = self.opts.clock.now();
        let keys = &*self.keys;
        self.machine_payload(token, header, |kid| Some(keys.fetch_key(kid, now)))
            .unwrap_or(Err(Error::JwkFailedToResolve))
    }

    /// [`Tokens::verify_machine_jwt`] without blocking: `None` when the key is not in memory.
    pub(crate) fn try_verify_machine_jwt(
        &self,
        token: &str,
        header: impl FnOnce(&Token<'_>) -> Result<(), Error>,
    ) -> Option<Result<Map<String, Value>, Error>> {
        let now = self.opts.clock.now();
        let keys = &*self.keys;
        self.machine_payload(token, header, |kid| from_memory(keys, kid, now))
    }

    fn machine_payload(
        &self,
        token: &str,
        header: impl FnOnce(&Token<'_>) -> Result<(), Error>,
        lookup: impl FnOnce(Option<&str>) -> Option<Result<Arc<Key>, Error>>,
    ) -> Option<Result<Map<String, Value>, Error>> {
        let opts = &self.opts;
        let parsed = match Token::parse(token, opts.max_token_len) {
            Ok(t) => t,
            Err(e) => return Some(Err(e)),
        };
        let checked = header(&parsed).and_then(|()| check_alg(&parsed, opts, self.keys.is_hs256()));
        if let Err(e) = checked {
            return Some(Err(e));
        }
        let key = match lookup(parsed.kid())? {
            Ok(k) => k,
            Err(e) => return Some(Err(e)),
        };
        Some(check_signature(&parsed, &key, opts).and_then(|()| parsed.payload_json()))
    }

    /// The `kid` in `token`'s header (`Some(None)`: none); `None` if it does not parse.
    pub(crate) fn token_kid(&self, token: &str) -> Option<Option<String>> {
        let parsed = Token::parse(token, self.opts.max_token_len).ok()?;
        Some(parsed.kid().map(str::to_owned))
    }

    /// Verifies `token`, fetching its key if needed (may block); with `sessions_only`, a token
    /// whose `cat` header names another category is `token-type-mismatch` (request
    /// authentication, as `authenticateRequest()`).
    pub(crate) fn verify_as(&self, token: &str, sessions_only: bool) -> Result<Arc<Claims>, Error> {
        let now = self.opts.clock.now();
        let keys = &*self.keys;
        let stale = match self.cached(token, sessions_only, now) {
            Lookup::Hit(answer) => return answer,
            Lookup::Stale => true,
            Lookup::Miss => false,
        };
        let gate = Gate {
            hs256: keys.is_hs256(),
            sessions_only,
        };
        let answer = run(token, &self.opts, now, gate, self.cache.as_ref(), |kid| {
            Some(keys.fetch_key(kid, now))
        })
        .unwrap_or(Err(Error::JwkFailedToResolve));
        self.forget_if_failed(stale, token, &answer);
        answer
    }

    /// [`Tokens::verify_as`] without any I/O or blocking: `None` when the key is not in memory.
    pub(crate) fn try_verify_as(
        &self,
        token: &str,
        sessions_only: bool,
    ) -> Option<Result<Arc<Claims>, Error>> {
        let now = self.opts.clock.now();
        let keys = &*self.keys;
        let stale = match self.cached(token, sessions_only, now) {
            Lookup::Hit(answer) => return Some(answer),
            Lookup::Stale => true,
            Lookup::Miss => false,
        };
        let gate = Gate {
            hs256: keys.is_hs256(),
            sessions_only,
        };
        let answer = run(token, &self.opts, now, gate, self.cache.as_ref(), |kid| {
            from_memory(keys, kid, now)
        })?;
        self.forget_if_failed(stale, token, &answer);
        Some(answer)
    }

    /// Whether the verified-token cache holds `token` (with `sessions_only`, as a token of
    /// the session category), without counting a hit or a miss. Only session tokens ever enter
    /// the cache, so routes that accept machine JWTs too ask here before peeking into a
    /// token's payload for its kind; the lookup that answers comes after.
    pub(crate) fn holds_session(&self, token: &str, sessions_only: bool) -> bool {
        self.cache
            .as_ref()
            .is_some_and(|cache| cache.holds(token, sessions_only))
    }

    /// What the verified-token cache says about `token` (a miss when it is off).
    fn cached(&self, token: &str, sessions_only: bool, now: SystemTime) -> Lookup {
        match &self.cache {
            Some(cache) => cache.get(token, sessions_only, &self.opts, &*self.keys, now),
            None => Lookup::Miss,
        }
    }

    /// A token whose entry could not answer, and whose full verification then failed, leaves
    /// the cache: its key is gone (or it is not what request authentication takes).
    fn forget_if_failed(&self, stale: bool, token: &str, answer: &Result<Arc<Claims>, Error>) {
        if let (true, Some(cache), Err(_)) = (stale, &self.cache, answer) {
            cache.remove(token);
        }
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("keys", &self.keys)
            .field("opts", &self.opts)
            .finish()
    }
}

/// Verifies `token` against `keys` with `opts`: the free-function form of [`crate::Verifier::verify`].
///
/// ```
/// use clerk_verify::{verify, KeySet, VerifyOptions};
/// # let key = clerk_dev::fixtures::rsa2048();
/// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
/// let keys = KeySet::from_jwks(&key.jwks_json())?;
/// let claims = verify(&token, &keys, &VerifyOptions::default())?;
/// assert_eq!(claims.sub, "user_1");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
pub fn verify<K: KeyFetcher + ?Sized>(
    token: &str,
    keys: &K,
    opts: &VerifyOptions,
) -> Result<Arc<Claims>, Error> {
    opts.validate()?;
    let now = opts.clock.now();
    let gate = Gate {
        hs256: keys.is_hs256(),
        sessions_only: false,
    };
    run(token, opts, now, gate, None, |kid| {
        Some(keys.fetch_key(kid, now))
    })
    .unwrap_or(Err(Error::JwkFailedToResolve))
}

/// Header decisions made before any key lookup, beyond the options.
#[derive(Clone, Copy)]
struct Gate {
    /// The key source holds an HS256 secret, not RSA keys.
    hs256: bool,
    /// Only session tokens (by their `cat` header) are acceptable.
    sessions_only: bool,
}

/// The pipeline. `lookup` returns `None` when the key cannot be had without blocking. A token
/// that verifies goes into `cache`, if any.
///
/// Order, as Clerk's current SDK: header rules, then the signature, then claims, so that a token
/// whose signature fails is `token-invalid-signature` whatever its claims say.
fn run(
    token: &str,
    opts: &VerifyOptions,
    now: SystemTime,
    gate: Gate,
    cache: Option<&TokenCache>,
    lookup: impl FnOnce(Option<&str>) -> Option<Result<Arc<Key>, Error>>,
) -> Option<Result<Arc<Claims>, Error>> {
    Scratch::with(|scratch| run_in(token, opts, now, gate, cache, lookup, scratch))
}

/// [`run`], decoding the token's parts into `scratch`.
fn run_in(
    token: &str,
    opts: &VerifyOptions,
    now: SystemTime,
    gate: Gate,
    cache: Option<&TokenCache>,
    lookup: impl FnOnce(Option<&str>) -> Option<Result<Arc<Key>, Error>>,
    scratch: &mut Scratch,
) -> Option<Result<Arc<Claims>, Error>> {
    let parsed = match Token::parse_in(token, opts.max_token_len, scratch) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    if let Err(e) = check_header(&parsed, opts, gate) {
        return Some(Err(e));
    }
    let key = match lookup(parsed.kid())? {
        Ok(k) => k,
        Err(e) => return Some(Err(e)),
    };
    let (claims, times) = match check_with_key(&parsed, &key, opts, now) {
        Ok((claims, times)) => (Arc::new(claims), times),
        Err(e) => return Some(Err(e)),
    };
    if let Some(cache) = cache {
        let entry = Entry {
            claims: Arc::clone(&claims),
            times,
            kid: parsed.kid().map(Box::from),
            key,
            session: parsed.is_session_category(),
        };
        cache.insert(token, entry);
    }
    Some(Ok(claims))
}

/// The header rules, before any key lookup (and before any fetch an attacker could trigger with
/// a random kid).
fn check_header(parsed: &Token<'_>, opts: &VerifyOptions, gate: Gate) -> Result<(), Error> {
    // Clerk's order: the token's type first. A machine token (M2M `cat`, OAuth `typ`) is never
    // a session, wherever one is expected (Clerk's `verifyToken()` says `token-invalid` for the
    // first and misses the second; `authenticateRequest()` says `token-type-mismatch`). Request
    // authentication also refuses any other non-session category (a JWT template).
    if parsed.is_machine_token() || (gate.sessions_only && !parsed.is_session_category()) {
        return Err(Error::TokenTypeMismatch);
    }
    check_alg(parsed, opts, gate.hs256)
}

/// The algorithm and signature presence rules of every JWT this crate verifies.
fn check_alg(parsed: &Token<'_>, opts: &VerifyOptions, hs256: bool) -> Result<(), Error> {
    // Refuse algorithms this verifier's key type cannot check. The key re-checks after lookup.
    match Algorithm::from_name(parsed.alg()) {
        Some(Algorithm::HS256) if hs256 => {}
        Some(a) if !hs256 && a.is_rsa() && opts.algorithms.contains(&a) => {}
        _ => return Err(Error::bad_alg(parsed.alg())),
    }
    // A stripped signature (`header.payload.`) under an acceptable alg: malformed.
    if parsed.signature().is_empty() {
        return Err(Error::invalid("the signature part is empty"));
    }
    Ok(())
}

/// The signature, under the algorithm the key allows for the token's `alg`.
fn check_signature(token: &Token<'_>, key: &Key, opts: &VerifyOptions) -> Result<(), Error> {
    let alg = key.select_algorithm(token.alg(), &opts.algorithms)?;
    key.verify_signature(alg, token.signing_input().as_bytes(), token.signature())
}

fn check_with_key(
    token: &Token<'_>,
    key: &Key,
    opts: &VerifyOptions,
    now: SystemTime,
) -> Result<(Claims, Times), Error> {
    check_signature(token, key, opts)?;
    claims::verify_payload(token.payload(), opts, now)
}
