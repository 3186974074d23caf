//! The flag groups several commands share (`verify`, `inspect`, `serve`): where the keys come
//! from, how remote keys are fetched, what a token must satisfy. A leaf: the commands' own
//! argument structs build on it.

use clap::Args;
use clerk_verify::options::AcceptsToken;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where the verification keys come from (one of these, else the environment).
#[derive(Debug, Clone, Args)]
#[group(id = "key", multiple = false)]
pub struct KeySource {
    /// A JWKS: a file, or an https:// (or loopback http://) URL fetched once and cached.
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// A PEM public key file (SPKI or PKCS #1), e.g. the Dashboard's "JWT public key".
    #[arg(long, value_name = "FILE")]
    pub pem: Option<PathBuf>,
    /// A file whose bytes are an HS256 secret (one trailing newline is dropped).
    #[arg(long, value_name = "FILE")]
    pub hs256_secret_file: Option<PathBuf>,
    /// A publishable key (pk_test_…/pk_live_…): its Frontend API's public JWKS.
    #[arg(long, value_name = "PK")]
    pub publishable_key: Option<String>,
    /// A secret key (sk_test_…/sk_live_…): Clerk's Backend API JWKS. Visible in `ps`: prefer
    /// --secret-key-file or CLERK_SECRET_KEY.
    #[arg(long, value_name = "SK")]
    pub secret_key: Option<String>,
    /// A file holding the secret key (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE")]
    pub secret_key_file: Option<PathBuf>,
}

/// How remote keys are fetched.
#[derive(Debug, Clone, Args)]
pub struct Fetching {
    /// The Backend API base URL for a secret key [default: CLERK_API_URL, else
    /// https://api.clerk.com].
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Bound on one JWKS fetch or Backend API call (connect, each read, and the whole request).
    #[arg(long, value_name = "N", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub fetch_timeout_ms: u64,
}

/// Which kinds of token are accepted, and the machine secret key for M2M tokens (the secret
/// key and the API URL are the key source's and the fetching group's flags).
#[derive(Debug, Clone, Args)]
pub struct Machines {
    /// The kinds of token accepted: session_token, api_key, m2m_token, oauth_token, a
    /// comma-separated list of them, or any [default: session_token]. Opaque machine tokens
    /// (ak_…, mt_…, oat_…) are verified by Clerk's Backend API with the secret key
    /// (--secret-key, --secret-key-file or CLERK_SECRET_KEY) at --api-url (else CLERK_API_URL);
    /// their JWT forms locally.
    // No clap default: `serve` falls back to CLERK_ACCEPTS_TOKEN when the flag is absent,
    // `verify` to session tokens alone (a shell's variables never change what it accepts).
    #[arg(long, value_name = "LIST", value_parser = accepts_token)]
    pub accepts_token: Option<AcceptsToken>,
    /// A file holding the machine secret key, the bearer of M2M tokens' verify calls (else
    /// CLERK_MACHINE_SECRET_KEY; without either, the secret key).
    #[arg(long, value_name = "FILE")]
    pub machine_secret_key_file: Option<PathBuf>,
}

/// `--accepts-token`'s values, Clerk's names.
pub(crate) fn accepts_token(v: &str) -> Result<AcceptsToken, String> {
    AcceptsToken::parse(v).map_err(|e| e.to_string())
}

/// What a token must satisfy beyond its signature.
#[derive(Debug, Clone, Args)]
pub struct Rules {
    /// An allowed `azp` origin; repeat it, or give a comma-separated list.
    #[arg(long = "authorized-party", value_name = "URL")]
    pub authorized_parties: Vec<String>,
    /// An accepted audience; repeat it for several.
    #[arg(long, value_name = "AUD")]
    pub audience: Vec<String>,
    /// The required `iss` (your Frontend API URL).
    #[arg(long, value_name = "ISS")]
    pub issuer: Option<String>,
    /// Tolerance for exp, nbf and iat.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    pub clock_skew_ms: u64,
    /// Judge the times as of this instant instead of the clock.
    #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true, value_parser = unix_seconds)]
    pub now: Option<SystemTime>,
}

/// Unix seconds, possibly fractional or negative.
pub(crate) fn unix_seconds(v: &str) -> Result<SystemTime, String> {
    let bad = || format!("takes Unix seconds, not {v:?}");
    let secs: f64 = v.parse().map_err(|_| bad())?;
    if !secs.is_finite() || secs.abs() > 1e15 {
        return Err(bad());
    }
    let d = Duration::from_secs_f64(secs.abs());
    Ok(if secs >= 0.0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_parsing() {
        assert_eq!(
            unix_seconds("1700000000").unwrap(),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert_eq!(
            unix_seconds("-1.5").unwrap(),
            UNIX_EPOCH - Duration::from_millis(1500)
        );
        assert!(unix_seconds("soon").is_err());
        assert!(unix_seconds("inf").is_err());
    }

    #[test]
    fn accepted_kinds() {
        assert_eq!(accepts_token("any").unwrap(), AcceptsToken::ANY);
        assert_eq!(
            accepts_token("api_key,m2m_token").unwrap().to_string(),
            "api_key,m2m_token"
        );
        assert!(accepts_token("cookie").is_err());
        assert!(accepts_token("").is_err());
    }
}
