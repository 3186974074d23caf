//! [`Verifier`]: what an application builds once and asks per token or per request. It bundles
//! the token path (`verify`: keys, rules, the verified-token cache) with what request
//! authentication adds (`request`: the cookie rules, the handshake for pages), and is the only
//! type that knows both; every method here hands the work to the floor that owns it.

use crate::claims::Claims;
use crate::env;
use crate::error::Error;
use crate::keys::{KeyFetcher, KeySet};
use crate::machine::{route, MachineStats, Route, Verified};
use crate::options::{AcceptsToken, TokenKind, VerifyOptions};
use crate::request::{Authentication, Authenticator, PageRequest, SessionToken, Step};
use crate::token_cache::TokenCacheStats;
use crate::verify::Tokens;
use std::fmt;
use std::sync::Arc;

#[cfg(feature = "remote")]
use crate::remote::{RemoteKeys, RemoteOptions};

/// Verifies Clerk session tokens and authenticates requests. Build it once at start-up, share
/// it (it is a cheap `Clone` around an `Arc`), and call [`Verifier::verify`] per token, or
/// [`Verifier::authenticate_request`] (adapters: [`Verifier::authenticate_headers`]) per
/// request.
///
/// ```
/// use clerk_verify::{Verifier, VerifyOptions};
///
/// # let key = clerk_dev::fixtures::rsa2048();
/// # let pem = key.public_pem();
/// # let token = clerk_dev::TokenBuilder::session("user_123", clerk_dev::now_unix()).sign(key);
/// // The PEM public key from the Clerk Dashboard (or CLERK_JWT_KEY): no network needed.
/// let verifier = Verifier::from_pem(
///     &pem,
///     VerifyOptions::default().authorized_parties(["http://localhost:3000"]),
/// )?;
/// let claims = verifier.verify(&token)?;
/// assert_eq!(claims.user_id(), "user_123");
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Authenticator>,
}

/// Building one.
impl Verifier {
    /// A verifier over any key source. Fails if the options are contradictory.
    pub fn new(keys: impl KeyFetcher + 'static, opts: VerifyOptions) -> Result<Verifier, Error> {
        let tokens = Tokens::new(Box::new(keys), opts)?;
        Ok(Verifier {
            inner: Arc::new(Authenticator::new(tokens)?),
        })
    }

    /// A verifier over a JWKS document (e.g. saved from `https://<frontend-api>/.well-known/jwks.json`).
    pub fn from_jwks(jwks_json: &str, opts: VerifyOptions) -> Result<Verifier, Error> {
        Verifier::new(KeySet::from_jwks(jwks_json)?, opts)
    }

    /// A networkless verifier over a PEM public key (`CLERK_JWT_KEY`).
    pub fn from_pem(pem: &str, opts: VerifyOptions) -> Result<Verifier, Error> {
        Verifier::new(KeySet::from_pem(pem)?, opts)
    }

    /// A verifier for HS256 tokens your own service issues with a shared secret (≥ 32 bytes).
    /// It accepts HS256 only; RS256 tokens are `token-invalid-algorithm` here.
    pub fn from_hs256_secret(secret: &[u8], opts: VerifyOptions) -> Result<Verifier, Error> {
        Verifier::new(KeySet::from_hs256_secret(secret)?, opts)
    }

    /// A verifier over a Frontend API's JWKS, e.g. `https://clerk.example.com` (feature
    /// `remote`). For custom [`RemoteOptions`] (timeouts, TTL, a fetch-error hook) build the
    /// [`RemoteKeys`] yourself and pass it to [`Verifier::new`].
    #[cfg(feature = "remote")]
    pub fn from_frontend_api(url: &str, opts: VerifyOptions) -> Result<Verifier, Error> {
        Verifier::new(
            RemoteKeys::from_frontend_api(url, RemoteOptions::default())?,
            opts,
        )
    }

    /// A verifier over the JWKS of the Frontend API a publishable key names (no secret needed;
    /// feature `remote`).
    ///
    /// ```
    /// use clerk_verify::{Verifier, VerifyOptions};
    /// let verifier = Verifier::from_publishable_key(
    ///     "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk",
    ///     VerifyOptions::default().authorized_parties(["https://app.example.com"]),
    /// )?;
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    #[cfg(feature = "remote")]
    pub fn from_publishable_key(
        publishable_key: &str,
        opts: VerifyOptions,
    ) -> Result<Verifier, Error> {
        Verifier::new(
            RemoteKeys::from_publishable_key(publishable_key, RemoteOptions::default())?,
            opts,
        )
    }

