//! [Clerk](https://clerk.com) session authentication for [Rocket](https://rocket.rs) 0.5, on
//! [`clerk_verify`].
//!
//! - [`ClerkAuth`]: a request guard for the signed-in user (401 otherwise); it dereferences to
//!   the core's [`Auth`], whose `require_role` / `require_permission` return a 403 with `?` in a
//!   handler returning `Result<_, ClerkError>`.
//! - [`OptionalAuth`]: for routes that also serve signed-out visitors: `None` for a missing or
//!   bad token, but a key source that is down is still 503. (Rocket's own `Option<ClerkAuth>`
//!   would swallow that too: it turns every failure of the inner guard into `None`.)
//! - [`Require`]: a signed-in user meeting a [`Requirement`] named by a type; [`RequireRole`] and
//!   [`RequirePermission`] for organization roles and permissions, named by marker types
//!   implementing [`Role`] / [`Permission`] (403 otherwise).
//! - [`ClerkPage`] and [`RequireSignIn`]: for server-rendered pages, with Clerk's handshake (a
//!   browser whose session cookie expired is refreshed through Clerk's Frontend API, not shown
//!   a signed-out page) and, for `RequireSignIn`, a redirect to the sign-in page
//!   (`CLERK_SIGN_IN_URL`). Their redirects (307) are answered by the catchers.
//! - [`ClerkError`]: the guards' error and a [`Responder`], rendering the core's
//!   [`clerk_verify::Refusal`]: the JSON body, the `WWW-Authenticate` challenge and Clerk's debug
//!   headers, the same as in every Clerk adapter.
//! - [`ClerkWebhook`]: a data guard for a verified Clerk webhook delivery (Svix signature,
//!   timestamp, body cap, typed event); 400 with the reason otherwise. Needs a managed
//!   [`clerk_verify::Webhook`] (a [`Sentinel`]).
//! - [`catchers()`]: catchers for 400, 401, 403, 500 and 503 that render a failed guard's
//!   [`ClerkError`]. Rocket guards cannot write a response body themselves, so a failing guard
//!   stores its refusal in the request-local cache ([`rejection`]) and these catchers answer with
//!   it. Errors of other origins get Rocket's default catcher, unchanged. A page guard's
//!   redirect reaches the 401 catcher (Rocket's catchers only take error statuses), which
//!   answers with the 307, its `Location` and every `Set-Cookie`.
//! - [`ClerkFairing`]: adds `x-clerk-auth-status` / `x-clerk-auth-reason` to the response of
//!   every request whose authentication ran, optional routes included.
//!
//! The [`Verifier`] is managed state: `rocket.manage(verifier)`. A route using one of these
//! guards on a Rocket that manages no `Verifier` stops the launch (the guards are
//! [`Sentinel`]s, as `&State<T>` is). Each request is authenticated at most once, whatever
//! combination of guards asks ([`authentication_of`] reads the result); verification runs
//! inline when the key is cached and on Rocket's blocking pool when keys must be fetched. OPTIONS
//! requests (CORS preflights) are never authenticated. Where the token is read from (the
//! `Authorization` header, then the `__session` and `__client_uat` cookies), and every rule about
//! it, is [`clerk_verify`]'s.
//!
//! ```no_run
//! use clerk_rocket::{ClerkAuth, ClerkError, ClerkFairing, OptionalAuth, RequireRole, Role};
//! use clerk_verify::Verifier;
//! use rocket::serde::json::{json, Value};
//! use rocket::{get, routes};
//!
//! /// Needs a signed-in user: 401 otherwise.
//! #[get("/me")]
//! fn me(auth: ClerkAuth) -> Value {
//!     json!({ "userId": auth.user_id(), "orgId": auth.org().map(|o| o.id.as_str()) })
//! }
//!
//! /// Signed in or not; 503 only while the key source is down.
//! #[get("/hello")]
//! fn hello(auth: OptionalAuth) -> String {
//!     format!("hello {}", auth.as_ref().map_or("stranger", |a| a.user_id()))
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
//!     format!("welcome, admin {}", admin.user_id())
//! }
//!
//! /// The same check, decided in the handler.
//! #[get("/reports")]
//! fn reports(auth: ClerkAuth) -> Result<&'static str, ClerkError> {
//!     auth.require_permission("org:reports:read")?;
//!     Ok("reports")
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
//!         .mount("/", routes![me, hello, admin, reports])
//!         .launch()
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! | request | `ClerkAuth`, `Require<R>` | `OptionalAuth` | `Option<ClerkAuth>` |
//! |---|---|---|---|
//! | valid session token | the user | `Some(user)` | `Some(user)` |
//! | no token, bad token, pending session | 401 `unauthorized` | `None` | `None` |
//! | key source down, verification task did not complete | 503 `service_unavailable` | 503 | `None` |
//! | verifier misconfigured | 500 `internal_server_error` | 500 | `None` |
//! | no verifier managed (only past the [`Sentinel`], e.g. in a guard of your own) | 500 `verifier-missing` | 500 | `None` |
//! | OPTIONS request | forwards | `None` | `None` |
//!
//! A [`Require`] whose requirement fails answers 403 `forbidden` with
//! `WWW-Authenticate: Bearer error="insufficient_scope"`.
//!
//! Pages get their own answers, and only [`ClerkPage`] and [`RequireSignIn`] give them (the
//! API guards above never redirect). A document navigation whose session cookie needs
//! refreshing gets a 307 through Clerk's handshake, when the verifier has
//! [`VerifyOptions::handshake`] (on with `CLERK_PUBLISHABLE_KEY` in [`Verifier::from_env`]);
//! then a signed-out visitor gets `None` from `ClerkPage`, and from `RequireSignIn` a 307 to the
//! sign-in page, or 401 when none is configured. Outages are 503 and 500, as for the API guards.
//! The page guards share one page authentication per request, apart from the API guards'.
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_rocket::rejection` when they are answered (the reason code and the cause), server-side
//! problems at error level under `clerk_rocket`; the token is never logged nor echoed.
//!
//! [`Responder`]: rocket::response::Responder
//! [`VerifyOptions::handshake`]: clerk_verify::VerifyOptions::handshake
//! [`Verifier::from_env`]: clerk_verify::Verifier::from_env
//! [`Sentinel`]: rocket::Sentinel

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod catcher;
mod error;
mod fairing;
mod guard;
mod page;
mod webhook;

pub use cache::{authentication_of, rejection};
pub use catcher::catchers;
pub use clerk_verify::request::{Permission, Policy, Requirement, Role};
pub use clerk_verify::{self, Auth, Verifier};
pub use error::ClerkError;
pub use fairing::ClerkFairing;
pub use guard::{ClerkAuth, OptionalAuth, Require, RequirePermission, RequireRole};
pub use page::{ClerkPage, RequireSignIn};
pub use webhook::ClerkWebhook;
