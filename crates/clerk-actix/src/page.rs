//! Server-rendered pages: [`ClerkPage`] and [`RequireSignIn`] run Clerk's handshake
//! ([`clerk_verify::Verifier::authenticate_page`]), so a browser whose session cookie expired
//! is refreshed through Clerk's Frontend API instead of being shown a signed-out page. API
//! routes keep [`crate::ClerkAuth`] / [`crate::OptionalAuth`], which never redirect.

use crate::error::ClerkError;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use clerk_verify::adapter::{self, CookieSlot};
use clerk_verify::request::PageRequest;
use clerk_verify::{Authentication, Refusal, Verifier};
use futures_util::future::LocalBoxFuture;

clerk_verify::adapter_pages! {
    /// A page that serves everyone: `Some(user)` when signed in, `None` for a signed-out
    /// visitor. A browser whose cookies need refreshing is redirected (307) through Clerk's
    /// handshake first, and comes back with fresh cookies; a key source that is down is 503,
    /// never the signed-out page. Dereferences to `Option<Auth>`. A session refreshed through
    /// the Backend API (`__refresh`) is signed in on this very request under a
    /// [`ClerkMiddleware`](crate::ClerkMiddleware), which sets the new cookies; without one,
    /// after a 307 to the page.
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::ClerkPage;
    ///
    /// #[get("/")]
    /// async fn home(page: ClerkPage) -> HttpResponse {
    ///     let body = match page.as_ref() {
    ///         Some(user) => format!("<p>Hello, {}</p>", user.user_id()),
    ///         None => "<p>Hello, stranger: <a href=/sign-in>sign in</a></p>".to_owned(),
    ///     };
    ///     HttpResponse::Ok().content_type("text/html").body(body)
    /// }
    /// ```
    pub struct ClerkPage;

    /// A page that requires sign-in: the signed-in user, else a 307 to the sign-in page
    /// (`CLERK_SIGN_IN_URL`, with `redirect_url` back to this page), after Clerk's handshake
    /// when the cookies need refreshing. Without a configured sign-in URL a signed-out visitor
    /// gets 401. Dereferences to [`Auth`](clerk_verify::Auth).
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::RequireSignIn;
    ///
    /// #[get("/dashboard")]
    /// async fn dashboard(user: RequireSignIn) -> HttpResponse {
    ///     HttpResponse::Ok().body(format!("<h1>{}'s dashboard</h1>", user.user_id()))
    /// }
    /// ```
    pub struct RequireSignIn;
}

impl FromRequest for ClerkPage {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<ClerkPage, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract_page(req, |_, _, a| adapter::page(a).map(ClerkPage))
    }
}

impl FromRequest for RequireSignIn {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<RequireSignIn, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract_page(req, |verifier, page, a| {
            adapter::page_requiring_sign_in(verifier, page, a).map(RequireSignIn)
        })
    }
}

/// A page request's authentication, kept apart from the API extractors' (which never see a
/// handshake): a returning handshake is good once, so two page extractors on one request must
/// share one answer.
#[derive(Clone)]
struct PageAuthentication(PageRequest, Authentication);

/// A page extractor's future: the page authenticated once (inline when nothing needs I/O, on
/// actix's blocking pool for a key fetch or a handshake nonce exchange), turned into the
/// extractor by `finish` (one of [`clerk_verify::adapter`]'s page functions).
fn extract_page<T: 'static>(
    req: &HttpRequest,
    finish: impl FnOnce(&Verifier, &PageRequest, Authentication) -> Result<T, Refusal> + 'static,
) -> LocalBoxFuture<'static, Result<T, ClerkError>> {
    let req = req.clone();
    Box::pin(async move {
        let verifier = crate::extract::verifier(&req)?;
        let known = req.extensions().get::<PageAuthentication>().cloned();
        let PageAuthentication(page, authentication) = match known {
            Some(known) => known,
            None => {
                let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
                let headers = req.headers().iter();
                let headers = headers.map(|(n, v)| (n.as_str(), v.as_bytes()));
                // Under a ClerkMiddleware, which writes a refreshed session's cookies.
                let cookies = req.extensions().get::<CookieSlot>().cloned();
                let page = PageRequest::from_headers(req.method().as_str(), path, headers)
                    .delivers_cookies(cookies.is_some());
                let step = verifier.authenticate_page_step(page.clone());
                let known = PageAuthentication(page, step.finish(web::block).await);
                if let Some(slot) = cookies {
                    slot.fill(&known.1);
                }
                req.extensions_mut().insert(known.clone());
                known
            }
        };
        Ok(finish(verifier, &page, authentication)?)
    })
}