    /// A verifier over Clerk's Backend API JWKS (`https://api.clerk.com/v1/jwks`) with a secret
    /// key, as Clerk's SDKs do (feature `remote`). For another API URL use
    /// [`RemoteKeys::from_secret_key`].
    #[cfg(feature = "remote")]
    pub fn from_secret_key(secret_key: &str, opts: VerifyOptions) -> Result<Verifier, Error> {
        Verifier::new(
            RemoteKeys::from_secret_key(secret_key, None, RemoteOptions::default())?,
            opts,
        )
    }

    /// A verifier over any JWKS URL (`https://`, or `http://` on a loopback host; feature
    /// `remote`).
    #[cfg(feature = "remote")]
    pub fn from_jwks_url(url: &str, opts: VerifyOptions) -> Result<Verifier, Error> {
        Verifier::new(
            RemoteKeys::from_jwks_url(url, RemoteOptions::default())?,
            opts,
        )
    }

    /// A verifier configured from the environment. The key source is the first of these that is
    /// set (and not empty):
    ///
    /// 1. `CLERK_JWT_KEY`: the PEM public key, networkless (first, as in Clerk's SDKs);
    /// 2. `CLERK_JWKS_URL`: a plain JWKS URL (ours; the most specific setting, so it overrides
    ///    Clerk's keys);
    /// 3. `CLERK_SECRET_KEY`, with `CLERK_API_URL` if set: Clerk's Backend API JWKS;
    /// 4. `CLERK_PUBLISHABLE_KEY`: the Frontend API's public JWKS.
    ///
    /// Options come from [`VerifyOptions::from_env`]. Remote sources use the default
    /// `RemoteOptions`; see `Verifier::from_lookup_with` to change them. Fails with
    /// `jwk-failed-to-resolve` when no key source is set, and with `config-invalid` (naming the
    /// variable) when one is malformed. Without the `remote` feature only `CLERK_JWT_KEY` works.
    pub fn from_env() -> Result<Verifier, Error> {
        Verifier::from_lookup(env::process)
    }

    /// Like [`Verifier::from_env`], reading variables through `get`.
    ///
    /// ```
    /// # let pem = clerk_dev::fixtures::rsa2048().public_pem();
    /// let env = [
    ///     ("CLERK_JWT_KEY", pem.replace('\n', "\\n")),
    ///     ("CLERK_AUTHORIZED_PARTIES", "https://a.example, https://b.example".to_string()),
    /// ];
    /// let get = |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
    /// let verifier = clerk_verify::Verifier::from_lookup(get)?;
    /// assert_eq!(verifier.options().authorized_parties, ["https://a.example", "https://b.example"]);
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Verifier, Error> {
        #[cfg(feature = "remote")]
        {
            Verifier::from_lookup_with(get, RemoteOptions::default())
        }
        #[cfg(not(feature = "remote"))]
        {
            let opts = VerifyOptions::from_lookup(&get)?;
            match env::keys(&get)? {
                env::EnvKeys::Pem(pem) => Verifier::from_pem(&pem, opts),
            }
        }
    }

    /// Like [`Verifier::from_lookup`], with `remote` options (timeouts, cache TTL, a fetch-error
    /// hook) for a remote key source.
    ///
    /// ```
    /// use clerk_verify::{remote::RemoteOptions, Verifier};
    /// use std::time::Duration;
    ///
    /// let get = |name: &str| (name == "CLERK_SECRET_KEY").then(|| "sk_test_abc".to_owned());
    /// let verifier = Verifier::from_lookup_with(get, RemoteOptions::default().timeout(Duration::from_secs(2)))?;
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    #[cfg(feature = "remote")]
    pub fn from_lookup_with(
        get: impl Fn(&str) -> Option<String>,
        remote: RemoteOptions,
    ) -> Result<Verifier, Error> {
        let opts = VerifyOptions::from_lookup(&get)?;
        match env::keys(&get)? {
            env::EnvKeys::Pem(pem) => Verifier::from_pem(&pem, opts),
            env::EnvKeys::Remote(source) => Verifier::new(RemoteKeys::new(source, remote)?, opts),
        }
    }

    /// The options this verifier applies.
    pub fn options(&self) -> &VerifyOptions {
        self.inner.tokens.options()
    }

    /// The key source.
    pub fn keys(&self) -> &dyn KeyFetcher {
        self.inner.tokens.keys()
    }

