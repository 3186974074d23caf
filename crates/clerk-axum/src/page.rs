//! Server-rendered pages: [`ClerkPage`] and [`RequireSignIn`], on the page answer the request
//! keeps apart from the API extractors' (which never redirect).

use crate::extract::{answers, from_request_parts, verifier};
use crate::rejection::ClerkRejection;
use axum::extract::OriginalUri;
use axum::http::request::Parts;
use clerk_verify::adapter;
use clerk_verify::request::PageRequest;
use clerk_verify::{Authentication, Verifier};

clerk_verify::adapter_pages! {
    /// [`ClerkLayer`](crate::ClerkLayer)'s example has one.
    pub struct ClerkPage;
    /// Use it rather than [`crate::ClerkLayer::require_sign_in`] for pages: the layer answers
    /// before the handler, as for an API, with a 401 and no handshake.
    /// [`ClerkLayer`](crate::ClerkLayer)'s example has one.
    pub struct RequireSignIn;
}

from_request_parts!([] ClerkPage, |parts, state| {
    let (_, _, authentication) = authenticate_page(parts, state).await?;
    ClerkPage(adapter::page(authentication)?)
});

from_request_parts!([] RequireSignIn, |parts, state| {
    let (verifier, page, authentication) = authenticate_page(parts, state).await?;
    RequireSignIn(adapter::page_requiring_sign_in(&verifier, &page, authentication)?)
});

/// Authenticates a page request once ([`clerk_verify::adapter::Answers::authenticate_page`]).
async fn authenticate_page<S: 'static>(
    parts: &mut Parts,
    state: &S,
) -> Result<(Verifier, PageRequest, Authentication), ClerkRejection> {
    let answers = answers(parts);
    let verifier = verifier(parts, state)?.clone();
    // Under `Router::nest` the URI has lost its prefix; the browser must come back to the
    // whole path, after a handshake or a sign-in.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    let page = PageRequest::from_headers(parts.method.as_str(), path, headers);
    let spawn = tokio::task::spawn_blocking;
    let (page, authentication) = answers.authenticate_page(&verifier, page, spawn).await;
    Ok((verifier, page, authentication))
}
