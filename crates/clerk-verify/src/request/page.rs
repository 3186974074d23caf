//! A browser's page request, as the handshake needs it: the method, the URL the browser asked
//! for (rebuilt from `Host` and the `X-Forwarded-*` headers, as Clerk's `clerkUrl`), the two
//! credential headers, the two headers that tell a document navigation from an API call, the
//! two that tell where a navigation came from (`Referer`, `Sec-Fetch-Site`), and whether the
//! caller can set cookies on a signed-in response.

use std::borrow::Cow;

/// A request for a server-rendered page: the input of [`crate::Verifier::authenticate_page`].
///
/// Adapters build it with [`PageRequest::from_headers`]; custom code can use the builder:
///
/// ```
/// use clerk_verify::request::PageRequest;
///
/// let page = PageRequest::new("GET", "https://app.example.com/dashboard?tab=1")
///     .cookie("__session=...; __client_uat=1700000000")
///     .sec_fetch_dest("document");
/// assert!(page.is_document_navigation());
/// assert_eq!(page.url(), "https://app.example.com/dashboard?tab=1");
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) authorization: Option<String>,
    pub(crate) cookie: Option<String>,
    pub(crate) accept: Option<String>,
    pub(crate) sec_fetch_dest: Option<String>,
    pub(crate) sec_fetch_site: Option<String>,
    pub(crate) referer: Option<String>,
    pub(crate) user_agent: Option<String>,
    /// `Referer` or `Sec-Fetch-Site` came twice with different values.
    pub(crate) origin_headers_disagree: bool,
    /// The caller sends [`crate::request::Auth::set_cookies`] with its response.
    pub(crate) delivers_cookies: bool,
}

impl PageRequest {
    /// A request for the absolute `url` (`scheme://host[:port]/path?query`).
    pub fn new(method: &str, url: &str) -> PageRequest {
        PageRequest {
            method: method.to_owned(),
            url: url.to_owned(),
            ..PageRequest::default()
        }
    }

