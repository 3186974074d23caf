//! Configuration from the environment, with Clerk's variable names where Clerk has them.

use crate::error::Error;
use crate::options::VerifyOptions;
use crate::verify::Verifier;
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

impl VerifyOptions {
    /// Options from `CLERK_AUTHORIZED_PARTIES`, `CLERK_AUDIENCE`, `CLERK_ISSUER` and
    /// `CLERK_CLOCK_SKEW_MS`; unset variables keep the defaults.
    pub fn from_env() -> Result<VerifyOptions, Error> {
        VerifyOptions::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`VerifyOptions::from_env`], reading variables through `get` (for tests and for
    /// configuration systems other than the process environment).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<VerifyOptions, Error> {
        let mut opts = VerifyOptions::default();
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
                Error::config(format!("{ENV_CLOCK_SKEW_MS} must be a whole number of milliseconds"))
            })?;
            opts = opts.clock_skew(Duration::from_millis(ms));
        }
        Ok(opts)
    }
}

impl Verifier {
    /// A verifier configured from the environment: the key from `CLERK_JWT_KEY` and the options
    /// from [`VerifyOptions::from_env`].
    ///
    /// Fails with `jwk-failed-to-resolve` when no key source is set.
    pub fn from_env() -> Result<Verifier, Error> {
        Verifier::from_lookup(|name| std::env::var(name).ok())
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
        let opts = VerifyOptions::from_lookup(&get)?;
        match get(ENV_JWT_KEY).filter(|v| !v.trim().is_empty()) {
            Some(pem) => Verifier::from_pem(&pem, opts),
            None => Err(Error::JwkFailedToResolve),
        }
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
    }

    #[test]
    fn bad_skew_and_missing_key() {
        let bad = VerifyOptions::from_lookup(|k| (k == ENV_CLOCK_SKEW_MS).then(|| "5s".to_owned()));
        assert_eq!(bad.unwrap_err().reason(), "config-invalid");
        let none = Verifier::from_lookup(|_| None).unwrap_err();
        assert_eq!(none.reason(), "jwk-failed-to-resolve");
    }
}
