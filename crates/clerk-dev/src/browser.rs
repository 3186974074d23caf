//! [`Browser`]: a minimal browser for tests of server-rendered pages over real HTTP: it keeps
//! cookies (per host until their `Max-Age` and, as browsers do, shared across ports: `127.0.0.1`
//! and `localhost` are two sites), sends the headers of a document navigation (and, for one that
//! came from another site, its `Referer` and `Sec-Fetch-Site: cross-site`), and follows
//! redirects, at most [`Browser::MAX_REDIRECTS`] in a row. Plain `http://` to loopback hosts
//! only.

use crate::client::{exchange, HttpReply};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

/// One request of a navigation: the URL asked for and the status it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The URL requested.
    pub url: String,
    /// The status of the answer.
    pub status: u16,
    /// The `Location` of a redirect.
    pub location: Option<String>,
}

/// Where a [`Browser::navigate`] ended, and how it got there.
#[derive(Debug, Clone)]
pub struct Visit {
    /// The last answer (not a redirect, unless the redirect limit was reached or the next
    /// host was not one this browser visits).
    pub page: HttpReply,
    /// Every request made, in order.
    pub hops: Vec<Hop>,
}

impl Visit {
    /// The URL of the last request.
    pub fn url(&self) -> &str {
        self.hops.last().map_or("", |h| h.url.as_str())
    }

    /// How many requests went to a path (e.g. `/v1/client/handshake`).
    pub fn count(&self, path: &str) -> usize {
        self.hops.iter().filter(|h| path_of(&h.url) == path).count()
    }
}

/// A cookie-keeping, redirect-following test client that navigates like a browser.
///
/// ```no_run
/// use clerk_dev::Browser;
///
/// let mut browser = Browser::new();
/// browser.set_cookie("__client_uat", "0");
/// let visit = browser.navigate("http://127.0.0.1:8080/").unwrap();
/// assert_eq!(visit.page.status, 200);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Browser {
    /// Cookie name and value, per host, with when it expires (`Max-Age`).
    cookies: Vec<(String, String, String, Option<Instant>)>,
    /// Send `Sec-Fetch-Dest: document` (default) instead of `empty` (a `fetch()`).
    api: bool,
}

impl Browser {
    /// Most redirects followed in one navigation.
    pub const MAX_REDIRECTS: usize = 20;

    /// A browser with no cookies that loads documents.
    pub fn new() -> Browser {
        Browser::default()
    }

    /// A client that sends what a script's `fetch()` sends (`Sec-Fetch-Dest: empty`,
    /// `Accept: application/json`) instead of a navigation's headers.
    pub fn fetch_client() -> Browser {
        Browser {
            api: true,
            ..Browser::default()
        }
    }

