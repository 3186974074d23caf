//! Authenticating an HTTP request the way Clerk's `authenticateRequest()` does, above the token
//! path: where the session token is, which cookie wins, what `__client_uat` says, what
//! signed-in / signed-out means, Clerk's handshake for server-rendered pages, and how a refusal
//! is answered. In reading order:
//!
//! - `cookies`: every cookie name, the `Cookie` parser, the instance's suffix and Clerk's rule
//!   for choosing suffixed cookies, the cookies a handshake may set or we clear;
//! - `credentials`: the `Authorization` header and the cookies, read as Clerk reads them: a
//!   [`SessionToken`];
//! - `authenticate`: the token path's verdict on it, then the request's own rules;
//! - `machine`: when a route accepts machine tokens too (Clerk's `acceptsToken`), which
//!   credential the request carries: machine tokens from the `Authorization` header only,
//!   verified by `crate::machine`;
//! - `outcome`: what comes back: [`Authentication`] (signed in as [`Auth`], a machine, signed
//!   out, or a [`Handshake`]), [`Principal`], and what adapters do with them;
//! - `page` and `handshake`: [`PageRequest`], a browser's page request, and the handshake
//!   flow that refreshes its cookies through Clerk's Frontend API; API requests never get one;
//! - `step`: [`Step`], the non-blocking start every async adapter shares, and how it waits for
//!   keys;
//! - `require`: [`Requirement`], [`MachineRequirement`] and [`Policy`]: organization roles and
//!   permissions, features, plans, a recent verification, machine scopes (403);
//! - `refusal`: [`Refusal`], the status, body and headers every adapter answers with;
//!
//! Framework adapters copy a few header values in and render a [`Refusal`] out; every rule lives
//! here so the adapters cannot drift apart.

mod authenticate;
mod cookies;
mod credentials;
mod handshake;
mod machine;
mod outcome;
mod page;
mod refusal;
mod require;
mod step;

pub use cookies::{
    cookie_suffix, CLIENT_UAT_COOKIE, DEV_BROWSER_COOKIE, HANDSHAKE_NONCE_PARAM, HANDSHAKE_PARAM,
    REDIRECT_COUNT_COOKIE, REFRESH_COOKIE, SESSION_COOKIE,
};
pub use credentials::{SessionToken, TokenCarrier};
pub use handshake::{Handshake, MAX_HANDSHAKE_REDIRECTS};
pub use outcome::{Auth, Authentication, Forbidden, Principal, SignedOut};
pub use page::PageRequest;
pub use refusal::Refusal;
pub use require::{
    Feature, HasFeature, HasPermission, HasPlan, HasRole, HasScope, MachineRequirement, Permission,
    Plan, Policy, Requirement, ReverificationLevel, Reverified, Role, Scope,
};
pub use step::{Blocking, Step};

/// The handshake's options, where page code looks for them (they live with the other options).
pub use crate::options::HandshakeOptions;

use crate::error::Error;
use crate::machine::Machines;
use crate::options::PublishableKey;
use crate::verify::Tokens;
use cookies::CookieRules;
use handshake::Pages;

/// `x-clerk-auth-status` debug header name.
pub const AUTH_STATUS_HEADER: &str = "x-clerk-auth-status";
/// `x-clerk-auth-reason` debug header name.
pub const AUTH_REASON_HEADER: &str = "x-clerk-auth-reason";

/// Request authentication's state: the token path, and what requests add to it (the instance's
/// cookie rules, the handshake for pages), resolved once from the options. `crate::Verifier` is
/// its public face; its methods live in the files of this folder, one concern each.
pub(crate) struct Authenticator {
    pub(crate) tokens: Tokens,
    /// With a publishable key: the suffixed cookies.
    cookies: Option<CookieRules>,
    /// With `VerifyOptions::handshake`: handshakes for pages.
    pages: Option<Pages>,
    /// Machine tokens' verification (the opaque tokens' calls and memories).
    pub(crate) machines: Machines,
}

impl Authenticator {
    pub(crate) fn new(tokens: Tokens) -> Result<Authenticator, Error> {
        let opts = tokens.options();
        let pk = match &opts.publishable_key {
            Some(pk) => Some(PublishableKey::parse(pk)?),
            None => None,
        };
        let pages = match &opts.handshake {
            Some(handshake) => Some(Pages::new(handshake, pk.as_ref())?),
            None => None,
        };
        Ok(Authenticator {
            cookies: pk.as_ref().map(CookieRules::new),
            pages,
            machines: Machines::new(opts),
            tokens,
        })
    }

    /// One over the fixture key's JWKS, for the request layer's own unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests(opts: crate::options::VerifyOptions) -> Authenticator {
        let jwks = clerk_dev::fixtures::rsa2048().jwks_json();
        let keys = crate::keys::KeySet::from_jwks(&jwks).unwrap();
        Authenticator::new(Tokens::new(Box::new(keys), opts).unwrap()).unwrap()
    }

    /// Now, in Unix seconds, on the verifier's clock.
    fn now(&self) -> i64 {
        self.tokens.options().clock.unix_seconds()
    }
}

/// How to verify a token inside a flow: without blocking (`None` means "blocking needed"), or
/// blocking.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Io {
    Never,
    Allowed,
}
