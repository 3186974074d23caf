//! [Clerk](https://clerk.com) session authentication for [warp](https://docs.rs/warp) 0.4,
//! on [`clerk_verify`].
//!
//! Filters, in warp's idiom:
//!
//! | Filter | Extracts | Refuses with |
//! |---|---|---|
//! | [`clerk_auth`] | [`Auth`] | [`ClerkRejection`]: 401, or 503 when the key source is down, 500 when the verifier is misconfigured |
//! | [`require_role`], [`require_permission`] | [`Auth`] | the same, or 403 |
//! | [`optional_auth`] | `Option<Auth>` | never (a bad token is `None`) |
//! | [`authentication`] | [`Authentication`] | never (the full signed-in / signed-out state) |
//!
//! Put [`handle_rejection`] in a `recover` at the top of the routes: it turns a
//! [`ClerkRejection`] into the answer every Clerk adapter gives (the core's
//! [`clerk_verify::Refusal`]: `{"error":"unauthorized","reason":"<code>","message":"…"}`, a
//! `WWW-Authenticate` challenge on 401 and 403, Clerk's `x-clerk-auth-status` and
//! `x-clerk-auth-reason` debug headers) and hands every other rejection on untouched.
//!
//! Filters cannot touch the reply, so the debug headers of a successful reply are added where
//! the reply is made, as the actix-web middleware and the Rocket fairing do for every
//! authenticated request: wrap protected routes with [`signed_in_headers`]
//! (`x-clerk-auth-status: signed-in`), and have routes that also serve signed-out visitors take
//! the [`authentication`] state and answer through [`with_auth_headers`] (signed-in, or
//! signed-out with its reason) instead of [`optional_auth`], which adds no header.
//!
//! The filters capture the shared [`Verifier`] (a cheap `Clone` around an `Arc`). Verification
//! never blocks the executor: a token whose key is cached is checked inline
//! ([`Verifier::try_authenticate`]); one that needs a JWKS fetch is checked on tokio's blocking
//! pool ([`tokio::task::spawn_blocking`]).
//!
//! CORS preflights are not authenticated: wrap the routes in `warp::cors()` (it answers a
//! preflight itself, before any route filter runs) and give each route a method filter such as
//! `warp::get()`, placed before the Clerk filter, so an `OPTIONS` request never reaches it. Place
//! [`handle_rejection`] *inside* the CORS wrapper so that a browser can read a 401.
//!
//! The filters need no `server` feature of warp; the server below does.
//!
//! ```no_run
//! use clerk_verify::{Auth, Authentication, Verifier};
//! use clerk_warp::{
//!     authentication, clerk_auth, handle_rejection, require_role, signed_in_headers,
//!     with_auth_headers,
//! };
//! use warp::Filter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), clerk_verify::Error> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let verifier = Verifier::from_env()?;
//!
//!     let me = warp::path("me")
//!         .and(warp::get())
//!         .and(clerk_auth(verifier.clone()))
//!         .map(|auth: Auth| warp::reply::json(&serde_json::json!({ "userId": auth.user_id() })))
//!         .with(signed_in_headers());
//!     let admin = warp::path("admin")
//!         .and(warp::get())
//!         .and(require_role(verifier.clone(), "org:admin"))
//!         .map(|_: Auth| "hello, admin")
//!         .with(signed_in_headers());
//!     let hello = warp::path("hello")
//!         .and(warp::get())
//!         .and(authentication(verifier))
//!         .map(|state: Authentication| {
//!             let who = state.auth().map_or("stranger", |auth| auth.user_id());
//!             with_auth_headers(format!("hello, {who}"), &state)
//!         });
//!
//!     let cors = warp::cors()
//!         .allow_origin("https://app.example.com")
//!         .allow_credentials(true)
//!         .allow_headers(["authorization", "content-type"])
//!         .allow_methods(["GET", "OPTIONS"]);
//!     let routes = me.or(admin).or(hello).recover(handle_rejection).with(cors);
//!     warp::serve(routes).run(([127, 0, 0, 1], 3000)).await;
//!     Ok(())
//! }
//! ```
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_warp::rejection` when they are answered (reason code and message), server-side problems
//! at error level under `clerk_warp`; the token is never logged nor echoed.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use clerk_verify::{
    Auth, Authentication, Error, Forbidden, Refusal, SignedOut, Verifier, AUTH_REASON_HEADER,
    AUTH_STATUS_HEADER,
};
use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use warp::http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, COOKIE, WWW_AUTHENTICATE,
};
use warp::http::StatusCode;
use warp::reject::{Reject, Rejection};
use warp::reply::{Reply, Response};
use warp::Filter;

pub use clerk_verify::{REASON_MISSING_PERMISSION, REASON_MISSING_ROLE};

/// Reason code of a 500 for an authentication state this version of the crate does not know (a
/// newer `clerk-verify`): never a signed-in user.
const REASON_INTERNAL: &str = "internal-error";

/// Log target of server-side problems (error level).
const LOG_TARGET: &str = "clerk_warp";
/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_warp::rejection";

/// The request's authentication state, whatever it is; never rejects.
///
/// This is the building block of the other filters: it reads the `Authorization` header and
/// the `Cookie` header(s), and lets [`Verifier::find_token`] and
/// [`Verifier::try_authenticate`] / [`Verifier::authenticate`] decide. Use it when a handler
/// wants the signed-out reason, and [`with_auth_headers`] to put the debug headers on its reply.
pub fn authentication(
    verifier: Verifier,
) -> impl Filter<Extract = (Authentication,), Error = Infallible> + Clone {
    warp::header::headers_cloned().and_then(move |headers: HeaderMap| {
        let verifier = verifier.clone();
        let (authorization, cookie) = credentials(&headers);
        async move { Ok::<_, Infallible>(authenticate(verifier, authorization, cookie).await) }
    })
}

/// Required authentication: extracts the signed-in [`Auth`], or rejects with a
/// [`ClerkRejection`] (401; 503 when the key source is down or the verification task did not
/// complete; 500 when the verifier is misconfigured).
///
/// Put it after the route's path and method filters, so that it only runs for requests the
/// route would serve.
pub fn clerk_auth(verifier: Verifier) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    authentication(verifier).and_then(|state: Authentication| async move {
        signed_in(state).map_err(warp::reject::custom)
    })
}

/// Optional authentication: `Some(auth)` when signed in, `None` otherwise: no token, a bad
/// token, or a key source that is down. Never rejects.
///
/// The reply gets no debug headers; for those (as the other Clerk adapters give an optional
/// route), take the [`authentication`] state and answer through [`with_auth_headers`].
pub fn optional_auth(
    verifier: Verifier,
) -> impl Filter<Extract = (Option<Auth>,), Error = Infallible> + Clone {
    authentication(verifier).map(Authentication::into_auth)
}

/// Required authentication plus an organization role (e.g. `"org:admin"`, decided by
/// [`Auth::require_role`]): 401 as [`clerk_auth`] when signed out, then 403 (reason
/// [`REASON_MISSING_ROLE`]) when the active organization role differs.
pub fn require_role(
    verifier: Verifier,
    role: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    let role: Arc<str> = role.into().into();
    clerk_auth(verifier).and_then(move |auth: Auth| {
        let role = role.clone();
        async move {
            match auth.require_role(&role) {
                Ok(()) => Ok(auth),
                Err(forbidden) => Err(warp::reject::custom(ClerkRejection::from(forbidden))),
            }
        }
    })
}

/// Required authentication plus an organization permission (e.g. `"org:invoices:read"`, as
/// [`Auth::require_permission`] decides): 401 as [`clerk_auth`] when signed out, then 403 (reason
/// [`REASON_MISSING_PERMISSION`]) when the active organization does not grant it.
pub fn require_permission(
    verifier: Verifier,
    permission: impl Into<String>,
) -> impl Filter<Extract = (Auth,), Error = Rejection> + Clone {
    let permission: Arc<str> = permission.into().into();
    clerk_auth(verifier).and_then(move |auth: Auth| {
        let permission = permission.clone();
        async move {
            match auth.require_permission(&permission) {
                Ok(()) => Ok(auth),
                Err(forbidden) => Err(warp::reject::custom(ClerkRejection::from(forbidden))),
            }
        }
    })
}

/// A reply wrapper for routes guarded by [`clerk_auth`], [`require_role`] or
/// [`require_permission`]: their successful replies get `x-clerk-auth-status: signed-in` and no
/// `x-clerk-auth-reason`, as [`Authentication::debug_headers`] lists them for a signed-in request
/// (refusals get their debug headers from [`handle_rejection`]).
///
/// ```
/// # use clerk_verify::{Auth, Verifier};
/// # use warp::Filter;
/// # fn routes(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
/// warp::path("me")
///     .and(clerk_warp::clerk_auth(verifier))
///     .map(|auth: Auth| auth.user_id().to_owned())
///     .with(clerk_warp::signed_in_headers())
/// # }
/// ```
///
/// Only wrap routes that cannot succeed signed out; for others, use [`with_auth_headers`].
pub fn signed_in_headers() -> warp::reply::with::WithHeader {
    warp::reply::with::header(AUTH_STATUS_HEADER, "signed-in")
}