    /// Sets a cookie for every host (until a host sets its own).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(_, n, _, _)| n != name);
        self.store("*", name, value, None);
    }

    /// A cookie's value (for any host).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.live()
            .find(|(_, n, _, _)| n == name)
            .map(|(_, _, v, _)| v.as_str())
    }

    /// A cookie's value as `host` (`127.0.0.1` or `localhost`) sees it.
    pub fn cookie_on(&self, host: &str, name: &str) -> Option<&str> {
        self.live()
            .find(|(h, n, _, _)| n == name && (h == host || h == "*"))
            .map(|(_, _, v, _)| v.as_str())
    }

    /// The cookies that have not expired.
    fn live(&self) -> impl Iterator<Item = &(String, String, String, Option<Instant>)> {
        let now = Instant::now();
        self.cookies
            .iter()
            .filter(move |(_, _, _, until)| until.is_none_or(|until| until > now))
    }

    /// Forgets every cookie.
    pub fn clear_cookies(&mut self) {
        self.cookies.clear();
    }

    /// One `GET`, without following a redirect; `Set-Cookie` is applied.
    ///
    /// # Errors
    /// If the URL is not `http://` to a loopback host, or the request fails.
    pub fn get(&mut self, url: &str) -> io::Result<HttpReply> {
        self.get_with(url, &[])
    }

    /// [`Browser::get`] with more request headers (e.g. `Referer`).
    ///
    /// # Errors
    /// As [`Browser::get`].
    pub fn get_with(&mut self, url: &str, extra: &[(&str, &str)]) -> io::Result<HttpReply> {
        let (host, addr, target) = split(url)?;
        let authority = authority_of(url);
        let cookie = self
            .live()
            .filter(|(h, _, _, _)| h == "*" || *h == host)
            .map(|(_, n, v, _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut headers: Vec<(&str, &str)> = vec![("Host", authority)];
        headers.extend(if self.api {
            vec![("Sec-Fetch-Dest", "empty"), ("Accept", "application/json")]
        } else {
            vec![
                ("Sec-Fetch-Dest", "document"),
                ("Accept", "text/html,application/xhtml+xml"),
            ]
        });
        if !cookie.is_empty() {
            headers.push(("Cookie", &cookie));
        }
        headers.extend_from_slice(extra);
        let reply = exchange(addr, "GET", &target, &headers, b"")?;
        for (name, value) in &reply.headers {
            if name == "set-cookie" {
                self.apply(&host, value);
            }
        }
        Ok(reply)
    }

    /// Loads `url` and follows redirects (at most [`Browser::MAX_REDIRECTS`]) to loopback
    /// hosts; a redirect elsewhere ends the navigation on it.
    ///
    /// # Errors
    /// As [`Browser::get`].
    pub fn navigate(&mut self, url: &str) -> io::Result<Visit> {
        self.navigate_with(url, &[])
    }

    /// A navigation that a link on `referer`, a page of another site, started: every request
    /// of it carries `Referer: <referer>` and `Sec-Fetch-Site: cross-site`, as a browser keeps
    /// them across the redirects of one navigation.
    ///
    /// # Errors
    /// As [`Browser::get`].
    pub fn navigate_from(&mut self, referer: &str, url: &str) -> io::Result<Visit> {
        self.navigate_with(
            url,
            &[("Referer", referer), ("Sec-Fetch-Site", "cross-site")],
        )
    }

    fn navigate_with(&mut self, url: &str, extra: &[(&str, &str)]) -> io::Result<Visit> {
        let mut hops = Vec::new();
        let mut url = url.to_owned();
        loop {
            let page = self.get_with(&url, extra)?;
            let location = page
                .header("location")
                .filter(|_| (300..400).contains(&page.status))
                .map(|l| absolute(&url, l));
            hops.push(Hop {
                url: url.clone(),
                status: page.status,
                location: location.clone(),
            });
            match location {
                Some(next) if hops.len() <= Self::MAX_REDIRECTS && split(&next).is_ok() => {
                    url = next;
                }
                _ => return Ok(Visit { page, hops }),
            }
        }
    }

    fn apply(&mut self, host: &str, set_cookie: &str) {
        let mut parts = set_cookie.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        let max_age = parts.find_map(|attr| {
            let attr = attr.trim().to_ascii_lowercase();
            attr.strip_prefix("max-age=")
                .and_then(|v| v.parse::<i64>().ok())
        });
        self.cookies
            .retain(|(h, n, _, _)| n != name || (h != host && h != "*"));
        let until = match max_age {
            Some(age) if age <= 0 => return,
            Some(age) => Some(Instant::now() + Duration::from_secs(age.unsigned_abs())),
            None => None,
        };
        self.store(host, name, value, until);
    }

    fn store(&mut self, host: &str, name: &str, value: &str, until: Option<Instant>) {
        self.cookies.retain(|(h, n, _, _)| n != name || h != host);
        self.cookies
            .push((host.to_owned(), name.to_owned(), value.to_owned(), until));
    }
}

/// Host (without port), socket address and request target of an `http://` loopback URL.
fn split(url: &str) -> io::Result<(String, SocketAddr, String)> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "only http:// URLs to loopback hosts",
        )
    };
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    let target = if target.starts_with('?') {
        format!("/{target}")
    } else {
        target
    };
    let target = target.split('#').next().unwrap_or("/").to_owned();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost") {
        return Err(bad());
    }
    let with_port = if authority.contains(':') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    // `localhost` may resolve to ::1 first; the servers under test listen on 127.0.0.1.
    let addr = with_port
        .to_socket_addrs()?
        .filter(|a| a.ip().is_loopback())
        .min_by_key(SocketAddr::is_ipv6)
        .ok_or_else(bad)?;
    Ok((host.to_owned(), addr, target))
}

/// `host[:port]` of an `http://` URL, as the `Host` header names it.
fn authority_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or("/")
}

fn absolute(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let origin_end = base
        .find("://")
        .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
        .unwrap_or(base.len());
    format!("{}{location}", &base[..origin_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (host, addr, target) = split("http://127.0.0.1:8080/a?b=1#c").unwrap();
        assert_eq!(
            (host.as_str(), addr.port(), target.as_str()),
            ("127.0.0.1", 8080, "/a?b=1")
        );
        assert!(split("https://127.0.0.1/").is_err());
        assert!(split("http://example.com/").is_err());
        assert_eq!(
            absolute("http://127.0.0.1:1/x/y", "/z?q"),
            "http://127.0.0.1:1/z?q"
        );
        assert_eq!(
            path_of("http://127.0.0.1:1/v1/client/handshake?x"),
            "/v1/client/handshake"
        );
    }

    #[test]
    fn cookies() {
        let mut b = Browser::new();
        b.apply("127.0.0.1", "__session=abc; Path=/; SameSite=Lax");
        assert_eq!(b.cookie("__session"), Some("abc"));
        b.apply("127.0.0.1", "__session=; Path=/; Max-Age=0");
        assert_eq!(b.cookie("__session"), None);
        // Each host has its own.
        b.apply("127.0.0.1", "a=1");
        b.apply("localhost", "a=2");
        assert_eq!(
            (b.cookie_on("127.0.0.1", "a"), b.cookie_on("localhost", "a")),
            (Some("1"), Some("2"))
        );
        b.apply("localhost", "a=; Max-Age=0");
        assert_eq!(b.cookie_on("localhost", "a"), None);
        assert_eq!(b.cookie_on("127.0.0.1", "a"), Some("1"));
        // A host's own cookie replaces one set for every host.
        b.set_cookie("c", "everywhere");
        b.apply("localhost", "c=mine");
        assert_eq!(b.cookie_on("localhost", "c"), Some("mine"));
        assert_eq!(b.cookie_on("127.0.0.1", "c"), None);
    }
}
