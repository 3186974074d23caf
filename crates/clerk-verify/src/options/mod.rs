//! Configuration, as plain values with Clerk's names and safe defaults: what a verifier checks
//! besides the signature ([`VerifyOptions`], [`Clock`]), the handshake for pages
//! ([`HandshakeOptions`]), the publishable key ([`PublishableKey`]), which kinds of token are
//! accepted ([`AcceptsToken`], [`TokenKind`]) and how machine tokens are verified
//! ([`MachineOptions`]). Nothing here reads the environment (that is `crate::env`) or does I/O;
//! every floor above takes its settings from here.

mod algorithm;
mod machine;
mod pages;
mod publishable_key;
mod tokens;

pub use algorithm::Algorithm;
pub use machine::MachineOptions;
pub use pages::HandshakeOptions;
pub use publishable_key::PublishableKey;
pub use tokens::{
    Accepts, AcceptsToken, AnyMachine, AnyToken, ApiKeys, M2mTokens, OauthTokens, TokenKind,
};

use crate::error::Error;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Options for [`crate::Verifier`] and [`crate::verify`].
///
/// Defaults are Clerk's, and safe: RS256 only, 5 s clock skew, tokens up to 16 KiB, no `azp`,
/// `aud` or `iss` requirement. Set `authorized_parties` in production: it is what stops a token
/// minted for another site's origin from being replayed against yours.
///
/// ```
/// use clerk_verify::VerifyOptions;
/// use std::time::Duration;
///
/// let opts = VerifyOptions::default()
///     .authorized_parties(["https://app.example.com"])
///     .issuer("https://clerk.example.com")
///     .clock_skew(Duration::from_secs(2));
/// assert_eq!(opts.authorized_parties, ["https://app.example.com"]);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Origins allowed in `azp` (Clerk's `authorizedParties`). Empty: not checked. Otherwise a
    /// token must carry an `azp` equal (exact string match) to one of them.
    pub authorized_parties: Vec<String>,
    /// With `authorized_parties` set, also accept tokens that have **no** `azp` (Clerk's rule
    /// before `@clerk/backend` 3.11.1). Clerk's Frontend API omits `azp` when the minting request
    /// had no `Origin` header (top-level navigations, backend-minted tokens). Turning this on
    /// re-opens the CSRF window `azp` closes for those tokens; prefer leaving it off. Default off.
    pub allow_missing_azp: bool,
    /// Accepted audiences (Clerk's `audience`). Empty: not checked. Otherwise the token's `aud`
    /// (a string or a list) must contain one of them; stricter than Clerk, a token without `aud`
    /// is refused too.
    pub audience: Vec<String>,
    /// Required `iss` (exact match), usually your Frontend API URL, e.g.
    /// `https://clerk.example.com`. Our addition: Clerk's JS SDK does not check `iss`.
    pub issuer: Option<String>,
    /// Tolerance for `exp`, `nbf` and `iat` (Clerk's `clockSkewInMs`). Default 5 s; zero is honoured.
    pub clock_skew: Duration,
    /// RSA algorithms accepted. Default `[RS256]`. Only RS256, RS384 and RS512 may appear; an
    /// HS256 verifier is made by giving it a secret, not by listing HS256 here.
    pub algorithms: Vec<Algorithm>,
    /// Where "now" comes from. Default: the system clock.
    pub clock: Clock,
    /// Longest token accepted, in bytes, checked before any decoding. Default 16 KiB.
    pub max_token_len: usize,
    /// Request authentication only: treat sessions whose `sts` is `pending` as signed in.
    /// Default off, as Clerk's `treatPendingAsSignedOut: true`. [`crate::Verifier::verify`]
    /// returns such tokens either way, with [`crate::Claims::is_pending`] set.
    pub accept_pending_sessions: bool,
    /// Request authentication only: your publishable key (`pk_test_...`/`pk_live_...`). With it,
    /// the suffixed `__session_<suffix>` cookie is read when Clerk's rules choose it.
    pub publishable_key: Option<String>,
    /// Capacity of the verified-token cache, in tokens; 0 (the default here) turns it off.
    /// [`VerifyOptions::from_env`] (and so [`crate::Verifier::from_env`]) turns it on with
    /// [`VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY`] unless `CLERK_TOKEN_CACHE_SIZE` says
    /// otherwise. A browser sends the same token with every request for its whole life, so a
    /// repeat is answered from memory: `exp`, `nbf` and `iat` are checked again each time, and
    /// the entry is used only while the key it verified under is still served. Failures are
    /// never cached. See docs/architecture.md, "The verified-token cache".
    pub token_cache: usize,
    /// Page authentication only ([`crate::Verifier::authenticate_page`]): Clerk's handshake for
    /// server-rendered pages, with its options (sign-in URL, satellite domain, proxy, the secret
    /// key for the nonce exchange). Needs [`VerifyOptions::publishable_key`]. `None` (the
    /// default): pages get the same signed-out answers as API requests.
    pub handshake: Option<HandshakeOptions>,
    /// Request authentication only: the kinds of token the verifier's request methods
    /// ([`crate::Verifier::authenticate_headers`], [`crate::Verifier::authenticate_request`])
    /// accept (Clerk's `acceptsToken`). Default [`AcceptsToken::SESSION_TOKEN`], so nothing
    /// changes for session users; a route that accepts other kinds passes its own per call
    /// ([`crate::Verifier::authenticate_headers_accepting`]). A token of a kind not accepted is
    /// `token-type-mismatch`.
    pub accepts_token: AcceptsToken,
    /// How machine tokens (API keys, M2M and OAuth access tokens) are verified: the secret
    /// keys and Backend API for opaque ones, and the bounds on those calls.
    pub machine: MachineOptions,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            authorized_parties: Vec::new(),
            allow_missing_azp: false,
            audience: Vec::new(),
            issuer: None,
            clock_skew: VerifyOptions::DEFAULT_CLOCK_SKEW,
            algorithms: vec![Algorithm::RS256],
            clock: Clock::system(),
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            accept_pending_sessions: false,
            publishable_key: None,
            token_cache: 0,
            handshake: None,
            accepts_token: AcceptsToken::SESSION_TOKEN,
            machine: MachineOptions::default(),
        }
    }
}

