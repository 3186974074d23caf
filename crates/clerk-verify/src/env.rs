//! Configuration from the environment, with Clerk's variable names where Clerk has them.
//!
//! Reading `CLERK_*` variables happens here and nowhere else: `crate::Verifier::from_env` is
//! the usual entry point; the constants name every variable read, and [`split_list`] is how the
//! comma-separated ones are read. Every other floor takes its configuration as values.

use crate::error::Error;
use crate::options::{AcceptsToken, HandshakeOptions, VerifyOptions};
#[cfg(feature = "remote")]
use crate::remote::JwksSource;
use crate::webhook::Webhook;
use std::time::Duration;

/// `CLERK_JWT_KEY`: the PEM public key for networkless verification (Clerk's name).
pub const ENV_JWT_KEY: &str = "CLERK_JWT_KEY";
/// `CLERK_AUTHORIZED_PARTIES`: comma-separated allowed `azp` origins (a community convention;
/// Clerk's SDKs take `authorizedParties` in code only).
pub const ENV_AUTHORIZED_PARTIES: &str = "CLERK_AUTHORIZED_PARTIES";
/// `CLERK_AUDIENCE`: comma-separated accepted audiences (ours).
pub const ENV_AUDIENCE: &str = "CLERK_AUDIENCE";
/// `CLERK_ISSUER`: required `iss` (ours).
pub const ENV_ISSUER: &str = "CLERK_ISSUER";
/// `CLERK_CLOCK_SKEW_MS`: clock skew in milliseconds (ours; Clerk's option is `clockSkewInMs`).
pub const ENV_CLOCK_SKEW_MS: &str = "CLERK_CLOCK_SKEW_MS";
/// `CLERK_SECRET_KEY`: the secret key (`sk_test_…`/`sk_live_…`) for the Backend API JWKS
/// (Clerk's name).
pub const ENV_SECRET_KEY: &str = "CLERK_SECRET_KEY";
/// `CLERK_API_URL`: the Backend API base URL, default `https://api.clerk.com` (Clerk's name).
pub const ENV_API_URL: &str = "CLERK_API_URL";
/// `CLERK_PUBLISHABLE_KEY`: the publishable key (`pk_test_…`/`pk_live_…`), whose Frontend API
/// serves a public JWKS (Clerk's name).
pub const ENV_PUBLISHABLE_KEY: &str = "CLERK_PUBLISHABLE_KEY";
/// `CLERK_JWKS_URL`: a plain JWKS URL, for proxies and self-hosted issuers (ours).
pub const ENV_JWKS_URL: &str = "CLERK_JWKS_URL";
/// `CLERK_TOKEN_CACHE_SIZE`: the verified-token cache's capacity in tokens (ours); unset means
/// [`VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY`], `0` turns the cache off.
pub const ENV_TOKEN_CACHE_SIZE: &str = "CLERK_TOKEN_CACHE_SIZE";
/// `CLERK_SIGN_IN_URL`: where pages that require sign-in send a signed-out browser (Clerk's).
pub const ENV_SIGN_IN_URL: &str = "CLERK_SIGN_IN_URL";
/// `CLERK_SIGN_UP_URL`: the sign-up page (Clerk's).
pub const ENV_SIGN_UP_URL: &str = "CLERK_SIGN_UP_URL";
/// `CLERK_DOMAIN`: a satellite's domain (Clerk's).
pub const ENV_DOMAIN: &str = "CLERK_DOMAIN";
/// `CLERK_IS_SATELLITE`: `true` or `1` for a satellite app (Clerk's).
pub const ENV_IS_SATELLITE: &str = "CLERK_IS_SATELLITE";
/// `CLERK_WEBHOOK_SIGNING_SECRET`: the `whsec_...` secret from the Clerk Dashboard.
pub const ENV_WEBHOOK_SECRET: &str = "CLERK_WEBHOOK_SIGNING_SECRET";
/// `CLERK_PROXY_URL`: the Frontend API proxy, a URL or a path on the site (Clerk's).
pub const ENV_PROXY_URL: &str = "CLERK_PROXY_URL";
/// `CLERK_SATELLITE_AUTO_SYNC`: `true` or `1` for a satellite that syncs on a first visit
/// (ours; Clerk's option `satelliteAutoSync`).
pub const ENV_SATELLITE_AUTO_SYNC: &str = "CLERK_SATELLITE_AUTO_SYNC";
/// `CLERK_ALLOWED_REDIRECT_ORIGINS`: comma-separated satellite origins a development primary
/// answers sync requests for (ours; Clerk's frontend option `allowedRedirectOrigins`).
pub const ENV_ALLOWED_REDIRECT_ORIGINS: &str = "CLERK_ALLOWED_REDIRECT_ORIGINS";
/// `CLERK_ORGANIZATION_PATTERNS`: comma-separated path patterns naming an organization
/// (ours; Clerk's `organizationSyncOptions.organizationPatterns`).
pub const ENV_ORGANIZATION_PATTERNS: &str = "CLERK_ORGANIZATION_PATTERNS";
/// `CLERK_PERSONAL_ACCOUNT_PATTERNS`: comma-separated path patterns of the personal account
/// (ours; Clerk's `organizationSyncOptions.personalAccountPatterns`).
pub const ENV_PERSONAL_ACCOUNT_PATTERNS: &str = "CLERK_PERSONAL_ACCOUNT_PATTERNS";
/// `CLERK_AFTER_SIGN_IN_URL`: where Clerk's hosted pages go after a sign-in by default (Clerk's
/// `NEXT_PUBLIC_CLERK_AFTER_SIGN_IN_URL`, without the framework prefix).
pub const ENV_AFTER_SIGN_IN_URL: &str = "CLERK_AFTER_SIGN_IN_URL";
/// `CLERK_AFTER_SIGN_UP_URL`: as [`ENV_AFTER_SIGN_IN_URL`], after a sign-up.
pub const ENV_AFTER_SIGN_UP_URL: &str = "CLERK_AFTER_SIGN_UP_URL";
/// `CLERK_ACCEPTS_TOKEN`: the kinds of token the verifier's request methods accept, `any` or a
/// comma-separated list of `session_token`, `api_key`, `m2m_token`, `oauth_token` (Clerk's
/// `acceptsToken` values; the variable is ours). Unset: session tokens only.
pub const ENV_ACCEPTS_TOKEN: &str = "CLERK_ACCEPTS_TOKEN";
/// `CLERK_MACHINE_SECRET_KEY`: the machine secret key, the bearer of M2M tokens' verify calls
/// (Clerk's).
pub const ENV_MACHINE_SECRET_KEY: &str = "CLERK_MACHINE_SECRET_KEY";

