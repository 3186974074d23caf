//! [`ClerkLayer`]: the verifier for every request, Clerk's debug headers on responses, and
//! optionally sign-in (or a [`Policy`]) required for a whole router.

use crate::extract::{answers, authenticate};
use axum::http::header::{HeaderMap, HeaderName, HeaderValue};
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Response};
use clerk_verify::adapter;
use clerk_verify::request::{Policy, AUTH_REASON_HEADER};
use clerk_verify::Verifier;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// A tower [`Layer`] that gives every request the [`Verifier`] (a request extension, where
/// [`crate::ClerkAuth`] and the other extractors find it), authenticates each request at most
/// once, and adds `x-clerk-auth-status` / `x-clerk-auth-reason` to the response of every
/// request that was authenticated ([`clerk_verify::Authentication::debug_headers`]: no reason
/// when signed in), optional routes included.
///
/// - [`ClerkLayer::new`]: lazy. Handlers that take a [`crate::ClerkAuth`] (or
///   `Option<ClerkAuth>`, a [`crate::Require`]) authenticate; the other routes cost nothing,
///   get no headers, and keep working while the key source is down.
/// - [`ClerkLayer::require_sign_in`]: every request except `OPTIONS` (CORS preflights) is
///   authenticated before the handler and refused with a [`crate::ClerkRejection`] unless
///   signed in.
/// - [`ClerkLayer::require`]: the same, and the signed-in user must also meet a [`Policy`]
///   (organization role, permissions): 403 otherwise.
///
/// The result is kept in the request's extensions: the extractors behind the layer reuse it,
/// however many ask. Behind the layer, a page ([`crate::ClerkPage`], [`crate::RequireSignIn`])
/// whose expired session is refreshed through the Backend API (a `__refresh` cookie and
/// `CLERK_SECRET_KEY`) is signed in on the same request: the layer adds the new cookies to
/// the handler's response (with `Cache-Control: no-store`), where without it one 307 back to
/// the page sets them. Add a requiring layer with `route_layer` so that unknown paths stay 404,
/// and put CORS *outside* it (`.layer(clerk).layer(cors)`: the last layer runs first) so that
/// preflights are answered before authentication and refusals carry CORS headers.
///
/// ```
/// use axum::{routing::get, Router};
/// use clerk_axum::{ClerkAuth, ClerkLayer, Policy};
/// # let verifier = clerk_verify::Verifier::from_jwks(
/// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
///
/// let admin = Router::new()
///     .route("/stats", get(|| async { "stats" }))
///     .route_layer(ClerkLayer::new(verifier.clone()).require(Policy::new().role("org:admin")));
///
/// let app: Router = Router::new()
///     .route("/me", get(|auth: ClerkAuth| async move { auth.user_id().to_owned() }))
///     .route("/public", get(|| async { "hello" }))
///     .nest("/admin", admin)
///     .layer(ClerkLayer::new(verifier));
/// ```
#[derive(Debug, Clone)]
pub struct ClerkLayer {
    verifier: Verifier,
    /// `None`: lazy; `Some(policy)`: sign-in (and the policy) required.
    require: Option<Arc<Policy>>,
}

impl ClerkLayer {
    /// The verifier for the extractors, and debug headers; authentication happens where an
    /// extractor asks for it.
    pub fn new(verifier: Verifier) -> ClerkLayer {
        ClerkLayer {
            verifier,
            require: None,
        }
    }

    /// Every request except `OPTIONS` must be signed in (401/503 otherwise).
    pub fn require_sign_in(self) -> ClerkLayer {
        self.require(Policy::new())
    }

    /// Every request except `OPTIONS` must be signed in and meet `policy` (401/503, then 403).
    pub fn require(self, policy: Policy) -> ClerkLayer {
        ClerkLayer {
            require: Some(Arc::new(policy)),
            ..self
        }
    }
}

impl<S> Layer<S> for ClerkLayer {
    type Service = ClerkService<S>;

    fn layer(&self, inner: S) -> ClerkService<S> {
        ClerkService {
            inner,
            verifier: self.verifier.clone(),
            require: self.require.clone(),
        }
    }
}

/// The service [`ClerkLayer`] wraps around the inner one.
#[derive(Debug, Clone)]
pub struct ClerkService<S> {
    inner: S,
    verifier: Verifier,
    require: Option<Arc<Policy>>,
}

impl<S, B> Service<Request<B>> for ClerkService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // The clone is not ready; the service that `poll_ready` readied goes into the future.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let require = self
            .require
            .clone()
            .filter(|_| req.method() != Method::OPTIONS);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(verifier);
            // The extractors' answers; an outer ClerkLayer's are reused, so all see one.
            let answers = answers(&mut parts);
            // The page extractors' refreshed cookies; the outermost layer writes them, once.
            let cookies = answers.deliver_cookies();
            if let Some(policy) = require {
                let allowed = authenticate(&mut parts, &())
                    .await
                    .and_then(|authentication| {
                        let auth = adapter::signed_in(authentication)?;
                        Ok(policy.check(&auth)?)
                    });
                if let Err(refusal) = allowed {
                    return Ok(refusal.into_response());
                }
            }
            let mut res = inner.call(Request::from_parts(parts, body)).await?;
            if let Some(slot) = cookies {
                slot.write(res.headers_mut(), set, append);
            }
            if let Some(debug) = answers.debug_headers() {
                // Replacing the handler's own: a signed-in state leaves no reason behind.
                let headers = res.headers_mut();
                headers.remove(AUTH_REASON_HEADER);
                for (name, value) in debug {
                    if let Ok(value) = HeaderValue::from_str(value) {
                        headers.insert(name, value);
                    }
                }
            }
            Ok(res)
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
