//! Authentication runs once per request, and what came of it stays with the request.
//!
//! A route may take several Clerk guards, and the fairing and the catchers run after them, yet a
//! token must be verified only once. Rocket guards cannot write a response body either, so a
//! failing guard leaves its refusal here for the catchers to render. Both live in Rocket's
//! request-local cache.

use crate::error::{ClerkError, LOG_TARGET};
use clerk_verify::{Authentication, Error, SignedOut, Verifier};
use rocket::outcome::Outcome;
use rocket::request::{self, Request};
use std::sync::{Mutex, OnceLock};

/// What this crate keeps in a request's local cache.
#[derive(Default)]
struct RequestState {
    /// The authentication, computed once by the first guard that needs it. `Err` only when no
    /// verifier is managed.
    authentication: OnceLock<Result<Authentication, ClerkError>>,
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

/// Copies the two header values out of the request and lets the core decide.
async fn authenticate(req: &Request<'_>) -> Result<Authentication, ClerkError> {
    let Some(verifier) = req.rocket().state::<Verifier>() else {
        log::error!(
            target: LOG_TARGET,
            "clerk_rocket: no clerk_verify::Verifier is managed; call `rocket.manage(verifier)`"
        );
        return Err(ClerkError::verifier_missing());
    };
    let authorization = req.headers().get_one("Authorization");
    let cookies: Vec<&str> = req.headers().get("Cookie").collect();
    let cookie = if cookies.is_empty() {
        // No raw header: a local (test) request built with `LocalRequest::cookie`. The jar's
        // original cookies are the request's.
        let jar: Vec<String> = req
            .cookies()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect();
        (!jar.is_empty()).then(|| jar.join("; "))
    } else {
        Some(cookies.join("; "))
    };
    let token = match verifier.find_token(authorization, cookie.as_deref()) {
        Ok(token) => token,
        Err(signed_out) => return Ok(signed_out),
    };
    if let Some(done) = verifier.try_authenticate(&token) {
        return Ok(done);
    }
    // The key is not in memory: the verifier may have to fetch it. Off the executor.
    let verifier = verifier.clone();
    match rocket::tokio::task::spawn_blocking(move || verifier.authenticate(&token)).await {
        Ok(done) => Ok(done),
        Err(e) => {
            log::error!(
                target: LOG_TARGET,
                "clerk_rocket: the verification task did not complete: {e}"
            );
            Ok(unfinished())
        }
    }
}

/// The signed-out state for a verification that did not complete (the task was cancelled or
/// panicked): the keys could not be had, so 503, never a panic.
fn unfinished() -> Authentication {
    Authentication::SignedOut(SignedOut::from_error(Error::JwkRemoteFailedToLoad(
        "the verification task did not complete".into(),
    )))
}

/// Records `error` for the catchers and fails the guard with it.
pub(crate) fn refuse<S>(req: &Request<'_>, error: ClerkError) -> request::Outcome<S, ClerkError> {
    let mut slot = state(req)
        .rejection
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = Some(error.clone());
    Outcome::Error((error.status(), error))
}

/// The refusal of the Clerk guard that failed this request, if any: for apps that write their
/// own catchers (`error.respond_to(req)` gives the standard response).
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
