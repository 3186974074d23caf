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
//!
//! Around it, the rest of Clerk's `authenticateRequest` for pages, each a redirect that the
//! loop counter bounds: `sync`, the multi-domain flows (a satellite syncing from its primary,
//! the development primary's answer, the primary's handshake for a navigation from another
//! site) and the development instances' dev browser; `orgs`, the organization named by the
//! path; `refresh`, an expired session refreshed through the Backend API with `__refresh`,
//! signed in without the Frontend API.
//!
//! Here: [`Handshake`] (the redirect) and `Pages` (the options resolved against the publishable
//! key, with the memories of used and refused handshakes); `flow`: the page flow itself. The
//! options are `crate::options::HandshakeOptions`; the cookies, `crate::request::cookies`.

mod flow;
mod orgs;
mod refresh;
mod sync;

use crate::error::Error;
use crate::host::{host_of, is_loopback};
use crate::limits::{Budget, Memory};
use crate::options::{HandshakeOptions, PublishableKey};
use crate::reason;
use crate::request::cookies::{
    clearing_cookies, redirect_counter, CookieRules, Cookies, DEV_BROWSER_COOKIE, SESSION_COOKIE,
};
use crate::request::page::{
    normalized_origin, origin_of, with_params, without_params, PageRequest,
};
use crate::request::{Authentication, SignedOut, AUTH_REASON_HEADER, AUTH_STATUS_HEADER};
use orgs::OrgMatcher;
use std::fmt;
use std::time::Duration;

/// Handshakes in a row after which a page is served signed out instead (Clerk's limit).
pub const MAX_HANDSHAKE_REDIRECTS: u32 = 3;
/// The Backend API version the handshake asks for (`SUPPORTED_BAPI_VERSION` of `@clerk/backend`).
pub(crate) const CLERK_API_VERSION: &str = "2026-05-12";
/// Most completed handshakes remembered for replay detection (only verified ones enter).
const MAX_REMEMBERED: usize = 10_000;
/// Most refused nonces remembered, and for how long: a nonce the Backend API refused once is
/// refused again without asking it (made-up nonces are remembered apart from completed
/// handshakes, so they cannot push those out).
const MAX_REFUSED_NONCES: usize = 10_000;
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
const REFUSED_NONCE_MEMORY_SECS: i64 = 600;
/// The shape of a nonce worth asking the Backend API about (ours: Clerk does not document its
/// format): 16 to 128 ASCII letters, digits, `_` or `-`.
const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=128;
/// Most refresh tokens the Backend API refused that are remembered, and for how long (a
/// refused one is not asked about again).
const MAX_REFUSED_REFRESHES: usize = 10_000;
#[cfg_attr(not(feature = "remote"), allow(dead_code))]
const REFUSED_REFRESH_MEMORY_SECS: i64 = 600;
/// The query parameter of Clerk's multi-domain sync status (`false`: sync now; `true`: done).
pub(crate) const SYNCED_PARAM: &str = "__clerk_synced";
/// The query parameter of a satellite's sync request to a development primary.
pub(crate) const REDIRECT_URL_PARAM: &str = "__clerk_redirect_url";

