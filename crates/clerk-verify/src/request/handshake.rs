//! Clerk's handshake, for server-rendered pages. A browser that navigates to a page with a
//! session cookie Clerk's frontend has not refreshed yet (expired, or older than
//! `__client_uat`), or with cookies that disagree, is sent to the instance's Frontend API, which
//! refreshes the session and sends the browser back with new cookies: the *handshake*. Without
//! it a signed-in user who returns to a tab after a minute sees a signed-out page.
//!
//! Two halves, as in `@clerk/backend`'s `handshake.ts` and `request.ts`:
//!
//! - **start**: a document navigation ([`PageRequest::is_document_navigation`]) whose cookies
//!   need refreshing gets a [`Handshake`]: a 307 to `<frontend api>/v1/client/handshake`, with
//!   Clerk's redirect-loop counter cookie (after three in a row the page is signed out);
//! - **completion**: the browser comes back with the result, a nonce (exchanged with the Backend
//!   API using the secret key, as current Clerk does) or a handshake token (a JWT signed with
//!   the instance's key). It is verified as strictly as a session token, refused if forged,
//!   expired or seen before, and only Clerk's own cookies are taken from it; the answer is a 307
//!   back to the page without the handshake parameters, setting those cookies.
//!
//! API requests never get here: [`crate::Verifier::authenticate_request`] keeps its signed-out
//! answers.

use super::credentials::Cookies;
use crate::env;
use crate::error::{Category, Error};
use crate::reason;
use crate::remote::{host_of, is_loopback, PublishableKey};
use crate::request::page::{origin_of, with_params, without_params, PageRequest};
use crate::request::{
    Auth, Authentication, Refusal, SignedOut, AUTH_REASON_HEADER, AUTH_STATUS_HEADER,
};
use crate::request::{CLIENT_UAT_COOKIE, SESSION_COOKIE};
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// The handshake token's query parameter and cookie (Clerk's `__clerk_handshake`).
pub const HANDSHAKE_PARAM: &str = "__clerk_handshake";
/// The handshake nonce's query parameter and cookie (Clerk's `__clerk_handshake_nonce`).
pub const HANDSHAKE_NONCE_PARAM: &str = "__clerk_handshake_nonce";
/// Clerk's redirect-loop counter cookie.
pub const REDIRECT_COUNT_COOKIE: &str = "__clerk_redirect_count";
/// The development-browser token (cookie and query parameter), passed on to the Frontend API.
pub const DEV_BROWSER_COOKIE: &str = "__clerk_db_jwt";
/// Handshakes in a row after which a page is served signed out instead (Clerk's limit).
pub const MAX_HANDSHAKE_REDIRECTS: u32 = 3;
/// The Backend API version the handshake asks for (`SUPPORTED_BAPI_VERSION` of `@clerk/backend`).
pub(crate) const CLERK_API_VERSION: &str = "2026-05-12";

/// Cookies a handshake may set: Clerk's, and nothing else (a handshake that tries to set any
/// other cookie has that directive dropped).
const CLERK_COOKIES: [&str; 7] = [
    SESSION_COOKIE,
    CLIENT_UAT_COOKIE,
    "__refresh",
    DEV_BROWSER_COOKIE,
    HANDSHAKE_PARAM,
    HANDSHAKE_NONCE_PARAM,
    REDIRECT_COUNT_COOKIE,
];
/// Most cookie directives one handshake may carry, and the longest one.
const MAX_DIRECTIVES: usize = 16;
const MAX_DIRECTIVE_LEN: usize = 8 * 1024;
/// Most completed handshakes remembered for replay detection (only verified ones enter).
const MAX_REMEMBERED: usize = 10_000;

