//! Verify [Clerk](https://clerk.com) session tokens in Rust: fast, offline when you give it the
//! key, and stricter than Clerk's own SDKs where that is safe.
//!
//! A browser signed in with Clerk sends a short-lived RS256 JWT (`Authorization: Bearer ...` or
//! the `__session` cookie). [`Verifier::verify`] decides whether it is genuine and current and
//! returns the typed [`Claims`]. The data path, one module per step:
//!
//! 1. [`token`](Token::parse): split and strictly decode the compact JWS, read the header;
//! 2. key lookup through a [`KeyFetcher`]: a fixed [`KeySet`], or Clerk's JWKS fetched and
//!    cached by `RemoteKeys` (feature `remote`);
//! 3. the signature, with `ring`, under an algorithm the *verifier* allows for that *key*;
//! 4. the claims, in Clerk's order (`sub`, `aud`, `azp`, `exp`, `nbf`, `iat`, then `iss`);
//! 5. [`Claims`], with the organization normalised from both of Clerk's formats.
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
//! `token-expired`, wherever Clerk has one) and a message that says what to fix. Neither ever
//! contains the token or a secret.
//!
//! # Key sources
//!
//! - Networkless: the PEM public key ([`Verifier::from_pem`], `CLERK_JWT_KEY`) or a JWKS
//!   document ([`Verifier::from_jwks`]).
//! - Remote (feature `remote`, on by default), each with its own cache: Clerk's Backend API with
//!   the secret key (`Verifier::from_secret_key`, `CLERK_SECRET_KEY`), the Frontend API named by
//!   a publishable key (`Verifier::from_publishable_key`, `CLERK_PUBLISHABLE_KEY`) or given as a
//!   URL, or any JWKS URL. `RemoteOptions` sets timeouts, size limits and the cache policy.
//! - [`Verifier::from_env`] picks among them in Clerk's order.
//!
//! # Async callers
//!
//! The crate needs no runtime. [`Verifier::try_verify`] never blocks: with the key in memory it
//! verifies at once; `None` means the key must be fetched, so run [`Verifier::verify`] on a
//! blocking thread (`spawn_blocking`). Fetches are rare (cold start, once per cache TTL, key
//! rotation), single-flight and bounded by a timeout; `RemoteKeys::refresh` can warm the cache
//! at start-up.
//!
//! # Testing code built on this crate
//!
//! The `test-util` feature (off by default; enable it in `[dev-dependencies]` only) adds the
//! `testing` module: stub key sources that are down, misconfigured, panicking or always cold,
//! for the tests of adapters, middleware and guards built on [`Verifier`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod algorithm;
mod claims;
mod env;
mod error;
mod fetch;
mod json;
mod jwk;
mod key;
mod keyset;
mod options;
mod org;
mod pem;
mod refusal;
mod remote;
mod request;
mod token;
mod verify;
mod webhook;

/// Stub key sources for tests of code built on clerk-verify (adapters, middleware, guards):
/// never for production. Only with the `test-util` feature, which belongs in
/// `[dev-dependencies]`.
///
#[cfg(feature = "test-util")]
pub mod testing;

pub use algorithm::Algorithm;
pub use claims::{Actor, Claims, SessionStatus};
pub use env::{
    split_list, ENV_API_URL, ENV_AUDIENCE, ENV_AUTHORIZED_PARTIES, ENV_CLOCK_SKEW_MS, ENV_ISSUER,
    ENV_JWKS_URL, ENV_JWT_KEY, ENV_PUBLISHABLE_KEY, ENV_SECRET_KEY,
};
pub use error::{Category, Error};
pub use fetch::KeyFetcher;
pub use jwk::MAX_JWKS_KEYS;
pub use key::{Key, MAX_RSA_BITS, MIN_HS256_SECRET_LEN, MIN_RSA_BITS};
pub use keyset::KeySet;
pub use options::{Clock, VerifyOptions, DEFAULT_CLOCK_SKEW};
pub use org::Org;
pub use refusal::Refusal;
pub use remote::{cookie_suffix, PublishableKey};
#[cfg(feature = "remote")]
pub use remote::{
    JwksSource, RemoteKeys, RemoteOptions, SecretKey, DEFAULT_API_URL, DEFAULT_CACHE_TTL,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_STALE,
    DEFAULT_MIN_REFETCH_INTERVAL, DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use request::{
    Auth, Authentication, Forbidden, SessionToken, SignedOut, TokenCarrier, AUTH_REASON_HEADER,
    AUTH_STATUS_HEADER, CLIENT_UAT_COOKIE, REASON_MISSING_PERMISSION, REASON_MISSING_ROLE,
    REASON_SESSION_PENDING, REASON_TOKEN_MISSING, REASON_TYPE_MISMATCH, SESSION_COOKIE,
};
pub use token::{Token, DEFAULT_MAX_TOKEN_LEN};
pub use verify::{verify, Verifier};
pub use webhook::{Webhook, WebhookEvent, ENV_WEBHOOK_SECRET, WEBHOOK_TOLERANCE};
