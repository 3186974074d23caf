//! Authentication runs once per request, and what came of it stays with the request.
//!
//! A route may take several Clerk guards, and the fairing and the catchers run after them, yet a
//! token must be verified only once. Rocket guards cannot write a response body either, so a
//! failing guard leaves its refusal here for the catchers to render. Both live in Rocket's
//! request-local cache.

use crate::error::{ClerkError, LOG_TARGET};
use clerk_verify::request::PageRequest;
use clerk_verify::{Authentication, Verifier};
use rocket::outcome::Outcome;
use rocket::request::{self, Request};
use rocket::tokio::task::spawn_blocking;
use std::sync::{Mutex, OnceLock};

/// What this crate keeps in a request's local cache.
#[derive(Default)]
struct RequestState {
    /// The authentication, computed once by the first guard that needs it. `Err` only when no
    /// verifier is managed.
    authentication: OnceLock<Result<Authentication, ClerkError>>,
    /// The page authentication of [`crate::ClerkPage`] and [`crate::RequireSignIn`], kept
    /// apart: API guards of the same request must not see a handshake. Computed once too, as a
    /// returning handshake is good for one use only: a second run would refuse it as replayed.
    page: OnceLock<Result<Page, ClerkError>>,
    /// The refusal of the last guard that failed, for the catchers.
    rejection: Mutex<Option<ClerkError>>,
}

fn state<'r>(req: &'r Request<'_>) -> &'r RequestState {
    req.local_cache(RequestState::default)
}

/// Authenticates `req` once; later calls (other guards of the same request) get the cached result.
pub(crate) async fn authentication<'r>(
    req: &'r Request<'_>,
) -> &'r Result<Authentication, ClerkError> {
    let cached = &state(req).authentication;
    if let Some(done) = cached.get() {
        return done;
    }
    let result = authenticate(req).await;
    // Guards of one request run one after the other, so nothing else set it meanwhile; if
    // something did, the first result stays.
    cached.get_or_init(|| result)
}

/// A page request as the core saw it, and what came of it.
pub(crate) struct Page {
    pub(crate) request: PageRequest,
    pub(crate) authentication: Authentication,
}

/// Authenticates `req` as a page once; later calls (other page guards) get the cached result.
pub(crate) async fn page_authentication<'r>(req: &'r Request<'_>) -> &'r Result<Page, ClerkError> {
    let cached = &state(req).page;
    if let Some(done) = cached.get() {
        return done;
    }
    let result = authenticate_page(req).await;
    cached.get_or_init(|| result)
}

/// Hands the method, the URL and the headers to the core's page flow, which may answer with a
/// handshake; blocking work (a key fetch, a nonce exchange) goes to Rocket's blocking pool.
async fn authenticate_page(req: &Request<'_>) -> Result<Page, ClerkError> {
    let verifier = verifier(req)?;
    let request = {
        let headers: Vec<_> = req.headers().iter().collect();
        let has_cookie = headers.iter().any(|h| h.name() == "Cookie");
        let jar = (!has_cookie).then(|| jar_cookies(req)).flatten();
        let raw = headers
            .iter()
            .map(|h| (h.name().as_str(), h.value().as_bytes()))
            .chain(jar.as_deref().map(|j| ("cookie", j.as_bytes())));
        PageRequest::from_headers(req.method().as_str(), &req.uri().to_string(), raw)
    };
    let authentication = verifier
        .authenticate_page_step(request.clone())
        .finish(spawn_blocking)
        .await;
    Ok(Page {
        request,
        authentication,
    })
}

/// The managed verifier, or the 500 for a Rocket that manages none.
pub(crate) fn verifier<'r>(req: &'r Request<'_>) -> Result<&'r Verifier, ClerkError> {
    req.rocket().state::<Verifier>().ok_or_else(|| {
        log::error!(
            target: LOG_TARGET,
            "clerk_rocket: no clerk_verify::Verifier is managed; call `rocket.manage(verifier)`"
        );
        ClerkError::verifier_missing()
    })
}

/// Hands the two header values to the core: at once when the key is in memory, else on Rocket's
/// blocking pool ([`clerk_verify::request::Step`]).
async fn authenticate(req: &Request<'_>) -> Result<Authentication, ClerkError> {
    let verifier = verifier(req)?;
    let step = {
        let headers = req.headers();
        let cookies: Vec<&str> = headers.get("Cookie").collect();
        // No raw header: a local (test) request built with `LocalRequest::cookie`. The jar's
        // original cookies are the request's.
        let jar = cookies.is_empty().then(|| jar_cookies(req)).flatten();
        verifier.authenticate_headers(
            headers.get_one("Authorization").map(str::as_bytes),
            cookies.into_iter().chain(jar.as_deref()).map(str::as_bytes),
        )
    };
    Ok(step.finish(spawn_blocking).await)
}

/// The request's cookie jar as one `Cookie` header value, if it holds any.
fn jar_cookies(req: &Request<'_>) -> Option<String> {
    let jar: Vec<String> = req
        .cookies()
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    (!jar.is_empty()).then(|| jar.join("; "))
}

/// Records `error` for the catchers and fails the guard with it.
pub(crate) fn refuse<S>(req: &Request<'_>, error: ClerkError) -> request::Outcome<S, ClerkError> {
    record(req, error.clone());
    Outcome::Error((error.guard_status(), error))
}

/// Records `error` for the catchers (a failing request or data guard calls it).
pub(crate) fn record(req: &Request<'_>, error: ClerkError) {
    let mut slot = state(req)
        .rejection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = Some(error);
}

/// The refusal of the Clerk guard that failed this request, if any: for apps that write their
/// own catchers (`error.respond_to(req)` gives the standard response; a page guard's redirect
/// comes to the 401 catcher, see [`crate::catchers()`]).
pub fn rejection(req: &Request<'_>) -> Option<ClerkError> {
    state(req)
        .rejection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// The result of this request's Clerk authentication, if a guard ran it.
pub fn authentication_of<'r>(req: &'r Request<'_>) -> Option<&'r Authentication> {
    state(req).authentication.get()?.as_ref().ok()
}
