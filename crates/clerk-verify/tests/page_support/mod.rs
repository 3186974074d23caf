//! Helpers shared by the page tests (`handshake`, `page_flows`): a browser's navigation, and its
//! cookie header after an answer's `Set-Cookie` values.
#![allow(dead_code)]

use clerk_verify::request::PageRequest;
use clerk_verify::Authentication;

/// A top-level navigation to `url` with the `Cookie` header `cookie`.
pub fn navigate(url: &str, cookie: &str) -> PageRequest {
    PageRequest::new("GET", url)
        .cookie(cookie)
        .sec_fetch_dest("document")
        .accept("text/html")
}

/// `cookie` with the `Set-Cookie` values applied (`Max-Age=0` removes a cookie).
pub fn apply(cookie: &str, set_cookies: &[String]) -> String {
    let mut jar: Vec<(String, String)> = cookie
        .split("; ")
        .filter_map(|p| p.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    for c in set_cookies {
        let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
        let (name, value) = pair.split_once('=').unwrap();
        jar.retain(|(n, _)| n != name);
        if !attrs.to_ascii_lowercase().contains("max-age=0") {
            jar.push((name.to_owned(), value.to_owned()));
        }
    }
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The `Set-Cookie` values of a redirect; a test that expected one fails with what came instead.
pub fn set_cookies(a: &Authentication) -> Vec<String> {
    a.handshake()
        .unwrap_or_else(|| panic!("a redirect, not {} {}", a.status(), a.reason()))
        .headers()
        .iter()
        .filter(|(n, _)| *n == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect()
}