/// Default cap on a token's length, in bytes (Clerk's session tokens are well under 4 KiB).
pub const DEFAULT_MAX_TOKEN_LEN: usize = 16 * 1024;

impl VerifyOptions {
    /// Clerk's default allowed clock skew (`DEFAULT_CLOCK_SKEW_IN_MS`): 5 s.
    pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(5);

    /// The verified-token cache's capacity when [`VerifyOptions::from_env`] turns it on: 10,000
    /// tokens, about 3 KiB each for Clerk's session tokens (30 MiB), and never more than
    /// [`VerifyOptions::MAX_TOKEN_CACHE_ENTRY_BYTES`] each (80 MiB).
    pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 10_000;

    /// The most memory one verified-token cache entry may account for (token, claims and
    /// bookkeeping): a Clerk session token takes 2 to 4 KiB.
    pub const MAX_TOKEN_CACHE_ENTRY_BYTES: usize = 8 * 1024;

    /// The largest verified-token cache capacity accepted.
    pub const MAX_TOKEN_CACHE_CAPACITY: usize = 1_000_000;

    /// The defaults; same as `VerifyOptions::default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`VerifyOptions::authorized_parties`]. Empty strings are dropped.
    pub fn authorized_parties<I, S>(mut self, parties: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.authorized_parties = non_empty(parties);
        self
    }

    /// Sets [`VerifyOptions::handshake`].
    pub fn handshake(mut self, handshake: HandshakeOptions) -> Self {
        self.handshake = Some(handshake);
        self
    }

    /// Sets [`VerifyOptions::allow_missing_azp`].
    pub fn allow_missing_azp(mut self, allow: bool) -> Self {
        self.allow_missing_azp = allow;
        self
    }

