//! Where a remote JWKS comes from ([`JwksSource`]), the secret key that may authenticate it, and
//! the URL rules (https only, except loopback hosts).

use crate::error::Error;
use crate::host::{host_of, is_loopback};
use crate::options::PublishableKey;
use std::fmt;

/// Clerk's Backend API (`CLERK_API_URL` default).
pub const DEFAULT_API_URL: &str = "https://api.clerk.com";
/// Path of the JWKS on the Backend API (API version `v1`).
const BACKEND_JWKS_PATH: &str = "/v1/jwks";
/// Path of the public JWKS on a Frontend API (or a Clerk proxy URL).
const FRONTEND_JWKS_PATH: &str = "/.well-known/jwks.json";
/// Longest URL accepted.
const MAX_URL_LEN: usize = 2048;
/// Longest secret key accepted.
const MAX_SECRET_KEY_LEN: usize = 1024;

/// A Clerk secret key (`sk_test_…` / `sk_live_…`), sent only as `Authorization: Bearer` to the
/// Backend API. Its `Debug` output is redacted and it has no `Display`, so it cannot end up in a
/// log by accident.
///
/// ```
/// let sk = clerk_verify::remote::SecretKey::new("sk_test_abc123")?;
/// assert_eq!(format!("{sk:?}"), "SecretKey([redacted])");
/// assert!(!sk.is_production());
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Checks the key's shape (surrounding whitespace is ignored): not empty, printable ASCII
    /// without spaces, and not obviously another kind of key (a `pk_` publishable key or a PEM).
    /// The rest is opaque, as in Clerk's SDKs; the Backend API is the judge (`secret-key-invalid`).
    pub fn new(secret_key: &str) -> Result<SecretKey, Error> {
        let sk = secret_key.trim();
        if sk.is_empty() {
            return Err(Error::config("the secret key is empty"));
        }
        if sk.starts_with("pk_") {
            return Err(Error::config(
                "a publishable key (pk_...) was given where the secret key (sk_test_... or \
                 sk_live_...) belongs",
            ));
        }
        if sk.starts_with("-----BEGIN") {
            return Err(Error::config(
                "a PEM key was given where the secret key belongs; pass the PEM as the JWT key \
                 (CLERK_JWT_KEY) instead",
            ));
        }
        if sk.len() > MAX_SECRET_KEY_LEN {
            return Err(Error::config("the secret key is too long"));
        }
        if !sk.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::config(
                "the secret key contains spaces, control or non-ASCII characters",
            ));
        }
        Ok(SecretKey(sk.to_owned()))
    }

    /// Whether this is a production key (`sk_live_`, or the legacy `live_`).
    pub fn is_production(&self) -> bool {
        self.0.starts_with("sk_live_") || self.0.starts_with("live_")
    }

    /// The key itself, for the `Authorization` header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// Where a remote JWKS is fetched from.
///
/// Build one with the constructors (which check and normalise their input) or from the
/// environment with [`JwksSource::from_env`]; [`RemoteKeys::new`](crate::remote::RemoteKeys::new)
/// checks it again.
/// URLs must be `https://`; plain `http://` is allowed only for loopback hosts (`127.0.0.0/8`,
/// `[::1]`, `localhost`), for tests and local proxies.
///
/// ```
/// use clerk_verify::remote::JwksSource;
///
/// let fapi = JwksSource::frontend_api("clerk.example.com")?;
/// assert_eq!(fapi.jwks_url(), "https://clerk.example.com/.well-known/jwks.json");
///
/// let pk = JwksSource::publishable_key("pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk")?;
/// assert_eq!(pk.jwks_url(), "https://fond-koala-12.clerk.accounts.dev/.well-known/jwks.json");
///
/// let bapi = JwksSource::secret_key("sk_test_abc123", None)?;
/// assert_eq!(bapi.jwks_url(), "https://api.clerk.com/v1/jwks");
///
/// assert!(JwksSource::url("http://keys.example.com/jwks.json").is_err()); // https only
/// assert!(JwksSource::url("http://127.0.0.1:8080/jwks.json").is_ok()); // except loopback
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum JwksSource {
    /// A Frontend API (or a Clerk proxy URL): `GET <url>/.well-known/jwks.json`, no
    /// authentication. `url` is the base, e.g. `https://clerk.example.com`, without a trailing
    /// slash.
    FrontendApi {
        /// The Frontend API base URL.
        url: String,
    },
    /// Clerk's Backend API: `GET <api_url>/v1/jwks` with `Authorization: Bearer <secret key>`.
    /// A 401/403 answer is `secret-key-invalid`.
    BackendApi {
        /// The Backend API base URL, [`DEFAULT_API_URL`] unless overridden (`CLERK_API_URL`).
        api_url: String,
        /// The instance's secret key.
        secret_key: SecretKey,
    },
    /// Any JWKS URL (a proxy, a self-hosted issuer), fetched without authentication.
    Url(String),
}