/// Clerk's options for server-rendered pages, with Clerk's names; see
/// [`crate::VerifyOptions::handshake`]. The publishable key (which names the Frontend API) is
/// [`crate::VerifyOptions::publishable_key`].
///
/// ```
/// use clerk_verify::request::HandshakeOptions;
///
/// let pages = HandshakeOptions::default()
///     .sign_in_url("https://accounts.example.com/sign-in")
///     .proxy_url("/__clerk");
/// assert_eq!(pages.proxy_url.as_deref(), Some("/__clerk"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeOptions {
    /// Where the "require sign-in" guards send a signed-out browser (`CLERK_SIGN_IN_URL`), with
    /// the page's URL in `redirect_url`. Absolute, or a path on this site.
    pub sign_in_url: Option<String>,
    /// The sign-up page (`CLERK_SIGN_UP_URL`), for your templates.
    pub sign_up_url: Option<String>,
    /// A satellite's domain (`CLERK_DOMAIN`): a production satellite's Frontend API is
    /// `https://clerk.<domain>`.
    pub domain: Option<String>,
    /// This app is a satellite of another domain's Clerk instance (`CLERK_IS_SATELLITE`).
    pub is_satellite: bool,
    /// The Frontend API proxy (`CLERK_PROXY_URL`): a URL, or a path on this site such as
    /// `/__clerk`. Handshakes go through it instead of the publishable key's host.
    pub proxy_url: Option<String>,
    /// The secret key (`CLERK_SECRET_KEY`), to exchange a handshake nonce with the Backend API.
    /// Without it the handshake asks the Frontend API for a signed handshake token instead.
    pub secret_key: Option<String>,
    /// The Backend API (`CLERK_API_URL`), default `https://api.clerk.com`.
    pub api_url: Option<String>,
    /// Oldest handshake token accepted, by its `iat`, when it has no `exp` (ours: Clerk's SDK
    /// takes any age). Default 5 minutes.
    pub max_age: Duration,
}

impl HandshakeOptions {
    /// Default [`HandshakeOptions::max_age`].
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

    /// The options from `CLERK_SIGN_IN_URL`, `CLERK_SIGN_UP_URL`, `CLERK_DOMAIN`,
    /// `CLERK_IS_SATELLITE` (`true`/`1`), `CLERK_PROXY_URL`, `CLERK_SECRET_KEY` and
    /// `CLERK_API_URL`, read through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> HandshakeOptions {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        HandshakeOptions {
            sign_in_url: get(env::ENV_SIGN_IN_URL),
            sign_up_url: get(env::ENV_SIGN_UP_URL),
            domain: get(env::ENV_DOMAIN),
            is_satellite: get(env::ENV_IS_SATELLITE)
                .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1"),
            proxy_url: get(env::ENV_PROXY_URL),
            secret_key: get(env::ENV_SECRET_KEY),
            api_url: get(env::ENV_API_URL),
            max_age: HandshakeOptions::DEFAULT_MAX_AGE,
        }
    }

    /// Sets [`HandshakeOptions::sign_in_url`].
    pub fn sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.sign_in_url = Some(url.into());
        self
    }

    /// Sets [`HandshakeOptions::sign_up_url`].
    pub fn sign_up_url(mut self, url: impl Into<String>) -> Self {
        self.sign_up_url = Some(url.into());
        self
    }

    /// Sets [`HandshakeOptions::domain`].
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Sets [`HandshakeOptions::is_satellite`].
    pub fn is_satellite(mut self, satellite: bool) -> Self {
        self.is_satellite = satellite;
        self
    }

    /// Sets [`HandshakeOptions::proxy_url`].
    pub fn proxy_url(mut self, url: impl Into<String>) -> Self {
        self.proxy_url = Some(url.into());
        self
    }

    /// Sets [`HandshakeOptions::secret_key`] (and so the nonce exchange).
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = Some(secret_key.into());
        self
    }

    /// Sets [`HandshakeOptions::api_url`].
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }
}

impl fmt::Debug for HandshakeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeOptions")
            .field("sign_in_url", &self.sign_in_url)
            .field("sign_up_url", &self.sign_up_url)
            .field("domain", &self.domain)
            .field("is_satellite", &self.is_satellite)
            .field("proxy_url", &self.proxy_url)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("api_url", &self.api_url)
            .field("max_age", &self.max_age)
            .finish()
    }
}

/// A redirect to send instead of rendering the page: the start of a handshake (to the Frontend
/// API), or its completion (back to the page, setting the refreshed cookies). Always a 307 with
/// `Cache-Control: no-store` (Chrome caches redirects of inactive tabs, which would loop).
#[derive(Clone, PartialEq, Eq)]
pub struct Handshake {
    reason: &'static str,
    location: String,
    headers: Vec<(&'static str, String)>,
}

impl Handshake {
    /// Why: one of Clerk's handshake reasons (`session-token-expired-refresh-…`,
    /// `session-token-iat-before-client-uat`, ...), or [`reason::HANDSHAKE_COMPLETE`].
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// Where to send the browser.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether this is the way back to the page (the handshake's result applied).
    pub fn is_completion(&self) -> bool {
        self.reason == reason::HANDSHAKE_COMPLETE
    }

    /// The HTTP status: 307.
    pub fn status(&self) -> u16 {
        307
    }

