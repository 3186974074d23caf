//! [`ClerkFairing`]: what no guard can add, since guards do not see the response: Clerk's debug
//! headers, and a page's refreshed session cookies.

use crate::answer::answers;
use crate::error::{is_header_value, CATCHER_NAME, LOG_TARGET};
use clerk_verify::request::AUTH_REASON_HEADER;
use rocket::catcher::Catcher;
use rocket::fairing::{self, Fairing, Info, Kind};
use rocket::http::{Header, Method};
use rocket::request::Request;
use rocket::response::Response;
use rocket::{Build, Data, Rocket};

/// Fairing that adds Clerk's debug headers
/// ([`Authentication::debug_headers`](crate::Authentication::debug_headers)) to the responses of
/// requests whose authentication ran, refused or not (OPTIONS requests excepted), and the
/// cookies of a page's session refreshed on the request, with `Cache-Control: no-store`
/// (without it, a 307 back to the page sets them). At ignite it warns when
/// [`catchers()`](crate::catchers) are not registered at `/`. The crate's example attaches it.
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
        answers(req).deliver_cookies();
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> fairing::Result {
        let ours = |c: &Catcher| c.name.as_deref() == Some(CATCHER_NAME) && c.code == Some(401);
        if !rocket.catchers().any(ours) {
            log::warn!(
                target: LOG_TARGET,
                "clerk_rocket: catchers are not registered; refusals will get Rocket's default \
                 bodies without WWW-Authenticate. Add `.register(\"/\", clerk_rocket::catchers())`"
            );
        }
        Ok(rocket)
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        if let Some(slot) = answers(req).cookie_slot() {
            slot.write(
                res,
                |res, name, value| {
                    res.set_raw_header(name, value.to_owned());
                },
                |res, name, value| res.adjoin_raw_header(name, value.to_owned()),
            );
        }
        let debug = answers(req).debug_headers();
        let Some(debug) = debug.filter(|_| req.method() != Method::Options) else {
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
