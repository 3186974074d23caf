//! Development issuer for the clerk-verify project: everything tests, benches, the
//! demo and fuzz seeds need to produce Clerk-like session tokens **without** using
//! the verifier's own code.
//!
//! - [`DevKey`]: an RSA key with its `kid`, exportable as PKCS#8/SPKI/PKCS#1 PEM,
//!   JWK and JWKS; [`fixtures`] holds checked-in keys (no keygen cost in tests).
//! - [`TokenBuilder`]: mints tokens with full control of header and claims,
//!   including malformed ones. Signatures come from RustCrypto's `rsa` (pure Rust), an
//!   implementation independent of the verifier under test (which uses `ring`).
//! - [`ManualClock`]: a shareable clock that tests move by hand.
//! - [`JwksServer`]: a real HTTP/1.1 server on 127.0.0.1 serving a JWKS, with
//!   injectable [`Fault`]s, that shuts down cleanly when dropped.
//! - [`Browser`]: a cookie-keeping, redirect-following client for tests of pages, and
//!   [`pages`]: a whole dev instance for them and the contract every adapter's pages meet.
//! - [`FrontendApi`]: Clerk's handshake endpoints (Frontend API handshake, Backend API nonce
//!   exchange) and a dev sign-in page, served by a [`JwksServer`], for server-rendered pages.
//! - [`BackendApi`]: the Backend API's verify endpoints for opaque machine tokens
//!   ([`OpaqueToken`]: API keys, M2M and OAuth access tokens), served by a [`JwksServer`], with
//!   revocation, expiry, call counters and faults; [`TokenBuilder::m2m`] and
//!   [`TokenBuilder::oauth`] mint their JWT forms; [`machines`]: the contract every adapter's
//!   machine routes meet, run over real HTTP against any app.
//!   It redirects only to loopback origins and origins it is told to allow, and renews only
//!   sessions of its own that expired less than a session lifetime ago.
//! - [`webhooks`]: Clerk webhook deliveries signed by Svix's own (Python) library, and
//!   [`post`] / [`post_delivery`], a minimal HTTP client to send them to a server under test.
//!
//! ```
//! use clerk_dev::{fixtures, now_unix, JwksServer, TokenBuilder};
//!
//! let key = fixtures::rsa2048();
//! let server = JwksServer::start_with(key.jwks_json());
//! let token = TokenBuilder::session("user_2abc", now_unix()).sign(key);
//! assert_eq!(token.split('.').count(), 3);
//! # drop(server);
//! ```
//!
//! All keys here are test material. Never use this crate to issue real tokens.

mod backend;
mod browser;
mod client;
mod clock;
mod fault;
pub mod fixtures;
mod frontend;
mod jws;
mod keys;
pub mod machines;
mod mint;
pub mod pages;
mod redirect;
mod server;
pub mod webhooks;

pub use backend::{store_minted, store_revoked, BackendApi, OpaqueToken};
pub use browser::{Browser, Hop, Visit};
pub use client::{chunked, post, HttpReply};
pub use clock::ManualClock;
pub use fault::Fault;
pub use frontend::FrontendApi;
pub use jws::{b64url, b64url_decode, signing_input};
pub use keys::{jwks_json, DevKey};
pub use mint::{
    cookie_suffix, now_unix, publishable_key, TokenBuilder, M2M_CATEGORY, TEST_AZP, TEST_ISSUER,
    TEST_OAUTH_CLIENT, TEST_SID,
};
pub use server::JwksServer;
pub use webhooks::post_delivery;