    /// What the verified-token cache holds and has done; `None` when it is off
    /// ([`VerifyOptions::token_cache`]).
    pub fn token_cache_stats(&self) -> Option<TokenCacheStats> {
        self.inner.tokens.cache_stats()
    }
}

/// One token.
impl Verifier {
    /// Verifies `token` and returns its claims.
    ///
    /// May block on network I/O when the key source is remote and the key is not cached: on an
    /// async runtime call [`Verifier::try_verify`] first and run this on a blocking thread only
    /// when that returns `None`.
    pub fn verify(&self, token: &str) -> Result<Arc<Claims>, Error> {
        self.inner.tokens.verify_as(token, false)
    }

    /// Verifies `token` without any I/O or blocking. `None` means the key is not in memory:
    /// call [`Verifier::verify`] where blocking is allowed (e.g. `spawn_blocking`).
    ///
    /// ```
    /// # use clerk_verify::{Verifier, VerifyOptions};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", clerk_dev::now_unix()).sign(key);
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// let result = match verifier.try_verify(&token) {
    ///     Some(result) => result,
    ///     None => verifier.verify(&token), // in async code: inside spawn_blocking
    /// };
    /// assert!(result.is_ok());
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn try_verify(&self, token: &str) -> Option<Result<Arc<Claims>, Error>> {
        self.inner.tokens.try_verify_as(token, false)
    }

    /// Verifies `token` if it is of a kind `accepts` names: a session token exactly as
    /// [`Verifier::verify`] does, a machine token (API key, M2M or OAuth access token) as
    /// [`crate::machine`] says: a JWT form locally, an opaque one through Clerk's Backend API
    /// (with [`VerifyOptions::machine`]'s secret key; may block on that call, at most the
    /// machine queue wait plus its timeout). A token of another kind is `token-type-mismatch`.
    /// For requests, use [`Verifier::authenticate_headers_accepting`].
    ///
    /// ```
    /// use clerk_verify::machine::Verified;
    /// use clerk_verify::options::AcceptsToken;
    /// # use clerk_verify::{Verifier, VerifyOptions};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// let m2m = clerk_dev::TokenBuilder::m2m("mch_2vYVtest", clerk_dev::now_unix())
    ///     .claim("scopes", "read:invoices")
    ///     .sign(key);
    /// match verifier.verify_accepting(&m2m, AcceptsToken::MACHINES)? {
    ///     Verified::Machine(machine) => assert!(machine.has_scope("read:invoices")),
    ///     other => panic!("{}", other.token_type()),
    /// }
    /// let refused = verifier.verify_accepting(&m2m, AcceptsToken::SESSION_TOKEN).unwrap_err();
    /// assert_eq!(refused.reason(), "token-type-mismatch");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn verify_accepting(&self, token: &str, accepts: AcceptsToken) -> Result<Verified, Error> {
        // A token the verified-token cache holds is a session token: where machine JWTs are
        // accepted too, that spares reading its payload for the kind (most of a hit's cost).
        let accepts_sessions = accepts.accepts(TokenKind::SessionToken);
        if accepts_sessions
            && accepts.accepts_machine_jwts()
            && self.inner.tokens.holds_session(token, false)
        {
            return self.verify(token).map(Verified::Session);
        }
        match route(token, accepts, self.options().max_token_len) {
            Route::Session => self.verify(token).map(Verified::Session),
            Route::Machine(machine) => self
                .inner
                .machines
                .verify(&self.inner.tokens, &machine)
                .map(Verified::Machine),
            Route::NotAccepted(e) => Err(e),
        }
    }

    /// What machine authentication has done so far: Backend API calls by outcome, and the
    /// tokens answered without a call.
    pub fn machine_stats(&self) -> MachineStats {
        self.inner.machines.stats()
    }
}