    /// Every header to send, in order: `location`, `cache-control`, the `set-cookie`s, and the
    /// `x-clerk-auth-*` debug headers.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }

    fn new(reason: &'static str, location: String, cookies: Vec<String>) -> Handshake {
        let mut headers = vec![
            ("location", location.clone()),
            ("cache-control", "no-store".to_owned()),
        ];
        headers.extend(cookies.into_iter().map(|c| ("set-cookie", c)));
        headers.push((AUTH_STATUS_HEADER, "handshake".to_owned()));
        headers.push((AUTH_REASON_HEADER, reason.to_owned()));
        Handshake {
            reason,
            location,
            headers,
        }
    }
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The location and the cookies carry session tokens: only say where, not what.
        f.debug_struct("Handshake")
            .field("reason", &self.reason)
            .field("to", &origin_of(&self.location))
            .finish_non_exhaustive()
    }
}

/// Where the Frontend API is, resolved once from the options.
#[derive(Debug)]
enum Frontend {
    /// An absolute URL (`https://clerk.example.com`, or a proxy URL).
    Url(String),
    /// A proxy path on the requesting site (`/__clerk`).
    ProxyPath(String),
}

/// The handshake configuration a verifier holds: resolved options and the replay memory.
pub(crate) struct Pages {
    frontend: Frontend,
    production: bool,
    cookie_suffix: String,
    sign_in_url: Option<String>,
    secret_key: Option<String>,
    // Only the nonce exchange (feature `remote`) calls the Backend API.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    api_url: String,
    max_age: Duration,
    /// Completed handshakes (a hash of the token or nonce) with when they may be forgotten.
    seen: Mutex<HashMap<[u8; 32], i64>>,
}

impl fmt::Debug for Pages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pages")
            .field("frontend", &self.frontend)
            .field("production", &self.production)
            .finish_non_exhaustive()
    }
}

impl Pages {
    /// Resolves `opts` against the publishable key, as Clerk's `parsePublishableKey` and
    /// `authenticateRequest` assertions do; contradictions are configuration errors.
    pub(crate) fn new(
        opts: &HandshakeOptions,
        pk: Option<&PublishableKey>,
    ) -> Result<Pages, Error> {
        let pk = pk.ok_or_else(|| {
            Error::config(
                "handshakes need the publishable key (CLERK_PUBLISHABLE_KEY): it names the \
                 Frontend API that refreshes sessions",
            )
        })?;
        let production = pk.is_production();
        let url_or_path = |what: &str, v: &str| {
            if v.starts_with("https://") || v.starts_with("http://") || v.starts_with('/') {
                Ok(())
            } else {
                Err(Error::config(format!(
                    "{what} must be an absolute http(s) URL or a path starting with /"
                )))
            }
        };
        if let Some(proxy) = &opts.proxy_url {
            url_or_path("proxy_url (CLERK_PROXY_URL)", proxy)?;
        }
        if let Some(sign_in) = &opts.sign_in_url {
            url_or_path("sign_in_url (CLERK_SIGN_IN_URL)", sign_in)?;
        }
        if opts.is_satellite {
            if opts.proxy_url.is_none() && opts.domain.is_none() {
                return Err(Error::config(
                    "a satellite needs its domain (CLERK_DOMAIN) or a proxy_url (CLERK_PROXY_URL)",
                ));
            }
            if !production && opts.sign_in_url.is_none() {
                return Err(Error::config(
                    "a development satellite needs sign_in_url (CLERK_SIGN_IN_URL): the primary \
                     domain's sign-in page",
                ));
            }
        }
        let frontend = match (&opts.proxy_url, &opts.domain) {
            (Some(proxy), _) if proxy.starts_with('/') => Frontend::ProxyPath(proxy.clone()),
            (Some(proxy), _) => Frontend::Url(proxy.clone()),
            (None, Some(domain)) if production && opts.is_satellite => Frontend::Url(format!(
                "https://clerk.{}",
                domain.trim_start_matches("https://")
            )),
            // A dev issuer on this machine speaks plain HTTP; Clerk's hosts never are loopback.
            _ if host_of(pk.frontend_api_host()).is_some_and(is_loopback) => {
                Frontend::Url(format!("http://{}", pk.frontend_api_host()))
            }
            _ => Frontend::Url(pk.frontend_api_url()),
        };
        let secret_key = opts.secret_key.clone().filter(|s| !s.is_empty());
        #[cfg(not(feature = "remote"))]
        if secret_key.is_some() {
            return Err(Error::config(
                "exchanging handshake nonces needs the `remote` feature (an HTTP client)",
            ));
        }
        Ok(Pages {
            frontend,
            production,
            cookie_suffix: pk.cookie_suffix().to_owned(),
            sign_in_url: opts.sign_in_url.clone(),
            secret_key,
            api_url: opts
                .api_url
                .clone()
                .unwrap_or_else(|| "https://api.clerk.com".to_owned()),
            max_age: opts.max_age,
            seen: Mutex::new(HashMap::new()),
        })
    }

