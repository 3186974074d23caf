//! [Clerk](https://clerk.com) session authentication for [Rocket](https://rocket.rs) 0.5, on
//! [`clerk_verify`].
//!
//! The pieces, each in Rocket's own idiom:
//!
//! - [`ClerkAuth`]: a request guard for routes that need a signed-in user. It dereferences to
//!   the verified [`Auth`]. A signed-out request fails the guard with 401 (503 when the key
//!   source is down, 500 when the verifier is misconfigured).
//! - `Option<ClerkAuth>`: optional authentication. Rocket's blanket `Option` guard turns any
//!   failure into `None`, so a missing or bad token (or a key source that is down) never fails
//!   the request.
//! - [`RequireRole`] / [`RequirePermission`]: guards for an organization role or permission,
//!   named by a marker type implementing [`Role`] / [`Permission`]. Signed out gives 401 first;
//!   signed in without the role or permission gives 403. For checks decided at run time, call
//!   [`ClerkAuth::require_role`] / [`ClerkAuth::require_permission`] in the handler and return
//!   the [`ClerkError`] (a [`Responder`]).
//! - [`catchers()`]: catchers for 401, 403, 500 and 503 that answer a Clerk refusal as every
//!   Clerk adapter does (the core's [`clerk_verify::Refusal`]): a JSON body
//!   (`{"error":"unauthorized","reason":"token-expired","message":"…"}`), a `WWW-Authenticate`
//!   challenge on 401 (`Bearer`, with `error="invalid_token"` when a token was sent) and 403
//!   (`Bearer error="insufficient_scope"`), RFC 6750, and the debug headers. Rocket guards cannot
//!   write a response body themselves, so a failing guard stores its [`ClerkError`] in the
//!   request-local cache and these catchers render it. Errors of other origins get Rocket's
//!   default catcher, unchanged.
//! - [`ClerkFairing`]: adds Clerk's debug headers `x-clerk-auth-status` and `x-clerk-auth-reason`
//!   to every response of a request whose authentication ran, optional routes included (OPTIONS
//!   requests are never authenticated).
//!
//! The [`Verifier`] is managed state: `rocket.manage(verifier)`. A route using one of these guards
//! on a Rocket that manages no `Verifier` stops the launch (the guards are [`Sentinel`]s, as
//! `&State<T>` is).
//!
//! Authentication runs at most once per request, however many of these guards a route uses: the
//! result is kept in the request-local cache. It never blocks an executor thread: the verifier is
//! first asked without I/O ([`Verifier::try_authenticate`]); only when the key is not cached does
//! the verification (and its JWKS fetch) run on Rocket's blocking pool.
//!
//! Every token rule (where the token comes from, which cookie wins, what signed-in means) lives in
//! [`clerk_verify`]; this crate only reads the `Authorization` and `Cookie` headers and maps the
//! result to Rocket's types. Refusals are logged with the `log` crate at debug level under the
//! target `clerk_rocket::rejection` when they are answered (reason code and message), server-side
//! problems at error level under `clerk_rocket`; the token is never logged nor echoed.
//!
//! ```no_run
//! use clerk_rocket::{Auth, ClerkAuth, ClerkFairing, RequireRole, Role, Verifier};
//! use rocket::serde::json::{json, Value};
//! use rocket::{get, routes};
//!
//! /// Needs a signed-in user: 401 otherwise.
//! #[get("/me")]
//! fn me(auth: ClerkAuth) -> Value {
//!     json!({ "userId": auth.user_id(), "orgId": auth.org().map(|o| o.id.as_str()) })
//! }
//!
//! /// Signed in or not: never refused.
//! #[get("/hello")]
//! fn hello(auth: Option<ClerkAuth>) -> String {
//!     match auth {
//!         Some(auth) => format!("hello {}", auth.user_id()),
//!         None => "hello stranger".to_owned(),
//!     }
//! }
//!
//! /// The organization role `org:admin`.
//! struct Admin;
//! impl Role for Admin {
//!     const ROLE: &'static str = "org:admin";
//! }
//!
//! /// 401 when signed out, 403 without the role.
//! #[get("/admin")]
//! fn admin(admin: RequireRole<Admin>) -> String {
//!     let auth: &Auth = &admin;
//!     format!("welcome, admin {}", auth.user_id())
//! }
//!
//! #[rocket::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let verifier = Verifier::from_env()?;
//!     let _ = rocket::build()
//!         .manage(verifier)
//!         .attach(ClerkFairing::default())
//!         .register("/", clerk_rocket::catchers())
//!         .mount("/", routes![me, hello, admin])
//!         .launch()
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! [`Responder`]: rocket::response::Responder
//! [`Sentinel`]: rocket::Sentinel

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod catcher;
mod error;
mod fairing;
mod guard;
mod require;

pub use cache::{authentication_of, rejection};
pub use catcher::catchers;
pub use clerk_verify::{self, Auth, Verifier};
pub use clerk_verify::{REASON_MISSING_PERMISSION, REASON_MISSING_ROLE};
pub use error::{ClerkError, REASON_VERIFIER_MISSING};
pub use fairing::ClerkFairing;
pub use guard::ClerkAuth;
pub use require::{Permission, RequirePermission, RequireRole, Role};
