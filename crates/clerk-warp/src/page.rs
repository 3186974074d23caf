//! The filters of server-rendered pages: [`page`] and [`require_sign_in`] run Clerk's handshake
//! ([`Verifier::authenticate_page`]), so a browser whose session cookie expired is refreshed
//! through Clerk's Frontend API instead of being shown a signed-out page. What to answer is the
//! core's ([`Authentication::into_page`], [`Authentication::require_sign_in`]); this file only
//! hands warp's request to it and its refusals to [`ClerkRejection`]. API routes keep the
//! filters of [`crate::clerk_auth`] and its kin, which never redirect.

use crate::rejection::ClerkRejection;
use clerk_verify::request::PageRequest;
use clerk_verify::{Auth, Authentication, Refusal, Verifier};
use std::convert::Infallible;
use std::future::ready;
use warp::filters::path::FullPath;
use warp::http::header::HeaderMap;
use warp::http::Method;
use warp::reject::Rejection;
use warp::Filter;

/// A page that serves everyone: extracts `Some(user)` when signed in, `None` for a signed-out
/// visitor. A browser whose cookies need refreshing is redirected (307) through Clerk's
/// handshake first and comes back with fresh cookies; a key source that is down is 503 and a
/// misconfigured verifier 500, never the signed-out page. Those are [`ClerkRejection`]s that
/// [`handle_rejection`] answers, the 307s with their `Location`, `Cache-Control: no-store` and
/// `Set-Cookie` headers.
///
/// The handshake needs the verifier's publishable key
/// ([`VerifyOptions::publishable_key`](clerk_verify::VerifyOptions::publishable_key)), which
/// names the Frontend API. The page's URL is rebuilt from `Host` (or `X-Forwarded-Host` and
/// `X-Forwarded-Proto` behind a proxy: see [`PageRequest::from_headers`]), since that is where
/// the browser is sent back to. Put it after the route's path and method filters, so that it
/// only runs (and only redirects) for requests the route would serve.
///
/// ```
/// use clerk_verify::{Auth, Verifier};
/// use warp::Filter;
///
/// # fn route(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// warp::path::end()
///     .and(warp::get())
///     .and(clerk_warp::page(verifier))
///     .map(|user: Option<Auth>| {
///         let body = match user {
///             Some(user) => format!("<p>Hello, {}</p>", user.user_id()),
///             None => "<p>Hello, stranger: <a href=/sign-in>sign in</a></p>".to_owned(),
///         };
///         warp::reply::html(body)
///     })
///     .recover(clerk_warp::handle_rejection)
/// # }
/// ```
///
/// [`handle_rejection`]: crate::handle_rejection
pub fn page(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Rejection> + Clone {
    page_authentication(verifier).and_then(|_: PageRequest, state: Authentication| {
        ready(answer(state, Authentication::into_page))
    })
}

/// A page that requires sign-in: extracts the signed-in user; a signed-out browser is
/// redirected (307) to the sign-in page
/// ([`HandshakeOptions::sign_in_url`](clerk_verify::request::HandshakeOptions::sign_in_url),
/// `CLERK_SIGN_IN_URL`) with `redirect_url` back to this page, after Clerk's handshake when its
/// cookies need refreshing. Without a configured sign-in URL a signed-out visitor gets 401, and
/// as with [`page`] a key source that is down is 503 and a misconfigured verifier 500: all
/// [`ClerkRejection`]s for [`handle_rejection`].
///
/// ```
/// use clerk_verify::{Auth, Verifier};
/// use warp::Filter;
///
/// # fn route(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// warp::path!("dashboard")
///     .and(warp::get())
///     .and(clerk_warp::require_sign_in(verifier))
///     .map(|user: Auth| warp::reply::html(format!("<h1>{}'s dashboard</h1>", user.user_id())))
///     .recover(clerk_warp::handle_rejection)
/// # }
/// ```
///
/// [`handle_rejection`]: crate::handle_rejection
pub fn require_sign_in(
    verifier: Verifier,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    page_authentication(verifier.clone()).and_then(
        move |page: PageRequest, state: Authentication| {
            ready(answer(state, |state| {
                state.require_sign_in(verifier.sign_in_redirect(&page))
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

/// `decide(state)`, its refusal as a rejection that keeps the signed-out state behind it (the
/// cause of a 503 or 500, for the log), as the API filters' rejections do.
fn answer<T>(
    state: Authentication,
    decide: impl FnOnce(Authentication) -> Result<T, Refusal>,
) -> Result<T, Rejection> {
    let signed_out = match &state {
        Authentication::SignedOut(out) => Some(out.clone()),
        _ => None,
    };
    decide(state).map_err(|refusal| {
        warp::reject::custom(ClerkRejection::with_signed_out(refusal, signed_out))
    })
}
