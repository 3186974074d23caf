//! [Clerk](https://clerk.com) session authentication for [Rocket](https://rocket.rs) 0.5, on
//! [`clerk_verify`], which makes every decision about tokens; this crate is Rocket's glue.
//!
//! - Request guards: [`ClerkAuth`] (the signed-in user, else 401), [`OptionalAuth`] (`None`
//!   when signed out, but 503 while the key source is down), [`Require`] with [`RequireRole`] /
//!   [`RequirePermission`] / [`RequireFeature`] / [`RequirePlan`] / [`RequireReverification`]
//!   (else 403; a verification not recent enough with Clerk's reverification hint), and for
//!   server-rendered pages, with Clerk's handshake, [`ClerkPage`] and [`RequireSignIn`]. A data
//!   guard: [`ClerkWebhook`].
//! - Machine tokens (API keys, M2M and OAuth access tokens, opaque or JWT): [`ClerkMachine`]
//!   (any kind, or the kinds a type names: `ClerkMachine<ApiKeys>`), [`RequireMachine`] /
//!   [`RequireScope`] (403 `missing-scope`), and [`ClerkPrincipal`] for a session or a machine;
//!   the same 401/403/503 answers and JSON as the session guards.
//! - [`ClerkError`]: the guards' error and a [`Responder`], rendering the core's
//!   [`clerk_verify::Refusal`] as every Clerk adapter does. Rocket guards cannot write a
//!   response, so a failing guard leaves its refusal with the request ([`rejection`]) and
//!   [`catchers()`] answer with it, a page guard's 307 included.
//! - [`ClerkFairing`]: Clerk's debug headers on the response of every authenticated request,
//!   and the cookies of a session refreshed on a page's request on that page's response.
//!
//! The [`Verifier`] (and the [`Webhook`]) is managed state: `rocket.manage(verifier)`; the
//! guards are [`Sentinel`]s, so a Rocket that uses one without it does not launch. Each
//! request is authenticated at most once, whatever guards ask ([`authentication_of`]): inline
//! when the key is cached, on Rocket's blocking pool when keys must be fetched. OPTIONS requests
//! (CORS preflights) are never authenticated.
//!
//! ```toml
//! [dependencies]
//! # Today, from git (or a path: `{ path = "../clerk-verify/crates/clerk-rocket" }`):
//! clerk-rocket = { git = "https://github.com/clerk-verify/clerk-verify" }
//! # Once published:
//! # clerk-rocket = "0.1"
//! rocket = { version = "0.5", features = ["json"] } # `json` only for the `json!` below
//!
//! [dev-dependencies]
//! # Signed test tokens, a dev issuer and signed webhook deliveries (not published: git only).
//! clerk-dev = { git = "https://github.com/clerk-verify/clerk-verify" }
//! ```
//!
//! What the examples name comes from `clerk_rocket` ([`Verifier`], [`VerifyOptions`],
//! [`Webhook`], [`EventData`], ...); the whole core is [`clerk_verify`], re-exported.
//!
//! ```no_run
//! use clerk_rocket::{ClerkAuth, ClerkError, ClerkFairing, OptionalAuth, Verifier};
//! use rocket::serde::json::{json, Value};
//! use rocket::{get, routes};
//!
//! #[get("/me")]
//! fn me(auth: ClerkAuth) -> Value {
//!     json!({ "userId": auth.user_id(), "orgId": auth.org().map(|o| o.id.as_str()) })
//! }
//!
//! #[get("/hello")]
//! fn hello(auth: OptionalAuth) -> String {
//!     format!("hello {}", auth.as_ref().map_or("stranger", |a| a.user_id()))
//! }
//!
//! /// A check decided in the handler.
//! #[get("/reports")]
//! fn reports(auth: ClerkAuth) -> Result<&'static str, ClerkError> {
//!     auth.require_permission("org:reports:read")?;
//!     Ok("reports")
//! }
//!
//! #[rocket::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let _ = rocket::build()
//!         .manage(Verifier::from_env()?)
//!         .attach(ClerkFairing::default())
//!         .register("/", clerk_rocket::catchers())
//!         .mount("/", routes![me, hello, reports])
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
//! A [`Require`] whose requirement fails answers 403 `forbidden`. Refusals are logged with the
//! `log` crate at debug level under `clerk_rocket::rejection` when answered (reason and cause);
//! an aborted launch and missing catchers under `clerk_rocket`; a request past the sentinels
//! without a verifier (or webhook secret) at error level under `clerk_verify::adapter`, with
//! how to add it (in debug builds the 500's message says it too). Never the token.
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
mod machine;
mod page;
mod webhook;

pub use cache::{authentication_of, rejection};
pub use catcher::catchers;
pub use clerk_verify::claims::{Has, Reverification};
pub use clerk_verify::options::{
    Accepts, AcceptsToken, AnyMachine, ApiKeys, M2mTokens, MachineOptions, OauthTokens,
};
pub use clerk_verify::request::{
    Feature, HandshakeOptions, MachineRequirement, Permission, Plan, Policy, Principal,
    Requirement, ReverificationLevel, Role, Scope,
};
pub use clerk_verify::webhook::{Delivery, EventData};
pub use clerk_verify::{self, Auth, Authentication, MachineAuth, Verifier, VerifyOptions, Webhook};
pub use error::ClerkError;
pub use fairing::ClerkFairing;
pub use guard::{
    ClerkAuth, OptionalAuth, Require, RequireFeature, RequirePermission, RequirePlan,
    RequireReverification, RequireRole,
};
pub use machine::{ClerkMachine, ClerkPrincipal, RequireMachine, RequireScope};
pub use page::{ClerkPage, RequireSignIn};
pub use webhook::ClerkWebhook;
