//! Verify [Clerk](https://clerk.com) session tokens in Rust: fast, offline when you give it the
//! key, and stricter than Clerk's own SDKs where that is safe.
//!
//! A browser signed in with Clerk sends a short-lived RS256 JWT (`Authorization: Bearer ...` or
//! the `__session` cookie). [`Verifier::verify`] decides whether it is genuine and current and
//! returns the typed [`Claims`]. The data path, one module per step:
//!
//! 1. [`token`](Token::parse): split and strictly decode the compact JWS, read the header;
//! 2. key lookup through a [`KeyFetcher`] (a fixed [`KeySet`] here, remote JWKS later);
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
mod token;
mod verify;

pub use algorithm::Algorithm;
pub use claims::{Actor, Claims, SessionStatus};
pub use env::{
    split_list, ENV_AUDIENCE, ENV_AUTHORIZED_PARTIES, ENV_CLOCK_SKEW_MS, ENV_ISSUER, ENV_JWT_KEY,
};
pub use error::{Category, Error};
pub use fetch::KeyFetcher;
pub use jwk::MAX_JWKS_KEYS;
pub use key::{Key, MAX_RSA_BITS, MIN_HS256_SECRET_LEN, MIN_RSA_BITS};
pub use keyset::KeySet;
pub use options::{Clock, VerifyOptions, DEFAULT_CLOCK_SKEW};
pub use org::Org;
pub use token::{Token, DEFAULT_MAX_TOKEN_LEN};
pub use verify::{verify, Verifier};
