//! Clerk session authentication for [actix-web](https://actix.rs) 4, on [`clerk_verify`].
//!
//! - [`ClerkAuth`]: an extractor for the signed-in user (401 otherwise); it dereferences to the
//!   core's [`Auth`](clerk_verify::Auth), whose `require_role` / `require_permission` return a
//!   403 with `?`.
//! - [`OptionalAuth`]: for routes that also serve signed-out visitors: `None` for a missing or
//!   bad token, but a key source that is down is still 503. (`Option<ClerkAuth>` would swallow
//!   that too: actix turns every extractor error into `None`.)
//! - [`Require`]: a signed-in user meeting a [`Requirement`]
//!   named by a type; [`RequireRole`] and [`RequirePermission`] for organization roles and
//!   permissions (403 otherwise).
//! - [`ClerkError`]: the rejection, a [`actix_web::ResponseError`] rendering the core's
//!   [`clerk_verify::Refusal`]: the JSON body, the `WWW-Authenticate` challenge and Clerk's debug
//!   headers, the same as in every Clerk adapter.
//! - [`ClerkWebhook`]: a verified Clerk webhook delivery (Svix signature, timestamp, body cap,
//!   typed event); 400 with the reason otherwise.
//! - [`ClerkPage`] and [`RequireSignIn`]: for server-rendered pages, with Clerk's handshake (a
//!   browser whose session cookie expired is refreshed through Clerk's Frontend API, not shown
//!   a signed-out page) and, for `RequireSignIn`, a redirect to the sign-in page.
//! - [`ClerkMiddleware`]: adds `x-clerk-auth-status` / `x-clerk-auth-reason` to the responses of
//!   authenticated requests (optional routes included), and can require sign-in, or a
//!   [`Policy`], for a whole scope.
//!
//! The [`clerk_verify::Verifier`] is app data (`web::Data<Verifier>` or a plain `Verifier`).
//! Each request is authenticated at most once, whatever combination of extractors and
//! middleware asks; verification runs inline when the key is cached and on actix's blocking
//! pool when keys must be fetched. Where the token is read from (the `Authorization` header,
//! then the `__session` cookie), and every rule about it, is [`clerk_verify`]'s.
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
//! Everything the examples name comes from `clerk_actix` ([`Verifier`], [`Webhook`],
//! [`EventData`], [`Policy`], ...); the whole core is [`clerk_verify`], re-exported.
//!
//! ```no_run
//! use actix_web::{get, web, App, HttpResponse, HttpServer};
//! use clerk_actix::{ClerkAuth, ClerkError, ClerkMiddleware, Verifier};
//!
//! #[get("/me")]
//! async fn me(auth: ClerkAuth) -> HttpResponse {
//!     HttpResponse::Ok().json(serde_json::json!({ "userId": auth.user_id() }))
//! }
//!
//! #[get("/admin")]
//! async fn admin(auth: ClerkAuth) -> Result<HttpResponse, ClerkError> {
//!     auth.require_role("org:admin")?;
//!     Ok(HttpResponse::Ok().finish())
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
//!             .service(admin)
//!     })
//!     .bind(("127.0.0.1", 3000))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! | request | `ClerkAuth` | `OptionalAuth` |
//! |---|---|---|
//! | valid session token | the user | `Some(user)` |
//! | no token, bad token, pending session | 401 `unauthorized` | `None` |
//! | key source down, verification task did not complete | 503 `service_unavailable` | 503 |
//! | verifier misconfigured | 500 `internal_server_error` | 500 |
//! | no verifier in the app data | 500 `internal_server_error` `verifier-missing` (logged at error level) | 500 |
//!
//! A role or permission guard that fails answers 403 `forbidden` with
//! `WWW-Authenticate: Bearer error="insufficient_scope"`.
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
mod middleware;
mod page;
mod webhook;

pub use clerk_verify::request::{Permission, Policy, Requirement, Role};
pub use clerk_verify::webhook::{Delivery, EventData};
pub use clerk_verify::{self, Auth, Authentication, Verifier, VerifyOptions, Webhook};
pub use error::ClerkError;
pub use extract::{authenticate, ClerkAuth, OptionalAuth, Require, RequirePermission, RequireRole};
pub use middleware::{ClerkMiddleware, ClerkMiddlewareService};
pub use page::{ClerkPage, RequireSignIn};
pub use webhook::ClerkWebhook;

/// A `T` of the app data, as `web::Data<T>` or a plain `T`.
fn app_data<T: 'static>(req: &actix_web::HttpRequest) -> Option<&T> {
    req.app_data::<actix_web::web::Data<T>>()
        .map(|data| data.get_ref())
        .or_else(|| req.app_data::<T>())
}
