//! [`ClerkError`], the core's [`Refusal`](clerk_verify::Refusal) as a [`Responder`], and its way
//! to the client: a failing guard leaves it with the request, [`catchers()`] render it.

use rocket::catcher::{BoxFuture, Catcher};
use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::io::Cursor;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Log target of refusals (debug level).
const LOG_TARGET_REJECTION: &str = "clerk_rocket::rejection";
/// Log target of an app's set-up mistakes (error level).
pub(crate) const LOG_TARGET: &str = "clerk_rocket";
/// Name under which [`catchers()`] are registered (shown in Rocket's launch log).
pub(crate) const CATCHER_NAME: &str = "clerk_rocket::catchers";

clerk_verify::adapter_refusal! {
    /// The guards' `Error` type and a [`Responder`].
    ///
    /// ```
    /// let e = clerk_rocket::ClerkError::forbidden("plan-missing", "this route needs the pro plan");
    /// assert_eq!(e.status().code, 403);
    /// assert_eq!(e.reason(), "plan-missing");
    /// ```
    pub struct ClerkError;
}

impl ClerkError {
    /// The HTTP status: 400, 401, 403, 500 or 503, or 307 for a page guard's redirect.
    pub fn status(&self) -> Status {
        Status::new(self.refusal().status())
    }

    /// The status a failing guard hands Rocket, which picks the catcher by it: a redirect's is
    /// 401 (catchers take error statuses only), so without the catchers a page is refused.
    fn guard_status(&self) -> Status {
        match self.status() {
            status if status.class().is_redirection() => Status::Unauthorized,
            status => status,
        }
    }
}

impl<'r> Responder<'r, 'static> for ClerkError {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let (refusal, code) = (self.refusal(), self.refusal().status());
        log::debug!(target: LOG_TARGET_REJECTION, "clerk_rocket: refused with {code}: {refusal}");
        let (body, mut res) = (refusal.json_body(), Response::build());
        res.status(self.status())
            .sized_body(body.len(), Cursor::new(body));
        // Adjoined, not set: a handshake may carry several cookies, each its own `Set-Cookie`.
        for (name, value) in refusal.response_headers() {
            if is_header_value(value) {
                res.raw_header_adjoin(name, value.to_owned());
            }
        }
        Ok(res.finalize())
    }
}

/// Whether hyper will send `value`: it refuses the whole response over one bad header value.
pub(crate) fn is_header_value(value: &str) -> bool {
    !value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f)
}

/// The refusal of the last guard that failed, in the request-local cache.
#[derive(Default)]
struct Rejection(Mutex<Option<ClerkError>>);

fn rejection_slot<'r>(req: &'r Request<'_>) -> MutexGuard<'r, Option<ClerkError>> {
    let slot = req.local_cache(Rejection::default).0.lock();
    slot.unwrap_or_else(PoisonError::into_inner)
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

/// The refusal of the Clerk guard that failed this request, if any: for apps that write their
/// own catchers (`error.respond_to(req)` gives the standard response; a page guard's redirect
/// comes to the 401 catcher, see [`catchers()`]).
pub fn rejection(req: &Request<'_>) -> Option<ClerkError> {
    rejection_slot(req).clone()
}

/// Catchers for 400, 401, 403, 500 and 503 that render a Clerk guard's refusal: register them
/// at the root, `rocket.register("/", clerk_rocket::catchers())`. A page guard's 307 (Clerk's
/// handshake, the sign-in page: `Location`, `Cache-Control`, `Set-Cookie`s) is answered here
/// too: Rocket's catchers only take error statuses, so it reaches the 401 catcher. An error of
/// those statuses that no Clerk guard produced gets Rocket's default catcher. An app with
/// catchers of its own for them registers these at a narrower base, or calls [`rejection`].
pub fn catchers() -> Vec<Catcher> {
    let named = |code| Catcher {
        name: Some(CATCHER_NAME.into()),
        ..Catcher::new(code, catch)
    };
    [400, 401, 403, 500, 503].map(named).into()
}

fn catch<'r>(status: Status, req: &'r Request<'_>) -> BoxFuture<'r> {
    // A refusal of another status is not what this error is about: an `Option<ClerkAuth>` may
    // have absorbed it before the route failed for a reason of its own.
    let refused = rejection(req).filter(|e| e.guard_status() == status);
    Box::pin(async move {
        match refused {
            Some(error) => error.respond_to(req),
            // Not ours: Rocket's default answer, as if these catchers were not registered.
            None => Catcher::default().handler.handle(status, req).await,
        }
    })
}
