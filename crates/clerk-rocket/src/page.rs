//! Server-rendered pages: [`ClerkPage`] and [`RequireSignIn`] run Clerk's handshake
//! ([`clerk_verify::Verifier::authenticate_page`]), so a browser whose session cookie expired
//! is refreshed through Clerk's Frontend API instead of being shown a signed-out page. API
//! routes keep [`crate::ClerkAuth`] / [`crate::OptionalAuth`], which never redirect. The page
//! guards share one page authentication per request, apart from the API guards'.

use crate::cache::page_guard;
use crate::error::ClerkError;
use clerk_verify::adapter;
use rocket::request::{self, FromRequest, Request};

clerk_verify::adapter_optional! {
    /// A page that serves everyone: `Some(user)` when signed in, `None` for a signed-out
    /// visitor. A browser whose cookies need refreshing is redirected (307) through Clerk's
    /// handshake first, and comes back with fresh cookies; a key source that is down is 503,
    /// never the signed-out page. Dereferences to `Option<Auth>`. A session refreshed through
    /// the Backend API (`__refresh`) is signed in on this very request with the
    /// [`ClerkFairing`](crate::ClerkFairing), which sets the new cookies; without it, after a 307.
    ///
    /// Handshakes need the verifier's [`VerifyOptions::handshake`] (on with
    /// `CLERK_PUBLISHABLE_KEY` in [`Verifier::from_env`]); without it a page simply gets the
    /// signed-in or signed-out answer. The redirects are answered by [`catchers()`], which must
    /// be registered.
    ///
    /// ```
    /// use clerk_rocket::{ClerkPage, HandshakeOptions, RequireSignIn, Verifier, VerifyOptions};
    /// use rocket::http::Status;
    /// use rocket::local::blocking::Client;
    /// use rocket::response::content::RawHtml;
    /// use rocket::{get, routes};
    ///
    /// #[get("/")]
    /// fn home(page: ClerkPage) -> RawHtml<String> {
    ///     RawHtml(match page.as_ref() {
    ///         Some(user) => format!("<p>Hello, <code>{}</code></p>", user.user_id()),
    ///         None => "<p>Hello, stranger: <a href=\"/dashboard\">sign in</a></p>".to_owned(),
    ///     })
    /// }
    ///
    /// #[get("/dashboard")]
    /// fn dashboard(user: RequireSignIn) -> String {
    ///     format!("{}'s dashboard", user.user_id())
    /// }
    ///
    /// # let jwks = clerk_dev::fixtures::rsa2048().jwks_json();
    /// // pk_test_ for fond-koala-12.clerk.accounts.dev; in production `Verifier::from_env()`.
    /// let pk = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";
    /// let sign_in = HandshakeOptions::default().sign_in_url("https://accounts.example.com/sign-in");
    /// let options = VerifyOptions::default().publishable_key(pk).handshake(sign_in);
    /// let rocket = rocket::build()
    ///     .manage(Verifier::from_jwks(&jwks, options)?)
    ///     .register("/", clerk_rocket::catchers())
    ///     .mount("/", routes![home, dashboard]);
    /// let client = Client::untracked(rocket)?;
    ///
    /// let home = client.get("/").dispatch();
    /// assert!(home.into_string().unwrap().contains("stranger"));
    /// let dashboard = client.get("/dashboard").dispatch();
    /// assert_eq!(dashboard.status(), Status::TemporaryRedirect);
    /// assert_eq!(
    ///     dashboard.headers().get_one("location"),
    ///     Some("https://accounts.example.com/sign-in?redirect_url=http%3A%2F%2Flocalhost%2Fdashboard"),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// [`VerifyOptions::handshake`]: crate::VerifyOptions::handshake
    /// [`Verifier::from_env`]: crate::Verifier::from_env
    /// [`catchers()`]: crate::catchers
    pub struct ClerkPage;
}

clerk_verify::adapter_auth! {
    /// A page that requires sign-in: the signed-in user, else a 307 to the sign-in page
    /// (`CLERK_SIGN_IN_URL`, with `redirect_url` back to this page), after Clerk's handshake
    /// when the cookies need refreshing. Without a configured sign-in URL a signed-out visitor
    /// gets 401. Dereferences to [`Auth`](crate::Auth). As for [`ClerkPage`], [`catchers()`]
    /// answer the redirects; [`ClerkPage`]'s example has both.
    ///
    /// [`catchers()`]: crate::catchers
    pub struct RequireSignIn;
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClerkPage {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        page_guard(req, |_, _, a| adapter::page(a).map(ClerkPage)).await
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequireSignIn {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        page_guard(req, |verifier, page, a| {
            adapter::page_requiring_sign_in(verifier, page, a).map(RequireSignIn)
        })
        .await
    }
}
