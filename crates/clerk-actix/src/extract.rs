//! [`ClerkAuth`], the extractor, and [`authenticate`], the once-per-request authentication it
//! and the middleware share.

use crate::error::{ClerkError, LOG_TARGET, REASON_INTERNAL, REASON_VERIFIER_MISSING};
use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, AUTHORIZATION, COOKIE};
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use clerk_verify::{Auth, Authentication, Error, SignedOut, Verifier};
use futures_util::future::{self, Either, FutureExt, LocalBoxFuture, Ready, Shared};
use std::borrow::Cow;
use std::ops::Deref;

/// The signed-in user: an extractor that answers 401 (or 503 when the keys cannot be had, 500
/// when the verifier is misconfigured or missing) for any other request. Dereferences to
/// [`Auth`].
///
/// Take `Option<ClerkAuth>` instead for routes that also serve signed-out visitors: actix turns
/// every extractor error into `None`, so a missing, bad or unverifiable token gives `None`, never
/// an error status.
///
/// ```
/// use actix_web::{get, HttpResponse};
/// use clerk_actix::ClerkAuth;
///
/// #[get("/me")]
/// async fn me(auth: ClerkAuth) -> HttpResponse {
///     HttpResponse::Ok().body(auth.user_id().to_owned())
/// }
///
/// #[get("/hello")]
/// async fn hello(auth: Option<ClerkAuth>) -> HttpResponse {
///     let who = auth.as_ref().map_or("stranger", |a| a.user_id());
///     HttpResponse::Ok().body(format!("hello, {who}"))
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ClerkAuth(pub Auth);

impl ClerkAuth {
    /// The [`Auth`] inside.
    pub fn into_inner(self) -> Auth {
        self.0
    }

    /// A 403 [`ClerkError`] (reason [`REASON_MISSING_ROLE`](crate::REASON_MISSING_ROLE)) unless
    /// the active organization role is exactly `role` (`org:`-prefixed, e.g. `"org:admin"`):
    /// [`Auth::require_role`], as a response.
    ///
    /// ```
    /// use actix_web::{get, HttpResponse};
    /// use clerk_actix::{ClerkAuth, ClerkError};
    ///
    /// #[get("/admin")]
    /// async fn admin(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
    ///     auth.require_role("org:admin")?;
    ///     Ok(HttpResponse::Ok().finish())
    /// }
    /// ```
    pub fn require_role(&self, role: &str) -> Result<&Auth, ClerkError> {
        self.0.require_role(role)?;
        Ok(&self.0)
    }

    /// A 403 [`ClerkError`] (reason
    /// [`REASON_MISSING_PERMISSION`](crate::REASON_MISSING_PERMISSION)) unless the active
    /// organization grants `permission` (e.g. `"org:invoices:read"`):
    /// [`Auth::require_permission`], as a response.
    pub fn require_permission(&self, permission: &str) -> Result<&Auth, ClerkError> {
        self.0.require_permission(permission)?;
        Ok(&self.0)
    }
}

impl Deref for ClerkAuth {
    type Target = Auth;

    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl From<ClerkAuth> for Auth {
    fn from(auth: ClerkAuth) -> Auth {
        auth.0
    }
}

impl FromRequest for ClerkAuth {
    type Error = ClerkError;
    type Future = Either<
        Ready<Result<ClerkAuth, ClerkError>>,
        LocalBoxFuture<'static, Result<ClerkAuth, ClerkError>>,
    >;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        match start(req) {
            Step::Done(result) => Either::Left(future::ready(result.and_then(signed_in))),
            Step::Wait(verification) => {
                let req = req.clone();
                Either::Right(Box::pin(async move {
                    signed_in(finish(&req, verification).await)
                }))
            }
        }
    }
}

pub(crate) fn signed_in(authentication: Authentication) -> Result<ClerkAuth, ClerkError> {
    match authentication {
        Authentication::SignedIn(auth) => Ok(ClerkAuth(auth)),
        Authentication::SignedOut(s) => Err(ClerkError::signed_out(&s)),
        // `Authentication` is non-exhaustive: a state added later is not a signed-in user.
        _ => Err(ClerkError::internal(
            REASON_INTERNAL,
            "unknown authentication state (is clerk-actix older than clerk-verify?)",
        )),
    }
}