/// One request: API routes.
impl Verifier {
    /// Finds the session token in a request, as Clerk does: the `Authorization` header first
    /// (`Bearer <token>` with any capitalisation of the scheme, or a bare value with no scheme),
    /// then the `__session` cookie (or `__session_<suffix>` when a publishable key is configured
    /// and Clerk's rules pick the suffixed cookies). A header token wins outright.
    ///
    /// A cookie token needs the `__client_uat` cookie Clerk sets beside it: without it, or with
    /// `__client_uat=0` (Clerk signed the browser out), the request is signed out
    /// (`session-token-but-no-client-uat`); a `__client_uat` without a session cookie is
    /// `client-uat-but-no-session-token`.
    ///
    /// `cookie` is the raw `Cookie` header (join several with `"; "`). `Err` is the signed-out
    /// state for a request with no usable token.
    pub fn find_token(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Result<SessionToken, Authentication> {
        self.inner.find_token(authorization, cookie)
    }

    /// Authenticates a found token without blocking. `None`: the key is not cached; call
    /// [`Verifier::authenticate`] where blocking is allowed (e.g. `spawn_blocking`).
    pub fn try_authenticate(&self, token: &SessionToken) -> Option<Authentication> {
        self.inner.try_authenticate(token)
    }

    /// Authenticates a found token, fetching keys if needed (may block).
    pub fn authenticate(&self, token: &SessionToken) -> Authentication {
        self.inner.authenticate(token)
    }

    /// Both steps, for blocking code: [`Verifier::find_token`] then [`Verifier::authenticate`].
    ///
    /// ```
    /// # use clerk_verify::{Verifier, VerifyOptions, Authentication};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let now = clerk_dev::now_unix();
    /// # let token = clerk_dev::TokenBuilder::session("user_1", now).sign(key);
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// let header = format!("Bearer {token}");
    /// match verifier.authenticate_request(Some(&header), None) {
    ///     Authentication::SignedIn(auth) => assert_eq!(auth.user_id(), "user_1"),
    ///     other => panic!("{}", other.reason()),
    /// }
    /// // A browser sends the cookie pair Clerk sets: `__session` and `__client_uat`.
    /// let cookie = format!("__session={token}; __client_uat={}", now - 30);
    /// assert!(verifier.authenticate_request(None, Some(&cookie)).auth().is_some());
    /// let anonymous = verifier.authenticate_request(None, Some("theme=dark"));
    /// assert_eq!(anonymous.reason(), "session-token-and-uat-missing");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn authenticate_request(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Authentication {
        self.inner.authenticate_request(authorization, cookie)
    }

    /// [`Verifier::authenticate_request`] for a route that accepts the kinds `accepts` names
    /// instead of the verifier's default ([`VerifyOptions::accepts_token`]): for blocking
    /// code (a machine token may take a Backend API call). See
    /// [`Verifier::authenticate_headers_accepting`].
    pub fn authenticate_request_accepting(
        &self,
        accepts: AcceptsToken,
        authorization: Option<&str>,
        cookie: Option<&str>,
    ) -> Authentication {
        self.inner
            .authenticate_accepting(accepts, authorization, cookie)
    }

    /// Starts authenticating a request from its raw header values, without blocking: the
    /// `Authorization` header (the first one) and every `Cookie` header (HTTP/2 may split them;
    /// they are joined as RFC 6265 says). Bytes that are not UTF-8 are replaced, so such a token
    /// fails verification instead of silently counting as absent.
    ///
    /// Adapters call this on the executor thread and finish a [`Step::Blocking`] with
    /// [`Step::finish`]; blocking code can call [`Verifier::authenticate_request`].
    ///
    /// The kinds of token accepted are the verifier's default, [`VerifyOptions::accepts_token`]
    /// (session tokens only, unless configured otherwise).
    pub fn authenticate_headers<'h>(
        &self,
        authorization: Option<&'h [u8]>,
        cookies: impl IntoIterator<Item = &'h [u8]>,
    ) -> Step {
        let accepts = self.options().accepts_token;
        Authenticator::authenticate_headers(&self.inner, accepts, authorization, cookies)
    }

    /// [`Verifier::authenticate_headers`] for a route that accepts the kinds `accepts` names
    /// (Clerk's `acceptsToken`), e.g. an API for scripts that takes API keys and M2M tokens
    /// while the rest of the app takes sessions:
    ///
    /// - a machine token (API key, M2M or OAuth access token) is read from the `Authorization`
    ///   header only, never from cookies, and verified ([`crate::machine`]): the answer is
    ///   [`Authentication::Machine`];
    /// - a token of a kind not accepted is `token-type-mismatch` (a session token on a
    ///   machines-only route too); a machines-only route without a header token is
    ///   `machine-token-missing`; cookies are then not read at all;
    /// - with session tokens accepted, sessions are authenticated exactly as
    ///   [`Verifier::authenticate_headers`] does.
    ///
    /// An opaque token the verifier cannot answer from memory is [`Step::Blocking`]:
    /// [`Step::finish`] awaits its Backend API call without holding a thread (one call per
    /// token however many requests wait for it; bounded by [`VerifyOptions::machine`]).
    ///
    /// ```
    /// use clerk_verify::options::AcceptsToken;
    /// use clerk_verify::request::Step;
    /// # use clerk_verify::{Verifier, VerifyOptions, Authentication};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let verifier = Verifier::from_jwks(&key.jwks_json(), VerifyOptions::default())?;
    /// # let now = clerk_dev::now_unix();
    /// let m2m = clerk_dev::TokenBuilder::m2m("mch_2vYVtest", now).sign(key);
    /// let header = format!("Bearer {m2m}");
    /// let Step::Done(Authentication::Machine(machine)) =
    ///     verifier.authenticate_headers_accepting(AcceptsToken::MACHINES, Some(header.as_bytes()), [])
    /// else {
    ///     panic!("the key is in memory: no I/O");
    /// };
    /// assert_eq!((machine.token_type(), machine.subject()), ("m2m_token", "mch_2vYVtest"));
    /// // A session token on the machines' route:
    /// let session = clerk_dev::TokenBuilder::session("user_1", now).sign(key);
    /// let header = format!("Bearer {session}");
    /// let Step::Done(refused) =
    ///     verifier.authenticate_headers_accepting(AcceptsToken::MACHINES, Some(header.as_bytes()), [])
    /// else {
    ///     unreachable!()
    /// };
    /// assert_eq!(refused.reason(), "token-type-mismatch");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn authenticate_headers_accepting<'h>(
        &self,
        accepts: AcceptsToken,
        authorization: Option<&'h [u8]>,
        cookies: impl IntoIterator<Item = &'h [u8]>,
    ) -> Step {
        Authenticator::authenticate_headers(&self.inner, accepts, authorization, cookies)
    }
}

