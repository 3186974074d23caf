//! [`ClerkMiddleware`]: Clerk's debug headers on responses, and optionally sign-in required for a
//! whole app or scope.

use crate::extract::{answers, authenticate};
use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use clerk_verify::adapter;
use clerk_verify::request::{Policy, AUTH_REASON_HEADER};
use futures_util::future::{self, LocalBoxFuture, Ready};
use std::rc::Rc;

/// Middleware that adds `x-clerk-auth-status` and `x-clerk-auth-reason` to the response of every
/// authenticated request ([`Authentication::debug_headers`](crate::Authentication::debug_headers)),
/// optional routes included. [`ClerkMiddleware::new`] is lazy: routes without an extractor cost
/// nothing and get no headers; [`require_sign_in`](Self::require_sign_in) and
/// [`require`](Self::require) also refuse requests before a handler (whose extractors reuse
/// the answer). Under it, a page whose expired session is refreshed through the Backend API (a
/// `__refresh` cookie and `CLERK_SECRET_KEY`) gets the new cookies (and `Cache-Control:
/// no-store`) on its own response, not after a 307 back to it. Register CORS *outside* it
/// (`.wrap(clerk).wrap(cors)`: the last `wrap` runs first) so that preflights are answered
/// before authentication and refusals carry CORS headers.
///
/// ```
/// use actix_web::{web, App};
/// use clerk_actix::{ClerkMiddleware, Policy};
/// # let verifier = clerk_actix::Verifier::from_jwks(
/// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
///
/// let app = App::new()
///     .app_data(web::Data::new(verifier))
///     .wrap(ClerkMiddleware::new())
///     .service(
///         web::scope("/api")
///             .wrap(ClerkMiddleware::require_sign_in())
///             .route("/ping", web::get().to(|| async { "pong" })),
///     )
///     .service(
///         web::scope("/admin")
///             .wrap(ClerkMiddleware::require(Policy::new().role("org:admin")))
///             .route("/stats", web::get().to(|| async { "stats" })),
///     );
/// # drop(app);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClerkMiddleware {
    /// `None`: lazy; `Some(policy)`: sign-in (and the policy) required.
    require: Option<Rc<Policy>>,
}

impl ClerkMiddleware {
    /// Debug headers only; authentication happens where an extractor asks for it.
    pub fn new() -> ClerkMiddleware {
        ClerkMiddleware::default()
    }

    /// Every request except `OPTIONS` (CORS preflights) must be signed in (401/503 otherwise).
    pub fn require_sign_in() -> ClerkMiddleware {
        ClerkMiddleware::require(Policy::new())
    }

    /// Every request except `OPTIONS` (CORS preflights) must be signed in and meet `policy`
    /// (an organization role, permissions): 401/503, then 403 otherwise.
    pub fn require(policy: Policy) -> ClerkMiddleware {
        ClerkMiddleware {
            require: Some(Rc::new(policy)),
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for ClerkMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = ClerkMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let (service, require) = (Rc::new(service), self.require.clone());
        future::ready(Ok(ClerkMiddlewareService { service, require }))
    }
}

/// The service [`ClerkMiddleware`] wraps around the inner one.
#[derive(Debug)]
pub struct ClerkMiddlewareService<S> {
    service: Rc<S>,
    require: Option<Rc<Policy>>,
}

impl<S, B> Service<ServiceRequest> for ClerkMiddlewareService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let (service, require) = (Rc::clone(&self.service), self.require.clone());
        Box::pin(async move {
            let answers = answers(req.request());
            if let Some(policy) = require.filter(|_| req.method() != Method::OPTIONS) {
                let answer = authenticate(req.request()).await;
                let allowed = answer.and_then(|a| Ok(policy.check(&adapter::signed_in(a)?)?));
                if let Err(refusal) = allowed {
                    return Ok(req.error_response(refusal).map_into_right_body());
                }
            }
            // The page extractors' refreshed cookies; the outermost middleware writes them.
            let cookies = answers.deliver_cookies();
            let mut res = service.call(req).await?;
            if let Some(slot) = cookies {
                slot.write(res.headers_mut(), set, append);
            }
            // The request's state replaces a refusal's: signed in leaves no reason behind.
            if let Some(debug) = answers.debug_headers() {
                res.headers_mut().remove(AUTH_REASON_HEADER);
                for (name, value) in debug {
                    set(res.headers_mut(), name, value);
                }
            }
            Ok(res.map_into_left_body())
        })
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

fn append(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.append(HeaderName::from_static(name), value);
    }
}
