//! [`ClerkFairing`]: Clerk's debug headers on every response of an authenticated request, which
//! no guard can add since guards do not see the response.

use crate::cache::authentication_of;
use crate::catcher::CATCHER_NAME;
use crate::error::{set_debug_headers, LOG_TARGET};
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Method, Status};
use rocket::request::Request;
use rocket::response::Response;
use rocket::{Build, Rocket};

/// Fairing that adds Clerk's debug headers (`x-clerk-auth-status`, `x-clerk-auth-reason`, as
/// [`Authentication::debug_headers`] lists them: no reason when signed in) to the responses of
/// requests whose authentication ran: on success as on refusal, optional routes included.
/// OPTIONS requests are skipped. At ignite it warns when [`catchers()`] are not registered at
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
            name: "Clerk auth debug headers",
            kind: Kind::Ignite | Kind::Response,
        }
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
        if req.method() == Method::Options {
            return;
        }
        if let Some(authn) = authentication_of(req) {
            set_debug_headers(res, &authn.debug_headers());
        }
    }
}