/// Authenticates the request once: the first call finds the token, verifies it and stores the
/// [`Authentication`] in the request's extensions; later calls (other extractors, the
/// middleware) return that stored result, or wait for the verification already under way.
///
/// The [`Verifier`] comes from the app data, as `web::Data<Verifier>` or a plain `Verifier`.
/// Verification runs inline when the key is in memory and on actix's blocking pool otherwise,
/// so a JWKS fetch never stalls the executor. `Err` is a server-side problem only (no verifier
/// in the app data); a missing or bad token is `Ok(Authentication::SignedOut(..))`, and so is a
/// verification that could not complete on the blocking pool (reason
/// `jwk-remote-failed-to-load`, answered 503 like a key source that is down).
pub async fn authenticate(req: &HttpRequest) -> Result<Authentication, ClerkError> {
    match start(req) {
        Step::Done(result) => result,
        Step::Wait(verification) => Ok(finish(req, verification).await),
    }
}

/// A verification running on the blocking pool, awaited by every extractor that asks meanwhile.
type Verification = Shared<LocalBoxFuture<'static, Authentication>>;

/// Kept in the request's extensions while a [`Verification`] runs.
struct InFlight(Verification);

/// How far [`start`] got without blocking.
enum Step {
    Done(Result<Authentication, ClerkError>),
    /// The key is not in memory: wait for the verification on the blocking pool.
    Wait(Verification),
}

fn start(req: &HttpRequest) -> Step {
    {
        let extensions = req.extensions();
        if let Some(known) = extensions.get::<Authentication>() {
            return Step::Done(Ok(known.clone()));
        }
        if let Some(InFlight(verification)) = extensions.get::<InFlight>() {
            return Step::Wait(verification.clone());
        }
    }
    let Some(verifier) = verifier(req) else {
        log::error!(
            target: LOG_TARGET,
            "no clerk_verify::Verifier in the app data: add .app_data(web::Data::new(verifier))"
        );
        return Step::Done(Err(ClerkError::internal(
            REASON_VERIFIER_MISSING,
            "the server has no Clerk verifier configured",
        )));
    };
    let headers = req.headers();
    let authorization = headers
        .get(AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()));
    let cookie = cookie_header(headers);
    let token = match verifier.find_token(authorization.as_deref(), cookie.as_deref()) {
        Ok(token) => token,
        Err(signed_out) => return Step::Done(Ok(remember(req, signed_out))),
    };
    if let Some(result) = verifier.try_authenticate(&token) {
        return Step::Done(Ok(remember(req, result)));
    }
    let verifier = verifier.clone();
    let verification = web::block(move || verifier.authenticate(&token))
        .map(|r| {
            r.unwrap_or_else(|e| {
                log::error!(target: LOG_TARGET, "the verification task did not complete: {e}");
                unfinished()
            })
        })
        .boxed_local()
        .shared();
    req.extensions_mut().insert(InFlight(verification.clone()));
    Step::Wait(verification)
}

async fn finish(req: &HttpRequest, verification: Verification) -> Authentication {
    remember(req, verification.await)
}

/// The signed-out state for a verification that did not complete (the blocking pool is gone,
/// the task panicked): the keys could not be had, so 503, never a panic.
fn unfinished() -> Authentication {
    Authentication::SignedOut(SignedOut::from_error(Error::JwkRemoteFailedToLoad(
        "the verification task did not complete".into(),
    )))
}

fn remember(req: &HttpRequest, authentication: Authentication) -> Authentication {
    let mut extensions = req.extensions_mut();
    extensions.remove::<InFlight>();
    extensions.insert(authentication.clone());
    authentication
}

fn verifier(req: &HttpRequest) -> Option<&Verifier> {
    req.app_data::<web::Data<Verifier>>()
        .map(|data| data.get_ref())
        .or_else(|| req.app_data::<Verifier>())
}

/// All `Cookie` headers as one (HTTP/2 may split them); undecodable bytes become U+FFFD, which
/// no cookie name matches.
fn cookie_header(headers: &HeaderMap) -> Option<Cow<'_, str>> {
    let mut values = headers.get_all(COOKIE);
    let first = String::from_utf8_lossy(values.next()?.as_bytes());
    let mut rest = values.peekable();
    if rest.peek().is_none() {
        return Some(first);
    }
    let mut joined = first.into_owned();
    for v in rest {
        joined.push_str("; ");
        joined.push_str(&String::from_utf8_lossy(v.as_bytes()));
    }
    Some(Cow::Owned(joined))
}
