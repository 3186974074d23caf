//! Clerk's options for server-rendered pages, as plain values: what the handshake needs to
//! know (where the Frontend API is, the sign-in page, the secret key for nonces) and its limits.
//! The page flow that uses them is `crate::request`'s; the environment names are `crate::env`'s.

use std::fmt;
use std::time::Duration;

/// Clerk's options for server-rendered pages, with Clerk's names; see
/// [`crate::VerifyOptions::handshake`]. The publishable key (which names the Frontend API) is
/// [`crate::VerifyOptions::publishable_key`].
///
/// ```
/// use clerk_verify::options::HandshakeOptions;
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
    /// A satellite syncs on a first visit without any cookie (`CLERK_SATELLITE_AUTO_SYNC`,
    /// ours; Clerk's `satelliteAutoSync`). Off by default, as in Clerk: a satellite then syncs
    /// only when it comes back from the primary's sign-in page (`__clerk_synced=false`), and a
    /// first visit renders signed out at once.
    pub satellite_auto_sync: bool,
    /// Origins (`https://satellite.example`) a development primary may send its dev browser
    /// token to when a satellite asks to sync (`?__clerk_redirect_url=`):
    /// `CLERK_ALLOWED_REDIRECT_ORIGINS`, comma-separated (ours; Clerk's frontend option is
    /// `allowedRedirectOrigins`). The token is the browser's Clerk client: Clerk's SDK sends it
    /// to any URL, we only to these. Empty (the default): the primary answers no sync request.
    pub allowed_redirect_origins: Vec<String>,
    /// Clerk's `organizationSyncOptions.organizationPatterns` (`CLERK_ORGANIZATION_PATTERNS`,
    /// comma-separated; ours): path patterns such as `/orgs/:slug` or `/orgs/:id/(.*)`. A page
    /// whose path names another organization than the session's active one starts the
    /// handshake that activates it (`active-organization-mismatch`).
    pub organization_patterns: Vec<String>,
    /// Clerk's `organizationSyncOptions.personalAccountPatterns`
    /// (`CLERK_PERSONAL_ACCOUNT_PATTERNS`; ours): paths that want the personal account, e.g.
    /// `/me/(.*)`; a session with an active organization there starts the handshake that
    /// deactivates it.
    pub personal_account_patterns: Vec<String>,
    /// Where Clerk's hosted pages send a user after signing in when they were not told where
    /// (`CLERK_AFTER_SIGN_IN_URL`): carried into sign-in redirects as
    /// `sign_in_fallback_redirect_url`, Clerk's current name for its legacy `afterSignInUrl`.
    /// Absolute, or a path on this site.
    pub after_sign_in_url: Option<String>,
    /// As [`HandshakeOptions::after_sign_in_url`], after signing up (`CLERK_AFTER_SIGN_UP_URL`,
    /// `sign_up_fallback_redirect_url`).
    pub after_sign_up_url: Option<String>,
    /// Most session refreshes through the Backend API (`__refresh`) per second by this
    /// verifier; beyond it the page takes Clerk's handshake instead, without a call. Default
    /// [`HandshakeOptions::DEFAULT_SESSION_REFRESHES_PER_SECOND`]; at least 1.
    pub max_session_refreshes_per_second: u32,
    /// The longest a Backend API call of page authentication (a nonce exchange, a session
    /// refresh) may take, connection included. Default
    /// [`HandshakeOptions::DEFAULT_BACKEND_API_TIMEOUT`].
    pub backend_api_timeout: Duration,
}

impl HandshakeOptions {
    /// Default [`HandshakeOptions::max_age`].
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
    /// Default [`HandshakeOptions::max_nonce_exchanges_per_second`]: well above what one
    /// process sees from real handshakes (one per returning browser whose session expired).
    pub const DEFAULT_NONCE_EXCHANGES_PER_SECOND: u32 = 20;
    /// Default [`HandshakeOptions::max_session_refreshes_per_second`]: as the nonce exchanges
    /// (a refresh is one per returning browser whose session expired).
    pub const DEFAULT_SESSION_REFRESHES_PER_SECOND: u32 = 20;
    /// Default [`HandshakeOptions::backend_api_timeout`]: 5 seconds.
    pub const DEFAULT_BACKEND_API_TIMEOUT: Duration = Duration::from_secs(5);

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

    /// Sets [`HandshakeOptions::satellite_auto_sync`].
    pub fn satellite_auto_sync(mut self, auto_sync: bool) -> Self {
        self.satellite_auto_sync = auto_sync;
        self
    }

    /// Sets [`HandshakeOptions::allowed_redirect_origins`].
    pub fn allowed_redirect_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_redirect_origins = origins.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`HandshakeOptions::organization_patterns`].
    pub fn organization_patterns<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.organization_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`HandshakeOptions::personal_account_patterns`].
    pub fn personal_account_patterns<I, S>(mut self, patterns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.personal_account_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`HandshakeOptions::after_sign_in_url`].
    pub fn after_sign_in_url(mut self, url: impl Into<String>) -> Self {
        self.after_sign_in_url = Some(url.into());
        self
    }

    /// Sets [`HandshakeOptions::after_sign_up_url`].
    pub fn after_sign_up_url(mut self, url: impl Into<String>) -> Self {
        self.after_sign_up_url = Some(url.into());
        self
    }

    /// Sets [`HandshakeOptions::max_session_refreshes_per_second`].
    pub fn max_session_refreshes_per_second(mut self, per_second: u32) -> Self {
        self.max_session_refreshes_per_second = per_second;
        self
    }

    /// Sets [`HandshakeOptions::backend_api_timeout`].
    pub fn backend_api_timeout(mut self, timeout: Duration) -> Self {
        self.backend_api_timeout = timeout;
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
            satellite_auto_sync: false,
            allowed_redirect_origins: Vec::new(),
            organization_patterns: Vec::new(),
            personal_account_patterns: Vec::new(),
            after_sign_in_url: None,
            after_sign_up_url: None,
            max_session_refreshes_per_second:
                HandshakeOptions::DEFAULT_SESSION_REFRESHES_PER_SECOND,
            backend_api_timeout: HandshakeOptions::DEFAULT_BACKEND_API_TIMEOUT,
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
            .field("satellite_auto_sync", &self.satellite_auto_sync)
            .field("allowed_redirect_origins", &self.allowed_redirect_origins)
            .field("organization_patterns", &self.organization_patterns)
            .field("personal_account_patterns", &self.personal_account_patterns)
            .field("after_sign_in_url", &self.after_sign_in_url)
            .field("after_sign_up_url", &self.after_sign_up_url)
            .field(
                "max_session_refreshes_per_second",
                &self.max_session_refreshes_per_second,
            )
            .field("backend_api_timeout", &self.backend_api_timeout)
            .finish()
    }
}