    fn frontend_url(&self, page: &PageRequest) -> String {
        let base = match &self.frontend {
            Frontend::Url(url) if url.starts_with("http") => url.clone(),
            Frontend::Url(host) => format!("https://{host}"),
            Frontend::ProxyPath(path) => format!("{}{path}", page.origin()),
        };
        base.trim_end_matches('/').to_owned()
    }

    /// The 307 that starts a handshake; past the redirect-loop limit, signed out with the
    /// handshake's reason, as Clerk answers.
    fn start(
        &self,
        page: &PageRequest,
        jar: &Cookies<'_>,
        reason: &'static str,
        session_token: Option<&str>,
        suffixed: bool,
    ) -> Authentication {
        let count: u32 = jar
            .get(REDIRECT_COUNT_COOKIE)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if count >= MAX_HANDSHAKE_REDIRECTS {
            log::warn!(
                target: "clerk_verify::handshake",
                "handshake redirect loop ({reason}): serving the page signed out. This usually \
                 means the instance keys do not match: check the publishable and secret keys"
            );
            return looped(reason, session_token.is_some());
        }
        let back = without_params(&page.url, &[DEV_BROWSER_COOKIE, "__dev_session"]);
        let suffixed = if suffixed { "true" } else { "false" };
        let mut params = vec![
            ("redirect_url", back.as_str()),
            ("__clerk_api_version", CLERK_API_VERSION),
            ("suffixed_cookies", suffixed),
            ("__clerk_hs_reason", reason),
        ];
        if self.secret_key.is_some() {
            params.push(("format", "nonce"));
        }
        if let Some(token) = session_token {
            params.push((SESSION_COOKIE, token));
        }
        let dev_browser = (!self.production)
            .then(|| {
                page.query_param(DEV_BROWSER_COOKIE)
                    .or_else(|| jar.get(DEV_BROWSER_COOKIE).map(str::to_owned))
            })
            .flatten();
        if let Some(db) = &dev_browser {
            params.push((DEV_BROWSER_COOKIE, db));
        }
        let location = with_params(
            &format!("{}/v1/client/handshake", self.frontend_url(page)),
            params,
        );
        let counter = format!(
            "{REDIRECT_COUNT_COOKIE}={}; SameSite=Lax; HttpOnly; Max-Age=2",
            count + 1
        );
        Authentication::Handshake(Handshake::new(reason, location, vec![counter]))
    }

    /// Whether a handshake (token or nonce) was completed before.
    #[cfg(feature = "remote")]
    fn seen(&self, what: &str) -> bool {
        self.seen.lock().contains_key(&digest(what))
    }

    /// Whether a completed handshake was seen before; remembers it otherwise (until
    /// `forget_at`, Unix seconds). Only handshakes that passed every check (a verified token,
    /// a nonce the Backend API accepted) are remembered, so forged ones cannot crowd them out.
    fn replayed(&self, what: &str, forget_at: i64, now: i64) -> bool {
        let key = digest(what);
        let mut seen = self.seen.lock();
        if seen.contains_key(&key) {
            return true;
        }
        if seen.len() >= MAX_REMEMBERED {
            seen.retain(|_, until| *until > now);
        }
        if seen.len() >= MAX_REMEMBERED {
            // Only verified handshakes get here, so this takes a flood of genuine ones; forget
            // the one that expires first rather than refuse new sign-ins.
            if let Some(first) = seen
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| *k)
            {
                seen.remove(&first);
            }
        }
        seen.insert(key, forget_at);
        false
    }

    /// The sign-in page for `page`, with `redirect_url` back to it.
    pub(crate) fn sign_in_redirect(&self, page: &PageRequest) -> Option<String> {
        let sign_in = self.sign_in_url.as_ref()?;
        let sign_in = if sign_in.starts_with('/') {
            format!("{}{sign_in}", page.origin())
        } else {
            sign_in.clone()
        };
        Some(with_params(&sign_in, [("redirect_url", page.url())]))
    }
}

