//! The seed apps, one module per framework, plus the configuration they share, and the
//! membership platform (`membership`, actix-web and SQLite). Each binary in `src/bin/` is a few
//! lines around these modules so the demo and the tests can reuse them.

pub mod actix_app;
pub mod config;
pub mod membership;
pub mod rocket_app;
pub mod warp_app;

/// The README's Rust snippets, compiled (and, where not `no_run`, run) as doc tests here, the
/// one package that depends on every adapter.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