impl VerifyOptions {
    /// Options from `CLERK_AUTHORIZED_PARTIES`, `CLERK_AUDIENCE`, `CLERK_ISSUER`,
    /// `CLERK_CLOCK_SKEW_MS`, `CLERK_PUBLISHABLE_KEY` (for the suffixed session cookie, and
    /// with it handshakes for pages, configured by
    /// [`HandshakeOptions::from_lookup`]'s variables),
    /// `CLERK_TOKEN_CACHE_SIZE`, `CLERK_ACCEPTS_TOKEN`, and for machine tokens
    /// ([`VerifyOptions::machine`]) `CLERK_SECRET_KEY`, `CLERK_MACHINE_SECRET_KEY` and
    /// `CLERK_API_URL`; unset variables keep the defaults, except that the verified-token
    /// cache is on, with [`VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY`] tokens, unless
    /// `CLERK_TOKEN_CACHE_SIZE` is `0`.
    pub fn from_env() -> Result<VerifyOptions, Error> {
        VerifyOptions::from_lookup(process)
    }

    /// Like [`VerifyOptions::from_env`], reading variables through `get` (for tests and for
    /// configuration systems other than the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<VerifyOptions, Error> {
        let mut opts =
            VerifyOptions::default().token_cache(VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY);
        if let Some(v) = get(ENV_TOKEN_CACHE_SIZE).filter(|v| !v.trim().is_empty()) {
            let size: usize = v.trim().parse().map_err(|_| {
                Error::config(format!(
                    "{ENV_TOKEN_CACHE_SIZE} must be a whole number of tokens (0 turns the cache off)"
                ))
            })?;
            opts = opts.token_cache(size);
        }
        if let Some(v) = get(ENV_AUTHORIZED_PARTIES) {
            opts = opts.authorized_parties(split_list(&v));
        }
        if let Some(v) = get(ENV_AUDIENCE) {
            opts = opts.audience(split_list(&v));
        }
        if let Some(v) = get(ENV_ISSUER).filter(|v| !v.trim().is_empty()) {
            opts = opts.issuer(v.trim());
        }
        if let Some(v) = get(ENV_CLOCK_SKEW_MS).filter(|v| !v.trim().is_empty()) {
            let ms: u64 = v.trim().parse().map_err(|_| {
                Error::config(format!(
                    "{ENV_CLOCK_SKEW_MS} must be a whole number of milliseconds"
                ))
            })?;
            opts = opts.clock_skew(Duration::from_millis(ms));
        }
        if let Some(v) = get(ENV_ACCEPTS_TOKEN).filter(|v| !v.trim().is_empty()) {
            let accepts = AcceptsToken::parse(&v).map_err(|e| in_variable(ENV_ACCEPTS_TOKEN, e))?;
            opts = opts.accepts_token(accepts);
        }
        let machine_var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        opts.machine.secret_key = machine_var(ENV_SECRET_KEY);
        opts.machine.machine_secret_key = machine_var(ENV_MACHINE_SECRET_KEY);
        opts.machine.api_url = machine_var(ENV_API_URL);
        if let Some(v) = get(ENV_PUBLISHABLE_KEY).filter(|v| !v.trim().is_empty()) {
            opts = opts.publishable_key(v.trim());
            // Handshakes only ever apply to page authentication, so they can be on whenever
            // the Frontend API is known.
            opts = opts.handshake(HandshakeOptions::from_lookup(&get));
        }
        Ok(opts)
    }
}

