//! Authentication runs once per request, and what came of it stays with the request.
//!
//! A route may take several Clerk guards, and the fairing and the catchers run after them, yet a
//! token must be verified only once. Rocket guards cannot write a response body either, so a
//! failing guard leaves its refusal here for the catchers to render. Both live in Rocket's
//! request-local cache. What a guard makes of the authentication is one of
//! [`clerk_verify::adapter`]'s functions.

use crate::error::ClerkError;
use clerk_verify::adapter::{self, Answers, CookieSlot};
use clerk_verify::options::AcceptsToken;
use clerk_verify::request::PageRequest;
use clerk_verify::{Authentication, Refusal, Verifier};
use rocket::http::{Method, Status};
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::tokio::task::spawn_blocking;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// How to give Rocket the verifier the guards look for.
const FIX: &str = "call `rocket.manage(verifier)`, e.g. with `clerk_rocket::Verifier::from_env()?`";

/// What this crate keeps in a request's local cache.
#[derive(Default)]
struct RequestState {
    /// The authentication of the API guards, computed by the first that needs it.
    authentication: OnceLock<Authentication>,
    /// The page authentication of [`crate::ClerkPage`] and [`crate::RequireSignIn`], kept
    /// apart: API guards of the same request must not see a handshake. Computed once too, as a
    /// returning handshake is good for one use only: a second run would refuse it as replayed.
    page: OnceLock<(PageRequest, Authentication)>,
    /// The answers of the machine guards and [`crate::ClerkPrincipal`], one per set of
    /// accepted kinds.
    machines: Answers,
    /// The refusal of the last guard that failed, for the catchers.
    rejection: Mutex<Option<ClerkError>>,
    /// Put in by [`crate::ClerkFairing`], which writes a refreshed session's cookies into the
    /// response: the page guards then let the core sign such a session in at once.
    cookies: OnceLock<CookieSlot>,
}

fn state<'r>(req: &'r Request<'_>) -> &'r RequestState {
    req.local_cache(RequestState::default)
}

/// `cell`'s value, computed by `compute` if this is the first guard of the request to ask.
async fn once<T>(cell: &OnceLock<T>, compute: impl Future<Output = T>) -> &T {
    if let Some(done) = cell.get() {
        return done;
    }
    let value = compute.await;
    // Guards of one request run one after the other, so nothing else set it meanwhile; if
    // something did, the first value stays.
    cell.get_or_init(|| value)
}

/// An API guard: this request's authentication (run once), turned into the guard by `finish`.
pub(crate) async fn guard<T, F>(
    req: &Request<'_>,
    finish: impl FnOnce(Authentication) -> Result<T, Refusal>,
) -> Outcome<T, (Status, ClerkError), F> {
    let result = async {
        let authentication = once(
            &state(req).authentication,
            authenticate(req, verifier(req)?),
        );
        Ok(finish(authentication.await.clone())?)
    };
    outcome(req, result.await)
}

/// A machine (or "session or machine") guard: this request's authentication for the kinds
/// `accepts` names (run once per set of kinds), turned into the guard by `finish`. OPTIONS
/// requests (CORS preflights) forward, never authenticated.
pub(crate) async fn machine_guard<T>(
    req: &Request<'_>,
    accepts: AcceptsToken,
    finish: impl FnOnce(Authentication) -> Result<T, Refusal>,
) -> Outcome<T, (Status, ClerkError), Status> {
    if req.method() == Method::Options {
        return Outcome::Forward(Status::Unauthorized);
    }
    let result = async {
        let headers = req.headers();
        let jar = jar_cookies(req);
        let answer = state(req).machines.authenticate(
            verifier(req)?,
            accepts,
            headers.get_one("Authorization").map(str::as_bytes),
            headers
                .get("Cookie")
                .chain(jar.as_deref())
                .map(str::as_bytes),
            spawn_blocking,
        );
        Ok(finish(answer.await)?)
    };
    outcome(req, result.await)
}

/// A page guard: this request's page authentication (run once), turned into the guard by
/// `finish`.
pub(crate) async fn page_guard<T, F>(
    req: &Request<'_>,
    finish: impl FnOnce(&Verifier, &PageRequest, Authentication) -> Result<T, Refusal>,
) -> Outcome<T, (Status, ClerkError), F> {
    let result = async {
        let verifier = verifier(req)?;
        let (page, authentication) = once(&state(req).page, authenticate_page(req, verifier)).await;
        Ok(finish(verifier, page, authentication.clone())?)
    };
    outcome(req, result.await)
}

