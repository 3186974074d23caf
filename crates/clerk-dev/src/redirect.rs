//! Where the dev issuer may send a browser: loopback origins, and origins its operator named.
//!
//! Its handshake and sign-in endpoints redirect to a URL taken from the query, and the session
//! they mint names that URL's origin as its `azp`. Without this check the dev issuer would be an
//! open redirect, and a page anywhere could make it mint sessions authorized for any site.
//!
//! A target is read by the `url` crate (the WHATWG rules browsers follow) and must also be
//! written exactly as that parser reads its origin: lower-case scheme and host, no default port,
//! no user name or password, no percent-encoding, backslash, space or control character. So no
//! other parser (a proxy's, an app's) can see a different host in the same text.

use std::fmt;
use url::{Host, Url};

/// Longest redirect target accepted (it goes into a `Location` header).
const MAX_TARGET_LEN: usize = 8 * 1024;

/// The origins, besides loopback ones, that redirects may go to.
#[derive(Debug, Clone, Default)]
pub(crate) struct RedirectPolicy {
    /// Canonical origins (`https://app.example.test`, `http://host:8080`).
    allowed: Vec<String>,
}

/// A redirect target the policy accepts.
#[derive(Debug)]
pub(crate) struct Target<'a> {
    /// The URL as given (already checked to be in canonical form).
    pub(crate) url: &'a str,
    /// Its origin, e.g. `http://127.0.0.1:3000`: the `azp` of sessions minted for it.
    pub(crate) origin: String,
}

/// Why a redirect target (or an origin to allow) is refused. Its text names the origin at
/// most, never the rest of the URL (which may carry a token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Missing,
    Repeated,
    TooLong,
    Characters,
    NotAbsoluteHttp,
    Credentials,
    Host,
    NotCanonical { origin: String },
    NotAllowed { origin: String },
    NotAnOrigin,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => f.write_str("redirect_url is missing"),
            Refusal::Repeated => f.write_str("redirect_url is given more than once"),
            Refusal::TooLong => write!(f, "redirect_url is longer than {MAX_TARGET_LEN} bytes"),
            Refusal::Characters => f.write_str(
                "redirect_url contains a space, a backslash, a control or a non-ASCII character",
            ),
            Refusal::NotAbsoluteHttp => {
                f.write_str("redirect_url is not an absolute http:// or https:// URL")
            }
            Refusal::Credentials => f.write_str("redirect_url carries a user name or password"),
            Refusal::Host => f.write_str(
                "redirect_url's host is neither a DNS name (letters, digits, '-', '_', '.') nor \
                 an IP address",
            ),
            Refusal::NotCanonical { origin } => write!(
                f,
                "redirect_url does not start with its origin written canonically ({origin}): \
                 lower case, no default port, no percent-encoding"
            ),
            Refusal::NotAllowed { origin } => write!(
                f,
                "redirect_url goes to {origin}, which is not a loopback origin (127.0.0.0/8, \
                 [::1], localhost) nor an allowed one; allow it with \
                 `clerk-verify dev serve --allow-redirect-origin {origin}` \
                 (FrontendApi::allow_redirect_origin in tests)"
            ),
            Refusal::NotAnOrigin => f.write_str(
                "an allowed redirect origin is an http:// or https:// scheme, host and optional \
                 port, written canonically, without path, query or credentials \
                 (e.g. https://app.example.test or http://10.0.0.5:8080)",
            ),
        }
    }
}

impl RedirectPolicy {
    /// Also allows redirects to `origin` (see [`canonical_origin`]).
    pub(crate) fn allow(&mut self, origin: &str) -> Result<(), Refusal> {
        let origin = canonical_origin(origin)?;
        if !self.allowed.contains(&origin) {
            self.allowed.push(origin);
        }
        Ok(())
    }

