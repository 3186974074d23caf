//! The filters of server-rendered pages, which run Clerk's handshake
//! ([`Verifier::authenticate_page`]); this file only hands warp's request to the core.

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

/// A page that serves everyone: `Some(user)` when signed in, `None` for a signed-out visitor
/// ([`adapter::page`]). A browser whose session cookie Clerk's frontend has not refreshed yet
/// is sent through Clerk's handshake (a 307 [`ClerkRejection`](crate::ClerkRejection)) and
/// comes back with fresh cookies. API routes keep [`crate::clerk_auth`], which never redirects.
///
/// The handshake needs [`VerifyOptions::handshake`](crate::VerifyOptions::handshake) and the
/// publishable key, which names the Frontend API (`Verifier::from_env` sets both from
/// `CLERK_PUBLISHABLE_KEY`); the page's URL is rebuilt from `Host` (or the forwarded headers:
/// [`PageRequest::from_headers`]). Put it after the route's path and method filters, so that it
/// only runs (and redirects) for requests the route would serve. A session refreshed with its
/// `__refresh` cookie reaches the page after one 307 back to the same URL, which sets the new
/// cookies: warp has no middleware that could set them on the page's own reply (docs/pages.md).
///
/// ```
/// use clerk_warp::{handle_rejection, page, require_sign_in, Auth, Verifier};
/// use warp::Filter;
///
/// # fn routes(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// // CLERK_PUBLISHABLE_KEY, and CLERK_SIGN_IN_URL for `require_sign_in`.
/// let home = warp::path::end()
///     .and(warp::get())
///     .and(page(verifier.clone()))
///     .map(|user: Option<Auth>| match user {
///         Some(user) => warp::reply::html(format!("Hello, {}", user.user_id())),
///         None => warp::reply::html("Hello, stranger".to_owned()),
///     });
/// let dashboard = warp::path!("dashboard")
///     .and(warp::get())
///     .and(require_sign_in(verifier))
///     .map(|user: Auth| warp::reply::html(format!("{}'s dashboard", user.user_id())));
/// home.or(dashboard).recover(handle_rejection)
/// # }
/// ```
pub fn page(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Rejection> + Clone {
    page_authentication(verifier)
        .and_then(|_: PageRequest, state: Authentication| ready(answer(state, adapter::page)))
}

/// A page that requires sign-in ([`adapter::page_requiring_sign_in`]): a signed-out browser is
/// redirected to the sign-in page
/// ([`HandshakeOptions::sign_in_url`](clerk_verify::request::HandshakeOptions::sign_in_url),
/// `CLERK_SIGN_IN_URL`; 401 without one). [`page`] has the example.
pub fn require_sign_in(
    verifier: Verifier,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    page_authentication(verifier.clone()).and_then(move |page: PageRequest, state| {
        ready(answer(state, |state| {
            adapter::page_requiring_sign_in(&verifier, &page, state)
        }))
    })
}

/// The request as the core reads it, and its authentication state (inline when nothing needs
/// I/O, on tokio's blocking pool for a key fetch or a handshake nonce exchange). warp hands over
/// no request URI, so the target is put back together from the path and the raw query (kept as
/// sent: the handshake removes its own parameters from it and sends the browser to the rest).
fn page_authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (PageRequest, Authentication), Error = Infallible> + Clone {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let target = warp::method().and(warp::path::full()).and(query);
    let request = target.and(warp::header::headers_cloned());
    let authenticate = move |method: Method, path: FullPath, query: String, headers: HeaderMap| {
        let separator = if query.is_empty() { "" } else { "?" };
        let target = format!("{}{separator}{query}", path.as_str());
        let headers = headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()));
        let page = PageRequest::from_headers(method.as_str(), &target, headers);
        let step = verifier.authenticate_page_step(page.clone());
        async move {
            let state = step.finish(tokio::task::spawn_blocking).await;
            Ok::<_, Infallible>((page, state))
        }
    };
    request.and_then(authenticate).untuple_one()
}
