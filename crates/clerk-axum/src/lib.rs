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
//! It re-exports what its examples use of [`clerk_verify`] ([`Verifier`], [`Auth`], [`Webhook`],
//! ...) and `clerk_verify` itself, so the one dependency is enough. It offers:
//!
//! - [`ClerkAuth`]: the signed-in user; `Option<ClerkAuth>`: `None` when signed out;
//! - [`Require`] ([`RequireRole`], [`RequirePermission`], ...): a user who meets a [`Requirement`];
//! - [`ClerkPage`] and [`RequireSignIn`]: server-rendered pages, with Clerk's handshake;
//! - [`ClerkMachine`], [`RequireMachine`] ([`RequireScope`]), [`ClerkPrincipal`]: machine tokens;
//! - [`ClerkWebhook`]: a verified Clerk webhook delivery;
//! - [`ClerkLayer`]: the verifier, debug headers and refreshed cookies, sign-in for a router;
//! - [`ClerkRejection`]: each refusal, answered as [`Refusal`]'s table says;
//! - [`authenticate`] and [`authenticate_accepting`]: for extractors of your own.
//!
//! The extractors find the `Verifier` in the request extensions ([`ClerkLayer`], or
//! `axum::Extension(verifier)`), else in the router state when the state is the `Verifier`
//! itself (`.with_state(verifier)`); an app with its own state type adds the layer. Without
//! one, they answer 500 `verifier-missing` with the fix. Each request is verified once however
//! many extractors and layers ask, on tokio's blocking pool only when keys must be fetched.
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
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_axum::rejection` (reason code and message), a missing verifier at error level under
//! `clerk_verify::adapter`; the token is never logged nor echoed. An app on `tracing` sees them
//! through the `log` bridge that `tracing_subscriber::fmt().init()` installs.

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
pub use clerk_verify::{
    self, Auth, Authentication, MachineAuth, Refusal, Verifier, VerifyOptions, Webhook,
};
pub use extract::{
    authenticate, authenticate_accepting, ClerkAuth, Require, RequireFeature, RequirePermission,
    RequirePlan, RequireReverification, RequireRole,
};
pub use layer::{ClerkLayer, ClerkService};
pub use machine::{ClerkMachine, ClerkPrincipal, RequireMachine, RequireScope};
pub use page::{ClerkPage, RequireSignIn};
pub use rejection::ClerkRejection;
pub use webhook::ClerkWebhook;
