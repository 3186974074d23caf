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
/// authenticated request ([`Authentication::debug_headers`](crate::Authentication::debug_headers):
/// no reason when signed in), optional routes included. [`ClerkMiddleware::new`] is lazy: routes
/// without an extractor cost nothing and get no headers; [`ClerkMiddleware::require_sign_in`] and
/// [`ClerkMiddleware::require`] also refuse requests before they reach a handler (the
/// extractors then reuse the answer: a request is never authenticated twice).
///
/// Under it, a page ([`crate::ClerkPage`], [`crate::RequireSignIn`]) whose expired session is
/// refreshed through the Backend API (a `__refresh` cookie and `CLERK_SECRET_KEY`) is signed in
/// on the same request: the middleware adds the new cookies to the handler's response (with
/// `Cache-Control: no-store`), where without it one 307 back to the page sets them. Register
/// CORS *outside* it (`.wrap(clerk).wrap(cors)`: the last `wrap` runs first) so that preflights
/// are answered before authentication and refusals carry CORS headers.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use clerk_actix::{ClerkAuth, ClerkMiddleware, Policy};
/// # let verifier = clerk_actix::Verifier::from_jwks(
/// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
///
/// let app = App::new()
///     .app_data(web::Data::new(verifier))
///     .wrap(ClerkMiddleware::new())
///     .route("/me", web::get().to(|auth: ClerkAuth| async move {
///         HttpResponse::Ok().body(auth.user_id().to_owned())
///     }))
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
        future::ready(Ok(ClerkMiddlewareService {
            service: Rc::new(service),
            require: self.require.clone(),
        }))
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
        let service = Rc::clone(&self.service);
        let require = self
            .require
            .clone()
            .filter(|_| req.method() != Method::OPTIONS);
        Box::pin(async move {
            let answers = answers(req.request());
            if let Some(policy) = require {
                let allowed = authenticate(req.request())
                    .await
                    .and_then(|authentication| {
                        let auth = adapter::signed_in(authentication)?;
                        Ok(policy.check(&auth)?)
                    });
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