    /// Builds the request from its method, path (with the query) and raw headers, as a
    /// framework hands them over. The URL is rebuilt the way Clerk's SDKs do: the scheme from
    /// `X-Forwarded-Proto` (or `CloudFront-Forwarded-Proto`), else `http`; the host from
    /// `X-Forwarded-Host`, else `Host`. Behind a proxy, make sure it sets (or strips) those
    /// headers: they decide where a browser is sent back to after a handshake.
    ///
    /// Several `Cookie` headers are joined; values that are not UTF-8 are replaced.
    pub fn from_headers<'h>(
        method: &str,
        path_and_query: &str,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
    ) -> PageRequest {
        let mut page = PageRequest::new(method, "");
        let (mut proto, mut host, mut forwarded_host) = (None, None, None);
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value);
            let first = || first_of_list(&value).to_owned();
            match name.to_ascii_lowercase().as_str() {
                "authorization" if page.authorization.is_none() => {
                    page.authorization = Some(value.into_owned());
                }
                "cookie" => match &mut page.cookie {
                    Some(joined) => {
                        joined.push_str("; ");
                        joined.push_str(&value);
                    }
                    None => page.cookie = Some(value.into_owned()),
                },
                "accept" if page.accept.is_none() => page.accept = Some(value.into_owned()),
                "sec-fetch-dest" => page.sec_fetch_dest = Some(value.into_owned()),
                "referer" => once(&mut page.referer, value, &mut page.origin_headers_disagree),
                "sec-fetch-site" => {
                    once(
                        &mut page.sec_fetch_site,
                        value,
                        &mut page.origin_headers_disagree,
                    );
                }
                "user-agent" if page.user_agent.is_none() => {
                    page.user_agent = Some(value.into_owned());
                }
                "x-forwarded-proto" | "cloudfront-forwarded-proto" if proto.is_none() => {
                    proto = Some(first());
                }
                "x-forwarded-host" => forwarded_host = Some(first()),
                "host" => host = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let scheme = match proto.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("https") => "https",
            _ => "http",
        };
        let host = forwarded_host
            .or(host)
            .filter(|h| is_host(h))
            .unwrap_or_else(|| "localhost".to_owned());
        let path = if path_and_query.starts_with('/') {
            Cow::Borrowed(path_and_query)
        } else {
            Cow::Owned(format!("/{path_and_query}"))
        };
        page.url = format!("{scheme}://{host}{path}");
        page
    }

    /// Sets the `Authorization` header value.
    pub fn authorization(mut self, value: impl Into<String>) -> PageRequest {
        self.authorization = Some(value.into());
        self
    }

    /// Sets the `Cookie` header value.
    pub fn cookie(mut self, value: impl Into<String>) -> PageRequest {
        self.cookie = Some(value.into());
        self
    }

    /// Sets the `Accept` header value.
    pub fn accept(mut self, value: impl Into<String>) -> PageRequest {
        self.accept = Some(value.into());
        self
    }

    /// Sets the `Sec-Fetch-Dest` header value.
    pub fn sec_fetch_dest(mut self, value: impl Into<String>) -> PageRequest {
        self.sec_fetch_dest = Some(value.into());
        self
    }

    /// Sets the `Sec-Fetch-Site` header value (`cross-site` from another site).
    pub fn sec_fetch_site(mut self, value: impl Into<String>) -> PageRequest {
        self.sec_fetch_site = Some(value.into());
        self
    }

    /// Sets the `Referer` header value.
    pub fn referer(mut self, value: impl Into<String>) -> PageRequest {
        self.referer = Some(value.into());
        self
    }

    /// Sets the `User-Agent` header value (passed to the Backend API with a session refresh).
    pub fn user_agent(mut self, value: impl Into<String>) -> PageRequest {
        self.user_agent = Some(value.into());
        self
    }

    /// Declares that the caller adds [`crate::request::Auth::set_cookies`] to its response when
    /// the page is signed in. Then a session refreshed through the Backend API (an expired
    /// `__session` with a `__refresh` cookie) is signed in on this very request, with no
    /// redirect at all. Without it (the default) the refreshed cookies reach the browser by one
    /// 307 back to the same URL (`session-token-refreshed`): a caller that drops them would
    /// make every navigation refresh again. The adapters set it when their middleware, which
    /// writes the cookies, is installed (the adapter contract's `CookieSlot`).
    pub fn delivers_cookies(mut self, delivers: bool) -> PageRequest {
        self.delivers_cookies = delivers;
        self
    }

    /// The absolute URL the browser asked for.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The request method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// Whether this is a browser loading a document, the only request Clerk sends through a
    /// handshake: a `GET` with `Sec-Fetch-Dest: document` or `iframe`, or, from a browser that
    /// sends no `Sec-Fetch-Dest`, an `Accept` that starts with `text/html`. Anything else (a
    /// `fetch()`, a form `POST`, an API client) keeps the signed-out answer.
    pub fn is_document_navigation(&self) -> bool {
        if self.method != "GET" {
            return false;
        }
        match self.sec_fetch_dest.as_deref() {
            Some("document" | "iframe") => true,
            Some(_) => false,
            None => self
                .accept
                .as_deref()
                .is_some_and(|a| a.starts_with("text/html")),
        }
    }

    /// The origin (`scheme://host[:port]`) of [`PageRequest::url`].
    pub(crate) fn origin(&self) -> &str {
        origin_of(&self.url)
    }

    /// A `GET` whose `Sec-Fetch-Dest` says it loads a top-level document: Clerk's stricter test
    /// for the multi-domain sync flows (no `iframe`, no `Accept` fallback).
    pub(crate) fn is_top_level_navigation(&self) -> bool {
        self.method == "GET" && self.sec_fetch_dest.as_deref() == Some("document")
    }

    /// A query parameter of the URL, decoded (the first one of that name).
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        query_param(&self.url, name)
    }

    /// How many query parameters of the URL are named `name`.
    pub(crate) fn query_count(&self, name: &str) -> usize {
        raw_query(&self.url).map_or(0, |q| {
            form_urlencoded::parse(q.as_bytes())
                .filter(|(k, _)| k == name)
                .count()
        })
    }
}

impl std::fmt::Debug for PageRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credentials are bearer secrets, and so are the handshake parameters of the URL.
        f.debug_struct("PageRequest")
            .field("method", &self.method)
            .field("origin", &self.origin())
            .field("authorization", &self.authorization.as_ref().map(|_| "…"))
            .field("cookie", &self.cookie.as_ref().map(|_| "…"))
            .field("accept", &self.accept)
            .field("sec_fetch_dest", &self.sec_fetch_dest)
            .field("sec_fetch_site", &self.sec_fetch_site)
            .field("referer", &self.referer.as_deref().map(origin_of))
            .field("delivers_cookies", &self.delivers_cookies)
            .finish()
    }
}

/// Keeps the first value of a header; a second, different one marks the request's origin
/// headers as disagreeing (two statements of one fact that differ are not resolved by order).
fn once(slot: &mut Option<String>, value: Cow<'_, str>, disagree: &mut bool) {
    match slot {
        Some(first) if *first != value => *disagree = true,
        Some(_) => {}
        None => *slot = Some(value.into_owned()),
    }
}

fn first_of_list(value: &str) -> &str {
    value.split(',').next().unwrap_or("").trim()
}

