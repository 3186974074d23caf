//! [Clerk](https://clerk.com) session authentication for [warp](https://docs.rs/warp) 0.4,
//! on [`clerk_verify`], whose types the snippets use are re-exported here:
//!
//! ```toml
//! [dependencies]
//! clerk-warp = { git = "https://github.com/clerk-verify/clerk-verify" } # once published: clerk-warp = "0.1"
//! warp = { version = "0.4", features = ["server"] }
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] } # for #[tokio::main]
//! serde_json = "1" # only for the JSON replies below
//!
//! [dev-dependencies]
//! # Dev tokens, keys, a JWKS server and signed webhook deliveries for your tests (not published).
//! clerk-dev = { git = "https://github.com/clerk-verify/clerk-verify" }
//! ```
//!
//! Each filter extracts the value below or rejects with a [`ClerkRejection`], the core's
//! [`Refusal`] (statuses, JSON bodies and headers: its table), as the core decides:
//!
//! | Filter | Extracts | Decided by |
//! |---|---|---|
//! | [`clerk_auth`]; [`require`]`(verifier, `[`Policy`]`)`, [`require_role`], [`require_permission`], [`require_feature`], [`require_plan`], [`require_reverification`] | [`Auth`] | [`adapter::signed_in`](clerk_verify::adapter::signed_in); then [`Policy::check`] (403) |
//! | [`optional_auth`], [`optional_authentication`] | `Option<Auth>`, [`Authentication`] (signed in, or signed out with its reason) | [`adapter::optional`](clerk_verify::adapter::optional): server faults only |
//! | [`authentication`], [`authentication_accepting`]`(verifier, `[`AcceptsToken`]`)` | [`Authentication`] | never rejects |
//! | [`machine`], [`machine_accepting`]; [`require_machine`]`(verifier, accepts, `[`Policy`]`)`, [`require_scope`] | [`MachineAuth`] | [`adapter::machine`](clerk_verify::adapter::machine); then [`Policy::check_machine`] (403) |
//! | [`principal`] | [`Principal`] (a session or a machine) | [`adapter::session_or_machine`](clerk_verify::adapter::session_or_machine) |
//! | [`page`], [`require_sign_in`] (server-rendered pages: Clerk's handshake) | `Option<Auth>`, [`Auth`] | [`adapter::page`](clerk_verify::adapter::page), [`adapter::page_requiring_sign_in`](clerk_verify::adapter::page_requiring_sign_in) |
//! | [`webhook`]`(`[`Webhook`]`)` | [`Delivery`] | [`adapter::WebhookBody`](clerk_verify::adapter::WebhookBody) |
//!
//! [`handle_rejection`], in a `recover` at the top of the routes, answers a [`ClerkRejection`].
//! Filters cannot touch the reply, so a successful one gets Clerk's debug headers where it is
//! made: [`signed_in_headers`] on protected routes, [`with_auth_headers`] elsewhere. The filters
//! take the shared [`Verifier`] (a cheap `Clone`); how they verify: [`authentication`].
//!
//! ```no_run
//! use clerk_warp::{
//!     clerk_auth, handle_rejection, machine, optional_authentication, require, signed_in_headers,
//!     with_auth_headers, Auth, Authentication, MachineAuth, Policy, Verifier,
//! };
//! use serde_json::json;
//! use warp::Filter;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), clerk_warp::Error> {
//!     // CLERK_JWT_KEY, CLERK_SECRET_KEY, CLERK_JWKS_URL, CLERK_AUTHORIZED_PARTIES, ...
//!     let verifier = Verifier::from_env()?;
//!
//!     // Signed in or not: 200 with the debug headers; 503 when the key source is down.
//!     let whoami = warp::path!("whoami")
//!         .and(warp::get())
//!         .and(optional_authentication(verifier.clone()))
//!         .map(|state: Authentication| {
//!             let body = json!({ "userId": state.auth().map(Auth::user_id) });
//!             with_auth_headers(warp::reply::json(&body), &state)
//!         });
//!     let me = warp::path!("me")
//!         .and(warp::get())
//!         .and(clerk_auth(verifier.clone()))
//!         .map(|auth: Auth| warp::reply::json(&json!({ "userId": auth.user_id() })))
//!         .with(signed_in_headers());
//!     let billing = Policy::new().role("org:admin").permission("org:invoices:read");
//!     let invoices = warp::path!("invoices")
//!         .and(warp::get())
//!         .and(require(verifier.clone(), billing))
//!         .map(|auth: Auth| format!("invoices of {}", auth.user_id()))
//!         .with(signed_in_headers());
//!     // API keys, M2M and OAuth tokens: CLERK_SECRET_KEY (and CLERK_MACHINE_SECRET_KEY).
//!     let api = warp::path!("api" / "machine")
//!         .and(warp::get())
//!         .and(machine(verifier))
//!         .map(|machine: MachineAuth| format!("{} {}", machine.token_type(), machine.subject()))
//!         .with(signed_in_headers());
//!
//!     // CORS answers preflights before any route filter runs (give each route a method filter
//!     // before the Clerk one); `handle_rejection` goes inside it, so that a browser reads a 401.
//!     let cors = warp::cors()
//!         .allow_origin("https://app.example.com")
//!         .allow_credentials(true)
//!         .allow_headers(["authorization", "content-type"])
//!         .allow_methods(["GET", "OPTIONS"]);
//!     let routes = whoami.or(me).or(invoices).or(api).recover(handle_rejection).with(cors);
//!     warp::serve(routes).run(([127, 0, 0, 1], 3000)).await;
//!     Ok(())
//! }
//! ```
//!
//! Refusals are logged with the `log` crate at debug level under the target
//! `clerk_warp::rejection` when they are answered (reason code and, for 500 and 503, the cause
//! the client is not told); a verification task that did not complete is logged at error level
//! by [`clerk_verify`]. The token is never logged nor echoed.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod filter;
mod headers;
mod page;
mod rejection;
mod webhook;

pub use clerk_verify::claims::{Has, Reverification};
pub use clerk_verify::options::{AcceptsToken, MachineOptions};
pub use clerk_verify::request::{Policy, Principal};
pub use clerk_verify::webhook::{Delivery, EventData};
pub use clerk_verify::{
    self, Auth, Authentication, Error, MachineAuth, Refusal, Verifier, VerifyOptions, Webhook,
};
pub use filter::{
    authentication, authentication_accepting, clerk_auth, machine, machine_accepting,
    optional_auth, optional_authentication, principal, require, require_feature, require_machine,
    require_permission, require_plan, require_reverification, require_role, require_scope,
};
pub use headers::{signed_in_headers, with_auth_headers};
pub use page::{page, require_sign_in};
pub use rejection::{handle_rejection, ClerkRejection};
pub use webhook::webhook;