/// One request: server-rendered pages.
impl Verifier {
    /// Authenticates a request for a server-rendered page, as Clerk's `authenticateRequest()`
    /// does for a page: signed in, signed out, or a [`crate::request::Handshake`] to send (when
    /// the request is a document navigation, the verifier has [`VerifyOptions::handshake`] set,
    /// and the cookies need refreshing). May block (key fetch, nonce exchange, session
    /// refresh): in async code use [`Verifier::authenticate_page_step`].
    ///
    /// ```
    /// # use clerk_verify::{Authentication, Verifier, VerifyOptions};
    /// # use clerk_verify::request::{HandshakeOptions, PageRequest};
    /// # let key = clerk_dev::fixtures::rsa2048();
    /// # let now = clerk_dev::now_unix();
    /// // pk_test_ for fond-koala-12.clerk.accounts.dev
    /// let pk = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";
    /// let verifier = Verifier::from_jwks(
    ///     &key.jwks_json(),
    ///     VerifyOptions::default().publishable_key(pk).handshake(HandshakeOptions::default()),
    /// )?;
    /// // The browser comes back after two minutes: its cookie token has expired.
    /// let old = clerk_dev::TokenBuilder::session("user_1", now - 120)
    ///     .claim("iss", "https://fond-koala-12.clerk.accounts.dev")
    ///     .sign(key);
    /// let page = PageRequest::new("GET", "http://localhost:3000/")
    ///     .cookie(format!("__session={old}; __client_uat={}", now - 120))
    ///     .sec_fetch_dest("document");
    /// let Authentication::Handshake(handshake) = verifier.authenticate_page(&page) else {
    ///     panic!("expected a handshake");
    /// };
    /// assert!(handshake.location().starts_with(
    ///     "https://fond-koala-12.clerk.accounts.dev/v1/client/handshake?redirect_url="));
    /// // The same request from fetch() is simply signed out.
    /// let api = page.clone().sec_fetch_dest("empty");
    /// assert_eq!(verifier.authenticate_page(&api).reason(), "token-expired");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn authenticate_page(&self, page: &PageRequest) -> Authentication {
        self.inner.authenticate_page(page)
    }

    /// [`Verifier::authenticate_page`] without blocking: the answer at once when no I/O is
    /// needed, else a [`Step::Blocking`] (key fetch, handshake nonce exchange, session refresh)
    /// to finish with [`Step::finish`]. Page adapters call this.
    pub fn authenticate_page_step(&self, page: PageRequest) -> Step {
        Authenticator::authenticate_page_step(&self.inner, page)
    }

    /// Where a signed-out browser on `page` should sign in: the configured
    /// [`crate::request::HandshakeOptions::sign_in_url`] with `redirect_url` set to the page
    /// (Clerk's `redirectToSignIn`); `None` without one. What
    /// [`Authentication::require_sign_in`] takes.
    pub fn sign_in_redirect(&self, page: &PageRequest) -> Option<String> {
        self.inner.sign_in_redirect(page)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("tokens", &self.inner.tokens)
            .finish_non_exhaustive()
    }
}
