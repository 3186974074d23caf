//! [`catchers()`]: how a failed guard's refusal reaches the client. Rocket guards cannot write a
//! response body, so the guard leaves its [`ClerkError`] in the request-local cache and these
//! catchers render it.
//!
//! [`ClerkError`]: crate::ClerkError

use crate::cache::rejection;
use rocket::catcher::{BoxFuture, Catcher};
use rocket::http::Status;
use rocket::request::Request;
use rocket::response::Responder;
use std::borrow::Cow;

/// Name under which [`catchers()`] are registered (shown in Rocket's launch log).
pub(crate) const CATCHER_NAME: &str = "clerk_rocket::catchers";

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

/// Catchers for 400, 401, 403, 500 and 503 that render a Clerk guard's refusal
/// ([`ClerkError`]). Register them at the root: `rocket.register("/", clerk_rocket::catchers())`.
///
/// The page guards' redirects ([`ClerkPage`], [`RequireSignIn`]: Clerk's handshake, the
/// sign-in page) are answered here too, as the 307 with its `Location`, `Cache-Control` and
/// `Set-Cookie`s: Rocket's catchers only take error statuses, so a guard's redirect reaches
/// the 401 catcher (and a catcher of your own for 401 gets it from [`rejection`]).
///
/// An error of those statuses that no Clerk guard produced gets Rocket's default catcher. If the
/// app has its own catchers for these statuses, register these at a narrower base instead, or
/// call [`rejection`] from yours.
///
/// [`ClerkError`]: crate::ClerkError
/// [`ClerkPage`]: crate::ClerkPage
/// [`RequireSignIn`]: crate::RequireSignIn
pub fn catchers() -> Vec<Catcher> {
    [400, 401, 403, 500, 503]
        .into_iter()
        .map(|code| {
            let mut catcher = Catcher::new(code, catch);
            catcher.name = Some(Cow::Borrowed(CATCHER_NAME));
            catcher
        })
        .collect()
}