/// Adds Clerk's debug headers for `state` to `reply` ([`Authentication::debug_headers`]):
/// `x-clerk-auth-status`, and `x-clerk-auth-reason` when signed out. For handlers that take the
/// [`authentication`] state, such as routes that also serve signed-out visitors.
pub fn with_auth_headers(reply: impl Reply, state: &Authentication) -> Response {
    let mut response = reply.into_response();
    insert_debug_headers(response.headers_mut(), &state.debug_headers());
    response
}

/// A `recover` handler: answers a [`ClerkRejection`] (found anywhere in the rejection) with its
/// response ([`ClerkRejection::to_response`]) and hands every other rejection on, for warp's
/// default answers (404, 405, ...) or a later `recover` of yours.
///
/// ```
/// # use warp::Filter;
/// # fn app(routes: impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone + Send + Sync + 'static) {
/// let routes = routes.recover(clerk_warp::handle_rejection);
/// # }
/// ```
pub async fn handle_rejection(rejection: Rejection) -> Result<Response, Rejection> {
    match rejection.find::<ClerkRejection>() {
        Some(refusal) => Ok(refusal.to_response()),
        None => Err(rejection),
    }
}

/// Why a Clerk filter refused a request. A warp [`Reject`]ion: find it with
/// `rejection.find::<ClerkRejection>()`, or let [`handle_rejection`] answer it.
///
/// It holds the core's [`Refusal`] and answers only from it, as every Clerk adapter does:
///
/// | Case | Status | `error` | `WWW-Authenticate` |
/// |---|---|---|---|
/// | signed out (no token, bad token) | 401 | `unauthorized` | `Bearer`, or `Bearer error="invalid_token"` when a token was sent |
/// | key source unavailable, verification task did not complete | 503 | `service_unavailable` | none |
/// | verifier misconfigured | 500 | `internal_server_error` | none |
/// | signed in without the role or permission | 403 | `forbidden` | `Bearer error="insufficient_scope"` |
#[derive(Debug)]
pub struct ClerkRejection {
    refusal: Refusal,
    /// Boxed: a rejection travels in `Result`s and warp's `Rejection`.
    signed_out: Option<Box<SignedOut>>,
}

