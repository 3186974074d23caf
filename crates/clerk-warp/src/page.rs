//! The filters of server-rendered pages: [`page`] and [`require_sign_in`] run Clerk's handshake
//! ([`Verifier::authenticate_page`]), so a browser whose session cookie expired is refreshed
//! through Clerk's Frontend API instead of being shown a signed-out page. What to answer is
//! [`clerk_verify::adapter`]'s; this file only hands warp's request to it. API routes keep
//! [`crate::clerk_auth`] and its kin, which never redirect.

use crate::rejection::answer;
use clerk_verify::adapter;
use clerk_verify::request::PageRequest;
use clerk_verify::{Auth, Authentication, Verifier};
use std::convert::Infallible;
use std::future::ready;
use warp::filters::path::FullPath;
use warp::http::header::HeaderMap;
use warp::http::Method;
use warp::reject::Rejection;
use warp::Filter;

/// A page that serves everyone: extracts `Some(user)` when signed in, `None` for a signed-out
/// visitor ([`adapter::page`]). A browser whose cookies need refreshing is redirected (307)
/// through Clerk's handshake first and comes back with fresh cookies; a key source that is
/// down is 503 and a misconfigured verifier 500, never the signed-out page: [`ClerkRejection`]s
/// that [`handle_rejection`] answers.
///
/// The handshake needs the verifier's publishable key
/// ([`VerifyOptions::publishable_key`](clerk_verify::VerifyOptions::publishable_key)), which
/// names the Frontend API. The page's URL is rebuilt from `Host` (or `X-Forwarded-Host` and
/// `X-Forwarded-Proto` behind a proxy: see [`PageRequest::from_headers`]), since that is where
/// the browser is sent back to. Put it after the route's path and method filters, so that it
/// only runs (and only redirects) for requests the route would serve. Example: the [crate
/// docs](crate).
///
/// An expired session with a `__refresh` cookie (and `CLERK_SECRET_KEY`) is refreshed through
/// the Backend API and reaches the page after one 307 back to the same URL, which sets the new
/// cookies: a filter cannot add headers to the reply the route makes, and warp has no
/// middleware that could (the other adapters' middleware sign such a page in on its own
/// response; docs/pages.md).
///
/// [`ClerkRejection`]: crate::ClerkRejection
/// [`handle_rejection`]: crate::handle_rejection
pub fn page(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Rejection> + Clone {
    page_authentication(verifier)
        .and_then(|_: PageRequest, state: Authentication| ready(answer(state, adapter::page)))
}

/// A page that requires sign-in: extracts the signed-in user; a signed-out browser is
/// redirected (307) to the sign-in page
/// ([`HandshakeOptions::sign_in_url`](clerk_verify::request::HandshakeOptions::sign_in_url),
/// `CLERK_SIGN_IN_URL`) with `redirect_url` back to this page, after Clerk's handshake when its
/// cookies need refreshing ([`adapter::page_requiring_sign_in`]). Without a sign-in URL a
/// signed-out visitor gets 401; as with [`page`], 503 and 500 when the server is at fault.
pub fn require_sign_in(
    verifier: Verifier,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    page_authentication(verifier.clone()).and_then(
        move |page: PageRequest, state: Authentication| {
            ready(answer(state, |state| {
                adapter::page_requiring_sign_in(&verifier, &page, state)
            }))
        },
    )
}

/// The page request and its authentication state: inline when nothing needs I/O, on tokio's
/// blocking pool for a key fetch or a handshake nonce exchange.
fn page_authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (PageRequest, Authentication), Error = Infallible> + Clone {
    page_request()
        .and_then(move |page: PageRequest| {
            let step = verifier.authenticate_page_step(page.clone());
            async move {
                let state = step.finish(tokio::task::spawn_blocking).await;
                Ok::<_, Infallible>((page, state))
            }
        })
        .untuple_one()
}

/// The request as the core reads it. warp hands over no request URI, so the target is put
/// back together from the path and the raw query (kept as sent: the handshake removes its own
/// parameters from it and sends the browser back to the rest).
fn page_request() -> impl Filter<Extract = (PageRequest,), Error = Infallible> + Clone {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    warp::method()
        .and(warp::path::full())
        .and(query)
        .and(warp::header::headers_cloned())
        .map(
            |method: Method, path: FullPath, query: String, headers: HeaderMap| {
                let target = if query.is_empty() {
                    path.as_str().to_owned()
                } else {
                    format!("{}?{query}", path.as_str())
                };
                let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
                PageRequest::from_headers(method.as_str(), &target, headers)
            },
        )
}