    /// Checks a redirect target.
    pub(crate) fn check<'a>(&self, target: &'a str) -> Result<Target<'a>, Refusal> {
        let (url, origin) = parse_canonical(target)?;
        if is_loopback(&url) || self.allowed.contains(&origin) {
            Ok(Target {
                url: target,
                origin,
            })
        } else {
            Err(Refusal::NotAllowed { origin })
        }
    }
}

/// `origin` (`https://app.example.test`, optionally with one trailing `/`) in canonical form.
fn canonical_origin(origin: &str) -> Result<String, Refusal> {
    let (url, canonical) = parse_canonical(origin).map_err(|_| Refusal::NotAnOrigin)?;
    let rest = &origin[canonical.len()..];
    if !(rest.is_empty() || rest == "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(Refusal::NotAnOrigin);
    }
    Ok(canonical)
}

/// Parses an absolute http(s) URL that starts with its own origin, written canonically.
fn parse_canonical(text: &str) -> Result<(Url, String), Refusal> {
    if text.len() > MAX_TARGET_LEN {
        return Err(Refusal::TooLong);
    }
    // The WHATWG parser drops tabs and newlines, reads `\` as `/` and trims spaces: text with
    // any of them means something else to other parsers (and a CR/LF would split the header).
    if !text.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') {
        return Err(Refusal::Characters);
    }
    let url = Url::parse(text).map_err(|_| Refusal::NotAbsoluteHttp)?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Refusal::NotAbsoluteHttp);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refusal::Credentials);
    }
    // WHATWG lets `*`, `!`, `$`… into a host; none is a name anyone resolves, and `*` would
    // read as a wildcard it is not.
    if let Some(Host::Domain(domain)) = url.host() {
        let dns = |b: u8| b.is_ascii_alphanumeric() || b"-_.".contains(&b);
        if !domain.bytes().all(dns) {
            return Err(Refusal::Host);
        }
    }
    let origin = url.origin().ascii_serialization();
    let canonical = text
        .strip_prefix(origin.as_str())
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']));
    if !canonical {
        return Err(Refusal::NotCanonical { origin });
    }
    Ok((url, origin))
}

/// 127.0.0.0/8, ::1 and `localhost` (exactly; its subdomains may be anyone's in a resolver).
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => domain == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_origins_are_origins_only() {
        let mut policy = RedirectPolicy::default();
        for good in [
            "https://app.example.test",
            "https://app.example.test/",
            "http://10.0.0.5:8080",
            "https://xn--bcher-kva.example",
        ] {
            assert_eq!(policy.allow(good), Ok(()), "{good}");
        }
        // With or without its trailing slash, one origin.
        assert_eq!(policy.allowed.len(), 3);
        for bad in [
            "",
            "app.example.test",
            "//app.example.test",
            "https://app.example.test/path",
            "https://app.example.test/?q",
            "https://app.example.test#x",
            "https://user@app.example.test",
            "https://APP.example.test",
            "https://app.example.test:443",
            "https://*.example.test",
            "javascript:alert(1)",
            "null",
            "ftp://app.example.test",
            "https://bücher.example",
        ] {
            assert_eq!(policy.allow(bad), Err(Refusal::NotAnOrigin), "{bad}");
        }
    }

    #[test]
    fn targets_keep_their_text_and_name_their_origin() {
        let mut policy = RedirectPolicy::default();
        policy.allow("https://app.example.test/").unwrap();
        let t = policy.check("http://[::1]:3000/a?b=1#c").unwrap();
        assert_eq!(
            (t.url, t.origin.as_str()),
            ("http://[::1]:3000/a?b=1#c", "http://[::1]:3000")
        );
        let t = policy.check("https://app.example.test?x").unwrap();
        assert_eq!(t.origin, "https://app.example.test");
        assert_eq!(
            policy.check("https://app.example.test:8443/").unwrap_err(),
            Refusal::NotAllowed {
                origin: "https://app.example.test:8443".into()
            }
        );
        assert_eq!(
            policy.check("http://127.1/").unwrap_err(),
            Refusal::NotCanonical {
                origin: "http://127.0.0.1".into()
            }
        );
    }
}
