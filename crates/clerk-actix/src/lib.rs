//! Clerk session authentication for [actix-web](https://actix.rs) 4, on [`clerk_verify`].
//!
//! ```toml
//! [dependencies]
//! # Today, from git (or a path: `{ path = "../clerk-verify/crates/clerk-actix" }`):
//! clerk-actix = { git = "https://github.com/clerk-verify/clerk-verify" }
//! # Once published:
//! # clerk-actix = "0.1"
//! actix-web = "4"
//! serde_json = "1" # only for the `json!` below
//!
//! [dev-dependencies]
//! # Signed test tokens, a dev issuer and signed webhook deliveries (not published: git only).
//! clerk-dev = { git = "https://github.com/clerk-verify/clerk-verify" }
//! ```
//!
//! - [`ClerkAuth`]: the signed-in user (401 otherwise); [`OptionalAuth`]: signed-out visitors too.
//! - [`Require`] ([`RequireRole`], [`RequirePermission`], ...): a user meeting a [`Requirement`].
//! - [`ClerkPage`], [`RequireSignIn`]: server-rendered pages, with Clerk's handshake.
//! - [`ClerkMachine`], [`RequireMachine`] / [`RequireScope`]: machine tokens (API keys, M2M and
//!   OAuth access tokens); [`ClerkPrincipal`]: a session or a machine.
//! - [`ClerkWebhook`]: a verified Clerk webhook delivery (400 otherwise).
//! - [`ClerkMiddleware`]: debug headers, a page's refreshed session, sign-in or a [`Policy`].
//! - [`authenticate`], [`authenticate_accepting`]: the answers, for extractors of your own.
//! - [`ClerkError`]: every refusal, answered as the core's [`Refusal`] says.
//!
//! The [`Verifier`] is app data (`web::Data<Verifier>` or a plain `Verifier`). Each request is
//! verified at most once, on actix's blocking pool only when keys must be fetched. Every rule
//! about tokens is the core's, re-exported as [`clerk_verify`] (its names too: [`Webhook`], ...).
//!
//! ```no_run
//! use actix_web::{get, web, App, HttpResponse, HttpServer};
//! use clerk_actix::{ClerkAuth, ClerkMiddleware, Verifier};
//!
//! #[get("/me")]
//! async fn me(auth: ClerkAuth) -> HttpResponse {
//!     HttpResponse::Ok().json(serde_json::json!({ "userId": auth.user_id() }))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let verifier = Verifier::from_env().expect("set CLERK_JWT_KEY");
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(web::Data::new(verifier.clone()))
//!             .wrap(ClerkMiddleware::new())
//!             .service(me)
//!     })
//!     .bind(("127.0.0.1", 3000))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_actix::rejection` when they are answered (reason code and message); an app without a
//! verifier (or webhook secret) where a route needs one at error level under
//! `clerk_verify::adapter`, with how to add it (in debug builds the 500's message says it too).
//! The token is never logged nor echoed.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
#[macro_use]
mod extract;
mod machine;
mod middleware;
mod page;
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
pub use error::ClerkError;
pub use extract::{
    authenticate, ClerkAuth, OptionalAuth, Require, RequireFeature, RequirePermission, RequirePlan,
    RequireReverification, RequireRole,
};
pub use machine::{
    authenticate_accepting, ClerkMachine, ClerkPrincipal, RequireMachine, RequireScope,
};
pub use middleware::{ClerkMiddleware, ClerkMiddlewareService};
pub use page::{ClerkPage, RequireSignIn};
pub use webhook::ClerkWebhook;

/// A `T` of the app data, as `web::Data<T>` or a plain `T`.
fn app_data<T: 'static>(req: &actix_web::HttpRequest) -> Option<&T> {
    req.app_data::<actix_web::web::Data<T>>()
        .map(|data| data.get_ref())
        .or_else(|| req.app_data::<T>())
}
