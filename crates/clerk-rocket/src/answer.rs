//! How every Clerk request guard is answered (`FromRequest`, [`Sentinel`]): from the request's
//! one [`Answers`] in Rocket's local cache, so a token is verified once whoever asks.

use crate::error::{outcome, ClerkError, LOG_TARGET};
use crate::guard::{ClerkAuth, ClerkMachine, ClerkPage, ClerkPrincipal, OptionalAuth};
use crate::guard::{Require, RequireMachine, RequireSignIn};
use clerk_verify::adapter::{self, Answers};
use clerk_verify::options::{Accepts, AcceptsToken};
use clerk_verify::request::{MachineRequirement, PageRequest, Requirement};
use clerk_verify::{Authentication, Refusal, Verifier};
use rocket::http::{Method, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::tokio::task::spawn_blocking;
use rocket::{Ignite, Rocket, Sentinel};

/// How to give Rocket the verifier the guards look for (the 500's message).
const FIX: &str = "call `rocket.manage(verifier)`, e.g. with `clerk_rocket::Verifier::from_env()?`";
/// The same, in the log line of a launch aborted by the sentinels.
const FIX_AT_LAUNCH: &str = "call `rocket.manage(verifier)`";

/// Each guard's `FromRequest`, `$req` turned into its outcome by `$outcome`, and its
/// [`Sentinel`]: a launch with a route using it aborts unless a [`Verifier`] is managed.
macro_rules! guards {
    ($req:ident; $($guard:ident $(<$($p:ident: $bound:path),*>)? => $outcome:expr;)*) => {$(
        #[rocket::async_trait]
        impl<'r, $($($p: $bound),*)?> FromRequest<'r> for $guard$(<$($p),*>)? {
            type Error = ClerkError;

            async fn from_request($req: &'r Request<'_>) -> request::Outcome<Self, ClerkError> {
                $outcome.await
            }
        }

        impl$(<$($p: $bound),*>)? Sentinel for $guard$(<$($p),*>)? {
            fn abort(rocket: &Rocket<Ignite>) -> bool {
                lacks::<Verifier>(rocket, stringify!($guard), "Verifier", FIX_AT_LAUNCH)
            }
        }
    )*};
}

guards! { req;
    ClerkAuth => guard(req, None, None, adapter::signed_in, ClerkAuth);
    OptionalAuth => guard(req, None, Some(OptionalAuth(None)), adapter::optional, OptionalAuth);
    Require<R: Requirement> => guard(req, None, None, adapter::required::<R>, Require::new);
    ClerkMachine<K: Accepts> =>
        guard(req, Some(K::ACCEPTS), None, adapter::machine, ClerkMachine::new);
    RequireMachine<R: MachineRequirement, K: Accepts> =>
        guard(req, Some(K::ACCEPTS), None, adapter::machine_required::<R>, RequireMachine::new);
    ClerkPrincipal =>
        guard(req, Some(AcceptsToken::ANY), None, adapter::session_or_machine, ClerkPrincipal);
    ClerkPage => page_guard(req, |_, _, a| adapter::page(a).map(ClerkPage));
    RequireSignIn => page_guard(req, |verifier, page, a| {
        adapter::page_requiring_sign_in(verifier, page, a).map(RequireSignIn)
    });
}

#[derive(Default)]
struct Kept(Answers);

/// This request's answers.
pub(crate) fn answers<'r>(req: &'r Request<'_>) -> &'r Answers {
    &req.local_cache(Kept::default).0
}

/// An API guard: `preflight` for an OPTIONS request (forwarded if `None`, never authenticated),
/// else the answer for `accepts` (`None`: the session guards'), judged by `check` and `make`.
pub(crate) async fn guard<A, T>(
    req: &Request<'_>,
    accepts: Option<AcceptsToken>,
    preflight: Option<T>,
    check: impl FnOnce(Authentication) -> Result<A, Refusal>,
    make: impl FnOnce(A) -> T,
) -> Outcome<T, (Status, ClerkError), Status> {
    if req.method() == Method::Options {
        return preflight.map_or(Outcome::Forward(Status::Unauthorized), Outcome::Success);
    }
    let result = async {
        let (verifier, answers) = (verifier(req)?, answers(req));
        let (headers, jar) = (req.headers(), jar_cookies(req));
        let auth = headers.get_one("Authorization").map(str::as_bytes);
        let cookies = headers.get("Cookie").chain(jar.as_deref());
        let cookies = cookies.map(str::as_bytes);
        let answer = if let Some(kinds) = accepts {
            let kept = answers.authenticate(verifier, kinds, auth, cookies, spawn_blocking);
            kept.await
        } else {
            let kept = answers.authenticate_session(verifier, auth, cookies, spawn_blocking);
            kept.await
        };
        Ok(check(answer).map(make)?)
    };
    outcome(req, result.await)
}

/// A page guard: this request's page answer (run once, apart from the API guards': they must
/// not see a handshake), turned into the guard by `finish`.
pub(crate) async fn page_guard<T>(
    req: &Request<'_>,
    finish: impl FnOnce(&Verifier, &PageRequest, Authentication) -> Result<T, Refusal>,
) -> Outcome<T, (Status, ClerkError), Status> {
    let result = async {
        let (verifier, jar) = (verifier(req)?, jar_cookies(req));
        let headers: Vec<_> = req.headers().iter().collect();
        let raw = headers
            .iter()
            .map(|h| (h.name().as_str(), h.value().as_bytes()));
        let raw = raw.chain(jar.as_deref().map(|j| ("cookie", j.as_bytes())));
        let page = PageRequest::from_headers(req.method().as_str(), &req.uri().to_string(), raw);
        let answer = answers(req).authenticate_page(verifier, page, spawn_blocking);
        let (page, authentication) = answer.await;
        Ok(finish(verifier, &page, authentication)?)
    };
    outcome(req, result.await)
}

/// The managed verifier, or the 500 for a Rocket that manages none (only past the guards'
/// [`rocket::Sentinel`]s, e.g. in a guard of the app's own around them).
fn verifier<'r>(req: &'r Request<'_>) -> Result<&'r Verifier, ClerkError> {
    let verifier = req.rocket().state::<Verifier>();
    verifier.ok_or_else(|| adapter::verifier_missing(FIX).into())
}

/// For a request without a `Cookie` header, its cookie jar as one `Cookie` header value, if
/// it holds any: a local (test) request built with `LocalRequest::cookie`.
fn jar_cookies(req: &Request<'_>) -> Option<String> {
    let jar: Vec<_> = req
        .cookies()
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect();
    (!jar.is_empty() && !req.headers().contains("Cookie")).then(|| jar.join("; "))
}

/// The result of this request's Clerk authentication, if a guard ran it.
pub fn authentication_of<'r>(req: &'r Request<'_>) -> Option<&'r Authentication> {
    answers(req).session()
}

/// Whether to abort the launch: when the `T` (named `what`) that a route's `guard` needs is not
/// managed. Rocket's abort message names the guard but not what it lacks, hence the log line.
pub(crate) fn lacks<T: Send + Sync + 'static>(
    rocket: &Rocket<Ignite>,
    guard: &str,
    what: &str,
    fix: &str,
) -> bool {
    let lacks = rocket.state::<T>().is_none();
    if lacks {
        log::error!(
            target: LOG_TARGET,
            "clerk_rocket: launching with a route that uses `{guard}`, but no \
             `clerk_verify::{what}` is managed; {fix}"
        );
    }
    lacks
}
