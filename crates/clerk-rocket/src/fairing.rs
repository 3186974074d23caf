//! [`ClerkFairing`]: Clerk's debug headers on every response of an authenticated request, and a
//! refreshed session's cookies on a page's, which no guard can add since guards do not see the
//! response.

use crate::cache::{debug_headers, deliver_cookies};
use crate::catcher::CATCHER_NAME;
use crate::error::{is_header_value, LOG_TARGET};
use clerk_verify::request::AUTH_REASON_HEADER;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Header, Method, Status};
use rocket::request::Request;
use rocket::response::Response;
use rocket::{Build, Data, Rocket};

/// Fairing that adds Clerk's debug headers (`x-clerk-auth-status`, `x-clerk-auth-reason`, as
/// [`Authentication::debug_headers`] lists them: no reason when signed in) to the responses of
/// requests whose authentication ran: on success as on refusal, optional routes included.
/// OPTIONS requests are skipped. With it, a page ([`crate::ClerkPage`],
/// [`crate::RequireSignIn`]) whose expired session is refreshed through the Backend API (a
/// `__refresh` cookie and `CLERK_SECRET_KEY`) is signed in on the same request: the fairing
/// adds the new cookies to the response (with `Cache-Control: no-store`), where without it one
/// 307 back to the page sets them. At ignite it warns when [`catchers()`] are not registered at
/// `/`.
///
/// ```no_run
/// # let verifier: clerk_rocket::Verifier = unimplemented!();
/// let rocket = rocket::build()
///     .manage(verifier)
///     .attach(clerk_rocket::ClerkFairing::default())
///     .register("/", clerk_rocket::catchers());
/// ```
///
/// [`Authentication::debug_headers`]: clerk_verify::Authentication::debug_headers
/// [`catchers()`]: crate::catchers
#[derive(Debug, Clone, Default)]
pub struct ClerkFairing {
    _private: (),
}

impl ClerkFairing {
    /// The fairing.
    pub fn new() -> ClerkFairing {
        ClerkFairing::default()
    }
}

#[rocket::async_trait]
impl Fairing for ClerkFairing {
    fn info(&self) -> Info {
        Info {
            name: "Clerk auth debug headers and refreshed cookies",
            kind: Kind::Ignite | Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        deliver_cookies(req);
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let registered = rocket.catchers().any(|c| {
            c.name.as_deref() == Some(CATCHER_NAME) && c.code == Some(Status::Unauthorized.code)
        });
        if !registered {
            log::warn!(
                target: LOG_TARGET,
                "clerk_rocket: catchers are not registered; refusals will get Rocket's default \
                 bodies without WWW-Authenticate. Add `.register(\"/\", clerk_rocket::catchers())`"
            );
        }
        Ok(rocket)
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        deliver_cookies(req).write(
            res,
            |res, name, value| {
                res.set_raw_header(name, value.to_owned());
            },
            |res, name, value| res.adjoin_raw_header(name, value.to_owned()),
        );
        if req.method() == Method::Options {
            return;
        }
        let Some(debug) = debug_headers(req) else {
            return;
        };
        // Replaces what a refusal set: a signed-in state leaves no `x-clerk-auth-reason` behind.
        res.remove_header(AUTH_REASON_HEADER);
        for (name, value) in debug {
            if is_header_value(value) {
                res.set_header(Header::new(name, value));
            }
        }
    }
}