    /// Sets [`VerifyOptions::audience`]; pass one string or several. Empty strings are dropped.
    pub fn audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = non_empty(audience);
        self
    }

    /// Sets [`VerifyOptions::issuer`].
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets [`VerifyOptions::clock_skew`].
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Sets [`VerifyOptions::algorithms`].
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Sets [`VerifyOptions::clock`].
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets [`VerifyOptions::max_token_len`].
    pub fn max_token_len(mut self, len: usize) -> Self {
        self.max_token_len = len;
        self
    }

    /// Sets [`VerifyOptions::accept_pending_sessions`].
    pub fn accept_pending_sessions(mut self, accept: bool) -> Self {
        self.accept_pending_sessions = accept;
        self
    }

    /// Sets [`VerifyOptions::token_cache`]: the verified-token cache's capacity in tokens
    /// (0: off).
    ///
    /// ```
    /// use clerk_verify::{Verifier, VerifyOptions};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
    /// let opts = VerifyOptions::default().token_cache(VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY);
    /// let verifier = Verifier::from_jwks(&key.jwks_json(), opts)?;
    /// verifier.verify(&token)?; // verified, and remembered
    /// verifier.verify(&token)?; // from memory: times checked again, key still served
    /// assert_eq!(verifier.token_cache_stats().unwrap().hits, 1);
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.token_cache = capacity;
        self
    }

    /// Sets [`VerifyOptions::accepts_token`], the kinds the verifier's request methods accept.
    ///
    /// ```
    /// use clerk_verify::options::{AcceptsToken, MachineOptions};
    /// use clerk_verify::VerifyOptions;
    ///
    /// let opts = VerifyOptions::default()
    ///     .accepts_token(AcceptsToken::ANY)
    ///     .machine(MachineOptions::default().secret_key("sk_test_abc123"));
    /// assert_eq!(opts.accepts_token.to_string(), "any");
    /// ```
    pub fn accepts_token(mut self, accepts: AcceptsToken) -> Self {
        self.accepts_token = accepts;
        self
    }

    /// Sets [`VerifyOptions::machine`].
    pub fn machine(mut self, machine: MachineOptions) -> Self {
        self.machine = machine;
        self
    }

    /// Sets [`VerifyOptions::publishable_key`].
    pub fn publishable_key(mut self, key: impl Into<String>) -> Self {
        self.publishable_key = Some(key.into());
        self
    }

    /// Refuses option combinations that cannot be meant.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.algorithms.is_empty() {
            return Err(Error::config(
                "algorithms is empty: no token could ever verify",
            ));
        }
        if let Some(a) = self.algorithms.iter().find(|a| !a.is_rsa()) {
            return Err(Error::config(format!(
                "{a} cannot be listed in algorithms; build the verifier with a secret for HS256"
            )));
        }
        if self.max_token_len == 0 {
            return Err(Error::config("max_token_len is zero"));
        }
        if self.issuer.as_deref() == Some("") {
            return Err(Error::config("issuer is empty"));
        }
        if self.token_cache > VerifyOptions::MAX_TOKEN_CACHE_CAPACITY {
            return Err(Error::config(format!(
                "token_cache is {}; at most {} tokens are accepted",
                self.token_cache,
                VerifyOptions::MAX_TOKEN_CACHE_CAPACITY
            )));
        }
        if self.accepts_token.is_empty() {
            return Err(Error::config(
                "accepts_token is empty: every request would be refused",
            ));
        }
        self.machine.validate()
    }
}

fn non_empty<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items
        .into_iter()
        .map(Into::into)
        .filter(|s: &String| !s.is_empty())
        .collect()
}

/// The source of "now" for time-based claim checks (and, for remote keys, cache ages).
///
/// ```
/// use clerk_verify::Clock;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let fixed = Clock::fixed(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// assert_eq!(fixed.unix_seconds(), 1_700_000_000);
/// ```
#[derive(Clone, Default)]
pub struct Clock {
    source: Option<Arc<dyn Fn() -> SystemTime + Send + Sync>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { source: None }
    }

    /// Always the same instant (tests, the CLI's `--now`).
    pub fn fixed(at: SystemTime) -> Clock {
        Clock::from_fn(move || at)
    }

    /// Any function, e.g. a clock a test can move forward.
    pub fn from_fn(f: impl Fn() -> SystemTime + Send + Sync + 'static) -> Clock {
        Clock {
            source: Some(Arc::new(f)),
        }
    }

    /// The current time.
    pub fn now(&self) -> SystemTime {
        match &self.source {
            None => SystemTime::now(),
            Some(f) => f(),
        }
    }

    /// The current time in whole Unix seconds (negative before 1970).
    pub fn unix_seconds(&self) -> i64 {
        unix_millis(self.now()).div_euclid(1000) as i64
    }
}

/// Milliseconds since the Unix epoch, negative before it.
pub(crate) fn unix_millis(t: SystemTime) -> i128 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i128,
        Err(e) => -(e.duration().as_millis() as i128),
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.source.is_some() {
            "Clock(custom)"
        } else {
            "Clock(system)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_clerks() {
        let o = VerifyOptions::default();
        assert_eq!(o.clock_skew, Duration::from_millis(5000));
        assert_eq!(o.algorithms, [Algorithm::RS256]);
        assert_eq!(o.max_token_len, 16 * 1024);
        assert!(o.authorized_parties.is_empty() && o.audience.is_empty());
        assert!(!o.allow_missing_azp);
        assert_eq!(o.token_cache, 0, "the verified-token cache is opt-in");
        assert!(o.validate().is_ok());
    }

    #[test]
    fn validation() {
        assert!(VerifyOptions::default().algorithms([]).validate().is_err());
        assert!(VerifyOptions::default()
            .algorithms([Algorithm::HS256])
            .validate()
            .is_err());
        assert!(VerifyOptions::default()
            .max_token_len(0)
            .validate()
            .is_err());
        assert!(VerifyOptions::default().issuer("").validate().is_err());
        assert!(VerifyOptions::default()
            .token_cache(VerifyOptions::MAX_TOKEN_CACHE_CAPACITY + 1)
            .validate()
            .is_err());
        let o = VerifyOptions::default().authorized_parties(["", "https://a"]);
        assert_eq!(o.authorized_parties, ["https://a"]);
    }

    #[test]
    fn clocks() {
        let before = SystemTime::UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(unix_millis(before), -1500);
        assert_eq!(Clock::fixed(before).unix_seconds(), -2);
        assert!(Clock::system().unix_seconds() > 1_700_000_000);
    }
}