impl ClerkRejection {
    /// A 403 for your own guards, e.g. `ClerkRejection::forbidden("missing-plan", "…")`.
    /// Reject with it through `warp::reject::custom`. A [`Forbidden`] from
    /// [`Auth::require_role`] converts with `From`, too.
    pub fn forbidden(reason: &'static str, message: impl Into<String>) -> ClerkRejection {
        Forbidden::new(reason, message).into()
    }

    /// The HTTP status to answer: 401, 403, 500 or 503.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The body's `error` field: `unauthorized`, `forbidden`, `service_unavailable` or
    /// `internal_server_error`.
    pub fn error(&self) -> &'static str {
        self.refusal.error()
    }

    /// The stable reason code: the [`SignedOut::reason`], or [`REASON_MISSING_ROLE`] /
    /// [`REASON_MISSING_PERMISSION`] (or yours) for a 403.
    pub fn reason(&self) -> &'static str {
        self.refusal.reason()
    }

    /// What went wrong, for the body (never contains the token).
    pub fn message(&self) -> &str {
        self.refusal.message()
    }

    /// The signed-out state behind a 401, 500 or 503.
    pub fn signed_out(&self) -> Option<&SignedOut> {
        self.signed_out.as_deref()
    }

    /// Whether this is a 403: signed in, but missing a role or permission.
    pub fn is_forbidden(&self) -> bool {
        self.refusal.status() == StatusCode::FORBIDDEN.as_u16()
    }

    /// The core's [`Refusal`] this rejection answers with.
    pub fn refusal(&self) -> &Refusal {
        &self.refusal
    }

    /// The response: [`Refusal::json_body`] with the status, the
    /// [`Refusal::www_authenticate`] challenge (RFC 6750 §3.1) and the
    /// [`Refusal::debug_headers`].
    pub fn to_response(&self) -> Response {
        let refusal = &self.refusal;
        log::debug!(
            target: LOG_TARGET_REJECTION,
            "refused with {} ({}): {}",
            refusal.status(),
            refusal.reason(),
            refusal.message()
        );
        let mut response = refusal.json_body().into_response();
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(challenge) = refusal.www_authenticate() {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        insert_debug_headers(headers, &refusal.debug_headers());
        response
    }
}

