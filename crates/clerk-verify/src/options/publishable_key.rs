//! Clerk publishable keys (`pk_test_…` / `pk_live_…`): the Frontend API host they encode and the
//! kind of instance. (The cookie suffix Clerk derives from them is a cookie rule:
//! `crate::request::cookie_suffix`.)

use crate::error::Error;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use std::fmt;
use std::str::FromStr;

/// Prefix of a production instance's publishable key.
const LIVE_PREFIX: &str = "pk_live_";
/// Prefix of a development instance's publishable key.
const TEST_PREFIX: &str = "pk_test_";
/// Longest publishable key accepted (real ones are well under 100 bytes).
const MAX_LEN: usize = 512;

/// The publishable key's payload is standard base64 (JS `atob`); Clerk's current builder strips
/// the `=` padding while older keys keep it, so padding is optional.
const PK_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A parsed Clerk publishable key: `pk_test_` or `pk_live_` followed by base64 of
/// `<frontend api host>$`.
///
/// Parsing follows Clerk's `parsePublishableKey` (one of the two prefixes, exactly three
/// `_`-separated parts, a payload that decodes to text ending in its only `$` and containing a
/// `.`), and also requires the host to be a plain host name (optionally with a port), since it
/// becomes part of a URL. A publishable key is public (it is shipped to browsers), so it may
/// appear in `Debug` output.
///
/// ```
/// use clerk_verify::options::PublishableKey;
///
/// let pk: PublishableKey = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk".parse()?;
/// assert_eq!(pk.frontend_api_host(), "fond-koala-12.clerk.accounts.dev");
/// assert_eq!(pk.frontend_api_url(), "https://fond-koala-12.clerk.accounts.dev");
/// assert_eq!(pk.jwks_url(), "https://fond-koala-12.clerk.accounts.dev/.well-known/jwks.json");
/// assert!(!pk.is_production());
/// # Ok::<(), clerk_verify::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublishableKey {
    key: String,
    host: String,
    live: bool,
}

impl PublishableKey {
    /// Parses and checks a publishable key (surrounding whitespace is ignored). A malformed key
    /// is `config-invalid`, with a message naming the problem.
    pub fn parse(key: &str) -> Result<PublishableKey, Error> {
        let key = key.trim();
        if key.is_empty() {
            return Err(Error::config("the publishable key is empty"));
        }
        if key.len() > MAX_LEN {
            return Err(Error::config("the publishable key is too long"));
        }
        let live = if key.starts_with(LIVE_PREFIX) {
            true
        } else if key.starts_with(TEST_PREFIX) {
            false
        } else if key.starts_with("sk_") {
            return Err(Error::config(
                "a secret key (sk_...) was given where the publishable key (pk_test_... or \
                 pk_live_...) belongs; keep the secret key on the server",
            ));
        } else {
            return Err(Error::config(
                "the publishable key must start with pk_test_ or pk_live_",
            ));
        };
        let mut parts = key.split('_');
        let payload = match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(_), Some(_), Some(payload), None) => payload,
            _ => {
                return Err(Error::config(
                    "the publishable key must have exactly three parts separated by '_' \
                     (pk_test_<base64> or pk_live_<base64>)",
                ))
            }
        };
        let decoded = PK_B64
            .decode(payload)
            .map_err(|_| Error::config("the publishable key's payload is not valid base64"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| Error::config("the publishable key's payload is not UTF-8 text"))?;
        let host = text.strip_suffix('$').ok_or_else(|| {
            Error::config(
                "the publishable key does not encode a Frontend API host (the decoded text must \
                 end with '$')",
            )
        })?;
        if host.contains('$') {
            return Err(Error::config(
                "the publishable key's decoded payload contains more than one '$'",
            ));
        }
        if !host.contains('.') {
            return Err(Error::config(
                "the publishable key's Frontend API host has no '.'",
            ));
        }
        if !is_host_and_port(host) {
            return Err(Error::config(
                "the publishable key's Frontend API host is not a valid host name",
            ));
        }
        Ok(PublishableKey {
            key: key.to_owned(),
            host: host.to_owned(),
            live,
        })
    }

    /// The key as given (trimmed).
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// The Frontend API host, e.g. `clerk.example.com` or `fond-koala-12.clerk.accounts.dev`.
    pub fn frontend_api_host(&self) -> &str {
        &self.host
    }

    /// The Frontend API URL, `https://<host>`: the `iss` of this instance's session tokens.
    pub fn frontend_api_url(&self) -> String {
        format!("https://{}", self.host)
    }

    /// The instance's public JWKS, `https://<host>/.well-known/jwks.json`.
    pub fn jwks_url(&self) -> String {
        format!("https://{}/.well-known/jwks.json", self.host)
    }

    /// Whether this is a production key (`pk_live_`); otherwise development (`pk_test_`).
    pub fn is_production(&self) -> bool {
        self.live
    }
}

