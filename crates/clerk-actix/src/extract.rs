//! The session extractors ([`ClerkAuth`], [`OptionalAuth`], [`Require`]), [`authenticate`], and
//! what every extractor shares: the request's [`Answers`] and the `FromRequest` glue.

use crate::error::ClerkError;
use actix_web::http::header::{HeaderValue, AUTHORIZATION, COOKIE};
use actix_web::{web, HttpMessage, HttpRequest};
use clerk_verify::adapter::{self, Answers};
use clerk_verify::request::Requirement;
use clerk_verify::{Authentication, Verifier};
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};

/// What an app without a [`Verifier`] is told to add (in the log; in the 500 in debug builds).
const VERIFIER_FIX: &str = "add .app_data(web::Data::new(verifier)) to the App";

/// `impl FromRequest` for each extractor: `$answer` (an [`adapter`] function applied to the
/// request's answer) on a boxed future, with the request as `$req` (and its body as `$body`).
macro_rules! from_request {
    ($([$($generics:tt)*] $ty:ty => |$req:ident $(, $body:ident)?| $answer:expr;)*) => {$(
        impl<$($generics)*> actix_web::FromRequest for $ty {
            type Error = crate::ClerkError;
            type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

            fn from_request(
                req: &actix_web::HttpRequest,
                _payload: &mut actix_web::dev::Payload,
            ) -> Self::Future {
                let $req = req.clone();
                $(let mut $body = _payload.take();)?
                Box::pin(async move { Ok($answer?) })
            }
        }
    )*};
}

clerk_verify::adapter_auth! {
    /// For routes that also serve signed-out visitors take [`OptionalAuth`], not
    /// `Option<ClerkAuth>`: actix turns every extractor error into `None`, so `Option<ClerkAuth>`
    /// would also treat a key-source outage as "signed out".
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::{ClerkAuth, ClerkError, OptionalAuth, RequireRole, Role};
    ///
    /// #[get("/admin")]
    /// async fn admin(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    ///     auth.require_role("org:admin")?;
    ///     Ok(HttpResponse::Ok().body(auth.user_id().to_owned()))
    /// }
    ///
    /// #[get("/hello")]
    /// async fn hello(auth: OptionalAuth) -> HttpResponse {
    ///     let who = auth.as_ref().map_or("stranger", |a| a.user_id());
    ///     HttpResponse::Ok().body(format!("hello, {who}"))
    /// }
    ///
    /// struct Admin;
    /// impl Role for Admin {
    ///     const ROLE: &'static str = "org:admin";
    /// }
    ///
    /// #[get("/admin/stats")]
    /// async fn stats(user: RequireRole<Admin>) -> HttpResponse {
    ///     HttpResponse::Ok().body(format!("hello admin {}", user.user_id()))
    /// }
    /// ```
    pub struct ClerkAuth;
}

from_request! {
    [] ClerkAuth => |req| adapter::signed_in(authenticate(&req).await?).map(ClerkAuth);
}

clerk_verify::adapter_optional! {
    /// [`ClerkAuth`]'s example has one.
    pub struct OptionalAuth;
}

from_request! {
    [] OptionalAuth => |req| adapter::optional(authenticate(&req).await?).map(OptionalAuth);
}

clerk_verify::adapter_require! {
    /// [`ClerkAuth`]'s example has one ([`RequireRole`]).
    pub struct Require;
}

from_request! {
    [R: Requirement] Require<R> => |req| {
        adapter::required::<R>(authenticate(&req).await?).map(Require::new)
    };
}

/// Authenticates the request once: the first call (an extractor, the middleware) verifies,
/// inline when the key is in memory, on actix's blocking pool otherwise
/// ([`Step`](clerk_verify::request::Step)); later calls get its answer. `Err` is a server-side
/// problem only (no [`Verifier`] in the app data); a missing or bad token is
/// `Ok(Authentication::SignedOut(..))`, and so is a verification the blocking pool could not
/// complete (`jwk-remote-failed-to-load`, 503 like a key source that is down).
pub async fn authenticate(req: &HttpRequest) -> Result<Authentication, ClerkError> {
    let (verifier, (authorization, cookies)) = (verifier(req)?, token(req));
    // Extractors polled together (as actix polls a handler's) await the first one's task.
    let spawn = |work| {
        if let Some(InFlight(task)) = req.extensions().get::<InFlight>() {
            return task.clone();
        }
        let task = web::block(work).map(|done| done.map_err(|e| e.to_string()));
        let task = task.boxed_local().shared();
        req.extensions_mut().insert(InFlight(task.clone()));
        task
    };
    Ok(answers(req)
        .authenticate_session(verifier, authorization, cookies, spawn)
        .await)
}

/// The session answer's blocking task (a key fetch), kept in the request's extensions.
struct InFlight(Shared<LocalBoxFuture<'static, Result<Authentication, String>>>);

/// The request's `Authorization` and `Cookie` header values, as [`Answers`] reads them.
pub(crate) fn token(req: &HttpRequest) -> (Option<&[u8]>, impl Iterator<Item = &[u8]>) {
    let headers = req.headers();
    let authorization = headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
    let cookies = headers.get_all(COOKIE).map(HeaderValue::as_bytes);
    (authorization, cookies)
}

/// The app's [`Verifier`], or the 500 that says how to add one.
pub(crate) fn verifier(req: &HttpRequest) -> Result<&Verifier, ClerkError> {
    crate::app_data(req).ok_or_else(|| adapter::verifier_missing(VERIFIER_FIX).into())
}

/// The request's [`Answers`] (every extractor's and the middleware's), put in by the first to ask.
pub(crate) fn answers(req: &HttpRequest) -> Answers {
    let mut extensions = req.extensions_mut();
    if let Some(answers) = extensions.get::<Answers>() {
        return answers.clone();
    }
    let answers = Answers::new();
    extensions.insert(answers.clone());
    answers
}
