//! The seed apps, one module per framework, plus the configuration they share, and the
//! membership platform (`membership`, actix-web and SQLite). Each binary in `src/bin/` is a few
//! lines around these modules so the demo and the tests can reuse them. actix-web (the demo's
//! framework) is always built; the other apps are features, on by default.

pub mod actix_app;
#[cfg(feature = "axum")]
pub mod axum_app;
pub mod config;
pub mod machine;
#[cfg(feature = "membership")]
pub mod membership;
pub mod pages_app;
#[cfg(feature = "rocket")]
pub mod rocket_app;
#[cfg(feature = "warp")]
pub mod warp_app;

/// The README's Rust snippets, compiled (and, where not `no_run`, run) as doc tests here, the
/// one package that depends on every adapter (with its default features).
#[cfg(all(doctest, feature = "rocket", feature = "warp", feature = "axum"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// docs/machine.md's Rust snippets, compiled as doc tests as the README's are.
#[cfg(all(doctest, feature = "rocket", feature = "warp", feature = "axum"))]
#[doc = include_str!("../../docs/machine.md")]
pub struct MachineDoctests;
