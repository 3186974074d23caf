//! [Clerk](https://clerk.com) session authentication for [warp](https://docs.rs/warp) 0.4,
//! on [`clerk_verify`], whose types the snippets use are re-exported here:
//!
//! ```toml
//! [dependencies]
//! clerk-warp = { git = "https://github.com/clerk-verify/clerk-verify" } # once published: clerk-warp = "0.1"
//! warp = { version = "0.4", features = ["server"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] } # for #[tokio::main]
//! serde_json = "1" # only for the JSON replies below
//!
//! [dev-dependencies]
//! # Dev tokens, keys, a JWKS server and signed webhook deliveries for your tests (not published).
//! clerk-dev = { git = "https://github.com/clerk-verify/clerk-verify" }
//! ```
//!
//! | Filter | Extracts | Rejects with a [`ClerkRejection`] |
//! |---|---|---|
//! | [`clerk_auth`] | [`Auth`] | 401 `unauthorized` unless signed in (`WWW-Authenticate: Bearer`, with `error="invalid_token"` when a token was sent); 503 `service_unavailable` when the key source is down; 500 `internal_server_error` when the verifier is misconfigured |
//! | [`require`]`(verifier, `[`Policy`]`)`, [`require_role`], [`require_permission`], [`require_feature`], [`require_plan`], [`require_reverification`] | [`Auth`] | the same, then 403 `forbidden` (`Bearer error="insufficient_scope"`) when a requirement fails; a verification not recent enough is `reverification-error` with Clerk's reverification hint in the body |
//! | [`optional_auth`] | `Option<Auth>` | 503 and 500 only: a missing or bad token is `None` |
//! | [`optional_authentication`] | [`Authentication`] | 503 and 500 only: the state is signed in, or signed out with its reason |
//! | [`authentication`] | [`Authentication`] | never: the full state, outages included (signed out, `jwk-remote-failed-to-load`) |
//! | [`webhook`]`(`[`Webhook`]`)` | [`Delivery`] | 400 `bad_request` for a delivery that is unsigned, forged, stale, oversized or not a Clerk event |
//! | [`machine`], [`machine_accepting`]`(verifier, `[`AcceptsToken`]`)` | [`MachineAuth`] | 401 for a missing, refused or other-kind token (`token-type-mismatch`, a session token too); 503 `backend-api-unavailable` when Clerk's Backend API cannot answer in time; 500 when the secret key is missing or wrong |
//! | [`require_scope`], [`require_machine`]`(verifier, accepts, `[`Policy`]`)` | [`MachineAuth`] | the same, then 403 `missing-scope` |
//! | [`principal`] | [`Principal`] (a session or a machine) | as [`clerk_auth`] |
//! | [`authentication_accepting`] | [`Authentication`] | never, as [`authentication`], for the kinds named |
//! | [`page`] (server-rendered pages) | `Option<Auth>` | 307 `redirect` through Clerk's handshake when the session cookie needs refreshing; 503 and 500 |
//! | [`require_sign_in`] (server-rendered pages) | [`Auth`] | the same, and a signed-out browser 307 to the sign-in page (401 when none is configured) |
//!
//! The optional filters refuse server faults on purpose: an outage must never silently turn
//! signed-in users into anonymous ones. Put [`handle_rejection`] in a `recover` at the top of
//! the routes: it answers a [`ClerkRejection`] as every Clerk adapter does (the core's
//! [`Refusal`]: `{"error":"unauthorized","reason":"<code>","message":"…"}`, the challenge,
//! Clerk's `x-clerk-auth-status` and `x-clerk-auth-reason` debug headers; a generic message for
//! 500 and 503) and hands every other rejection on untouched.
//!
//! Filters cannot touch the reply, so the debug headers of a successful reply are added where
//! it is made: wrap protected routes with [`signed_in_headers`], and have routes that also
//! serve signed-out visitors take the [`optional_authentication`] state and answer through
//! [`with_auth_headers`] (signed in, or signed out with its reason).
//!
//! The filters capture the shared [`Verifier`] (a cheap `Clone` around an `Arc`), so no route
//! can lack one. Where the token is read from (the `Authorization` header, then the `__session`
//! cookie with Clerk's `__client_uat` rules), every rule about it and what each filter answers
//! are [`clerk_verify`]'s ([`Verifier::authenticate_headers`], [`clerk_verify::adapter`]).
//! Verification never blocks the executor: a token whose key is cached is checked inline; one
//! that needs a JWKS fetch on tokio's blocking pool, and a task that does not complete is 503.
//!
//! CORS preflights are not authenticated: wrap the routes in `warp::cors()` (it answers a
//! preflight itself, before any route filter runs), give each route a method filter before the
//! Clerk filter, and place [`handle_rejection`] *inside* the CORS wrapper so that a browser can
//! read a 401.
//!
//! ```no_run
//! use clerk_warp::{
//!     clerk_auth, handle_rejection, optional_authentication, require,
//!     signed_in_headers, with_auth_headers, Auth, Authentication, Policy, Verifier,
//! };
//! use serde_json::json;
//! use warp::Filter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), clerk_warp::Error> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let verifier = Verifier::from_env()?;
//!
//!     // Signed in or not: 200 with the debug headers; 503 when the key source is down.
//!     let whoami = warp::path!("whoami")
//!         .and(warp::get())
//!         .and(optional_authentication(verifier.clone()))
//!         .map(|state: Authentication| {
//!             let body = json!({ "userId": state.auth().map(Auth::user_id) });
//!             with_auth_headers(warp::reply::json(&body), &state)
//!         });
//!     let me = warp::path!("me")
//!         .and(warp::get())
//!         .and(clerk_auth(verifier.clone()))
//!         .map(|auth: Auth| warp::reply::json(&json!({ "userId": auth.user_id() })))
//!         .with(signed_in_headers());
//!     let billing = Policy::new().role("org:admin").permission("org:invoices:read");
//!     let invoices = warp::path!("invoices")
//!         .and(warp::get())
//!         .and(require(verifier, billing))
//!         .map(|auth: Auth| format!("invoices of {}", auth.user_id()))
//!         .with(signed_in_headers());
//!
//!     let cors = warp::cors()
//!         .allow_origin("https://app.example.com")
//!         .allow_credentials(true)
//!         .allow_headers(["authorization", "content-type"])
//!         .allow_methods(["GET", "OPTIONS"]);
//!     let routes = whoami.or(me).or(invoices).recover(handle_rejection).with(cors);
//!     warp::serve(routes).run(([127, 0, 0, 1], 3000)).await;
//!     Ok(())
//! }
//! ```
//!
//! Server-rendered pages take [`page`] or [`require_sign_in`] instead: a browser that navigates
//! to one with a session cookie Clerk's frontend has not refreshed yet (an expired one, after a
//! minute away from the tab) is sent through Clerk's *handshake*
//! ([`Verifier::authenticate_page`]) and comes back with fresh cookies, instead of being shown a
//! signed-out page. The redirects are [`ClerkRejection`]s too, answered with their `Location`,
//! `Cache-Control` and `Set-Cookie` headers. API routes keep the filters above, which never
//! redirect: a script gets its 401.
//!
//! ```
//! use clerk_warp::{handle_rejection, page, require_sign_in, Auth, Verifier};
//! use warp::Filter;
//!
//! # fn routes(verifier: Verifier) -> impl Filter<Extract = (impl warp::Reply,), Error = warp::Rejection> + Clone {
//! // The verifier needs the publishable key (CLERK_PUBLISHABLE_KEY), which names the Frontend
//! // API, and a sign-in page (CLERK_SIGN_IN_URL) for `require_sign_in`.
//! let home = warp::path::end()
//!     .and(warp::get())
//!     .and(page(verifier.clone()))
//!     .map(|user: Option<Auth>| match user {
//!         Some(user) => warp::reply::html(format!("Hello, {}", user.user_id())),
//!         None => warp::reply::html("Hello, stranger".to_owned()),
//!     });
//! let dashboard = warp::path!("dashboard")
//!     .and(warp::get())
//!     .and(require_sign_in(verifier))
//!     .map(|user: Auth| warp::reply::html(format!("{}'s dashboard", user.user_id())));
//! home.or(dashboard).recover(handle_rejection)
//! # }
//! ```
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_warp::rejection` when they are answered (reason code and, for 500 and 503, the cause
//! the client is not told); a verification task that did not complete is logged at error level
//! by [`clerk_verify`]. The token is never logged nor echoed.
//!
//! [`Verifier::authenticate_headers`]: clerk_verify::Verifier::authenticate_headers
//! [`Verifier::authenticate_page`]: clerk_verify::Verifier::authenticate_page

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod filter;
mod headers;
mod machine;
mod page;
mod rejection;
mod webhook;

pub use clerk_verify::claims::{Has, Reverification};
pub use clerk_verify::options::{AcceptsToken, MachineOptions};
pub use clerk_verify::request::{Policy, Principal};
pub use clerk_verify::webhook::{Delivery, EventData};
pub use clerk_verify::{
    self, Auth, Authentication, Error, MachineAuth, Refusal, Verifier, VerifyOptions, Webhook,
};
pub use filter::{
    authentication, clerk_auth, optional_auth, optional_authentication, require, require_feature,
    require_permission, require_plan, require_reverification, require_role,
};
pub use headers::{signed_in_headers, with_auth_headers};
pub use machine::{
    authentication_accepting, machine, machine_accepting, principal, require_machine, require_scope,
};
pub use page::{page, require_sign_in};
pub use rejection::{handle_rejection, ClerkRejection};
pub use webhook::webhook;