/// A redirect to send instead of rendering the page: the start of a handshake (to the Frontend
/// API), or its completion (back to the page, setting the refreshed cookies); or another
/// redirect of the page flow ([`Handshake::reason`] says which: a satellite's sync, a
/// development primary's answer to it, a session refreshed through the Backend API). Always a
/// 307 with `Cache-Control: no-store` (Chrome caches redirects of inactive tabs, which would
/// loop).
#[derive(Clone, PartialEq, Eq)]
pub struct Handshake {
    reason: &'static str,
    location: String,
    headers: Vec<(&'static str, String)>,
}

impl Handshake {
    /// Why: one of Clerk's handshake reasons (`session-token-expired-refresh-…`,
    /// `session-token-iat-before-client-uat`, `satellite-needs-syncing`, ...), or ours:
    /// [`reason::HANDSHAKE_COMPLETE`], [`reason::SESSION_TOKEN_REFRESHED`].
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
    /// The instance's cookie names (a handshake needs the publishable key, so it has them).
    pub(super) cookies: CookieRules,
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
    /// A satellite of another domain's instance.
    satellite: bool,
    satellite_auto_sync: bool,
    /// Where a development primary may send its dev browser token (normalized origins).
    allowed_redirect_origins: Vec<String>,
    /// Hosts whose `Referer` is Clerk's own: no cross-origin sync for them.
    clerk_hosts: Vec<String>,
    orgs: OrgMatcher,
    after_sign_in_url: Option<String>,
    after_sign_up_url: Option<String>,
    /// Refresh tokens (with their session) the Backend API refused.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    refused_refreshes: Memory,
    /// Session refreshes still allowed now.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    refreshes: Budget,
    /// The bound on one Backend API call.
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    backend_timeout: Duration,
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
        if let Some(url) = &opts.after_sign_in_url {
            url_or_path("after_sign_in_url (CLERK_AFTER_SIGN_IN_URL)", url)?;
        }
        if let Some(url) = &opts.after_sign_up_url {
            url_or_path("after_sign_up_url (CLERK_AFTER_SIGN_UP_URL)", url)?;
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
            // Clerk: the primary's sign-in page, on another origin (a path would be this
            // satellite's own, which never answers a sync).
            if !production
                && opts
                    .sign_in_url
                    .as_deref()
                    .is_some_and(|u| u.starts_with('/'))
            {
                return Err(Error::config(
                    "a development satellite's sign_in_url (CLERK_SIGN_IN_URL) must be the \
                     primary domain's absolute URL, not a path on the satellite",
                ));
            }
        }
        let allowed_redirect_origins = opts
            .allowed_redirect_origins
            .iter()
            .map(|o| {
                let origin = o.trim_end_matches('/');
                match normalized_origin(origin) {
                    Some(n) if origin.len() == origin_of(origin).len() => Ok(n),
                    _ => Err(Error::config(format!(
                        "allowed_redirect_origins (CLERK_ALLOWED_REDIRECT_ORIGINS): {o:?} is not \
                         an origin (scheme://host[:port], no path)"
                    ))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let orgs = OrgMatcher::new(&opts.organization_patterns, &opts.personal_account_patterns)?;
        if opts.max_session_refreshes_per_second == 0 {
            return Err(Error::config(
                "max_session_refreshes_per_second must be at least 1",
            ));
        }
        if opts.backend_api_timeout.is_zero() {
            return Err(Error::config("backend_api_timeout must not be zero"));
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
        let clerk_hosts = clerk_hosts(pk.frontend_api_host(), &frontend);
        Ok(Pages {
            satellite: opts.is_satellite,
            satellite_auto_sync: opts.satellite_auto_sync,
            allowed_redirect_origins,
            clerk_hosts,
            orgs,
            after_sign_in_url: opts.after_sign_in_url.clone(),
            after_sign_up_url: opts.after_sign_up_url.clone(),
            refused_refreshes: Memory::new(MAX_REFUSED_REFRESHES),
            refreshes: Budget::per_second(opts.max_session_refreshes_per_second),
            backend_timeout: opts.backend_api_timeout,
            frontend,
            production,
            cookies: CookieRules::new(pk),
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
    pub(super) fn start(
        &self,
        page: &PageRequest,
        jar: &Cookies<'_>,
        reason: &'static str,
        session_token: Option<&str>,
        suffixed: bool,
    ) -> Authentication {
        self.try_start(page, jar, reason, session_token, suffixed)
            .unwrap_or_else(|| {
                log::warn!(
                    target: "clerk_verify::handshake",
                    "handshake redirect loop ({reason}): serving the page signed out. This \
                     usually means the instance keys do not match: check the publishable and \
                     secret keys{}",
                    if reason == reason::SATELLITE_NEEDS_SYNCING {
                        ", and that this satellite's domain is one the instance knows"
                    } else {
                        ""
                    }
                );
                looped(reason, session_token.is_some())
            })
    }

    /// The 307 that starts a handshake, with Clerk's parameters; `None` past the redirect-loop
    /// limit (the caller decides what the page is then).
    pub(super) fn try_start(
        &self,
        page: &PageRequest,
        jar: &Cookies<'_>,
        reason: &'static str,
        session_token: Option<&str>,
        suffixed: bool,
    ) -> Option<Authentication> {
        let count = jar.redirect_count();
        if count >= MAX_HANDSHAKE_REDIRECTS {
            return None;
        }
        let mut back = without_params(&page.url, &[DEV_BROWSER_COOKIE, "__dev_session"]);
        if reason == reason::SATELLITE_NEEDS_SYNCING {
            // Ours: the way back says the sync is done, so a satellite whose primary has no
            // session is not sent to sync again as soon as it is back.
            back = with_param_set(&back, SYNCED_PARAM, "true");
        }
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
        let dev_browser = self.dev_browser(page, jar, suffixed);
        if let Some(db) = &dev_browser {
            params.push((DEV_BROWSER_COOKIE, db));
        }
        // Clerk asks for the organization the path names on every handshake, whatever its
        // reason: the Frontend API activates it if the user may.
        let target = self.orgs.find(path_of(&page.url));
        if let Some(target) = &target {
            params.push(("organization_id", target.organization_id()));
        }
        let location = with_params(
            &format!("{}/v1/client/handshake", self.frontend_url(page)),
            params,
        );
        Some(Authentication::Handshake(Handshake::new(
            reason,
            location,
            vec![redirect_counter(count)],
        )))
    }

    /// A 307 to `location` that is not the Frontend API's handshake (a satellite's sync
    /// request, the primary's answer, refreshed cookies), counted by Clerk's loop counter;
    /// `None` past its limit.
    pub(super) fn redirect(
        &self,
        jar: &Cookies<'_>,
        reason: &'static str,
        location: String,
        mut cookies: Vec<String>,
    ) -> Option<Authentication> {
        let count = jar.redirect_count();
        if count >= MAX_HANDSHAKE_REDIRECTS {
            log::warn!(
                target: "clerk_verify::handshake",
                "{MAX_HANDSHAKE_REDIRECTS} redirects in a row ({reason}): not redirecting again"
            );
            return None;
        }
        cookies.push(redirect_counter(count));
        Some(Authentication::Handshake(Handshake::new(
            reason, location, cookies,
        )))
    }

    /// The dev browser token a handshake passes on (development instances only): of the cookie
    /// set Clerk's rules picked (with several apps on one host, the unsuffixed cookie may be
    /// another app's), or the query's. A query token that disagrees with the browser's own
    /// cookie is refused: it can only be someone else's client, handed to this browser.
    pub(super) fn dev_browser(
        &self,
        page: &PageRequest,
        jar: &Cookies<'_>,
        suffixed: bool,
    ) -> Option<String> {
        if self.production {
            return None;
        }
        let cookie = self.dev_browser_cookie(jar, suffixed);
        let query = page
            .query_param(DEV_BROWSER_COOKIE)
            .filter(|v| !v.is_empty());
        match (query, cookie) {
            (Some(query), Some(cookie)) if query != cookie => {
                log::warn!(
                    target: "clerk_verify::handshake",
                    "a dev browser token in the query differs from the browser's cookie: ignored"
                );
                Some(cookie)
            }
            (Some(query), _) => Some(query),
            (None, cookie) => cookie,
        }
    }

    /// The browser's dev browser cookie, of the cookie set Clerk's rules picked.
    pub(super) fn dev_browser_cookie(&self, jar: &Cookies<'_>, suffixed: bool) -> Option<String> {
        let name = match suffixed {
            true => self.cookies.suffixed(DEV_BROWSER_COOKIE),
            false => DEV_BROWSER_COOKIE.into(),
        };
        jar.get(&name).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Whether a completed handshake was seen before; remembers it otherwise (until
    /// `forget_at`, Unix seconds). Only handshakes that passed every check (a verified token,
    /// a nonce the Backend API accepted) are remembered, so forged ones cannot crowd them out.
    pub(super) fn replayed(&self, what: &str, forget_at: i64, now: i64) -> bool {
        !self.seen.remember(what, forget_at, now)
    }

    /// Why a handshake nonce cannot be worth a Backend API call, decided without one: not on a
    /// document navigation, not Clerk's shape, already used, or already refused.
    pub(super) fn nonce_precheck(
        &self,
        page: &PageRequest,
        nonce: &str,
        now: i64,
    ) -> Result<(), Error> {
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

    /// The sign-in page for `page`, as Clerk's `redirectToSignIn` builds it: `redirect_url` back
    /// to the page (on a satellite sent to another origin, with `__clerk_synced=false`, so that
    /// it syncs when it comes back), the configured `after_sign_in_url` / `after_sign_up_url` as
    /// Clerk's fallback redirect URLs, and, on a development instance going to another origin,
    /// the browser's dev browser token.
    pub(crate) fn sign_in_redirect(
        &self,
        page: &PageRequest,
        dev_browser: Option<&str>,
    ) -> Option<String> {
        let absolute = |url: &str| {
            if url.starts_with('/') {
                format!("{}{url}", page.origin())
            } else {
                url.to_owned()
            }
        };
        let sign_in = absolute(self.sign_in_url.as_ref()?);
        let cross_origin = normalized_origin(&sign_in) != normalized_origin(page.url());
        let mut back = page.url().to_owned();
        if cross_origin && self.satellite {
            back = with_param_set(&back, SYNCED_PARAM, "false");
        }
        let mut params = vec![("redirect_url", back)];
        if let Some(after) = &self.after_sign_in_url {
            params.push(("sign_in_fallback_redirect_url", absolute(after)));
        }
        if let Some(after) = &self.after_sign_up_url {
            params.push(("sign_up_fallback_redirect_url", absolute(after)));
        }
        if let (true, false, Some(db)) = (cross_origin, self.production, dev_browser) {
            params.push((DEV_BROWSER_COOKIE, db.to_owned()));
        }
        let names: Vec<&str> = params.iter().map(|(n, _)| *n).collect();
        let base = without_params(&sign_in, &names);
        Some(with_params(
            &base,
            params.iter().map(|(n, v)| (*n, v.as_str())),
        ))
    }
}

/// `url` with its query parameter `name` set to `value` (every other one of that name gone).
pub(crate) fn with_param_set(url: &str, name: &str, value: &str) -> String {
    with_params(&without_params(url, &[name]), [(name, value)])
}

/// The path of an absolute URL (`/` when it has none), without query or fragment.
pub(crate) fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    match rest.find('/') {
        Some(start) => {
            let path = &rest[start..];
            path.split(['?', '#']).next().unwrap_or("/")
        }
        None => "/",
    }
}

/// The hosts whose `Referer` is Clerk's own, as Clerk's `isKnownClerkReferrer`: the Frontend
/// API (the publishable key's, and a proxy's or satellite's), and the Account Portal derived
/// from it (`clerk.example.com` → `accounts.example.com`).
fn clerk_hosts(pk_host: &str, frontend: &Frontend) -> Vec<String> {
    let pk_host = crate::host::host_of(pk_host)
        .unwrap_or(pk_host)
        .to_ascii_lowercase();
    let mut hosts = vec![pk_host.clone()];
    if let Frontend::Url(url) = frontend {
        let url = if url.contains("://") {
            url.clone()
        } else {
            format!("https://{url}")
        };
        hosts.extend(crate::request::page::host_of_url(&url));
    }
    // `buildAccountsBaseUrl`: the first `clerk.accounts.` or `clerk.` becomes `accounts.`.
    let accounts = pk_host.find("clerk.").map(|at| {
        let rest = &pk_host[at..];
        let cut = match rest.starts_with("clerk.accounts.") {
            true => "clerk.accounts.".len(),
            false => "clerk.".len(),
        };
        format!("{}accounts.{}", &pk_host[..at], &rest[cut..])
    });
    hosts.extend(accounts);
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Whether `nonce` could be one of Clerk's (see [`NONCE_LEN`]).
fn is_nonce_shape(nonce: &str) -> bool {
    NONCE_LEN.contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Pages {
    /// The answer for a page whose handshake cookies (`names`) were refused, given what the
    /// page is without them (`judged`). A navigation has them cleared on the way: added to a
    /// handshake it starts anyway, else by one 307 back to the same page (within Clerk's
    /// redirect-loop limit: past it, the page is served as judged and the cookies stay). Any
    /// other request is answered as judged; an outage stays the outage.
    pub(super) fn clear_stray(
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
                let count = jar.redirect_count();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clerks_own_hosts() {
        let url = |u: &str| Frontend::Url(u.to_owned());
        assert_eq!(
            clerk_hosts(
                "clerk.inspired.puma-74.lcl.dev",
                &url("https://clerk.inspired.puma-74.lcl.dev")
            ),
            [
                "accounts.inspired.puma-74.lcl.dev",
                "clerk.inspired.puma-74.lcl.dev"
            ]
        );
        assert_eq!(
            clerk_hosts(
                "fond-koala-12.clerk.accounts.dev",
                &url("https://proxy.example.com/__clerk")
            ),
            [
                "fond-koala-12.accounts.dev",
                "fond-koala-12.clerk.accounts.dev",
                "proxy.example.com"
            ]
        );
        assert_eq!(
            clerk_hosts("127.0.0.1:8080", &url("http://127.0.0.1:8080")),
            ["127.0.0.1"]
        );
    }

    #[test]
    fn paths() {
        assert_eq!(path_of("https://a.test/orgs/x?y=1#z"), "/orgs/x");
        assert_eq!(path_of("https://a.test"), "/");
        assert_eq!(path_of("https://a.test?q"), "/");
        assert_eq!(
            with_param_set(
                "https://a.test/p?__clerk_synced=false&x=1#f",
                SYNCED_PARAM,
                "true"
            ),
            "https://a.test/p?x=1&__clerk_synced=true#f"
        );
    }
}