fn digest(what: &str) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, what.as_bytes());
    let mut key = [0u8; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

/// How to verify a token inside the flow: without blocking (`None` means "blocking needed"), or
/// blocking.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Io {
    Never,
    Allowed,
}

impl crate::Verifier {
    /// Authenticates a request for a server-rendered page, as Clerk's `authenticateRequest()`
    /// does for a page: signed in, signed out, or a [`Handshake`] to send (when the request is
    /// a document navigation, the verifier has [`crate::VerifyOptions::handshake`] set, and the
    /// cookies need refreshing). May block (key fetch, nonce exchange): in async code use
    /// [`crate::Verifier::authenticate_page_step`].
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
        self.page_flow(page, Io::Allowed)
            .unwrap_or_else(Authentication::unfinished)
    }

    /// Where a signed-out browser on `page` should sign in: the configured
    /// [`HandshakeOptions::sign_in_url`] with `redirect_url` set to the page (Clerk's
    /// `redirectToSignIn`); `None` without one.
    pub fn sign_in_redirect(&self, page: &PageRequest) -> Option<String> {
        self.pages()?.sign_in_redirect(page)
    }

    /// The page flow; `None` when `io` is [`Io::Never`] and the answer needs I/O.
    pub(crate) fn page_flow(&self, page: &PageRequest, io: Io) -> Option<Authentication> {
        // A header token: the header flow, as for an API request, with the handshake for the
        // time-based refusals of a navigation.
        let header_token = page
            .authorization
            .as_deref()
            .and_then(super::credentials::bearer_token);
        let pages = self.pages().filter(|_| page.is_document_navigation());
        let cookie = page.cookie.as_deref().unwrap_or("");
        let jar = Cookies::parse(cookie);
        if header_token.is_none() {
            if let Some(pages) = self.pages() {
                if let Some(done) = self.complete(pages, page, &jar, io) {
                    return done;
                }
            }
        }
        let token = match self.find_token(page.authorization.as_deref(), Some(cookie)) {
            Ok(token) => token,
            Err(signed_out) => {
                // Cookies that disagree: the Frontend API sorts them out.
                let reason = signed_out.reason();
                let start = matches!(
                    reason,
                    reason::SESSION_TOKEN_BUT_NO_CLIENT_UAT
                        | reason::CLIENT_UAT_BUT_NO_SESSION_TOKEN
                );
                if let (true, Some(pages)) = (start, pages) {
                    let suffixed = self.uses_suffixed(cookie);
                    let session = self.cookie_session(cookie);
                    return Some(pages.start(page, &jar, reason, session.as_deref(), suffixed));
                }
                return Some(signed_out);
            }
        };
        let from_cookie = token.carrier() == super::TokenCarrier::Cookie;
        // Clerk checks `iat` against `__client_uat` before verifying: a stale token is
        // refreshed whether or not it would verify.
        if let (true, Some(pages), Some(uat)) = (from_cookie, pages, token.client_uat) {
            let iat =
                super::credentials::peek_claim(token.as_str(), "iat").and_then(|v| v.as_f64());
            if iat.is_some_and(|iat| iat < uat as f64)
                && super::credentials::peek_is_session(token.as_str())
            {
                let suffixed = self.uses_suffixed(cookie);
                let reason = reason::SESSION_TOKEN_IAT_BEFORE_CLIENT_UAT;
                return Some(pages.start(page, &jar, reason, Some(token.as_str()), suffixed));
            }
        }
        let done = match io {
            Io::Never => self.try_authenticate(&token)?,
            Io::Allowed => self.authenticate(&token),
        };
        let Authentication::SignedOut(out) = &done else {
            return Some(done);
        };
        let Some(pages) = pages else {
            return Some(done);
        };
        let handshake_reason = match out.error() {
            Some(Error::TokenExpired { .. })
                if jar
                    .get(&format!("__refresh_{}", pages.cookie_suffix))
                    .is_some() =>
            {
                reason::SESSION_TOKEN_EXPIRED_REFRESH_MISSING_API_CLIENT
            }
            Some(Error::TokenExpired { .. }) => reason::SESSION_TOKEN_EXPIRED_REFRESH_NO_COOKIE,
            Some(Error::TokenNotActiveYet { .. }) => reason::SESSION_TOKEN_NBF,
            Some(Error::TokenIatInTheFuture { .. }) => reason::SESSION_TOKEN_IAT_IN_THE_FUTURE,
            _ => return Some(done),
        };
        let suffixed = from_cookie && self.uses_suffixed(cookie);
        Some(pages.start(page, &jar, handshake_reason, Some(token.as_str()), suffixed))
    }

    /// A returning handshake: `None` when the request carries none; otherwise the answer
    /// (`Some(None)` when it needs I/O that `io` forbids).
    fn complete(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        io: Io,
    ) -> Option<Option<Authentication>> {
        let now = self.options().clock.unix_seconds();
        let nonce = page
            .query_param(HANDSHAKE_NONCE_PARAM)
            .or_else(|| jar.get(HANDSHAKE_NONCE_PARAM).map(str::to_owned))
            .filter(|n| !n.is_empty());
        let token = page
            .query_param(HANDSHAKE_PARAM)
            .or_else(|| jar.get(HANDSHAKE_PARAM).map(str::to_owned))
            .filter(|t| !t.is_empty());
        // A handshake token is remembered (against replays) only once everything has passed,
        // so that a check redone on the blocking pool does not see its own first attempt.
        let mut remember = None;
        let directives = if let Some(nonce) = nonce {
            if io == Io::Never {
                return Some(None);
            }
            match self.exchange_nonce(pages, &nonce, now) {
                Ok(d) => d,
                Err(e) => return Some(Some(refused(e))),
            }
        } else if let Some(token) = token {
            let payload = match io {
                Io::Never => match self.try_verify_signed(&token) {
                    Some(p) => p,
                    None => return Some(None),
                },
                Io::Allowed => self.verify_signed(&token),
            };
            let payload = payload.map_err(|e| match e.category() {
                Category::InvalidToken => Error::HandshakeInvalid(format!("{e}").into()),
                _ => e,
            });
            match payload.and_then(|p| handshake_directives(pages, &p, now)) {
                Ok((d, forget_at)) => {
                    remember = Some((token, forget_at));
                    d
                }
                Err(e) => return Some(Some(refused(e))),
            }
        } else {
            return None;
        };
        // The new session token must verify here, or the browser would only come back to
        // another handshake.
        let accepted = accepted_directives(&directives);
        let session = accepted.iter().find_map(|d| {
            let (name, value) = cookie_pair(d)?;
            (name.starts_with(SESSION_COOKIE) && !value.is_empty()).then(|| value.to_owned())
        });
        if let Some(session) = session {
            let verified = match io {
                Io::Never => match self.try_verify_as(&session, true) {
                    Some(v) => v,
                    None => return Some(None),
                },
                Io::Allowed => self.verify_as(&session, true),
            };
            if let Err(e) = verified {
                if e.category() != Category::InvalidToken {
                    return Some(Some(Authentication::SignedOut(SignedOut::from_error(e))));
                }
                return Some(Some(refused(Error::HandshakeInvalid(
                    format!("the session token it carries is refused: {e}").into(),
                ))));
            }
        }
        if let Some((token, forget_at)) = remember {
            if pages.replayed(&token, forget_at, now) {
                return Some(Some(refused(Error::HandshakeInvalid(
                    "this handshake token was already used".into(),
                ))));
            }
        }
        let mut cookies = accepted;
        for name in [HANDSHAKE_PARAM, HANDSHAKE_NONCE_PARAM] {
            let named = |d: &String| cookie_pair(d).is_some_and(|(n, _)| n == name);
            if jar.get(name).is_some() && !cookies.iter().any(named) {
                cookies.push(format!("{name}=; Path=/; Max-Age=0"));
            }
        }
        let back = without_params(
            &page.url,
            &[
                HANDSHAKE_PARAM,
                HANDSHAKE_NONCE_PARAM,
                "__clerk_help",
                DEV_BROWSER_COOKIE,
            ],
        );
        Some(Some(Authentication::Handshake(Handshake::new(
            reason::HANDSHAKE_COMPLETE,
            back,
            cookies,
        ))))
    }

    #[cfg(feature = "remote")]
    fn exchange_nonce(&self, pages: &Pages, nonce: &str, now: i64) -> Result<Vec<String>, Error> {
        let secret = pages.secret_key.as_deref().ok_or_else(|| {
            Error::HandshakeInvalid(
                "a handshake nonce arrived, but no secret key is configured to exchange it".into(),
            )
        })?;
        if nonce.len() > 512 {
            return Err(Error::HandshakeInvalid("the nonce is too long".into()));
        }
        let used = || Error::HandshakeInvalid("this handshake nonce was already used".into());
        // The Backend API answers a nonce once; a nonce seen here is refused without asking.
        if pages.seen(nonce) {
            return Err(used());
        }
        let directives = crate::remote::handshake_payload(&pages.api_url, secret, nonce)?;
        // Remembered only once the Backend API accepted it: random nonces never enter.
        if pages.replayed(nonce, now + 3600, now) {
            return Err(used());
        }
        Ok(directives)
    }

    #[cfg(not(feature = "remote"))]
    fn exchange_nonce(&self, _: &Pages, _: &str, _: i64) -> Result<Vec<String>, Error> {
        Err(Error::HandshakeInvalid(
            "a handshake nonce arrived, but this build cannot exchange it (feature `remote`)"
                .into(),
        ))
    }

    fn cookie_session(&self, cookie: &str) -> Option<String> {
        let jar = Cookies::parse(cookie);
        let name = match self.uses_suffixed(cookie) {
            true => format!("{SESSION_COOKIE}_{}", self.pages()?.cookie_suffix),
            false => SESSION_COOKIE.to_owned(),
        };
        jar.get(&name).filter(|v| !v.is_empty()).map(str::to_owned)
    }
}

