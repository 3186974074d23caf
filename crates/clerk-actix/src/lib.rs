//! Clerk session authentication for [actix-web](https://actix.rs) 4, on [`clerk_verify`].
//!
//! - [`ClerkAuth`]: an extractor for the signed-in user (401 otherwise); `Option<ClerkAuth>`
//!   for routes that also serve signed-out visitors (a bad token is `None`, never an error).
//! - [`ClerkAuth::require_role`] / [`ClerkAuth::require_permission`]: guards that return a 403
//!   [`ClerkError`] (the core's [`clerk_verify::Auth::require_role`] /
//!   [`clerk_verify::Auth::require_permission`]), used with `?` in the handler.
//! - [`ClerkError`]: the rejection, a [`actix_web::ResponseError`] rendering the core's
//!   [`clerk_verify::Refusal`]: the JSON body, the `WWW-Authenticate` challenge and Clerk's debug
//!   headers, the same as in every Clerk adapter.
//! - [`ClerkMiddleware`]: adds `x-clerk-auth-status` / `x-clerk-auth-reason` to the responses of
//!   authenticated requests (optional routes included), and can require sign-in for a whole
//!   scope.
//!
//! The [`clerk_verify::Verifier`] is app data (`web::Data<Verifier>` or a plain `Verifier`).
//! Each request is authenticated at most once, whatever combination of extractors and
//! middleware asks; verification runs inline when the key is cached and on actix's blocking
//! pool when keys must be fetched. Where the token is read from (the `Authorization` header,
//! then the `__session` cookie), and every rule about it, is [`clerk_verify`]'s.
//!
//! ```no_run
//! use actix_web::{get, web, App, HttpResponse, HttpServer};
//! use clerk_actix::{ClerkAuth, ClerkError, ClerkMiddleware};
//! use clerk_verify::Verifier;
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
//! | request | `ClerkAuth` | `Option<ClerkAuth>` |
//! |---|---|---|
//! | valid session token | the user | `Some(user)` |
//! | no token, bad token, pending session | 401 `unauthorized` | `None` |
//! | key source down, verification task did not complete | 503 `service_unavailable` | `None` |
//! | verifier misconfigured | 500 `internal_server_error` | `None` |
//! | no verifier in the app data | 500 `internal_server_error` (logged at error level) | `None` |
//!
//! A role or permission guard that fails answers 403 `forbidden` with
//! `WWW-Authenticate: Bearer error="insufficient_scope"`.
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_actix::rejection` when they are answered (reason code and message), server-side
//! problems at error level under `clerk_actix`; the token is never logged nor echoed.

#![forbid(unsafe_code)]

mod error;
mod extract;
mod middleware;

pub use clerk_verify::{REASON_MISSING_PERMISSION, REASON_MISSING_ROLE};
pub use error::{ClerkError, REASON_INTERNAL, REASON_VERIFIER_MISSING};
pub use extract::{authenticate, ClerkAuth};
pub use middleware::{ClerkMiddleware, ClerkMiddlewareService};
