//! Behaviour tests for the core, through the public API only, with tokens minted by the dev
//! issuer (`clerk-dev`, signing with josekit/OpenSSL rather than our code).
//!
//! One test binary (cheaper to build than many); one module per rule family. Every refusal is
//! checked against its exact reason code, and every error's `Display` is checked not to leak the
//! token (see `common::expect_reason`).

mod behaviour {
    mod common;

    mod algorithms;
    mod claims;
    mod differential;
    mod hs256;
    mod keys;
    mod org;
    mod parsing;
    mod robustness;
    mod signature;
}