impl FromStr for PublishableKey {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PublishableKey::parse(s)
    }
}

impl fmt::Debug for PublishableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublishableKey")
            .field("frontend_api_host", &self.host)
            .field("production", &self.live)
            .finish()
    }
}

impl fmt::Display for PublishableKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// `host` or `host:port` with a DNS-style host name (letters, digits, `-`, `.`, no empty label).
fn is_host_and_port(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";

    fn pk_for(prefix: &str, text: &str, pad: bool) -> String {
        let b64 = base64::engine::general_purpose::STANDARD.encode(text);
        let b64 = if pad {
            b64
        } else {
            b64.trim_end_matches('=').to_owned()
        };
        format!("{prefix}{b64}")
    }

    fn reason_text(key: &str) -> String {
        PublishableKey::parse(key).unwrap_err().to_string()
    }

    #[test]
    fn example_from_the_facts() {
        let pk = PublishableKey::parse(EXAMPLE).unwrap();
        assert_eq!(pk.frontend_api_host(), "fond-koala-12.clerk.accounts.dev");
        assert!(!pk.is_production());
        assert_eq!(pk.as_str(), EXAMPLE);
        assert_eq!(pk.to_string(), EXAMPLE);
        assert!(format!("{pk:?}").contains("fond-koala-12"));
    }

    #[test]
    fn live_keys_and_padding_both_ways() {
        for pad in [true, false] {
            // "clerk.example.io$" is 17 bytes: base64 needs padding.
            let key = pk_for("pk_live_", "clerk.example.io$", pad);
            assert_eq!(key.ends_with('='), pad);
            let pk = PublishableKey::parse(&key).unwrap();
            assert!(pk.is_production());
            assert_eq!(pk.frontend_api_url(), "https://clerk.example.io");
            assert_eq!(
                pk.jwks_url(),
                "https://clerk.example.io/.well-known/jwks.json"
            );
        }
        let with_port = pk_for("pk_test_", "clerk.example.com:8443$", false);
        assert_eq!(
            PublishableKey::parse(&with_port)
                .unwrap()
                .frontend_api_host(),
            "clerk.example.com:8443"
        );
        // Surrounding whitespace (copy-paste, env files) is ignored.
        assert!(PublishableKey::parse(&format!(" {EXAMPLE}\n")).is_ok());
    }

    #[test]
    fn malformed_keys_name_the_problem() {
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            (
                "pk_prod_Zm9v".into(),
                "must start with pk_test_ or pk_live_",
            ),
            ("sk_test_abc".into(), "secret key"),
            (format!("{EXAMPLE}_x"), "exactly three parts"),
            ("pk_test_!!!".into(), "not valid base64"),
            ("pk_test_".into(), "end with '$'"),
            (
                pk_for("pk_test_", "clerk.example.com", true),
                "end with '$'",
            ),
            (
                pk_for("pk_test_", "clerk.exa$mple.com$", true),
                "more than one '$'",
            ),
            (pk_for("pk_test_", "localhost$", true), "no '.'"),
            (
                pk_for("pk_test_", "evil.com/path$", true),
                "not a valid host name",
            ),
            (
                pk_for("pk_test_", "user@evil.com$", true),
                "not a valid host name",
            ),
            (pk_for("pk_test_", "a..b$", true), "not a valid host name"),
            ("pk_test_".to_owned() + &"A".repeat(600), "too long"),
        ];
        for (key, want) in cases {
            let err = PublishableKey::parse(&key).unwrap_err();
            assert_eq!(err.reason(), "config-invalid", "{key}");
            assert!(reason_text(&key).contains(want), "{key}: {err}");
        }
        // Invalid UTF-8 inside the base64.
        let bad = format!(
            "pk_test_{}",
            base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, b'$'])
        );
        assert!(reason_text(&bad).contains("UTF-8"));
    }
}
