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
/// Most refused nonces remembered, and for how long: a nonce the Backend API refused once is
/// refused again without asking it (made-up nonces are remembered apart from completed
/// handshakes, so they cannot push those out).
const MAX_REFUSED_NONCES: usize = 10_000;
const REFUSED_NONCE_MEMORY_SECS: i64 = 600;
/// The shape of a nonce worth asking the Backend API about (ours: Clerk does not document its
/// format): 16 to 128 ASCII letters, digits, `_` or `-`.
const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=128;
/// Most parent domains a stray handshake cookie is cleared on.
const MAX_CLEARED_DOMAINS: usize = 8;

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
#[derive(Clone, PartialEq, Eq)]
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
    /// Most handshake nonces exchanged with the Backend API per second by this verifier (a
    /// token bucket with as large a burst); a nonce beyond it is answered `handshake-failed`
    /// (503) without a call, so that made-up nonces cannot spend the instance's Backend API
    /// quota. Default [`HandshakeOptions::DEFAULT_NONCE_EXCHANGES_PER_SECOND`]; at least 1.
    pub max_nonce_exchanges_per_second: u32,
}

impl HandshakeOptions {
    /// Default [`HandshakeOptions::max_age`].
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
    /// Default [`HandshakeOptions::max_nonce_exchanges_per_second`]: well above what one
    /// process sees from real handshakes (one per returning browser whose session expired).
    pub const DEFAULT_NONCE_EXCHANGES_PER_SECOND: u32 = 20;

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
            ..HandshakeOptions::default()
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

    /// Sets [`HandshakeOptions::max_nonce_exchanges_per_second`].
    pub fn max_nonce_exchanges_per_second(mut self, per_second: u32) -> Self {
        self.max_nonce_exchanges_per_second = per_second;
        self
    }
}

