//! [Clerk](https://clerk.com) session authentication for [warp](https://docs.rs/warp) 0.4,
//! on [`clerk_verify`].
//!
//! Filters, in warp's idiom:
//!
//! | Filter | Extracts | Refuses with |
//! |---|---|---|
//! | [`clerk_auth`] | [`Auth`] | [`ClerkRejection`]: 401, or 503 when the key source is down, 500 when the verifier is misconfigured |
//! | [`require_role`], [`require_permission`] | [`Auth`] | the same, or 403 |
//! | [`optional_auth`] | `Option<Auth>` | never (a bad token is `None`) |
//! | [`authentication`] | [`Authentication`](clerk_verify::Authentication) | never (the full signed-in / signed-out state) |
//!
//! Put [`handle_rejection`] in a `recover` at the top of the routes: it turns a
//! [`ClerkRejection`] into the answer every Clerk adapter gives (the core's
//! [`clerk_verify::Refusal`]: `{"error":"unauthorized","reason":"<code>","message":"…"}`, a
//! `WWW-Authenticate` challenge on 401 and 403, Clerk's `x-clerk-auth-status` and
//! `x-clerk-auth-reason` debug headers) and hands every other rejection on untouched.
//!
//! Filters cannot touch the reply, so the debug headers of a successful reply are added where
//! the reply is made, as the actix-web middleware and the Rocket fairing do for every
//! authenticated request: wrap protected routes with [`signed_in_headers`]
//! (`x-clerk-auth-status: signed-in`), and have routes that also serve signed-out visitors take
//! the [`authentication`] state and answer through [`with_auth_headers`] (signed-in, or
//! signed-out with its reason) instead of [`optional_auth`], which adds no header.
//!
//! The filters capture the shared [`Verifier`] (a cheap `Clone` around an `Arc`). Verification
//! never blocks the executor: a token whose key is cached is checked inline
//! ([`Verifier::try_authenticate`]); one that needs a JWKS fetch is checked on tokio's blocking
//! pool ([`tokio::task::spawn_blocking`]).
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
//!     authentication, clerk_auth, handle_rejection, require_role, signed_in_headers,
//!     with_auth_headers,
//! };
//! use warp::Filter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), clerk_verify::Error> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let verifier = Verifier::from_env()?;
//!
//!     let me = warp::path("me")
//!         .and(warp::get())
//!         .and(clerk_auth(verifier.clone()))
//!         .map(|auth: Auth| warp::reply::json(&serde_json::json!({ "userId": auth.user_id() })))
//!         .with(signed_in_headers());
//!     let admin = warp::path("admin")
//!         .and(warp::get())
//!         .and(require_role(verifier.clone(), "org:admin"))
//!         .map(|_: Auth| "hello, admin")
//!         .with(signed_in_headers());
//!     let hello = warp::path("hello")
//!         .and(warp::get())
//!         .and(authentication(verifier))
//!         .map(|state: Authentication| {
//!             let who = state.auth().map_or("stranger", |auth| auth.user_id());
//!             with_auth_headers(format!("hello, {who}"), &state)
//!         });
//!
//!     let cors = warp::cors()
//!         .allow_origin("https://app.example.com")
//!         .allow_credentials(true)
//!         .allow_headers(["authorization", "content-type"])
//!         .allow_methods(["GET", "OPTIONS"]);
//!     let routes = me.or(admin).or(hello).recover(handle_rejection).with(cors);
//!     warp::serve(routes).run(([127, 0, 0, 1], 3000)).await;
//!     Ok(())
//! }
//! ```
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_warp::rejection` when they are answered (reason code and message), server-side problems
//! at error level under `clerk_warp`; the token is never logged nor echoed.
//!
//! [`Auth`]: clerk_verify::Auth
//! [`Verifier`]: clerk_verify::Verifier
//! [`Verifier::try_authenticate`]: clerk_verify::Verifier::try_authenticate

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod filter;
mod headers;
mod rejection;

pub use clerk_verify::{REASON_MISSING_PERMISSION, REASON_MISSING_ROLE};
pub use filter::{authentication, clerk_auth, optional_auth, require_permission, require_role};
pub use headers::{signed_in_headers, with_auth_headers};
pub use rejection::{handle_rejection, ClerkRejection};
