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
//! Here: [`Handshake`] (the redirect) and `Pages` (the options resolved against the publishable
//! key, with the memories of used and refused handshakes); `flow`: the page flow itself. The
//! options are `crate::options::HandshakeOptions`; the cookies, `crate::request::cookies`.

mod flow;

use crate::error::Error;
use crate::host::{host_of, is_loopback};
use crate::limits::{Budget, Memory};
use crate::options::{HandshakeOptions, PublishableKey};
use crate::reason;
use crate::request::cookies::{
    clearing_cookies, redirect_counter, CookieRules, Cookies, DEV_BROWSER_COOKIE, SESSION_COOKIE,
};
use crate::request::page::{origin_of, with_params, without_params, PageRequest};
use crate::request::{Authentication, SignedOut, AUTH_REASON_HEADER, AUTH_STATUS_HEADER};
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
        let count = jar.redirect_count();
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
            true => self.cookies.suffixed(DEV_BROWSER_COOKIE),
            false => DEV_BROWSER_COOKIE.into(),
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