impl Default for HandshakeOptions {
    fn default() -> HandshakeOptions {
        HandshakeOptions {
            sign_in_url: None,
            sign_up_url: None,
            domain: None,
            is_satellite: false,
            proxy_url: None,
            secret_key: None,
            api_url: None,
            max_age: HandshakeOptions::DEFAULT_MAX_AGE,
            max_nonce_exchanges_per_second: HandshakeOptions::DEFAULT_NONCE_EXCHANGES_PER_SECOND,
        }
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
            .field(
                "max_nonce_exchanges_per_second",
                &self.max_nonce_exchanges_per_second,
            )
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

    /// The same redirect, also setting `extra` cookies.
    fn with_cookies(self, extra: Vec<String>) -> Handshake {
        let cookies = self
            .headers
            .into_iter()
            .filter(|(name, _)| *name == "set-cookie")
            .map(|(_, value)| value)
            .chain(extra)
            .collect();
        Handshake::new(self.reason, self.location, cookies)
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
    seen: Memory,
    /// Nonces the Backend API refused.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    refused_nonces: Memory,
    /// Nonce exchanges still allowed now.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    exchanges: Budget,
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
        if opts.max_nonce_exchanges_per_second == 0 {
            return Err(Error::config(
                "max_nonce_exchanges_per_second must be at least 1 (a handshake nonce needs one \
                 exchange)",
            ));
        }
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
            seen: Memory::new(MAX_REMEMBERED),
            refused_nonces: Memory::new(MAX_REFUSED_NONCES),
            exchanges: Budget::per_second(opts.max_nonce_exchanges_per_second),
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
        let count = redirect_count(jar);
        if count >= MAX_HANDSHAKE_REDIRECTS {
            log::warn!(
                target: "clerk_verify::handshake",
                "handshake redirect loop ({reason}): serving the page signed out. This usually \
                 means the instance keys do not match: check the publishable and secret keys"
            );
            return looped(reason, session_token.is_some());
        }
        let back = without_params(&page.url, &[DEV_BROWSER_COOKIE, "__dev_session"]);
        let suffixed_param = if suffixed { "true" } else { "false" };
        let mut params = vec![
            ("redirect_url", back.as_str()),
            ("__clerk_api_version", CLERK_API_VERSION),
            ("suffixed_cookies", suffixed_param),
            ("__clerk_hs_reason", reason),
        ];
        if self.secret_key.is_some() {
            params.push(("format", "nonce"));
        }
        if let Some(token) = session_token {
            params.push((SESSION_COOKIE, token));
        }
        // Clerk's cookie choice applies to the dev browser too: with several apps on one
        // host, the unsuffixed cookie may be another app's.
        let dev_browser_cookie = match suffixed {
            true => format!("{DEV_BROWSER_COOKIE}_{}", self.cookie_suffix),
            false => DEV_BROWSER_COOKIE.to_owned(),
        };
        let dev_browser = (!self.production)
            .then(|| {
                page.query_param(DEV_BROWSER_COOKIE)
                    .or_else(|| jar.get(&dev_browser_cookie).map(str::to_owned))
            })
            .flatten();
        if let Some(db) = &dev_browser {
            params.push((DEV_BROWSER_COOKIE, db));
        }
        let location = with_params(
            &format!("{}/v1/client/handshake", self.frontend_url(page)),
            params,
        );
        Authentication::Handshake(Handshake::new(
            reason,
            location,
            vec![redirect_counter(count)],
        ))
    }

    /// Whether a completed handshake was seen before; remembers it otherwise (until
    /// `forget_at`, Unix seconds). Only handshakes that passed every check (a verified token,
    /// a nonce the Backend API accepted) are remembered, so forged ones cannot crowd them out.
    fn replayed(&self, what: &str, forget_at: i64, now: i64) -> bool {
        !self.seen.remember(what, forget_at, now)
    }

    /// Why a handshake nonce cannot be worth a Backend API call, decided without one: not on a
    /// document navigation, not Clerk's shape, already used, or already refused.
    fn nonce_precheck(&self, page: &PageRequest, nonce: &str, now: i64) -> Result<(), Error> {
        let invalid = |why: &'static str| Err(Error::HandshakeInvalid(why.into()));
        if !page.is_document_navigation() {
            return invalid("a handshake nonce is exchanged only on a page navigation");
        }
        if !is_nonce_shape(nonce) {
            return invalid("the handshake nonce does not have the shape of Clerk's nonces");
        }
        if self.seen.contains(nonce, now) {
            return invalid("this handshake nonce was already used");
        }
        if self.refused_nonces.contains(nonce, now) {
            return invalid("the Backend API refused this handshake nonce before");
        }
        Ok(())
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

/// A bounded memory of strings (by their SHA-256), each until a time (Unix seconds).
struct Memory {
    entries: Mutex<HashMap<[u8; 32], i64>>,
    capacity: usize,
}

impl Memory {
    fn new(capacity: usize) -> Memory {
        Memory {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn contains(&self, what: &str, now: i64) -> bool {
        self.entries
            .lock()
            .get(&digest(what))
            .is_some_and(|until| *until > now)
    }

    /// Remembers `what` until `forget_at`; `false` when it was already remembered. When full,
    /// the expired entries go first, then the one that expires soonest: what enters is the
    /// newest fact, and the memory never grows past its capacity.
    fn remember(&self, what: &str, forget_at: i64, now: i64) -> bool {
        let key = digest(what);
        let mut entries = self.entries.lock();
        if entries.get(&key).is_some_and(|until| *until > now) {
            return false;
        }
        if entries.len() >= self.capacity {
            entries.retain(|_, until| *until > now);
        }
        if entries.len() >= self.capacity {
            if let Some(first) = entries
                .iter()
                .min_by_key(|(_, until)| **until)
                .map(|(k, _)| *k)
            {
                entries.remove(&first);
            }
        }
        entries.insert(key, forget_at);
        true
    }
}

/// A token bucket: at most `rate` takes per second, with a burst of as many.
struct Budget {
    rate: f64,
    state: Mutex<(f64, std::time::Instant)>,
}

impl Budget {
    fn per_second(rate: u32) -> Budget {
        let rate = f64::from(rate.max(1));
        Budget {
            rate,
            state: Mutex::new((rate, std::time::Instant::now())),
        }
    }

    /// Takes one unit if there is one.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    fn take(&self) -> bool {
        let mut state = self.state.lock();
        let (tokens, last) = &mut *state;
        let now = std::time::Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.rate).min(self.rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Whether `nonce` could be one of Clerk's (see [`NONCE_LEN`]).
fn is_nonce_shape(nonce: &str) -> bool {
    NONCE_LEN.contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `Set-Cookie` values that expire each of `names` on the page's host (a host-only cookie) and
/// on every parent domain a sibling could have set it on (`Domain=`), for `Path=/`.
fn clearing_cookies(names: &[&str], url: &str) -> Vec<String> {
    let authority = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    let host = host_of(authority).unwrap_or("");
    let is_name = host.contains('.') && host.parse::<std::net::IpAddr>().is_err();
    let labels: Vec<&str> = host.split('.').collect();
    let domains: Vec<String> = if is_name {
        (0..labels.len().saturating_sub(1))
            .map(|i| labels[i..].join("."))
            .take(MAX_CLEARED_DOMAINS)
            .collect()
    } else {
        Vec::new()
    };
    const GONE: &str = "Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
    names
        .iter()
        .flat_map(|name| {
            std::iter::once(format!("{name}=; {GONE}")).chain(
                domains
                    .iter()
                    .map(move |d| format!("{name}=; Domain={d}; {GONE}")),
            )
        })
        .collect()
}

/// What a request's returning handshake (if any) decides.
enum Completion {
    /// None came back.
    Absent,
    /// Deciding needs I/O that the caller forbids.
    NeedsIo,
    /// The answer: the way back to the page, or a refusal.
    Done(Authentication),
    /// These handshake cookies were refused: judge the page without them, and clear them.
    Stray(Vec<&'static str>),
}

impl Pages {
    /// The answer for a page whose handshake cookies (`names`) were refused, given what the
    /// page is without them (`judged`). A navigation has them cleared on the way: added to a
    /// handshake it starts anyway, else by one 307 back to the same page (within Clerk's
    /// redirect-loop limit: past it, the page is served as judged and the cookies stay). Any
    /// other request is answered as judged; an outage stays the outage.
    fn clear_stray(
        &self,
        page: &PageRequest,
        jar: &Cookies<'_>,
        judged: Authentication,
        names: &[&str],
    ) -> Authentication {
        if !page.is_document_navigation() {
            return judged;
        }
        let clearing = clearing_cookies(names, &page.url);
        match judged {
            Authentication::Handshake(h) => Authentication::Handshake(h.with_cookies(clearing)),
            Authentication::SignedOut(s) if s.server_fault() => Authentication::SignedOut(s),
            judged => {
                let count = redirect_count(jar);
                if count >= MAX_HANDSHAKE_REDIRECTS {
                    log::warn!(
                        target: "clerk_verify::handshake",
                        "a refused handshake cookie came back {MAX_HANDSHAKE_REDIRECTS} times: \
                         it cannot be cleared from this host; serving the page without it"
                    );
                    return judged;
                }
                let mut cookies = clearing;
                cookies.push(redirect_counter(count));
                Authentication::Handshake(Handshake::new(
                    reason::HANDSHAKE_INVALID,
                    page.url.clone(),
                    cookies,
                ))
            }
        }
    }
}

/// How many handshakes in a row the browser has made (Clerk's loop counter cookie).
fn redirect_count(jar: &Cookies<'_>) -> u32 {
    jar.get(REDIRECT_COUNT_COOKIE)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The loop counter cookie for the next redirect, after `count` of them.
fn redirect_counter(count: u32) -> String {
    format!(
        "{REDIRECT_COUNT_COOKIE}={}; SameSite=Lax; HttpOnly; Max-Age=2",
        count + 1
    )
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
        let cookie = page.cookie.as_deref().unwrap_or("");
        let jar = Cookies::parse(cookie);
        let mut stray = Vec::new();
        if let (None, Some(pages)) = (header_token, self.pages()) {
            match self.complete(pages, page, &jar, io) {
                Completion::Absent => {}
                Completion::NeedsIo => return None,
                Completion::Done(done) => return Some(done),
                Completion::Stray(names) => stray = names,
            }
        }
        let judged = self.judge_page(page, cookie, &jar, io)?;
        match self.pages() {
            Some(pages) if !stray.is_empty() => Some(pages.clear_stray(page, &jar, judged, &stray)),
            _ => Some(judged),
        }
    }

    /// The page judged by its credentials (a returning handshake aside): signed in, signed
    /// out, or the start of a handshake; `None` when `io` forbids the I/O it needs.
    fn judge_page(
        &self,
        page: &PageRequest,
        cookie: &str,
        jar: &Cookies<'_>,
        io: Io,
    ) -> Option<Authentication> {
        let pages = self.pages().filter(|_| page.is_document_navigation());
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
                    return Some(pages.start(page, jar, reason, session.as_deref(), suffixed));
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
                return Some(pages.start(page, jar, reason, Some(token.as_str()), suffixed));
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
        Some(pages.start(page, jar, handshake_reason, Some(token.as_str()), suffixed))
    }

    /// A returning handshake, from the query (where Clerk's development instances put it) or
    /// from a cookie (production). A refused one in the query is the answer; a refused cookie
    /// may be a sibling app's on the parent domain, or one planted there, so it is set aside
    /// ([`Completion::Stray`]) and the page judged as if it were absent, as Clerk does in
    /// production. Only the refusals that are the handshake's fault are set aside: an outage
    /// stays an outage.
    fn complete(&self, pages: &Pages, page: &PageRequest, jar: &Cookies<'_>, io: Io) -> Completion {
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        let in_query = (
            present(page.query_param(HANDSHAKE_NONCE_PARAM)),
            present(page.query_param(HANDSHAKE_PARAM)),
        );
        let from_query = in_query.0.is_some() || in_query.1.is_some();
        let (nonce, token) = if from_query {
            in_query
        } else {
            let cookie = |name| present(jar.get(name).map(str::to_owned));
            (cookie(HANDSHAKE_NONCE_PARAM), cookie(HANDSHAKE_PARAM))
        };
        let result = match (nonce, token) {
            (None, None) => return Completion::Absent,
            (Some(nonce), _) => self.complete_nonce(pages, page, jar, io, &nonce),
            (None, Some(token)) => self.complete_token(pages, page, jar, io, token),
        };
        match result {
            None => Completion::NeedsIo,
            Some(Ok(done)) => Completion::Done(done),
            Some(Err(e)) if from_query || e.category() != Category::InvalidToken => {
                Completion::Done(refused(e))
            }
            Some(Err(e)) => {
                log::info!(
                    target: "clerk_verify::handshake",
                    "a handshake cookie was refused ({e}); the page is judged by its session \
                     cookies"
                );
                let names = [HANDSHAKE_PARAM, HANDSHAKE_NONCE_PARAM]
                    .into_iter()
                    .filter(|name| jar.get(name).is_some())
                    .collect();
                Completion::Stray(names)
            }
        }
    }

    /// A returning nonce: checked for everything that needs no call, then exchanged with the
    /// Backend API (within the exchange budget).
    fn complete_nonce(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        io: Io,
        nonce: &str,
    ) -> Option<Result<Authentication, Error>> {
        let now = self.options().clock.unix_seconds();
        if let Err(e) = pages.nonce_precheck(page, nonce, now) {
            return Some(Err(e));
        }
        if io == Io::Never {
            return None;
        }
        let directives = match self.exchange_nonce(pages, nonce, now) {
            Ok(d) => d,
            Err(e) => return Some(Err(e)),
        };
        self.apply_directives(pages, page, jar, io, directives, None)
    }

    /// A returning handshake token: verified as strictly as a session token, with its own
    /// time rules, remembered against replays once everything has passed.
    fn complete_token(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        io: Io,
        token: String,
    ) -> Option<Result<Authentication, Error>> {
        let now = self.options().clock.unix_seconds();
        let payload = match io {
            Io::Never => self.try_verify_signed(&token)?,
            Io::Allowed => self.verify_signed(&token),
        };
        let payload = payload.map_err(|e| match e.category() {
            Category::InvalidToken => Error::HandshakeInvalid(format!("{e}").into()),
            _ => e,
        });
        match payload.and_then(|p| handshake_directives(pages, &p, now)) {
            Ok((directives, forget_at)) => {
                self.apply_directives(pages, page, jar, io, directives, Some((token, forget_at)))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// The way back to the page with a handshake's cookies, once the session token they carry
    /// verifies here (or the browser would only come back to another handshake). `remember`
    /// is a handshake token to remember against replays, only now that everything passed (so
    /// that a check redone on the blocking pool does not see its own first attempt).
    fn apply_directives(
        &self,
        pages: &Pages,
        page: &PageRequest,
        jar: &Cookies<'_>,
        io: Io,
        directives: Vec<String>,
        remember: Option<(String, i64)>,
    ) -> Option<Result<Authentication, Error>> {
        let now = self.options().clock.unix_seconds();
        let accepted = accepted_directives(&directives);
        let session = accepted.iter().find_map(|d| {
            let (name, value) = cookie_pair(d)?;
            (name.starts_with(SESSION_COOKIE) && !value.is_empty()).then(|| value.to_owned())
        });
        if let Some(session) = session {
            let verified = match io {
                Io::Never => self.try_verify_as(&session, true)?,
                Io::Allowed => self.verify_as(&session, true),
            };
            if let Err(e) = verified {
                if e.category() != Category::InvalidToken {
                    return Some(Ok(Authentication::SignedOut(SignedOut::from_error(e))));
                }
                return Some(Err(Error::HandshakeInvalid(
                    format!("the session token it carries is refused: {e}").into(),
                )));
            }
        }
        if let Some((token, forget_at)) = remember {
            if pages.replayed(&token, forget_at, now) {
                return Some(Err(Error::HandshakeInvalid(
                    "this handshake token was already used".into(),
                )));
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
        Some(Ok(Authentication::Handshake(Handshake::new(
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
        if !pages.exchanges.take() {
            log::warn!(
                target: "clerk_verify::handshake",
                "more handshake nonces than max_nonce_exchanges_per_second: answering 503 \
                 without asking the Backend API"
            );
            return Err(Error::HandshakeFailed(
                "more handshake nonce exchanges than this server allows per second \
                 (max_nonce_exchanges_per_second)"
                    .into(),
            ));
        }
        let directives = crate::remote::handshake_payload(&pages.api_url, secret, nonce)
            .inspect_err(|e| {
                if let Error::HandshakeInvalid(_) = e {
                    pages
                        .refused_nonces
                        .remember(nonce, now + REFUSED_NONCE_MEMORY_SECS, now);
                }
            })?;
        // Remembered only once the Backend API accepted it: random nonces never enter.
        if pages.replayed(nonce, now + 3600, now) {
            return Err(Error::HandshakeInvalid(
                "this handshake nonce was already used".into(),
            ));
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
