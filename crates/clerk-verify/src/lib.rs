//! Verify [Clerk](https://clerk.com) session tokens in Rust: fast, offline when you give it the
//! key, and stricter than Clerk's own SDKs where that is safe.
//!
//! A browser signed in with Clerk sends a short-lived RS256 JWT (`Authorization: Bearer ...` or
//! the `__session` cookie). [`Verifier::verify`] decides whether it is genuine and current and
//! returns the typed [`Claims`], shared. The data path, one module per step, each floor
//! importing only the floors below it (`tests/house.rs` holds the code to this):
//!
//! 1. [`token`]: split and strictly decode the compact JWS, read the header;
//! 2. [`keys`]: the key through a [`KeyFetcher`]: a fixed [`KeySet`], or Clerk's JWKS fetched
//!    and cached by [`remote::RemoteKeys`] (feature `remote`); the signature (with `ring`, or
//!    `aws-lc-rs`: see *Crypto backends* below), under an algorithm the *verifier* allows for
//!    that *key*;
//! 3. [`claims`]: the claim rules, in Clerk's order (`sub`, `aud`, `azp`, `exp`, `nbf`, `iat`,
//!    then `iss`), and the typed [`Claims`], with the organization from both of Clerk's formats;
//!    `verify` (the free function [`verify()`]) runs 1 to 3, and remembers verified tokens when
//!    the verified-token cache is on;
//! 4. [`request`]: for a whole HTTP request, where the token is (header, cookies and Clerk's
//!    `__client_uat` rules, all cookie names in one place), [`Authentication`] (signed in as
//!    [`Auth`], a machine as [`MachineAuth`], signed out and why, or Clerk's handshake for
//!    pages), and the [`Refusal`] every adapter answers with; [`machine`] recognises and
//!    verifies machine tokens (API keys, M2M and OAuth access tokens) for the routes that
//!    accept them ([`options::AcceptsToken`]);
//! 5. [`Verifier`]: what an application builds once (from values in [`options`], or from the
//!    environment through [`mod@env`], the one module that reads `CLERK_*` variables) and asks per
//!    token or per request; [`adapter`] is the contract the framework adapters share.
//!
//! # What is public, and why
//!
//! The root re-exports what most code names: [`Verifier`], [`VerifyOptions`], [`Clock`],
//! [`Claims`], [`Auth`], [`Authentication`], [`Refusal`], [`Error`] (with [`Category`]),
//! [`Webhook`], the key types ([`Key`], [`KeySet`], [`KeyFetcher`], [`KeyWait`], [`KeyFlight`],
//! [`Algorithm`]: for key sources of your own), [`MachineAuth`] and [`TokenCacheStats`]. The
//! modules are public for what goes further: [`options`] (every setting, the publishable key,
//! the accepted token kinds), [`machine`] (machine tokens: the classifier, the Backend API
//! answer parser, [`machine::Verified`], [`machine::MachineStats`]), [`request`] (cookie names,
//! pages, requirements, [`request::Principal`], the non-blocking [`request::Step`]), [`remote`] (JWKS sources and
//! their options), [`claims`] (the organization and actor types), [`webhook`] (typed events),
//! [`reason`] (every reason code), [`mod@env`] (the variables' names), [`dangerous`] (decoding
//! without verifying, for tooling), [`adapter`] (for adapter crates) and [`token`] (only
//! [`token::Token`], the header of a token not yet verified, for routing and fuzzing). The token
//! cache, the JSON reader, the crypto backend and the request layer's state are not.
//!
//! ```
//! use clerk_verify::{Verifier, VerifyOptions};
//!
//! # let key = clerk_dev::fixtures::rsa2048();
//! # let jwks = key.jwks_json();
//! # let token = clerk_dev::TokenBuilder::session("user_123", clerk_dev::now_unix()).sign(key);
//! let verifier = Verifier::from_jwks(
//!     &jwks,
//!     VerifyOptions::default().authorized_parties(["http://localhost:3000"]),
//! )?;
//! match verifier.verify(&token) {
//!     Ok(claims) => assert_eq!(claims.user_id(), "user_123"),
//!     Err(e) => panic!("refused ({}): {e}", e.reason()),
//! }
//! # Ok::<(), clerk_verify::Error>(())
//! ```
//!
//! Every failure is an [`Error`] with a stable [`Error::reason`] code (Clerk's, such as
//! `token-expired`, wherever Clerk has one; all of them are in [`reason`]) and a message that
//! says what to fix. Neither ever contains the token or a secret.
//!
//! # Key sources
//!
//! - Networkless: the PEM public key ([`Verifier::from_pem`], `CLERK_JWT_KEY`) or a JWKS
//!   document ([`Verifier::from_jwks`]).
//! - Remote (feature `remote`, on by default), each with its own cache: Clerk's Backend API with
//!   the secret key (`Verifier::from_secret_key`, `CLERK_SECRET_KEY`), the Frontend API named by
//!   a publishable key (`Verifier::from_publishable_key`, `CLERK_PUBLISHABLE_KEY`) or given as a
//!   URL, or any JWKS URL. `remote::RemoteOptions` sets timeouts, size limits and the cache
//!   policy.
//! - [`Verifier::from_env`] picks among them in Clerk's order ([`mod@env`] names the variables).
//!
//! # Crypto backends
//!
//! Signatures are checked with one of two backends, picked by a feature: `ring` (the default) or
//! `aws-lc-rs` (`default-features = false, features = ["aws-lc-rs", "remote"]`), whose RSA keys
//! are parsed once at load into its `ParsedPublicKey`, which makes each verification faster.
//! Exactly one must be on: both or neither is a compile error. The adapters and the CLI forward
//! the same two features. [`keys::CRYPTO_BACKEND`] says which one a build uses. TLS for JWKS
//! fetching stays on ring (rustls) in both builds.
//!
//! # Async callers
//!
//! The crate needs no runtime. [`Verifier::try_verify`] never blocks: with the key in memory it
//! verifies at once; `None` means the key must be fetched, so run [`Verifier::verify`] on a
//! blocking thread (`spawn_blocking`). For whole requests, [`Verifier::authenticate_headers`]
//! does the same and returns a [`request::Step`], whose [`request::Step::finish`] awaits the
//! fetch without holding a thread when the key source offers a [`KeyWait`] (remote keys do).
//! Fetches are rare (cold start, once per cache TTL, key rotation), single-flight and bounded by
//! a timeout.
//!
//! # Machine tokens
//!
//! Clerk's API keys (`ak_…`), machine-to-machine tokens (`mt_…`, or a JWT about a machine) and
//! OAuth access tokens (`oat_…`, or a JWT with `typ: at+jwt`) are accepted where a route says so
//! (Clerk's `acceptsToken`: [`Verifier::authenticate_headers_accepting`], or
//! [`VerifyOptions::accepts_token`] for the verifier's default, session tokens only unless set).
//! JWT forms are verified locally; opaque ones through Clerk's Backend API with the secret key
//! ([`options::MachineOptions`]), with bounds Clerk's SDK lacks: an outage is a 503, never a
//! sign-out, and strangers cannot spend the instance's quota or this process's memory
//! ([`machine`] lists them).
//!
//! # Webhooks
//!
//! [`Webhook`] verifies the Svix-signed webhooks Clerk sends (body cap, timestamp tolerance,
//! signature over the raw body) and parses the typed event ([`webhook::EventData`]: users,
//! sessions, organizations, anything else as JSON); a refused delivery is a 400
//! ([`Refusal::from_webhook`]). Only the event's `type` and `data.id` are required: a member
//! Clerk drops or changes is absent from the typed view, never a refusal
//! ([`webhook::Event::unread`]).
//!
//! # Logging
//!
//! The crate logs through the [`log`](https://docs.rs/log) facade: a warning for every failed
//! JWKS fetch (including those hidden from users by stale keys), under the target
//! `clerk_verify::remote`; and a warning, once per event type and member per process, when a
//! verified webhook event lacks a member the typed view reads or has it in another JSON type
//! (the event is still accepted), under [`webhook::LOG_TARGET`] (`clerk_verify::webhook`).
//! Tokens, secrets and webhook payloads are never logged. With `tracing`, install the
//! `tracing-log` bridge (`tracing_log::LogTracer::init()`).
//!
//! # Testing code built on this crate
//!
//! The `test-util` feature (off by default; enable it in `[dev-dependencies]` only) adds the
//! `testing` module: stub key sources that are down, misconfigured, panicking or always cold,
//! for the tests of adapters, middleware and guards built on [`Verifier`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod crypto;
mod error;
mod host;
mod limits;
mod verifier;
mod verify;

pub mod adapter;
pub mod claims;
pub mod dangerous;
pub mod env;
pub mod keys;
pub mod machine;
pub mod options;
pub mod reason;
pub mod remote;
pub mod request;
pub mod token;
mod token_cache;
pub mod webhook;

/// Stub key sources for tests of code built on clerk-verify (adapters, middleware, guards):
/// never for production. Only with the `test-util` feature, which belongs in
/// `[dev-dependencies]`.
///
#[cfg(feature = "test-util")]
pub mod testing;

pub use claims::Claims;
pub use error::{Category, Error};
pub use keys::{Algorithm, Key, KeyFetcher, KeyFlight, KeySet, KeyWait};
pub use machine::MachineAuth;
pub use options::{Clock, VerifyOptions};
pub use request::{Auth, Authentication, Refusal};
pub use token_cache::TokenCacheStats;
pub use verifier::Verifier;
pub use verify::verify;
pub use webhook::Webhook;
