//! Server-rendered pages: [`ClerkPage`] and [`RequireSignIn`] run Clerk's handshake
//! ([`clerk_verify::Verifier::authenticate_page`]), so a browser whose session cookie expired
//! is refreshed through Clerk's Frontend API instead of being shown a signed-out page. API
//! routes keep [`crate::ClerkAuth`] / `Option<ClerkAuth>`, which never redirect.

use crate::extract::{answers, verifier};
use crate::rejection::ClerkRejection;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use clerk_verify::adapter;
use clerk_verify::request::PageRequest;
use clerk_verify::{Authentication, Verifier};

clerk_verify::adapter_pages! {
    /// A page that serves everyone: `Some(user)` when signed in, `None` for a signed-out visitor.
    /// A browser whose cookies need refreshing is redirected (307) through Clerk's handshake
    /// first, and comes back with fresh cookies; a key source that is down is 503, never the
    /// signed-out page. Dereferences to `Option<Auth>`.
    ///
    /// The handshake needs the instance's publishable key (`CLERK_PUBLISHABLE_KEY`, or
    /// [`clerk_verify::VerifyOptions::publishable_key`]); without it a page is only ever signed in
    /// or signed out. The [`Verifier`] is found as for [`crate::ClerkAuth`]. A session refreshed
    /// through the Backend API (`__refresh`) is signed in on this very request behind a
    /// [`crate::ClerkLayer`], which sets the new cookies; without one, after a 307 to the page.
    ///
    /// ```
    /// use axum::{response::Html, routing::get, Router};
    /// use clerk_axum::{ClerkLayer, ClerkPage, RequireSignIn};
    /// # let verifier = clerk_axum::Verifier::from_jwks(
    /// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
    ///
    /// async fn home(page: ClerkPage) -> Html<String> {
    ///     Html(match page.as_ref() {
    ///         Some(user) => format!("<p>Hello, {}</p>", user.user_id()),
    ///         None => "<p>Hello, stranger: <a href=/sign-in>sign in</a></p>".to_owned(),
    ///     })
    /// }
    ///
    /// async fn dashboard(user: RequireSignIn) -> Html<String> {
    ///     Html(format!("<h1>{}'s dashboard</h1>", user.user_id()))
    /// }
    ///
    /// let app: Router = Router::new()
    ///     .route("/", get(home))
    ///     .route("/dashboard", get(dashboard))
    ///     .layer(ClerkLayer::new(verifier));
    /// ```
    pub struct ClerkPage;
    /// A page that requires sign-in: the signed-in user, else a 307 to the sign-in page
    /// (`CLERK_SIGN_IN_URL`, with `redirect_url` back to this page), after Clerk's handshake when
    /// the cookies need refreshing. Without a configured sign-in URL a signed-out visitor gets 401.
    /// Dereferences to [`Auth`].
    ///
    /// Use it rather than [`crate::ClerkLayer::require_sign_in`] for pages: the layer answers
    /// before the handler, as for an API, with a 401 and no handshake.
    /// [`ClerkPage`]'s example has both.
    pub struct RequireSignIn;
}

impl<S: Send + Sync + 'static> FromRequestParts<S> for ClerkPage {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (_, _, authentication) = authenticate_page(parts, state).await?;
        Ok(ClerkPage(adapter::page(authentication)?))
    }
}

impl<S: Send + Sync + 'static> FromRequestParts<S> for RequireSignIn {
    type Rejection = ClerkRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (verifier, page, authentication) = authenticate_page(parts, state).await?;
        Ok(RequireSignIn(adapter::page_requiring_sign_in(
            &verifier,
            &page,
            authentication,
        )?))
    }
}

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
