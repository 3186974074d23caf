//! The extractors ([`ClerkAuth`], [`OptionalAuth`], [`Require`]) and [`authenticate`], the
//! once-per-request authentication they and the middleware share.

use crate::error::ClerkError;
use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, COOKIE};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use clerk_verify::adapter;
use clerk_verify::request::{Requirement, Step};
use clerk_verify::{Authentication, Refusal, Verifier};
use futures_util::future::{FutureExt, LocalBoxFuture, Shared};

/// What an app without a [`Verifier`] is told to add (in the log; in the 500 in debug builds).
const VERIFIER_FIX: &str = "add .app_data(web::Data::new(verifier)) to the App";

clerk_verify::adapter_auth! {
    /// The signed-in user: an extractor that answers 401 (or 503 when the keys cannot be had,
    /// 500 when the verifier is misconfigured or missing) for any other request. Dereferences to
    /// [`Auth`], so `auth.require_role("org:admin")?` works in a handler returning
    /// `Result<_, ClerkError>`.
    ///
    /// For routes that also serve signed-out visitors take [`OptionalAuth`], not
    /// `Option<ClerkAuth>`: actix turns every extractor error into `None`, so `Option<ClerkAuth>`
    /// would also treat a key-source outage as "signed out".
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::{ClerkAuth, ClerkError};
    ///
    /// #[get("/admin")]
    /// async fn admin(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    ///     auth.require_role("org:admin")?;
    ///     Ok(HttpResponse::Ok().body(auth.user_id().to_owned()))
    /// }
    /// ```
    pub struct ClerkAuth;
}

impl FromRequest for ClerkAuth {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<ClerkAuth, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |a| adapter::signed_in(a).map(ClerkAuth))
    }
}

clerk_verify::adapter_optional! {
    /// Optional authentication: `Some(user)` when signed in, `None` when the request has no valid
    /// session (no token, a bad or expired token). A key source that is down (503) or a
    /// misconfigured verifier (500) still refuses the request, so an outage never silently turns
    /// signed-in users into anonymous ones. Dereferences to `Option<Auth>`.
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::OptionalAuth;
    ///
    /// #[get("/hello")]
    /// async fn hello(auth: OptionalAuth) -> HttpResponse {
    ///     let who = auth.as_ref().map_or("stranger", |a| a.user_id());
    ///     HttpResponse::Ok().body(format!("hello, {who}"))
    /// }
    /// ```
    pub struct OptionalAuth;
}

impl FromRequest for OptionalAuth {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<OptionalAuth, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |a| adapter::optional(a).map(OptionalAuth))
    }
}

clerk_verify::adapter_require! {
    /// A signed-in user who meets the [`Requirement`] `R`: 401 (like [`ClerkAuth`]) when signed
    /// out, then 403 with `R`'s reason. Dereferences to [`Auth`]. [`RequireRole`],
    /// [`RequirePermission`] (a [`Permission`](crate::Permission), the same way),
    /// [`RequireFeature`], [`RequirePlan`] and [`RequireReverification`] (a
    /// [`ReverificationLevel`](crate::ReverificationLevel): 403 `reverification-error` with
    /// Clerk's hint) name the usual requirements.
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::{RequireRole, Role};
    ///
    /// struct Admin;
    /// impl Role for Admin {
    ///     const ROLE: &'static str = "org:admin";
    /// }
    ///
    /// #[get("/admin")]
    /// async fn admin(admin: RequireRole<Admin>) -> HttpResponse {
    ///     HttpResponse::Ok().body(format!("hello admin {}", admin.user_id()))
    /// }
    /// ```
    pub struct Require;
}

impl<R: Requirement> FromRequest for Require<R> {
    type Error = ClerkError;
    type Future = LocalBoxFuture<'static, Result<Require<R>, ClerkError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        extract(req, |a| adapter::required::<R>(a).map(Require::new))
    }
}

/// An API extractor's future: the request's [`authenticate`]d answer, turned into the
/// extractor by `finish` (one of [`clerk_verify::adapter`]'s functions).
fn extract<T: 'static>(
    req: &HttpRequest,
    finish: impl FnOnce(Authentication) -> Result<T, Refusal> + 'static,
) -> LocalBoxFuture<'static, Result<T, ClerkError>> {
    let req = req.clone();
    Box::pin(async move { Ok(finish(authenticate(&req).await?)?) })
}

/// Authenticates the request once: the first call reads the token, verifies it and stores the
/// [`Authentication`] in the request's extensions; later calls (other extractors, the
/// middleware) return that stored result, or wait for the verification already under way.
///
/// The [`Verifier`] comes from the app data, as `web::Data<Verifier>` or a plain `Verifier`.
/// Verification runs inline when the key is in memory and on actix's blocking pool otherwise
/// ([`clerk_verify::request::Step`]), so a JWKS fetch never stalls the executor. `Err` is a
/// server-side problem only (no verifier in the app data); a missing or bad token is
/// `Ok(Authentication::SignedOut(..))`, and so is a verification that could not complete on the
/// blocking pool (`jwk-remote-failed-to-load`, answered 503 like a key source that is down).
pub async fn authenticate(req: &HttpRequest) -> Result<Authentication, ClerkError> {
    let verification = {
        let extensions = req.extensions();
        if let Some(known) = extensions.get::<Authentication>() {
            return Ok(known.clone());
        }
        extensions.get::<InFlight>().map(|f| f.0.clone())
    };
    let verification = match verification {
        Some(in_flight) => in_flight,
        None => {
            let verifier = verifier(req)?;
            let headers = req.headers();
            let step = verifier.authenticate_headers(
                headers.get(AUTHORIZATION).map(|v| v.as_bytes()),
                headers.get_all(COOKIE).map(|v| v.as_bytes()),
            );
            if let Step::Done(done) = step {
                return Ok(remember(req, done));
            }
            let verification = step.finish(web::block).boxed_local().shared();
            req.extensions_mut().insert(InFlight(verification.clone()));
            verification
        }
    };
    Ok(remember(req, verification.await))
}

/// A verification running on the blocking pool, kept in the request's extensions meanwhile so
/// every extractor that asks awaits the same one.
struct InFlight(Shared<LocalBoxFuture<'static, Authentication>>);

fn remember(req: &HttpRequest, authentication: Authentication) -> Authentication {
    let mut extensions = req.extensions_mut();
    extensions.remove::<InFlight>();
    extensions.insert(authentication.clone());
    authentication
}

/// The app's [`Verifier`], or the 500 that says how to add one.
pub(crate) fn verifier(req: &HttpRequest) -> Result<&Verifier, ClerkError> {
    crate::app_data(req).ok_or_else(|| adapter::verifier_missing(VERIFIER_FIX).into())
}
