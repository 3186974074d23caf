//! [Clerk](https://clerk.com) session authentication for [Rocket](https://rocket.rs) 0.5, on
//! [`clerk_verify`], which makes every decision about tokens; this crate is Rocket's glue.
//!
//! - [`ClerkAuth`], [`OptionalAuth`], [`Require`] ([`RequireRole`], [`RequirePermission`],
//!   [`RequireFeature`], [`RequirePlan`], [`RequireReverification`]): the session guards.
//! - [`ClerkPage`], [`RequireSignIn`]: guards of server-rendered pages, with Clerk's handshake.
//! - [`ClerkMachine`], [`RequireMachine`] ([`RequireScope`]), [`ClerkPrincipal`]: machine
//!   tokens (API keys, M2M and OAuth access tokens), or a session or a machine.
//! - [`ClerkWebhook`]: the data guard of a Clerk webhook endpoint.
//! - [`ClerkError`]: the guards' refusal, left with the request ([`rejection`]) for the
//!   [`catchers()`] to answer, since Rocket guards cannot write a response.
//! - [`ClerkFairing`]: Clerk's debug headers, and a page's refreshed session cookies.
//! - The core's types the examples name ([`Verifier`], [`VerifyOptions`], [`Webhook`], ...),
//!   re-exported; the whole core is [`clerk_verify`].
//!
//! The [`Verifier`] (and the [`Webhook`]) is managed state, `rocket.manage(verifier)`; the
//! guards are [`Sentinel`]s, so a Rocket that uses one without it does not launch. A request is
//! authenticated once, whatever guards ask ([`authentication_of`]): inline when the key is
//! cached, on Rocket's blocking pool when keys must be fetched.
//!
//! ```toml
//! [dependencies]
//! # Today from git (or a `path`); once published: clerk-rocket = "0.1"
//! clerk-rocket = { git = "https://github.com/clerk-verify/clerk-verify" }
//! rocket = { version = "0.5", features = ["json"] } # `json` only for the `json!` below
//!
//! [dev-dependencies]
//! # Signed test tokens, a dev issuer and signed webhook deliveries (not published: git only).
//! clerk-dev = { git = "https://github.com/clerk-verify/clerk-verify" }
//! ```
//!
//! ```no_run
//! use clerk_rocket::{ClerkAuth, ClerkError, ClerkFairing, OptionalAuth, Verifier};
//! use clerk_rocket::{Permission, RequirePermission};
//! use rocket::serde::json::{json, Value};
//! use rocket::{get, routes};
//!
//! /// A check decided in the handler: `?` answers 403.
//! #[get("/me")]
//! fn me(auth: ClerkAuth) -> Result<Value, ClerkError> {
//!     auth.require_permission("org:profile:read")?;
//!     Ok(json!({ "userId": auth.user_id(), "orgId": auth.org().map(|o| o.id.as_str()) }))
//! }
//!
//! #[get("/hello")]
//! fn hello(auth: OptionalAuth) -> String {
//!     format!("hello {}", auth.as_ref().map_or("stranger", |a| a.user_id()))
//! }
//!
//! struct ReadInvoices;
//! impl Permission for ReadInvoices {
//!     const PERMISSION: &'static str = "org:invoices:read";
//! }
//!
//! #[get("/invoices")]
//! fn invoices(_reader: RequirePermission<ReadInvoices>) -> &'static str {
//!     "invoices"
//! }
//!
//! #[rocket::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let _ = rocket::build()
//!         .manage(Verifier::from_env()?)
//!         .attach(ClerkFairing::default())
//!         .register("/", clerk_rocket::catchers())
//!         .mount("/", routes![me, hello, invoices])
//!         .launch()
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! Refusals are answered as [`Refusal`] says, in every Clerk adapter
//! alike; Rocket's own are OPTIONS requests and `Option<ClerkAuth>` (take [`OptionalAuth`]):
//!
//! | request | `ClerkAuth`, `Require<R>`, machine guards | `OptionalAuth` | `Option<ClerkAuth>` |
//! |---|---|---|---|
//! | signed out (no token, a bad one, a pending session) | 401 | `None` | `None` |
//! | key source down; verifier misconfigured or not managed | 503; 500 | 503; 500 | `None` |
//! | OPTIONS (a CORS preflight), never authenticated | forwards | `None` | `None` |
//!
//! Logged with the `log` crate, never the token: refusals at debug level under
//! `clerk_rocket::rejection`; an aborted launch and missing catchers under `clerk_rocket`; a
//! request without a verifier past the sentinels at error level under `clerk_verify::adapter`.
//!
//! [`Sentinel`]: rocket::Sentinel

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod answer;
mod error;
mod fairing;
mod guard;
mod webhook;

pub use answer::authentication_of;
pub use clerk_verify::claims::{Has, Reverification};
pub use clerk_verify::options::{
    Accepts, AcceptsToken, AnyMachine, ApiKeys, M2mTokens, MachineOptions, OauthTokens,
};
pub use clerk_verify::request::{
    Feature, HandshakeOptions, MachineRequirement, Permission, Plan, Policy, Principal,
    Requirement, ReverificationLevel, Role, Scope,
};
pub use clerk_verify::webhook::{Delivery, EventData};
pub use clerk_verify::{
    self, Auth, Authentication, MachineAuth, Refusal, Verifier, VerifyOptions, Webhook,
};
pub use error::{catchers, rejection, ClerkError};
pub use fairing::ClerkFairing;
pub use guard::{
    ClerkAuth, ClerkMachine, ClerkPage, ClerkPrincipal, OptionalAuth, Require, RequireFeature,
    RequireMachine, RequirePermission, RequirePlan, RequireReverification, RequireRole,
    RequireScope, RequireSignIn,
};
pub use webhook::ClerkWebhook;
