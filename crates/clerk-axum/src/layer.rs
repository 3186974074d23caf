//! [`ClerkLayer`]: the verifier for every request, Clerk's debug headers and refreshed cookies
//! on responses, and optionally sign-in (or a [`Policy`]) required for a whole router.

use crate::extract::{answers, authenticate};
use crate::rejection::{append, set};
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

/// A tower [`Layer`] that gives every request the [`Verifier`] (a request extension, where the
/// extractors find it) and adds `x-clerk-auth-status` / `x-clerk-auth-reason`
/// ([`Authentication::debug_headers`](clerk_verify::Authentication::debug_headers)) to the
/// response of every request it or an extractor authenticated, optional routes included.
/// Behind it, a page whose session is refreshed through the Backend API (a `__refresh` cookie
/// and `CLERK_SECRET_KEY`) is signed in without a 307: the layer sets the new cookies on the
/// page's response ([`CookieSlot`](clerk_verify::adapter::CookieSlot)).
///
/// Add a requiring layer ([`ClerkLayer::require_sign_in`], [`ClerkLayer::require`]) with
/// `route_layer` so that unknown paths stay 404, and put CORS *outside* it
/// (`.layer(clerk).layer(cors)`: the last layer runs first) so that preflights are answered
/// before authentication and refusals carry CORS headers.
///
/// ```
/// use axum::{response::Html, routing::get, Router};
/// use clerk_axum::{ClerkLayer, ClerkPage, Policy, RequireRole, RequireSignIn, Role};
/// # let verifier = clerk_verify::Verifier::from_jwks(
/// #     &clerk_dev::fixtures::rsa2048().jwks_json(), Default::default()).unwrap();
///
/// async fn home(page: ClerkPage) -> Html<String> {
///     let name = page.as_ref().map_or("stranger", |user| user.user_id());
///     Html(format!("<p>Hello, {name}</p>"))
/// }
///
/// async fn dashboard(user: RequireSignIn) -> Html<String> {
///     Html(format!("<h1>{}'s dashboard</h1>", user.user_id()))
/// }
///
/// struct Admin;
/// impl Role for Admin {
///     const ROLE: &'static str = "org:admin";
/// }
///
/// async fn team(admin: RequireRole<Admin>) -> String {
///     format!("hello admin {}", admin.user_id())
/// }
///
/// let admin = Router::new()
///     .route("/stats", get(|| async { "stats" }))
///     .route_layer(ClerkLayer::new(verifier.clone()).require(Policy::new().role("org:admin")));
///
/// let app: Router = Router::new()
///     .route("/", get(home))
///     .route("/dashboard", get(dashboard))
///     .route("/team", get(team))
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
    /// Lazy: only handlers that take an extractor authenticate; other routes cost nothing, get
    /// no debug headers, and keep working while the key source is down.
    pub fn new(verifier: Verifier) -> ClerkLayer {
        ClerkLayer {
            verifier,
            require: None,
        }
    }

    /// Every request except `OPTIONS` (CORS preflights) is authenticated before the handler
    /// and refused with a [`crate::ClerkRejection`] unless signed in (401/503).
    pub fn require_sign_in(self) -> ClerkLayer {
        self.require(Policy::new())
    }

    /// As [`ClerkLayer::require_sign_in`], and the user must meet `policy` (organization role,
    /// permissions): 403 otherwise.
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
        let layer = self.clone();
        ClerkService { inner, layer }
    }
}

/// The service [`ClerkLayer`] wraps around the inner one.
#[derive(Debug, Clone)]
pub struct ClerkService<S> {
    inner: S,
    layer: ClerkLayer,
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
        let ClerkLayer { verifier, require } = self.layer.clone();
        let require = require.filter(|_| req.method() != Method::OPTIONS);
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            parts.extensions.insert(verifier);
            // The extractors' answers; an outer ClerkLayer's are reused, so all see one.
            let answers = answers(&mut parts);
            // The page extractors' refreshed cookies; the outermost layer writes them, once.
            let cookies = answers.deliver_cookies();
            if let Some(policy) = require {
                let answer = authenticate(&mut parts, &()).await;
                let auth = answer.and_then(|answer| Ok(adapter::signed_in(answer)?));
                if let Err(refusal) = auth.and_then(|auth| Ok(policy.check(&auth)?)) {
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
                    set(headers, name, value);
                }
            }
            Ok(res)
        })
    }
}
