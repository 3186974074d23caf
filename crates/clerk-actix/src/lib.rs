//! Clerk session authentication for [actix-web](https://actix.rs) 4, on [`clerk_verify`].
//!
//! - [`ClerkAuth`]: the signed-in user (401 otherwise); it dereferences to the core's [`Auth`],
//!   whose `require_role` / `require_permission` / `require_feature` / `require_plan` /
//!   `require_reverification` answer 403 with `?` (and `has` is Clerk's `has()`).
//!   [`OptionalAuth`] also serves signed-out visitors (`None`), yet answers 503 when the key
//!   source is down.
//! - [`Require`] (with [`RequireRole`], [`RequirePermission`], [`RequireFeature`],
//!   [`RequirePlan`], [`RequireReverification`]): a signed-in user meeting a [`Requirement`]
//!   named by a type (403 otherwise; a verification not recent enough with Clerk's
//!   reverification hint).
//! - [`ClerkPage`] and [`RequireSignIn`]: server-rendered pages, with Clerk's handshake (an
//!   expired session cookie is refreshed through Clerk's Frontend API) and, for
//!   `RequireSignIn`, a redirect to the sign-in page.
//! - [`ClerkWebhook`]: a verified Clerk webhook delivery (400 with the reason otherwise).
//! - Machine tokens (API keys, M2M and OAuth access tokens, opaque or JWT): [`ClerkMachine`]
//!   (any kind, or the kinds a type names: `ClerkMachine<ApiKeys>`), [`RequireMachine`] /
//!   [`RequireScope`] (403 `missing-scope`), and [`ClerkPrincipal`] for a session or a machine;
//!   the same 401/403/503 answers and JSON as the session extractors.
//! - [`ClerkMiddleware`]: Clerk's debug headers on authenticated requests' responses, a session
//!   refreshed on a page's request set on that page's response, and sign-in, or a [`Policy`],
//!   required for a whole scope.
//! - [`ClerkError`]: every refusal, rendered as in every Clerk adapter (JSON body,
//!   `WWW-Authenticate`, debug headers).
//!
//! The [`Verifier`] is app data (`web::Data<Verifier>` or a plain `Verifier`). Each request is
//! authenticated at most once, whatever combination of extractors and middleware asks;
//! verification runs inline when the key is cached and on actix's blocking pool when keys must
//! be fetched. Where the token is read from (the `Authorization` header, then the `__session`
//! cookie), and every rule about it, is [`clerk_verify`]'s.
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
//! What the examples name comes from `clerk_actix` ([`Verifier`], [`Webhook`], [`EventData`],
//! ...), and the whole core is re-exported as [`clerk_verify`].
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
//! What each refusal answers (status, JSON body, headers), and when: [`ClerkError`].
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_actix::rejection` when they are answered (reason code and message); an app without a
//! verifier (or webhook secret) where a route needs one at error level under
//! `clerk_verify::adapter`, with how to add it (in debug builds the 500's message says it too).
//! The token is never logged nor echoed.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
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
pub use clerk_verify::{self, Auth, Authentication, MachineAuth, Verifier, VerifyOptions, Webhook};
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
