//! Clerk session authentication for [axum](https://docs.rs/axum) 0.8, on [`clerk_verify`].
//!
//! ```toml
//! [dependencies]
//! # Today, from the repository; once published: clerk-axum = "0.1"
//! clerk-axum = { git = "https://github.com/clerk-verify/clerk-verify" }
//! axum = "0.8"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }
//! serde_json = "1" # only for the JSON of the example below
//!
//! [dev-dependencies]
//! # Signed test tokens and keys (TokenBuilder, fixtures); not published: a git dependency.
//! clerk-dev = { git = "https://github.com/clerk-verify/clerk-verify" }
//! ```
//!
//! This crate re-exports what its examples use of [`clerk_verify`] ([`Verifier`], [`Auth`],
//! [`Webhook`], ...), and `clerk_verify` itself for the rest, so the one dependency is enough.
//!
//! - [`ClerkAuth`] (the signed-in user, else 401) and `Option<ClerkAuth>` (`None` when signed
//!   out, but 503 while the key source is down); [`Require`] (with [`RequireRole`],
//!   [`RequirePermission`], [`RequireFeature`], [`RequirePlan`], [`RequireReverification`]) for
//!   a [`Requirement`] too, else 403 (a verification not recent enough with Clerk's
//!   reverification hint).
//! - [`ClerkRejection`]: the rejection, rendering the core's [`clerk_verify::Refusal`] (JSON
//!   body, `WWW-Authenticate`, Clerk's debug headers) as in every Clerk adapter.
//! - [`ClerkLayer`]: a tower layer that hands the [`Verifier`] to the extractors, adds Clerk's
//!   debug headers to the responses of authenticated requests, sets a session refreshed on a
//!   page's request on that page's response, and can require sign-in, or a [`Policy`], for a
//!   whole router.
//! - [`ClerkPage`] and [`RequireSignIn`]: for server-rendered pages, with Clerk's handshake and,
//!   for `RequireSignIn`, a redirect to the sign-in page; the API extractors never redirect.
//! - [`ClerkWebhook`]: a Clerk webhook delivery, read under the cap, its Svix signature verified
//!   and its event typed; 400 with the reason otherwise.
//! - Machine tokens (API keys, M2M and OAuth access tokens, opaque or JWT): [`ClerkMachine`]
//!   (any kind, or the kinds a type names: `ClerkMachine<ApiKeys>`), [`RequireMachine`] /
//!   [`RequireScope`] (403 `missing-scope`), and [`ClerkPrincipal`] for a session or a machine;
//!   the same 401/403/503 answers and JSON as the session extractors.
//!
//! The extractors find the `Verifier` in the request extensions ([`ClerkLayer`], or
//! `axum::Extension(verifier)`), else in the router state when the state is the `Verifier`
//! itself (`.with_state(verifier)`); an app with its own state type adds the layer. Without
//! one, they answer 500 `verifier-missing` and log the fix at error level (debug builds say it
//! in the body too: [`clerk_verify::adapter::verifier_missing`]). Each request is
//! authenticated at most once, whatever combination of extractors and layers asks;
//! verification runs inline when the key is cached and on tokio's blocking pool when keys must
//! be fetched. Where the token is read from (the `Authorization` header, then the `__session`
//! cookie with Clerk's `__client_uat` rules), and every rule about it, is [`clerk_verify`]'s.
//!
//! ```no_run
//! use axum::{routing::get, Json, Router};
//! use clerk_axum::{ClerkAuth, ClerkLayer, ClerkRejection, Verifier};
//! use serde_json::{json, Value};
//!
//! async fn me(auth: ClerkAuth) -> Json<Value> {
//!     Json(json!({ "userId": auth.user_id() }))
//! }
//!
//! async fn hello(auth: Option<ClerkAuth>) -> String {
//!     format!("hello, {}", auth.as_ref().map_or("stranger", |a| a.user_id()))
//! }
//!
//! async fn admin(auth: ClerkAuth) -> Result<&'static str, ClerkRejection> {
//!     auth.require_role("org:admin")?;
//!     Ok("hello, admin")
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let verifier = Verifier::from_env().expect("set CLERK_JWT_KEY");
//!     let app = Router::new()
//!         .route("/me", get(me))
//!         .route("/hello", get(hello))
//!         .route("/admin", get(admin))
//!         .layer(ClerkLayer::new(verifier));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await
//! }
//! ```
//!
//! | request | `ClerkAuth` | `Option<ClerkAuth>` |
//! |---|---|---|
//! | valid session token | the user | `Some(user)` |
//! | no token, bad token, pending session | 401 `unauthorized` | `None` |
//! | key source down, verification task did not complete | 503 `service_unavailable` | 503 |
//! | verifier misconfigured | 500 `internal_server_error` | 500 |
//! | no verifier in the extensions or state | 500 `internal_server_error` (logged at error level) | 500 |
//!
//! A role or permission guard that fails answers 403 `forbidden` with
//! `WWW-Authenticate: Bearer error="insufficient_scope"`.
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_axum::rejection` when they are answered (reason code and message), a missing verifier
//! at error level under `clerk_verify::adapter`; the token is never logged nor echoed. An app on
//! `tracing` sees them too: `tracing_subscriber::fmt().init()` installs the `log` bridge (its
//! default `tracing-log` feature).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod extract;
mod layer;
mod machine;
mod page;
mod rejection;
mod webhook;

pub use clerk_verify::claims::{Has, Reverification};
pub use clerk_verify::options::{
    Accepts, AcceptsToken, AnyMachine, ApiKeys, M2mTokens, MachineOptions, OauthTokens,
};
pub use clerk_verify::request::{
    Feature, MachineRequirement, Permission, Plan, Policy, Principal, Requirement,
    ReverificationLevel, Role, Scope,
};
pub use clerk_verify::webhook::{Delivery, EventData};
pub use clerk_verify::{self, Auth, Authentication, MachineAuth, Verifier, VerifyOptions, Webhook};
pub use extract::{
    authenticate, ClerkAuth, Require, RequireFeature, RequirePermission, RequirePlan,
    RequireReverification, RequireRole,
};
pub use layer::{ClerkLayer, ClerkService};
pub use machine::{
    authenticate_accepting, ClerkMachine, ClerkPrincipal, RequireMachine, RequireScope,
};
pub use page::{ClerkPage, RequireSignIn};
pub use rejection::ClerkRejection;
pub use webhook::ClerkWebhook;