/// The process environment, as the lookup every `from_lookup` takes.
pub(crate) fn process(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Webhook {
    /// A verifier for `CLERK_WEBHOOK_SIGNING_SECRET`; unset or blank is
    /// `webhook-invalid-secret`, so an app fails at start-up rather than at the first delivery.
    pub fn from_env() -> Result<Webhook, Error> {
        match process(ENV_WEBHOOK_SECRET) {
            Some(secret) if !secret.trim().is_empty() => Webhook::new(&secret),
            _ => Err(Error::WebhookInvalidSecret(
                format!("{ENV_WEBHOOK_SECRET} is not set").into(),
            )),
        }
    }
}

impl HandshakeOptions {
    /// The options from `CLERK_SIGN_IN_URL`, `CLERK_SIGN_UP_URL`, `CLERK_DOMAIN`,
    /// `CLERK_IS_SATELLITE` and `CLERK_SATELLITE_AUTO_SYNC` (`true`/`1`), `CLERK_PROXY_URL`,
    /// `CLERK_SECRET_KEY`, `CLERK_API_URL`, `CLERK_AFTER_SIGN_IN_URL`,
    /// `CLERK_AFTER_SIGN_UP_URL`, and the comma-separated `CLERK_ALLOWED_REDIRECT_ORIGINS`,
    /// `CLERK_ORGANIZATION_PATTERNS` and `CLERK_PERSONAL_ACCOUNT_PATTERNS`, read through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> HandshakeOptions {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let flag =
            |name: &str| get(name).is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
        let list = |name: &str| get(name).map(|v| split_list(&v)).unwrap_or_default();
        HandshakeOptions {
            sign_in_url: get(ENV_SIGN_IN_URL),
            sign_up_url: get(ENV_SIGN_UP_URL),
            domain: get(ENV_DOMAIN),
            is_satellite: flag(ENV_IS_SATELLITE),
            proxy_url: get(ENV_PROXY_URL),
            secret_key: get(ENV_SECRET_KEY),
            api_url: get(ENV_API_URL),
            satellite_auto_sync: flag(ENV_SATELLITE_AUTO_SYNC),
            allowed_redirect_origins: list(ENV_ALLOWED_REDIRECT_ORIGINS),
            organization_patterns: list(ENV_ORGANIZATION_PATTERNS),
            personal_account_patterns: list(ENV_PERSONAL_ACCOUNT_PATTERNS),
            after_sign_in_url: get(ENV_AFTER_SIGN_IN_URL),
            after_sign_up_url: get(ENV_AFTER_SIGN_UP_URL),
            ..HandshakeOptions::default()
        }
    }
}