/// A host (with an optional port) that is safe to put into a URL: no path, user info, spaces
/// or control characters.
fn is_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// `scheme://authority` of an absolute URL (the whole text when it has no path).
pub(crate) fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(end) => &url[..after_scheme + end],
        None => url,
    }
}

/// The origin of an absolute `http(s)` URL in a form two spellings of one origin share: scheme
/// and host in lower case, the default port dropped. `None` for anything else.
pub(crate) fn normalized_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') || !is_host(authority) {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{authority}"))
}

/// The host (without port) of an absolute URL or an origin, lower case.
pub(crate) fn host_of_url(url: &str) -> Option<String> {
    let origin = normalized_origin(url)?;
    let authority = origin.split_once("://")?.1;
    crate::host::host_of(authority).map(str::to_owned)
}

/// The raw query of `url` (between `?` and `#`), if any.
fn raw_query(url: &str) -> Option<&str> {
    let without_fragment = url.split('#').next().unwrap_or(url);
    without_fragment.split_once('?').map(|(_, q)| q)
}

/// The first query parameter `name` of `url`, percent-decoded.
pub(crate) fn query_param(url: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(raw_query(url)?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` without the query parameters named in `names`; every other parameter is kept exactly
/// as it was written, and so is the fragment.
pub(crate) fn without_params(url: &str, names: &[&str]) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, q),
        None => return url.to_owned(),
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            let key: String = form_urlencoded::parse(key.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
                .unwrap_or_default();
            !pair.is_empty() && !names.contains(&key.as_str())
        })
        .collect();
    let mut out = base.to_owned();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// `base` with `pairs` appended to its query, form-encoded.
pub(crate) fn with_params<'p>(
    base: &str,
    pairs: impl IntoIterator<Item = (&'p str, &'p str)>,
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        query.append_pair(k, v);
    }
    let query = query.finish();
    let (before_fragment, fragment) = match base.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (base, None),
    };
    let separator = match before_fragment.split_once('?') {
        Some((_, q)) if q.is_empty() || q.ends_with('&') => "",
        Some(_) => "&",
        None => "?",
    };
    let mut out = format!("{before_fragment}{separator}{query}");
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_from_headers() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            PageRequest::from_headers(
                "GET",
                "/a?b=1",
                pairs.iter().map(|(n, v)| (*n, v.as_bytes())),
            )
        };
        assert_eq!(
            h(&[("Host", "app.test:8080")]).url(),
            "http://app.test:8080/a?b=1"
        );
        let proxied = h(&[
            ("host", "internal:3000"),
            ("x-forwarded-host", "app.example.com, proxy"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(proxied.url(), "https://app.example.com/a?b=1");
        assert_eq!(proxied.origin(), "https://app.example.com");
        // A host that could smuggle a path or credentials into the URL is not used.
        assert_eq!(
            h(&[("host", "evil.test/x@y")]).url(),
            "http://localhost/a?b=1"
        );
        let cookies = h(&[("cookie", "a=1"), ("Cookie", "b=2")]);
        assert_eq!(cookies.cookie.as_deref(), Some("a=1; b=2"));
    }

    #[test]
    fn navigation() {
        let get = PageRequest::new("GET", "http://a/");
        assert!(!get.is_document_navigation());
        assert!(get
            .clone()
            .sec_fetch_dest("document")
            .is_document_navigation());
        assert!(get
            .clone()
            .sec_fetch_dest("iframe")
            .is_document_navigation());
        assert!(!get
            .clone()
            .sec_fetch_dest("empty")
            .accept("text/html")
            .is_document_navigation());
        assert!(get
            .clone()
            .accept("text/html,application/xhtml+xml")
            .is_document_navigation());
        assert!(!PageRequest::new("POST", "http://a/")
            .sec_fetch_dest("document")
            .is_document_navigation());
    }

    #[test]
    fn query_editing() {
        let url = "https://a.test/p?x=1&__clerk_handshake=abc&y=%20z#frag";
        assert_eq!(query_param(url, "y").as_deref(), Some(" z"));
        assert_eq!(
            query_param(url, "__clerk_handshake").as_deref(),
            Some("abc")
        );
        assert_eq!(
            without_params(url, &["__clerk_handshake"]),
            "https://a.test/p?x=1&y=%20z#frag"
        );
        assert_eq!(
            without_params("https://a.test/?h=1", &["h"]),
            "https://a.test/"
        );
        assert_eq!(
            with_params(
                "https://f.test/v1/client/handshake",
                [("redirect_url", "https://a/?q=1&r")]
            ),
            "https://f.test/v1/client/handshake?redirect_url=https%3A%2F%2Fa%2F%3Fq%3D1%26r"
        );
        assert_eq!(
            with_params("https://s/in?x=1", [("a", "b")]),
            "https://s/in?x=1&a=b"
        );
    }
}
