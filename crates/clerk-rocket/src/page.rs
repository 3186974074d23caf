//! Server-rendered pages: [`ClerkPage`] and [`RequireSignIn`] run Clerk's handshake
//! ([`clerk_verify::Verifier::authenticate_page`]), so a browser whose session cookie expired
//! is refreshed through Clerk's Frontend API instead of being shown a signed-out page. API
//! routes keep [`crate::ClerkAuth`] / [`crate::OptionalAuth`], which never redirect.

use crate::cache::{page_authentication, refuse, verifier};
use crate::error::ClerkError;
use crate::guard::verifier_managed;
use clerk_verify::Auth;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Ignite, Rocket, Sentinel};
use std::ops::Deref;

/// A page that serves everyone: `Some(user)` when signed in, `None` for a signed-out visitor.
/// A browser whose cookies need refreshing is redirected (307) through Clerk's handshake
/// first, and comes back with fresh cookies; a key source that is down is 503, never the
/// signed-out page. Dereferences to `Option<Auth>`.
///
/// Handshakes need the verifier's [`VerifyOptions::handshake`] (on with
/// `CLERK_PUBLISHABLE_KEY` in [`Verifier::from_env`]); without it a page simply gets the
/// signed-in or signed-out answer. The redirects are answered by [`catchers()`], which must be
/// registered.
///
/// ```no_run
/// use clerk_rocket::{ClerkPage, Verifier};
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
/// #[rocket::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // CLERK_PUBLISHABLE_KEY names the Frontend API that refreshes sessions.
///     let verifier = Verifier::from_env()?;
///     let _ = rocket::build()
///         .manage(verifier)
///         .register("/", clerk_rocket::catchers())
///         .mount("/", routes![home])
///         .launch()
///         .await?;
///     Ok(())
/// }
/// ```
///
/// [`VerifyOptions::handshake`]: clerk_verify::VerifyOptions::handshake
/// [`Verifier::from_env`]: clerk_verify::Verifier::from_env
/// [`catchers()`]: crate::catchers
#[derive(Debug, Clone, PartialEq)]
pub struct ClerkPage(pub Option<Auth>);

impl ClerkPage {
    /// The user, if signed in.
    pub fn into_inner(self) -> Option<Auth> {
        self.0
    }
}

impl Deref for ClerkPage {
    type Target = Option<Auth>;

    fn deref(&self) -> &Option<Auth> {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClerkPage {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        let page = match page_authentication(req).await {
            Ok(page) => page,
            Err(e) => return refuse(req, e.clone()),
        };
        match page.authentication.clone().into_page() {
            Ok(auth) => Outcome::Success(ClerkPage(auth)),
            Err(refusal) => refuse(req, refusal.into()),
        }
    }
}

/// A page that requires sign-in: the signed-in user, else a 307 to the sign-in page
/// (`CLERK_SIGN_IN_URL`, with `redirect_url` back to this page), after Clerk's handshake when
/// the cookies need refreshing. Without a configured sign-in URL a signed-out visitor gets 401.
/// Dereferences to [`Auth`]. As for [`ClerkPage`], [`catchers()`] answer the redirects.
///
/// ```
/// use clerk_rocket::{RequireSignIn, Verifier};
/// use clerk_verify::request::HandshakeOptions;
/// use clerk_verify::VerifyOptions;
/// use rocket::http::Status;
/// use rocket::local::blocking::Client;
/// use rocket::{get, routes};
///
/// #[get("/dashboard")]
/// fn dashboard(user: RequireSignIn) -> String {
///     format!("{}'s dashboard", user.user_id())
/// }
///
/// # let jwks = clerk_dev::fixtures::rsa2048().jwks_json();
/// // pk_test_ for fond-koala-12.clerk.accounts.dev
/// let pk = "pk_test_Zm9uZC1rb2FsYS0xMi5jbGVyay5hY2NvdW50cy5kZXYk";
/// let options = VerifyOptions::default()
///     .publishable_key(pk)
///     .handshake(HandshakeOptions::default().sign_in_url("https://accounts.example.com/sign-in"));
/// let verifier = Verifier::from_jwks(&jwks, options)?;
/// let rocket = rocket::build()
///     .manage(verifier)
///     .register("/", clerk_rocket::catchers())
///     .mount("/", routes![dashboard]);
/// let client = Client::untracked(rocket)?;
///
/// let signed_out = client.get("/dashboard").dispatch();
/// assert_eq!(signed_out.status(), Status::TemporaryRedirect);
/// assert_eq!(
///     signed_out.headers().get_one("location"),
///     Some("https://accounts.example.com/sign-in?redirect_url=http%3A%2F%2Flocalhost%2Fdashboard"),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// [`catchers()`]: crate::catchers
#[derive(Debug, Clone, PartialEq)]
pub struct RequireSignIn(pub Auth);

impl RequireSignIn {
    /// The [`Auth`] inside.
    pub fn into_inner(self) -> Auth {
        self.0
    }
}

impl Deref for RequireSignIn {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl From<RequireSignIn> for Auth {
    fn from(user: RequireSignIn) -> Auth {
        user.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequireSignIn {
    type Error = ClerkError;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
        let page = match page_authentication(req).await {
            Ok(page) => page,
            Err(e) => return refuse(req, e.clone()),
        };
        // The verifier is there: it authenticated the page.
        let verifier = match verifier(req) {
            Ok(verifier) => verifier,
            Err(e) => return refuse(req, e),
        };
        match page
            .authentication
            .clone()
            .require_sign_in(verifier.sign_in_redirect(&page.request))
        {
            Ok(auth) => Outcome::Success(RequireSignIn(auth)),
            Err(refusal) => refuse(req, refusal.into()),
        }
    }
}

impl Sentinel for ClerkPage {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "ClerkPage")
    }
}

impl Sentinel for RequireSignIn {
    fn abort(rocket: &Rocket<Ignite>) -> bool {
        !verifier_managed(rocket, "RequireSignIn")
    }
}