impl From<SignedOut> for ClerkRejection {
    fn from(out: SignedOut) -> ClerkRejection {
        ClerkRejection {
            refusal: Refusal::from_signed_out(&out),
            signed_out: Some(Box::new(out)),
        }
    }
}

/// A 403, e.g. from [`Auth::require_role`].
impl From<Forbidden> for ClerkRejection {
    fn from(forbidden: Forbidden) -> ClerkRejection {
        Refusal::from_forbidden(&forbidden).into()
    }
}

impl From<Refusal> for ClerkRejection {
    fn from(refusal: Refusal) -> ClerkRejection {
        ClerkRejection {
            refusal,
            signed_out: None,
        }
    }
}

impl Reject for ClerkRejection {}

impl Reply for ClerkRejection {
    fn into_response(self) -> Response {
        self.to_response()
    }
}

impl fmt::Display for ClerkRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.error(),
            self.reason(),
            self.message()
        )
    }
}

impl std::error::Error for ClerkRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.signed_out
            .as_deref()
            .and_then(SignedOut::error)
            .map(|e| e as _)
    }
}

/// The two header values the core needs. Several `Cookie` headers are joined with `"; "`
/// (RFC 6265 §5.4); non-UTF-8 bytes are replaced, so such a token fails verification instead of
/// silently counting as absent.
fn credentials(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let authorization = headers.get(AUTHORIZATION).map(text);
    let cookies: Vec<String> = headers.get_all(COOKIE).iter().map(text).collect();
    let cookie = (!cookies.is_empty()).then(|| cookies.join("; "));
    (authorization, cookie)
}

/// Without blocking the executor: inline when the key is cached, else on the blocking pool.
async fn authenticate(
    verifier: Verifier,
    authorization: Option<String>,
    cookie: Option<String>,
) -> Authentication {
    let token = match verifier.find_token(authorization.as_deref(), cookie.as_deref()) {
        Ok(token) => token,
        Err(signed_out) => return signed_out,
    };
    if let Some(state) = verifier.try_authenticate(&token) {
        return state;
    }
    match tokio::task::spawn_blocking(move || verifier.authenticate(&token)).await {
        Ok(state) => state,
        // Cancelled (the runtime shuts down under the request) or panicked.
        Err(e) => {
            log::error!(target: LOG_TARGET, "the verification task did not complete: {e}");
            unfinished()
        }
    }
}

/// The signed-out state for a verification that did not complete: the keys could not be had,
/// so 503, never a panic.
fn unfinished() -> Authentication {
    Authentication::SignedOut(SignedOut::from_error(Error::JwkRemoteFailedToLoad(
        "the verification task did not complete".into(),
    )))
}

fn signed_in(state: Authentication) -> Result<Auth, ClerkRejection> {
    match state {
        Authentication::SignedIn(auth) => Ok(auth),
        Authentication::SignedOut(out) => Err(out.into()),
        // `Authentication` is non-exhaustive: a state added later is not a signed-in user.
        _ => Err(Refusal::internal(
            REASON_INTERNAL,
            "unknown authentication state (is clerk-warp older than clerk-verify?)",
        )
        .into()),
    }
}

/// Sets Clerk's debug headers as the core lists them, replacing any already set: a signed-in
/// state leaves no `x-clerk-auth-reason` behind.
fn insert_debug_headers(headers: &mut HeaderMap, debug: &[(&'static str, &'static str)]) {
    headers.remove(AUTH_REASON_HEADER);
    for &(name, value) in debug {
        // Reason codes of custom refusals are the caller's: skip one that is no header value.
        if let Ok(value) = HeaderValue::from_str(value) {
            if !value.is_empty() {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
    }
}