/// The key source the environment names, not yet built.
pub(crate) enum EnvKeys {
    /// `CLERK_JWT_KEY`: a PEM public key, networkless.
    Pem(String),
    /// A remote JWKS (feature `remote`).
    #[cfg(feature = "remote")]
    Remote(JwksSource),
}

/// The key source the environment names, in Clerk's order (see `crate::Verifier::from_env`):
/// `CLERK_JWT_KEY` first, then the remote sources of [`JwksSource::from_lookup`];
/// `jwk-failed-to-resolve` when none is set.
pub(crate) fn keys(get: &impl Fn(&str) -> Option<String>) -> Result<EnvKeys, Error> {
    if let Some(pem) = get(ENV_JWT_KEY).filter(|v| !v.trim().is_empty()) {
        return Ok(EnvKeys::Pem(pem));
    }
    #[cfg(feature = "remote")]
    {
        match JwksSource::from_lookup(get)? {
            Some(source) => Ok(EnvKeys::Remote(source)),
            None => Err(Error::JwkFailedToResolve),
        }
    }
    #[cfg(not(feature = "remote"))]
    {
        let remote = [ENV_JWKS_URL, ENV_SECRET_KEY, ENV_PUBLISHABLE_KEY];
        if let Some(name) = remote
            .into_iter()
            .find(|name| get(name).is_some_and(|v| !v.trim().is_empty()))
        {
            return Err(Error::config(format!(
                "{name} is set, but clerk-verify was built without the `remote` feature; \
                 set {ENV_JWT_KEY} (networkless) instead"
            )));
        }
        Err(Error::JwkFailedToResolve)
    }
}

#[cfg(feature = "remote")]
impl JwksSource {
    /// The source named by the environment, in this order (the first set, non-empty one wins):
    ///
    /// 1. `CLERK_JWKS_URL`: a plain JWKS URL (our variable; it is the most specific statement,
    ///    so it overrides Clerk's keys when both are set);
    /// 2. `CLERK_SECRET_KEY` (with `CLERK_API_URL` if set): the Backend API, Clerk's default;
    /// 3. `CLERK_PUBLISHABLE_KEY`: the public Frontend API JWKS.
    ///
    /// `Ok(None)` when none is set. `CLERK_JWT_KEY` (networkless, and first in Clerk's order) is
    /// not a remote source: [`crate::Verifier::from_env`] checks it before this.
    pub fn from_env() -> Result<Option<JwksSource>, Error> {
        JwksSource::from_lookup(process)
    }