impl JwksSource {
    /// A Frontend API URL such as `https://clerk.example.com` or
    /// `https://fond-koala-12.clerk.accounts.dev` (a bare host gets `https://`). A Clerk proxy
    /// URL with a path (`https://example.com/__clerk`) works too.
    pub fn frontend_api(url: &str) -> Result<JwksSource, Error> {
        let url = url.trim();
        let url = if url.contains("://") {
            url.to_owned()
        } else {
            format!("https://{url}")
        };
        let url = url.trim_end_matches('/').to_owned();
        check_url(&url, "the Frontend API URL")?;
        if url.contains(['?', '#']) {
            return Err(Error::config(
                "the Frontend API URL must not contain a query or a fragment",
            ));
        }
        Ok(JwksSource::FrontendApi { url })
    }

    /// The Frontend API encoded in a publishable key (`pk_test_…` / `pk_live_…`); a malformed
    /// key is `config-invalid` with a message naming the problem. See [`PublishableKey`].
    pub fn publishable_key(publishable_key: &str) -> Result<JwksSource, Error> {
        let pk = PublishableKey::parse(publishable_key)?;
        JwksSource::frontend_api(&pk.frontend_api_url())
    }

    /// Clerk's Backend API with a secret key; `api_url` defaults to [`DEFAULT_API_URL`].
    pub fn secret_key(secret_key: &str, api_url: Option<&str>) -> Result<JwksSource, Error> {
        let secret_key = SecretKey::new(secret_key)?;
        let api_url = api_url
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(DEFAULT_API_URL)
            .trim_end_matches('/')
            .to_owned();
        check_url(&api_url, "the Backend API URL")?;
        if api_url.contains(['?', '#']) {
            return Err(Error::config(
                "the Backend API URL must not contain a query or a fragment",
            ));
        }
        Ok(JwksSource::BackendApi {
            api_url,
            secret_key,
        })
    }

    /// A plain JWKS URL, used as given (`https://`, or `http://` on a loopback host).
    pub fn url(jwks_url: &str) -> Result<JwksSource, Error> {
        let url = jwks_url.trim().to_owned();
        check_url(&url, "the JWKS URL")?;
        Ok(JwksSource::Url(url))
    }

    /// The URL the JWKS is fetched from.
    pub fn jwks_url(&self) -> String {
        match self {
            JwksSource::FrontendApi { url } => format!("{url}{FRONTEND_JWKS_PATH}"),
            JwksSource::BackendApi { api_url, .. } => format!("{api_url}{BACKEND_JWKS_PATH}"),
            JwksSource::Url(url) => url.clone(),
        }
    }

    /// The secret key sent with the request, if any.
    pub(crate) fn bearer(&self) -> Option<&SecretKey> {
        match self {
            JwksSource::BackendApi { secret_key, .. } => Some(secret_key),
            _ => None,
        }
    }
}

/// A URL that passed [`check_url`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CheckedUrl {
    /// Plain `http://` (allowed only because the host is loopback).
    pub(crate) insecure: bool,
    /// The host is loopback (`127.0.0.0/8`, `::1`, `localhost`): never sent through a proxy.
    pub(crate) loopback: bool,
}