/// Signed out, as Clerk answers past the redirect-loop limit: with the handshake's reason.
fn looped(reason: &'static str, token_sent: bool) -> Authentication {
    Authentication::SignedOut(SignedOut::new(
        reason,
        format!(
            "the session cookies need refreshing ({reason}), but {MAX_HANDSHAKE_REDIRECTS} \
             handshakes in a row did not refresh them; check that the publishable key and the \
             keys this server verifies with belong to the same Clerk instance"
        ),
        token_sent,
    ))
}

fn refused(e: Error) -> Authentication {
    log::info!(target: "clerk_verify::handshake", "handshake refused: {e}");
    Authentication::SignedOut(SignedOut::from_error(e))
}

/// The directives of a verified handshake token after its own checks (a fresh `exp`/`iat`, a
/// list of strings), with the time until which it must be remembered against replays.
fn handshake_directives(
    pages: &Pages,
    payload: &serde_json::Map<String, Value>,
    now: i64,
) -> Result<(Vec<String>, i64), Error> {
    let invalid = |why: &'static str| Error::HandshakeInvalid(why.into());
    let time = |name: &str| payload.get(name).and_then(Value::as_f64);
    let max_age = pages.max_age.as_secs() as f64;
    let forget_at = match (time("exp"), time("iat")) {
        (Some(exp), _) if exp <= now as f64 => {
            return Err(invalid("the handshake token has expired"))
        }
        (Some(exp), _) => exp.min(now as f64 + max_age) as i64,
        (None, Some(iat)) if iat + max_age <= now as f64 => {
            return Err(invalid("the handshake token is too old (iat)"))
        }
        (None, Some(iat)) if iat > now as f64 + 60.0 => {
            return Err(invalid(
                "the handshake token was issued in the future (iat)",
            ))
        }
        (None, Some(iat)) => (iat + max_age) as i64,
        (None, None) => return Err(invalid("the handshake token has neither exp nor iat")),
    };
    let list = payload
        .get("handshake")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the handshake token has no `handshake` list of cookies"))?;
    let directives = list
        .iter()
        .map(|d| d.as_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| invalid("the handshake list holds something that is not a string"))?;
    Ok((directives, forget_at))
}