    /// Like [`JwksSource::from_env`], reading variables through `get`.
    ///
    /// ```
    /// use clerk_verify::remote::JwksSource;
    /// let env = |name: &str| match name {
    ///     "CLERK_SECRET_KEY" => Some("sk_test_abc".to_owned()),
    ///     "CLERK_API_URL" => Some("http://127.0.0.1:9000".to_owned()),
    ///     "CLERK_PUBLISHABLE_KEY" => Some("pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk".to_owned()),
    ///     _ => None,
    /// };
    /// let source = JwksSource::from_lookup(env)?.unwrap();
    /// assert_eq!(source.jwks_url(), "http://127.0.0.1:9000/v1/jwks");
    /// # Ok::<(), clerk_verify::Error>(())
    /// ```
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<JwksSource>, Error> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if let Some(url) = var(ENV_JWKS_URL) {
            return JwksSource::url(&url)
                .map(Some)
                .map_err(|e| in_variable(ENV_JWKS_URL, e));
        }
        if let Some(sk) = var(ENV_SECRET_KEY) {
            let api_url = var(ENV_API_URL);
            return JwksSource::secret_key(&sk, api_url.as_deref())
                .map(Some)
                .map_err(|e| in_variable(ENV_SECRET_KEY, e));
        }
        if let Some(pk) = var(ENV_PUBLISHABLE_KEY) {
            return JwksSource::publishable_key(&pk)
                .map(Some)
                .map_err(|e| in_variable(ENV_PUBLISHABLE_KEY, e));
        }
        Ok(None)
    }
}

/// Prefixes a configuration error with the variable it came from.
fn in_variable(name: &str, e: Error) -> Error {
    match e {
        Error::ConfigInvalid(why) => Error::config(format!("{name}: {why}")),
        other => other,
    }
}