/// Checks that `url` is an absolute `https://` URL (or `http://` to a loopback host) with a host
/// and no credentials. `what` names it in errors ("the JWKS URL").
pub(crate) fn check_url(url: &str, what: &str) -> Result<CheckedUrl, Error> {
    if url.is_empty() {
        return Err(Error::config(format!("{what} is empty")));
    }
    if url.len() > MAX_URL_LEN {
        return Err(Error::config(format!("{what} is too long")));
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::config(format!(
            "{what} contains spaces, control or non-ASCII characters"
        )));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(Error::config(format!("{what} must start with https://")));
    };
    let insecure = if scheme.eq_ignore_ascii_case("https") {
        false
    } else if scheme.eq_ignore_ascii_case("http") {
        true
    } else {
        return Err(Error::config(format!("{what} must start with https://")));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(Error::config(format!(
            "{what} must not contain credentials (user:password@)"
        )));
    }
    let host =
        host_of(authority).ok_or_else(|| Error::config(format!("{what} has no valid host")))?;
    let loopback = is_loopback(host);
    if insecure && !loopback {
        return Err(Error::config(format!(
            "{what} must use https:// (plain http:// is allowed only for loopback hosts: \
             127.0.0.0/8, [::1], localhost)"
        )));
    }
    if ureq::http::Uri::try_from(url).is_err() {
        return Err(Error::config(format!("{what} is not a valid URL")));
    }
    Ok(CheckedUrl { insecure, loopback })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<impl fmt::Debug, Error>) -> String {
        let e = r.unwrap_err();
        assert_eq!(e.reason(), "config-invalid");
        e.to_string()
    }

    #[test]
    fn url_rules() {
        let https = check_url("https://clerk.example.com/.well-known/jwks.json", "u").unwrap();
        assert!(!https.insecure && !https.loopback);
        for ok in [
            "http://127.0.0.1:1234/jwks",
            "http://127.8.9.10/jwks",
            "http://[::1]:80/x",
            "http://localhost:3000",
            "HTTP://LOCALHOST./x",
        ] {
            let c = check_url(ok, "u").unwrap();
            assert!(c.insecure && c.loopback, "{ok}");
        }
        assert!(check_url("https://[::1]/x", "u").unwrap().loopback);
        for (bad, want) in [
            ("", "empty"),
            ("clerk.example.com/jwks", "must start with https://"),
            ("ftp://clerk.example.com/", "must start with https://"),
            ("http://clerk.example.com/jwks", "must use https://"),
            ("http://10.0.0.1/jwks", "must use https://"),
            ("http://128.0.0.1/jwks", "must use https://"),
            ("http://localhost.evil.com/", "must use https://"),
            ("https://user:pw@clerk.example.com/", "credentials"),
            ("http://user@127.0.0.1/", "credentials"),
            ("https:///jwks", "no valid host"),
            ("https://host:99999/", "no valid host"),
            ("https://[zz]/", "no valid host"),
            ("https://exa mple.com/", "spaces"),
            ("https://ex\u{e4}mple.com/", "non-ASCII"),
        ] {
            let e = err(check_url(bad, "the JWKS URL"));
            assert!(e.contains(want), "{bad}: {e}");
            assert!(e.contains("the JWKS URL"), "{e}");
        }
    }

    #[test]
    fn sources_normalise() {
        let s = JwksSource::frontend_api(" https://clerk.example.com/ ").unwrap();
        assert_eq!(
            s.jwks_url(),
            "https://clerk.example.com/.well-known/jwks.json"
        );
        let s = JwksSource::frontend_api("https://example.com/__clerk").unwrap();
        assert_eq!(
            s.jwks_url(),
            "https://example.com/__clerk/.well-known/jwks.json"
        );
        let s = JwksSource::frontend_api("http://127.0.0.1:4000").unwrap();
        assert_eq!(s.jwks_url(), "http://127.0.0.1:4000/.well-known/jwks.json");
        assert!(err(JwksSource::frontend_api("https://c.example.com?x=1")).contains("query"));
        let s = JwksSource::secret_key("sk_live_x", Some("https://api.example.com/")).unwrap();
        assert_eq!(s.jwks_url(), "https://api.example.com/v1/jwks");
        assert!(s.bearer().unwrap().is_production());
        assert_eq!(
            JwksSource::secret_key("sk_test_x", Some("  "))
                .unwrap()
                .jwks_url(),
            "https://api.clerk.com/v1/jwks"
        );
        assert!(err(JwksSource::secret_key(
            "sk_test_x",
            Some("http://api.example.com")
        ))
        .contains("the Backend API URL must use https://"));
        let s = JwksSource::url("https://keys.example.com/jwks.json?v=1").unwrap();
        assert_eq!(s.jwks_url(), "https://keys.example.com/jwks.json?v=1");
        assert!(s.bearer().is_none());
    }

    #[test]
    fn secret_keys_are_checked_and_never_shown() {
        assert!(err(SecretKey::new(" ")).contains("empty"));
        assert!(err(SecretKey::new("pk_test_abc")).contains("publishable key"));
        assert!(err(SecretKey::new("-----BEGIN PUBLIC KEY-----")).contains("PEM"));
        assert!(err(SecretKey::new("sk_test_a b")).contains("spaces"));
        assert!(err(SecretKey::new(&"x".repeat(2000))).contains("too long"));
        let sk = SecretKey::new(" sk_test_SECRETVALUE\n").unwrap();
        assert_eq!(sk.expose(), "sk_test_SECRETVALUE");
        assert!(SecretKey::new("live_abc").unwrap().is_production());
        let source = JwksSource::secret_key("sk_test_SECRETVALUE", None).unwrap();
        let shown = format!("{source:?} {source:#?}");
        assert!(!shown.contains("SECRETVALUE"), "{shown}");
    }
}
