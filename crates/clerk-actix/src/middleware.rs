//! [`ClerkMiddleware`]: Clerk's debug headers on responses, and optionally sign-in required for a
//! whole app or scope.

use crate::extract::authenticate;
use actix_web::body::EitherBody;
use actix_web::dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::HttpMessage;
use clerk_verify::adapter;
use clerk_verify::request::{Policy, AUTH_REASON_HEADER};
use clerk_verify::Authentication;
use futures_util::future::{self, LocalBoxFuture, Ready};
use std::rc::Rc;

/// Middleware that adds `x-clerk-auth-status` and `x-clerk-auth-reason` to the response of every
/// request that was authenticated ([`Authentication::debug_headers`]: no reason when signed in),
/// optional routes included, and with [`ClerkMiddleware::require_sign_in`] refuses signed-out
/// requests before they reach a handler.
///
/// It never authenticates a request twice: the result is kept in the request's extensions, and
/// [`crate::ClerkAuth`] / [`crate::authenticate`] reuse it.
///
/// - [`ClerkMiddleware::new`]: lazy. Routes that take a [`crate::ClerkAuth`] (or
///   `Option<ClerkAuth>`) authenticate; the others cost nothing and get no headers.
/// - [`ClerkMiddleware::require_sign_in`]: every request except `OPTIONS` (CORS preflights)
///   is authenticated first and refused with a [`crate::ClerkError`] unless signed in.
/// - [`ClerkMiddleware::require`]: the same, and the signed-in user must also meet a
///   [`Policy`] (organization role, permissions): 403 otherwise.
///
/// Register CORS *outside* it (`.wrap(clerk).wrap(cors)`: the last `wrap` runs first) so that
/// preflights are answered before authentication and refusals carry CORS headers.
///
/// ```
/// use actix_web::{web, App, HttpResponse};
/// use clerk_actix::{ClerkAuth, ClerkMiddleware};
/// # let verifier = clerk_verify::Verifier::from_jwks(
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

    /// Every request except `OPTIONS` must be signed in (401/503 otherwise), plus the headers.
    pub fn require_sign_in() -> ClerkMiddleware {
        ClerkMiddleware::require(Policy::new())
    }

    /// Every request except `OPTIONS` must be signed in and meet `policy` (401/503, then 403).
    ///
    /// ```
    /// use actix_web::{web, App};
    /// use clerk_actix::ClerkMiddleware;
    /// use clerk_verify::request::Policy;
    ///
    /// let admin = web::scope("/admin")
    ///     .wrap(ClerkMiddleware::require(Policy::new().role("org:admin")))
    ///     .route("/stats", web::get().to(|| async { "stats" }));
    /// # let _ = App::new().service(admin);
    /// ```
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
            let mut res = service.call(req).await?;
            let headers = res
                .request()
                .extensions()
                .get::<Authentication>()
                .map(Authentication::debug_headers);
            if let Some(headers) = headers {
                set_debug_headers(res.headers_mut(), &headers);
            }
            Ok(res.map_into_left_body())
        })
    }
}

/// Sets Clerk's debug headers as the core lists them ([`Authentication::debug_headers`]),
/// replacing any already set (a refusal's): a signed-in state leaves no `x-clerk-auth-reason`
/// behind.
fn set_debug_headers(headers: &mut HeaderMap, debug: &[(&'static str, &'static str)]) {
    headers.remove(AUTH_REASON_HEADER);
    for &(name, value) in debug {
        // A reason code is the core's or the app's: skip one that is no header value.
        if let Ok(value) = HeaderValue::from_str(value) {
            if !value.is_empty() {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}