/// A guard's outcome, a refusal recorded for the catchers (request and data guards alike).
pub(crate) fn outcome<T, F>(
    req: &Request<'_>,
    result: Result<T, ClerkError>,
) -> Outcome<T, (Status, ClerkError), F> {
    result.map_or_else(
        |error| {
            *rejection_slot(req) = Some(error.clone());
            Outcome::Error((error.guard_status(), error))
        },
        Outcome::Success,
    )
}

fn rejection_slot<'r>(req: &'r Request<'_>) -> MutexGuard<'r, Option<ClerkError>> {
    let slot = state(req).rejection.lock();
    slot.unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The managed verifier, or the 500 for a Rocket that manages none (only past the guards'
/// [`rocket::Sentinel`]s, e.g. in a guard of the app's own around them).
fn verifier<'r>(req: &'r Request<'_>) -> Result<&'r Verifier, ClerkError> {
    let verifier = req.rocket().state::<Verifier>();
    verifier.ok_or_else(|| adapter::verifier_missing(FIX).into())
}

/// Hands the two header values to the core: at once when the key is in memory, else on Rocket's
/// blocking pool ([`clerk_verify::request::Step`]).
async fn authenticate(req: &Request<'_>, verifier: &Verifier) -> Authentication {
    let step = {
        let headers = req.headers();
        let cookies = headers.get("Cookie");
        let jar = jar_cookies(req);
        verifier.authenticate_headers(
            headers.get_one("Authorization").map(str::as_bytes),
            cookies.chain(jar.as_deref()).map(str::as_bytes),
        )
    };
    step.finish(spawn_blocking).await
}

/// Hands the method, the URL and the headers to the core's page flow, which may answer with a
/// handshake; blocking work (a key fetch, a nonce exchange) goes to Rocket's blocking pool.
async fn authenticate_page(
    req: &Request<'_>,
    verifier: &Verifier,
) -> (PageRequest, Authentication) {
    let page = {
        let headers: Vec<_> = req.headers().iter().collect();
        let jar = jar_cookies(req);
        let raw = headers
            .iter()
            .map(|h| (h.name().as_str(), h.value().as_bytes()))
            .chain(jar.as_deref().map(|j| ("cookie", j.as_bytes())));
        PageRequest::from_headers(req.method().as_str(), &req.uri().to_string(), raw)
    };
    let cookies = state(req).cookies.get();
    let page = page.delivers_cookies(cookies.is_some());
    let step = verifier.authenticate_page_step(page.clone());
    let authentication = step.finish(spawn_blocking).await;
    if let Some(slot) = cookies {
        slot.fill(&authentication);
    }
    (page, authentication)
}

/// Marks the request as one whose response gets a refreshed session's cookies; the slot.
pub(crate) fn deliver_cookies<'r>(req: &'r Request<'_>) -> &'r CookieSlot {
    state(req).cookies.get_or_init(CookieSlot::new)
}

/// For a request without a `Cookie` header, its cookie jar as one `Cookie` header value, if
/// it holds any: a local (test) request built with `LocalRequest::cookie`.
fn jar_cookies(req: &Request<'_>) -> Option<String> {
    if req.headers().contains("Cookie") {
        return None;
    }
    let jar: Vec<String> = req
        .cookies()
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    (!jar.is_empty()).then(|| jar.join("; "))
}

/// The refusal of the Clerk guard that failed this request, if any: for apps that write their
/// own catchers (`error.respond_to(req)` gives the standard response; a page guard's redirect
/// comes to the 401 catcher, see [`crate::catchers()`]).
pub fn rejection(req: &Request<'_>) -> Option<ClerkError> {
    rejection_slot(req).clone()
}

/// The result of this request's Clerk authentication, if a guard ran it.
pub fn authentication_of<'r>(req: &'r Request<'_>) -> Option<&'r Authentication> {
    state(req).authentication.get()
}

/// The debug headers for this request's response: its session guards' answer, else the first
/// of its machine guards'; `None` when no guard authenticated.
pub(crate) fn debug_headers(req: &Request<'_>) -> Option<Vec<(&'static str, &'static str)>> {
    let session = authentication_of(req).map(Authentication::debug_headers);
    session.or_else(|| state(req).machines.debug_headers())
}