/// Splits a comma-separated list, trimming entries and dropping empty ones.
pub fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
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
            ("CLERK_SATELLITE_AUTO_SYNC", "1"),
            (
                "CLERK_ALLOWED_REDIRECT_ORIGINS",
                "https://a.example, https://b.example",
            ),
            (
                "CLERK_ORGANIZATION_PATTERNS",
                "/orgs/:slug,/orgs/:slug/(.*)",
            ),
            ("CLERK_PERSONAL_ACCOUNT_PATTERNS", "/me"),
            ("CLERK_AFTER_SIGN_IN_URL", "/welcome"),
            ("CLERK_AFTER_SIGN_UP_URL", "https://app.example/onboarding"),
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
        assert!(o.satellite_auto_sync);
        assert_eq!(
            o.allowed_redirect_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(o.organization_patterns, ["/orgs/:slug", "/orgs/:slug/(.*)"]);
        assert_eq!(o.personal_account_patterns, ["/me"]);
        assert_eq!(o.after_sign_in_url.as_deref(), Some("/welcome"));
        assert_eq!(
            o.after_sign_up_url.as_deref(),
            Some("https://app.example/onboarding")
        );
        assert!(!HandshakeOptions::from_lookup(|_| None).satellite_auto_sync);
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
    fn options_from_lookup() {
        let get = |k: &str| match k {
            ENV_AUTHORIZED_PARTIES => Some(" https://a ,,https://b ".to_owned()),
            ENV_CLOCK_SKEW_MS => Some("0".to_owned()),
            ENV_AUDIENCE => Some("api".to_owned()),
            _ => None,
        };
        let o = VerifyOptions::from_lookup(get).unwrap();
        assert_eq!(o.authorized_parties, ["https://a", "https://b"]);
        assert_eq!(o.clock_skew, Duration::ZERO);
        assert_eq!(o.audience, ["api"]);
        assert!(o.issuer.is_none());
        assert_eq!(o.token_cache, VerifyOptions::DEFAULT_TOKEN_CACHE_CAPACITY);
        assert_eq!(o.accepts_token, AcceptsToken::SESSION_TOKEN);
        assert_eq!(o.machine.secret_key, None);
    }

    #[test]
    fn machine_options_from_lookup() {
        let get = |k: &str| match k {
            ENV_ACCEPTS_TOKEN => Some(" api_key, m2m_token ".to_owned()),
            ENV_SECRET_KEY => Some(" sk_test_x ".to_owned()),
            ENV_MACHINE_SECRET_KEY => Some("ak_machine".to_owned()),
            ENV_API_URL => Some("http://127.0.0.1:9".to_owned()),
            _ => None,
        };
        let o = VerifyOptions::from_lookup(get).unwrap();
        assert_eq!(o.accepts_token.to_string(), "api_key,m2m_token");
        assert_eq!(o.machine.secret_key.as_deref(), Some("sk_test_x"));
        assert_eq!(o.machine.machine_secret_key.as_deref(), Some("ak_machine"));
        assert_eq!(o.machine.api_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(o.machine.result_cache_capacity, 0, "off unless asked");
        let bad =
            VerifyOptions::from_lookup(|k| (k == ENV_ACCEPTS_TOKEN).then(|| "cookies".into()));
        let e = bad.unwrap_err();
        assert_eq!(e.reason(), "config-invalid");
        assert!(e.to_string().contains("CLERK_ACCEPTS_TOKEN"), "{e}");
        let any = VerifyOptions::from_lookup(|k| (k == ENV_ACCEPTS_TOKEN).then(|| "any".into()));
        assert_eq!(any.unwrap().accepts_token, AcceptsToken::ANY);
    }

    #[test]
    fn bad_skew_and_missing_key() {
        let bad = VerifyOptions::from_lookup(|k| (k == ENV_CLOCK_SKEW_MS).then(|| "5s".to_owned()));
        assert_eq!(bad.unwrap_err().reason(), "config-invalid");
        let size = |v: &'static str| {
            VerifyOptions::from_lookup(move |k| (k == ENV_TOKEN_CACHE_SIZE).then(|| v.to_owned()))
        };
        assert_eq!(size("0").unwrap().token_cache, 0);
        assert_eq!(size(" 250 ").unwrap().token_cache, 250);
        assert_eq!(size("lots").unwrap_err().reason(), "config-invalid");
        let none = keys(&|_: &str| None).err().map(|e| e.reason());
        assert_eq!(none, Some("jwk-failed-to-resolve"));
    }

    #[test]
    fn key_sources_from_lookup() {
        let sk = |k: &str| (k == ENV_SECRET_KEY).then(|| "sk_test_abc".to_owned());
        let result = keys(&sk);
        #[cfg(feature = "remote")]
        assert!(result.is_ok(), "building does no I/O");
        #[cfg(not(feature = "remote"))]
        assert!(result.err().unwrap().to_string().contains("remote"));
        // Blank values count as unset.
        let blank = |k: &str| (k != ENV_JWT_KEY).then(|| " ".to_owned());
        let none = keys(&blank).err().map(|e| e.reason());
        assert_eq!(none, Some("jwk-failed-to-resolve"));
        let pem = |k: &str| (k == ENV_JWT_KEY).then(|| "-----BEGIN PUBLIC KEY-----".to_owned());
        assert!(matches!(keys(&pem), Ok(EnvKeys::Pem(_))));
    }

    #[cfg(feature = "remote")]
    #[test]
    fn env_order() {
        let lookup = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let all: &[(&str, &str)] = &[
            (ENV_JWKS_URL, "https://keys.example.com/jwks.json"),
            (ENV_SECRET_KEY, "sk_test_x"),
            (ENV_API_URL, "https://api.example.com"),
            (
                ENV_PUBLISHABLE_KEY,
                "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk",
            ),
        ];
        let got = |vars| {
            JwksSource::from_lookup(lookup(vars))
                .unwrap()
                .unwrap()
                .jwks_url()
        };
        assert_eq!(got(all), "https://keys.example.com/jwks.json");
        assert_eq!(got(&all[1..]), "https://api.example.com/v1/jwks");
        assert_eq!(
            got(&all[3..]),
            "https://fond-koala-12.clerk.accounts.dev/.well-known/jwks.json"
        );
        // Empty values count as unset.
        let blank: &[(&str, &str)] = &[
            (ENV_JWKS_URL, " "),
            (ENV_SECRET_KEY, ""),
            (
                ENV_PUBLISHABLE_KEY,
                "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk",
            ),
        ];
        assert_eq!(got(blank), got(&all[3..]));
        assert!(JwksSource::from_lookup(|_| None).unwrap().is_none());
        let bad =
            JwksSource::from_lookup(|n| (n == ENV_PUBLISHABLE_KEY).then(|| "pk_test_bad".into()));
        assert!(bad
            .unwrap_err()
            .to_string()
            .starts_with("invalid configuration: CLERK_PUBLISHABLE_KEY: "));
    }
}