/// The directives a handshake may apply: well-formed `Set-Cookie` values for Clerk's cookies
/// (suffixed or not); the rest is dropped, and logged.
pub(crate) fn accepted_directives(directives: &[String]) -> Vec<String> {
    directives
        .iter()
        .take(MAX_DIRECTIVES)
        .filter(|d| {
            let ok = d.len() <= MAX_DIRECTIVE_LEN
                && d.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
                && cookie_pair(d).is_some_and(|(name, _)| is_clerk_cookie(name));
            if !ok {
                log::warn!(
                    target: "clerk_verify::handshake",
                    "a handshake directive was dropped: not one of Clerk's cookies, or malformed"
                );
            }
            ok
        })
        .cloned()
        .collect()
}

fn is_clerk_cookie(name: &str) -> bool {
    CLERK_COOKIES.iter().any(|clerk| {
        name == *clerk
            || name
                .strip_prefix(clerk)
                .and_then(|rest| rest.strip_prefix('_'))
                .is_some_and(|suffix| {
                    !suffix.is_empty()
                        && suffix.len() <= 16
                        && suffix
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
    })
}

/// `name` and `value` of a `Set-Cookie` value.
fn cookie_pair(directive: &str) -> Option<(&str, &str)> {
    let first = directive.split(';').next()?;
    let (name, value) = first.split_once('=')?;
    let name = name.trim();
    (!name.is_empty()).then_some((name, value.trim()))
}

impl Authentication {
    /// The handshake to send, if this is one.
    pub fn handshake(&self) -> Option<&Handshake> {
        match self {
            Authentication::Handshake(h) => Some(h),
            _ => None,
        }
    }

    /// What a page that serves everyone does with this: `Ok(Some(user))` to render for a
    /// signed-in user, `Ok(None)` to render the signed-out page, `Err` to answer with the
    /// [`Refusal`] instead: the handshake's 307, or 503/500 when the server is at fault (an
    /// outage never renders signed-in users a signed-out page).
    pub fn into_page(self) -> Result<Option<Auth>, Refusal> {
        match self {
            Authentication::SignedIn(auth) => Ok(Some(auth)),
            Authentication::Handshake(h) => Err(Refusal::from_handshake(&h)),
            Authentication::SignedOut(s) if s.server_fault() => Err(Refusal::from_signed_out(&s)),
            Authentication::SignedOut(_) => Ok(None),
        }
    }

    /// What a page that requires sign-in does with this: `Ok(user)`, or the [`Refusal`] to
    /// answer: the handshake's 307; for a signed-out browser a 307 to the sign-in page with
    /// `redirect_url` back to `page` (Clerk's `redirectToSignIn`), or a 401 when no
    /// [`HandshakeOptions::sign_in_url`] is configured; 503/500 when the server is at fault.
    pub fn require_sign_in(
        self,
        verifier: &crate::Verifier,
        page: &PageRequest,
    ) -> Result<Auth, Refusal> {
        match self {
            Authentication::SignedIn(auth) => Ok(auth),
            Authentication::Handshake(h) => Err(Refusal::from_handshake(&h)),
            Authentication::SignedOut(s) if s.server_fault() => Err(Refusal::from_signed_out(&s)),
            Authentication::SignedOut(s) => Err(match verifier.sign_in_redirect(page) {
                Some(location) => Refusal::sign_in_redirect(&s, location),
                None => Refusal::from_signed_out(&s),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_clerks_variables() {
        let vars = [
            ("CLERK_SIGN_IN_URL", "https://accounts.example.com/sign-in"),
            ("CLERK_SIGN_UP_URL", "/sign-up"),
            ("CLERK_DOMAIN", "satellite.example"),
            ("CLERK_IS_SATELLITE", "true"),
            ("CLERK_PROXY_URL", " /__clerk "),
            ("CLERK_SECRET_KEY", "sk_test_x"),
            ("CLERK_API_URL", ""),
        ];
        let get = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        };
        let o = HandshakeOptions::from_lookup(get);
        assert_eq!(
            o.sign_in_url.as_deref(),
            Some("https://accounts.example.com/sign-in")
        );
        assert_eq!(o.sign_up_url.as_deref(), Some("/sign-up"));
        assert_eq!(o.domain.as_deref(), Some("satellite.example"));
        assert!(o.is_satellite);
        assert_eq!(o.proxy_url.as_deref(), Some("/__clerk"));
        assert_eq!(o.secret_key.as_deref(), Some("sk_test_x"));
        assert_eq!(o.api_url, None, "empty is unset");
        assert_eq!(o.max_age, HandshakeOptions::DEFAULT_MAX_AGE);
        assert!(
            !format!("{o:?}").contains("sk_test_x"),
            "the secret is redacted"
        );
        let one =
            |v: &'static str| move |n: &str| (n == "CLERK_IS_SATELLITE").then(|| v.to_owned());
        assert!(HandshakeOptions::from_lookup(one("1")).is_satellite);
        assert!(!HandshakeOptions::from_lookup(one("no")).is_satellite);
    }

    #[test]
    fn only_clerk_cookies() {
        let d = |s: &str| s.to_owned();
        let kept = accepted_directives(&[
            d("__session=abc; Path=/; SameSite=Lax"),
            d("__session_r_77EQdK=abc; Path=/"),
            d("__client_uat=1700000000; Path=/; Max-Age=31536000"),
            d("__clerk_handshake=; Max-Age=0"),
            d("session_id=steal; Path=/"),
            d("__sessionX=1"),
            d("__session_=1"),
            d("__session=a\r\nSet-Cookie: evil=1"),
            d("=noname"),
        ]);
        assert_eq!(kept.len(), 4, "{kept:?}");
        assert!(kept
            .iter()
            .all(|k| !k.contains("steal") && !k.contains("evil")));
    }
}
