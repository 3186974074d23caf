//! Server-rendered pages: [`ClerkPage`] and [`RequireSignIn`], authenticated with Clerk's
//! handshake, apart from the API extractors' answers (which never redirect).

use crate::error::ClerkError;
use crate::extract::{answers, verifier};
use actix_web::{web, HttpRequest};
use clerk_verify::adapter;
use clerk_verify::request::PageRequest;
use clerk_verify::{Authentication, Verifier};

clerk_verify::adapter_pages! {
    /// A session refreshed through the Backend API (`__refresh`) is signed in on this very
    /// request under a [`ClerkMiddleware`](crate::ClerkMiddleware), which sets the new cookies;
    /// without one, after a 307 to the page.
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::{ClerkPage, RequireSignIn};
    ///
    /// #[get("/")]
    /// async fn home(page: ClerkPage) -> HttpResponse {
    ///     let body = match page.as_ref() {
    ///         Some(user) => format!("<p>Hello, {}</p>", user.user_id()),
    ///         None => "<p>Hello, stranger: <a href=/sign-in>sign in</a></p>".to_owned(),
    ///     };
    ///     HttpResponse::Ok().content_type("text/html").body(body)
    /// }
    ///
    /// #[get("/dashboard")]
    /// async fn dashboard(user: RequireSignIn) -> HttpResponse {
    ///     HttpResponse::Ok().body(format!("<h1>{}'s dashboard</h1>", user.user_id()))
    /// }
    /// ```
    pub struct ClerkPage;

    /// A session refreshed through the Backend API is signed in as for [`ClerkPage`], whose
    /// example has one.
    pub struct RequireSignIn;
}

from_request! {
    [] ClerkPage => |req| adapter::page(page(&req).await?.2).map(ClerkPage);
    [] RequireSignIn => |req| {
        let (verifier, page, answer) = page(&req).await?;
        adapter::page_requiring_sign_in(verifier, &page, answer).map(RequireSignIn)
    };
}

/// The request's page and its answer, computed once (a returning handshake is good once), on
/// actix's blocking pool when it needs I/O (a key fetch, a handshake's nonce exchange).
async fn page(req: &HttpRequest) -> Result<(&Verifier, PageRequest, Authentication), ClerkError> {
    let verifier = verifier(req)?;
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let headers = req.headers().iter();
    let headers = headers.map(|(n, v)| (n.as_str(), v.as_bytes()));
    let page = PageRequest::from_headers(req.method().as_str(), path, headers);
    let (page, answer) = answers(req)
        .authenticate_page(verifier, page, web::block)
        .await;
    Ok((verifier, page, answer))
}
