//! [Clerk](https://clerk.com) session authentication for [warp](https://docs.rs/warp) 0.4,
//! on [`clerk_verify`].
//!
//! Filters, in warp's idiom:
//!
//! | Filter | Extracts | Rejects with a [`ClerkRejection`] |
//! |---|---|---|
//! | [`clerk_auth`] | [`Auth`] | 401 unless signed in; 503 when the key source is down; 500 when the verifier is misconfigured |
//! | [`require`]`(verifier, `[`Policy`]`)`, [`require_role`], [`require_permission`] | [`Auth`] | the same, then 403 when a requirement fails |
//! | [`optional_auth`] | `Option<Auth>` | 503 and 500 only: a missing or bad token is `None` |
//! | [`optional_authentication`] | [`Authentication`] | 503 and 500 only: the state is signed in, or signed out with its reason |
//! | [`authentication`] | [`Authentication`] | never: the full state, outages included |
//! | [`webhook`]`(`[`Webhook`]`)` | [`Delivery`] | 400 for a webhook delivery that is unsigned, forged, stale, oversized or not a Clerk event |
//! | [`page`] (server-rendered pages) | `Option<Auth>` | 307 through Clerk's handshake when the session cookie needs refreshing; 503 and 500 |
//! | [`require_sign_in`] (server-rendered pages) | [`Auth`] | the same, and a signed-out browser 307 to the sign-in page (401 when none is configured) |
//!
//! | request | `clerk_auth` | `optional_auth` | `optional_authentication` | `authentication` |
//! |---|---|---|---|---|
//! | valid session token | the user | `Some(user)` | signed in | signed in |
//! | no token, bad token, pending session | 401 `unauthorized` | `None` | signed out (reason) | signed out (reason) |
//! | key source down, verification task did not complete | 503 `service_unavailable` | 503 | 503 | signed out (`jwk-remote-failed-to-load`) |
//! | verifier misconfigured | 500 `internal_server_error` | 500 | 500 | signed out (reason) |
//!
//! The optional filters refuse server faults on purpose: an outage must never silently turn
//! signed-in users into anonymous ones.
//!
//! Put [`handle_rejection`] in a `recover` at the top of the routes: it turns a
//! [`ClerkRejection`] into the answer every Clerk adapter gives (the core's
//! [`clerk_verify::Refusal`]: `{"error":"unauthorized","reason":"<code>","message":"…"}`, a
//! `WWW-Authenticate` challenge on 401 and 403, Clerk's `x-clerk-auth-status` and
//! `x-clerk-auth-reason` debug headers; a generic message for 500 and 503) and hands every other
//! rejection on untouched.
//!
//! Filters cannot touch the reply, so the debug headers of a successful reply are added where
//! the reply is made, as the actix-web middleware and the Rocket fairing do for every
//! authenticated request: wrap protected routes with [`signed_in_headers`]
//! (`x-clerk-auth-status: signed-in`), and have routes that also serve signed-out visitors take
//! the [`optional_authentication`] state and answer through [`with_auth_headers`] (signed in,
//! or signed out with its reason) instead of [`optional_auth`], which adds no header.
//!
//! The filters capture the shared [`Verifier`] (a cheap `Clone` around an `Arc`). Where the
//! token is read from (the `Authorization` header, then the `__session` cookie with Clerk's
//! `__client_uat` rules), and every rule about it, is [`clerk_verify`]'s
//! ([`Verifier::authenticate_headers`]). Verification never blocks the executor: a token whose
//! key is cached is checked inline; one that needs a JWKS fetch is checked on tokio's blocking
//! pool ([`Step::finish`]), and a task that does not complete answers 503.
//!
//! Server-rendered pages take [`page`] or [`require_sign_in`] instead: a browser that navigates
//! to one with a session cookie Clerk's frontend has not refreshed yet (an expired one, after
//! a minute away from the tab) is sent through Clerk's *handshake*
//! ([`Verifier::authenticate_page`]) and comes back with fresh cookies, instead of being shown
//! a signed-out page. The redirects are [`ClerkRejection`]s too, which [`handle_rejection`]
//! answers with their `Location`, `Cache-Control` and `Set-Cookie` headers. API routes keep the
//! filters above, which never redirect: a script gets its 401.
//!
//! ```
//! use clerk_verify::{Auth, Verifier};
//! use clerk_warp::{handle_rejection, page, require_sign_in};
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
//! CORS preflights are not authenticated: wrap the routes in `warp::cors()` (it answers a
//! preflight itself, before any route filter runs) and give each route a method filter such as
//! `warp::get()`, placed before the Clerk filter, so an `OPTIONS` request never reaches it. Place
//! [`handle_rejection`] *inside* the CORS wrapper so that a browser can read a 401.
//!
//! The filters need no `server` feature of warp; the server below does.
//!
//! ```no_run
//! use clerk_verify::{Auth, Authentication, Verifier};
//! use clerk_warp::{
//!     clerk_auth, handle_rejection, optional_authentication, require, require_role,
//!     signed_in_headers, with_auth_headers, Policy,
//! };
//! use serde_json::json;
//! use warp::Filter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), clerk_verify::Error> {
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
//!     let admin = warp::path!("admin")
//!         .and(warp::get())
//!         .and(require_role(verifier.clone(), "org:admin"))
//!         .map(|_: Auth| "hello, admin")
//!         .with(signed_in_headers());
//!     let billing = Policy::new().org_required().permission("org:invoices:read");
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
//!     let routes = whoami
//!         .or(me)
//!         .or(admin)
//!         .or(invoices)
//!         .recover(handle_rejection)
//!         .with(cors);
//!     warp::serve(routes).run(([127, 0, 0, 1], 3000)).await;
//!     Ok(())
//! }
//! ```
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_warp::rejection` when they are answered (reason code and, for 500 and 503, the cause
//! the client is not told); a verification task that did not complete is logged at error level
//! by [`clerk_verify`]. The token is never logged nor echoed.
//!
//! [`Auth`]: clerk_verify::Auth
//! [`Webhook`]: clerk_verify::Webhook
//! [`Delivery`]: clerk_verify::webhook::Delivery
//! [`Authentication`]: clerk_verify::Authentication
//! [`Verifier`]: clerk_verify::Verifier
//! [`Verifier::authenticate_headers`]: clerk_verify::Verifier::authenticate_headers
//! [`Verifier::authenticate_page`]: clerk_verify::Verifier::authenticate_page
//! [`Step::finish`]: clerk_verify::request::Step::finish

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod filter;
mod headers;
mod page;
mod rejection;
mod webhook;

pub use clerk_verify::request::Policy;
pub use filter::{
    authentication, clerk_auth, optional_auth, optional_authentication, require,
    require_permission, require_role,
};
pub use headers::{signed_in_headers, with_auth_headers};
pub use page::{page, require_sign_in};
pub use rejection::{handle_rejection, ClerkRejection};
pub use webhook::webhook;
